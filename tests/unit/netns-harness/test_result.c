/* Unit tests for the pure parts of cni-test's libcni model: version
 * selection (cniVersions), result decoding and conversion, the cache's
 * encodings (base64, CNI_ARGS pairs), kubelet's CNI_ARGS and libcni's
 * checks of container ID, network name and ifname. No root, no files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "../../../netns-harness/cache.h"
#include "../../../netns-harness/conf.h"
#include "../../../netns-harness/result.h"

static json_t *J(const char *text)
{
	json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);

	assert_non_null(j);
	return j;
}

/* asserts that j equals the JSON text want; frees j */
static void assert_json(json_t *j, const char *want)
{
	json_t *w = J(want);

	if (!json_equal(j, w)) {
		char *got = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);

		print_error("got  %s\nwant %s\n", got ? got : "NULL", want);
		free(got);
		fail();
	}
	json_decref(w);
	json_decref(j);
}

static void version_parse_and_pick(void **state)
{
	struct vn_err e = {0};
	const char *v;
	long p[3];
	json_t *vs;

	(void)state;
	assert_int_equal(cnt_version_parse("", p), 0);
	assert_true(p[0] == 0 && p[1] == 1 && p[2] == 0);	/* "" is 0.1.0 */
	assert_int_equal(cnt_version_parse("1", p), 0);
	assert_true(p[0] == 1 && p[1] == 0 && p[2] == 0);
	assert_int_equal(cnt_version_parse("0.4.0", p), 0);
	assert_int_equal(cnt_version_parse("1.2.3.4", p), -1);
	assert_int_equal(cnt_version_parse("1.x", p), -1);
	assert_int_equal(cnt_version_parse("1.", p), -1);
	assert_int_equal(cnt_version_parse("v1", p), -1);

	/* the highest not above 1.1.0; cniVersion takes part; order does not matter */
	vs = J("[\"1.1.0\", \"0.3.1\", \"2.0.0\", \"1.0.0\", \"1.2.0\"]");
	assert_int_equal(cnt_version_pick(vs, "0.4.0", &v, &e), 0);
	assert_string_equal(v, "1.1.0");
	json_decref(vs);
	vs = J("[\"0.3.1\", \"0.4.0\"]");
	assert_int_equal(cnt_version_pick(vs, "1.0.0", &v, &e), 0);
	assert_string_equal(v, "1.0.0");
	assert_int_equal(cnt_version_pick(vs, NULL, &v, &e), 0);
	assert_string_equal(v, "0.4.0");
	json_decref(vs);
	/* without cniVersions: cniVersion as it is, even one cni-test does not know */
	assert_int_equal(cnt_version_pick(NULL, "9.9.9", &v, &e), 0);
	assert_string_equal(v, "9.9.9");
	assert_int_equal(cnt_version_pick(NULL, NULL, &v, &e), -1);
	/* nothing usable, bad entries, bad types */
	vs = J("[\"2.0.0\"]");
	assert_int_equal(cnt_version_pick(vs, "3.0.0", &v, &e), -1);
	assert_int_equal(e.code, VN_E_INVALID);
	json_decref(vs);
	vs = J("[\"1.0.0\", \"one\"]");
	assert_int_equal(cnt_version_pick(vs, NULL, &v, &e), -1);
	assert_non_null(strstr(e.details, "\"one\""));
	json_decref(vs);
	vs = J("[\"1.0.0\", 1]");
	assert_int_equal(cnt_version_pick(vs, NULL, &v, &e), -1);
	json_decref(vs);
	vs = J("\"1.0.0\"");
	assert_int_equal(cnt_version_pick(vs, NULL, &v, &e), -1);
	json_decref(vs);
}

