/* Unit tests for the cluster state document: nodes and their addresses,
 * conflists, pods, labels, ports and the Kubernetes List; and the bench
 * statistics. No root. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "../../../netns-harness/bench.h"
#include "../../../netns-harness/state.h"

static json_t *cluster(bool ipv6, const char *plugin)
{
	struct cnt_cluster_def d = {"c1", 3, plugin, ipv6, true};

	return cnt_state_new(&d);
}

static const char *str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static void names(void **state)
{
	(void)state;
	assert_true(cnt_cluster_name_ok("vnh-1"));
	assert_false(cnt_cluster_name_ok(""));
	assert_false(cnt_cluster_name_ok("-x"));
	assert_false(cnt_cluster_name_ok("a/b"));
	assert_false(cnt_cluster_name_ok("Upper"));
	assert_false(cnt_cluster_name_ok("abcdefghijklmnopqrstuvwxyz0123456"));
}

static void nodes_and_addresses(void **state)
{
	json_t *st = cluster(true, "/b/veilnet");
	struct cnt_node n;
	struct vn_err e = {0};

	(void)state;
	assert_string_equal(str(st, "name"), "c1");
	assert_string_equal(str(st, "dir"), "/run/cni-test/c1");
	assert_string_equal(str(st, "cniPath"), "/b:/opt/cni/bin:/usr/lib/cni");
	assert_string_equal(str(st, "cacheDir"), "/run/cni-test/c1/cache");
	assert_string_equal(str(json_object_get(st, "underlay"), "netns"), "c1-ul");
	assert_int_equal(json_array_size(json_object_get(st, "nodes")), 3);
	assert_int_equal(cnt_state_node(st, "n2", &n, &e), 0);
	assert_int_equal(n.index, 2);
	assert_string_equal(n.netns, "c1-n2");
	assert_string_equal(n.ip4, "172.30.0.2");
	assert_string_equal(n.ip6, "fd30::2");
	assert_string_equal(n.cidr4, "10.244.2.0/24");
	assert_string_equal(n.cidr6, "fd00:10:244:2::/64");
	assert_string_equal(n.conflist, "/run/cni-test/c1/n2/net.conflist");
	assert_string_equal(n.data_dir, "/run/cni-test/c1/n2/ipam");
	assert_int_equal(cnt_state_node(st, "n4", &n, &e), -1);
	assert_int_equal(e.code, VN_E_UNKNOWN);
	assert_int_equal(cnt_state_node(st, "ul", &n, &e), -1);
	json_decref(st);

	st = cluster(false, "/b/veilnet");
	assert_int_equal(cnt_state_node(st, "n3", &n, &e), 0);
	assert_string_equal(n.ip6, "");
	assert_string_equal(n.cidr6, "");
	assert_null(json_object_get(json_object_get(st, "underlay"), "ip6"));
	json_decref(st);
}

static void conflists(void **state)
{
	json_t *st = cluster(true, "/b/veilnet"), *c, *p, *ranges, *extra;
	struct cnt_node n;
	struct vn_err e = {0};

	(void)state;
	assert_int_equal(cnt_state_node(st, "n1", &n, &e), 0);
	extra = json_pack("{s:i, s:{s:s}}", "mtu", 1400, "ipam", "extra", "x");
	c = cnt_state_conflist(st, &n, extra);
	assert_string_equal(str(c, "cniVersion"), "1.1.0");
	assert_string_equal(str(c, "name"), "c1");
	p = json_array_get(json_object_get(c, "plugins"), 0);
	assert_string_equal(str(p, "type"), "veilnet");
	assert_int_equal(json_integer_value(json_object_get(p, "mtu")), 1400);
	assert_null(json_object_get(json_object_get(p, "ipam"), "type"));
	/* the extra ipam key is merged, the ranges stay */
	assert_string_equal(str(json_object_get(p, "ipam"), "extra"), "x");
	assert_string_equal(str(json_object_get(p, "ipam"), "dataDir"), n.data_dir);
	ranges = json_object_get(json_object_get(p, "ipam"), "ranges");
	assert_int_equal(json_array_size(ranges), 2);
	assert_string_equal(str(json_array_get(json_array_get(ranges, 0), 0), "subnet"), "10.244.1.0/24");
	assert_string_equal(str(json_array_get(json_array_get(ranges, 1), 0), "subnet"),
			    "fd00:10:244:1::/64");
	json_decref(c);
	json_decref(extra);
	json_decref(st);

	st = cluster(false, "/usr/lib/cni/ptp");
	assert_int_equal(cnt_state_node(st, "n3", &n, &e), 0);
	c = cnt_state_conflist(st, &n, NULL);
	assert_string_equal(str(c, "cniVersion"), "1.0.0");
	p = json_array_get(json_object_get(c, "plugins"), 0);
	assert_string_equal(str(p, "type"), "ptp");
	assert_string_equal(str(json_object_get(p, "ipam"), "type"), "host-local");
	assert_int_equal(json_array_size(json_object_get(json_object_get(p, "ipam"), "ranges")), 1);
	assert_int_equal(json_array_size(json_object_get(json_object_get(p, "ipam"), "routes")), 2);
	json_decref(c);
	json_decref(st);
}

