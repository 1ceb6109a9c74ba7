/* Unit tests for what cni-test does as a runtime: conflist handling,
 * prevResult and runtimeConfig injection, the result cache, and running a
 * chain of (fake, shell-script) plugins in order and in reverse. No root. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
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
	/* a .conflist is cached as its own text */
	assert_int_equal(n.len, strlen("{\"cniVersion\":\"1.0.0\",\"name\":\"x\",\"disableCheck\":true,"
				       "\"plugins\":[{\"type\":\"a\"}]}"));
	assert_non_null(strstr(n.bytes, "\"disableCheck\":true,"));
	cnt_net_free(&n);

	/* libcni reads disableCheck/disableGC from strings too, in any case */
	assert_int_equal(parse("{\"cniVersion\":\"1.1.0\",\"name\":\"x\",\"disableCheck\":\"TRUE\","
			       "\"disableGC\":\"false\",\"plugins\":[{\"type\":\"a\"}]}", &n), 0);
	assert_true(n.disable_check);
	assert_false(n.disable_gc);
	cnt_net_free(&n);

	/* cniVersions: the highest up to 1.1.0; no cniVersion needed then */
	assert_int_equal(parse("{\"cniVersions\":[\"0.4.0\",\"1.1.0\",\"2.0.0\"],\"name\":\"x\","
			       "\"plugins\":[{\"type\":\"a\"}]}", &n), 0);
	assert_string_equal(n.version, "1.1.0");
	assert_int_equal(json_array_size(n.versions), 3);
	cnt_net_free(&n);

	/* a .conf is cached as libcni's ConfListFromConf makes it: keys sorted */
	assert_int_equal(parse("{\"type\":\"ptp\",\"name\":\"one\",\"cniVersion\":\"0.4.0\"}", &n), 0);
	assert_string_equal(n.bytes, "{\"cniVersion\":\"0.4.0\",\"name\":\"one\",\"plugins\":"
				     "[{\"cniVersion\":\"0.4.0\",\"name\":\"one\",\"type\":\"ptp\"}]}");
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
		"{\"cniVersion\":\"1.0.0\",\"name\":\"x\",\"disableCheck\":\"yes\","
		"\"plugins\":[{\"type\":\"a\"}]}",
		"{\"cniVersion\":\"1.0.0\",\"name\":\"x\",\"disableGC\":1,\"plugins\":[{\"type\":\"a\"}]}",
		"{\"cniVersion\":\"1.0.0\",\"name\":\"x\",\"plugins\":[{\"type\":\"a\","
		"\"capabilities\":{\"ips\":\"yes\"}}]}",
		"{\"cniVersions\":[\"2.0.0\"],\"name\":\"x\",\"plugins\":[{\"type\":\"a\"}]}",
		"{\"cniVersion\":\"1.0.0\",\"cniVersions\":[\"1.0\",\"x\"],\"name\":\"x\","
		"\"plugins\":[{\"type\":\"a\"}]}",
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
	/* like libcni's InjectConf: without a prevResult or a capability to pass,
	 * the plugin's own keys stay */
	c = cnt_plugin_conf(&n, 1, NULL, NULL, NULL, &e);
	assert_true(json_is_true(json_object_get(json_object_get(c, "prevResult"), "stale")));
	json_decref(c);
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

/* Decodes standard base64 (for checking the cached "config"). */
static char *unbase64(const char *in)
{
	static const char abc[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = calloc(strlen(in) + 1, 1), *p = out;
	unsigned int acc = 0;
	int bits = 0;

	for (; *in && *in != '='; in++) {
		acc = acc << 6 | (unsigned int)(strchr(abc, *in) - abc);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			*p++ = (char)(acc >> bits & 0xff);
		}
	}
	return out;
}

