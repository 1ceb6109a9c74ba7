/* The compiler: what it emits (profiles shared, sets, counters, the
 * podguard chains, node filtering, sizes that grow with pods + rules, not
 * pods x pods), the nft text it renders, and, over hundreds of random
 * worlds, agreement between the compiled rules (sim.h) and np_explain. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "compile.h"
#include "decide.h"
#include "parse.h"
#include "report.h"
#include "sim.h"

static void load(struct np_world *w, const char *text)
{
	struct vn_err e = { 0 };

	if (np_load_text(w, text, strlen(text), "test", &e))
		fail_msg("%s", e.details);
}

#define NS(n, labels) "{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"" n "\",\"labels\":" labels "}}\n"
#define POD(ns, n, node, labels, ip) \
	"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"" n "\",\"namespace\":\"" ns "\",\"labels\":" \
	labels "},\"spec\":{\"nodeName\":\"" node "\",\"containers\":[{\"name\":\"c\",\"ports\":" \
	"[{\"name\":\"http\",\"containerPort\":8080}]}]},\"status\":{\"podIP\":\"" ip "\"}}\n"
#define POL(ns, n, spec) \
	"{\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"" n "\",\"namespace\":\"" ns "\"}," \
	"\"spec\":" spec "}\n"

static const char *const small_world =
	NS("x", "{\"team\":\"blue\"}") NS("y", "{}")
	POD("x", "a", "n1", "{\"app\":\"web\"}", "10.0.1.1")
	POD("x", "b", "n1", "{\"app\":\"web\"}", "10.0.1.2")
	POD("x", "c", "n1", "{\"app\":\"db\"}", "10.0.1.3")
	POD("y", "a", "n2", "{\"app\":\"web\"}", "10.0.2.1")
	POL("x", "deny-all", "{\"podSelector\":{}}")
	POL("x", "web", "{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},\"ingress\":[{\"from\":"
	    "[{\"namespaceSelector\":{\"matchLabels\":{\"team\":\"blue\"}}}],\"ports\":[{\"port\":"
	    "\"http\"},{\"port\":80,\"endPort\":90}]}]}")
	POL("x", "egress", "{\"podSelector\":{\"matchLabels\":{\"app\":\"db\"}},\"policyTypes\":"
	    "[\"Egress\"],\"egress\":[{\"to\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/16\",\"except\":"
	    "[\"10.0.2.0/24\"]}}]}]}");

static const struct nr_chain *chain_of(const struct nr_ruleset *rs, const char *map,
				       const char *ip)
{
	const struct nr_set *s = nr_find_set(rs, map);
	struct vn_addr a;

	assert_non_null(s);
	assert_int_equal(vn_addr_parse(ip, &a), 0);
	for (size_t i = 0; i < s->n; i++)
		if (!memcmp(s->keys + i * nr_key_len(s), a.b, vn_addr_size(a.family)))
			return nr_find_chain(rs, s->chains[i]);
	return NULL;
}

static void test_profiles(void **state)
{
	struct nr_opts o = { .node = "n1", .log_group = 7 };
	struct np_world w = { 0 };
	struct nr_ruleset rs;
	const struct nr_chain *a, *b, *c, *ns;

	(void)state;
	load(&w, small_world);
	assert_int_equal(nr_compile(&w, &o, &rs), 0);
	a = chain_of(&rs, "in4", "10.0.1.1");
	b = chain_of(&rs, "in4", "10.0.1.2");
	c = chain_of(&rs, "in4", "10.0.1.3");
	assert_non_null(a);
	/* Same policies, same chain; x/c has only the namespace-wide one. */
	assert_ptr_equal(a, b);
	assert_non_null(c);
	assert_string_equal(c->name, "nsin-x");
	assert_ptr_not_equal(a, c);
	assert_int_equal(strncmp(a->name, "in-x-", 5), 0);
	/* Only x/c is isolated for egress; y/a is on another node. */
	assert_null(chain_of(&rs, "out4", "10.0.1.1"));
	assert_non_null(chain_of(&rs, "out4", "10.0.1.3"));
	assert_null(chain_of(&rs, "in4", "10.0.2.1"));
	/* The podguard chain for namespace x exists; none for egress (no
	 * namespace-wide egress policy) and none for y. */
	ns = nr_find_chain(&rs, "nsin-x");
	assert_non_null(ns);
	assert_null(nr_find_chain(&rs, "nsout-x"));
	assert_null(nr_find_chain(&rs, "nsin-y"));
	/* Last rule: count, log with the policies, drop. */
	assert_int_equal(ns->rules[ns->n - 1].verdict, NR_V_DROP);
	assert_string_equal(ns->rules[ns->n - 1].log_prefix, "veilnet drop ingress x:deny-all ");
	assert_string_equal(a->rules[a->n - 1].log_prefix, "veilnet drop ingress x:deny-all,web ");
	assert_int_equal(rs.n_counters, 2);
	assert_string_equal(rs.counters[0], "x/egress/egress-0");
	assert_string_equal(rs.counters[1], "x/web/ingress-0");
	assert_int_equal(rs.info.local_pods, 3);
	assert_int_equal(rs.info.pods, 4);
	nr_ruleset_free(&rs);
	np_world_free(&w);
}

