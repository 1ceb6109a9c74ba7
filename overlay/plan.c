/* plan.c - desired state and the diffs against the current one (pure). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "keys.h"
#include "plan.h"

#define NO_MEM(e) vn_errf(e, VN_E_IO, "I/O error", "out of memory")

static void warn(struct plan *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct plan *p, const char *fmt, ...)
{
	size_t used = strlen(p->warnings);
	va_list ap;

	if (used + 2 >= sizeof(p->warnings))
		return;
	va_start(ap, fmt);
	vsnprintf(p->warnings + used, sizeof(p->warnings) - used - 1, fmt, ap);
	va_end(ap);
	used = strlen(p->warnings);
	p->warnings[used] = '\n';
	p->warnings[used + 1] = '\0';
}

int plan_prefix_cmp(const struct vn_prefix *a, const struct vn_prefix *b)
{
	int c = vn_addr_cmp(&a->addr, &b->addr);

	if (c)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

static int prefix_qcmp(const void *a, const void *b)
{
	return plan_prefix_cmp(a, b);
}

size_t plan_prefix_sort(struct vn_prefix *p, size_t n)
{
	size_t out = 0;

	if (n == 0)
		return 0;
	qsort(p, n, sizeof(*p), prefix_qcmp);
	for (size_t i = 0; i < n; i++)
		if (out == 0 || plan_prefix_cmp(&p[out - 1], &p[i]))
			p[out++] = p[i];
	return out;
}

void plan_free(struct plan *p)
{
	wg_device_free(&p->want);
	free(p->remote);
	free(p->conflicts);
	memset(p, 0, sizeof(*p));
}

/* Which remote nodes can be peers: marks ok[i]. */
struct cand {
	const struct mesh_node *n;
	bool ok;
};

static int cand_key_cmp(const void *a, const void *b)
{
	const struct cand *const *x = a, *const *y = b;

	return wg_key_cmp(&(*x)->n->public_key, &(*y)->n->public_key);
}

static int mark_duplicate_keys(struct plan *p, struct cand *c, size_t n)
{
	struct cand **byk = calloc(n ? n : 1, sizeof(*byk));
	size_t m = 0;

	if (!byk)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (c[i].ok)
			byk[m++] = &c[i];
	qsort(byk, m, sizeof(*byk), cand_key_cmp);
	for (size_t i = 1; i < m; i++) {
		if (wg_key_cmp(&byk[i - 1]->n->public_key, &byk[i]->n->public_key))
			continue;
		warn(p, "nodes \"%s\" and \"%s\" publish the same public key: neither gets a peer",
		     byk[i - 1]->n->name, byk[i]->n->name);
		byk[i - 1]->ok = byk[i]->ok = false;
	}
	free(byk);
	return 0;
}

static bool in_sorted(const struct vn_prefix *list, size_t n, const struct vn_prefix *p)
{
	return n && bsearch(p, list, n, sizeof(*list), prefix_qcmp) != NULL;
}

/* The family of the local node's underlay address, 0 if it has none. */
static int local_family(const struct mesh_node *self)
{
	return self->has_address ? self->address.family : 0;
}

static int add_peer(struct plan *p, const struct mesh *m, const struct mesh_node *self,
		    const struct mesh_node *n, uint16_t keepalive)
{
	struct wg_peer *peer = wg_device_add_peer(&p->want, &n->public_key);

	if (!peer)
		return -1;
	peer->flags = WG_PEER_HAS_ENDPOINT | WG_PEER_HAS_KEEPALIVE | WG_PEER_REPLACE_ALLOWEDIPS;
	peer->endpoint = *mesh_node_endpoint(n, local_family(self));
	peer->endpoint_port = mesh_node_port(m, n);
	peer->keepalive = keepalive;
	for (size_t i = 0; i < n->n_pod_cidrs; i++)
		if (!in_sorted(p->conflicts, p->n_conflicts, &n->pod_cidrs[i]) &&
		    wg_peer_add_allowedip(peer, &n->pod_cidrs[i]))
			return -1;
	return 0;
}

/* ---- pod CIDRs claimed twice ---- */

struct claim {
	struct vn_prefix cidr;
	const struct mesh_node *n;
};

