/* Unit tests for overlay mesh parsing: NodeList, Node, VeilnetMesh file,
 * and errors that name the node and the field. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "../../../overlay/mesh.h"

#define K1 "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo="
#define K2 "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo="

static const char nodelist[] =
	"{\"kind\":\"NodeList\",\"apiVersion\":\"v1\",\"items\":["
	"{\"kind\":\"Node\",\"metadata\":{\"name\":\"n1\",\"annotations\":{"
	"\"veilnet.dev/wireguard-public-key\":\"" K1 "\",\"other\":\"x\"}},"
	"\"spec\":{\"podCIDR\":\"10.244.1.0/24\",\"podCIDRs\":[\"10.244.1.0/24\",\"fd00:10:244:1::/64\"]},"
	"\"status\":{\"addresses\":[{\"type\":\"Hostname\",\"address\":\"n1\"},"
	"{\"type\":\"InternalIP\",\"address\":\"172.30.0.1\"},{\"type\":\"InternalIP\",\"address\":\"fd30::1\"}]}},"
	"{\"metadata\":{\"name\":\"n2\",\"annotations\":{"
	"\"veilnet.dev/wireguard-public-key\":\"" K2 "\",\"veilnet.dev/wireguard-port\":\"51999\"}},"
	"\"spec\":{\"podCIDR\":\"10.244.2.7/24\"},"
	"\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"fd30::2\"}]}},"
	"{\"metadata\":{\"name\":\"n3\"},\"spec\":{},\"status\":{}}"
	"]}";

static void parses_nodelist(void **state)
{
	struct vn_err e = { 0 };
	const struct mesh_node *n;
	char buf[VN_PREFIX_STRLEN], a[VN_ADDR_STRLEN], b64[WG_KEY_B64_LEN];
	struct mesh m;

	(void)state;
	mesh_init(&m);
	assert_int_equal(mesh_parse(nodelist, strlen(nodelist), &m, &e), 0);
	assert_int_equal(m.n, 3);
	n = mesh_find(&m, "n1");
	assert_non_null(n);
	assert_true(n->has_key);
	assert_string_equal(wg_key_to_base64(&n->public_key, b64), K1);
	assert_int_equal(n->n_pod_cidrs, 2);
	assert_string_equal(vn_prefix_str(&n->pod_cidrs[0], buf), "10.244.1.0/24");
	assert_string_equal(vn_prefix_str(&n->pod_cidrs[1], buf), "fd00:10:244:1::/64");
	assert_true(n->has_address);
	assert_string_equal(vn_addr_str(&n->address, a), "172.30.0.1");	/* the first InternalIP */
	assert_int_equal(mesh_node_port(&m, n), 51820);
	n = mesh_find(&m, "n2");
	assert_int_equal(mesh_node_port(&m, n), 51999);
	assert_int_equal(n->n_pod_cidrs, 1);	/* podCIDR alone, made canonical */
	assert_string_equal(vn_prefix_str(&n->pod_cidrs[0], buf), "10.244.2.0/24");
	assert_string_equal(vn_addr_str(&n->address, a), "fd30::2");
	n = mesh_find(&m, "n3");
	assert_false(n->has_key);
	assert_false(n->has_address);
	assert_int_equal(n->n_pod_cidrs, 0);
	assert_null(mesh_find(&m, "n4"));
	mesh_free(&m);
}

static void parses_mesh_file_and_node(void **state)
{
	static const char file[] =
		"{\"kind\":\"VeilnetMesh\",\"apiVersion\":\"veilnet.dev/v1\",\"defaultPort\":51000,"
		"\"nodes\":[{\"name\":\"a\",\"address\":\"192.0.2.1\",\"publicKey\":\"" K1 "\","
		"\"podCIDRs\":[\"10.1.0.0/16\"]},{\"name\":\"b\",\"port\":4242}],"
		"\"clusterCIDRs\":[\"10.0.0.0/8\",\"fd00:10:244:7::1/48\"]}";
	static const char node[] =
		"{\"kind\":\"Node\",\"metadata\":{\"name\":\"solo\"},\"spec\":{\"podCIDRs\":[\"10.9.0.0/24\"]}}";
	char buf[VN_PREFIX_STRLEN];
	struct vn_err e = { 0 };
	struct mesh m;

	(void)state;
	mesh_init(&m);
	assert_int_equal(mesh_parse(file, strlen(file), &m, &e), 0);
	assert_int_equal(m.n, 2);
	assert_int_equal(mesh_node_port(&m, mesh_find(&m, "a")), 51000);
	assert_int_equal(mesh_node_port(&m, mesh_find(&m, "b")), 4242);
	assert_true(mesh_find(&m, "a")->has_key);
	assert_false(mesh_find(&m, "b")->has_address);
	assert_int_equal(m.n_cluster_cidrs, 2);
	assert_string_equal(vn_prefix_str(&m.cluster_cidrs[1], buf), "fd00:10:244::/48");
	mesh_free(&m);
	assert_int_equal(m.n_cluster_cidrs, 2);	/* kept, like the default port */
	mesh_init(&m);
	assert_int_equal(mesh_parse(node, strlen(node), &m, &e), 0);
	assert_int_equal(m.n, 1);
	assert_int_equal(mesh_find(&m, "solo")->n_pod_cidrs, 1);
	mesh_free(&m);
}

