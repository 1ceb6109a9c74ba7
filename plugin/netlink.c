#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <net/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include "netlink.h"

#define BATCH_SIZE 8192

/* Starts a request at buf+*off; the caller advances *off by nlmsg_len. */
static struct nlmsghdr *put_msg(struct vn_nl *nl, char *buf, size_t off, uint16_t type,
				uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf + off);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = vn_nl_seq(nl);
	return nlh;
}

static struct ifinfomsg *put_ifinfo(struct nlmsghdr *nlh, int index)
{
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = index;
	return ifi;
}

/* Up, alias, IPv4 forwarding and proxy_arp (IFLA_AF_SPEC/IFLA_INET_CONF). */
static void put_host_conf(struct nlmsghdr *nlh, const char *alias)
{
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct nlattr *spec, *inet, *conf;

	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	if (alias)
		mnl_attr_put_strz(nlh, IFLA_IFALIAS, alias);
	spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
	inet = mnl_attr_nest_start(nlh, AF_INET);
	conf = mnl_attr_nest_start(nlh, IFLA_INET_CONF);
	mnl_attr_put_u32(nlh, IPV4_DEVCONF_FORWARDING, 1);
	mnl_attr_put_u32(nlh, IPV4_DEVCONF_PROXY_ARP, 1);
	mnl_attr_nest_end(nlh, conf);
	mnl_attr_nest_end(nlh, inet);
	mnl_attr_nest_end(nlh, spec);
}

static int link_attr(const struct nlattr *a, void *data)
{
	struct link_info *l = data;
	uint16_t len = mnl_attr_get_payload_len(a);

	switch (mnl_attr_get_type(a)) {
	case IFLA_MTU:
		if (len >= 4)
			l->mtu = mnl_attr_get_u32(a);
		break;
	case IFLA_LINK:
		if (len >= 4)
			l->link = (int)mnl_attr_get_u32(a);
		break;
	case IFLA_GROUP:
		if (len >= 4)
			l->group = mnl_attr_get_u32(a);
		break;
	case IFLA_ADDRESS:
		if (len == 6)
			memcpy(l->mac, mnl_attr_get_payload(a), 6);
		break;
	case IFLA_IFNAME:
		snprintf(l->name, sizeof(l->name), "%.*s", (int)len, (const char *)mnl_attr_get_payload(a));
		break;
	case IFLA_IFALIAS:
		snprintf(l->alias, sizeof(l->alias), "%.*s", (int)len, (const char *)mnl_attr_get_payload(a));
		break;
	}
	return MNL_CB_OK;
}

int nl_parse_link(const struct nlmsghdr *nlh, struct link_info *l)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != RTM_NEWLINK || nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return -1;
	memset(l, 0, sizeof(*l));
	l->index = ifi->ifi_index;
	l->flags = ifi->ifi_flags;
	mnl_attr_parse(nlh, sizeof(*ifi), link_attr, l);
	return 0;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	nl_parse_link(nlh, data);
	return MNL_CB_OK;
}

/* One TX and one RX queue: a veth's queues only spread its load over
 * CPUs, and each one costs the kernel sysfs objects to create and tear down. */
static void put_one_queue(struct nlmsghdr *nlh)
{
	mnl_attr_put_u32(nlh, IFLA_NUM_TX_QUEUES, 1);
	mnl_attr_put_u32(nlh, IFLA_NUM_RX_QUEUES, 1);
}

static size_t put_veth_batch(struct vn_nl *nl, char *buf, const struct veth_spec *v)
{
	struct nlmsghdr *nlh = put_msg(nl, buf, 0, RTM_NEWLINK,
				       NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
	struct nlattr *info, *data, *peer;
	size_t off;

	put_ifinfo(nlh, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, v->host_name);
	mnl_attr_put(nlh, IFLA_ADDRESS, 6, v->host_mac);
	mnl_attr_put_u32(nlh, IFLA_MTU, v->mtu);
	put_one_queue(nlh);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	put_ifinfo(nlh, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, v->pod_name);
	mnl_attr_put(nlh, IFLA_ADDRESS, 6, v->pod_mac);
	mnl_attr_put_u32(nlh, IFLA_MTU, v->mtu);
	put_one_queue(nlh);
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)v->netns_fd);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	off = nlh->nlmsg_len;
	nlh = put_msg(nl, buf, off, RTM_SETLINK, NLM_F_ACK);
	put_ifinfo(nlh, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, v->host_name);
	put_host_conf(nlh, v->alias);
	off += nlh->nlmsg_len;
	nlh = put_msg(nl, buf, off, RTM_GETLINK, NLM_F_ACK);
	put_ifinfo(nlh, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, v->host_name);
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	return off + nlh->nlmsg_len;
}

