/* Unit tests for cni-test's command line and name parsing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "../../../netns-harness/args.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])) - 1)

static void cni_op_with_every_option(void **state)
{
	char *argv[] = {"cni-test", "add", "--conf", "x.conflist", "--netns-create", "p1",
			"--container-id=c1", "--ifname", "net1", "--args", "A=1;B=2",
			"--cni-path", "/a:/b", "--cache-dir", "/tmp/c", "--prev", "p.json",
			"--runtime-config", "{}", NULL};
	struct cnt_opts o;
	struct vn_err e = {0};

	(void)state;
	assert_int_equal(cnt_args_parse(ARGC(argv), argv, &o, &e), 0);
	assert_int_equal(o.cmd, CNT_ADD);
	assert_string_equal(o.conf, "x.conflist");
	assert_string_equal(o.netns_create, "p1");
	assert_null(o.netns);
	assert_string_equal(o.container_id, "c1");
	assert_string_equal(o.ifname, "net1");
	assert_string_equal(o.cni_args, "A=1;B=2");
	assert_string_equal(o.cni_path, "/a:/b");
	assert_string_equal(o.cache_dir, "/tmp/c");
	assert_string_equal(o.prev, "p.json");
	assert_string_equal(o.runtime_config, "{}");
}

static void runtime_options(void **state)
{
	char *argv[] = {"cni-test", "add", "--conf", "c", "--k8s-pod", "ns1/web", "--pod-uid=u-1",
			"--no-teardown", "-v", NULL};
	char *verbose[] = {"cni-test", "gc", "--conf", "c", "--verbose", NULL};
	struct cnt_opts o;
	struct vn_err e = {0};

	(void)state;
	assert_int_equal(cnt_args_parse(ARGC(argv), argv, &o, &e), 0);
	assert_string_equal(o.k8s_pod, "ns1/web");
	assert_string_equal(o.pod_uid, "u-1");
	assert_true(o.no_teardown);
	assert_true(o.verbose);
	assert_int_equal(cnt_args_parse(ARGC(verbose), verbose, &o, &e), 0);
	assert_true(o.verbose);
	assert_false(o.no_teardown);
	assert_null(o.k8s_pod);
}

static void defaults_and_empty_netns(void **state)
{
	char *argv[] = {"cni-test", "del", "--conf", "c", "--netns", "", NULL};
	struct cnt_opts o;
	struct vn_err e = {0};

	(void)state;
	assert_int_equal(cnt_args_parse(ARGC(argv), argv, &o, &e), 0);
	assert_int_equal(o.cmd, CNT_DEL);
	assert_non_null(o.netns);
	assert_string_equal(o.netns, "");
	assert_string_equal(o.ifname, "eth0");
	assert_null(o.cache_dir);
	assert_null(o.argv);
}

static void bad_command_lines(void **state)
{
	char *no_conf[] = {"cni-test", "add", NULL};
	char *both_ns[] = {"cni-test", "add", "--conf", "c", "--netns", "/x", "--netns-create", "y", NULL};
	char *slash_ns[] = {"cni-test", "add", "--conf", "c", "--netns-create", "a/b", NULL};
	char *unknown[] = {"cni-test", "add", "--conf", "c", "--bogus", NULL};
	char *no_value[] = {"cni-test", "add", "--conf", NULL};
	char *extra_pos[] = {"cni-test", "check", "--conf", "c", "stray", NULL};
	char *nodes0[] = {"cni-test", "cluster", "create", "c1", "--nodes", "0", NULL};
	char *nodes_nan[] = {"cni-test", "cluster", "create", "c1", "--nodes", "3x", NULL};
	char *no_cmd[] = {"cni-test", "pod", "exec", "c1", "a/b", NULL};
	char *empty_cmd[] = {"cni-test", "pod", "exec", "c1", "a/b", "--", NULL};
	char *few_pos[] = {"cni-test", "pod", "add", "c1", "n1", NULL};
	char *unknown_cmd[] = {"cni-test", "frobnicate", NULL};
	char *flag_value[] = {"cni-test", "pod", "list", "c1", "--json=1", NULL};
	char *uid_alone[] = {"cni-test", "add", "--conf", "c", "--pod-uid", "u", NULL};
	char *bad_pod[] = {"cni-test", "add", "--conf", "c", "--k8s-pod", "web", NULL};
	char *bad_pod2[] = {"cni-test", "add", "--conf", "c", "--k8s-pod", "NS/web", NULL};
	char *teardown_value[] = {"cni-test", "add", "--conf", "c", "--no-teardown=1", NULL};
	char **cases[] = {no_conf, both_ns, slash_ns, unknown, no_value, extra_pos, nodes0,
			  nodes_nan, no_cmd, empty_cmd, few_pos, unknown_cmd, flag_value, uid_alone,
			  bad_pod, bad_pod2, teardown_value};
	struct cnt_opts o;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vn_err e = {0};
		int argc = 0;

		while (cases[i][argc])
			argc++;
		assert_int_equal(cnt_args_parse(argc, cases[i], &o, &e), -1);
		assert_int_equal(e.code, VN_E_INVALID);
		assert_true(strlen(e.details) > 0);
	}
}

static void cluster_commands(void **state)
{
	char *create[] = {"cni-test", "cluster", "create", "c1", "--nodes", "3", "--no-routes",
			  "--ipv4-only", "--plugin", "/x/veilnet", NULL};
	char *padd[] = {"cni-test", "pod", "add", "c1", "n2", "ns/p", "--labels", "a=b",
			"--ports", "80/tcp", NULL};
	char *pexec[] = {"cni-test", "pod", "exec", "c1", "ns/p", "--", "ping", "-c1", NULL};
	char *nlabel[] = {"cni-test", "namespace", "label", "c1", "ns", "k=v", "--merge", NULL};
	char *plabel[] = {"cni-test", "pod", "label", "c1", "ns/p", "", NULL};
	char *nexec[] = {"cni-test", "node", "exec", "c1", "ul", "--", "ip", "-br", "a", NULL};
	char *execin[] = {"cni-test", "exec-in", "/run/netns/x", "--", "true", NULL};
	char *pip[] = {"cni-test", "pod", "ip", "c1", "ns/p", "-6", NULL};
	struct cnt_opts o;
	struct vn_err e = {0};

	(void)state;
	assert_int_equal(cnt_args_parse(ARGC(create), create, &o, &e), 0);
	assert_int_equal(o.cmd, CNT_CLUSTER_CREATE);
	assert_string_equal(o.cluster, "c1");
	assert_int_equal(o.nodes, 3);
	assert_true(o.no_routes && o.ipv4_only);
	assert_string_equal(o.plugin, "/x/veilnet");

	assert_int_equal(cnt_args_parse(ARGC(padd), padd, &o, &e), 0);
	assert_int_equal(o.cmd, CNT_POD_ADD);
	assert_string_equal(o.node, "n2");
	assert_string_equal(o.pod, "ns/p");
	assert_string_equal(o.labels, "a=b");
	assert_string_equal(o.ports, "80/tcp");

	assert_int_equal(cnt_args_parse(ARGC(pexec), pexec, &o, &e), 0);
	assert_int_equal(o.cmd, CNT_POD_EXEC);
	assert_string_equal(o.argv[0], "ping");
	assert_string_equal(o.argv[1], "-c1");
	assert_null(o.argv[2]);

	assert_int_equal(cnt_args_parse(ARGC(nlabel), nlabel, &o, &e), 0);
	assert_int_equal(o.cmd, CNT_NS_LABEL);
	assert_string_equal(o.namespace, "ns");
	assert_string_equal(o.labels, "k=v");
	assert_true(o.merge);

	assert_int_equal(cnt_args_parse(ARGC(plabel), plabel, &o, &e), 0);
	assert_int_equal(o.cmd, CNT_POD_LABEL);
	assert_string_equal(o.labels, "");

	assert_int_equal(cnt_args_parse(ARGC(nexec), nexec, &o, &e), 0);
	assert_string_equal(o.node, "ul");
	assert_string_equal(o.argv[2], "a");

	assert_int_equal(cnt_args_parse(ARGC(execin), execin, &o, &e), 0);
	assert_int_equal(o.cmd, CNT_EXEC_IN);
	assert_string_equal(o.netns, "/run/netns/x");

	assert_int_equal(cnt_args_parse(ARGC(pip), pip, &o, &e), 0);
	assert_true(o.ipv6);
}

static void help_and_bench(void **state)
{
	char *none[] = {"cni-test", NULL};
	char *help[] = {"cni-test", "--help", NULL};
	char *bench[] = {"cni-test", "bench", "--conf", "a", "--ref", "b", "--pods", "20", NULL};
	struct cnt_opts o;
	struct vn_err e = {0};

	(void)state;
	assert_int_equal(cnt_args_parse(ARGC(none), none, &o, &e), 0);
	assert_int_equal(o.cmd, CNT_HELP);
	assert_int_equal(cnt_args_parse(ARGC(help), help, &o, &e), 0);
	assert_int_equal(o.cmd, CNT_HELP);
	assert_int_equal(cnt_args_parse(ARGC(bench), bench, &o, &e), 0);
	assert_int_equal(o.cmd, CNT_BENCH);
	assert_int_equal(o.pods, 20);
	assert_int_equal(o.workers, 8);
	assert_string_equal(o.ref_conf, "b");
	assert_string_equal(o.netns_prefix, "vnb");
}

static void pod_names(void **state)
{
	char ns[64], pod[64];
	struct vn_err e = {0};

	(void)state;
	assert_int_equal(cnt_split_pod("kube-system/dns-1", ns, sizeof(ns), pod, sizeof(pod), &e), 0);
	assert_string_equal(ns, "kube-system");
	assert_string_equal(pod, "dns-1");
	assert_int_equal(cnt_split_pod("nopod", ns, sizeof(ns), pod, sizeof(pod), &e), -1);
	assert_int_equal(cnt_split_pod("a/", ns, sizeof(ns), pod, sizeof(pod), &e), -1);
	assert_int_equal(cnt_split_pod("/b", ns, sizeof(ns), pod, sizeof(pod), &e), -1);
	assert_int_equal(cnt_split_pod("A/b", ns, sizeof(ns), pod, sizeof(pod), &e), -1);
	assert_int_equal(cnt_split_pod("a/b/c", ns, sizeof(ns), pod, sizeof(pod), &e), -1);
	assert_int_equal(cnt_split_pod("a/-b", ns, sizeof(ns), pod, sizeof(pod), &e), -1);
	assert_true(cnt_dns_label("a"));
	assert_true(cnt_dns_label("a-0"));
	assert_false(cnt_dns_label(""));
	assert_false(cnt_dns_label("a_b"));
	assert_false(cnt_dns_label("a-"));
	assert_false(cnt_dns_label("0123456789012345678901234567890123456789012345678901234567890123"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cni_op_with_every_option),
		cmocka_unit_test(runtime_options),
		cmocka_unit_test(defaults_and_empty_netns),
		cmocka_unit_test(bad_command_lines),
		cmocka_unit_test(cluster_commands),
		cmocka_unit_test(help_and_bench),
		cmocka_unit_test(pod_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