static int claim_cmp(const void *a, const void *b)
{
	const struct claim *x = a, *y = b;
	int c = plan_prefix_cmp(&x->cidr, &y->cidr);

	if (c)
		return c;
	return strcmp(x->n->name, y->n->name);
}

/* The claims in [from, to) share one prefix: is it two nodes' (a
 * conflict)? Warns and appends it to p->conflicts if so. */
static void check_claims(struct plan *p, const struct claim *c, size_t from, size_t to,
			 const struct mesh_node *self)
{
	char cidr[VN_PREFIX_STRLEN];
	const struct mesh_node *other = NULL;

	for (size_t i = from + 1; i < to && !other; i++)
		if (c[i].n != c[from].n)
			other = c[i].n;
	if (!other)
		return;
	vn_prefix_str(&c[from].cidr, cidr);
	p->conflicts[p->n_conflicts++] = c[from].cidr;
	if (c[from].n == self || other == self)
		warn(p, "node \"%s\" claims this node's pod CIDR %s: no peer gets it",
		     (c[from].n == self ? other : c[from].n)->name, cidr);
	else
		warn(p, "nodes \"%s\" and \"%s\" both claim pod CIDR %s: no peer gets it, its "
		     "traffic is dropped", c[from].n->name, other->name, cidr);
}

/* Fills p->conflicts (sorted) with the pod CIDRs that several nodes
 * claim. */
static int find_conflicts(struct plan *p, const struct mesh *m, const struct mesh_node *self)
{
	struct claim *c;
	size_t n = 0, start = 0;

	for (size_t i = 0; i < m->n; i++)
		n += m->nodes[i].n_pod_cidrs;
	c = calloc(n + 1, sizeof(*c));
	p->conflicts = calloc(n + 1, sizeof(*p->conflicts));
	if (!c || !p->conflicts) {
		free(c);
		return -1;
	}
	n = 0;
	for (size_t i = 0; i < m->n; i++)
		for (size_t j = 0; j < m->nodes[i].n_pod_cidrs; j++)
			c[n++] = (struct claim){ .cidr = m->nodes[i].pod_cidrs[j], .n = &m->nodes[i] };
	qsort(c, n, sizeof(*c), claim_cmp);
	for (size_t i = 1; i <= n; i++) {
		if (i < n && plan_prefix_cmp(&c[i].cidr, &c[start].cidr) == 0)
			continue;
		check_claims(p, c, start, i, self);
		start = i;
	}
	free(c);
	return 0;
}

/* Remote nodes: their CIDRs, the uplink probe, which can be peers. */
static int collect_remote(struct plan *p, const struct mesh *m, const struct mesh_node *self,
			  struct cand *c)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct mesh_node *n = &m->nodes[i];

		c[i].n = n;
		if (n == self)
			continue;
		for (size_t j = 0; j < n->n_pod_cidrs; j++)	/* not this node's own */
			if (!in_sorted(p->local, p->n_local, &n->pod_cidrs[j]))
				p->remote[p->n_remote++] = n->pod_cidrs[j];
		if (n->has_address && !p->has_probe) {
			p->uplink_probe = *mesh_node_endpoint(n, local_family(self));
			p->has_probe = true;
		}
		if (!n->has_key)
			warn(p, "node \"%s\" has no %s annotation: no peer, its pods are unreachable",
			     n->name, MESH_ANN_KEY);
		else if (!n->has_address)
			warn(p, "node \"%s\" has no InternalIP or ExternalIP: no peer, its pods are "
			     "unreachable", n->name);
		else if (wg_key_cmp(&n->public_key, &p->want.public_key) == 0)
			warn(p, "node \"%s\" publishes this node's public key: no peer", n->name);
		else
			c[i].ok = true;
	}
	return 0;
}

static int build_peers(struct plan *p, const struct mesh *m, const struct mesh_node *self,
		       uint16_t keepalive)
{
	struct cand *c = calloc(m->n, sizeof(*c));
	int ret = -1;

	if (!c)
		return -1;
	collect_remote(p, m, self, c);
	if (mark_duplicate_keys(p, c, m->n) || find_conflicts(p, m, self))
		goto out;
	for (size_t i = 0; i < m->n; i++)
		if (c[i].ok && add_peer(p, m, self, c[i].n, keepalive))
			goto out;
	ret = 0;
out:
	free(c);
	return ret;
}