int nl_veth_create(struct vn_nl *nl, const struct veth_spec *v, int *host_index, int *pod_index,
		   struct vn_err *e)
{
	char buf[1024];
	size_t len = put_veth_batch(nl, buf, v);
	struct link_info l = { .index = 0 };
	struct vn_err ignored;
	int errs[3];

	if (vn_nl_talk_each(nl, buf, len, link_cb, &l, errs, 3, "create veth", e))
		return -1;
	if (errs[0]) {
		errno = errs[0];
		return vn_errf(e, VN_E_IO, "I/O error", "create veth: %s", strerror(errs[0]));
	}
	if (errs[1] || errs[2] || l.index <= 0 || l.link <= 0) {
		int err = errs[1] ? errs[1] : errs[2] ? errs[2] : ENODEV;

		nl_link_delete(nl, v->host_name, &ignored);
		errno = err;
		return vn_errf(e, VN_E_IO, "I/O error", "set up veth: %s", strerror(err));
	}
	*host_index = l.index;
	*pod_index = l.link;
	return 0;
}

int nl_link_get(struct vn_nl *nl, const char *name, int index, struct link_info *out,
		struct vn_err *e)
{
	char buf[256];
	struct nlmsghdr *nlh = put_msg(nl, buf, 0, RTM_GETLINK, NLM_F_ACK);

	memset(out, 0, sizeof(*out));
	put_ifinfo(nlh, index);
	if (!index)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	if (vn_nl_talk(nl, buf, nlh->nlmsg_len, link_cb, out, "get link", e) == 0)
		return out->index ? 0 : 1;
	if (errno == ENODEV)
		return 1;
	return vn_err_wrap(e, "%s", name ? name : "link");
}

