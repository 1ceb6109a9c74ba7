/* Unit tests: configuration parsing and validation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "../../../plugin/config.h"
#include "../../../plugin/version.h"

static int parse(const char *text, struct plugin_config *c, struct vn_err *e)
{
	memset(e, 0, sizeof(*e));
	return config_parse(text, strlen(text), c, e);
}

static void full_config(void **state)
{
	static const char *text =
		"{\"cniVersion\":\"1.1.0\",\"name\":\"k8s-pod-network\",\"type\":\"veilnet\","
		"\"mtu\":1400,\"unknownKey\":{\"x\":1},\"args\":{\"cni\":{\"ips\":[\"1.2.3.4\"]}},"
		"\"ipam\":{\"type\":\"veilnet\",\"dataDir\":\"/tmp/x\",\"ranges\":["
		"[{\"subnet\":\"10.244.1.0/24\",\"rangeStart\":\"10.244.1.10\",\"rangeEnd\":\"10.244.1.20\","
		"\"gateway\":\"10.244.1.15\"},{\"subnet\":\"10.244.2.0/25\"}],"
		"[{\"subnet\":\"fd00:10:244:1::/64\"}]],"
		"\"routes\":[{\"dst\":\"10.96.0.0/12\"},{\"dst\":\"fd00:96::/108\",\"gw\":\"fe80::2\"}]},"
		"\"dns\":{\"nameservers\":[\"10.96.0.10\"],\"domain\":\"cluster.local\","
		"\"search\":[\"svc.cluster.local\"],\"options\":[\"ndots:5\"]},"
		"\"logFile\":\"/tmp/veilnet.log\",\"logLevel\":\"debug\","
		"\"runtimeConfig\":{\"ips\":[\"10.244.1.12/24\"]},"
		"\"cni.dev/valid-attachments\":[{\"containerID\":\"a\",\"ifname\":\"eth0\"}]}";
	struct plugin_config c;
	struct vn_err e;
	char buf[VN_PREFIX_STRLEN];

	(void)state;
	assert_int_equal(parse(text, &c, &e), 0);
	assert_int_equal(c.ver, CNI_V110);
	assert_string_equal(c.name, "k8s-pod-network");
	assert_int_equal(c.mtu, 1400);
	assert_true(c.ipam_builtin);
	assert_string_equal(c.data_dir, "/tmp/x");
	assert_int_equal(c.n_sets, 2);
	assert_int_equal(c.sets[0].family, AF_INET);
	assert_int_equal(c.sets[0].n, 2);
	assert_string_equal(vn_addr_str(&c.sets[0].r[0].start, buf), "10.244.1.10");
	assert_string_equal(vn_addr_str(&c.sets[0].r[0].end, buf), "10.244.1.20");
	assert_string_equal(vn_addr_str(&c.sets[0].r[0].gateway, buf), "10.244.1.15");
	/* defaults: network + 1 .. broadcast - 1 */
	assert_string_equal(vn_addr_str(&c.sets[0].r[1].start, buf), "10.244.2.1");
	assert_string_equal(vn_addr_str(&c.sets[0].r[1].end, buf), "10.244.2.126");
	/* IPv6 has no broadcast: the last address is usable */
	assert_string_equal(vn_addr_str(&c.sets[1].r[0].start, buf), "fd00:10:244:1::1");
	assert_string_equal(vn_addr_str(&c.sets[1].r[0].end, buf),
			    "fd00:10:244:1:ffff:ffff:ffff:ffff");
	assert_int_equal(c.n_routes, 2);
	assert_int_equal(c.routes[0].gw.family, 0);
	assert_string_equal(vn_prefix_str(&c.routes[1].dst, buf), "fd00:96::/108");
	assert_non_null(c.dns);
	assert_string_equal(c.log_level, "debug");
	assert_int_equal(c.n_req_ips, 1);
	assert_string_equal(vn_addr_str(&c.req_ips[0], buf), "10.244.1.12");
	assert_int_equal(json_array_size(c.attachments), 1);
	assert_null(c.prev_result);
	config_free(&c);
}

