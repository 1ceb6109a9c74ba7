/* strict.h - strict mode: no pod traffic to remote pods in plaintext.
 *
 * veilnet-mesh keeps its own nftables table, `inet veilnet-mesh`, in the
 * node's netns:
 *
 *   table inet veilnet-mesh {            # comment: its structure (the wg device)
 *     set remote4 { type ipv4_addr; flags interval; elements = {...} }
 *     set local4  { ... }   set remote6 / local6 { type ipv6_addr; ... }
 *     chain forward { type filter hook forward priority filter; policy accept;
 *       iifname "vn*" ip daddr @remote4 oifname != "<wg>" counter drop
 *       ip saddr @local4 ip daddr @remote4 oifname != "<wg>" counter drop
 *       (the same two for IPv6)
 *     }
 *   }
 *
 * So a packet from a local pod (its host-side veth "vn*", or a source in
 * the local pod CIDRs) to a remote pod CIDR is dropped unless it leaves
 * through the WireGuard device: while the mesh starts, after `down`, with
 * the device down or a plain underlay route in the way. Traffic to node
 * addresses and the API server matches no set and is never forced into
 * the tunnel.
 *
 * Updates are atomic (one nftables transaction, never an instant without
 * rules) and minimal: the table's comment names its structure (the wg
 * device); while it matches, only sets whose elements differ from the
 * wanted ones are flushed and refilled, and nothing is written when none
 * differ. Otherwise the table is deleted and recreated in one transaction.
 */
#ifndef VEILNET_OVERLAY_STRICT_H
#define VEILNET_OVERLAY_STRICT_H

#include <stdbool.h>
#include <stddef.h>
#include <veilnet/err.h>
#include <veilnet/prefix.h>

#define STRICT_TABLE "veilnet-mesh"
#define STRICT_POD_IFPREFIX "vn"

struct strict_spec {
	const char *wg_ifname;
	const struct vn_prefix *local;	/* local pod CIDRs */
	size_t n_local;
	const struct vn_prefix *remote;	/* remote pod CIDRs */
	size_t n_remote;
};

/* An address range [start, end): has_end false means "to the family's
 * last address". */
struct strict_range {
	struct vn_addr start;
	struct vn_addr end;
	bool has_end;
};

/* Merges the prefixes of one family into sorted, disjoint ranges
 * (overlapping and adjacent prefixes join). out has room for n. Returns
 * the number of ranges. Pure. */
size_t strict_ranges(const struct vn_prefix *p, size_t n, int family, struct strict_range *out);

/* The table comment that names the structure of spec (buf: 96 bytes):
 * "veilnet-mesh strict v2 wg=<ifname>". Pure. */
const char *strict_fingerprint(const struct strict_spec *s, char *buf);

/* Makes the table match spec in the current netns. *changed says whether
 * anything was written (false: the table was already right). */
int strict_apply(const struct strict_spec *s, bool *changed, struct vn_err *e);

/* Deletes the table if it exists; *removed says whether it did. */
int strict_remove(bool *removed, struct vn_err *e);

#endif
