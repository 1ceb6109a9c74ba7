/* Unit tests: result JSON for each cniVersion, chaining, error objects,
 * reading prevResult for CHECK. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../../plugin/result.h"
#include "../../../plugin/version.h"

static void sample(struct add_result *r, struct plugin_config *c)
{
	static const uint8_t hm[6] = { 0x02, 0, 0, 0, 0, 1 }, pm[6] = { 0x0a, 0xbb, 0, 0, 0, 2 };

	memset(r, 0, sizeof(*r));
	memset(c, 0, sizeof(*c));
	r->host_ifname = "vn0123456789abc";
	r->pod_ifname = "eth0";
	r->sandbox = "/run/netns/p1";
	r->mtu = 1420;
	memcpy(r->host_mac, hm, 6);
	memcpy(r->pod_mac, pm, 6);
	vn_addr_parse("10.244.1.5", &r->ips[0]);
	vn_addr_parse("fd00::5", &r->ips[1]);
	r->n_ips = 2;
	c->n_routes = 2;
	vn_prefix_parse("10.96.0.0/12", &c->routes[0].dst);
	vn_prefix_parse("0.0.0.0/0", &c->routes[1].dst);	/* a duplicate default: skipped */
	result_plan_routes(c, r->ips, r->n_ips, r->routes, &r->n_routes);
}

static char *build(const struct add_result *r, int ver, const json_t *prev)
{
	json_t *o = result_build(r, ver, prev);
	char *text;

	assert_non_null(o);
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return text;
}

static void shape_110(void **state)
{
	struct add_result r;
	struct plugin_config c;
	char *t;

	(void)state;
	sample(&r, &c);
	assert_int_equal(r.n_routes, 3);
	t = build(&r, CNI_V110, NULL);
	assert_string_equal(t,
		"{\"cniVersion\":\"1.1.0\",\"interfaces\":["
		"{\"name\":\"vn0123456789abc\",\"mac\":\"02:00:00:00:00:01\",\"mtu\":1420},"
		"{\"name\":\"eth0\",\"mac\":\"0a:bb:00:00:00:02\",\"mtu\":1420,\"sandbox\":\"/run/netns/p1\"}],"
		"\"ips\":[{\"address\":\"10.244.1.5/32\",\"gateway\":\"169.254.1.1\",\"interface\":1},"
		"{\"address\":\"fd00::5/128\",\"gateway\":\"fe80::1\",\"interface\":1}],"
		"\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"169.254.1.1\"},{\"dst\":\"::/0\",\"gw\":\"fe80::1\"},"
		"{\"dst\":\"10.96.0.0/12\",\"gw\":\"169.254.1.1\"}]}");
	free(t);
}

static void shape_100_and_04(void **state)
{
	struct add_result r;
	struct plugin_config c;
	json_t *dns = json_pack("{s:[s]}", "nameservers", "10.96.0.10");
	char *t;

	(void)state;
	sample(&r, &c);
	r.dns = dns;
	t = build(&r, CNI_V100, NULL);
	assert_null(strstr(t, "\"mtu\""));
	assert_null(strstr(t, "\"version\""));
	assert_non_null(strstr(t, "\"cniVersion\":\"1.0.0\""));
	assert_non_null(strstr(t, "\"dns\":{\"nameservers\":[\"10.96.0.10\"]}"));
	free(t);
	for (int v = CNI_V030; v <= CNI_V040; v++) {
		t = build(&r, v, NULL);
		assert_non_null(strstr(t, "{\"version\":\"4\",\"address\":\"10.244.1.5/32\""));
		assert_non_null(strstr(t, "{\"version\":\"6\",\"address\":\"fd00::5/128\""));
		assert_non_null(strstr(t, cni_version_str(v)));
		free(t);
	}
	json_decref(dns);
}

static void chained_after_another(void **state)
{
	struct add_result r;
	struct plugin_config c;
	json_t *prev = json_loads("{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"lo\"}],"
				  "\"ips\":[{\"address\":\"127.0.0.2/8\",\"interface\":0}],"
				  "\"dns\":{\"nameservers\":[\"1.1.1.1\"]},\"custom\":true}", 0, NULL);
	json_t *dns = json_pack("{s:[s]}", "nameservers", "10.96.0.10");
	json_t *o;

	(void)state;
	sample(&r, &c);
	r.dns = dns;
	o = result_build(&r, CNI_V100, prev);
	assert_int_equal(json_array_size(json_object_get(o, "interfaces")), 3);
	assert_int_equal(json_array_size(json_object_get(o, "ips")), 3);
	/* ours point at the pod interface, now index 2 */
	assert_int_equal(json_integer_value(json_object_get(
		json_array_get(json_object_get(o, "ips"), 1), "interface")), 2);
	assert_int_equal(json_integer_value(json_object_get(
		json_array_get(json_object_get(o, "ips"), 0), "interface")), 0);
	assert_true(json_is_true(json_object_get(o, "custom")));	/* passed through */
	assert_string_equal(json_string_value(json_array_get(json_object_get(
		json_object_get(o, "dns"), "nameservers"), 0)), "1.1.1.1");	/* prev's dns kept */
	assert_int_equal(json_array_size(json_object_get(prev, "interfaces")), 1);	/* prev intact */
	json_decref(o);
	json_decref(prev);
	json_decref(dns);
}

static void error_objects(void **state)
{
	struct vn_err e = { 0 };
	char *t;
	json_t *o;

	(void)state;
	vn_errf(&e, VN_E_ENV, "invalid environment variables", "CNI_NETNS is not set");
	t = result_error_json("0.4.0", &e);
	o = json_loads(t, 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "cniVersion")), "0.4.0");
	assert_int_equal(json_integer_value(json_object_get(o, "code")), 4);
	assert_string_equal(json_string_value(json_object_get(o, "msg")),
			    "invalid environment variables");
	assert_string_equal(json_string_value(json_object_get(o, "details")), "CNI_NETNS is not set");
	json_decref(o);
	free(t);
	t = result_error_json("", &e);
	assert_non_null(strstr(t, "\"cniVersion\": \"1.1.0\""));
	free(t);
}

static void prev_view(void **state)
{
	struct add_result r;
	struct plugin_config c;
	struct prev_view v;
	struct vn_err e = { 0 };
	json_t *o;

	(void)state;
	sample(&r, &c);
	o = result_build(&r, CNI_V040, NULL);
	assert_int_equal(result_view(o, "vn0123456789abc", "eth0", "/run/netns/p1", &v, &e), 0);
	assert_int_equal(v.host_idx, 0);
	assert_int_equal(v.pod_idx, 1);
	assert_true(v.has_pod_mac);
	assert_int_equal(v.pod_mac[1], 0xbb);
	assert_int_equal(v.n_ips, 2);
	assert_int_equal(v.ips[1].len, 128);
	assert_int_equal(v.n_routes, 3);
	assert_int_equal(result_view(o, "vn0123456789abc", "eth0", "/run/netns/other", &v, &e), -1);
	assert_non_null(strstr(e.details, "sandbox"));
	assert_int_equal(result_view(o, "vnfffffffffffff", "eth0", "/run/netns/p1", &v, &e), -1);
	assert_non_null(strstr(e.details, "host interface"));
	assert_int_equal(result_view(NULL, "x", "eth0", "/n", &v, &e), -1);
	assert_int_equal(e.code, VN_E_INVALID);
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(shape_110),
		cmocka_unit_test(shape_100_and_04),
		cmocka_unit_test(chained_after_another),
		cmocka_unit_test(error_objects),
		cmocka_unit_test(prev_view),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
