/* Unit tests: what the CNI spec (0.3.0 to 1.1.0) and libcni's conventions
 * ask of the plugin's input and output: the verbs of each version, the
 * VERSION answer, GC's list of valid attachments, CNI_ARGS with and
 * unknown keys ignored, interface names, a delegated IPAM plugin's routes,
 * 1.1.0's route attributes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../../plugin/cniargs.h"
#include "../../../plugin/config.h"
#include "../../../plugin/env.h"
#include "../../../plugin/result.h"
#include "../../../plugin/version.h"

/* CHECK came with 0.4.0, STATUS and GC with 1.1.0. */
static void verbs_per_version(void **state)
{
	(void)state;
	assert_int_equal(cni_version_of_verb("ADD"), CNI_V030);
	assert_int_equal(cni_version_of_verb("DEL"), CNI_V030);
	assert_int_equal(cni_version_of_verb("VERSION"), CNI_V030);
	assert_int_equal(cni_version_of_verb("CHECK"), CNI_V040);
	assert_int_equal(cni_version_of_verb("STATUS"), CNI_V110);
	assert_int_equal(cni_version_of_verb("GC"), CNI_V110);
	assert_true(cni_version_parse("0.3.1") < cni_version_of_verb("CHECK"));
	assert_true(cni_version_parse("1.0.0") < cni_version_of_verb("GC"));
	assert_true(cni_version_parse("1.1.0") >= cni_version_of_verb("STATUS"));
}

static json_t *version_answer(const char *requested)
{
	char *text = result_version_json(requested);
	json_t *o;

	assert_non_null(text);
	o = json_loads(text, 0, NULL);
	free(text);
	assert_non_null(o);
	return o;
}

/* cniVersion echoes the input, whatever its text; supportedVersions holds
 * every version the configuration parser accepts, and only those. */
static void version_answer_shape(void **state)
{
	static const char *const odd[] = { "1.0\"x", "a\\b", "0.2.0", "9.9.9-a-very-long-version-"
					   "string-longer-than-any-buffer-of-32-bytes" };
	json_t *o, *list, *v;
	size_t i;

	(void)state;
	for (size_t k = 0; k < sizeof(odd) / sizeof(odd[0]); k++) {
		o = version_answer(odd[k]);
		assert_string_equal(json_string_value(json_object_get(o, "cniVersion")), odd[k]);
		json_decref(o);
	}
	o = version_answer(NULL);
	assert_string_equal(json_string_value(json_object_get(o, "cniVersion")), CNI_LATEST);
	list = json_object_get(o, "supportedVersions");
	assert_int_equal(json_array_size(list), CNI_V_COUNT);
	json_array_foreach(list, i, v)
		assert_int_equal(cni_version_parse(json_string_value(v)), (int)i);
	assert_int_equal(cni_version_parse("0.2.0"), -1);
	json_decref(o);
}

static int parse_conf(const char *extra, struct plugin_config *c, struct vn_err *e)
{
	char text[1024];

	snprintf(text, sizeof(text),
		 "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"veilnet\","
		 "\"ipam\":{\"ranges\":[[{\"subnet\":\"10.1.0.0/24\"}]]}%s}", extra);
	memset(e, 0, sizeof(*e));
	return config_parse(text, strlen(text), c, e);
}

/* libcni sends "cni.dev/valid-attachments": null when no attachment is
 * valid (a Go nil slice): an empty list, not a missing one. */
static void gc_attachments(void **state)
{
	struct plugin_config c;
	struct vn_err e;

	(void)state;
	assert_int_equal(parse_conf(",\"cni.dev/valid-attachments\":null,"
				    "\"cni.dev/attachments\":null", &c, &e), 0);
	assert_non_null(c.attachments);
	assert_int_equal(json_array_size(c.attachments), 0);
	config_free(&c);
	assert_int_equal(parse_conf(",\"cni.dev/attachments\":[{\"containerID\":\"a\","
				    "\"ifname\":\"eth0\"}]", &c, &e), 0);
	assert_int_equal(json_array_size(c.attachments), 1);
	config_free(&c);
	assert_int_equal(parse_conf("", &c, &e), 0);
	assert_null(c.attachments);	/* no list at all: GC refuses to guess */
	config_free(&c);
	assert_int_equal(parse_conf(",\"cni.dev/valid-attachments\":{}", &c, &e), -1);
	assert_int_equal(e.code, VN_E_INVALID);
	config_free(&c);
}

static int args(const char *s, struct vn_err *e)
{
	struct cni_args a;
	int rc;

	memset(e, 0, sizeof(*e));
	rc = cni_args_parse(s, &a, e);
	cni_args_free(&a);
	return rc;
}