static void defaults_and_shorthand(void **state)
{
	struct plugin_config c;
	struct vn_err e;
	char buf[VN_ADDR_STRLEN];

	(void)state;
	assert_int_equal(parse("{\"cniVersion\":\"0.4.0\",\"name\":\"podnet\",\"type\":\"veilnet\","
			       "\"ipam\":{\"subnet\":\"192.168.7.0/24\",\"rangeEnd\":\"192.168.7.9\"},"
			       "\"cni.dev/attachments\":[],\"prevResult\":{\"ips\":[]}}", &c, &e), 0);
	assert_int_equal(c.ver, CNI_V040);
	assert_int_equal(c.mtu, 0);
	assert_string_equal(c.data_dir, "/var/lib/cni/veilnet/podnet");
	assert_int_equal(c.n_sets, 1);
	assert_string_equal(vn_addr_str(&c.sets[0].r[0].end, buf), "192.168.7.9");
	assert_non_null(c.attachments);
	assert_non_null(c.prev_result);
	config_free(&c);
	assert_int_equal(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":{\"type\":\"host-local\"}}",
			       &c, &e), 0);
	assert_false(c.ipam_builtin);
	assert_string_equal(c.ipam_type, "host-local");
	config_free(&c);
}

struct bad_case {
	const char *text;
	int code;
	const char *needle;
};