/* The cluster CIDRs of the mesh and the options; a warning for each
 * remote node whose InternalIP one of them holds. */
static int plan_cluster(struct plan *p, const struct mesh *m, const struct mesh_node *self,
			const struct plan_opts *o, struct vn_err *e)
{
	char cidr[VN_PREFIX_STRLEN], addr[VN_ADDR_STRLEN];
	size_t n = m->n_cluster_cidrs;

	if (o->n_cluster > MESH_MAX_CIDRS)
		return vn_errf(e, VN_E_INVALID, "invalid CIDR", "more than %d cluster CIDRs",
			       MESH_MAX_CIDRS);
	memcpy(p->cluster, m->cluster_cidrs, n * sizeof(*p->cluster));
	if (o->n_cluster)
		memcpy(p->cluster + n, o->cluster, o->n_cluster * sizeof(*p->cluster));
	p->n_cluster = plan_prefix_sort(p->cluster, n + o->n_cluster);
	for (size_t i = 0; i < p->n_cluster; i++)
		for (size_t j = 0; j < m->n; j++)
			if (&m->nodes[j] != self && m->nodes[j].has_address &&
			    vn_prefix_contains(&p->cluster[i], &m->nodes[j].address))
				warn(p, "cluster CIDR %s holds node \"%s\"'s InternalIP %s: strict mode "
				     "drops pod traffic to it", vn_prefix_str(&p->cluster[i], cidr),
				     m->nodes[j].name, vn_addr_str(&m->nodes[j].address, addr));
	return 0;
}

int plan_build(const struct mesh *m, const struct plan_opts *o, const struct wg_key *priv,
	       struct plan *out, struct vn_err *e)
{
	const struct mesh_node *self = mesh_find(m, o->node);

	memset(out, 0, sizeof(*out));
	wg_device_init(&out->want, NULL);
	if (!self)
		return vn_errf(e, VN_E_INVALID, "unknown node",
			       "node \"%s\" is not in the mesh description", o->node);
	/* fwmark 0: none (a mark set by hand would divert the tunnel's own
	 * packets through policy routing) */
	out->want.flags = WG_DEV_HAS_PRIVATE_KEY | WG_DEV_HAS_PUBLIC_KEY | WG_DEV_HAS_PORT |
			  WG_DEV_HAS_FWMARK;
	out->want.fwmark = 0;
	out->want.private_key = *priv;
	keys_public(priv, &out->want.public_key);
	out->want.listen_port = o->port ? o->port : mesh_node_port(m, self);
	if (self->has_key && wg_key_cmp(&self->public_key, &out->want.public_key))
		warn(out, "node \"%s\" publishes another public key than the key file's: "
		     "publish it (veilnet-mesh publish)", self->name);
	memcpy(out->local, self->pod_cidrs, sizeof(out->local));
	out->n_local = plan_prefix_sort(out->local, self->n_pod_cidrs);
	if (plan_cluster(out, m, self, o, e)) {
		plan_free(out);
		return -1;
	}
	out->remote = calloc(m->n * MESH_MAX_CIDRS + 1, sizeof(*out->remote));
	if (!out->remote || build_peers(out, m, self, o->keepalive)) {
		plan_free(out);
		return NO_MEM(e);
	}
	out->n_remote = plan_prefix_sort(out->remote, out->n_remote);
	return 0;
}

/* ---- peer diff ---- */

static int peer_ptr_cmp(const void *a, const void *b)
{
	const struct wg_peer *const *x = a, *const *y = b;

	return wg_key_cmp(&(*x)->public_key, &(*y)->public_key);
}

static const struct wg_peer **sorted_peers(const struct wg_device *d)
{
	const struct wg_peer **v = calloc(d->n_peers + 1, sizeof(*v));

	if (!v)
		return NULL;
	for (size_t i = 0; i < d->n_peers; i++)
		v[i] = &d->peers[i];
	qsort(v, d->n_peers, sizeof(*v), peer_ptr_cmp);
	return v;
}