static void cache_round_trip(void **state)
{
	char path[512], other[512], *config;
	struct cnt_net n, m;
	struct vn_err e = {0};
	json_t *res = json_pack("{s:s}", "cniVersion", "1.1.0"), *entry, *back, *att;
	json_t *caps = json_pack("{s:[s]}", "ips", "10.0.0.9/24");
	struct cnt_attachment a1 = {.cid = "c1", .ifname = "eth0", .netns = "/run/netns/p",
				    .cni_args = "IgnoreUnknown=1;A=b=c", .capability_args = caps};
	struct cnt_attachment a2 = {.cid = "c2", .ifname = "net1", .netns = "", .cni_args = ""};
	struct cnt_attachment a3 = {.cid = "c3", .ifname = "eth0"};

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

	/* libcni's cachedInfo: config as base64 of the list's bytes, cniArgs as
	 * pairs, capabilityArgs, netns */
	entry = cnt_cache_entry(&n, &a1, res);
	assert_string_equal(json_string_value(json_object_get(entry, "kind")), "cniCacheV1");
	assert_string_equal(json_string_value(json_object_get(entry, "containerId")), "c1");
	assert_string_equal(json_string_value(json_object_get(entry, "ifName")), "eth0");
	assert_string_equal(json_string_value(json_object_get(entry, "networkName")), "net1");
	assert_string_equal(json_string_value(json_object_get(entry, "netns")), "/run/netns/p");
	config = unbase64(json_string_value(json_object_get(entry, "config")));
	assert_string_equal(config, chain);
	free(config);
	assert_string_equal(json_string_value(json_array_get(json_array_get(
		json_object_get(entry, "cniArgs"), 1), 1)), "b=c");
	assert_true(json_equal(json_object_get(entry, "capabilityArgs"), caps));
	assert_true(json_equal(json_object_get(entry, "result"), res));
	assert_int_equal(cnt_cache_store(path, entry, &e), 0);
	json_decref(entry);
	back = cnt_cache_result(path, &e);
	assert_true(json_equal(back, res));
	json_decref(back);
	/* empty netns, CNI_ARGS and capability args are left out, as libcni does */
	entry = cnt_cache_entry(&n, &a2, res);
	assert_null(json_object_get(entry, "netns"));
	assert_null(json_object_get(entry, "cniArgs"));
	assert_null(json_object_get(entry, "capabilityArgs"));

	/* another attachment of net1 and one of net2: GC of net1 sees two */
	assert_int_equal(cnt_cache_path(other, sizeof(other), tmpdir, "net1", "c2", "net1", &e), 0);
	assert_int_equal(cnt_cache_store(other, entry, &e), 0);
	json_decref(entry);
	assert_int_equal(cnt_cache_path(other, sizeof(other), tmpdir, "net2", "c3", "eth0", &e), 0);
	entry = cnt_cache_entry(&m, &a3, res);
	assert_int_equal(cnt_cache_store(other, entry, &e), 0);
	json_decref(entry);
	att = cnt_cache_attachments(tmpdir, "net1", &e);
	assert_int_equal(json_array_size(att), 2);	/* in file name order */
	assert_string_equal(json_string_value(json_object_get(json_array_get(att, 0),
							      "containerID")), "c1");
	assert_string_equal(json_string_value(json_object_get(json_array_get(att, 1),
							      "ifname")), "net1");
	json_decref(att);
	att = cnt_cache_entries(tmpdir, "net1", &e);
	assert_string_equal(json_string_value(json_object_get(json_array_get(att, 0), "netns")),
			    "/run/netns/p");
	json_decref(att);

	/* the format before cniCacheV1: the file is the result */
	assert_int_equal(vn_write_atomic(path, "{\"cniVersion\":\"0.4.0\"}", 22, 0600, &e), 0);
	back = cnt_cache_result(path, &e);
	assert_string_equal(json_string_value(json_object_get(back, "cniVersion")), "0.4.0");
	json_decref(back);
	/* a corrupt file is an error, not "no result" */
	assert_int_equal(vn_write_atomic(path, "{", 1, 0600, &e), 0);
	assert_null(cnt_cache_result(path, &e));
	assert_int_equal(e.code, VN_E_DECODE);
	json_decref(res);
	json_decref(caps);
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

/* A fake plugin: appends "COMMAND type cid ifname stdin |netns|args|" to
 * LOG and prints a result naming itself (address 10.0.0.1 for "first",
 * .2 for "second", .3 otherwise, and a key "by" libcni does not know).
 * It fails every command with a CNI error (exit 3) when its config has
 * "fail":true, only COMMAND (exit 4) with "failCOMMAND":true. VERSION
 * answers 0.4.0, 1.0.0 and 1.1.0. */
static const char fake[] =
	"#!/bin/sh\n"
	"in=$(cat)\n"
	"type=$(basename \"$0\")\n"
	"echo \"$CNI_COMMAND $type $CNI_CONTAINERID $CNI_IFNAME $in |$CNI_NETNS|$CNI_ARGS|\" >> \"$(dirname \"$0\")/log\"\n"
	"case \"$in\" in *'\"fail\":true'*) echo '{\"code\":11,\"msg\":\"no\"}'; exit 3;; esac\n"
	"case \"$in\" in *\"\\\"fail$CNI_COMMAND\\\":true\"*) echo \"{\\\"code\\\":5,\\\"msg\\\":\\\"$CNI_COMMAND failed\\\"}\"; exit 4;; esac\n"
	"if [ \"$CNI_COMMAND\" = VERSION ]; then\n"
	"  echo '{\"cniVersion\":\"1.1.0\",\"supportedVersions\":[\"0.4.0\",\"1.0.0\",\"1.1.0\"]}'; exit 0\n"
	"fi\n"
	"case $type in first) a=1;; second) a=2;; *) a=3;; esac\n"
	"echo \"{\\\"cniVersion\\\":\\\"1.1.0\\\",\\\"ips\\\":[{\\\"address\\\":\\\"10.0.0.$a/32\\\"}],\\\"by\\\":\\\"$type\\\"}\"\n";

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
	/* the first's result as libcni decodes it: without the unknown "by" */
	assert_non_null(strstr(p2, "\"prevResult\":{\"cniVersion\":\"1.1.0\",\"ips\":[{\"address\":"
				   "\"10.0.0.1/32\"}]}"));
	assert_null(strstr(p2, "\"by\":\"first\""));
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
	assert_non_null(strstr(p1, "\"prevResult\":{\"cniVersion\":\"1.1.0\",\"ips\":[{\"address\":"
				   "\"10.0.0.2/32\"}]}"));
	assert_non_null(strstr(p3, "\"prevResult\":{\"cniVersion\":\"1.1.0\",\"ips\":[{\"address\":"
				   "\"10.0.0.2/32\"}]}"));
	free(log);
	cnt_out_free(&o);

	/* the cache entry is gone after DEL: CHECK and DEL still run, as libcni
	 * runs them, without prevResult */
	assert_int_equal(cnt_run(CNT_CHECK, &n, &rt, &o, &e), 0);
	assert_int_equal(cnt_run(CNT_DEL, &n, &rt, &o, &e), 0);
	log = read_log();
	p1 = strstr(log, "CHECK first");
	p2 = strstr(log, "CHECK second");
	assert_true(p1 && p2 && p1 < p2);
	assert_true(strstr(p1, "prevResult") > p2);	/* none for the first */
	/* the second keeps the prevResult of its own config, as InjectConf does */
	assert_non_null(strstr(p2, "\"prevResult\":{\"stale\":true}"));
	free(log);
	cnt_out_free(&o);
	cnt_net_free(&n);
}