int nl_link_delete(struct vn_nl *nl, const char *name, struct vn_err *e)
{
	char buf[256];
	struct nlmsghdr *nlh = put_msg(nl, buf, 0, RTM_DELLINK, NLM_F_ACK);

	put_ifinfo(nlh, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if (vn_nl_talk(nl, buf, nlh->nlmsg_len, NULL, NULL, "delete link", e) == 0)
		return 0;
	if (errno == ENODEV)
		return 1;
	return vn_err_wrap(e, "%s", name);
}

int nl_link_retire(struct vn_nl *nl, const char *name, struct vn_err *e)
{
	char buf[256];
	struct nlmsghdr *nlh = put_msg(nl, buf, 0, RTM_SETLINK, NLM_F_ACK);

	put_ifinfo(nlh, 0)->ifi_change = IFF_UP;	/* flags 0: down */
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put_u32(nlh, IFLA_GROUP, NL_TOMB_GROUP);
	if (vn_nl_talk(nl, buf, nlh->nlmsg_len, NULL, NULL, "retire link", e) == 0)
		return 0;
	if (errno == ENODEV)
		return 1;
	return vn_err_wrap(e, "%s", name);
}

int nl_group_delete(struct vn_nl *nl, unsigned int group, struct vn_err *e)
{
	char buf[256];
	struct nlmsghdr *nlh = put_msg(nl, buf, 0, RTM_DELLINK, NLM_F_ACK);

	put_ifinfo(nlh, 0);
	mnl_attr_put_u32(nlh, IFLA_GROUP, group);
	if (vn_nl_talk(nl, buf, nlh->nlmsg_len, NULL, NULL, "delete retired links", e) == 0)
		return 0;
	return errno == ENODEV ? 1 : -1;
}

static void put_setlink_up(struct vn_nl *nl, char *buf, size_t *off, int index, const char *alias,
			   bool v4conf)
{
	struct nlmsghdr *nlh = put_msg(nl, buf, *off, RTM_SETLINK, NLM_F_ACK);
	struct ifinfomsg *ifi = put_ifinfo(nlh, index);

	if (v4conf) {
		put_host_conf(nlh, alias);
	} else {
		ifi->ifi_flags = IFF_UP;
		ifi->ifi_change = IFF_UP;
		if (alias)
			mnl_attr_put_strz(nlh, IFLA_IFALIAS, alias);
	}
	*off += nlh->nlmsg_len;
}

static void put_addr(struct vn_nl *nl, char *buf, size_t *off, int index,
		     const struct vn_addr *a, unsigned int len, unsigned char scope)
{
	struct nlmsghdr *nlh = put_msg(nl, buf, *off, RTM_NEWADDR,
				       NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	unsigned int size = vn_addr_size(a->family);

	ifa->ifa_family = (unsigned char)a->family;
	ifa->ifa_prefixlen = (unsigned char)len;
	ifa->ifa_scope = scope;
	ifa->ifa_index = (unsigned int)index;
	mnl_attr_put(nlh, IFA_LOCAL, size, a->b);
	mnl_attr_put(nlh, IFA_ADDRESS, size, a->b);
	if (a->family == AF_INET6) {
		ifa->ifa_flags = IFA_F_NODAD;
		mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
	}
	*off += nlh->nlmsg_len;
}

static void put_route(struct vn_nl *nl, char *buf, size_t *off, int index,
		      const struct vn_prefix *dst, const struct vn_addr *gw)
{
	struct nlmsghdr *nlh = put_msg(nl, buf, *off, RTM_NEWROUTE,
				       NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

	rtm->rtm_family = (unsigned char)dst->addr.family;
	rtm->rtm_dst_len = (unsigned char)dst->len;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_type = RTN_UNICAST;
	rtm->rtm_scope = gw || dst->addr.family == AF_INET6 ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	if (dst->len)
		mnl_attr_put(nlh, RTA_DST, vn_addr_size(dst->addr.family), dst->addr.b);
	if (gw) {
		mnl_attr_put(nlh, RTA_GATEWAY, vn_addr_size(gw->family), gw->b);
		if (gw->family == AF_INET)
			rtm->rtm_flags |= RTNH_F_ONLINK;
	}
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)index);
	*off += nlh->nlmsg_len;
}

static void put_neigh(struct vn_nl *nl, char *buf, size_t *off, int index,
		      const struct vn_addr *a, const uint8_t mac[6])
{
	struct nlmsghdr *nlh = put_msg(nl, buf, *off, RTM_NEWNEIGH,
				       NLM_F_CREATE | NLM_F_REPLACE | NLM_F_ACK);
	struct ndmsg *nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));

	nd->ndm_family = (unsigned char)a->family;
	nd->ndm_ifindex = index;
	nd->ndm_state = NUD_PERMANENT;
	mnl_attr_put(nlh, NDA_DST, vn_addr_size(a->family), a->b);
	mnl_attr_put(nlh, NDA_LLADDR, 6, mac);
	*off += nlh->nlmsg_len;
}

static bool any_family(const struct vn_addr *ips, size_t n, int family)
{
	for (size_t i = 0; i < n; i++)
		if (ips[i].family == family)
			return true;
	return false;
}

int nl_host_routes(struct vn_nl *nl, int ifindex, const struct vn_addr *ips, size_t n_ips,
		   struct vn_err *e)
{
	char buf[BATCH_SIZE];
	size_t off = 0;
	struct vn_addr ll;

	if (any_family(ips, n_ips, AF_INET6)) {
		vn_addr_parse("fe80::1", &ll);
		put_addr(nl, buf, &off, ifindex, &ll, 64, RT_SCOPE_LINK);
	}
	for (size_t i = 0; i < n_ips; i++) {
		struct vn_prefix p = { .addr = ips[i], .len = vn_addr_size(ips[i].family) * 8 };

		put_route(nl, buf, &off, ifindex, &p, NULL);
	}
	return vn_nl_talk(nl, buf, off, NULL, NULL, "host routes", e);
}

