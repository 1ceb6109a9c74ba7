/* Unit tests: CNI_ARGS parsing, CNI_* environment validation, host names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../../plugin/cniargs.h"
#include "../../../plugin/env.h"
#include "../../../plugin/name.h"

static void args_known_keys(void **state)
{
	struct cni_args a;
	struct vn_err e = { 0 };
	char buf[VN_ADDR_STRLEN];

	(void)state;
	assert_int_equal(cni_args_parse("IgnoreUnknown=1;K8S_POD_NAMESPACE=prod;K8S_POD_NAME=web-0;"
					"K8S_POD_INFRA_CONTAINER_ID=abc;FOO=bar;K8S_POD_UID=u1",
					&a, &e), 0);
	assert_string_equal(a.pod_namespace, "prod");
	assert_string_equal(a.pod_name, "web-0");
	assert_string_equal(a.infra_container_id, "abc");
	assert_string_equal(a.pod_uid, "u1");
	assert_int_equal(a.n_ips, 0);
	cni_args_free(&a);
	assert_int_equal(cni_args_parse("IP=10.1.2.3,fd00::7/64;;", &a, &e), 0);
	assert_int_equal(a.n_ips, 2);
	assert_string_equal(vn_addr_str(&a.ips[0], buf), "10.1.2.3");
	assert_string_equal(vn_addr_str(&a.ips[1], buf), "fd00::7");
	assert_null(a.pod_namespace);
	cni_args_free(&a);
	assert_int_equal(cni_args_parse(NULL, &a, &e), 0);
	cni_args_free(&a);
	assert_int_equal(cni_args_parse("", &a, &e), 0);
	cni_args_free(&a);
	assert_int_equal(cni_args_parse("K8S_POD_NAME=", &a, &e), 0);
	assert_string_equal(a.pod_name, "");
	cni_args_free(&a);
}

static void args_errors(void **state)
{
	static const char *const bad[] = {
		"K8S_POD_NAME", "=x", "IP=10.0.0.1,10.0.0.2", "IP=300.1.1.1", "IP=1.2.3.4;IP=1.2.3.5",
		"K8S_POD_NAMESPACE=a;K8S_POD_NAMESPACE=b", "IP=hello",
	};
	struct cni_args a;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vn_err e = { 0 };

		assert_int_equal(cni_args_parse(bad[i], &a, &e), -1);
		assert_int_equal(e.code, VN_E_ENV);
		assert_non_null(strstr(e.details, "CNI_ARGS"));
		cni_args_free(&a);
	}
}

/* A fake environment for cni_env_load. */
static const char *const *fake_env;

static const char *fake_get(const char *name)
{
	size_t n = strlen(name);

	for (const char *const *p = fake_env; *p; p++)
		if (strncmp(*p, name, n) == 0 && (*p)[n] == '=')
			return *p + n + 1;
	return NULL;
}

static int load(const char *const *vars, struct cni_env *env, struct vn_err *e)
{
	fake_env = vars;
	memset(e, 0, sizeof(*e));
	return cni_env_load(env, fake_get, e);
}

static void env_validation(void **state)
{
	static const char *const add_ok[] = { "CNI_COMMAND=ADD", "CNI_CONTAINERID=abc-1.x_y",
		"CNI_NETNS=/run/netns/p", "CNI_IFNAME=eth0", "CNI_ARGS=", "CNI_PATH=", NULL };
	static const char *const add_bad[] = { "CNI_COMMAND=ADD", "CNI_CONTAINERID=",
		"CNI_NETNS=", "CNI_IFNAME=a/b", NULL };
	static const char *const del_no_netns[] = { "CNI_COMMAND=DEL", "CNI_CONTAINERID=c",
		"CNI_NETNS=", "CNI_IFNAME=eth0", NULL };
	static const char *const version[] = { "CNI_COMMAND=VERSION", NULL };
	static const char *const unknown[] = { "CNI_COMMAND=FROB", NULL };
	static const char *const none[] = { NULL };
	static const char *const bad_id[] = { "CNI_COMMAND=CHECK", "CNI_CONTAINERID=-x",
		"CNI_NETNS=/x", "CNI_IFNAME=0123456789abcdef", NULL };
	struct cni_env env;
	struct vn_err e;

	(void)state;
	assert_int_equal(load(add_ok, &env, &e), 0);
	assert_int_equal(env.cmd, CMD_ADD);
	assert_null(env.args);	/* empty counts as unset */
	assert_null(env.path);
	assert_int_equal(load(add_bad, &env, &e), -1);
	assert_int_equal(e.code, VN_E_ENV);
	assert_non_null(strstr(e.details, "CNI_CONTAINERID"));
	assert_non_null(strstr(e.details, "CNI_NETNS"));
	assert_non_null(strstr(e.details, "CNI_IFNAME"));
	assert_int_equal(load(del_no_netns, &env, &e), 0);
	assert_null(env.netns);
	assert_int_equal(load(version, &env, &e), 0);
	assert_int_equal(env.cmd, CMD_VERSION);
	assert_int_equal(load(unknown, &env, &e), -1);
	assert_non_null(strstr(e.details, "CNI_COMMAND"));
	assert_int_equal(load(none, &env, &e), -1);
	assert_int_equal(e.code, VN_E_ENV);
	assert_int_equal(load(bad_id, &env, &e), -1);
	assert_non_null(strstr(e.details, "CNI_CONTAINERID"));
	assert_non_null(strstr(e.details, "CNI_IFNAME"));
	assert_null(strstr(e.details, "CNI_NETNS"));
	assert_false(cni_valid_ifname("."));
	assert_false(cni_valid_ifname("a b"));
	assert_false(cni_valid_ifname("a:b"));
	assert_true(cni_valid_ifname("net1"));
}

static void host_names(void **state)
{
	char a[16], b[16], c[16];

	(void)state;
	name_host_ifname("0123456789abcdef", "eth0", a);
	name_host_ifname("0123456789abcdef", "eth0", b);
	name_host_ifname("0123456789abcdef", "eth1", c);
	assert_int_equal(strlen(a), 15);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_memory_equal(a, "vn", 2);
	assert_true(name_is_host_ifname(a));
	assert_false(name_is_host_ifname("vnp-node"));
	/* FNV-1a 64 of "a/b" is 0x... : check against an independent computation */
	{
		uint64_t h = 0xcbf29ce484222325ULL;
		const char *s = "c1/eth0";
		char want[16];

		for (; *s; s++) {
			h ^= (unsigned char)*s;
			h *= 0x100000001b3ULL;
		}
		snprintf(want, sizeof(want), "vn%013llx", (unsigned long long)(h >> 12));
		name_host_ifname("c1", "eth0", a);
		assert_string_equal(a, want);
	}
	assert_false(name_is_host_ifname("vnx0102030405ff"));	/* 'x' is not hex */
	assert_false(name_is_host_ifname("vn0102030405f"));	/* too short */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(args_known_keys),
		cmocka_unit_test(args_errors),
		cmocka_unit_test(env_validation),
		cmocka_unit_test(host_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