/* Runs the script text as a plugin (VERSION, stdin "{}"); peak as cnt_exec. */
static int run_script(const char *name, const char *text, bool peak, struct cnt_out *o,
		      struct vn_err *e)
{
	struct cnt_rt rt = {.cni_path = tmpdir};
	char path[256], **env = cnt_env_build("VERSION", &rt);
	int rc;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	assert_int_equal(vn_write_atomic(path, text, strlen(text), 0755, e), 0);
	assert_non_null(env);
	rc = cnt_exec(path, env, "{}", 2, peak, o, e);
	cnt_env_free(env);
	return rc;
}

/* Traced, a plugin's peak RSS is its own: a shell that holds 8 MB in a
 * variable shows at least that, one that does not much less; spawned,
 * none is reported. Both ways the output is read whole. */
static void peak_rss_is_the_plugins_own(void **state)
{
	static const char small[] = "#!/bin/sh\ncat >/dev/null\necho '{\"cniVersion\":\"1.1.0\"}'\n";
	static const char big[] = "#!/bin/sh\ncat >/dev/null\n"
				  "x=$(head -c 8000000 /dev/zero | tr '\\0' a)\n"
				  "echo \"{\\\"cniVersion\\\":\\\"1.1.0\\\",\\\"n\\\":${#x}}\"\n";
	struct cnt_out o = {0};
	struct vn_err e = {0};

	(void)state;
	assert_int_equal(run_script("small", small, true, &o, &e), 0);
	assert_int_equal(o.status, 0);
	assert_string_equal(o.out, "{\"cniVersion\":\"1.1.0\"}\n");
	assert_true(o.maxrss_kb > 0 && o.maxrss_kb < 4000);
	cnt_out_free(&o);

	assert_int_equal(run_script("big", big, true, &o, &e), 0);
	assert_int_equal(o.status, 0);
	assert_non_null(strstr(o.out, "\"n\":8000000"));
	assert_true(o.maxrss_kb >= 7800);	/* 8,000,000 bytes are 7,812 KiB */
	cnt_out_free(&o);

	assert_int_equal(run_script("big", big, false, &o, &e), 0);
	assert_non_null(strstr(o.out, "\"n\":8000000"));
	assert_int_equal(o.maxrss_kb, 0);
	cnt_out_free(&o);
}