static bool same_allowedips(const struct wg_peer *a, const struct wg_peer *b)
{
	struct vn_prefix *x, *y;
	size_t nx, ny;
	bool same;

	if (a->n_allowedips != b->n_allowedips)
		return false;
	if (a->n_allowedips == 0)
		return true;
	x = malloc((a->n_allowedips + 1) * sizeof(*x));
	y = malloc((b->n_allowedips + 1) * sizeof(*y));
	same = x && y;
	if (same) {
		memcpy(x, a->allowedips, a->n_allowedips * sizeof(*x));
		memcpy(y, b->allowedips, b->n_allowedips * sizeof(*y));
		for (size_t i = 0; i < a->n_allowedips; i++) {
			vn_prefix_canon(&x[i]);
			vn_prefix_canon(&y[i]);
		}
		nx = plan_prefix_sort(x, a->n_allowedips);
		ny = plan_prefix_sort(y, b->n_allowedips);
		same = nx == ny;
		for (size_t i = 0; same && i < nx; i++)
			same = plan_prefix_cmp(&x[i], &y[i]) == 0;
	}
	free(x);
	free(y);
	return same;
}

/* A preshared key the peer has but should not (or a different one). */
static bool psk_differs(const struct wg_peer *cur, const struct wg_peer *want)
{
	bool has = cur->flags & WG_PEER_HAS_PSK, wants = want->flags & WG_PEER_HAS_PSK;

	if (has != wants)
		return true;
	return wants && wg_key_cmp(&cur->preshared_key, &want->preshared_key) != 0;
}

static bool peer_differs(const struct wg_peer *cur, const struct wg_peer *want)
{
	if (psk_differs(cur, want))
		return true;
	if ((want->flags & WG_PEER_HAS_ENDPOINT) &&
	    (!(cur->flags & WG_PEER_HAS_ENDPOINT) || cur->endpoint_port != want->endpoint_port ||
	     vn_addr_cmp(&cur->endpoint, &want->endpoint)))
		return true;
	if ((want->flags & WG_PEER_HAS_KEEPALIVE) && cur->keepalive != want->keepalive)
		return true;
	return !same_allowedips(cur, want);
}

/* Appends a copy of want as a change with the given extra flags. */
static int push_peer(struct wg_device *change, const struct wg_peer *want, uint32_t flags)
{
	if (wg_device_copy_peer(change, want))
		return -1;
	change->peers[change->n_peers - 1].flags = (want->flags & (WG_PEER_HAS_ENDPOINT |
		WG_PEER_HAS_KEEPALIVE | WG_PEER_HAS_PSK)) | WG_PEER_REPLACE_ALLOWEDIPS | flags;
	return 0;
}

static int push_removal(struct wg_device *change, const struct wg_peer *cur)
{
	struct wg_peer *p = wg_device_add_peer(change, &cur->public_key);

	if (!p)
		return -1;
	p->flags = WG_PEER_REMOVE;
	return 0;
}

static void diff_device(const struct wg_device *cur, const struct wg_device *want,
			struct wg_device *change, struct peer_counts *n)
{
	if ((want->flags & WG_DEV_HAS_PRIVATE_KEY) &&
	    (!(cur->flags & WG_DEV_HAS_PRIVATE_KEY) ||
	     wg_key_cmp(&cur->private_key, &want->private_key))) {
		change->flags |= WG_DEV_HAS_PRIVATE_KEY;
		change->private_key = want->private_key;
		n->device++;
	}
	if ((want->flags & WG_DEV_HAS_PORT) && cur->listen_port != want->listen_port) {
		change->flags |= WG_DEV_HAS_PORT;
		change->listen_port = want->listen_port;
		n->device++;
	}
	if ((want->flags & WG_DEV_HAS_FWMARK) &&
	    ((cur->flags & WG_DEV_HAS_FWMARK) ? cur->fwmark : 0) != want->fwmark) {
		change->flags |= WG_DEV_HAS_FWMARK;
		change->fwmark = want->fwmark;
		n->device++;
	}
}

/* Walks both sorted lists; pass 0 pushes removals, pass 1 updates and
 * additions, so removals come first in change. */
