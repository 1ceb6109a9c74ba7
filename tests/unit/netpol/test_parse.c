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

/* ipBlock CIDRs as old objects may hold them: host bits set, and IPv4
 * octets with leading zeros (decimal, as the API server read them before
 * 1.33); anything else that is not a CIDR stays an error. */
static void test_legacy_cidrs(void **state)
{
	static const char *const bad[] = { "10.0.0.0", "010.0.0.0/33", "1.2.3.4.5/8", "0x1.0.0.0/8",
					   "1.2.3/8", "10.0.0.0/", "256.0.0.0/8", "000256.0.0.0/8" };
	struct np_world w = { 0 };
	const struct np_peer *pe;
	struct vn_err e;
	char buf[VN_PREFIX_STRLEN], text[256];

	(void)state;
	assert_int_equal(load(&w, POL("p", "{\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":"
				  "\"0010.001.0.0/016\",\"except\":[\"10.1.2.3/24\"]}}]}]}"), &e), 0);
	pe = &w.pols[0].rules[NP_INGRESS][0].peers[0];
	assert_string_equal(vn_prefix_str(&pe->cidr, buf), "10.1.0.0/16");
	assert_string_equal(vn_prefix_str(&pe->except[0], buf), "10.1.2.0/24");
	np_world_free(&w);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), POL("p", "{\"ingress\":[{\"from\":[{\"ipBlock\":"
			 "{\"cidr\":\"%s\"}}]}]}"), bad[i]);
		if (load(&w, text, &e) == 0)
			fail_msg("accepted %s", bad[i]);
		np_world_free(&w);
	}
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

/* The API server's own Lists (GET /api/v1/pods and the like) carry no
 * kind on their items: the List's kind says it. */
static void test_typed_lists(void **state)
{
	struct np_world w = { 0 };
	struct vn_err e;

	(void)state;
	assert_int_equal(load(&w,
		"{\"kind\":\"NamespaceList\",\"apiVersion\":\"v1\",\"items\":["
		"{\"metadata\":{\"name\":\"x\",\"labels\":{\"team\":\"a\"}}}]}\n"
		"{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"items\":["
		"{\"metadata\":{\"name\":\"a\",\"namespace\":\"x\"},\"status\":{\"podIP\":\"10.0.0.1\"}},"
		"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"b\",\"namespace\":\"x\"}}]}\n"
		"{\"kind\":\"NetworkPolicyList\",\"apiVersion\":\"networking.k8s.io/v1\",\"items\":["
		"{\"metadata\":{\"name\":\"p\",\"namespace\":\"x\"},\"spec\":{\"podSelector\":{}}}]}",
		&e), 0);
	assert_int_equal(w.n_nss, 1);
	assert_string_equal(np_labels_get(&w.nss[0].labels, "team"), "a");
	assert_int_equal(w.n_pods, 2);
	assert_int_equal(w.n_pols, 1);
	np_world_free(&w);
	/* The same through the slow path (a List inside a watch event). */
	assert_int_equal(load(&w, "{\"type\":\"ADDED\",\"object\":{\"kind\":\"PodList\",\"items\":["
			      "{\"metadata\":{\"name\":\"a\",\"namespace\":\"x\"}}]}}", &e), 0);
	assert_int_equal(w.n_pods, 1);
	np_world_free(&w);
	/* The items of a typed List take its apiVersion too: Calico's own
	 * NetworkPolicyList is not read as Kubernetes NetworkPolicies. */
	assert_int_equal(load(&w, "{\"kind\":\"NetworkPolicyList\",\"apiVersion\":"
			      "\"crd.projectcalico.org/v1\",\"items\":[{\"metadata\":{\"name\":\"c\","
			      "\"namespace\":\"x\"},\"spec\":{\"selector\":\"all()\"}}]}\n"
			      "{\"type\":\"ADDED\",\"object\":{\"kind\":\"NetworkPolicyList\",\"apiVersion\":"
			      "\"crd.projectcalico.org/v1\",\"items\":[{\"metadata\":{\"name\":\"c\","
			      "\"namespace\":\"x\"}}]}}", &e), 0);
	assert_int_equal(w.n_pols, 0);
	np_world_free(&w);
	/* A plain List still needs kinds on its items. */
	assert_int_equal(load(&w, "{\"kind\":\"List\",\"items\":[{\"metadata\":{\"name\":\"x\"}}]}",
			      &e), -1);
	assert_string_equal(e.details, "List items[0]: input: object without a \"kind\"");
	np_world_free(&w);
}

