/* Unit tests for what cni-test does as a runtime: conflist handling,
 * prevResult and runtimeConfig injection, the result cache, and running a
 * chain of (fake, shell-script) plugins in order and in reverse. No root. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <veilnet/file.h>
#include "../../../netns-harness/cache.h"
#include "../../../netns-harness/conf.h"
#include "../../../netns-harness/run.h"

static const char chain[] =
	"{\"cniVersion\":\"1.1.0\",\"name\":\"net1\",\"plugins\":["
	"{\"type\":\"first\",\"k\":1,\"capabilities\":{\"ips\":true,\"portMappings\":false}},"
	"{\"type\":\"second\",\"name\":\"ignored\",\"cniVersion\":\"0.1.0\","
	"\"prevResult\":{\"stale\":true}}]}";

static int parse(const char *text, struct cnt_net *n)
{
	struct vn_err e = {0};

	return cnt_net_parse(text, strlen(text), n, &e);
}

static void conflist_and_single_conf(void **state)
{
	struct cnt_net n;

	(void)state;
	assert_int_equal(parse(chain, &n), 0);
	assert_string_equal(n.name, "net1");
	assert_string_equal(n.version, "1.1.0");
	assert_int_equal(json_array_size(n.plugins), 2);
	assert_string_equal(cnt_net_type(&n, 1), "second");
	assert_false(n.disable_check);
	cnt_net_free(&n);

	assert_int_equal(parse("{\"cniVersion\":\"0.4.0\",\"name\":\"one\",\"type\":\"ptp\","
			       "\"ipam\":{}}", &n), 0);
	assert_string_equal(n.name, "one");
	assert_int_equal(json_array_size(n.plugins), 1);
	assert_string_equal(cnt_net_type(&n, 0), "ptp");
	cnt_net_free(&n);

	assert_int_equal(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"x\",\"disableCheck\":true,"
			       "\"plugins\":[{\"type\":\"a\"}]}", &n), 0);
	assert_true(n.disable_check);
	cnt_net_free(&n);
}

static void bad_configs(void **state)
{
	static const char *bad[] = {
		"not json",
		"[]",
		"{\"cniVersion\":\"1.0.0\",\"plugins\":[{\"type\":\"a\"}]}",	/* no name */
		"{\"name\":\"x\",\"plugins\":[{\"type\":\"a\"}]}",		/* no version */
		"{\"cniVersion\":\"1.0.0\",\"name\":\"x\",\"plugins\":[]}",
		"{\"cniVersion\":\"1.0.0\",\"name\":\"x\",\"plugins\":[{\"k\":1}]}",
		"{\"cniVersion\":\"1.0.0\",\"name\":\"x\",\"plugins\":[{\"type\":\"../x\"}]}",
		"{\"cniVersion\":\"1.0.0\",\"name\":\"x\",\"plugins\":{}}",
		"{\"cniVersion\":\"1.0.0\",\"name\":\"x\"}",			/* single, no type */
	};
	struct cnt_net n;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vn_err e = {0};

		assert_int_equal(cnt_net_parse(bad[i], strlen(bad[i]), &n, &e), -1);
		assert_true(e.code == VN_E_DECODE || e.code == VN_E_INVALID);
		assert_null(n.list);
	}
}

