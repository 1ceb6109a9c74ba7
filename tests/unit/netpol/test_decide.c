/* Selector matching, peer and port matching, np_explain's reasons, and
 * what explain prints (text, JSON, the truth table). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "decide.h"
#include "parse.h"
#include "report.h"

static void load(struct np_world *w, const char *text)
{
	struct vn_err e = { 0 };

	if (np_load_text(w, text, strlen(text), "test", &e))
		fail_msg("%s", e.details);
}

static bool match(struct np_world *w, const char *json, const struct np_labels *l)
{
	char text[1024];

	snprintf(text, sizeof(text), "{\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"s\","
		 "\"namespace\":\"x\"},\"spec\":{\"podSelector\":%s}}", json);
	load(w, text);
	return np_selector_matches(&w->pols[w->n_pols - 1].pod_sel, l);
}

#define EXPR(key, op, values) \
	"{\"matchExpressions\":[{\"key\":\"" key "\",\"operator\":\"" op "\"" values "}]}"

static void test_selectors(void **state)
{
	struct np_world w = { 0 };
	struct np_label l[2] = { { (char *)"app", (char *)"web" }, { (char *)"tier", (char *)"x" } };
	struct np_labels labels = { l, 2 }, none = { NULL, 0 };

	(void)state;
	assert_true(match(&w, "{}", &none));
	assert_true(match(&w, "{}", &labels));
	assert_true(match(&w, "{\"matchLabels\":{\"app\":\"web\"}}", &labels));
	assert_false(match(&w, "{\"matchLabels\":{\"app\":\"db\"}}", &labels));
	assert_false(match(&w, "{\"matchLabels\":{\"app\":\"web\",\"x\":\"y\"}}", &labels));
	assert_true(match(&w, EXPR("app", "In", ",\"values\":[\"db\",\"web\"]"), &labels));
	assert_false(match(&w, EXPR("app", "In", ",\"values\":[\"db\"]"), &labels));
	assert_false(match(&w, EXPR("app", "NotIn", ",\"values\":[\"web\"]"), &labels));
	/* NotIn holds for a pod without the key; In does not. */
	assert_true(match(&w, EXPR("app", "NotIn", ",\"values\":[\"web\"]"), &none));
	assert_false(match(&w, EXPR("app", "In", ",\"values\":[\"web\"]"), &none));
	assert_true(match(&w, EXPR("tier", "Exists", ""), &labels));
	assert_false(match(&w, EXPR("tier", "Exists", ""), &none));
	assert_false(match(&w, EXPR("tier", "DoesNotExist", ""), &labels));
	assert_true(match(&w, EXPR("tier", "DoesNotExist", ""), &none));
	np_world_free(&w);
}

#define POD(ns, n, labels, ip, ports) \
	"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"" n "\",\"namespace\":\"" ns "\",\"labels\":" \
	labels "},\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"ports\":" ports "}]}," \
	"\"status\":{\"podIP\":\"" ip "\"}}\n"
#define POL(ns, n, spec) \
	"{\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"" n "\",\"namespace\":\"" ns "\"}," \
	"\"spec\":" spec "}\n"

static const char *const world =
	"{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"y\",\"labels\":{\"team\":\"b\"}}}\n"
	POD("x", "a", "{\"app\":\"web\"}", "10.0.0.1",
	    "[{\"name\":\"http\",\"containerPort\":8080},{\"name\":\"dns\",\"containerPort\":53,"
	    "\"protocol\":\"UDP\"}]")
	POD("x", "b", "{\"app\":\"db\"}", "10.0.0.2", "[{\"name\":\"http\",\"containerPort\":9090}]")
	POD("y", "c", "{\"app\":\"web\"}", "10.0.1.1", "[]")
	POL("x", "web", "{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},\"ingress\":["
	    "{\"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"db\"}}}],\"ports\":[{\"port\":\"http\"}]},"
	    "{\"from\":[{\"namespaceSelector\":{\"matchLabels\":{\"team\":\"b\"}},\"podSelector\":{}},"
	    "{\"ipBlock\":{\"cidr\":\"192.0.2.0/24\",\"except\":[\"192.0.2.128/25\"]}}],"
	    "\"ports\":[{\"port\":5000,\"endPort\":5010},{\"port\":\"dns\",\"protocol\":\"UDP\"}]}]}")
	POL("x", "db-out", "{\"podSelector\":{\"matchLabels\":{\"app\":\"db\"}},\"policyTypes\":"
	    "[\"Egress\"],\"egress\":[{\"to\":[{\"podSelector\":{}}],\"ports\":[{\"port\":\"http\"}]}]}");