static void result_create_keeps_what_libcni_knows(void **state)
{
	struct vn_err e = {0};
	json_t *in, *out;

	(void)state;
	/* 1.x: unknown keys go, empty ones go, addresses become canonical */
	in = J("{\"cniVersion\":\"1.1.0\",\"extra\":1,"
	       "\"interfaces\":[{\"name\":\"eth0\",\"mac\":\"\",\"mtu\":1400,\"sandbox\":\"/n\","
	       "\"x\":true},{\"mtu\":0}],"
	       "\"ips\":[{\"address\":\"fd00:0:0::2/64\",\"interface\":0,\"gateway\":\"fd00::1\","
	       "\"version\":\"6\"}],"
	       "\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"\",\"mtu\":0,\"table\":0,\"foo\":1}],"
	       "\"dns\":{\"nameservers\":[],\"domain\":\"\"}}");
	out = cnt_result_create(in, "1.1.0", &e);
	assert_json(out, "{\"cniVersion\":\"1.1.0\","
		    "\"interfaces\":[{\"name\":\"eth0\",\"mtu\":1400,\"sandbox\":\"/n\"},{\"name\":\"\"}],"
		    "\"ips\":[{\"address\":\"fd00::2/64\",\"interface\":0,\"gateway\":\"fd00::1\"}],"
		    "\"routes\":[{\"dst\":\"0.0.0.0/0\",\"table\":0}]}");
	/* the same read as 0.4.0: no mtu, ips keep their version, dns stays */
	out = cnt_result_create(in, "0.4.0", &e);
	assert_json(out, "{\"cniVersion\":\"0.4.0\","
		    "\"interfaces\":[{\"name\":\"eth0\",\"sandbox\":\"/n\"},{\"name\":\"\"}],"
		    "\"ips\":[{\"version\":\"6\",\"address\":\"fd00::2/64\",\"interface\":0,"
		    "\"gateway\":\"fd00::1\"}],"
		    "\"routes\":[{\"dst\":\"0.0.0.0/0\",\"table\":0}],\"dns\":{}}");
	json_decref(in);
	/* 0.2.0 */
	in = J("{\"ip4\":{\"ip\":\"10.1.0.5/16\",\"gateway\":\"10.1.0.1\",\"routes\":[{\"dst\":"
	       "\"0.0.0.0/0\"}],\"x\":1},\"ips\":[]}");
	out = cnt_result_create(in, "0.2.0", &e);
	assert_json(out, "{\"cniVersion\":\"0.2.0\",\"ip4\":{\"ip\":\"10.1.0.5/16\",\"gateway\":"
		    "\"10.1.0.1\",\"routes\":[{\"dst\":\"0.0.0.0/0\"}]},\"dns\":{}}");
	json_decref(in);
}

static void result_create_refuses_what_libcni_refuses(void **state)
{
	static const char *bad[] = {
		"{\"ips\":[{\"address\":\"10.0.0.1\"}]}",		/* no prefix length */
		"{\"ips\":[{\"address\":\"10.0.0.1/33\"}]}",
		"{\"ips\":[{\"address\":\"10.0.0.300/24\"}]}",
		"{\"ips\":[{}]}",					/* no address */
		"{\"ips\":[{\"address\":\"10.0.0.1/24\",\"gateway\":\"x\"}]}",
		"{\"ips\":[{\"address\":\"10.0.0.1/24\",\"interface\":\"0\"}]}",
		"{\"interfaces\":[{\"name\":1}]}",
		"{\"interfaces\":[{\"mtu\":1.5}]}",
		"{\"interfaces\":{}}",
		"{\"routes\":[{\"gw\":\"10.0.0.1\"}]}",			/* no dst */
		"{\"dns\":{\"nameservers\":[1]}}",
		"{\"dns\":[]}",
		"[]",
	};
	struct vn_err e = {0};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *in = J(bad[i]);

		vn_err_clear(&e);
		assert_null(cnt_result_create(in, "1.0.0", &e));
		assert_int_equal(e.code, VN_E_DECODE);
		json_decref(in);
	}
	{
		json_t *empty = json_object();

		assert_null(cnt_result_create(empty, "1.2.0", &e));
		assert_non_null(strstr(e.details, "unsupported CNI result version \"1.2.0\""));
		json_decref(empty);
	}
	assert_true(cnt_result_version_known("0.3.1"));
	assert_false(cnt_result_version_known("1.2.0"));
}

/* cnt_result_decode of a string literal */
#define DECODE(text, v, e) cnt_result_decode(text, strlen(text), v, e)