/* Issue 2: unknown CNI_ARGS keys are ignored, with or without
 * IgnoreUnknown (kubelet sets it; podman 4.3 and containerd 1.6 set other
 * keys); a pair without '=' or a bad known value is still an error. */
static void args_unknown_keys(void **state)
{
	static const char *const ok[] = {
		"IgnoreUnknown=1;FOO=bar", "FOO=bar;IgnoreUnknown=true", "FOO=bar", "A=b=c",
		"K8S_POD_NAMESPACE=a;K8S_POD_NAME=b;K8S_POD_UID=c;K8S_POD_INFRA_CONTAINER_ID=d",
		"IgnoreUnknown=0;FOO=bar", "IgnoreUnknown=false;IP=10.0.0.1", "",
	};
	static const char *const bad[] = {
		"FOO", "=x", "IP=10.0.0.300", "IgnoreUnknown=1;IP=10.0.0.1;IP=10.0.0.2",
	};
	struct vn_err e;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_int_equal(args(ok[i], &e), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(args(bad[i], &e), -1);
		assert_int_equal(e.code, VN_E_ENV);
		assert_non_null(strstr(e.details, "CNI_ARGS"));
	}
}

/* libcni's ValidateInterfaceName refuses Unicode whitespace too; the
 * kernel refuses the byte 0xa0 anywhere. */
static void ifname_whitespace(void **state)
{
	static const char *const bad[] = {
		"e\xc2\x85x", "e\xc2\xa0x", "e\xe1\x9a\x80x", "e\xe2\x80\x80x", "e\xe2\x80\x8ax",
		"e\xe2\x80\xa8x", "e\xe2\x80\xa9x", "e\xe2\x80\xafx", "e\xe2\x81\x9fx",
		"e\xe3\x80\x80x", "e\xc3\xa0", "e\tx", "e\vx", "0123456789abcdef", "", "..",
	};
	static const char *const ok[] = { "eth0", "net1.100", "e\xc3\xa9", "e\xe2\x80\x8bx", "...",
					  "0123456789abcde", "a-b_c" };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(cni_valid_ifname(bad[i]));
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_true(cni_valid_ifname(ok[i]));
	assert_false(cni_valid_ifname(NULL));
}

static const char *fake_env_vars[8];

static const char *fake_get(const char *name)
{
	size_t n = strlen(name);

	for (const char *const *p = fake_env_vars; *p; p++)
		if (strncmp(*p, name, n) == 0 && (*p)[n] == '=')
			return *p + n + 1;
	return NULL;
}

/* '%' makes a kernel name template: ADD refuses it, DEL does not care. */
static void env_ifname_template(void **state)
{
	struct cni_env env;
	struct vn_err e;

	(void)state;
	memset(fake_env_vars, 0, sizeof(fake_env_vars));
	fake_env_vars[0] = "CNI_COMMAND=ADD";
	fake_env_vars[1] = "CNI_CONTAINERID=c1";
	fake_env_vars[2] = "CNI_NETNS=/run/netns/x";
	fake_env_vars[3] = "CNI_IFNAME=net%d";
	assert_int_equal(cni_env_load(&env, fake_get, &e), -1);
	assert_int_equal(e.code, VN_E_ENV);
	assert_non_null(strstr(e.details, "CNI_IFNAME"));
	fake_env_vars[0] = "CNI_COMMAND=DEL";
	assert_int_equal(cni_env_load(&env, fake_get, &e), 0);
	assert_string_equal(env.ifname, "net%d");
}

/* STATUS and GC have no attachment: CNI_CONTAINERID, CNI_NETNS,
 * CNI_IFNAME and CNI_ARGS may be missing or anything at all, and are not
 * read. */
static void env_status_gc(void **state)
{
	static const char *const verbs[] = { "CNI_COMMAND=STATUS", "CNI_COMMAND=GC" };
	struct cni_env env;
	struct vn_err e;

	(void)state;
	for (int i = 0; i < 2; i++) {
		memset(fake_env_vars, 0, sizeof(fake_env_vars));
		fake_env_vars[0] = verbs[i];
		assert_int_equal(cni_env_load(&env, fake_get, &e), 0);
		fake_env_vars[1] = "CNI_CONTAINERID=-bad id";
		fake_env_vars[2] = "CNI_IFNAME=a/b:c d";
		fake_env_vars[3] = "CNI_NETNS=relative";
		fake_env_vars[4] = "CNI_ARGS=junk;=";
		assert_int_equal(cni_env_load(&env, fake_get, &e), 0);
		assert_null(env.container_id);
		assert_null(env.netns);
		assert_null(env.ifname);
		assert_null(env.args);
	}
}

/* A delegated IPAM plugin's routes are applied via the link-local gateway
 * of their family, whatever gateway the IPAM plugin named. */