/* Parses text, expects an error whose details contain every needle. */
static void expect_error(const char *text, const char *needle1, const char *needle2)
{
	struct vn_err e = { 0 };
	struct mesh m;

	mesh_init(&m);
	assert_int_equal(mesh_parse(text, strlen(text), &m, &e), -1);
	if (!strstr(e.details, needle1) || (needle2 && !strstr(e.details, needle2)))
		fail_msg("error \"%s\" lacks \"%s\" / \"%s\"", e.details, needle1,
			 needle2 ? needle2 : "");
	mesh_free(&m);
}

static void errors_name_node_and_field(void **state)
{
	(void)state;
	expect_error("{\"items\":[{\"metadata\":{\"name\":\"n2\"},\"spec\":{\"podCIDRs\":[\"10.0.0.0/8\",\"10.244.x\"]}}]}",
		     "node \"n2\"", "spec.podCIDRs[1]");
	expect_error("{\"items\":[{\"metadata\":{\"name\":\"n7\",\"annotations\":{"
		     "\"veilnet.dev/wireguard-public-key\":\"short\"}}}]}",
		     "node \"n7\"", "veilnet.dev/wireguard-public-key");
	expect_error("{\"items\":[{\"metadata\":{\"name\":\"n7\",\"annotations\":{"
		     "\"veilnet.dev/wireguard-port\":\"70000\"}}}]}",
		     "node \"n7\"", "veilnet.dev/wireguard-port");
	expect_error("{\"items\":[{\"metadata\":{\"name\":\"n8\"},\"status\":{\"addresses\":"
		     "[{\"type\":\"InternalIP\",\"address\":\"300.1.1.1\"}]}}]}",
		     "node \"n8\"", "status.addresses[0].address");
	expect_error("{\"items\":[{\"metadata\":{\"name\":\"ok\"}},{\"metadata\":{}}]}",
		     "items[1]", "metadata.name");
	expect_error("{\"items\":[{\"metadata\":{\"name\":\"d\"}},{\"metadata\":{\"name\":\"d\"}}]}",
		     "node \"d\" is listed twice", NULL);
	expect_error("{\"items\":[{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"}}]}", "items[0]", "kind");
	expect_error("{\"items\":[{\"metadata\":{\"name\":\"s\"},\"spec\":{\"podCIDRs\":\"10.0.0.0/8\"}}]}",
		     "node \"s\"", "spec.podCIDRs");
	expect_error("{\"nodes\":[{\"name\":\"f\",\"address\":\"nope\"}]}", "node \"f\"", "address");
	expect_error("{\"nodes\":[{\"name\":\"f\",\"podCIDRs\":[1]}]}", "node \"f\"", "podCIDRs[0]");
	expect_error("{\"nodes\":[{\"name\":\"f\",\"port\":0}]}", "node \"f\"", "port");
	expect_error("{\"nodes\":[{\"port\":1}]}", "nodes[0]", "name");
	expect_error("{\"nodes\":[],\"defaultPort\":\"x\"}", "defaultPort", NULL);
	expect_error("{\"nodes\":[],\"clusterCIDRs\":[\"10.244.0.0/16\",\"10.244/x\"]}",
		     "clusterCIDRs[1]", "not an IP prefix");
	expect_error("{\"nodes\":[],\"clusterCIDRs\":\"10.244.0.0/16\"}", "clusterCIDRs", "array");
	expect_error("{\"something\":1}", "expected a NodeList", NULL);
	expect_error("[1,2]", "expected a JSON object", NULL);
	expect_error("{\"items\":[", "line", NULL);
}

/* Annotation values as people write them: a key pasted with a newline
 * (a YAML block scalar), a port with spaces. Whitespace around the value
 * is not part of it; inside it, or a wrong key, is an error naming both. */