static bool set_has(const struct nr_set *s, const char *ip, int port)
{
	uint8_t key[20] = { 0 };
	struct vn_addr a;
	uint16_t p = htons((uint16_t)port);

	assert_int_equal(vn_addr_parse(ip, &a), 0);
	memcpy(key, a.b, vn_addr_size(a.family));
	if (port)
		memcpy(key + vn_addr_size(a.family), &p, 2);
	return sim_lookup(s, key, NULL);
}

static void test_sets(void **state)
{
	struct nr_opts o = { .node = "n1", .log_group = -1 };
	struct np_world w = { 0 };
	const struct nr_set *peer = NULL, *np;
	struct nr_ruleset rs;

	(void)state;
	load(&w, small_world);
	assert_int_equal(nr_compile(&w, &o, &rs), 0);
	for (size_t i = 0; i < rs.n_sets; i++)
		if (!strncmp(rs.sets[i].name, "peer4-", 6))
			peer = &rs.sets[i];
	assert_non_null(peer);
	/* namespaceSelector team=blue: every pod of x, none of y. */
	assert_int_equal(peer->n, 3);
	assert_true(set_has(peer, "10.0.1.3", 0));
	assert_false(set_has(peer, "10.0.2.1", 0));
	assert_string_equal(peer->comment, "namespaces{team=blue} pods{}");
	/* Named port http: every pod with it, remote ones too. */
	np = nr_find_set(&rs, "nport4-tcp-http");
	assert_non_null(np);
	assert_int_equal(np->n, 4);
	assert_true(set_has(np, "10.0.2.1", 8080));
	assert_false(set_has(np, "10.0.2.1", 80));
	nr_ruleset_free(&rs);
	np_world_free(&w);
}

