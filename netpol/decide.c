#include <stdlib.h>
#include <string.h>
#include "decide.h"

static bool expr_matches(const struct np_expr *x, const struct np_labels *l)
{
	const char *v = np_labels_get(l, x->key);
	bool in = false;

	switch (x->op) {
	case NP_OP_EXISTS:
		return v != NULL;
	case NP_OP_DOES_NOT_EXIST:
		return v == NULL;
	case NP_OP_IN:
	case NP_OP_NOT_IN:
		for (size_t i = 0; v && i < x->n_values; i++)
			if (!strcmp(v, x->values[i]))
				in = true;
		return x->op == NP_OP_IN ? in : !in;
	}
	return false;
}

bool np_selector_matches(const struct np_selector *s, const struct np_labels *l)
{
	for (size_t i = 0; i < s->labels.n; i++) {
		const char *v = np_labels_get(l, s->labels.v[i].key);

		if (!v || strcmp(v, s->labels.v[i].value))
			return false;
	}
	for (size_t i = 0; i < s->n_exprs; i++)
		if (!expr_matches(&s->exprs[i], l))
			return false;
	return true;
}

bool np_selector_empty(const struct np_selector *s)
{
	return s->labels.n == 0 && s->n_exprs == 0;
}

bool np_ns_selector_matches(const struct np_world *w, const struct np_selector *s,
			    const char *ns)
{
	const struct np_namespace *n = np_world_ns(w, ns);
	struct np_label only = { (char *)NP_NS_LABEL, (char *)ns };
	struct np_labels synth = { &only, 1 };

	return np_selector_matches(s, n ? &n->labels : &synth);
}

bool np_policy_selects(const struct np_policy *pol, const struct np_pod *pod)
{
	return !strcmp(pol->ns, pod->ns) && np_selector_matches(&pol->pod_sel, &pod->labels);
}

bool np_policy_applies(const struct np_policy *pol, const struct np_pod *pod, enum np_dir d)
{
	return pol->types[d] && np_policy_selects(pol, pod);
}

static bool ipblock_matches(const struct np_peer *peer, const struct vn_addr *ip)
{
	if (!ip->family || !vn_prefix_contains(&peer->cidr, ip))
		return false;
	for (size_t i = 0; i < peer->n_except; i++)
		if (vn_prefix_contains(&peer->except[i], ip))
			return false;
	return true;
}

bool np_peer_matches(const struct np_world *w, const struct np_policy *pol,
		     const struct np_peer *peer, const struct np_endpoint *ep)
{
	const struct np_pod *pod = ep->pod;

	if (peer->kind == NP_PEER_IPBLOCK)
		return ipblock_matches(peer, &ep->ip);
	if (!pod)
		return false;
	if (peer->has_ns_sel ? !np_ns_selector_matches(w, &peer->ns_sel, pod->ns) :
			       strcmp(pod->ns, pol->ns) != 0)
		return false;
	return !peer->has_pod_sel || np_selector_matches(&peer->pod_sel, &pod->labels);
}

bool np_port_matches(const struct np_port *pp, const struct np_pod *dst, uint16_t port,
		     uint8_t proto)
{
	if (pp->proto != proto)
		return false;
	switch (pp->kind) {
	case NP_PORT_ANY:
		return true;
	case NP_PORT_NUM:
		return port >= pp->port && port <= pp->end_port;
	case NP_PORT_NAME:
		for (size_t i = 0; dst && i < dst->n_ports; i++)
			if (dst->ports[i].name && !strcmp(dst->ports[i].name, pp->name) &&
			    dst->ports[i].proto == proto && dst->ports[i].port == port)
				return true;
		return false;
	}
	return false;
}

/* Finds the first (peer, port) of rule r that allows; fills m. */
static bool rule_allows(const struct np_world *w, const struct np_policy *pol,
			const struct np_rule *r, const struct np_endpoint *peer_ep,
			const struct np_pod *dst, uint16_t port, uint8_t proto, struct np_match *m)
{
	m->peer = m->port = NP_ANY;
	if (r->n_peers) {
		size_t i;

		for (i = 0; i < r->n_peers; i++)
			if (np_peer_matches(w, pol, &r->peers[i], peer_ep))
				break;
		if (i == r->n_peers)
			return false;
		m->peer = i;
	}
	if (r->n_ports) {
		size_t i;

		for (i = 0; i < r->n_ports; i++)
			if (np_port_matches(&r->ports[i], dst, port, proto))
				break;
		if (i == r->n_ports)
			return false;
		m->port = i;
	}
	return true;
}

static int pol_cmp(const void *a, const void *b)
{
	const struct np_policy *x = *(const struct np_policy *const *)a;
	const struct np_policy *y = *(const struct np_policy *const *)b;
	int c = strcmp(x->ns, y->ns);

	return c ? c : strcmp(x->name, y->name);
}

/* Decides direction d for pod `self` talking to `peer`. */
static int decide_side(const struct np_world *w, enum np_dir d, const struct np_endpoint *self,
		       const struct np_endpoint *peer, const struct np_pod *dst, uint16_t port,
		       uint8_t proto, struct np_side *s)
{
	memset(s, 0, sizeof(*s));
	s->allowed = true;
	if (!self->pod)
		return 0;
	s->applies = true;
	s->pols = calloc(w->n_pols + 1, sizeof(*s->pols));
	if (!s->pols)
		return -1;
	for (size_t i = 0; i < w->n_pols; i++)
		if (np_policy_applies(&w->pols[i], self->pod, d))
			s->pols[s->n_pols++] = &w->pols[i];
	s->isolated = s->n_pols > 0;
	s->allowed = !s->isolated;
	if (s->n_pols > 1)
		qsort(s->pols, s->n_pols, sizeof(*s->pols), pol_cmp);
	for (size_t i = 0; i < s->n_pols && !s->allowed; i++) {
		const struct np_policy *pol = s->pols[i];

		for (size_t r = 0; r < pol->n_rules[d]; r++) {
			struct np_match m = { .pol = pol, .rule = r };

			if (rule_allows(w, pol, &pol->rules[d][r], peer, dst, port, proto, &m)) {
				s->allowed = true;
				s->by = m;
				break;
			}
		}
	}
	return 0;
}

int np_explain(const struct np_world *w, const struct np_endpoint *src,
	       const struct np_endpoint *dst, uint16_t port, uint8_t proto,
	       struct np_verdict *v)
{
	memset(v, 0, sizeof(*v));
	if (decide_side(w, NP_EGRESS, src, dst, dst->pod, port, proto, &v->side[NP_EGRESS]) ||
	    decide_side(w, NP_INGRESS, dst, src, dst->pod, port, proto, &v->side[NP_INGRESS])) {
		np_verdict_free(v);
		return -1;
	}
	v->allowed = v->side[NP_EGRESS].allowed && v->side[NP_INGRESS].allowed;
	return 0;
}

void np_verdict_free(struct np_verdict *v)
{
	free(v->side[0].pols);
	free(v->side[1].pols);
	memset(v, 0, sizeof(*v));
}