static void annotations_with_whitespace(void **state)
{
	static const char list[] =
		"{\"items\":[{\"metadata\":{\"name\":\"n1\",\"annotations\":{"
		"\"veilnet.dev/wireguard-public-key\":\" " K1 "\\n\","
		"\"veilnet.dev/wireguard-port\":\"\\t51999 \"}}}]}";
	char b64[WG_KEY_B64_LEN];
	struct vn_err e = { 0 };
	struct mesh m;

	(void)state;
	mesh_init(&m);
	assert_int_equal(mesh_parse(list, strlen(list), &m, &e), 0);
	assert_true(mesh_find(&m, "n1")->has_key);
	assert_string_equal(wg_key_to_base64(&mesh_find(&m, "n1")->public_key, b64), K1);
	assert_int_equal(mesh_node_port(&m, mesh_find(&m, "n1")), 51999);
	mesh_free(&m);
	expect_error("{\"items\":[{\"metadata\":{\"name\":\"n5\",\"annotations\":{"
		     "\"veilnet.dev/wireguard-public-key\":\"hSDwCYkwp1R0i33ctD73Wg2/Og0m OBr066SpjqqbTmo=\"}}}]}",
		     "node \"n5\"", "metadata.annotations[\"veilnet.dev/wireguard-public-key\"]");
	expect_error("{\"items\":[{\"metadata\":{\"name\":\"n6\",\"annotations\":{"
		     "\"veilnet.dev/wireguard-port\":\"51 820\"}}}]}",
		     "node \"n6\"", "metadata.annotations[\"veilnet.dev/wireguard-port\"]");
	expect_error("{\"items\":[{\"metadata\":{\"name\":\"n6\",\"annotations\":{"
		     "\"veilnet.dev/wireguard-port\":\"+51820\"}}}]}", "node \"n6\"", "not a port");
}

/* status.addresses as clusters have them: ExternalIP only (no InternalIP)
 * is the address; a Hostname never is; InternalIP wins over ExternalIP. */
static void underlay_address_types(void **state)
{
	static const char list[] =
		"{\"kind\":\"NodeList\",\"items\":["
		"{\"metadata\":{\"name\":\"ext\"},\"status\":{\"addresses\":["
		"{\"type\":\"Hostname\",\"address\":\"ext\"},{\"type\":\"ExternalIP\",\"address\":\"203.0.113.7\"}]}},"
		"{\"metadata\":{\"name\":\"host\"},\"status\":{\"addresses\":["
		"{\"type\":\"Hostname\",\"address\":\"host.example\"}]}},"
		"{\"metadata\":{\"name\":\"both\"},\"status\":{\"addresses\":["
		"{\"type\":\"ExternalIP\",\"address\":\"203.0.113.8\"},{\"type\":\"InternalIP\",\"address\":\"10.0.0.8\"}]}}]}";
	char a[VN_ADDR_STRLEN];
	struct vn_err e = { 0 };
	struct mesh m;

	(void)state;
	mesh_init(&m);
	assert_int_equal(mesh_parse(list, strlen(list), &m, &e), 0);
	assert_true(mesh_find(&m, "ext")->has_address);
	assert_string_equal(vn_addr_str(&mesh_find(&m, "ext")->address, a), "203.0.113.7");
	assert_false(mesh_find(&m, "host")->has_address);
	assert_string_equal(vn_addr_str(&mesh_find(&m, "both")->address, a), "10.0.0.8");
	mesh_free(&m);
	expect_error("{\"items\":[{\"metadata\":{\"name\":\"x\"},\"status\":{\"addresses\":"
		     "[{\"type\":\"ExternalIP\",\"address\":\"nope\"}]}}]}",
		     "node \"x\"", "status.addresses[0].address");
}

static void upsert_and_remove(void **state)
{
	struct mesh_node n = { .name = "x", .n_pod_cidrs = 1 };
	struct vn_err e = { 0 };
	bool changed;
	struct mesh m;

	(void)state;
	mesh_init(&m);
	vn_prefix_parse("10.0.0.0/24", &n.pod_cidrs[0]);
	assert_int_equal(mesh_upsert(&m, &n, &changed, &e), 0);
	assert_true(changed);
	assert_int_equal(mesh_upsert(&m, &n, &changed, &e), 0);
	assert_false(changed);
	n.port = 9;
	assert_int_equal(mesh_upsert(&m, &n, &changed, &e), 0);
	assert_true(changed);
	assert_int_equal(m.n, 1);
	assert_true(mesh_remove(&m, "x"));
	assert_false(mesh_remove(&m, "x"));
	assert_int_equal(m.n, 0);
	mesh_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_nodelist),
		cmocka_unit_test(parses_mesh_file_and_node),
		cmocka_unit_test(errors_name_node_and_field),
		cmocka_unit_test(upsert_and_remove),
		cmocka_unit_test(annotations_with_whitespace),
		cmocka_unit_test(underlay_address_types),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
