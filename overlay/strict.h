/* strict.h - strict mode: no pod traffic into the cluster pod network in
 * plaintext.
 *
 * veilnet-mesh keeps its own nftables table, `inet veilnet-mesh`, in the
 * node's netns (strict_chain() is the chain below, as data):
 *
 *   table inet veilnet-mesh {            # comment: its structure (the wg device)
 *     set guard4 { type ipv4_addr; flags interval; elements = {...} }
 *     set local4 { ... }   set guard6 / local6 { type ipv6_addr; ... }
 *     chain forward { type filter hook forward priority filter; policy accept;
 *       ip daddr @local4 oifname "vn*" accept                # pod to pod, this node
 *       ip6 daddr @local6 oifname "vn*" accept
 *       iifname "vn*" ip daddr @guard4 oifname != "<wg>" counter drop
 *       ip saddr @local4 ip daddr @guard4 oifname != "<wg>" counter drop
 *       (the same two for IPv6)
 *     }
 *   }
 *
 * local4/6 hold the node's own pod CIDRs; guard4/6 the guarded network
 * (strict_guarded): the cluster CIDRs (--cluster-cidr, the mesh file's
 * "clusterCIDRs") and every known remote node's pod CIDRs; without any
 * cluster CIDR, also what the set already held, so that the pod CIDRs of a
 * node that left stay guarded (the set is the memory: no other state)
 * until the table is removed (`down --purge`, `up --no-strict`).
 *
 * So a packet from a local pod (its host-side veth "vn*", or a source in
 * the local pod CIDRs) to a guarded address is dropped unless it leaves
 * through the WireGuard device or goes to a pod of this node: while the
 * mesh starts, after `down`, with the device down, a plain underlay route
 * in the way, or the destination node gone from the mesh. Traffic to node
 * addresses and the API server is in no set (unless a cluster CIDR covers
 * them: plan.h warns) and is never forced into the tunnel.
 *
 * Updates are atomic (one nftables transaction, never an instant without
 * rules) and minimal: the table's comment names its structure (the wg
 * device); while it matches, only sets whose elements differ from the
 * wanted ones are flushed and refilled, and nothing is written when none
 * differ. Otherwise the table is deleted and recreated in one transaction
 * (keeping what guard4/6 remembered).
 */
#ifndef VEILNET_OVERLAY_STRICT_H
#define VEILNET_OVERLAY_STRICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <veilnet/err.h>
#include <veilnet/prefix.h>

#define STRICT_TABLE "veilnet-mesh"
#define STRICT_POD_IFPREFIX "vn"

struct strict_spec {
	const char *wg_ifname;
	const struct vn_prefix *local;	/* local pod CIDRs */
	size_t n_local;
	const struct vn_prefix *remote;	/* known remote nodes' pod CIDRs */
	size_t n_remote;
	const struct vn_prefix *cluster; /* cluster CIDRs; none: remember */
	size_t n_cluster;
};

/* An address range [start, end): has_end false means "to the family's
 * last address". */
struct strict_range {
	struct vn_addr start;
	struct vn_addr end;
	bool has_end;
};

/* Sorts ranges of one family and merges overlapping and adjacent ones, in
 * place. Returns the new count. Pure. */
size_t strict_merge(struct strict_range *r, size_t n);

/* Merges the prefixes of one family into sorted, disjoint ranges
 * (overlapping and adjacent prefixes join). out has room for n. Returns
 * the number of ranges. Pure. */
size_t strict_ranges(const struct vn_prefix *p, size_t n, int family, struct strict_range *out);

/* The guarded ranges of one family: s's cluster CIDRs and remote pod
 * CIDRs, plus the held ranges (what the guard set holds now) when s has
 * no cluster CIDR. out has room for n_cluster + n_remote + n_held. Returns
 * the count, sorted and merged. Pure. */
size_t strict_guarded(const struct strict_spec *s, int family, const struct strict_range *held,
		      size_t n_held, struct strict_range *out);

/* One element of an interval set: a range's start key, or its end key
 * (end: NFT_SET_ELEM_INTERVAL_END). Keys are addresses in network order. */
struct strict_elem {
	uint8_t key[16];
	bool end;
};

/* The elements of sorted, disjoint ranges (out: room for 2 n), sorted.
 * Returns the count. Pure. */
size_t strict_elems(const struct strict_range *r, size_t n, int family, struct strict_elem *out);

/* Back from elements sorted by key (as a set dump, sorted, gives them) to
 * ranges, with the kernel's lookup semantics: an address matches when the
 * greatest element at or below it is a start. out has room for n. Returns
 * the count. Pure. */
size_t strict_elems_ranges(const struct strict_elem *el, size_t n, int family,
			   struct strict_range *out);

/* The forward chain as data: rules in order, first match decides,
 * anything unmatched is accepted. put_rule turns each into nftables
 * expressions; tests evaluate packets against it. */
enum strict_src { STRICT_SRC_ANY, STRICT_SRC_POD_IF, STRICT_SRC_LOCAL };
enum strict_dst { STRICT_DST_LOCAL, STRICT_DST_GUARDED };
enum strict_oif { STRICT_OIF_POD, STRICT_OIF_NOT_WG };

struct strict_rule {
	int family;		/* AF_INET or AF_INET6 */
	enum strict_src src;	/* POD_IF: iifname "vn*"; LOCAL: saddr @local */
	enum strict_dst dst;	/* daddr @local or @guard */
	enum strict_oif oif;	/* POD: oifname "vn*"; NOT_WG: oifname != wg */
	bool drop;		/* else accept */
};

/* The chain; *n gets the number of rules. Pure. */
const struct strict_rule *strict_chain(size_t *n);

/* The table comment that names the structure of spec (buf: 96 bytes):
 * "veilnet-mesh strict v3 wg=<ifname>". Pure. */
const char *strict_fingerprint(const struct strict_spec *s, char *buf);

/* Makes the table match spec in the current netns. *changed says whether
 * anything was written (false: the table was already right). */
int strict_apply(const struct strict_spec *s, bool *changed, struct vn_err *e);

/* Deletes the table if it exists; *removed says whether it did. */
int strict_remove(bool *removed, struct vn_err *e);

#endif