static void plugin_conf_injection(void **state)
{
	struct cnt_net n;
	struct vn_err e = {0};
	json_t *prev = json_pack("{s:s, s:[{s:s}]}", "cniVersion", "1.1.0", "ips", "address",
				 "10.0.0.2/32");
	json_t *rt = json_pack("{s:[s], s:[]}", "ips", "10.0.0.9", "portMappings");
	json_t *extra = json_pack("{s:[]}", "cni.dev/valid-attachments");
	json_t *c;

	(void)state;
	assert_int_equal(parse(chain, &n), 0);
	c = cnt_plugin_conf(&n, 0, NULL, rt, NULL, &e);
	assert_non_null(c);
	assert_string_equal(json_string_value(json_object_get(c, "name")), "net1");
	assert_string_equal(json_string_value(json_object_get(c, "cniVersion")), "1.1.0");
	assert_null(json_object_get(c, "prevResult"));
	/* only the capability the plugin asks for */
	assert_string_equal(json_string_value(json_array_get(json_object_get(
		json_object_get(c, "runtimeConfig"), "ips"), 0)), "10.0.0.9");
	assert_null(json_object_get(json_object_get(c, "runtimeConfig"), "portMappings"));
	assert_int_equal(json_integer_value(json_object_get(c, "k")), 1);
	json_decref(c);

	/* the list's name and version win; the previous result replaces a stale one */
	c = cnt_plugin_conf(&n, 1, prev, rt, extra, &e);
	assert_string_equal(json_string_value(json_object_get(c, "name")), "net1");
	assert_string_equal(json_string_value(json_object_get(c, "cniVersion")), "1.1.0");
	assert_true(json_equal(json_object_get(c, "prevResult"), prev));
	assert_null(json_object_get(c, "runtimeConfig"));	/* no capabilities */
	assert_true(json_is_array(json_object_get(c, "cni.dev/valid-attachments")));
	json_decref(c);
	/* the network itself is untouched */
	assert_true(json_is_true(json_object_get(json_object_get(json_array_get(n.plugins, 1),
								   "prevResult"), "stale")));
	assert_null(cnt_plugin_conf(&n, 2, NULL, NULL, NULL, &e));
	json_decref(prev);
	json_decref(rt);
	json_decref(extra);
	cnt_net_free(&n);
}

static void versions_args_valid(void **state)
{
	struct vn_err e = {0};
	json_t *v;

	(void)state;
	assert_true(cnt_version_cmp("0.4.0", "1.0.0") < 0);
	assert_true(cnt_version_cmp("1.1.0", "1.0.0") > 0);
	assert_true(cnt_version_cmp("0.3.1", "0.3.1") == 0);
	assert_true(cnt_version_cmp("0.10.0", "0.4.0") > 0);
	assert_true(cnt_version_cmp("1.0", "1.0.0") == 0);

	assert_int_equal(cnt_cni_args_check("", &e), 0);
	assert_int_equal(cnt_cni_args_check("A=1", &e), 0);
	assert_int_equal(cnt_cni_args_check("A=1;B=;IgnoreUnknown=1", &e), 0);
	assert_int_equal(cnt_cni_args_check("A=1;B", &e), -1);
	assert_int_equal(cnt_cni_args_check("=1", &e), -1);

	v = cnt_valid_parse("c1:eth0,c2:net1", &e);
	assert_int_equal(json_array_size(v), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(v, 1), "containerID")), "c2");
	assert_string_equal(json_string_value(json_object_get(json_array_get(v, 1), "ifname")), "net1");
	json_decref(v);
	v = cnt_valid_parse("", &e);
	assert_int_equal(json_array_size(v), 0);
	json_decref(v);
	assert_null(cnt_valid_parse("c1", &e));
	assert_null(cnt_valid_parse("c1:", &e));
	assert_null(cnt_valid_parse(":eth0", &e));
}