int nl_pod_addrs(struct vn_nl *nl, int ifindex, const struct vn_addr *ips, size_t n_ips,
		 const uint8_t host_mac[6], const struct cfg_route *routes, size_t n_routes,
		 struct vn_err *e)
{
	char buf[BATCH_SIZE];
	size_t off = 0;
	struct vn_addr gw;

	put_setlink_up(nl, buf, &off, ifindex, NULL, false);
	for (size_t i = 0; i < n_ips; i++)
		put_addr(nl, buf, &off, ifindex, &ips[i], vn_addr_size(ips[i].family) * 8,
			 RT_SCOPE_UNIVERSE);
	if (any_family(ips, n_ips, AF_INET) && vn_addr_parse("169.254.1.1", &gw) == 0)
		put_neigh(nl, buf, &off, ifindex, &gw, host_mac);
	if (any_family(ips, n_ips, AF_INET6) && vn_addr_parse("fe80::1", &gw) == 0)
		put_neigh(nl, buf, &off, ifindex, &gw, host_mac);
	for (size_t i = 0; i < n_routes; i++)
		put_route(nl, buf, &off, ifindex, &routes[i].dst,
			  routes[i].gw.family ? &routes[i].gw : NULL);
	return vn_nl_talk(nl, buf, off, NULL, NULL, "pod addresses and routes", e);
}

static int route_attr(const struct nlattr *a, void *data)
{
	struct route_match *m = data;
	uint16_t len = mnl_attr_get_payload_len(a);

	switch (mnl_attr_get_type(a)) {
	case RTA_OIF:
		if (len >= 4)
			m->oif = (int)mnl_attr_get_u32(a);
		break;
	case RTA_GATEWAY:
		if (len == 4 || len == 16) {
			m->gw.family = len == 4 ? AF_INET : AF_INET6;
			memcpy(m->gw.b, mnl_attr_get_payload(a), len);
		}
		break;
	}
	return MNL_CB_OK;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_match *m = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return MNL_CB_OK;
	m->found = rtm->rtm_type == RTN_UNICAST;
	m->dst_len = rtm->rtm_dst_len;
	mnl_attr_parse(nlh, sizeof(*rtm), route_attr, m);
	return MNL_CB_OK;
}

/* A FIB lookup of dst (RTM_F_FIB_MATCH: the route itself is answered). */
static void put_route_lookup(struct vn_nl *nl, char *buf, size_t *off, const struct vn_prefix *dst)
{
	struct nlmsghdr *nlh = put_msg(nl, buf, *off, RTM_GETROUTE, NLM_F_ACK);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	struct vn_addr probe = dst->addr;

	/* 0.0.0.0 is answered as a local address without a FIB lookup; for
	 * a default route look up a documentation address nobody routes. */
	if (dst->len == 0)
		vn_addr_parse(dst->addr.family == AF_INET ? "192.0.2.1" : "2001:db8::1", &probe);
	rtm->rtm_family = (unsigned char)dst->addr.family;
	rtm->rtm_dst_len = (unsigned char)(vn_addr_size(dst->addr.family) * 8);
	rtm->rtm_flags = RTM_F_FIB_MATCH;
	mnl_attr_put(nlh, RTA_DST, vn_addr_size(probe.family), probe.b);
	*off += nlh->nlmsg_len;
}

static bool no_route(int err)
{
	return err == ENETUNREACH || err == EHOSTUNREACH || err == ESRCH;
}

int nl_route_match(struct vn_nl *nl, const struct vn_prefix *dst, struct route_match *out,
		   struct vn_err *e)
{
	char buf[256];
	size_t len = 0;

	memset(out, 0, sizeof(*out));
	put_route_lookup(nl, buf, &len, dst);
	if (vn_nl_talk(nl, buf, len, route_cb, out, "get route", e) == 0)
		return 0;
	if (no_route(errno)) {
		out->found = false;
		return 0;
	}
	return -1;
}