/* A plugin that cannot be executed is cni-test's error, either way. */
static void unrunnable_plugin_is_an_error(void **state)
{
	static const char broken[] = "#!/nonexistent/interpreter\n";
	struct cnt_out o = {0};
	struct vn_err e = {0};

	(void)state;
	for (int peak = 0; peak < 2; peak++) {
		assert_int_equal(run_script("broken", broken, peak, &o, &e), -1);
		assert_non_null(strstr(e.details, "execute "));
		assert_non_null(strstr(e.details, "No such file or directory"));
		assert_int_equal(o.runs, 0);
	}
	cnt_out_free(&o);
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

/* The path of network net's cache entry for ctr/eth0 in tmpdir. */
static void entry_path(char *buf, size_t len, const char *net, const char *cid)
{
	struct vn_err e = {0};

	assert_int_equal(cnt_cache_path(buf, len, tmpdir, net, cid, "eth0", &e), 0);
}

static void gc_status_version(void **state)
{
	struct cnt_net n, old;
	struct vn_err e = {0};
	struct cnt_out o = {0};
	json_t *caps = json_pack("{s:[s]}", "ips", "10.0.0.9/32");
	struct cnt_rt rt = {.cid = "ctr", .netns = "/run/netns/x", .ifname = "eth0",
			    .cni_args = "IgnoreUnknown=1;K=v", .cni_path = tmpdir,
			    .cache_dir = tmpdir, .runtime_config = caps};
	json_t *valid = cnt_valid_parse("keep:eth0", &e);
	char *log, *p, path[512];

	(void)state;
	write_fake("first");
	write_fake("second");
	assert_int_equal(parse(chain, &n), 0);
	assert_int_equal(cnt_run(CNT_ADD, &n, &rt, &o, &e), 0);
	free(read_log());
	/* GC with the cached attachments valid: no DEL, GC of each plugin with
	 * both keys libcni sets, and only CNI_COMMAND and CNI_PATH set */
	assert_int_equal(cnt_run(CNT_GC, &n, &rt, &o, &e), 0);
	log = read_log();
	assert_null(strstr(log, "DEL"));
	assert_non_null(strstr(log, "GC first   {"));
	assert_non_null(strstr(log, "GC second   {"));
	assert_non_null(strstr(log, "\"cni.dev/valid-attachments\":[{\"containerID\":\"ctr\","
				    "\"ifname\":\"eth0\"}]"));
	assert_non_null(strstr(log, "\"cni.dev/attachments\":[{\"containerID\":\"ctr\","
				    "\"ifname\":\"eth0\"}]"));
	assert_non_null(strstr(log, "} |||"));	/* no netns, no CNI_ARGS */
	assert_null(strstr(log, "/run/netns/x"));
	assert_null(strstr(log, "runtimeConfig"));
	free(log);

	/* GC with only "keep" valid: ctr is stale, so DEL (reverse, with its cached
	 * result, CNI_ARGS, netns and capability args), its entry goes, then GC */
	rt.valid = valid;
	rt.cni_args = "";
	rt.runtime_config = NULL;
	assert_int_equal(cnt_run(CNT_GC, &n, &rt, &o, &e), 0);
	log = read_log();
	p = strstr(log, "DEL second ctr eth0 {");
	assert_non_null(p);
	assert_true(strstr(log, "DEL first ctr eth0") > p);
	assert_true(strstr(log, "GC first") > p);
	assert_non_null(strstr(p, "\"prevResult\":{\"cniVersion\":\"1.1.0\""));
	assert_non_null(strstr(p, "|/run/netns/x|IgnoreUnknown=1;K=v|"));
	assert_non_null(strstr(strstr(log, "DEL first"), "\"runtimeConfig\":{\"ips\":[\"10.0.0.9/32\"]}"));
	assert_non_null(strstr(strstr(log, "GC first"), "\"containerID\":\"keep\""));
	free(log);
	entry_path(path, sizeof(path), "net1", "ctr");
	assert_int_equal(access(path, F_OK), -1);

	assert_int_equal(cnt_run(CNT_STATUS, &n, &rt, &o, &e), 0);
	log = read_log();
	assert_non_null(strstr(log, "STATUS first   {"));
	assert_non_null(strstr(log, "STATUS second   {"));
	free(log);
	/* VERSION as libcni's GetVersionInfo: its stdin, dummy netns/ifname/path */
	assert_int_equal(cnt_run(CNT_VERSION, &n, &rt, &o, &e), 0);
	assert_int_equal(o.runs, 12);
	log = read_log();
	assert_non_null(strstr(log, "VERSION first  dummy {\"cniVersion\":\"1.1.0\"} |dummy||"));
	free(log);

	/* before 1.1.0 there is no GC or STATUS, and before 0.4.0 no CHECK */
	assert_int_equal(parse("{\"cniVersion\":\"0.3.1\",\"name\":\"old\",\"type\":\"first\"}",
			       &old), 0);
	assert_int_equal(cnt_run(CNT_GC, &old, &rt, &o, &e), 0);
	assert_int_equal(cnt_run(CNT_STATUS, &old, &rt, &o, &e), 0);
	assert_int_equal(cnt_run(CNT_CHECK, &old, &rt, &o, &e), -1);
	assert_int_equal(e.code, VN_E_INCOMPATIBLE);
	assert_int_equal(o.runs, 12);
	cnt_out_free(&o);
	json_decref(valid);
	json_decref(caps);
	cnt_net_free(&old);
	cnt_net_free(&n);
}

static void teardown_after_failed_add(void **state)
{
	static const char failing[] =
		"{\"cniVersion\":\"1.0.0\",\"name\":\"net4\",\"plugins\":["
		"{\"type\":\"first\"},{\"type\":\"second\",\"failADD\":true}]}";
	struct cnt_net n;
	struct vn_err e = {0};
	struct cnt_out o = {0}, d = {0};
	json_t *prev = json_pack("{s:s}", "cniVersion", "1.0.0");
	struct cnt_rt rt = {.cid = "ctr", .ifname = "eth0", .cni_path = tmpdir,
			    .cache_dir = tmpdir, .prev = prev};
	char *log, *p;

	(void)state;
	write_fake("first");
	write_fake("second");
	assert_int_equal(parse(failing, &n), 0);
	assert_int_equal(cnt_run(CNT_ADD, &n, &rt, &o, &e), 0);
	assert_int_equal(o.status, 4);
	assert_string_equal(o.out, "{\"code\":5,\"msg\":\"ADD failed\"}\n");
	/* the runtime's teardown: the whole chain, reverse, no prevResult
	 * (not even an explicit one); the ADD's outcome is left alone */
	assert_int_equal(cnt_teardown(&n, &rt, &d, &e), 0);
	assert_int_equal(d.status, 0);
	assert_int_equal(d.runs, 2);
	assert_int_equal(o.status, 4);
	log = read_log();
	p = strstr(log, "DEL second ctr eth0");
	assert_non_null(p);
	assert_true(strstr(log, "ADD second") < p);
	assert_true(strstr(log, "DEL first ctr eth0") > p);
	assert_null(strstr(p, "prevResult"));
	free(log);
	cnt_out_free(&o);
	cnt_out_free(&d);
	json_decref(prev);
	cnt_net_free(&n);
}

static void cache_entry_problems(void **state)
{
	static const char net[] =
		"{\"cniVersion\":\"0.4.0\",\"name\":\"net5\",\"plugins\":[{\"type\":\"first\"}]}";
	static const char cached[] =
		"{\"kind\":\"cniCacheV1\",\"result\":{\"cniVersion\":\"1.1.0\",\"interfaces\":"
		"[{\"name\":\"eth0\",\"mtu\":9000}],\"ips\":[{\"address\":\"fd00::2/64\"}]}}";
	struct cnt_net n;
	struct vn_err e = {0};
	struct cnt_out o = {0};
	struct cnt_rt rt = {.cid = "ctr", .ifname = "eth0", .cni_path = tmpdir,
			    .cache_dir = tmpdir};
	char path[512], *log;

	(void)state;
	write_fake("first");
	assert_int_equal(parse(net, &n), 0);
	entry_path(path, sizeof(path), "net5", "ctr");
	*strrchr(path, '/') = '\0';
	assert_int_equal(vn_mkdir_p(path, 0700, &e), 0);
	entry_path(path, sizeof(path), "net5", "ctr");
	assert_int_equal(vn_write_atomic(path, "{\"kind\":", 8, 0600, &e), 0);
	/* CHECK fails on a corrupt entry; DEL runs without it and drops it */
	assert_int_equal(cnt_run(CNT_CHECK, &n, &rt, &o, &e), -1);
	assert_non_null(strstr(e.details, "failed to get network \"net5\" cached result"));
	assert_int_equal(cnt_run(CNT_DEL, &n, &rt, &o, &e), 0);
	assert_int_equal(o.status, 0);
	log = read_log();
	assert_non_null(strstr(log, "DEL first"));
	assert_null(strstr(log, "prevResult"));
	free(log);
	assert_int_equal(access(path, F_OK), -1);

	/* a 1.1.0 result cached for a network now at 0.4.0: converted */
	assert_int_equal(vn_write_atomic(path, cached, strlen(cached), 0600, &e), 0);
	assert_int_equal(cnt_run(CNT_CHECK, &n, &rt, &o, &e), 0);
	log = read_log();
	assert_non_null(strstr(log, "\"prevResult\":{\"cniVersion\":\"0.4.0\",\"interfaces\":"
				    "[{\"name\":\"eth0\"}],\"ips\":[{\"address\":\"fd00::2/64\","
				    "\"version\":\"6\"}],\"dns\":{}}"));
	free(log);

	/* ADD: libcni's checks first; a result that is not JSON is cni-test's error */
	rt.cid = "bad id";
	assert_int_equal(cnt_run(CNT_ADD, &n, &rt, &o, &e), -1);
	assert_string_equal(e.msg, "invalid characters in containerID");
	assert_int_equal(o.runs, 2);	/* the DEL and the CHECK above only */
	cnt_out_free(&o);
	cnt_net_free(&n);
}

static void version_negotiation(void **state)
{
	static const char v02[] =
		"{\"cniVersion\":\"0.3.1\",\"name\":\"net6\",\"plugins\":[{\"type\":\"first\"}]}";
	struct cnt_net n;
	struct vn_err e = {0};
	struct cnt_out o = {0};
	struct cnt_rt rt = {.cid = "ctr", .ifname = "eth0", .cni_path = tmpdir};

	(void)state;
	write_fake("first");
	assert_int_equal(parse(v02, &n), 0);
	assert_int_equal(cnt_run(CNT_VERSION, &n, &rt, &o, &e), -1);
	assert_int_equal(e.code, VN_E_INCOMPATIBLE);
	assert_string_equal(e.details, "plugin first does not support config version \"0.3.1\"");
	free(read_log());
	cnt_out_free(&o);
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
		cmocka_unit_test_setup_teardown(peak_rss_is_the_plugins_own, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(unrunnable_plugin_is_an_error, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(failure_stops_the_chain, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(gc_status_version, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(teardown_after_failed_add, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(cache_entry_problems, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(version_negotiation, make_tmp, remove_tmp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