static char tmpdir[64];

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int make_tmp(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/cnt-unit.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmp(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void cache_round_trip(void **state)
{
	char path[512], other[512];
	struct cnt_net n, m;
	struct vn_err e = {0};
	json_t *res = json_pack("{s:s}", "cniVersion", "1.1.0"), *entry, *back, *att;

	(void)state;
	assert_int_equal(parse(chain, &n), 0);
	assert_int_equal(parse("{\"cniVersion\":\"1.1.0\",\"name\":\"net2\",\"type\":\"x\"}", &m), 0);
	assert_int_equal(cnt_cache_path(path, sizeof(path), tmpdir, "net1", "c/1", "eth0", &e), 0);
	assert_non_null(strstr(path, "/results/net1-c_1-eth0"));
	assert_int_equal(cnt_cache_path(path, 8, tmpdir, "net1", "c1", "eth0", &e), -1);

	/* nothing cached yet: NULL and no error */
	assert_int_equal(cnt_cache_path(path, sizeof(path), tmpdir, "net1", "c1", "eth0", &e), 0);
	assert_null(cnt_cache_result(path, &e));
	assert_int_equal(e.code, 0);
	att = cnt_cache_attachments(tmpdir, "net1", &e);
	assert_int_equal(json_array_size(att), 0);
	json_decref(att);

	entry = cnt_cache_entry(&n, "c1", "eth0", "/run/netns/p", "A=1", res);
	assert_string_equal(json_string_value(json_object_get(entry, "kind")), "cniCacheV1");
	assert_int_equal(cnt_cache_store(path, entry, &e), 0);
	json_decref(entry);
	back = cnt_cache_result(path, &e);
	assert_true(json_equal(back, res));
	json_decref(back);

	/* another attachment of net1 and one of net2: GC of net1 sees two */
	assert_int_equal(cnt_cache_path(other, sizeof(other), tmpdir, "net1", "c2", "net1", &e), 0);
	entry = cnt_cache_entry(&n, "c2", "net1", "", "", res);
	assert_int_equal(cnt_cache_store(other, entry, &e), 0);
	json_decref(entry);
	assert_int_equal(cnt_cache_path(other, sizeof(other), tmpdir, "net2", "c3", "eth0", &e), 0);
	entry = cnt_cache_entry(&m, "c3", "eth0", "", "", res);
	assert_int_equal(cnt_cache_store(other, entry, &e), 0);
	json_decref(entry);
	att = cnt_cache_attachments(tmpdir, "net1", &e);
	assert_int_equal(json_array_size(att), 2);
	for (size_t i = 0; i < 2; i++) {
		const char *cid = json_string_value(json_object_get(json_array_get(att, i),
								  "containerID"));

		assert_true(!strcmp(cid, "c1") || !strcmp(cid, "c2"));
	}
	json_decref(att);

	/* a corrupt file is an error, not "no result" */
	assert_int_equal(vn_write_atomic(path, "{", 1, 0600, &e), 0);
	assert_null(cnt_cache_result(path, &e));
	assert_int_equal(e.code, VN_E_DECODE);
	json_decref(res);
	cnt_net_free(&n);
	cnt_net_free(&m);
}

static void env_has_six_vars(void **state)
{
	struct cnt_rt rt = {.cid = "c1", .netns = NULL, .ifname = "eth0", .cni_args = "A=1",
			    .cni_path = "/p"};
	const char *want[] = {"CNI_COMMAND=DEL", "CNI_CONTAINERID=c1", "CNI_NETNS=",
			      "CNI_IFNAME=eth0", "CNI_ARGS=A=1", "CNI_PATH=/p"};
	char **env;
	int cni = 0;

	(void)state;
	setenv("CNI_STALE", "x", 1);
	env = cnt_env_build("DEL", &rt);
	assert_non_null(env);
	for (char **p = env; *p; p++) {
		if (strncmp(*p, "CNI_", 4))
			continue;
		cni++;
		assert_null(strstr(*p, "STALE"));
	}
	assert_int_equal(cni, 6);
	for (size_t i = 0; i < 6; i++) {
		bool found = false;

		for (char **p = env; *p; p++)
			found |= !strcmp(*p, want[i]);
		assert_true(found);
	}
	cnt_env_free(env);
	unsetenv("CNI_STALE");
}

/* A fake plugin: appends "COMMAND type prevResult-ips" to LOG and prints a
 * result naming itself, or fails with a CNI error when its config says so. */
static const char fake[] =
	"#!/bin/sh\n"
	"in=$(cat)\n"
	"type=$(basename \"$0\")\n"
	"echo \"$CNI_COMMAND $type $CNI_CONTAINERID $CNI_IFNAME $in\" >> \"$(dirname \"$0\")/log\"\n"
	"case \"$in\" in *'\"fail\":true'*) echo '{\"code\":11,\"msg\":\"no\"}'; exit 3;; esac\n"
	"echo \"{\\\"cniVersion\\\":\\\"1.1.0\\\",\\\"ips\\\":[{\\\"address\\\":\\\"10.0.0.1/32\\\"}],\\\"by\\\":\\\"$type\\\"}\"\n";

static void write_fake(const char *name)
{
	char path[256];
	struct vn_err e = {0};

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	assert_int_equal(vn_write_atomic(path, fake, strlen(fake), 0755, &e), 0);
}

static char *read_log(void)
{
	char path[256];
	struct vn_err e = {0};
	char *s;

	snprintf(path, sizeof(path), "%s/log", tmpdir);
	s = vn_read_file(path, NULL, &e);
	unlink(path);
	return s;
}

static void chain_runs_like_a_runtime(void **state)
{
	struct cnt_net n;
	struct vn_err e = {0};
	struct cnt_out o = {0};
	struct cnt_rt rt = {.cid = "ctr", .netns = "/x", .ifname = "eth0", .cni_args = "",
			    .cni_path = tmpdir, .cache_dir = tmpdir};
	char *log, *p1, *p2, *p3;

	(void)state;
	write_fake("first");
	write_fake("second");
	assert_int_equal(parse(chain, &n), 0);

	/* ADD in order, the second gets the first's result as prevResult */
	assert_int_equal(cnt_run(CNT_ADD, &n, &rt, &o, &e), 0);
	assert_int_equal(o.status, 0);
	assert_int_equal(o.runs, 2);
	assert_non_null(strstr(o.out, "\"by\":\"second\""));
	log = read_log();
	p1 = strstr(log, "ADD first ctr eth0");
	p2 = strstr(log, "ADD second ctr eth0");
	assert_non_null(p1);
	assert_non_null(p2);
	assert_true(p1 < p2);
	assert_true(strstr(p1, "\"prevResult\"") > p2);	/* only the second has one */
	assert_non_null(strstr(p2, "\"prevResult\":{\"cniVersion\":\"1.1.0\","));
	assert_non_null(strstr(p2, "\"by\":\"first\""));
	free(log);
	cnt_out_free(&o);

	/* CHECK in order, DEL in reverse, both with the cached final result */
	assert_int_equal(cnt_run(CNT_CHECK, &n, &rt, &o, &e), 0);
	assert_int_equal(cnt_run(CNT_DEL, &n, &rt, &o, &e), 0);
	assert_int_equal(o.status, 0);
	log = read_log();
	p1 = strstr(log, "CHECK first");
	p2 = strstr(log, "CHECK second");
	p3 = strstr(log, "DEL second");
	assert_true(p1 && p2 && p3 && p1 < p2 && p2 < p3);
	assert_true(strstr(p3, "DEL first") > p3);
	assert_non_null(strstr(p1, "\"by\":\"second\""));
	assert_non_null(strstr(p3, "\"by\":\"second\""));
	free(log);
	cnt_out_free(&o);

	/* the cache entry is gone after DEL: CHECK has nothing, DEL still runs */
	assert_int_equal(cnt_run(CNT_CHECK, &n, &rt, &o, &e), -1);
	assert_int_equal(e.code, VN_E_UNKNOWN);
	assert_int_equal(cnt_run(CNT_DEL, &n, &rt, &o, &e), 0);
	log = read_log();
	assert_null(strstr(log, "prevResult"));
	free(log);
	cnt_out_free(&o);
	cnt_net_free(&n);
}

static void failure_stops_the_chain(void **state)
{
	static const char failing[] =
		"{\"cniVersion\":\"1.1.0\",\"name\":\"net3\",\"plugins\":["
		"{\"type\":\"first\",\"fail\":true},{\"type\":\"second\"}]}";
	struct cnt_net n;
	struct vn_err e = {0};
	struct cnt_out o = {0};
	struct cnt_rt rt = {.cid = "ctr", .ifname = "eth0", .cni_path = tmpdir,
			    .cache_dir = tmpdir};
	char path[512], *log;

	(void)state;
	write_fake("first");
	write_fake("second");
	assert_int_equal(parse(failing, &n), 0);
	assert_int_equal(cnt_run(CNT_ADD, &n, &rt, &o, &e), 0);
	assert_int_equal(o.status, 3);
	assert_string_equal(o.type, "first");
	assert_non_null(strstr(o.out, "\"code\":11"));
	log = read_log();
	assert_null(strstr(log, "second"));
	free(log);
	/* nothing cached for a failed ADD */
	assert_int_equal(cnt_cache_path(path, sizeof(path), tmpdir, "net3", "ctr", "eth0", &e), 0);
	assert_int_equal(access(path, F_OK), -1);
	cnt_out_free(&o);

	/* a plugin that is not in CNI_PATH is cni-test's own error */
	rt.cni_path = "/nonexistent";
	assert_int_equal(cnt_run(CNT_ADD, &n, &rt, &o, &e), -1);
	assert_non_null(strstr(e.details, "failed to find plugin \"first\""));
	cnt_out_free(&o);
	cnt_net_free(&n);
}

static void gc_status_version(void **state)
{
	struct cnt_net n, old;
	struct vn_err e = {0};
	struct cnt_out o = {0};
	struct cnt_rt rt = {.cid = "ctr", .ifname = "eth0", .cni_path = tmpdir,
			    .cache_dir = tmpdir};
	json_t *valid = cnt_valid_parse("keep:eth0", &e);
	char *log;

	(void)state;
	write_fake("first");
	write_fake("second");
	assert_int_equal(parse(chain, &n), 0);
	assert_int_equal(cnt_run(CNT_ADD, &n, &rt, &o, &e), 0);
	free(read_log());
	assert_int_equal(cnt_run(CNT_GC, &n, &rt, &o, &e), 0);
	log = read_log();
	assert_non_null(strstr(log, "GC first"));
	assert_non_null(strstr(log, "\"cni.dev/valid-attachments\":[{\"containerID\":\"ctr\","
				    "\"ifname\":\"eth0\"}]"));
	free(log);
	rt.valid = valid;
	assert_int_equal(cnt_run(CNT_GC, &n, &rt, &o, &e), 0);
	log = read_log();
	assert_non_null(strstr(log, "\"containerID\":\"keep\""));
	free(log);
	assert_int_equal(cnt_run(CNT_STATUS, &n, &rt, &o, &e), 0);
	log = read_log();
	assert_non_null(strstr(log, "STATUS first"));
	assert_non_null(strstr(log, "STATUS second"));
	free(log);
	assert_int_equal(cnt_run(CNT_VERSION, &n, &rt, &o, &e), 0);
	assert_int_equal(o.runs, 10);
	log = read_log();
	assert_non_null(strstr(log, "VERSION first ctr eth0 {\"cniVersion\":\"1.1.0\"}"));
	free(log);

	/* before 1.1.0 there is no GC or STATUS, and before 0.4.0 no CHECK */
	assert_int_equal(parse("{\"cniVersion\":\"0.3.1\",\"name\":\"old\",\"type\":\"first\"}",
			       &old), 0);
	assert_int_equal(cnt_run(CNT_GC, &old, &rt, &o, &e), 0);
	assert_int_equal(cnt_run(CNT_STATUS, &old, &rt, &o, &e), 0);
	assert_int_equal(cnt_run(CNT_CHECK, &old, &rt, &o, &e), -1);
	assert_int_equal(e.code, VN_E_INCOMPATIBLE);
	assert_int_equal(o.runs, 10);
	cnt_out_free(&o);
	json_decref(valid);
	cnt_net_free(&old);
	cnt_net_free(&n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(conflist_and_single_conf),
		cmocka_unit_test(bad_configs),
		cmocka_unit_test(plugin_conf_injection),
		cmocka_unit_test(versions_args_valid),
		cmocka_unit_test(env_has_six_vars),
		cmocka_unit_test_setup_teardown(cache_round_trip, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(chain_runs_like_a_runtime, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(failure_stops_the_chain, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(gc_status_version, make_tmp, remove_tmp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