static void result_decode_like_exec_plugin(void **state)
{
	static const char out[] = "{\"ips\":[{\"address\":\"10.0.0.2/24\"}],\"by\":\"x\"}";
	struct vn_err e = {0};

	(void)state;
	/* no cniVersion: the config's */
	assert_json(cnt_result_decode(out, strlen(out), "1.0.0", &e),
		    "{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.0.0.2/24\"}]}");
	/* its own version wins over the config's */
	assert_json(DECODE("{\"cniVersion\":\"0.3.1\"}", "1.0.0", &e),
		    "{\"cniVersion\":\"0.3.1\",\"dns\":{}}");
	assert_json(DECODE("null", "1.1.0", &e), "{\"cniVersion\":\"1.1.0\"}");
	assert_null(DECODE("not json", "1.0.0", &e));
	assert_int_equal(e.code, VN_E_DECODE);
	assert_null(DECODE("[1]", "1.0.0", &e));
	assert_null(DECODE("{\"cniVersion\":\"7.0.0\"}", "1.0.0", &e));
}

static void result_conversions(void **state)
{
	struct vn_err e = {0};
	json_t *r100, *r040, *back;

	(void)state;
	r100 = J("{\"cniVersion\":\"1.1.0\",\"interfaces\":[{\"name\":\"eth0\",\"mtu\":1400,"
		 "\"socketPath\":\"/s\"}],\"ips\":[{\"address\":\"10.0.0.2/24\",\"interface\":0},"
		 "{\"address\":\"fd00::2/64\"}],\"routes\":[{\"dst\":\"0.0.0.0/0\",\"priority\":5}]}");
	/* the same version: itself */
	back = cnt_result_convert(r100, "1.1.0", &e);
	assert_ptr_equal(back, r100);
	json_decref(back);
	/* 1.1.0 -> 1.0.0 only changes the version */
	assert_json(cnt_result_convert(r100, "1.0.0", &e),
		    "{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"eth0\",\"mtu\":1400,"
		    "\"socketPath\":\"/s\"}],\"ips\":[{\"address\":\"10.0.0.2/24\",\"interface\":0},"
		    "{\"address\":\"fd00::2/64\"}],\"routes\":[{\"dst\":\"0.0.0.0/0\",\"priority\":5}]}");
	/* down to 0.4.0: interface keys it lacks go, ips get their version, dns is there */
	r040 = cnt_result_convert(r100, "0.4.0", &e);
	assert_non_null(r040);
	back = json_deep_copy(r040);
	assert_json(back, "{\"cniVersion\":\"0.4.0\",\"interfaces\":[{\"name\":\"eth0\"}],"
		    "\"ips\":[{\"version\":\"4\",\"address\":\"10.0.0.2/24\",\"interface\":0},"
		    "{\"version\":\"6\",\"address\":\"fd00::2/64\"}],"
		    "\"routes\":[{\"dst\":\"0.0.0.0/0\",\"priority\":5}],\"dns\":{}}");
	/* and up again: the version goes, the empty dns too */
	assert_json(cnt_result_convert(r040, "1.0.0", &e),
		    "{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"eth0\"}],"
		    "\"ips\":[{\"address\":\"10.0.0.2/24\",\"interface\":0},"
		    "{\"address\":\"fd00::2/64\"}],\"routes\":[{\"dst\":\"0.0.0.0/0\",\"priority\":5}]}");
	assert_json(cnt_result_convert(r040, "0.3.1", &e),
		    "{\"cniVersion\":\"0.3.1\",\"interfaces\":[{\"name\":\"eth0\"}],"
		    "\"ips\":[{\"version\":\"4\",\"address\":\"10.0.0.2/24\",\"interface\":0},"
		    "{\"version\":\"6\",\"address\":\"fd00::2/64\"}],"
		    "\"routes\":[{\"dst\":\"0.0.0.0/0\",\"priority\":5}],\"dns\":{}}");
	/* what cni-test does not convert */
	assert_null(cnt_result_convert(r100, "0.2.0", &e));
	assert_int_equal(e.code, VN_E_INCOMPATIBLE);
	assert_null(cnt_result_convert(r100, "1.2.0", &e));
	json_decref(r040);
	json_decref(r100);

	/* a cached result: created in its own version, converted to the network's */
	r100 = J("{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.0.0.2/24\"}],\"x\":1}");
	assert_json(cnt_result_cached(r100, "0.4.0", &e), "{\"cniVersion\":\"0.4.0\",\"ips\":"
		    "[{\"version\":\"4\",\"address\":\"10.0.0.2/24\"}],\"dns\":{}}");
	json_decref(r100);
	r100 = J("{\"ips\":[{\"address\":\"10.0.0.2/24\"}]}");	/* no version: 0.1.0 */
	assert_null(cnt_result_cached(r100, "1.0.0", &e));
	json_decref(r100);
}