static void rule_text(const struct nr_rule *r, const char *want)
{
	char buf[512];

	nr_rule_text(r, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void test_rule_text(void **state)
{
	struct vn_prefix ex[2];
	struct nr_rule r = { .kind = NR_R_MATCH, .family = AF_INET, .addr = NR_A_PREFIX,
			     .except = ex, .n_except = 2, .proto = 17, .port_lo = 1,
			     .port_hi = 100, .counter = (char *)"x/p/ingress-0",
			     .verdict = NR_V_RETURN };

	(void)state;
	assert_int_equal(vn_prefix_parse("10.0.0.0/8", &r.pfx), 0);
	assert_int_equal(vn_prefix_parse("10.1.0.0/16", &ex[0]), 0);
	assert_int_equal(vn_prefix_parse("10.2.0.1/32", &ex[1]), 0);
	rule_text(&r, "ip saddr 10.0.0.0/8 ip saddr != 10.1.0.0/16 ip saddr != 10.2.0.1 "
		  "udp dport 1-100 counter name \"x/p/ingress-0\" return");
	r = (struct nr_rule){ .kind = NR_R_MATCH, .family = AF_INET6, .addr = NR_A_SET,
			      .daddr = true, .set = (char *)"peer6-1", .proto = 132,
			      .nport = (char *)"nport6-sctp-x", .verdict = NR_V_RETURN };
	rule_text(&r, "ip6 daddr @peer6-1 ip6 daddr . sctp dport @nport6-sctp-x return");
	r = (struct nr_rule){ .kind = NR_R_MATCH, .family = AF_INET6, .addr = NR_A_PREFIX,
			      .verdict = NR_V_RETURN };
	assert_int_equal(vn_prefix_parse("::/0", &r.pfx), 0);
	rule_text(&r, "ip6 saddr ::/0 return");
	r = (struct nr_rule){ .kind = NR_R_MATCH, .proto = 6, .anon_counter = true,
			      .log_prefix = (char *)"p ", .log_group = 3, .verdict = NR_V_DROP };
	rule_text(&r, "meta l4proto tcp counter packets 0 bytes 0 log prefix \"p \" group 3 drop");
	r = (struct nr_rule){ .kind = NR_R_VMAP, .family = AF_INET6, .daddr = true,
			      .set = (char *)"in6" };
	rule_text(&r, "ip6 daddr vmap @in6");
	r = (struct nr_rule){ .kind = NR_R_CTSTATE };
	rule_text(&r, "ct state established,related accept");
}

static const char *const golden =
	"table inet veilnet {\n"
	"\tcounter x/p/ingress-0 {\n\t\tpackets 0 bytes 0\n\t}\n\n"
	"\tmap in4 {\n\t\ttype ipv4_addr : verdict\n"
	"\t\telements = { 10.0.1.1 : jump nsin-x }\n\t}\n\n"
	"\tmap in6 {\n\t\ttype ipv6_addr : verdict\n\t}\n\n"
	"\tmap newpod_in4 {\n\t\ttype ipv4_addr : verdict\n\t}\n\n"
	"\tmap newpod_in6 {\n\t\ttype ipv6_addr : verdict\n\t}\n\n"
	"\tmap newpod_out4 {\n\t\ttype ipv4_addr : verdict\n\t}\n\n"
	"\tmap newpod_out6 {\n\t\ttype ipv6_addr : verdict\n\t}\n\n"
	"\tmap out4 {\n\t\ttype ipv4_addr : verdict\n\t}\n\n"
	"\tmap out6 {\n\t\ttype ipv6_addr : verdict\n\t}\n\n"
	"\tchain forward {\n"
	"\t\ttype filter hook forward priority filter + 10; policy accept;\n"
	"\t\tct state established,related accept\n"
	"\t\tip saddr vmap @out4\n\t\tip6 saddr vmap @out6\n"
	"\t\tip saddr vmap @newpod_out4\n\t\tip6 saddr vmap @newpod_out6\n"
	"\t\tip daddr vmap @in4\n\t\tip6 daddr vmap @in6\n"
	"\t\tip daddr vmap @newpod_in4\n\t\tip6 daddr vmap @newpod_in6\n"
	"\t}\n\n"
	"\tchain nsin-x {\n"
	"\t\tip saddr 192.0.2.0/24 tcp dport 443 counter name \"x/p/ingress-0\" return\n"
	"\t\tcounter packets 0 bytes 0 drop\n"
	"\t}\n"
	"}\n";

static void test_render(void **state)
{
	struct nr_opts o = { .log_group = -1 };
	struct np_world w = { 0 };
	struct nr_ruleset rs;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	load(&w, POD("x", "a", "n1", "{}", "10.0.1.1")
		 POL("x", "p", "{\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"192.0.2.0/24\"}}],"
		     "\"ports\":[{\"port\":443}]}]}"));
	assert_int_equal(nr_compile(&w, &o, &rs), 0);
	nr_render(&rs, f);
	fclose(f);
	assert_string_equal(text, golden);
	free(text);
	nr_ruleset_free(&rs);
	np_world_free(&w);
}

/* N pods, all allowed from all pods of their namespace: rules stay
 * constant, elements grow linearly. */
static void test_size_linear(void **state)
{
	size_t rules[2], elems[2];

	(void)state;
	for (int round = 0; round < 2; round++) {
		size_t n = round ? 400 : 100, cap = n * 400 + 1024, off = 0;
		char *text = malloc(cap);
		struct nr_opts o = { .log_group = -1 };
		struct np_world w = { 0 };
		struct nr_ruleset rs;

		off += (size_t)snprintf(text + off, cap - off, "%s",
					POL("x", "same-ns", "{\"ingress\":[{\"from\":[{\"podSelector\":{}}]}]}"));
		for (size_t i = 0; i < n; i++)
			off += (size_t)snprintf(text + off, cap - off,
				"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p%zu\",\"namespace\":\"x\","
				"\"labels\":{\"i\":\"%zu\"}},\"spec\":{\"nodeName\":\"n1\"},"
				"\"status\":{\"podIP\":\"10.1.%zu.%zu\"}}\n", i, i, i / 200, i % 200 + 1);
		load(&w, text);
		assert_int_equal(nr_compile(&w, &o, &rs), 0);
		rules[round] = rs.info.rules;
		elems[round] = rs.info.elements;
		nr_ruleset_free(&rs);
		np_world_free(&w);
		free(text);
	}
	assert_int_equal(rules[0], rules[1]);
	/* each pod: one element in the peer set, one in the ingress map */
	assert_int_equal(elems[0], 200);
	assert_int_equal(elems[1], 800);
}

/* ---- random worlds: compiled rules agree with the model ---- */

static uint64_t rnd_state;

static unsigned rnd(unsigned n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (unsigned)(rnd_state % n);
}

static const char *const apps[] = { "a", "b", "c" };

static json_t *rnd_selector(bool ns)
{
	json_t *sel = json_object(), *ml = json_object(), *exprs = json_array();
	static const char *const ops[] = { "In", "NotIn", "Exists", "DoesNotExist" };
	const char *key = ns ? "team" : "app";
	unsigned k = rnd(4);

	if (k == 1)
		json_object_set_new(ml, key, json_string(ns ? (rnd(2) ? "t0" : "t1") : apps[rnd(3)]));
	if (k >= 2) {
		const char *op = ops[rnd(4)];
		json_t *x = json_pack("{s:s, s:s}", "key", rnd(3) ? key : "tier", "operator", op);

		if (!strcmp(op, "In") || !strcmp(op, "NotIn"))
			json_object_set_new(x, "values", json_pack("[s, s]", ns ? "t0" : apps[rnd(3)],
								   ns ? "t2" : "x"));
		json_array_append_new(exprs, x);
	}
	json_object_set_new(sel, "matchLabels", ml);
	json_object_set_new(sel, "matchExpressions", exprs);
	return sel;
}

static json_t *rnd_peer(void)
{
	static const char *const cidrs[] = { "10.9.0.0/16", "10.9.1.0/24", "0.0.0.0/0",
					     "10.9.0.0/20", "192.0.2.0/24" };

	switch (rnd(4)) {
	case 0:
		return json_pack("{s:o}", "podSelector", rnd_selector(false));
	case 1:
		return json_pack("{s:o}", "namespaceSelector", rnd_selector(true));
	case 2:
		return json_pack("{s:o, s:o}", "podSelector", rnd_selector(false),
				 "namespaceSelector", rnd_selector(true));
	}
	if (rnd(2))
		return json_pack("{s:{s:s, s:[s]}}", "ipBlock", "cidr", "10.9.0.0/16", "except",
				 rnd(2) ? "10.9.1.0/24" : "10.9.2.3/32");
	return json_pack("{s:{s:s}}", "ipBlock", "cidr", cidrs[rnd(5)]);
}

static json_t *rnd_port(void)
{
	static const char *const protos[] = { "TCP", "UDP", "SCTP" };
	json_t *p = json_object();

	if (rnd(4))
		json_object_set_new(p, "protocol", json_string(protos[rnd(3)]));
	switch (rnd(4)) {
	case 0:
		json_object_set_new(p, "port", json_integer(80));
		break;
	case 1:
		json_object_set_new(p, "port", json_integer(79 + rnd(3)));
		json_object_set_new(p, "endPort", json_integer(81 + rnd(2)));
		break;
	case 2:
		json_object_set_new(p, "port", json_string(rnd(2) ? "http" : "alt"));
		break;
	}
	return p;
}

static json_t *rnd_rules(const char *peers_key)
{
	json_t *rules = json_array();

	for (unsigned i = rnd(3); i > 0; i--) {
		json_t *r = json_object(), *peers = json_array(), *ports = json_array();

		for (unsigned k = rnd(3); k > 0; k--)
			json_array_append_new(peers, rnd_peer());
		for (unsigned k = rnd(3); k > 0; k--)
			json_array_append_new(ports, rnd_port());
		if (json_array_size(peers) || rnd(2))
			json_object_set(r, peers_key, peers);
		if (json_array_size(ports) || rnd(2))
			json_object_set(r, "ports", ports);
		json_decref(peers);
		json_decref(ports);
		json_array_append_new(rules, r);
	}
	return rules;
}

static json_t *rnd_world(void)
{
	json_t *items = json_array();
	char name[32], ip[32];

	for (int n = 0; n < 3; n++) {
		snprintf(name, sizeof(name), "ns%d", n);
		json_array_append_new(items, json_pack("{s:s, s:{s:s, s:{s:s}}}", "kind", "Namespace",
			"metadata", "name", name, "labels", "team", n == 2 ? "t2" : n ? "t1" : "t0"));
	}
	for (int i = 0; i < 8; i++) {
		json_t *labels = json_pack("{s:s}", "app", apps[rnd(3)]);

		if (rnd(2))
			json_object_set_new(labels, "tier", json_string("x"));
		snprintf(name, sizeof(name), "p%d", i);
		snprintf(ip, sizeof(ip), "10.9.%d.%d", i % 3, i + 1);
		json_array_append_new(items, json_pack(
			"{s:s, s:{s:s, s:s, s:o}, s:{s:s, s:[{s:[{s:s, s:i, s:s}]}]}, s:{s:s}}",
			"kind", "Pod", "metadata", "name", name, "namespace", i % 3 ? "ns1" : "ns0",
			"labels", labels, "spec", "nodeName", i % 2 ? "n2" : "n1", "containers",
			"ports", "name", rnd(2) ? "http" : "alt", "containerPort", 80 + rnd(2),
			"protocol", rnd(3) ? "TCP" : "UDP", "status", "podIP", ip));
	}
	for (int i = 0; i < 1 + (int)rnd(4); i++) {
		json_t *types = json_array(), *spec;

		if (rnd(3))
			json_array_append_new(types, json_string("Ingress"));
		if (rnd(2))
			json_array_append_new(types, json_string("Egress"));
		spec = json_pack("{s:o, s:o, s:o}", "podSelector", rnd(3) ? rnd_selector(false) :
				 json_object(), "ingress", rnd_rules("from"), "egress", rnd_rules("to"));
		if (rnd(3))
			json_object_set(spec, "policyTypes", types);
		json_decref(types);
		snprintf(name, sizeof(name), "pol%d", i);
		json_array_append_new(items, json_pack("{s:s, s:{s:s, s:s}, s:o}", "kind",
			"NetworkPolicy", "metadata", "name", name, "namespace", i % 2 ? "ns1" : "ns0",
			"spec", spec));
	}
	return json_pack("{s:s, s:o}", "kind", "List", "items", items);
}

static bool allowed_on(const struct nr_ruleset *n1, const struct nr_ruleset *n2,
		       const struct np_endpoint *src, const struct np_endpoint *dst,
		       const struct sim_pkt *p)
{
	const struct nr_ruleset *a = !src->pod ? NULL : !strcmp(src->pod->node, "n1") ? n1 : n2;
	const struct nr_ruleset *b = !dst->pod ? NULL : !strcmp(dst->pod->node, "n1") ? n1 : n2;

	return (!a || sim_allows(a, p)) && (!b || b == a || sim_allows(b, p));
}

static void check_world(const struct np_world *w, unsigned round)
{
	static const struct { uint16_t port; uint8_t proto; } probes[] = {
		{ 80, 6 }, { 81, 6 }, { 80, 17 }, { 81, 132 }, { 79, 6 }, { 443, 6 },
	};
	struct nr_opts all = { .log_group = -1 }, o1 = { .node = "n1", .log_group = -1 },
		       o2 = { .node = "n2", .log_group = -1 };
	struct nr_ruleset one, n1, n2;
	struct np_endpoint eps[10];
	size_t n = 0;

	assert_int_equal(nr_compile(w, &all, &one), 0);
	assert_int_equal(nr_compile(w, &o1, &n1), 0);
	assert_int_equal(nr_compile(w, &o2, &n2), 0);
	for (size_t i = 0; i < w->n_pods; i++)
		eps[n++] = (struct np_endpoint){ .pod = &w->pods[i] };
	eps[n] = (struct np_endpoint){ 0 };
	assert_int_equal(vn_addr_parse("192.0.2.7", &eps[n++].ip), 0);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j++) {
			for (size_t k = 0; k < sizeof(probes) / sizeof(probes[0]); k++) {
				struct np_endpoint src = eps[i], dst = eps[j];
				struct np_verdict v;
				struct sim_pkt p;
				bool s1, s2;

				if (i == j || (!src.pod && !dst.pod))
					continue;
				np_endpoints_resolve(&src, &dst);
				p = (struct sim_pkt){ src.ip, dst.ip, probes[k].proto, probes[k].port };
				assert_int_equal(np_explain(w, &src, &dst, p.port, p.proto, &v), 0);
				s1 = sim_allows(&one, &p);
				s2 = allowed_on(&n1, &n2, &src, &dst, &p);
				if (s1 != v.allowed || s2 != v.allowed)
					fail_msg("world %u: %zu -> %zu %u/%u: explain %d, 1 node %d, "
						 "2 nodes %d", round, i, j, p.port, p.proto, v.allowed,
						 s1, s2);
				np_verdict_free(&v);
			}
		}
	}
	nr_ruleset_free(&one);
	nr_ruleset_free(&n1);
	nr_ruleset_free(&n2);
}