static int diff_pass(const struct wg_peer **c, size_t nc, const struct wg_peer **w, size_t nw,
		     int pass, struct wg_device *change, struct peer_counts *n)
{
	size_t i = 0, j = 0;

	while (i < nc || j < nw) {
		int cmp = i == nc ? 1 : j == nw ? -1 : wg_key_cmp(&c[i]->public_key, &w[j]->public_key);

		if (cmp < 0) {
			if (pass == 0 && (n->removed++, push_removal(change, c[i])))
				return -1;
			i++;
		} else if (cmp > 0) {
			if (pass == 1 && (n->added++, push_peer(change, w[j], 0)))
				return -1;
			j++;
		} else {
			/* HAS_PSK with want's (zero) key clears a key set by hand */
			uint32_t psk = psk_differs(c[i], w[j]) ? WG_PEER_HAS_PSK : 0;

			if (pass == 1 && peer_differs(c[i], w[j]) &&
			    (n->updated++, push_peer(change, w[j], WG_PEER_UPDATE_ONLY | psk)))
				return -1;
			i++;
			j++;
		}
	}
	return 0;
}

int plan_peer_diff(const struct wg_device *cur, const struct wg_device *want,
		   struct wg_device *change, struct peer_counts *counts, struct vn_err *e)
{
	const struct wg_peer **c = sorted_peers(cur), **w = sorted_peers(want);
	struct peer_counts n = { 0 };
	int ret = -1;

	wg_device_init(change, cur->ifname);
	if (!c || !w)
		goto out;
	diff_device(cur, want, change, &n);
	if (diff_pass(c, cur->n_peers, w, want->n_peers, 0, change, &n) ||
	    diff_pass(c, cur->n_peers, w, want->n_peers, 1, change, &n))
		goto out;
	ret = 0;
out:
	free(c);
	free(w);
	if (ret)
		NO_MEM(e);
	if (counts)
		*counts = n;
	return ret;
}

/* ---- routes ---- */

uint32_t plan_route_metric(int family)
{
	return family == AF_INET6 ? 1024 : 0;
}

static int route_qcmp(const void *a, const void *b)
{
	return plan_prefix_cmp(&((const struct route_entry *)a)->dst,
			       &((const struct route_entry *)b)->dst);
}

static bool is_ours(const struct route_entry *r, uint32_t wg_oif)
{
	return r->oif == wg_oif && !r->gateway && r->metric == plan_route_metric(r->dst.addr.family);
}

/* First index in sorted cur whose dst is not below p. */
static size_t lower_bound(const struct route_entry *cur, size_t n, const struct vn_prefix *p)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (plan_prefix_cmp(&cur[mid].dst, p) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool have_ours(const struct route_entry *cur, size_t n_cur, const struct vn_prefix *dst,
		      uint32_t wg_oif)
{
	for (size_t i = lower_bound(cur, n_cur, dst);
	     i < n_cur && plan_prefix_cmp(&cur[i].dst, dst) == 0; i++)
		if (is_ours(&cur[i], wg_oif))
			return true;
	return false;
}

static bool wanted(const struct vn_prefix *want, size_t n_want, const struct vn_prefix *p)
{
	return bsearch(p, want, n_want, sizeof(*want), prefix_qcmp) != NULL;
}

size_t plan_routes(const struct route_entry *cur_in, size_t n_cur, const struct vn_prefix *want,
		   size_t n_want, uint32_t wg_oif, struct route_op *ops)
{
	struct route_entry *cur = malloc((n_cur + 1) * sizeof(*cur));
	size_t n = 0;

	if (!cur)
		return (size_t)-1;
	if (n_cur)
		memcpy(cur, cur_in, n_cur * sizeof(*cur));
	qsort(cur, n_cur, sizeof(*cur), route_qcmp);
	for (size_t i = 0; i < n_want; i++)
		if (!have_ours(cur, n_cur, &want[i], wg_oif))
			ops[n++] = (struct route_op){ .op = ROUTE_REPLACE, .dst = want[i] };
	for (size_t i = 0; i < n_cur; i++) {
		const struct route_entry *r = &cur[i];

		if (wanted(want, n_want, &r->dst)) {
			/* A route of another metric to a wanted prefix stays beside
			 * ours unless deleted; one of the same metric is replaced. */
			if (is_ours(r, wg_oif) || r->metric == plan_route_metric(r->dst.addr.family))
				continue;
		} else if (r->oif != wg_oif || r->kernel) {
			continue;	/* not ours, not in the way */
		}
		ops[n++] = (struct route_op){ .op = ROUTE_DELETE, .dst = r->dst, .oif = r->oif,
					      .metric = r->metric };
	}
	free(cur);
	return n;
}
