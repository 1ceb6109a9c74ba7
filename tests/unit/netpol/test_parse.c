/* Parsing Kubernetes JSON: defaulting as the API server does, validation
 * errors that name the object and the field, lists, watch events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>
#include "parse.h"

static int load(struct np_world *w, const char *text, struct vn_err *e)
{
	memset(e, 0, sizeof(*e));
	return np_load_text(w, text, strlen(text), "test", e);
}

static const struct np_policy *policy(const struct np_world *w, const char *name)
{
	for (size_t i = 0; i < w->n_pols; i++)
		if (!strcmp(w->pols[i].name, name))
			return &w->pols[i];
	fail_msg("no policy %s", name);
	return NULL;
}

#define POL(name, spec) \
	"{\"kind\":\"NetworkPolicy\",\"apiVersion\":\"networking.k8s.io/v1\"," \
	"\"metadata\":{\"name\":\"" name "\",\"namespace\":\"x\"},\"spec\":" spec "}"

static void test_policy_types_default(void **state)
{
	struct np_world w = { 0 };
	struct vn_err e;

	(void)state;
	assert_int_equal(load(&w, "{\"kind\":\"List\",\"items\":["
			      POL("only-in", "{\"podSelector\":{}}") ","
			      POL("with-eg", "{\"podSelector\":{},\"egress\":[{}]}") ","
			      POL("empty-eg", "{\"podSelector\":{},\"egress\":[]}") ","
			      POL("explicit", "{\"podSelector\":{},\"policyTypes\":[\"Egress\"],"
				  "\"ingress\":[{}]}")
			      "]}", &e), 0);
	assert_int_equal(w.n_pols, 4);
	assert_true(policy(&w, "only-in")->types[NP_INGRESS]);
	assert_false(policy(&w, "only-in")->types[NP_EGRESS]);
	assert_true(policy(&w, "with-eg")->types[NP_INGRESS]);
	assert_true(policy(&w, "with-eg")->types[NP_EGRESS]);
	/* The API server adds Egress only for a non-empty egress list. */
	assert_false(policy(&w, "empty-eg")->types[NP_EGRESS]);
	assert_false(policy(&w, "explicit")->types[NP_INGRESS]);
	assert_true(policy(&w, "explicit")->types[NP_EGRESS]);
	np_world_free(&w);
}

static void test_rule_defaults(void **state)
{
	struct np_world w = { 0 };
	const struct np_policy *p;
	struct vn_err e;

	(void)state;
	assert_int_equal(load(&w, POL("p", "{\"podSelector\":{\"matchLabels\":{\"pod\":\"a\"}},"
				  "\"ingress\":[{\"from\":[],\"ports\":[{}]},"
				  "{\"ports\":[{\"port\":80},{\"protocol\":\"UDP\",\"port\":\"dns\"},"
				  "{\"protocol\":\"SCTP\",\"port\":100,\"endPort\":200}]},"
				  "{\"from\":[{\"namespaceSelector\":{}}]}]}"), &e), 0);
	p = policy(&w, "p");
	assert_int_equal(p->n_rules[NP_INGRESS], 3);
	/* from: [] is every peer; ports: [{}] is every TCP port. */
	assert_int_equal(p->rules[NP_INGRESS][0].n_peers, 0);
	assert_int_equal(p->rules[NP_INGRESS][0].n_ports, 1);
	assert_int_equal(p->rules[NP_INGRESS][0].ports[0].proto, NP_TCP);
	assert_int_equal(p->rules[NP_INGRESS][0].ports[0].kind, NP_PORT_ANY);
	assert_int_equal(p->rules[NP_INGRESS][1].ports[0].proto, NP_TCP);
	assert_int_equal(p->rules[NP_INGRESS][1].ports[0].port, 80);
	assert_int_equal(p->rules[NP_INGRESS][1].ports[0].end_port, 80);
	assert_int_equal(p->rules[NP_INGRESS][1].ports[1].kind, NP_PORT_NAME);
	assert_string_equal(p->rules[NP_INGRESS][1].ports[1].name, "dns");
	assert_int_equal(p->rules[NP_INGRESS][1].ports[1].proto, NP_UDP);
	assert_int_equal(p->rules[NP_INGRESS][1].ports[2].end_port, 200);
	assert_int_equal(p->rules[NP_INGRESS][1].n_peers, 0);
	assert_true(p->rules[NP_INGRESS][2].peers[0].has_ns_sel);
	assert_false(p->rules[NP_INGRESS][2].peers[0].has_pod_sel);
	np_world_free(&w);
}