static bool verdict(const struct np_world *w, const char *from, const char *to, const char *port,
		    struct np_verdict *v)
{
	struct np_endpoint s, d;
	struct vn_err e;
	uint16_t p;
	uint8_t proto;

	assert_int_equal(np_endpoint_parse(w, from, &s, &e), 0);
	assert_int_equal(np_endpoint_parse(w, to, &d, &e), 0);
	assert_int_equal(np_port_parse(port, &p, &proto, &e), 0);
	np_endpoints_resolve(&s, &d);
	assert_int_equal(np_explain(w, &s, &d, p, proto, v), 0);
	return v->allowed;
}

static bool allowed(const struct np_world *w, const char *from, const char *to, const char *port)
{
	struct np_verdict v;
	bool ok = verdict(w, from, to, port, &v);

	np_verdict_free(&v);
	return ok;
}

static void test_explain(void **state)
{
	struct np_world w = { 0 };
	struct np_verdict v;

	(void)state;
	load(&w, world);
	/* Named port "http" resolves on the destination: 8080 on x/a. */
	assert_true(allowed(&w, "x/b", "x/a", "8080/TCP"));
	assert_false(allowed(&w, "x/b", "x/a", "9090/TCP"));
	assert_false(allowed(&w, "x/b", "x/a", "8080/UDP"));
	/* ... and for egress too: x/b may reach x/a:8080 and itself-named
	 * port elsewhere only where the destination names it. */
	assert_false(allowed(&w, "x/b", "y/c", "8080"));
	/* namespaceSelector AND podSelector; port range; named UDP port. */
	assert_true(allowed(&w, "y/c", "x/a", "5005/tcp"));
	assert_false(allowed(&w, "y/c", "x/a", "5011/tcp"));
	assert_true(allowed(&w, "y/c", "x/a", "53/udp"));
	assert_false(allowed(&w, "y/c", "x/a", "53/tcp"));
	/* ipBlock with except, for addresses outside the cluster */
	assert_true(allowed(&w, "192.0.2.7", "x/a", "5000"));
	assert_false(allowed(&w, "192.0.2.200", "x/a", "5000"));
	/* A pod's address is the pod. */
	assert_true(allowed(&w, "10.0.0.2", "10.0.0.1", "8080"));

	assert_true(verdict(&w, "y/c", "x/a", "5005/TCP", &v));
	assert_false(v.side[NP_EGRESS].isolated);
	assert_true(v.side[NP_EGRESS].applies);
	assert_true(v.side[NP_INGRESS].isolated);
	assert_int_equal(v.side[NP_INGRESS].n_pols, 1);
	assert_string_equal(v.side[NP_INGRESS].by.pol->name, "web");
	assert_int_equal(v.side[NP_INGRESS].by.rule, 1);
	assert_int_equal(v.side[NP_INGRESS].by.peer, 0);
	assert_int_equal(v.side[NP_INGRESS].by.port, 0);
	np_verdict_free(&v);
	/* Egress of x/b is isolated and denies 5005 even where ingress would allow. */
	assert_false(verdict(&w, "x/b", "y/c", "5005", &v));
	assert_true(v.side[NP_EGRESS].isolated);
	assert_false(v.side[NP_EGRESS].allowed);
	assert_true(v.side[NP_INGRESS].allowed);
	np_verdict_free(&v);
	np_world_free(&w);
}

