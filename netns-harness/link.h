/* link.h - the few link, address and route changes the cluster builder
 * makes, on libnl-route-3. Each works on the network namespace the socket
 * was opened in (cnt_nl_open binds to the current one).
 */
#ifndef CNT_LINK_H
#define CNT_LINK_H

#include <veilnet/err.h>

struct nl_sock;

/* Opens a NETLINK_ROUTE socket in the current netns. NULL with e set. */
struct nl_sock *cnt_nl_open(struct vn_err *e);
void cnt_nl_close(struct nl_sock *sk);

/* The ifindex of name, or -1 with e set. */
int cnt_link_index(struct nl_sock *sk, const char *name, struct vn_err *e);

/* Sets link ifindex up. */
int cnt_link_up(struct nl_sock *sk, int ifindex, struct vn_err *e);

/* Creates a bridge, up. */
int cnt_bridge_add(struct nl_sock *sk, const char *name, struct vn_err *e);

/* Creates a veth pair: name here, up (enslaved to master unless master
 * is 0), and peer, down, in the netns open at peer_ns_fd. */
int cnt_veth_add(struct nl_sock *sk, const char *name, int master, const char *peer,
		 int peer_ns_fd, struct vn_err *e);

/* Adds address cidr ("172.30.0.1/24", "fd30::1/64") to ifindex, without
 * duplicate address detection. */
int cnt_addr_add(struct nl_sock *sk, int ifindex, const char *cidr, struct vn_err *e);

/* Adds route dst via gw (gw may be NULL: on-link through ifindex). */
int cnt_route_add(struct nl_sock *sk, const char *dst, const char *gw, int ifindex,
		  struct vn_err *e);

#endif