static void base64_like_go(void **state)
{
	static const struct {
		const char *in, *out;
	} v[] = {
		{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="},
		{"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}, {"\xff\xfe?>", "//4/Pg=="},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char *b = cnt_base64(v[i].in, strlen(v[i].in));

		assert_string_equal(b, v[i].out);
		free(b);
	}
}

static void cni_args_pairs_and_k8s(void **state)
{
	char buf[512], uid[40], uid2[40];
	json_t *pairs;
	char *joined;

	(void)state;
	assert_null(cnt_cni_args_pairs(""));
	assert_null(cnt_cni_args_pairs(NULL));
	pairs = cnt_cni_args_pairs("IgnoreUnknown=1;A=b=c;E=");
	joined = cnt_cni_args_join(pairs);
	assert_string_equal(joined, "IgnoreUnknown=1;A=b=c;E=");
	free(joined);
	assert_json(pairs, "[[\"IgnoreUnknown\",\"1\"],[\"A\",\"b=c\"],[\"E\",\"\"]]");
	joined = cnt_cni_args_join(NULL);
	assert_string_equal(joined, "");
	free(joined);

	assert_int_equal(cnt_k8s_args(buf, sizeof(buf), "ns1", "web", "c1", "u1"), 0);
	assert_string_equal(buf, "IgnoreUnknown=1;K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=web;"
				 "K8S_POD_INFRA_CONTAINER_ID=c1;K8S_POD_UID=u1");
	assert_int_equal(cnt_k8s_args(buf, 20, "ns1", "web", "c1", "u1"), -1);

	cnt_pod_uid(uid, sizeof(uid), "ns1/web");
	cnt_pod_uid(uid2, sizeof(uid2), "ns1/web");
	assert_string_equal(uid, uid2);
	assert_int_equal(strlen(uid), 36);
	assert_true(uid[8] == '-' && uid[13] == '-' && uid[18] == '-' && uid[23] == '-');
	assert_int_equal(uid[14], '4');
	assert_non_null(strchr("89ab", uid[19]));
	cnt_pod_uid(uid2, sizeof(uid2), "ns1/web2");
	assert_string_not_equal(uid, uid2);
}

static void attachment_checks_like_libcni(void **state)
{
	struct vn_err e = {0};

	(void)state;
	assert_int_equal(cnt_attachment_check("abc-1_2.3", "net", "eth0", &e), 0);
	assert_int_equal(cnt_attachment_check("c", "k8s-pod-network", "a23456789012345", &e), 0);
	assert_int_equal(cnt_attachment_check("", "net", "eth0", &e), -1);
	assert_int_equal(e.code, VN_E_UNKNOWN);
	assert_string_equal(e.msg, "missing containerID");
	assert_int_equal(cnt_attachment_check("bad id", "net", "eth0", &e), -1);
	assert_int_equal(e.code, VN_E_ENV);
	assert_string_equal(e.msg, "invalid characters in containerID");
	assert_int_equal(cnt_attachment_check("-c", "net", "eth0", &e), -1);
	assert_int_equal(cnt_attachment_check("c", "net/x", "eth0", &e), -1);
	assert_int_equal(e.code, VN_E_INVALID);
	assert_int_equal(cnt_attachment_check("c", "net", "a234567890123456", &e), -1);
	assert_int_equal(e.code, VN_E_ENV);
	assert_int_equal(cnt_attachment_check("c", "net", "", &e), -1);
	assert_int_equal(cnt_attachment_check("c", "net", "..", &e), -1);
	assert_int_equal(cnt_attachment_check("c", "net", "a:b", &e), -1);
	assert_int_equal(cnt_attachment_check("c", "net", "a b", &e), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(version_parse_and_pick),
		cmocka_unit_test(result_create_keeps_what_libcni_knows),
		cmocka_unit_test(result_create_refuses_what_libcni_refuses),
		cmocka_unit_test(result_decode_like_exec_plugin),
		cmocka_unit_test(result_conversions),
		cmocka_unit_test(base64_like_go),
		cmocka_unit_test(cni_args_pairs_and_k8s),
		cmocka_unit_test(attachment_checks_like_libcni),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