static void test_pods_and_namespaces(void **state)
{
	struct np_world w = { 0 };
	const struct np_pod *p;
	struct vn_err e;

	(void)state;
	assert_int_equal(load(&w,
		"{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"x\",\"labels\":"
		"{\"kubernetes.io/metadata.name\":\"wrong\",\"team\":\"a\"}}}\n"
		"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\",\"namespace\":\"x\","
		"\"labels\":{\"app\":\"web\"}},\"spec\":{\"nodeName\":\"n1\",\"containers\":["
		"{\"name\":\"c\",\"ports\":[{\"name\":\"http\",\"containerPort\":8080},"
		"{\"containerPort\":53,\"protocol\":\"UDP\"}]}]},"
		"\"status\":{\"podIP\":\"10.0.0.1\",\"podIPs\":[{\"ip\":\"10.0.0.1\"},"
		"{\"ip\":\"fd00::1\"}]}}\n"
		"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"h\",\"namespace\":\"x\"},"
		"\"spec\":{\"hostNetwork\":true},\"status\":{\"podIP\":\"172.30.0.1\"}}\n"
		"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"done\",\"namespace\":\"x\"},"
		"\"status\":{\"phase\":\"Succeeded\",\"podIP\":\"10.0.0.9\"}}\n"
		"{\"kind\":\"Service\",\"metadata\":{\"name\":\"s\",\"namespace\":\"x\"}}",
		&e), 0);
	assert_int_equal(w.n_nss, 1);
	assert_string_equal(np_labels_get(&w.nss[0].labels, NP_NS_LABEL), "x");
	assert_string_equal(np_labels_get(&w.nss[0].labels, "team"), "a");
	/* hostNetwork and finished pods take no part; Services are ignored. */
	assert_int_equal(w.n_pods, 1);
	p = &w.pods[0];
	assert_string_equal(p->node, "n1");
	assert_int_equal(p->n_ips, 2);
	assert_int_equal(p->ips[1].family, AF_INET6);
	assert_int_equal(p->n_ports, 2);
	assert_string_equal(p->ports[0].name, "http");
	assert_int_equal(p->ports[0].proto, NP_TCP);
	assert_null(p->ports[1].name);
	assert_int_equal(p->ports[1].proto, NP_UDP);
	np_world_free(&w);
}

struct bad {
	const char *json;
	const char *error;
};

static const struct bad bads[] = {
	{ POL("allow", "{\"ingress\":[{\"from\":[{\"podSelector\":{}},{\"ipBlock\":"
		       "{\"cidr\":\"10.0.0/8\"}}]}]}"),
	  "NetworkPolicy x/allow: spec.ingress[0].from[1].ipBlock.cidr: \"10.0.0/8\" is not a CIDR" },
	{ POL("p", "{\"egress\":[{\"to\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/8\","
		   "\"except\":[\"11.0.0.0/16\"]}}]}]}"),
	  "NetworkPolicy x/p: spec.egress[0].to[0].ipBlock.except[0]: must be a strict subset of cidr" },
	{ POL("p", "{\"podSelector\":{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Is\"}]}}"),
	  "NetworkPolicy x/p: spec.podSelector.matchExpressions[0]: operator: \"Is\" is not one of In, "
	  "NotIn, Exists, DoesNotExist" },
	{ POL("p", "{\"podSelector\":{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\"}]}}"),
	  "NetworkPolicy x/p: spec.podSelector.matchExpressions[0]: values: must be non-empty when "
	  "operator is In" },
	{ POL("p", "{\"ingress\":[{\"ports\":[{\"endPort\":90}]}]}"),
	  "NetworkPolicy x/p: spec.ingress[0].ports[0]: endPort: may only be given with a numeric port" },
	{ POL("p", "{\"ingress\":[{\"ports\":[{\"port\":90,\"endPort\":80}]}]}"),
	  "NetworkPolicy x/p: spec.ingress[0].ports[0]: endPort: 80 must be between port (90) and 65535" },
	{ POL("p", "{\"ingress\":[{\"ports\":[{\"port\":\"80\"}]}]}"),
	  "NetworkPolicy x/p: spec.ingress[0].ports[0]: port: \"80\" is not a valid port name "
	  "(IANA_SVC_NAME)" },
	{ POL("p", "{\"ingress\":[{\"ports\":[{\"protocol\":\"ICMP\"}]}]}"),
	  "NetworkPolicy x/p: spec.ingress[0].ports[0]: protocol: \"ICMP\" is not one of TCP, UDP, SCTP" },
	{ POL("p", "{\"ingress\":[{\"from\":[{}]}]}"),
	  "NetworkPolicy x/p: spec.ingress[0].from[0]: must specify a peer (podSelector, "
	  "namespaceSelector or ipBlock)" },
	{ POL("p", "{\"ingress\":[{\"from\":[{\"podSelector\":{},\"ipBlock\":{\"cidr\":\"1.0.0.0/8\"}}]}]}"),
	  "NetworkPolicy x/p: spec.ingress[0].from[0]: may not specify ipBlock together with "
	  "podSelector or namespaceSelector" },
	{ POL("p", "{\"policyTypes\":[\"Sideways\"]}"),
	  "NetworkPolicy x/p: spec.policyTypes[0]: \"Sideways\" is not one of Ingress, Egress" },
	{ POL("p", "{\"podSelector\":{\"matchLabels\":{\"a\":\"b c\"}}}"),
	  "NetworkPolicy x/p: spec.podSelector.matchLabels: label \"a\": value must be a valid label "
	  "value (at most 63 characters: letters, digits, '-', '_', '.')" },
	{ POL("p", "{\"ingress\":{}}"), "NetworkPolicy x/p: spec.ingress: expected an array" },
	{ "{\"kind\":\"NetworkPolicy\",\"metadata\":{\"namespace\":\"x\"},\"spec\":{}}",
	  "NetworkPolicy x/: metadata.name: required" },
	{ "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\",\"namespace\":\"x\"},"
	  "\"status\":{\"podIPs\":[{\"ip\":\"10.0.0.300\"}]}}",
	  "Pod x/a: status.podIPs[0].ip: \"10.0.0.300\" is not an IP address" },
	{ "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\",\"namespace\":\"x\"},\"spec\":{"
	  "\"containers\":[{\"ports\":[{\"containerPort\":0}]}]}}",
	  "Pod x/a: spec.containers[0].ports[0]: containerPort: must be between 1 and 65535" },
	{ "{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"Bad_Name\"}}",
	  "Namespace Bad_Name: metadata.name: \"Bad_Name\" is not a valid name" },
	{ "{\"metadata\":{}}", "input: object without a \"kind\"" },
};