static char *report_text(const struct np_world *w, const char *from, const char *to,
			 const char *port, bool json)
{
	struct np_endpoint s, d;
	struct np_verdict v;
	struct vn_err e;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	uint16_t p;
	uint8_t proto;

	assert_int_equal(np_endpoint_parse(w, from, &s, &e), 0);
	assert_int_equal(np_endpoint_parse(w, to, &d, &e), 0);
	assert_int_equal(np_port_parse(port, &p, &proto, &e), 0);
	np_endpoints_resolve(&s, &d);
	assert_int_equal(np_explain(w, &s, &d, p, proto, &v), 0);
	if (json) {
		json_t *j = np_report_json(&s, &d, p, proto, &v);

		json_dumpf(j, f, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(j);
	} else {
		np_report_text(f, &s, &d, p, proto, &v);
	}
	fclose(f);
	np_verdict_free(&v);
	return text;
}

static void test_report(void **state)
{
	struct np_world w = { 0 };
	char *t;

	(void)state;
	load(&w, world);
	t = report_text(&w, "y/c", "x/a", "5005", false);
	assert_string_equal(t,
		"allowed: y/c (10.0.1.1) -> x/a (10.0.0.1) port 5005/TCP\n"
		"  egress of y/c (10.0.1.1): allowed (not isolated: no NetworkPolicy selects it for Egress)\n"
		"  ingress of x/a (10.0.0.1): isolated by x/web\n"
		"    allowed by x/web ingress[1] (from[0] namespaceSelector{team=b} podSelector{}, "
		"ports[0] 5000-5010/TCP)\n");
	free(t);
	t = report_text(&w, "x/b", "y/c", "80", false);
	assert_string_equal(t,
		"denied: x/b (10.0.0.2) -> y/c (10.0.1.1) port 80/TCP\n"
		"  egress of x/b (10.0.0.2): isolated by x/db-out\n"
		"    denied: no rule allows it\n"
		"  ingress of y/c (10.0.1.1): allowed (not isolated: no NetworkPolicy selects it for Ingress)\n");
	free(t);
	t = report_text(&w, "192.0.2.9", "x/a", "53/UDP", true);
	assert_string_equal(t,
		"{\"allowed\":true,\"egress\":{\"allowed\":true,\"allowedBy\":null,\"applies\":false,"
		"\"isolated\":false,\"policies\":[],\"reason\":\"not a pod\"},"
		"\"from\":{\"ip\":\"192.0.2.9\"},"
		"\"ingress\":{\"allowed\":true,\"allowedBy\":{\"description\":\"x/web ingress[1] "
		"(from[1] ipBlock 192.0.2.0/24 except 192.0.2.128/25, ports[1] dns/UDP)\",\"peer\":1,"
		"\"policy\":\"x/web\",\"port\":1,\"rule\":1},\"applies\":true,\"isolated\":true,"
		"\"policies\":[\"x/web\"],\"reason\":\"allowed by a rule\"},\"port\":53,"
		"\"protocol\":\"UDP\",\"to\":{\"ip\":\"10.0.0.1\",\"pod\":\"x/a\"}}");
	free(t);
	np_world_free(&w);
}

static void test_matrix(void **state)
{
	struct np_world w = { 0 };
	struct vn_err e;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	load(&w, world);
	assert_int_equal(np_report_matrix(f, &w, NULL, 8080, 6, &e), 0);
	fclose(f);
	assert_string_equal(text,
		"from\\to   x/a   x/b   y/c\n"
		"x/a         -     .     .\n"
		"x/b         .     -     X\n"
		"y/c         X     .     -\n");
	free(text);
	text = NULL;
	f = open_memstream(&text, &len);
	assert_int_equal(np_report_matrix(f, &w, "y/c,x/a", 5000, 6, &e), 0);
	fclose(f);
	assert_string_equal(text,
		"from\\to   y/c   x/a\n"
		"y/c         -     .\n"
		"x/a         .     -\n");
	free(text);
	assert_int_equal(np_report_matrix(stdout, &w, "x/zz", 80, 6, &e), -1);
	assert_non_null(strstr(e.details, "--pods: x/zz"));
	np_world_free(&w);
}

static void test_args(void **state)
{
	struct np_world w = { 0 };
	struct np_endpoint ep;
	struct vn_err e;
	uint16_t p;
	uint8_t proto;

	(void)state;
	assert_int_equal(np_port_parse("53/udp", &p, &proto, &e), 0);
	assert_int_equal(p, 53);
	assert_int_equal(proto, 17);
	assert_int_equal(np_port_parse("9/SCTP", &p, &proto, &e), 0);
	assert_int_equal(proto, 132);
	assert_int_equal(np_port_parse("0", &p, &proto, &e), -1);
	assert_int_equal(np_port_parse("80/icmp", &p, &proto, &e), -1);
	assert_int_equal(np_endpoint_parse(&w, "nope", &ep, &e), -1);
	assert_int_equal(np_endpoint_parse(&w, "x/nope", &ep, &e), -1);
	assert_string_equal(e.details, "no pod x/nope in the input");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_selectors),
		cmocka_unit_test(test_explain),
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_matrix),
		cmocka_unit_test(test_args),
	};

	return cmocka_run_group_tests_name("netpol_decide", tests, NULL, NULL);
}