static void test_random_worlds(void **state)
{
	(void)state;
	rnd_state = 0x9e3779b97f4a7c15ULL;
	for (unsigned round = 0; round < 300; round++) {
		json_t *j = rnd_world();
		struct np_world w = { 0 };
		struct vn_err e = { 0 };

		if (np_apply_value(&w, j, NULL, &e))
			fail_msg("world %u: %s", round, e.details);
		check_world(&w, round);
		np_world_free(&w);
		json_decref(j);
	}
}

/* ---- names, long selectors, big ipBlocks ---- */

/* What nft's parser takes as a name (scanner.l, `string`): a letter, '_'
 * or '.', then letters, digits and "/-_.". */
static bool nft_identifier(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' || *s == '.'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("/-_.", *s)))
			return false;
	return true;
}

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* A 63-character namespace starting with a digit, two 253-character
 * policy names that differ only at the end: every counter is a name nft
 * can parse back, at most 255 bytes, the same on every compile, and
 * distinct for distinct rules. */
static void test_counter_names(void **state)
{
	char *ns = repeat('n', 63), *l63 = repeat('a', 63), *text, name[2][260];
	struct nr_opts o = { .log_group = -1 };
	struct nr_ruleset rs, again;
	struct np_world w = { 0 };
	const struct nr_chain *ch;

	(void)state;
	ns[0] = '1';
	for (int i = 0; i < 2; i++)
		snprintf(name[i], sizeof(name[i]), "%s.%s.%s.%.60s%c", l63, l63, l63, l63,
			 i ? 'y' : 'x');
	assert_int_equal(strlen(name[0]), 253);
	assert_true(asprintf(&text,
		"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\",\"namespace\":\"%s\"},"
		"\"spec\":{\"nodeName\":\"n1\"},\"status\":{\"podIP\":\"10.0.1.1\"}}\n"
		"{\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\"},"
		"\"spec\":{\"ingress\":[{\"ports\":[{\"port\":80}]}],\"egress\":[{}]}}\n"
		"{\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\"},"
		"\"spec\":{\"ingress\":[{\"ports\":[{\"port\":81}]}]}}\n"
		"{\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"9-lives\",\"namespace\":\"x\"},"
		"\"spec\":{\"ingress\":[{}]}}\n"
		"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"b\",\"namespace\":\"x\"},"
		"\"spec\":{\"nodeName\":\"n1\"},\"status\":{\"podIP\":\"10.0.1.2\"}}\n",
		ns, name[0], ns, name[1], ns) > 0);
	load(&w, text);
	assert_int_equal(nr_compile(&w, &o, &rs), 0);
	assert_int_equal(nr_compile(&w, &o, &again), 0);
	/* ingress-0 of both long policies, egress-0 of the first, x's. */
	assert_int_equal(rs.n_counters, 4);
	assert_int_equal(again.n_counters, 4);
	for (size_t i = 0; i < rs.n_counters; i++) {
		if (!nft_identifier(rs.counters[i]))
			fail_msg("counter \"%s\" is not a name nft can parse", rs.counters[i]);
		assert_true(strlen(rs.counters[i]) <= 255);
		assert_string_equal(rs.counters[i], again.counters[i]);
		if (i)
			assert_string_not_equal(rs.counters[i - 1], rs.counters[i]);
	}
	/* Names that need no change keep the documented form. */
	assert_string_equal(rs.counters[rs.n_counters - 1], "x/9-lives/ingress-0");
	/* Every rule counts into a counter that exists. */
	for (size_t i = 0; i < rs.n_chains; i++) {
		ch = &rs.chains[i];
		for (size_t j = 0; j < ch->n; j++) {
			const char *c = ch->rules[j].counter;
			bool found = false;

			for (size_t k = 0; c && k < rs.n_counters; k++)
				found |= !strcmp(rs.counters[k], c);
			assert_true(!c || found);
		}
	}
	nr_ruleset_free(&rs);
	nr_ruleset_free(&again);
	np_world_free(&w);
	free(text);
	free(ns);
	free(l63);
}

