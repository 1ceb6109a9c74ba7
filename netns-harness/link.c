#include <net/if.h>
#include <linux/if_addr.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <sys/socket.h>
#include "link.h"

static int nl_fail(struct vn_err *e, int err, const char *what, const char *name)
{
	return vn_errf(e, VN_E_IO, "netlink error", "%s %s: %s", what, name, nl_geterror(err));
}

struct nl_sock *cnt_nl_open(struct vn_err *e)
{
	struct nl_sock *sk = nl_socket_alloc();
	int err;

	if (!sk) {
		vn_errf(e, VN_E_IO, "netlink error", "out of memory");
		return NULL;
	}
	err = nl_connect(sk, NETLINK_ROUTE);
	if (err < 0) {
		nl_socket_free(sk);
		nl_fail(e, err, "connect", "NETLINK_ROUTE");
		return NULL;
	}
	return sk;
}

void cnt_nl_close(struct nl_sock *sk)
{
	if (sk)
		nl_socket_free(sk);
}

int cnt_link_index(struct nl_sock *sk, const char *name, struct vn_err *e)
{
	struct rtnl_link *link = NULL;
	int err = rtnl_link_get_kernel(sk, 0, name, &link), idx;

	if (err < 0)
		return nl_fail(e, err, "get link", name);
	idx = rtnl_link_get_ifindex(link);
	rtnl_link_put(link);
	return idx;
}

int cnt_link_up(struct nl_sock *sk, int ifindex, struct vn_err *e)
{
	struct rtnl_link *link = rtnl_link_alloc();
	int err;

	if (!link)
		return vn_errf(e, VN_E_IO, "netlink error", "out of memory");
	rtnl_link_set_ifindex(link, ifindex);
	rtnl_link_set_flags(link, IFF_UP);
	err = rtnl_link_change(sk, link, link, 0);
	rtnl_link_put(link);
	if (err < 0)
		return vn_errf(e, VN_E_IO, "netlink error", "set link %d up: %s", ifindex,
			       nl_geterror(err));
	return 0;
}

int cnt_bridge_add(struct nl_sock *sk, const char *name, struct vn_err *e)
{
	struct rtnl_link *link = rtnl_link_alloc();
	int err;

	if (!link)
		return vn_errf(e, VN_E_IO, "netlink error", "out of memory");
	rtnl_link_set_name(link, name);
	rtnl_link_set_type(link, "bridge");
	rtnl_link_set_flags(link, IFF_UP);
	err = rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(link);
	return err < 0 ? nl_fail(e, err, "add bridge", name) : 0;
}

int cnt_veth_add(struct nl_sock *sk, const char *name, int master, const char *peer,
		 int peer_ns_fd, struct vn_err *e)
{
	struct rtnl_link *link = rtnl_link_veth_alloc(), *p;
	int err;

	if (!link)
		return vn_errf(e, VN_E_IO, "netlink error", "out of memory");
	rtnl_link_set_name(link, name);
	rtnl_link_set_flags(link, IFF_UP);
	if (master)
		rtnl_link_set_master(link, master);
	p = rtnl_link_veth_get_peer(link);
	rtnl_link_set_name(p, peer);	/* no IFF_UP: the kernel would open it unpaired */
	rtnl_link_set_ns_fd(p, peer_ns_fd);
	rtnl_link_put(p);
	err = rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_veth_release(link);
	return err < 0 ? nl_fail(e, err, "add veth", name) : 0;
}

static int parse_addr(const char *s, struct nl_addr **out, struct vn_err *e)
{
	int err = nl_addr_parse(s, AF_UNSPEC, out);

	if (err < 0)
		return vn_errf(e, VN_E_INVALID, "invalid address", "'%s': %s", s, nl_geterror(err));
	return 0;
}

int cnt_addr_add(struct nl_sock *sk, int ifindex, const char *cidr, struct vn_err *e)
{
	struct rtnl_addr *a = rtnl_addr_alloc();
	struct nl_addr *local = NULL;
	int err;

	if (!a)
		return vn_errf(e, VN_E_IO, "netlink error", "out of memory");
	if (parse_addr(cidr, &local, e)) {
		rtnl_addr_put(a);
		return -1;
	}
	rtnl_addr_set_ifindex(a, ifindex);
	rtnl_addr_set_local(a, local);
	rtnl_addr_set_flags(a, IFA_F_NODAD);
	err = rtnl_addr_add(sk, a, NLM_F_CREATE | NLM_F_EXCL);
	nl_addr_put(local);
	rtnl_addr_put(a);
	return err < 0 ? nl_fail(e, err, "add address", cidr) : 0;
}

int cnt_route_add(struct nl_sock *sk, const char *dst, const char *gw, int ifindex,
		  struct vn_err *e)
{
	struct rtnl_route *r = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *d = NULL, *g = NULL;
	int err = -1;

	if (!r || !nh) {
		vn_errf(e, VN_E_IO, "netlink error", "out of memory");
		goto out;
	}
	if (parse_addr(dst, &d, e) || (gw && parse_addr(gw, &g, e)))
		goto out;
	rtnl_route_set_family(r, (uint8_t)nl_addr_get_family(d));
	rtnl_route_set_dst(r, d);
	rtnl_route_nh_set_ifindex(nh, ifindex);
	if (g)
		rtnl_route_nh_set_gateway(nh, g);
	rtnl_route_add_nexthop(r, nh);
	nh = NULL;
	err = rtnl_route_add(sk, r, NLM_F_CREATE | NLM_F_EXCL);
	if (err < 0)
		nl_fail(e, err, "add route", dst);
out:
	if (nh)
		rtnl_route_nh_free(nh);
	nl_addr_put(d);
	nl_addr_put(g);
	if (r)
		rtnl_route_put(r);
	return err < 0 ? -1 : 0;
}