static void pods(void **state)
{
	json_t *st = cluster(true, "/b/veilnet"), *rec, *labels, *ports;
	struct vn_err e = {0};

	(void)state;
	labels = cnt_labels_parse("app=web,tier=", false, &e);
	ports = cnt_ports_parse("http=80/tcp,53/udp", &e);
	rec = cnt_state_pod_add(st, "ns-a", "p1", "n2", labels, ports, &e);
	assert_non_null(rec);
	assert_string_equal(str(rec, "netns"), "c1-ns-a-p1");
	assert_string_equal(str(rec, "containerId"), "c1-ns-a-p1");
	assert_string_equal(str(rec, "node"), "n2");
	assert_string_equal(str(rec, "phase"), "Pending");
	assert_string_equal(str(json_object_get(rec, "labels"), "tier"), "");
	assert_non_null(cnt_state_namespace(st, "ns-a", false));
	assert_string_equal(str(json_object_get(cnt_state_namespace(st, "ns-a", false), "labels"),
				"kubernetes.io/metadata.name"), "ns-a");
	assert_ptr_equal(cnt_state_pod(st, "ns-a", "p1"), rec);
	assert_null(cnt_state_pod(st, "ns-a", "p2"));

	/* the same pod twice, or a pod whose netns name is taken */
	assert_null(cnt_state_pod_add(st, "ns-a", "p1", "n1", NULL, NULL, &e));
	assert_null(cnt_state_pod_add(st, "ns", "a-p1", "n1", NULL, NULL, &e));
	assert_non_null(strstr(e.details, "c1-ns-a-p1"));

	assert_non_null(cnt_state_pod_add(st, "ns-b", "p1", "n1", NULL, NULL, &e));
	cnt_state_pod_remove(st, "ns-b", "p1");
	assert_null(cnt_state_pod(st, "ns-b", "p1"));
	cnt_state_pod_remove(st, "ns-b", "p1");
	json_decref(labels);
	json_decref(ports);
	json_decref(st);
}

static void labels_and_ports(void **state)
{
	struct vn_err e = {0};
	json_t *l, *obj = json_object(), *p;

	(void)state;
	l = cnt_labels_parse("", false, &e);
	assert_int_equal(json_object_size(l), 0);
	json_decref(l);
	l = cnt_labels_parse("kubernetes.io/metadata.name=x,a=1", false, &e);
	assert_string_equal(str(l, "kubernetes.io/metadata.name"), "x");
	json_decref(l);
	assert_null(cnt_labels_parse("a", false, &e));
	assert_null(cnt_labels_parse("=v", false, &e));
	assert_null(cnt_labels_parse("a-", false, &e));

	/* replace, then merge with a removal */
	l = cnt_labels_parse("a=1,b=2", false, &e);
	cnt_state_set_labels(obj, l, false);
	json_decref(l);
	l = cnt_labels_parse("c=3", false, &e);
	cnt_state_set_labels(obj, l, false);
	json_decref(l);
	assert_int_equal(json_object_size(json_object_get(obj, "labels")), 1);
	l = cnt_labels_parse("c-,d=4", true, &e);
	assert_true(json_is_null(json_object_get(l, "c")));
	cnt_state_set_labels(obj, l, true);
	json_decref(l);
	assert_null(json_object_get(json_object_get(obj, "labels"), "c"));
	assert_string_equal(str(json_object_get(obj, "labels"), "d"), "4");
	json_decref(obj);

	p = cnt_ports_parse("serve-80-tcp=80/TCP,81/udp,82,serve-83-sctp=83/sctp", &e);
	assert_int_equal(json_array_size(p), 4);
	assert_string_equal(str(json_array_get(p, 0), "name"), "serve-80-tcp");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(p, 0), "containerPort")), 80);
	assert_string_equal(str(json_array_get(p, 1), "protocol"), "UDP");
	assert_null(json_object_get(json_array_get(p, 1), "name"));
	assert_string_equal(str(json_array_get(p, 2), "protocol"), "TCP");
	assert_string_equal(str(json_array_get(p, 3), "protocol"), "SCTP");
	json_decref(p);
	assert_null(cnt_ports_parse("0/tcp", &e));
	assert_null(cnt_ports_parse("65536", &e));
	assert_null(cnt_ports_parse("80/icmp", &e));
	assert_null(cnt_ports_parse("=80", &e));
	assert_null(cnt_ports_parse("x=", &e));
}