/* A syntax error in an item of a big List is reported at its line and
 * column in the whole input, not within the item. */
static void test_syntax_error_position(void **state)
{
	struct np_world w = { 0 };
	struct vn_err e;

	(void)state;
	assert_int_equal(load(&w, "{\"kind\":\"List\",\"items\":[\n"
			      "{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"x\"}},\n"
			      "  {\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\" \"namespace\":\"x\"}}\n"
			      "]}\n", &e), -1);
	assert_int_equal(e.code, VN_E_DECODE);
	if (!strstr(e.details, "List items[1]: test: line 3 column 50"))
		fail_msg("%s", e.details);
	np_world_free(&w);
	/* The same for the third of several values one after the other. */
	assert_int_equal(load(&w, "{\"kind\":\"List\",\"items\":[]}\n{\"kind\":\"Namespace\","
			      "\"metadata\":{\"name\":\"x\"}}\n   {\"kind\": }", &e), -1);
	if (!strstr(e.details, "test: line 3 column 13"))
		fail_msg("%s", e.details);
	np_world_free(&w);
}

/* A NetworkPolicy without spec is the zero spec: the API server accepts
 * it, and defaults it to podSelector {} with policyTypes [Ingress]. */
static void test_missing_spec(void **state)
{
	struct np_world w = { 0 };
	struct vn_err e;

	(void)state;
	assert_int_equal(load(&w, "{\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"p\","
			      "\"namespace\":\"x\"}}\n{\"kind\":\"NetworkPolicy\",\"metadata\":"
			      "{\"name\":\"q\",\"namespace\":\"x\"},\"spec\":null}", &e), 0);
	assert_int_equal(w.n_pols, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_true(w.pols[i].types[NP_INGRESS]);
		assert_false(w.pols[i].types[NP_EGRESS]);
		assert_int_equal(w.pols[i].n_rules[NP_INGRESS], 0);
		assert_true(w.pols[i].pod_sel.labels.n == 0 && w.pols[i].pod_sel.n_exprs == 0);
	}
	np_world_free(&w);
}

/* Other API groups have kinds named NetworkPolicy too (Calico's
 * crd.projectcalico.org and projectcalico.org, Antrea's crd.antrea.io):
 * they are not Kubernetes NetworkPolicies and are skipped, whatever
 * their spec holds. networking.k8s.io/v1 ones are read. */
static void test_foreign_kinds(void **state)
{
	struct np_world w = { 0 };
	struct vn_err e;

	(void)state;
	assert_int_equal(load(&w,
		"{\"apiVersion\":\"crd.projectcalico.org/v1\",\"kind\":\"NetworkPolicy\","
		"\"metadata\":{\"name\":\"c\",\"namespace\":\"x\"},\"spec\":{\"selector\":\"all()\","
		"\"ingress\":[{\"action\":\"Deny\",\"source\":{}}],\"order\":100}}\n"
		"{\"apiVersion\":\"crd.antrea.io/v1beta1\",\"kind\":\"NetworkPolicy\","
		"\"metadata\":{\"name\":\"a\",\"namespace\":\"x\"},\"spec\":{\"priority\":5,"
		"\"ingress\":[{\"action\":\"Drop\",\"from\":[{\"podSelector\":{}}]}]}}\n"
		"{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\","
		"\"metadata\":{\"name\":\"k\",\"namespace\":\"x\"},\"spec\":{}}\n"
		"{\"apiVersion\":\"metrics.k8s.io/v1beta1\",\"kind\":\"Pod\","
		"\"metadata\":{\"name\":\"m\",\"namespace\":\"x\"}}", &e), 0);
	assert_int_equal(w.n_pols, 1);
	assert_string_equal(w.pols[0].name, "k");
	assert_int_equal(w.n_pods, 0);
	np_world_free(&w);
}

/* Named ports: the ports of the containers and of the sidecars (init
 * containers with restartPolicy Always, which run for the pod's life);
 * plain init containers have ended before the pod serves anything. */