static void rejects(void **state)
{
#define BASE "\"cniVersion\":\"1.1.0\",\"name\":\"n\""
#define R4 "\"ipam\":{\"ranges\":[[{\"subnet\":\"10.0.0.0/24\"}]]}"
	static const struct bad_case cases[] = {
		{ "not json", VN_E_DECODE, "line 1" },
		{ "[1,2]", VN_E_DECODE, "object" },
		{ "{\"cniVersion\":\"1.1.0\",\"cniVersion\":\"1.0.0\"}", VN_E_DECODE, "duplicate" },
		{ "{\"cniVersion\":\"0.2.0\",\"name\":\"n\"," R4 "}", VN_E_INCOMPATIBLE, "0.2.0" },
		{ "{\"name\":\"n\"," R4 "}", VN_E_INVALID, "cniVersion" },
		{ "{\"cniVersion\":\"1.1.0\"," R4 "}", VN_E_INVALID, "name" },
		{ "{\"cniVersion\":\"1.1.0\",\"name\":\"../x\"," R4 "}", VN_E_INVALID, "network name" },
		{ "{" BASE "}", VN_E_INVALID, "ipam" },
		{ "{" BASE ",\"mtu\":\"1400\"," R4 "}", VN_E_INVALID, "mtu" },
		{ "{" BASE ",\"mtu\":20," R4 "}", VN_E_INVALID, "mtu" },
		{ "{" BASE ",\"ipam\":{}}", VN_E_INVALID, "ranges" },
		{ "{" BASE ",\"ipam\":{\"ranges\":[[{\"subnet\":\"10.0.0.0/31\"}]]}}", VN_E_INVALID, "too small" },
		{ "{" BASE ",\"ipam\":{\"ranges\":[[{\"subnet\":\"10.0.0.0/33\"}]]}}", VN_E_INVALID, "subnet" },
		{ "{" BASE ",\"ipam\":{\"ranges\":[[{\"rangeStart\":\"10.0.0.1\"}]]}}", VN_E_INVALID, "subnet" },
		{ "{" BASE ",\"ipam\":{\"ranges\":[[{\"subnet\":\"10.0.0.0/24\",\"rangeStart\":\"10.0.1.1\"}]]}}",
		  VN_E_INVALID, "rangeStart" },
		{ "{" BASE ",\"ipam\":{\"ranges\":[[{\"subnet\":\"10.0.0.0/24\",\"rangeStart\":\"10.0.0.0\"}]]}}",
		  VN_E_INVALID, "network address" },
		{ "{" BASE ",\"ipam\":{\"ranges\":[[{\"subnet\":\"10.0.0.0/24\",\"rangeEnd\":\"10.0.0.255\"}]]}}",
		  VN_E_INVALID, "broadcast" },
		{ "{" BASE ",\"ipam\":{\"ranges\":[[{\"subnet\":\"10.0.0.0/24\",\"rangeStart\":\"10.0.0.9\","
		  "\"rangeEnd\":\"10.0.0.5\"}]]}}", VN_E_INVALID, "after" },
		{ "{" BASE ",\"ipam\":{\"ranges\":[[{\"subnet\":\"10.0.0.0/24\",\"gateway\":\"fd00::1\"}]]}}",
		  VN_E_INVALID, "family" },
		{ "{" BASE ",\"ipam\":{\"ranges\":[[{\"subnet\":\"10.0.0.0/24\"},{\"subnet\":\"fd00::/64\"}]]}}",
		  VN_E_INVALID, "mixes" },
		{ "{" BASE ",\"ipam\":{\"ranges\":[[{\"subnet\":\"10.0.0.0/24\"}],[{\"subnet\":\"10.1.0.0/24\"}]]}}",
		  VN_E_INVALID, "one per family" },
		{ "{" BASE ",\"ipam\":{\"ranges\":[[{\"subnet\":\"10.0.0.0/24\"},{\"subnet\":\"10.0.0.128/25\"}]]}}",
		  VN_E_INVALID, "overlaps" },
		{ "{" BASE ",\"ipam\":{\"ranges\":[[{\"subnet\":\"10.0.0.0/24\"}],[],[]]}}", VN_E_INVALID, "range sets" },
		{ "{" BASE ",\"ipam\":{\"type\":\"../bin/sh\"}}", VN_E_INVALID, "plugin name" },
		{ "{" BASE ",\"ipam\":{\"type\":\"host-local\",\"dataDir\":\"rel\"}}", VN_E_INVALID, "absolute" },
		{ "{" BASE ",\"ipam\":{\"ranges\":[[{\"subnet\":\"10.0.0.0/24\"}]],\"routes\":[{\"gw\":\"1.1.1.1\"}]}}",
		  VN_E_INVALID, "dst" },
		{ "{" BASE "," R4 ",\"dns\":{\"nameservers\":[\"not-an-ip\"]}}", VN_E_INVALID, "nameservers" },
		{ "{" BASE "," R4 ",\"dns\":{\"search\":[1]}}", VN_E_INVALID, "search" },
		{ "{" BASE "," R4 ",\"logLevel\":\"loud\"}", VN_E_INVALID, "logLevel" },
		{ "{" BASE "," R4 ",\"runtimeConfig\":{\"ips\":[\"10.0.0.5\",\"10.0.0.6\"]}}", VN_E_INVALID,
		  "more than one IPv4" },
		{ "{" BASE "," R4 ",\"prevResult\":[]}", VN_E_INVALID, "prevResult" },
		{ "{" BASE "," R4 ",\"cni.dev/valid-attachments\":[{\"containerID\":\"a\"}]}", VN_E_INVALID,
		  "ifname" },
	};
	struct plugin_config c;
	struct vn_err e;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = parse(cases[i].text, &c, &e);

		if (rc != -1 || e.code != cases[i].code || !strstr(e.details, cases[i].needle))
			fail_msg("case %zu (%s): rc %d code %d details \"%s\"", i, cases[i].text, rc,
				 e.code, e.details);
		config_free(&c);
	}
}

static void peek_version(void **state)
{
	char v[32];

	(void)state;
	config_peek_version("{\"cniVersion\":\"0.3.1\"}", 22, v, sizeof(v));
	assert_string_equal(v, "0.3.1");
	config_peek_version("garbage", 7, v, sizeof(v));
	assert_string_equal(v, "");
	config_peek_version(NULL, 0, v, sizeof(v));
	assert_string_equal(v, "");
	assert_int_equal(cni_version_parse("1.0.0"), CNI_V100);
	assert_int_equal(cni_version_parse("1.2.0"), -1);
	assert_string_equal(cni_version_str(CNI_V031), "0.3.1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_config),
		cmocka_unit_test(defaults_and_shorthand),
		cmocka_unit_test(rejects),
		cmocka_unit_test(peek_version),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
