/* The upstream e2e NetworkPolicy cases (tests/conformance/cases, format in
 * FORMAT.md there) against the model and the compiler, without a kernel:
 * for every case, step and probe, every ordered pod pair must get the
 * expected verdict from
 *   - np_explain (the model),
 *   - the compiled ruleset of a single node holding every pod (sim.h),
 *   - the compiled rulesets of two nodes, pods spread over both (a
 *     connection needs the source node's and the destination node's
 *     verdict),
 * in IPv4 and again with the pods on IPv6 addresses (a case whose
 * policies hold literal CIDRs runs in their family only). The cases are
 * those of $VN_NETPOL_CASES (a directory), else tests/conformance/cases
 * (or ../shared/netpol-conformance/cases) and tests/conformance/extra,
 * run from the repo root. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include "compile.h"
#include "decide.h"
#include "parse.h"
#include "report.h"
#include "sim.h"

#define MAX_PODS 16

struct cpod {
	char id[130];		/* "x/a" */
	char ns[64], name[64];
	struct vn_addr ip;
	json_t *labels;		/* owned */
	json_t *ports;		/* borrowed from the case */
};

struct cworld {
	json_t *kase;
	json_t *nss;		/* array of {name, labels}, owned copy */
	struct cpod pods[MAX_PODS];
	size_t n_pods;
	int family;
};

/* The case's placeholder 10.244.N.M, or fd00:10:244:N::M for IPv6. */
static void pod_addr(const char *placeholder, int family, struct vn_addr *out)
{
	unsigned a, b, c, d;
	char buf[64];

	assert_int_equal(sscanf(placeholder, "%u.%u.%u.%u", &a, &b, &c, &d), 4);
	if (family == AF_INET)
		snprintf(buf, sizeof(buf), "%s", placeholder);
	else
		snprintf(buf, sizeof(buf), "fd00:%u:%u:%u::%u", a, b, c, d);
	assert_int_equal(vn_addr_parse(buf, out), 0);
}

static void world_init(struct cworld *cw, json_t *kase, int family)
{
	json_t *cl = json_object_get(kase, "cluster"), *p;
	size_t i;

	memset(cw, 0, sizeof(*cw));
	cw->kase = kase;
	cw->family = family;
	cw->nss = json_deep_copy(json_object_get(cl, "namespaces"));
	json_array_foreach(json_object_get(cl, "pods"), i, p) {
		struct cpod *cp = &cw->pods[cw->n_pods++];

		assert_true(cw->n_pods <= MAX_PODS);
		snprintf(cp->ns, sizeof(cp->ns), "%s", json_string_value(json_object_get(p, "namespace")));
		snprintf(cp->name, sizeof(cp->name), "%s", json_string_value(json_object_get(p, "name")));
		snprintf(cp->id, sizeof(cp->id), "%s/%s",
			 json_string_value(json_object_get(p, "namespace")),
			 json_string_value(json_object_get(p, "name")));
		pod_addr(json_string_value(json_object_get(p, "ip")), family, &cp->ip);
		cp->labels = json_deep_copy(json_object_get(p, "labels"));
		cp->ports = json_object_get(p, "containerPorts");
	}
}

static void world_free(struct cworld *cw)
{
	json_decref(cw->nss);
	for (size_t i = 0; i < cw->n_pods; i++)
		json_decref(cw->pods[i].labels);
}

static struct cpod *find_pod(struct cworld *cw, const char *id)
{
	for (size_t i = 0; i < cw->n_pods; i++)
		if (!strcmp(cw->pods[i].id, id))
			return &cw->pods[i];
	fail_msg("no pod %s", id);
	return NULL;
}

static void apply_label_actions(struct cworld *cw, json_t *actions)
{
	size_t i, k;
	json_t *a, *ns;

	json_array_foreach(actions, i, a) {
		const char *what = json_string_value(json_object_get(a, "action"));

		if (!strcmp(what, "setPodLabels")) {
			struct cpod *p = find_pod(cw, json_string_value(json_object_get(a, "pod")));

			json_decref(p->labels);
			p->labels = json_deep_copy(json_object_get(a, "labels"));
		} else if (!strcmp(what, "setNamespaceLabels")) {
			const char *name = json_string_value(json_object_get(a, "namespace"));

			json_array_foreach(cw->nss, k, ns) {
				if (strcmp(json_string_value(json_object_get(ns, "name")), name))
					continue;
				json_object_set(ns, "labels", json_object_get(a, "labels"));
			}
		}
	}
}

