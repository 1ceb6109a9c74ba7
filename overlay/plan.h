/* plan.h - pure decisions: what the node should look like, and what to
 * change to get there. No system calls; everything here is unit-tested.
 *
 * plan_build turns the mesh, the local node's name and its private key
 * into the desired WireGuard device (one peer per remote node that has a
 * key and an address: AllowedIPs = its pod CIDRs, endpoint = its address
 * of the local node's address family if it has one, else its first, and
 * its port; no fwmark, no preshared key), the pod CIDRs to route through
 * the device (every remote node's, with or without a key: without one,
 * traffic to it is dropped by WireGuard instead of leaving in plaintext),
 * the local pod CIDRs and the cluster CIDRs (the mesh file's and the
 * options', for strict mode; a cluster CIDR that holds a remote node's
 * InternalIP gets a warning, as strict mode then drops pod traffic to
 * that node).
 *
 * A pod CIDR that two nodes claim (the same prefix) is a conflict: no peer
 * gets it as an allowed IP (WireGuard gives a prefix to one peer only, so
 * a device with it on both never settles), it is still routed into the
 * device, so its traffic is dropped, and a warning names both nodes. A
 * remote node that claims one of this node's own pod CIDRs gets neither a
 * peer entry nor a route for it.
 *
 * plan_peer_diff compares the device as it is with the desired one and
 * returns only the changes, peers keyed by public key: a join adds one
 * peer, a leave removes one, a key rotation removes the old key's peer and
 * adds the new one, a changed endpoint/allowed IPs/keepalive/preshared key
 * updates the peer in place, a changed port/private key/fwmark updates the
 * device. Removals come first so a rotated peer's allowed IPs are free for
 * its new key.
 *
 * plan_routes does the same for routes: every wanted prefix must have a
 * route through the wg device; any other main-table route to exactly that
 * prefix (e.g. a plain underlay route) is replaced or deleted; routes
 * through the device that are no longer wanted are deleted.
 */
#ifndef VEILNET_OVERLAY_PLAN_H
#define VEILNET_OVERLAY_PLAN_H

#include <stddef.h>
#include <stdint.h>
#include "mesh.h"
#include "wg.h"

struct plan_opts {
	const char *node;	/* the local node's name */
	uint16_t port;		/* listen port; 0: the node's own or the default */
	uint16_t keepalive;	/* persistent keepalive for every peer, 0 = off */
	const struct vn_prefix *cluster;	/* --cluster-cidr (besides the mesh's) */
	size_t n_cluster;
};

struct plan {
	struct wg_device want;		/* the whole desired device */
	struct vn_prefix *remote;	/* remote pod CIDRs (routes, strict) */
	size_t n_remote;
	struct vn_prefix local[MESH_MAX_CIDRS];	/* local pod CIDRs */
	size_t n_local;
	struct vn_prefix cluster[2 * MESH_MAX_CIDRS];	/* cluster CIDRs, sorted */
	size_t n_cluster;
	struct vn_prefix *conflicts;	/* pod CIDRs no peer gets, sorted */
	size_t n_conflicts;
	struct vn_addr uplink_probe;	/* first remote node's endpoint address */
	bool has_probe;
	char warnings[2048];		/* lines for the log, "" if none */
};

/* Builds the plan; out is owned by the caller (plan_free). Errors: the
 * local node is not in the mesh. Nodes that cannot be peers (no key, no
 * address, this node's key, a key two nodes share) get a warning line and
 * no peer. */
int plan_build(const struct mesh *m, const struct plan_opts *o, const struct wg_key *priv,
	       struct plan *out, struct vn_err *e);

void plan_free(struct plan *p);

struct peer_counts {
	unsigned int device;	/* private key, port or fwmark changed */
	unsigned int added;
	unsigned int removed;
	unsigned int updated;
};

/* Fills change (initialised here, freed by the caller) with what turns
 * cur into want. counts (may be NULL) says how many of each. */
int plan_peer_diff(const struct wg_device *cur, const struct wg_device *want,
		   struct wg_device *change, struct peer_counts *counts, struct vn_err *e);

struct route_entry {
	struct vn_prefix dst;
	uint32_t oif;
	uint32_t metric;
	bool gateway;		/* has a next hop address */
	bool kernel;		/* made by the kernel (proto kernel): never deleted */
};

enum route_op_kind { ROUTE_REPLACE = 1, ROUTE_DELETE };

struct route_op {
	enum route_op_kind op;
	struct vn_prefix dst;
	uint32_t oif;		/* DELETE: the route's device */
	uint32_t metric;	/* DELETE: the route's metric */
};

/* The default metric of a route we add: 0 for IPv4, 1024 for IPv6. */
uint32_t plan_route_metric(int family);

/* Writes the route changes into ops (room for n_cur + n_want entries) and
 * returns how many: REPLACEs first, then DELETEs; (size_t)-1 when out of
 * memory. want must be sorted (plan_prefix_sort), cur in any order. */
size_t plan_routes(const struct route_entry *cur, size_t n_cur, const struct vn_prefix *want,
		   size_t n_want, uint32_t wg_oif, struct route_op *ops);

/* Sorts prefixes (family, address, length) and drops duplicates; returns
 * the new count. */
size_t plan_prefix_sort(struct vn_prefix *p, size_t n);

/* Orders prefixes by family, address, then length. */
int plan_prefix_cmp(const struct vn_prefix *a, const struct vn_prefix *b);

#endif