/* Answers to the two default-route lookups, by sequence number. */
struct default_routes {
	unsigned int seq0;
	struct route_match m[2];
};

static int default_route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct default_routes *d = data;
	unsigned int i = nlh->nlmsg_seq - d->seq0;

	return i < 2 ? route_cb(nlh, &d->m[i]) : MNL_CB_OK;
}

int nl_default_route_mtu(struct vn_nl *nl, unsigned int *mtu, struct vn_err *e)
{
	static const int families[] = { AF_INET, AF_INET6 };
	struct default_routes d;
	char buf[256];
	size_t len = 0;
	int errs[2];

	memset(&d, 0, sizeof(d));
	for (int i = 0; i < 2; i++) {
		struct vn_prefix any = { .addr = { .family = families[i] }, .len = 0 };

		put_route_lookup(nl, buf, &len, &any);
	}
	d.seq0 = ((struct nlmsghdr *)buf)->nlmsg_seq;
	if (vn_nl_talk_each(nl, buf, len, default_route_cb, &d, errs, 2, "default routes", e))
		return -1;
	for (int i = 0; i < 2; i++) {
		struct link_info l;

		if (errs[i] && !no_route(errs[i])) {
			errno = errs[i];
			return vn_errf(e, VN_E_IO, "I/O error", "default route: %s", strerror(errs[i]));
		}
		if (errs[i] || !d.m[i].found || d.m[i].dst_len != 0 || d.m[i].oif <= 0)
			continue;
		if (nl_link_get(nl, NULL, d.m[i].oif, &l, e) < 0)
			return -1;
		if (l.mtu) {
			*mtu = l.mtu;
			return 0;
		}
	}
	return 1;
}

struct addr_dump {
	int index;
	struct vn_prefix *out;
	size_t max, n;
};

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct addr_dump *d = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct nlattr *a;

	if (nlh->nlmsg_type != RTM_NEWADDR || (int)ifa->ifa_index != d->index || d->n >= d->max)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*ifa)) {
		uint16_t len = mnl_attr_get_payload_len(a);
		struct vn_prefix *p = &d->out[d->n];

		if (mnl_attr_get_type(a) != IFA_ADDRESS || (len != 4 && len != 16))
			continue;
		memset(p, 0, sizeof(*p));
		p->addr.family = ifa->ifa_family;
		memcpy(p->addr.b, mnl_attr_get_payload(a), len);
		p->len = ifa->ifa_prefixlen;
		d->n++;
		break;
	}
	return MNL_CB_OK;
}

int nl_addr_list(struct vn_nl *nl, int ifindex, struct vn_prefix *out, size_t max, size_t *n,
		 struct vn_err *e)
{
	char buf[256];
	struct nlmsghdr *nlh = put_msg(nl, buf, 0, RTM_GETADDR, NLM_F_DUMP);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	struct addr_dump d = { .index = ifindex, .out = out, .max = max };

	ifa->ifa_family = AF_UNSPEC;
	ifa->ifa_index = (unsigned int)ifindex;
	if (vn_nl_talk(nl, buf, nlh->nlmsg_len, addr_cb, &d, "list addresses", e))
		return -1;
	*n = d.n;
	return 0;
}

struct link_dump {
	const char *prefix;
	nl_link_fn fn;
	void *ctx;
};

static int link_each_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_dump *d = data;
	struct link_info l;

	if (nl_parse_link(nlh, &l))
		return MNL_CB_OK;
	if (strncmp(l.name, d->prefix, strlen(d->prefix)) == 0)
		d->fn(d->ctx, &l);
	return MNL_CB_OK;
}

int nl_link_each(struct vn_nl *nl, const char *prefix, nl_link_fn fn, void *ctx,
		 struct vn_err *e)
{
	char buf[256];
	struct nlmsghdr *nlh = put_msg(nl, buf, 0, RTM_GETLINK, NLM_F_DUMP);
	struct link_dump d = { .prefix = prefix, .fn = fn, .ctx = ctx };

	put_ifinfo(nlh, 0);
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	return vn_nl_talk(nl, buf, nlh->nlmsg_len, link_each_cb, &d, "list links", e);
}
