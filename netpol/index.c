#include <arpa/inet.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "decide.h"
#include "index.h"
#include "vec.h"

static int pod_cmp(const void *a, const void *b)
{
	const struct np_pod *x = *(const struct np_pod *const *)a;
	const struct np_pod *y = *(const struct np_pod *const *)b;
	int c = strcmp(x->ns, y->ns);

	return c ? c : strcmp(x->name, y->name);
}

static int pol_cmp(const void *a, const void *b)
{
	const struct np_policy *x = *(const struct np_policy *const *)a;
	const struct np_policy *y = *(const struct np_policy *const *)b;
	int c = strcmp(x->ns, y->ns);

	return c ? c : strcmp(x->name, y->name);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int post_cmp(const void *a, const void *b)
{
	const struct ix_post *x = a, *y = b;

	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	return (x->pod > y->pod) - (x->pod < y->pod);
}

static uint64_t label_hash(const char *key, const char *value)
{
	uint64_t h = nr_hash(key, strlen(key), NR_HASH_SEED);

	h = nr_hash("=", 1, h);
	return nr_hash(value, strlen(value), h);
}

static long ns_find(const struct np_index *ix, const char *name)
{
	return vec_find_str(ix->nss, ix->n_nss, sizeof(*ix->nss), offsetof(struct ix_ns, name),
			    name);
}

/* Collects the distinct namespace names of the world, sorted. */
static int build_namespaces(struct np_index *ix, const struct np_world *w)
{
	size_t cap = w->n_nss + w->n_pods + w->n_pols, n = 0, u = 0;
	const char **names = calloc(cap + 1, sizeof(*names));

	if (!names)
		return -1;
	for (size_t i = 0; i < w->n_nss; i++)
		names[n++] = w->nss[i].name;
	for (size_t i = 0; i < w->n_pods; i++)
		names[n++] = w->pods[i].ns;
	for (size_t i = 0; i < w->n_pols; i++)
		names[n++] = w->pols[i].ns;
	qsort(names, n, sizeof(*names), name_cmp);
	ix->nss = calloc(n + 1, sizeof(*ix->nss));
	ix->synth = calloc(n + 1, sizeof(*ix->synth));
	ix->synth_labels = calloc(n + 1, sizeof(*ix->synth_labels));
	ix->ns_ok = calloc(n + 1, sizeof(*ix->ns_ok));
	if (!ix->nss || !ix->synth || !ix->synth_labels || !ix->ns_ok) {
		free(names);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct np_namespace *obj;

		if (u && !strcmp(ix->nss[u - 1].name, names[i]))
			continue;
		ix->nss[u].name = names[i];
		obj = np_world_ns(w, names[i]);
		if (obj) {
			ix->nss[u].labels = &obj->labels;
		} else {
			ix->synth[u].key = (char *)NP_NS_LABEL;
			ix->synth[u].value = (char *)names[i];
			ix->synth_labels[u].v = &ix->synth[u];
			ix->synth_labels[u].n = 1;
			ix->nss[u].labels = &ix->synth_labels[u];
		}
		u++;
	}
	ix->n_nss = u;
	free(names);
	return 0;
}

static int build_pods(struct np_index *ix, const struct np_world *w)
{
	size_t n_posts = 0;

	ix->pods = calloc(w->n_pods + 1, sizeof(*ix->pods));
	ix->pod_ns = calloc(w->n_pods + 1, sizeof(*ix->pod_ns));
	if (!ix->pods || !ix->pod_ns)
		return -1;
	for (size_t i = 0; i < w->n_pods; i++) {
		if (!w->pods[i].n_ips)
			continue;
		ix->pods[ix->n_pods++] = &w->pods[i];
		n_posts += w->pods[i].labels.n;
	}
	qsort(ix->pods, ix->n_pods, sizeof(*ix->pods), pod_cmp);
	ix->posts = calloc(n_posts + 1, sizeof(*ix->posts));
	if (!ix->posts)
		return -1;
	for (size_t i = 0; i < ix->n_pods; i++) {
		const struct np_pod *p = ix->pods[i];
		long ns = ns_find(ix, p->ns);

		ix->pod_ns[i] = (size_t)ns;
		if (i == 0 || ix->pod_ns[i - 1] != (size_t)ns)
			ix->nss[ns].pod_lo = i;
		ix->nss[ns].pod_hi = i + 1;
		for (size_t j = 0; j < p->labels.n; j++) {
			ix->posts[ix->n_posts].h = label_hash(p->labels.v[j].key, p->labels.v[j].value);
			ix->posts[ix->n_posts++].pod = i;
		}
	}
	qsort(ix->posts, ix->n_posts, sizeof(*ix->posts), post_cmp);
	return 0;
}

int np_index_build(struct np_index *ix, const struct np_world *w)
{
	memset(ix, 0, sizeof(*ix));
	if (build_namespaces(ix, w) || build_pods(ix, w))
		goto fail;
	ix->pols = calloc(w->n_pols + 1, sizeof(*ix->pols));
	if (!ix->pols)
		goto fail;
	for (size_t i = 0; i < w->n_pols; i++)
		ix->pols[ix->n_pols++] = &w->pols[i];
	qsort(ix->pols, ix->n_pols, sizeof(*ix->pols), pol_cmp);
	return 0;
fail:
	np_index_free(ix);
	return -1;
}

void np_index_free(struct np_index *ix)
{
	free(ix->pods);
	free(ix->pod_ns);
	free(ix->pols);
	free(ix->nss);
	free(ix->synth);
	free(ix->synth_labels);
	free(ix->posts);
	free(ix->ns_ok);
	memset(ix, 0, sizeof(*ix));
}

void np_index_policies_of(const struct np_index *ix, const char *ns, size_t *lo, size_t *hi)
{
	size_t a = 0, b = ix->n_pols;

	while (a < b) {
		size_t mid = (a + b) / 2;

		if (strcmp(ix->pols[mid]->ns, ns) < 0)
			a = mid + 1;
		else
			b = mid;
	}
	*lo = a;
	while (b < ix->n_pols && !strcmp(ix->pols[b]->ns, ns))
		b++;
	*hi = b < a ? a : b;
}

/* The postings of "key=value": [*lo, *hi). */
static void posting(const struct np_index *ix, const char *key, const char *value,
		    size_t *lo, size_t *hi)
{
	uint64_t h = label_hash(key, value);
	size_t a = 0, b = ix->n_posts;

	while (a < b) {
		size_t mid = (a + b) / 2;

		if (ix->posts[mid].h < h)
			a = mid + 1;
		else
			b = mid;
	}
	*lo = a;
	while (b < ix->n_posts && ix->posts[b].h == h)
		b++;
	*hi = b;
}

static int add_pod(const struct np_pod *p, struct nr_set *s4, struct nr_set *s6)
{
	for (size_t i = 0; i < p->n_ips; i++) {
		struct nr_set *s = p->ips[i].family == AF_INET ? s4 : s6;

		if (s && nr_set_add(s, p->ips[i].b, NULL))
			return -1;
	}
	return 0;
}

/* A selective requirement of sel: the matchLabels pair or In expression
 * with the fewest pods. *best_n stays at its input value if none is
 * smaller. Fills *which (0 none, 1 label index, 2 expr index). */
static void pick_requirement(const struct np_index *ix, const struct np_selector *sel,
			     size_t *best_n, int *which, size_t *at)
{
	*which = 0;
	for (size_t i = 0; i < sel->labels.n; i++) {
		size_t lo, hi;

		posting(ix, sel->labels.v[i].key, sel->labels.v[i].value, &lo, &hi);
		if (hi - lo < *best_n) {
			*best_n = hi - lo;
			*which = 1;
			*at = i;
		}
	}
	for (size_t i = 0; i < sel->n_exprs; i++) {
		const struct np_expr *x = &sel->exprs[i];
		size_t total = 0;

		if (x->op != NP_OP_IN)
			continue;
		for (size_t v = 0; v < x->n_values; v++) {
			size_t lo, hi;

			posting(ix, x->key, x->values[v], &lo, &hi);
			total += hi - lo;
		}
		if (total < *best_n) {
			*best_n = total;
			*which = 2;
			*at = i;
		}
	}
}

static int take(struct np_index *ix, size_t pod, const struct np_peer *peer,
		struct nr_set *s4, struct nr_set *s6)
{
	const struct np_pod *p = ix->pods[pod];

	if (!ix->ns_ok[ix->pod_ns[pod]])
		return 0;
	if (peer->has_pod_sel && !np_selector_matches(&peer->pod_sel, &p->labels))
		return 0;
	return add_pod(p, s4, s6);
}

static int scan_posting(struct np_index *ix, const char *key, const char *value,
			const struct np_peer *peer, struct nr_set *s4, struct nr_set *s6)
{
	size_t lo, hi;

	posting(ix, key, value, &lo, &hi);
	for (size_t i = lo; i < hi; i++)
		if (take(ix, ix->posts[i].pod, peer, s4, s6))
			return -1;
	return 0;
}

int np_index_peer_members(struct np_index *ix, const struct np_policy *pol,
			  const struct np_peer *peer, struct nr_set *s4, struct nr_set *s6)
{
	size_t in_ns = 0, best, at = 0;
	int which = 0;

	for (size_t i = 0; i < ix->n_nss; i++) {
		ix->ns_ok[i] = peer->has_ns_sel ?
			       np_selector_matches(&peer->ns_sel, ix->nss[i].labels) :
			       !strcmp(ix->nss[i].name, pol->ns);
		if (ix->ns_ok[i])
			in_ns += ix->nss[i].pod_hi - ix->nss[i].pod_lo;
	}
	best = in_ns;
	if (peer->has_pod_sel)
		pick_requirement(ix, &peer->pod_sel, &best, &which, &at);
	if (which == 1)
		return scan_posting(ix, peer->pod_sel.labels.v[at].key,
				    peer->pod_sel.labels.v[at].value, peer, s4, s6);
	if (which == 2) {
		const struct np_expr *x = &peer->pod_sel.exprs[at];

		for (size_t v = 0; v < x->n_values; v++)
			if (scan_posting(ix, x->key, x->values[v], peer, s4, s6))
				return -1;
		return 0;
	}
	for (size_t i = 0; i < ix->n_nss; i++) {
		if (!ix->ns_ok[i])
			continue;
		for (size_t p = ix->nss[i].pod_lo; p < ix->nss[i].pod_hi; p++)
			if (take(ix, p, peer, s4, s6))
				return -1;
	}
	return 0;
}

int np_index_named_port(const struct np_index *ix, int family, uint8_t proto, const char *name,
			struct nr_set *s)
{
	for (size_t i = 0; i < ix->n_pods; i++) {
		const struct np_pod *p = ix->pods[i];

		for (size_t k = 0; k < p->n_ports; k++) {
			const struct np_cport *cp = &p->ports[k];

			if (!cp->name || cp->proto != proto || strcmp(cp->name, name))
				continue;
			for (size_t a = 0; a < p->n_ips; a++) {
				uint8_t key[20] = { 0 };
				unsigned int al = vn_addr_size(family);
				uint16_t port = htons(cp->port);

				if (p->ips[a].family != family)
					continue;
				memcpy(key, p->ips[a].b, al);
				memcpy(key + al, &port, 2);
				if (nr_set_add(s, key, NULL))
					return -1;
			}
		}
	}
	return 0;
}