static void test_sidecar_ports(void **state)
{
	struct np_world w = { 0 };
	const struct np_pod *p;
	struct vn_err e;

	(void)state;
	assert_int_equal(load(&w,
		"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\",\"namespace\":\"x\"},\"spec\":{"
		"\"initContainers\":[{\"name\":\"setup\",\"ports\":[{\"name\":\"setup\","
		"\"containerPort\":7000}]},{\"name\":\"proxy\",\"restartPolicy\":\"Always\","
		"\"ports\":[{\"name\":\"metrics\",\"containerPort\":9090}]}],"
		"\"containers\":[{\"name\":\"c\",\"ports\":[{\"name\":\"http\",\"containerPort\":8080}]}]},"
		"\"status\":{\"podIP\":\"10.0.0.1\"}}", &e), 0);
	p = &w.pods[0];
	assert_int_equal(p->n_ports, 2);
	assert_string_equal(p->ports[0].name, "http");
	assert_string_equal(p->ports[1].name, "metrics");
	assert_int_equal(p->ports[1].port, 9090);
	np_world_free(&w);
	assert_int_equal(load(&w,
		"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\",\"namespace\":\"x\"},\"spec\":{"
		"\"initContainers\":[{\"name\":\"proxy\",\"restartPolicy\":\"Always\",\"ports\":"
		"[{\"name\":\"m\",\"containerPort\":0}]}]}}", &e), -1);
	assert_string_equal(e.details, "Pod x/a: spec.initContainers[0].ports[0]: containerPort: "
			    "must be between 1 and 65535");
	np_world_free(&w);
}

/* Which pods take part: a terminating pod (deletionTimestamp) still runs
 * and keeps its address until it is gone, so it stays; a pod without an
 * address yet is known but in no set; hostNetwork pods (the node's
 * address) and finished ones do not. */
static void test_pod_lifecycle(void **state)
{
	struct np_world w = { 0 };
	struct vn_err e;

	(void)state;
	assert_int_equal(load(&w,
		"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"going\",\"namespace\":\"x\","
		"\"deletionTimestamp\":\"2024-01-01T00:00:00Z\",\"deletionGracePeriodSeconds\":30},"
		"\"spec\":{\"nodeName\":\"n1\"},\"status\":{\"phase\":\"Running\",\"podIP\":\"10.0.0.1\"}}\n"
		"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"new\",\"namespace\":\"x\"},"
		"\"spec\":{\"nodeName\":\"n1\"},\"status\":{\"phase\":\"Pending\"}}\n"
		"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"host\",\"namespace\":\"x\"},"
		"\"spec\":{\"nodeName\":\"n1\",\"hostNetwork\":true},\"status\":{\"phase\":\"Running\","
		"\"podIP\":\"172.30.0.1\",\"podIPs\":[{\"ip\":\"172.30.0.1\"}]}}\n"
		"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"evicted\",\"namespace\":\"x\"},"
		"\"status\":{\"phase\":\"Failed\",\"reason\":\"Evicted\",\"podIP\":\"10.0.0.1\"}}\n",
		&e), 0);
	assert_int_equal(w.n_pods, 2);
	assert_non_null(np_world_pod(&w, "x", "going"));
	assert_int_equal(np_world_pod(&w, "x", "going")->n_ips, 1);
	assert_int_equal(np_world_pod(&w, "x", "new")->n_ips, 0);
	assert_null(np_world_pod(&w, "x", "host"));
	np_world_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_types_default),
		cmocka_unit_test(test_rule_defaults),
		cmocka_unit_test(test_legacy_cidrs),
		cmocka_unit_test(test_pods_and_namespaces),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_json_syntax_error),
		cmocka_unit_test(test_all_or_nothing),
		cmocka_unit_test(test_watch_events),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_typed_lists),
		cmocka_unit_test(test_syntax_error_position),
		cmocka_unit_test(test_missing_spec),
		cmocka_unit_test(test_foreign_kinds),
		cmocka_unit_test(test_sidecar_ports),
		cmocka_unit_test(test_pod_lifecycle),
	};

	return cmocka_run_group_tests_name("netpol_parse", tests, NULL, NULL);
}