/* Replaces {"podCIDRof": ..., "prefixLength": N} by the CIDR string. */
static json_t *substitute(struct cworld *cw, json_t *v)
{
	json_t *out, *x;
	const char *k;
	size_t i;

	if (json_is_object(v) && json_object_get(v, "podCIDRof")) {
		struct cpod *p = find_pod(cw, json_string_value(json_object_get(v, "podCIDRof")));
		json_t *len = json_object_get(v, "prefixLength");
		struct vn_prefix pfx = { .addr = p->ip, .len = vn_addr_size(cw->family) * 8 };
		char buf[VN_PREFIX_STRLEN];

		if (len)
			pfx.len = (unsigned)json_integer_value(len);
		vn_prefix_canon(&pfx);
		return json_string(vn_prefix_str(&pfx, buf));
	}
	if (json_is_object(v)) {
		out = json_object();
		json_object_foreach(v, k, x)
			json_object_set_new(out, k, substitute(cw, x));
		return out;
	}
	if (json_is_array(v)) {
		out = json_array();
		json_array_foreach(v, i, x)
			json_array_append_new(out, substitute(cw, x));
		return out;
	}
	return json_incref(v);
}

/* The v1 List of the world at a step; pods on node n1, or alternately
 * on n1 and n2 when two_nodes. */
static json_t *world_json(struct cworld *cw, json_t *policies, bool two_nodes)
{
	json_t *items = json_array(), *ns, *pol;
	char ip[VN_ADDR_STRLEN];
	size_t i;

	json_array_foreach(cw->nss, i, ns)
		json_array_append_new(items, json_pack("{s:s, s:s, s:{s:O, s:O}}", "apiVersion", "v1",
						       "kind", "Namespace", "metadata", "name",
						       json_object_get(ns, "name"), "labels",
						       json_object_get(ns, "labels")));
	for (i = 0; i < cw->n_pods; i++) {
		struct cpod *p = &cw->pods[i];

		json_array_append_new(items, json_pack(
			"{s:s, s:{s:s, s:s, s:O}, s:{s:s, s:[{s:s, s:O}]}, s:{s:[{s:s}]}}",
			"kind", "Pod", "metadata", "name", p->name, "namespace", p->ns, "labels",
			p->labels, "spec", "nodeName", two_nodes && i % 2 ? "n2" : "n1",
			"containers", "name", "c", "ports", p->ports, "status", "podIPs", "ip",
			vn_addr_str(&p->ip, ip)));
	}
	json_array_foreach(policies, i, pol)
		json_array_append_new(items, substitute(cw, pol));
	return json_pack("{s:s, s:s, s:o}", "apiVersion", "v1", "kind", "List", "items", items);
}

static bool expected_allowed(json_t *allowed, const char *from, const char *to)
{
	size_t i;
	json_t *pair;

	json_array_foreach(allowed, i, pair)
		if (!strcmp(json_string_value(json_array_get(pair, 0)), from) &&
		    !strcmp(json_string_value(json_array_get(pair, 1)), to))
			return true;
	return false;
}

struct rulesets {
	struct nr_ruleset one, n1, n2;
};

static void compile_all(const struct np_world *w, struct rulesets *rs)
{
	struct nr_opts all = { .node = NULL, .log_group = -1 };
	struct nr_opts o1 = { .node = "n1", .log_group = 5 };
	struct nr_opts o2 = { .node = "n2", .log_group = -1 };

	assert_int_equal(nr_compile(w, &all, &rs->one), 0);
	assert_int_equal(nr_compile(w, &o1, &rs->n1), 0);
	assert_int_equal(nr_compile(w, &o2, &rs->n2), 0);
}

static void free_all(struct rulesets *rs)
{
	nr_ruleset_free(&rs->one);
	nr_ruleset_free(&rs->n1);
	nr_ruleset_free(&rs->n2);
}