static void test_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		struct np_world w = { 0 };
		struct vn_err e;

		if (load(&w, bads[i].json, &e) == 0)
			fail_msg("accepted: %s", bads[i].json);
		assert_string_equal(e.details, bads[i].error);
		assert_int_equal(e.code, VN_E_INVALID);
		np_world_free(&w);
	}
}

static void test_json_syntax_error(void **state)
{
	struct np_world w = { 0 };
	struct vn_err e;

	(void)state;
	assert_int_equal(load(&w, "{\"kind\": \"Pod\",\n \"metadata\": }", &e), -1);
	assert_int_equal(e.code, VN_E_DECODE);
	assert_non_null(strstr(e.details, "test: line 2"));
	np_world_free(&w);
}

/* A List with one bad item changes nothing. */
static void test_all_or_nothing(void **state)
{
	struct np_world w = { 0 };
	struct vn_err e;
	json_error_t je;
	json_t *j = json_loads("{\"kind\":\"List\",\"items\":[" POL("good", "{}") ","
			       POL("bad", "{\"policyTypes\":[\"x\"]}") "]}", 0, &je);

	(void)state;
	assert_non_null(j);
	assert_int_equal(np_apply_value(&w, j, NULL, &e), -1);
	assert_non_null(strstr(e.details, "List items[1]: NetworkPolicy x/bad"));
	assert_int_equal(w.n_pols, 0);
	json_decref(j);
	np_world_free(&w);
}

static void test_watch_events(void **state)
{
	struct np_world w = { 0 };
	struct vn_err e;

	(void)state;
	assert_int_equal(load(&w, "{\"type\":\"ADDED\",\"object\":" POL("a", "{}") "}"
			      "{\"type\":\"ADDED\",\"object\":" POL("b", "{}") "}"
			      "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"NetworkPolicy\"}}"
			      "{\"type\":\"MODIFIED\",\"object\":"
			      POL("a", "{\"policyTypes\":[\"Egress\"]}") "}"
			      "{\"type\":\"DELETED\",\"object\":" POL("b", "{}") "}", &e), 0);
	assert_int_equal(w.n_pols, 1);
	assert_string_equal(w.pols[0].name, "a");
	assert_true(w.pols[0].types[NP_EGRESS]);
	assert_false(w.pols[0].types[NP_INGRESS]);
	assert_int_equal(load(&w, "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\","
			      "\"message\":\"too old resource version\"}}", &e), -1);
	assert_string_equal(e.details, "watch error event: too old resource version");
	/* A pod that finished is a deletion too. */
	assert_int_equal(load(&w, "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":"
			      "\"x\"},\"status\":{\"podIP\":\"10.0.0.1\"}}", &e), 0);
	assert_int_equal(w.n_pods, 1);
	assert_int_equal(load(&w, "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":"
			      "\"x\"},\"status\":{\"phase\":\"Failed\"}}", &e), 0);
	assert_int_equal(w.n_pods, 0);
	np_world_free(&w);
}

static void test_names(void **state)
{
	(void)state;
	assert_true(np_valid_label_key("kubernetes.io/metadata.name"));
	assert_true(np_valid_label_key("app"));
	assert_false(np_valid_label_key("-app"));
	assert_false(np_valid_label_key("a/b/c"));
	assert_true(np_valid_label_value(""));
	assert_false(np_valid_label_value("a b"));
	assert_true(np_valid_dns_subdomain("allow.web-1"));
	assert_false(np_valid_dns_subdomain("allow..web"));
	assert_true(np_valid_port_name("serve-80-tcp"));
	assert_false(np_valid_port_name("80"));
	assert_false(np_valid_port_name("a--b"));
	assert_false(np_valid_port_name("much-too-long-name"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_types_default),
		cmocka_unit_test(test_rule_defaults),
		cmocka_unit_test(test_pods_and_namespaces),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_json_syntax_error),
		cmocka_unit_test(test_all_or_nothing),
		cmocka_unit_test(test_watch_events),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests_name("netpol_parse", tests, NULL, NULL);
}