/* Verdict of explain and of the compiled rules (one node holding every
 * pod) for src -> dst; they must agree. Returns the verdict. */
static bool agreed(const struct np_world *w, const struct nr_ruleset *rs, const char *src,
		   const char *dst, uint16_t port, uint8_t proto)
{
	struct np_endpoint s, d;
	struct np_verdict v;
	struct vn_err e;
	struct sim_pkt p;
	bool sim;

	if (np_endpoint_parse(w, src, &s, &e) || np_endpoint_parse(w, dst, &d, &e))
		fail_msg("%s", e.details);
	np_endpoints_resolve(&s, &d);
	p = (struct sim_pkt){ s.ip, d.ip, proto, port };
	assert_int_equal(np_explain(w, &s, &d, port, proto, &v), 0);
	sim = sim_allows(rs, &p);
	if (sim != v.allowed)
		fail_msg("%s -> %s %u/%u: explain %s, compiled rules %s", src, dst, port, proto,
			 v.allowed ? "allow" : "deny", sim ? "allow" : "deny");
	np_verdict_free(&v);
	return sim;
}

/* Two peers whose selectors differ only after their first 480
 * characters select different pods, so they need different sets. */
static void test_long_selectors(void **state)
{
	char *text = NULL, vals[2][1200];
	size_t n[2] = { 0, 0 };
	struct nr_opts o = { .log_group = -1 };
	struct np_world w = { 0 };
	struct nr_ruleset rs;

	(void)state;
	for (int i = 0; i < 13; i++)
		for (int k = 0; k < 2; k++)
			n[k] += (size_t)snprintf(vals[k] + n[k], sizeof(vals[k]) - n[k],
						 "\"v%02d%.55s\",", i, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
						 "xxxxxxxxxxxxxxxxxxxxxx");
	snprintf(vals[0] + n[0], sizeof(vals[0]) - n[0], "\"other\"");
	snprintf(vals[1] + n[1], sizeof(vals[1]) - n[1], "\"last\"");
	assert_true(asprintf(&text,
		POD("x", "a", "n1", "{\"app\":\"a\"}", "10.0.1.1")
		POD("x", "b", "n1", "{\"k\":\"last\"}", "10.0.1.2")
		POD("x", "c", "n1", "{\"k\":\"other\"}", "10.0.1.3")
		POL("x", "p", "{\"podSelector\":{\"matchLabels\":{\"app\":\"a\"}},\"ingress\":["
		    "{\"from\":[{\"podSelector\":{\"matchExpressions\":[{\"key\":\"k\","
		    "\"operator\":\"In\",\"values\":[%s]}]}}],\"ports\":[{\"port\":80}]},"
		    "{\"from\":[{\"podSelector\":{\"matchExpressions\":[{\"key\":\"k\","
		    "\"operator\":\"In\",\"values\":[%s]}]}}],\"ports\":[{\"port\":81}]}]}"),
		vals[0], vals[1]) > 0);
	load(&w, text);
	assert_int_equal(nr_compile(&w, &o, &rs), 0);
	assert_true(agreed(&w, &rs, "x/c", "x/a", 80, NP_TCP));
	assert_false(agreed(&w, &rs, "x/b", "x/a", 80, NP_TCP));
	assert_true(agreed(&w, &rs, "x/b", "x/a", 81, NP_TCP));
	assert_false(agreed(&w, &rs, "x/c", "x/a", 81, NP_TCP));
	nr_ruleset_free(&rs);
	np_world_free(&w);
	free(text);
}