static size_t pod_index(struct cworld *cw, const struct np_pod *p)
{
	for (size_t i = 0; i < cw->n_pods; i++)
		if (!strcmp(cw->pods[i].ns, p->ns) && !strcmp(cw->pods[i].name, p->name))
			return i;
	return 0;
}

/* The verdict of the three views for one connection; fails on any
 * disagreement with want. */
static void check_pair(const char *where, struct cworld *cw, const struct np_world *w,
		       struct rulesets *rs, struct np_endpoint *src, struct np_endpoint *dst,
		       uint16_t port, uint8_t proto, bool want)
{
	struct np_verdict v;
	struct sim_pkt pkt = { .src = src->ip, .dst = dst->ip, .proto = proto, .port = port };
	bool one, two;
	const struct nr_ruleset *rs_src, *rs_dst;

	np_endpoints_resolve(src, dst);
	pkt.src = src->ip;
	pkt.dst = dst->ip;
	assert_int_equal(np_explain(w, src, dst, port, proto, &v), 0);
	one = sim_allows(&rs->one, &pkt);
	/* Outside pods sit on neither node: only the pod's node filters. */
	rs_src = !src->pod ? NULL : pod_index(cw, src->pod) % 2 ? &rs->n2 : &rs->n1;
	rs_dst = !dst->pod ? NULL : pod_index(cw, dst->pod) % 2 ? &rs->n2 : &rs->n1;
	two = (!rs_src || sim_allows(rs_src, &pkt)) &&
	      (!rs_dst || rs_dst == rs_src || sim_allows(rs_dst, &pkt));
	if (v.allowed != want || one != want || two != want)
		fail_msg("%s %u/%s: want %s, explain %s, 1 node %s, 2 nodes %s", where, port,
			 np_proto_name(proto), want ? "allowed" : "denied",
			 v.allowed ? "allowed" : "denied", one ? "allowed" : "denied",
			 two ? "allowed" : "denied");
	np_verdict_free(&v);
}

static void endpoint(const struct np_world *w, const char *s, struct np_endpoint *ep)
{
	struct vn_err e;

	if (np_endpoint_parse(w, s, ep, &e))
		fail_msg("%s", e.details);
}

static void check_probe(struct cworld *cw, const struct np_world *w, struct rulesets *rs,
			json_t *probe, const char *step)
{
	uint16_t port = (uint16_t)json_integer_value(json_object_get(probe, "port"));
	uint8_t proto = np_proto_parse(json_string_value(json_object_get(probe, "protocol")));
	json_t *allowed = json_object_get(probe, "allowed"), *ext;
	char where[256];
	size_t k;

	for (size_t i = 0; i < cw->n_pods; i++) {
		for (size_t j = 0; j < cw->n_pods; j++) {
			struct np_endpoint src, dst;

			if (i == j)
				continue;
			endpoint(w, cw->pods[i].id, &src);
			endpoint(w, cw->pods[j].id, &dst);
			snprintf(where, sizeof(where), "%s: %s -> %s", step, cw->pods[i].id,
				 cw->pods[j].id);
			check_pair(where, cw, w, rs, &src, &dst, port, proto,
				   expected_allowed(allowed, cw->pods[i].id, cw->pods[j].id));
		}
	}
	if (cw->family != AF_INET)
		return;
	json_array_foreach(json_object_get(probe, "external"), k, ext) {
		struct np_endpoint src, dst;
		const char *from = json_string_value(json_object_get(ext, "from"));
		const char *to = json_string_value(json_object_get(ext, "to"));

		endpoint(w, from, &src);
		endpoint(w, to, &dst);
		snprintf(where, sizeof(where), "%s: %s -> %s", step, from, to);
		check_pair(where, cw, w, rs, &src, &dst, port, proto,
			   json_is_true(json_object_get(ext, "allowed")));
	}
}

