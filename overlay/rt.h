/* rt.h - the rtnetlink edge: links and routes of the current netns.
 *
 * Every function takes an open NETLINK_ROUTE socket (lib/nl.h) and
 * returns 0 or -1 with e set; a kernel error keeps its errno.
 */
#ifndef VEILNET_OVERLAY_RT_H
#define VEILNET_OVERLAY_RT_H

#include <stdbool.h>
#include <stdint.h>
#include <net/if.h>
#include <veilnet/nl.h>
#include "plan.h"

struct rt_link {
	uint32_t ifindex;
	char ifname[IFNAMSIZ];
	char kind[32];		/* IFLA_INFO_KIND ("wireguard", "tun", ...), "" if none */
	unsigned int mtu;
	bool up;		/* IFF_UP */
};

/* Looks a link up by name (ifname) or index (ifname NULL). A missing
 * link gives -1 with errno ENODEV. */
int rt_link_get(struct vn_nl *nl, const char *ifname, uint32_t ifindex, struct rt_link *out,
		struct vn_err *e);

/* Creates a link of kind "wireguard". A kernel without WireGuard answers
 * EOPNOTSUPP (errno kept). */
int rt_link_add_wireguard(struct vn_nl *nl, const char *ifname, struct vn_err *e);

/* Sets the MTU (0: leave it) and brings the link up. */
int rt_link_set(struct vn_nl *nl, uint32_t ifindex, unsigned int mtu, bool up, struct vn_err *e);

/* Deletes a link. */
int rt_link_del(struct vn_nl *nl, uint32_t ifindex, struct vn_err *e);

/* The output interface of the route the kernel would take to dst, and
 * that route's own MTU (`ip route ... mtu N`; 0 if it has none). */
int rt_route_oif(struct vn_nl *nl, const struct vn_addr *dst, uint32_t *oif, unsigned int *mtu,
		 struct vn_err *e);

/* The output interface of the main table's default route of family
 * (the first one found); -1 with errno ENOENT if there is none. */
int rt_default_oif(struct vn_nl *nl, int family, uint32_t *oif, struct vn_err *e);

/* All unicast routes of the main table, both families. *out is malloc'd
 * and owned by the caller. */
int rt_route_dump(struct vn_nl *nl, struct route_entry **out, size_t *n, struct vn_err *e);

/* Applies route ops: REPLACE adds or replaces "dst dev wg_oif" (scope
 * link, proto static, default metric), DELETE removes the route given.
 * *n_msgs (may be NULL) is increased by the messages sent. */
int rt_route_apply(struct vn_nl *nl, const struct route_op *ops, size_t n, uint32_t wg_oif,
		   unsigned long *n_msgs, struct vn_err *e);

#endif
