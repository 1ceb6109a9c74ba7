#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "model.h"
#include "vec.h"

void np_labels_free(struct np_labels *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void np_selector_free(struct np_selector *s)
{
	np_labels_free(&s->labels);
	for (size_t i = 0; i < s->n_exprs; i++) {
		free(s->exprs[i].key);
		for (size_t j = 0; j < s->exprs[i].n_values; j++)
			free(s->exprs[i].values[j]);
		free(s->exprs[i].values);
	}
	free(s->exprs);
	s->exprs = NULL;
	s->n_exprs = 0;
}

void np_namespace_free(struct np_namespace *n)
{
	free(n->name);
	np_labels_free(&n->labels);
	memset(n, 0, sizeof(*n));
}

void np_pod_free(struct np_pod *p)
{
	free(p->ns);
	free(p->name);
	free(p->node);
	np_labels_free(&p->labels);
	for (size_t i = 0; i < p->n_ports; i++)
		free(p->ports[i].name);
	free(p->ports);
	memset(p, 0, sizeof(*p));
}

static void rule_free(struct np_rule *r)
{
	for (size_t i = 0; i < r->n_peers; i++) {
		np_selector_free(&r->peers[i].pod_sel);
		np_selector_free(&r->peers[i].ns_sel);
		free(r->peers[i].except);
	}
	free(r->peers);
	for (size_t i = 0; i < r->n_ports; i++)
		free(r->ports[i].name);
	free(r->ports);
}

void np_policy_free(struct np_policy *p)
{
	free(p->ns);
	free(p->name);
	np_selector_free(&p->pod_sel);
	for (int d = 0; d < 2; d++) {
		for (size_t i = 0; i < p->n_rules[d]; i++)
			rule_free(&p->rules[d][i]);
		free(p->rules[d]);
	}
	memset(p, 0, sizeof(*p));
}

void np_object_free(struct np_object *o)
{
	switch (o->kind) {
	case NP_K_NAMESPACE:
		np_namespace_free(&o->ns);
		break;
	case NP_K_POD:
		np_pod_free(&o->pod);
		break;
	case NP_K_POLICY:
		np_policy_free(&o->pol);
		break;
	}
}

void np_world_free(struct np_world *w)
{
	for (size_t i = 0; i < w->n_nss; i++)
		np_namespace_free(&w->nss[i]);
	for (size_t i = 0; i < w->n_pods; i++)
		np_pod_free(&w->pods[i]);
	for (size_t i = 0; i < w->n_pols; i++)
		np_policy_free(&w->pols[i]);
	free(w->nss);
	free(w->pods);
	free(w->pols);
	hmap_free(&w->idx);
	memset(w, 0, sizeof(*w));
}

const char *np_labels_get(const struct np_labels *l, const char *key)
{
	long at = vec_find_str(l->v, l->n, sizeof(*l->v), offsetof(struct np_label, key), key);

	return at < 0 ? NULL : l->v[at].value;
}

static bool same(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

static uint64_t key_of(enum np_kind kind, const char *ns, const char *name)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	unsigned char k = (unsigned char)kind;
	const char *parts[2] = { ns ? ns : "", name ? name : "" };

	h = (h ^ k) * 0x100000001b3ULL;
	for (int i = 0; i < 2; i++) {
		for (const char *p = parts[i]; *p; p++)
			h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
		h = (h ^ '/') * 0x100000001b3ULL;
	}
	return h;
}

static size_t count_of(const struct np_world *w, enum np_kind kind)
{
	return kind == NP_K_NAMESPACE ? w->n_nss : kind == NP_K_POD ? w->n_pods : w->n_pols;
}

/* Does object i of kind have this namespace and name? */
static bool is(const struct np_world *w, enum np_kind kind, size_t i, const char *ns,
	       const char *name)
{
	switch (kind) {
	case NP_K_NAMESPACE:
		return same(w->nss[i].name, name);
	case NP_K_POD:
		return same(w->pods[i].name, name) && same(w->pods[i].ns, ns);
	case NP_K_POLICY:
		return same(w->pols[i].name, name) && same(w->pols[i].ns, ns);
	}
	return false;
}

/* Index of the object, or -1. */
static long find(const struct np_world *w, enum np_kind kind, const char *ns, const char *name)
{
	size_t at;

	if (hmap_get(&w->idx, key_of(kind, ns, name), &at) && at < count_of(w, kind) &&
	    is(w, kind, at, ns, name))
		return (long)at;
	return -1;
}

/* Grows *arr (of elem bytes each, *n used) by one slot; returns it. */
static void identity(const struct np_object *o, const char **ns, const char **name)
{
	*ns = o->kind == NP_K_POD ? o->pod.ns : o->kind == NP_K_POLICY ? o->pol.ns : NULL;
	*name = o->kind == NP_K_POD ? o->pod.name : o->kind == NP_K_POLICY ? o->pol.name :
		o->ns.name;
}

/* Moves the last object of kind into slot at (swap-remove) and fixes the
 * index of the moved object. */
static void fill_hole(struct np_world *w, enum np_kind kind, size_t at)
{
	size_t last = count_of(w, kind) - 1;
	const char *ns = NULL, *name = NULL;

	if (at != last) {
		switch (kind) {
		case NP_K_NAMESPACE:
			w->nss[at] = w->nss[last];
			name = w->nss[at].name;
			break;
		case NP_K_POD:
			w->pods[at] = w->pods[last];
			ns = w->pods[at].ns;
			name = w->pods[at].name;
			break;
		case NP_K_POLICY:
			w->pols[at] = w->pols[last];
			ns = w->pols[at].ns;
			name = w->pols[at].name;
			break;
		}
		/* Replacing an existing key never allocates. */
		hmap_put(&w->idx, key_of(kind, ns, name), at);
	}
	if (kind == NP_K_NAMESPACE)
		w->n_nss--;
	else if (kind == NP_K_POD)
		w->n_pods--;
	else
		w->n_pols--;
}

int np_world_put(struct np_world *w, struct np_object *o)
{
	const char *ns, *name;
	enum np_kind kind = o->kind;
	long at;
	void *slot = NULL;
	size_t idx;

	identity(o, &ns, &name);
	at = find(w, o->kind, ns, name);
	switch (o->kind) {
	case NP_K_NAMESPACE:
		if (at >= 0)
			np_namespace_free(&w->nss[at]);
		slot = at >= 0 ? (void *)&w->nss[at] :
		       vec_push((void **)&w->nss, &w->n_nss, &w->cap_nss, sizeof(*w->nss));
		if (slot)
			memcpy(slot, &o->ns, sizeof(o->ns));
		break;
	case NP_K_POD:
		if (at >= 0)
			np_pod_free(&w->pods[at]);
		slot = at >= 0 ? (void *)&w->pods[at] :
		       vec_push((void **)&w->pods, &w->n_pods, &w->cap_pods, sizeof(*w->pods));
		if (slot)
			memcpy(slot, &o->pod, sizeof(o->pod));
		break;
	case NP_K_POLICY:
		if (at >= 0)
			np_policy_free(&w->pols[at]);
		slot = at >= 0 ? (void *)&w->pols[at] :
		       vec_push((void **)&w->pols, &w->n_pols, &w->cap_pols, sizeof(*w->pols));
		if (slot)
			memcpy(slot, &o->pol, sizeof(o->pol));
		break;
	}
	if (!slot) {
		np_object_free(o);
		return -1;
	}
	idx = at >= 0 ? (size_t)at : count_of(w, kind) - 1;
	memset(o, 0, sizeof(*o));
	if (hmap_put(&w->idx, key_of(kind, ns, name), idx)) {
		/* Without an index entry the object could not be found again:
		 * take it out (its strings die with it, so no lookup by them). */
		switch (kind) {
		case NP_K_NAMESPACE:
			np_namespace_free(&w->nss[idx]);
			break;
		case NP_K_POD:
			np_pod_free(&w->pods[idx]);
			break;
		case NP_K_POLICY:
			np_policy_free(&w->pols[idx]);
			break;
		}
		fill_hole(w, kind, idx);
		return -1;
	}
	return 0;
}

bool np_world_remove(struct np_world *w, enum np_kind kind, const char *ns, const char *name)
{
	long at = find(w, kind, ns, name);

	if (at < 0)
		return false;
	hmap_del(&w->idx, key_of(kind, ns, name));
	switch (kind) {
	case NP_K_NAMESPACE:
		np_namespace_free(&w->nss[at]);
		break;
	case NP_K_POD:
		np_pod_free(&w->pods[at]);
		break;
	case NP_K_POLICY:
		np_policy_free(&w->pols[at]);
		break;
	}
	fill_hole(w, kind, (size_t)at);
	return true;
}

const struct np_pod *np_world_pod(const struct np_world *w, const char *ns, const char *name)
{
	long at = find(w, NP_K_POD, ns, name);

	return at >= 0 ? &w->pods[at] : NULL;
}

const struct np_namespace *np_world_ns(const struct np_world *w, const char *name)
{
	long at = find(w, NP_K_NAMESPACE, NULL, name);

	return at >= 0 ? &w->nss[at] : NULL;
}

const struct np_pod *np_world_pod_by_ip(const struct np_world *w, const struct vn_addr *addr)
{
	for (size_t i = 0; i < w->n_pods; i++)
		for (size_t j = 0; j < w->pods[i].n_ips; j++)
			if (vn_addr_cmp(&w->pods[i].ips[j], addr) == 0)
				return &w->pods[i];
	return NULL;
}

const char *np_proto_name(uint8_t proto)
{
	switch (proto) {
	case NP_TCP:
		return "TCP";
	case NP_UDP:
		return "UDP";
	case NP_SCTP:
		return "SCTP";
	}
	return "?";
}

uint8_t np_proto_parse(const char *s)
{
	if (!strcmp(s, "TCP"))
		return NP_TCP;
	if (!strcmp(s, "UDP"))
		return NP_UDP;
	if (!strcmp(s, "SCTP"))
		return NP_SCTP;
	return 0;
}

const char *np_dir_name(enum np_dir d)
{
	return d == NP_INGRESS ? "Ingress" : "Egress";
}