static void run_case_family(json_t *kase, int family)
{
	struct cworld cw;
	json_t *step;
	size_t s;

	world_init(&cw, kase, family);
	json_array_foreach(json_object_get(kase, "steps"), s, step) {
		struct np_world w = { 0 };
		struct vn_err e = { 0 };
		struct rulesets rs;
		json_t *probe, *list;
		char where[128];
		size_t p;

		apply_label_actions(&cw, json_object_get(step, "actions"));
		list = world_json(&cw, json_object_get(step, "policies"), true);
		if (np_apply_value(&w, list, NULL, &e))
			fail_msg("step %zu: %s", s, e.details);
		json_decref(list);
		compile_all(&w, &rs);
		snprintf(where, sizeof(where), "IPv%d step %zu", family == AF_INET ? 4 : 6, s);
		json_array_foreach(json_object_get(step, "probes"), p, probe)
			check_probe(&cw, &w, &rs, probe, where);
		free_all(&rs);
		np_world_free(&w);
	}
	world_free(&cw);
}

/* Ors into *fams (bit 0 IPv4, bit 1 IPv6) the family of every literal
 * CIDR string under an ipBlock in v. */
static void literal_families(json_t *v, bool in_block, unsigned *fams)
{
	const char *k;
	json_t *x;
	size_t i;

	if (json_is_string(v) && in_block) {
		*fams |= strchr(json_string_value(v), ':') ? 2u : 1u;
		return;
	}
	json_object_foreach(v, k, x)
		literal_families(x, in_block || !strcmp(k, "ipBlock"), fams);
	json_array_foreach(v, i, x)
		literal_families(x, in_block, fams);
}

static void run_case(void **state)
{
	const char *path = *state;
	json_error_t je;
	json_t *kase = json_load_file(path, 0, &je);
	unsigned fams = 0;

	if (!kase)
		fail_msg("%s: %s", path, je.text);
	literal_families(json_object_get(kase, "steps"), false, &fams);
	if (fams != 2)
		run_case_family(kase, AF_INET);
	if (fams != 1)
		run_case_family(kase, AF_INET6);
	json_decref(kase);
}

/* The case directories: $VN_NETPOL_CASES alone, or the upstream cases
 * and tests/conformance/extra. Returns how many were found. */
static size_t cases_dirs(const char *dirs[2])
{
	static const char *const upstream[] = { "tests/conformance/cases",
						"../shared/netpol-conformance/cases" };
	const char *env = getenv("VN_NETPOL_CASES");
	size_t n = 0;
	DIR *d;

	if (env) {
		dirs[0] = env;
		return 1;
	}
	for (size_t i = 0; i < 2 && !n; i++) {
		if ((d = opendir(upstream[i]))) {
			closedir(d);
			dirs[n++] = upstream[i];
		}
	}
	if ((d = opendir("tests/conformance/extra"))) {
		closedir(d);
		dirs[n++] = "tests/conformance/extra";
	}
	return n;
}

/* Appends the *.json files of dir to *paths. Returns 0 or -1. */
static int add_cases(const char *dir, char ***paths, size_t *n, size_t *cap)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);

		if (l < 6 || strcmp(de->d_name + l - 5, ".json"))
			continue;
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 64;
			*paths = realloc(*paths, *cap * sizeof(**paths));
			if (!*paths)
				break;
		}
		if (asprintf(&(*paths)[(*n)++], "%s/%s", dir, de->d_name) < 0)
			break;
	}
	closedir(d);
	return de ? -1 : 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
	const char *dirs[2];
	size_t n_dirs = cases_dirs(dirs), n = 0, cap = 0;
	struct CMUnitTest *tests;
	char **paths = NULL;
	int rc;

	if (!n_dirs) {
		fprintf(stderr, "no conformance cases found (set VN_NETPOL_CASES)\n");
		return 1;
	}
	for (size_t i = 0; i < n_dirs; i++)
		if (add_cases(dirs[i], &paths, &n, &cap))
			return 1;
	qsort(paths, n, sizeof(*paths), name_cmp);
	tests = calloc(n + 1, sizeof(*tests));
	for (size_t i = 0; i < n; i++) {
		tests[i].name = strrchr(paths[i], '/') + 1;
		tests[i].test_func = run_case;
		tests[i].initial_state = paths[i];
	}
	rc = _cmocka_run_group_tests("netpol_conformance_model", tests, n, NULL, NULL);
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	free(tests);
	return rc;
}
