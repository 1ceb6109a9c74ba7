/* netlink.h - the kernel edge: rtnetlink requests for veths, addresses,
 * routes and neighbours, on a struct vn_nl (lib/nl.h) bound to the netns
 * that was current when it was opened. Each function is a few messages in
 * as few round trips as possible; nothing here decides anything.
 */
#ifndef PLUGIN_NETLINK_H
#define PLUGIN_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <veilnet/err.h>
#include <veilnet/nl.h>
#include <veilnet/prefix.h>
#include "config.h"

struct veth_spec {
	const char *host_name;		/* created in the socket's netns */
	uint8_t host_mac[6];
	const char *pod_name;		/* created directly in netns_fd */
	uint8_t pod_mac[6];
	unsigned int mtu;
	int netns_fd;
	const char *alias;		/* set on the host end in the same batch */
};

struct link_info {
	int index;
	unsigned int flags;		/* IFF_* */
	unsigned int mtu;
	int link;			/* IFLA_LINK: a veth's peer index (in its netns) */
	unsigned int group;		/* IFLA_GROUP */
	uint8_t mac[6];
	char alias[128];
	char name[16];
};

/* Creates the veth pair in one round trip: host end here, pod end already
 * inside the pod netns under its final name. A second message of the same
 * batch sets the host end up with its alias, IPv4 forwarding and
 * proxy_arp: the kernel runs a batch within one sendmsg, so no process
 * kill can leave the link without its alias (GC relies on it to find
 * leaks). A third reads the host end back: its index and, from its
 * IFLA_LINK, the pod end's index in the pod netns. The pod end stays down
 * (no carrier yet). Nothing is left on failure; errno tells why (EEXIST:
 * a name is taken, here or in the pod netns). */
int nl_veth_create(struct vn_nl *nl, const struct veth_spec *v, int *host_index, int *pod_index,
		   struct vn_err *e);

/* Fills *out from an RTM_NEWLINK message (an answer or a notification).
 * Returns 0, or -1 if nlh is not one. */
int nl_parse_link(const struct nlmsghdr *nlh, struct link_info *out);

/* Looks a link up by name (index 0) or index. Returns 0 with *out filled,
 * 1 if there is no such link, -1 with e set. */
int nl_link_get(struct vn_nl *nl, const char *name, int index, struct link_info *out,
		struct vn_err *e);

/* Deletes a link by name. Returns 0 if deleted, 1 if it did not exist. */
int nl_link_delete(struct vn_nl *nl, const char *name, struct vn_err *e);

/* Links of this group are retired host ends awaiting deletion. */
#define NL_TOMB_GROUP 0x766e7462u	/* "vntb" */

/* Retires a link at once, in one message: sets it down (which flushes its
 * addresses and routes, so its pod addresses may be handed out again) and
 * moves it to NL_TOMB_GROUP, leaving the slow kernel teardown (an RCU grace
 * period, ~15 ms, under the rtnl lock) to nl_group_delete, which removes
 * every retired link in one go. Returns 0, or 1 if there is no such link. */
int nl_link_retire(struct vn_nl *nl, const char *name, struct vn_err *e);

/* Deletes every link of group (and so the pod ends of retired veths) in one
 * request. Returns 0, 1 if the group has no link, or -1 with e set. */
int nl_group_delete(struct vn_nl *nl, unsigned int group, struct vn_err *e);

/* Host end, one batch: fe80::1/64 (nodad) if any IPv6 address, and a /32
 * or /128 route to each pod address. */
int nl_host_routes(struct vn_nl *nl, int ifindex, const struct vn_addr *ips, size_t n_ips,
		   struct vn_err *e);

/* Pod end, one batch: the link up, the /32 and /128 addresses (nodad),
 * permanent neighbours for the link-local gateways (host_mac) and the
 * routes. A route that exists already (another attachment of the
 * container made it, e.g. the default route) is left as it is: the first
 * attachment's wins. At most NL_POD_MAX_MSGS messages in all. */
#define NL_POD_MAX_MSGS 32
int nl_pod_addrs(struct vn_nl *nl, int ifindex, const struct vn_addr *ips, size_t n_ips,
		 const uint8_t host_mac[6], const struct cfg_route *routes, size_t n_routes,
		 struct vn_err *e);

/* MTU of the link carrying the default route (IPv4, else IPv6). Returns
 * 0 with *mtu set, 1 if there is no default route. */
int nl_default_route_mtu(struct vn_nl *nl, unsigned int *mtu, struct vn_err *e);

/* The route the kernel would match for dst/len in the main table
 * (RTM_F_FIB_MATCH). found is false if there is none. */
struct route_match {
	bool found;
	unsigned int dst_len;
	int oif;
	struct vn_addr gw;		/* family 0 if none */
};
int nl_route_match(struct vn_nl *nl, const struct vn_prefix *dst, struct route_match *out,
		   struct vn_err *e);

/* Addresses on ifindex (both families), at most max. */
int nl_addr_list(struct vn_nl *nl, int ifindex, struct vn_prefix *out, size_t max, size_t *n,
		 struct vn_err *e);

/* Calls fn for every link whose name starts with prefix. */
typedef void (*nl_link_fn)(void *ctx, const struct link_info *l);
int nl_link_each(struct vn_nl *nl, const char *prefix, nl_link_fn fn, void *ctx,
		 struct vn_err *e);

#endif