static void ipam_result_routes(void **state)
{
	json_t *res = json_loads("{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.1.0.5/24\"}],"
				 "\"routes\":[{\"dst\":\"10.96.0.0/12\",\"gw\":\"10.1.0.1\"},"
				 "{\"dst\":\"fd00:96::1/108\"}]}", 0, NULL);
	json_t *bad = json_loads("{\"routes\":[{\"gw\":\"10.1.0.1\"}]}", 0, NULL);
	struct cfg_route r[4];
	struct vn_err e = { 0 };
	char buf[VN_PREFIX_STRLEN];
	size_t n;

	(void)state;
	assert_int_equal(result_ipam_routes(res, r, 4, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(vn_prefix_str(&r[0].dst, buf), "10.96.0.0/12");
	assert_string_equal(vn_addr_str(&r[0].gw, buf), GATEWAY4);
	assert_string_equal(vn_prefix_str(&r[1].dst, buf), "fd00:96::/108");	/* canonical */
	assert_string_equal(vn_addr_str(&r[1].gw, buf), GATEWAY6);
	assert_int_equal(result_ipam_routes(res, r, 1, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(result_ipam_routes(bad, r, 4, &n, &e), -1);
	assert_int_equal(e.code, VN_E_DECODE);
	assert_int_equal(result_ipam_routes(NULL, r, 4, &n, &e), 0);
	assert_int_equal(n, 0);
	json_decref(res);
	json_decref(bad);
}

/* 1.1.0's route attributes: mtu, advmss and priority are read (from the
 * config and from an IPAM result) and reported from 1.1.0 on; table and
 * scope are refused as unsupported fields. */
static void route_attributes(void **state)
{
	static const char *conf =
		"{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"veilnet\",\"ipam\":{"
		"\"ranges\":[[{\"subnet\":\"10.1.0.0/24\"}]],\"routes\":[{\"dst\":\"10.96.0.0/12\","
		"\"mtu\":1300,\"advmss\":1260,\"priority\":7},{\"dst\":\"10.97.0.0/16\"}]}}";
	static const char *table =
		"{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"veilnet\",\"ipam\":{"
		"\"ranges\":[[{\"subnet\":\"10.1.0.0/24\"}]],\"routes\":[{\"dst\":\"10.96.0.0/12\","
		"\"table\":100}]}}";
	json_t *ipam = json_loads("{\"routes\":[{\"dst\":\"10.96.0.0/12\",\"scope\":253}]}", 0,
				  NULL);
	struct add_result r = { .host_ifname = "vnh", .pod_ifname = "eth0", .sandbox = "/x",
				.n_routes = 1 };
	struct plugin_config c;
	struct vn_err e = { 0 };
	json_t *out, *route;
	size_t n;

	(void)state;
	assert_int_equal(config_parse(conf, strlen(conf), &c, &e), 0);
	assert_int_equal(c.routes[0].mtu, 1300);
	assert_int_equal(c.routes[0].advmss, 1260);
	assert_int_equal(c.routes[0].priority, 7);
	assert_int_equal(c.routes[1].mtu + c.routes[1].advmss + c.routes[1].priority, 0);
	r.routes[0] = c.routes[0];
	config_free(&c);
	assert_int_equal(config_parse(table, strlen(table), &c, &e), -1);
	assert_int_equal(e.code, VN_E_UNSUPPORTED);
	assert_non_null(strstr(e.details, "ipam.routes[0]: field \"table\""));
	config_free(&c);
	assert_int_equal(result_ipam_routes(ipam, r.routes + 1, 1, &n, &e), -1);
	assert_int_equal(e.code, VN_E_UNSUPPORTED);
	out = result_build(&r, CNI_V110, NULL);
	route = json_array_get(json_object_get(out, "routes"), 0);
	assert_int_equal(json_integer_value(json_object_get(route, "mtu")), 1300);
	assert_int_equal(json_integer_value(json_object_get(route, "advmss")), 1260);
	assert_int_equal(json_integer_value(json_object_get(route, "priority")), 7);
	json_decref(out);
	out = result_build(&r, CNI_V100, NULL);
	route = json_array_get(json_object_get(out, "routes"), 0);
	assert_non_null(route);
	assert_null(json_object_get(route, "mtu"));	/* 1.0.0 routes have no attributes */
	json_decref(out);
	json_decref(ipam);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(verbs_per_version),
		cmocka_unit_test(version_answer_shape),
		cmocka_unit_test(gc_attachments),
		cmocka_unit_test(args_unknown_keys),
		cmocka_unit_test(ifname_whitespace),
		cmocka_unit_test(env_status_gc),
		cmocka_unit_test(env_ifname_template),
		cmocka_unit_test(ipam_result_routes),
		cmocka_unit_test(route_attributes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