/* ipBlocks with many excepts, IPv4 and IPv6: no rule carries more than
 * NR_MAX_EXCEPTS of them (the kernel takes at most 128 expressions per
 * rule), every rule's text is complete, and the rules decide like the
 * model at each except, next to it and far from it. */
static void test_many_excepts(void **state)
{
	struct nr_opts o = { .log_group = -1 };
	struct np_world w = { 0 };
	struct nr_ruleset rs;
	char *text = NULL, *exc4 = NULL, *exc6 = NULL, *t;
	char buf[4096], ip[64];
	size_t rules = 0;

	(void)state;
	/* 100 /32s spread over 10.0.0.0/8, plus nested and duplicate ones. */
	assert_true(asprintf(&exc4, "\"10.200.0.0/16\",\"10.200.3.0/24\",\"10.200.3.0/24\"") > 0);
	assert_true(asprintf(&exc6, "\"fd00:1:ffff::/48\"") > 0);
	for (int i = 0; i < 100; i++) {
		t = exc4;
		assert_true(asprintf(&exc4, "%s,\"10.%d.%d.%d/32\"", t, i % 7, i * 37 % 256,
				     i * 11 % 256) > 0);
		free(t);
		t = exc6;
		assert_true(asprintf(&exc6, "%s,\"fd00:1:%x::%x/%d\"", t, i * 97 % 65536, i,
				     i % 2 ? 128 : 96) > 0);
		free(t);
	}
	assert_true(asprintf(&text,
		"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\",\"namespace\":\"x\"},"
		"\"spec\":{\"nodeName\":\"n1\"},\"status\":{\"podIPs\":[{\"ip\":\"192.168.0.1\"},"
		"{\"ip\":\"fd99::1\"}]}}\n"
		POL("x", "p", "{\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/8\","
		    "\"except\":[%s]}},{\"ipBlock\":{\"cidr\":\"fd00:1::/32\",\"except\":[%s]}}],"
		    "\"ports\":[{\"port\":80},{\"port\":\"http\"}]}]}"), exc4, exc6) > 0);
	load(&w, text);
	assert_int_equal(nr_compile(&w, &o, &rs), 0);
	for (size_t i = 0; i < rs.n_chains; i++) {
		for (size_t j = 0; j < rs.chains[i].n; j++) {
			const struct nr_rule *r = &rs.chains[i].rules[j];

			if (r->addr != NR_A_PREFIX)
				continue;
			rules++;
			assert_true(r->n_except <= NR_MAX_EXCEPTS);
			nr_rule_text(r, buf, sizeof(buf));
			assert_true(strlen(buf) < 2000);
			assert_non_null(strstr(buf, " return"));
		}
	}
	assert_true(rules > 2);
	for (int i = 0; i < 100; i++) {
		int a = i % 7, b = i * 37 % 256, c = i * 11 % 256;

		snprintf(ip, sizeof(ip), "10.%d.%d.%d", a, b, c);
		assert_false(agreed(&w, &rs, ip, "x/a", 80, NP_TCP));
		snprintf(ip, sizeof(ip), "10.%d.%d.%d", a, b, (c + 1) % 256);
		agreed(&w, &rs, ip, "x/a", 80, NP_TCP);
		snprintf(ip, sizeof(ip), "fd00:1:%x::%x", i * 97 % 65536, i);
		assert_false(agreed(&w, &rs, ip, "x/a", 80, NP_TCP));
		snprintf(ip, sizeof(ip), "fd00:1:%x:1::%x", i * 97 % 65536, i);
		agreed(&w, &rs, ip, "x/a", 80, NP_TCP);
		snprintf(ip, sizeof(ip), "fd00:1:%x::%x", i * 97 % 65536, i + 1);
		agreed(&w, &rs, ip, "x/a", 80, NP_TCP);
	}
	assert_true(agreed(&w, &rs, "10.100.0.1", "x/a", 80, NP_TCP));
	assert_false(agreed(&w, &rs, "10.200.3.4", "x/a", 80, NP_TCP));
	assert_false(agreed(&w, &rs, "10.200.99.4", "x/a", 80, NP_TCP));
	assert_false(agreed(&w, &rs, "10.100.0.1", "x/a", 81, NP_TCP));
	assert_true(agreed(&w, &rs, "fd00:1:1234::1", "x/a", 80, NP_TCP));
	assert_false(agreed(&w, &rs, "fd00:1:ffff::1", "x/a", 80, NP_TCP));
	assert_false(agreed(&w, &rs, "11.0.0.1", "x/a", 80, NP_TCP));
	nr_ruleset_free(&rs);
	np_world_free(&w);
	free(text);
	free(exc4);
	free(exc6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profiles),
		cmocka_unit_test(test_sets),
		cmocka_unit_test(test_rule_text),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_size_linear),
		cmocka_unit_test(test_random_worlds),
		cmocka_unit_test(test_counter_names),
		cmocka_unit_test(test_long_selectors),
		cmocka_unit_test(test_many_excepts),
	};

	return cmocka_run_group_tests_name("netpol_compile", tests, NULL, NULL);
}