static void kubernetes_list(void **state)
{
	json_t *st = cluster(true, "/b/veilnet"), *rec, *list, *items, *ns, *pod, *labels;
	struct vn_err e = {0};

	(void)state;
	labels = cnt_labels_parse("app=web", false, &e);
	rec = cnt_state_pod_add(st, "x", "a", "n3", labels, NULL, &e);
	json_object_set_new(rec, "ip4", json_string("10.244.3.2"));
	json_object_set_new(rec, "ip6", json_string("fd00:10:244:3::2"));
	json_object_set_new(rec, "phase", json_string("Running"));
	assert_non_null(cnt_state_pod_add(st, "y", "b", "n1", NULL, NULL, &e));
	cnt_state_set_labels(cnt_state_namespace(st, "x", false), labels, true);
	list = cnt_state_k8s_list(st);
	assert_string_equal(str(list, "apiVersion"), "v1");
	assert_string_equal(str(list, "kind"), "List");
	items = json_object_get(list, "items");
	assert_int_equal(json_array_size(items), 4);
	ns = json_array_get(items, 0);
	assert_string_equal(str(ns, "kind"), "Namespace");
	assert_string_equal(str(json_object_get(ns, "metadata"), "name"), "x");
	assert_string_equal(str(json_object_get(json_object_get(ns, "metadata"), "labels"), "app"), "web");
	assert_string_equal(str(json_object_get(json_object_get(ns, "metadata"), "labels"),
				"kubernetes.io/metadata.name"), "x");
	pod = json_array_get(items, 2);
	assert_string_equal(str(pod, "kind"), "Pod");
	assert_string_equal(str(json_object_get(pod, "metadata"), "name"), "a");
	assert_string_equal(str(json_object_get(pod, "metadata"), "namespace"), "x");
	assert_string_equal(str(json_object_get(json_object_get(pod, "metadata"), "labels"), "app"), "web");
	assert_string_equal(str(json_object_get(pod, "spec"), "nodeName"), "n3");
	assert_string_equal(str(json_object_get(pod, "status"), "podIP"), "10.244.3.2");
	assert_string_equal(str(json_object_get(pod, "status"), "hostIP"), "172.30.0.3");
	assert_string_equal(str(json_object_get(pod, "status"), "phase"), "Running");
	assert_string_equal(str(json_array_get(json_object_get(json_object_get(pod, "status"), "podIPs"), 1),
				"ip"), "fd00:10:244:3::2");
	/* a pod without addresses yet has no podIP */
	pod = json_array_get(items, 3);
	assert_null(json_object_get(json_object_get(pod, "status"), "podIP"));
	assert_int_equal(json_array_size(json_object_get(json_object_get(pod, "status"), "podIPs")), 0);
	json_decref(list);
	json_decref(labels);
	json_decref(st);
}

static void stats(void **state)
{
	uint64_t odd[] = {5000000, 1000000, 3000000};
	uint64_t even[] = {4000000, 1000000, 2000000, 3000000};
	uint64_t many[200];
	struct cnt_stats s;

	(void)state;
	cnt_stats_of(odd, 3, &s);
	assert_true(s.median_ms > 2.999 && s.median_ms < 3.001);
	assert_true(s.p99_ms > 4.999 && s.p99_ms < 5.001);
	cnt_stats_of(even, 4, &s);
	assert_true(s.median_ms > 2.499 && s.median_ms < 2.501);
	for (int i = 0; i < 200; i++)
		many[i] = (uint64_t)(200 - i) * 1000000;	/* 1..200 ms */
	cnt_stats_of(many, 200, &s);
	assert_true(s.median_ms > 100.499 && s.median_ms < 100.501);
	assert_true(s.p99_ms > 197.999 && s.p99_ms < 198.001);
	cnt_stats_of(many, 0, &s);
	assert_true(s.median_ms == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names),
		cmocka_unit_test(nodes_and_addresses),
		cmocka_unit_test(conflists),
		cmocka_unit_test(pods),
		cmocka_unit_test(labels_and_ports),
		cmocka_unit_test(kubernetes_list),
		cmocka_unit_test(stats),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
