#include <errno.h>
#include <string.h>
#include <net/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <veilnet/nlmsg.h>
#include "netlink.h"

/* A link request; change: the IFF_* flags to set to the values in set. */
static struct nl_msg *link_msg(uint16_t type, uint16_t flags, int index, unsigned int change,
			       unsigned int set)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = index,
				 .ifi_flags = set, .ifi_change = change };

	return vn_msg_new(type, flags, &ifi, sizeof(ifi));
}

/* Alias, IPv4 forwarding and proxy_arp (IFLA_AF_SPEC/IFLA_INET_CONF). */
static void put_host_conf(struct nl_msg *m, const char *alias)
{
	struct nlattr *spec, *inet, *conf;

	if (alias)
		nla_put_string(m, IFLA_IFALIAS, alias);
	spec = nla_nest_start(m, IFLA_AF_SPEC);
	inet = nla_nest_start(m, AF_INET);
	conf = nla_nest_start(m, IFLA_INET_CONF);
	nla_put_u32(m, IPV4_DEVCONF_FORWARDING, 1);
	nla_put_u32(m, IPV4_DEVCONF_PROXY_ARP, 1);
	nla_nest_end(m, conf);
	nla_nest_end(m, inet);
	nla_nest_end(m, spec);
}

/* The attributes of a message with a fixed header of hdrlen bytes, by
 * type (up to max); false if the message is too short. */
static bool parse_attrs(const struct nlmsghdr *nlh, size_t hdrlen, struct nlattr **tb, int max)
{
	if (nlh->nlmsg_len < NLMSG_LENGTH(hdrlen))
		return false;
	return nla_parse(tb, max, nlmsg_attrdata(nlh, (int)hdrlen), nlmsg_attrlen(nlh, (int)hdrlen),
			 NULL) == 0;
}

static void get_u32(const struct nlattr *a, uint32_t *out)
{
	if (a && nla_len(a) >= 4)
		*out = nla_get_u32((struct nlattr *)a);
}

static void get_str(const struct nlattr *a, char *out, size_t size)
{
	size_t n;

	if (!a)
		return;
	n = strnlen(nla_data(a), (size_t)nla_len(a));
	if (n >= size)
		n = size - 1;
	memcpy(out, nla_data(a), n);
	out[n] = '\0';
}

int nl_parse_link(const struct nlmsghdr *nlh, struct link_info *l)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(nlh);
	struct nlattr *tb[IFLA_MAX + 1];
	uint32_t link = 0;

	if (nlh->nlmsg_type != RTM_NEWLINK || !parse_attrs(nlh, sizeof(*ifi), tb, IFLA_MAX))
		return -1;
	memset(l, 0, sizeof(*l));
	l->index = ifi->ifi_index;
	l->flags = ifi->ifi_flags;
	get_u32(tb[IFLA_MTU], &l->mtu);
	get_u32(tb[IFLA_LINK], &link);
	l->link = (int)link;
	get_u32(tb[IFLA_GROUP], &l->group);
	if (tb[IFLA_ADDRESS] && nla_len(tb[IFLA_ADDRESS]) == 6)
		memcpy(l->mac, nla_data(tb[IFLA_ADDRESS]), 6);
	get_str(tb[IFLA_IFNAME], l->name, sizeof(l->name));
	get_str(tb[IFLA_IFALIAS], l->alias, sizeof(l->alias));
	return 0;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	nl_parse_link(nlh, data);
	return 1;
}

/* One TX and one RX queue: a veth's queues only spread its load over
 * CPUs, and each one costs the kernel sysfs objects to create and tear down. */
static void put_one_queue(struct nl_msg *m)
{
	nla_put_u32(m, IFLA_NUM_TX_QUEUES, 1);
	nla_put_u32(m, IFLA_NUM_RX_QUEUES, 1);
}

/* The pod end, inside VETH_INFO_PEER: its own ifinfomsg, then attributes. */
static void put_veth_peer(struct nl_msg *m, const struct veth_spec *v)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nlattr *info, *data, *peer;

	info = nla_nest_start(m, IFLA_LINKINFO);
	nla_put_string(m, IFLA_INFO_KIND, "veth");
	data = nla_nest_start(m, IFLA_INFO_DATA);
	peer = nla_nest_start(m, VETH_INFO_PEER);
	nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO);
	nla_put_string(m, IFLA_IFNAME, v->pod_name);
	nla_put(m, IFLA_ADDRESS, 6, v->pod_mac);
	nla_put_u32(m, IFLA_MTU, v->mtu);
	put_one_queue(m);
	nla_put_u32(m, IFLA_NET_NS_FD, (uint32_t)v->netns_fd);
	nla_nest_end(m, peer);
	nla_nest_end(m, data);
	nla_nest_end(m, info);
}

static void put_veth_batch(struct vn_batch *b, const struct veth_spec *v)
{
	struct nl_msg *m = link_msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, 0, 0, 0);

	if (m) {
		nla_put_string(m, IFLA_IFNAME, v->host_name);
		nla_put(m, IFLA_ADDRESS, 6, v->host_mac);
		nla_put_u32(m, IFLA_MTU, v->mtu);
		put_one_queue(m);
		put_veth_peer(m, v);
	}
	vn_batch_add(b, m);
	m = link_msg(RTM_SETLINK, NLM_F_ACK, 0, IFF_UP, IFF_UP);
	if (m) {
		nla_put_string(m, IFLA_IFNAME, v->host_name);
		put_host_conf(m, v->alias);
	}
	vn_batch_add(b, m);
	m = link_msg(RTM_GETLINK, NLM_F_ACK, 0, 0, 0);
	if (m) {
		nla_put_string(m, IFLA_IFNAME, v->host_name);
		nla_put_u32(m, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	}
	vn_batch_add(b, m);
}

int nl_veth_create(struct vn_nl *nl, const struct veth_spec *v, int *host_index, int *pod_index,
		   struct vn_err *e)
{
	struct vn_batch b;
	struct link_info l = { .index = 0 };
	struct vn_err ignored;
	int errs[3];

	vn_batch_init(&b, nl);
	put_veth_batch(&b, v);
	if (vn_batch_talk_each(&b, link_cb, &l, errs, 3, "create veth", e))
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

/* A link request naming the link by name (or index, if name is NULL). */
static void put_link_by(struct vn_batch *b, uint16_t type, uint16_t flags, const char *name,
			int index, unsigned int change, unsigned int set, unsigned int group)
{
	struct nl_msg *m = link_msg(type, flags, name ? 0 : index, change, set);

	if (m && name)
		nla_put_string(m, IFLA_IFNAME, name);
	if (m && group)
		nla_put_u32(m, IFLA_GROUP, group);
	if (m && type == RTM_GETLINK)
		nla_put_u32(m, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	vn_batch_add(b, m);
}

int nl_link_get(struct vn_nl *nl, const char *name, int index, struct link_info *out,
		struct vn_err *e)
{
	struct vn_batch b;

	vn_batch_init(&b, nl);
	memset(out, 0, sizeof(*out));
	put_link_by(&b, RTM_GETLINK, NLM_F_ACK, index ? NULL : name, index, 0, 0, 0);
	if (vn_batch_talk(&b, link_cb, out, "get link", e) == 0)
		return out->index ? 0 : 1;
	if (errno == ENODEV)
		return 1;
	return vn_err_wrap(e, "%s", name ? name : "link");
}

int nl_link_delete(struct vn_nl *nl, const char *name, struct vn_err *e)
{
	struct vn_batch b;

	vn_batch_init(&b, nl);
	put_link_by(&b, RTM_DELLINK, NLM_F_ACK, name, 0, 0, 0, 0);
	if (vn_batch_talk(&b, NULL, NULL, "delete link", e) == 0)
		return 0;
	if (errno == ENODEV)
		return 1;
	return vn_err_wrap(e, "%s", name);
}

int nl_link_retire(struct vn_nl *nl, const char *name, struct vn_err *e)
{
	struct vn_batch b;

	vn_batch_init(&b, nl);
	/* Down (flags 0 for IFF_UP) and into the tomb group, in one message. */
	put_link_by(&b, RTM_SETLINK, NLM_F_ACK, name, 0, IFF_UP, 0, NL_TOMB_GROUP);
	if (vn_batch_talk(&b, NULL, NULL, "retire link", e) == 0)
		return 0;
	if (errno == ENODEV)
		return 1;
	return vn_err_wrap(e, "%s", name);
}

int nl_group_delete(struct vn_nl *nl, unsigned int group, struct vn_err *e)
{
	struct vn_batch b;

	vn_batch_init(&b, nl);
	put_link_by(&b, RTM_DELLINK, NLM_F_ACK, NULL, 0, 0, 0, group);
	if (vn_batch_talk(&b, NULL, NULL, "delete retired links", e) == 0)
		return 0;
	return errno == ENODEV ? 1 : -1;
}

static void put_pod_up(struct vn_batch *b, int index)
{
	vn_batch_add(b, link_msg(RTM_SETLINK, NLM_F_ACK, index, IFF_UP, IFF_UP));
}

static void put_addr(struct vn_batch *b, int index, const struct vn_addr *a, unsigned int len,
		     unsigned char scope)
{
	struct ifaddrmsg ifa = { .ifa_family = (unsigned char)a->family,
				 .ifa_prefixlen = (unsigned char)len, .ifa_scope = scope,
				 .ifa_index = (unsigned int)index };
	int size = (int)vn_addr_size(a->family);
	struct nl_msg *m;

	if (a->family == AF_INET6)
		ifa.ifa_flags = IFA_F_NODAD;
	m = vn_msg_new(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, &ifa, sizeof(ifa));
	if (m) {
		nla_put(m, IFA_LOCAL, size, a->b);
		nla_put(m, IFA_ADDRESS, size, a->b);
		if (a->family == AF_INET6)
			nla_put_u32(m, IFA_FLAGS, IFA_F_NODAD);
	}
	vn_batch_add(b, m);
}

/* A route's optional metrics and priority (CNI 1.1.0 route attributes). */
static void put_route_attrs(struct nl_msg *m, const struct cfg_route *r)
{
	struct nlattr *metrics;

	if (r->priority)
		nla_put_u32(m, RTA_PRIORITY, r->priority);
	if (!r->mtu && !r->advmss)
		return;
	metrics = nla_nest_start(m, RTA_METRICS);
	if (r->mtu)
		nla_put_u32(m, RTAX_MTU, r->mtu);
	if (r->advmss)
		nla_put_u32(m, RTAX_ADVMSS, r->advmss);
	nla_nest_end(m, metrics);
}

/* A route to dst through link index, via gw (NULL: on the link), with
 * attrs' attributes (NULL: none). */
static void put_route(struct vn_batch *b, int index, const struct vn_prefix *dst,
		      const struct vn_addr *gw, const struct cfg_route *attrs)
{
	struct rtmsg rtm = { .rtm_family = (unsigned char)dst->addr.family,
			     .rtm_dst_len = (unsigned char)dst->len, .rtm_table = RT_TABLE_MAIN,
			     .rtm_protocol = RTPROT_STATIC, .rtm_type = RTN_UNICAST };
	struct nl_msg *m;

	rtm.rtm_scope = gw || dst->addr.family == AF_INET6 ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	if (gw && gw->family == AF_INET)
		rtm.rtm_flags |= RTNH_F_ONLINK;
	m = vn_msg_new(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, &rtm, sizeof(rtm));
	if (m && dst->len)
		nla_put(m, RTA_DST, (int)vn_addr_size(dst->addr.family), dst->addr.b);
	if (m && gw)
		nla_put(m, RTA_GATEWAY, (int)vn_addr_size(gw->family), gw->b);
	if (m)
		nla_put_u32(m, RTA_OIF, (uint32_t)index);
	if (m && attrs)
		put_route_attrs(m, attrs);
	vn_batch_add(b, m);
}

static void put_neigh(struct vn_batch *b, int index, const struct vn_addr *a, const uint8_t mac[6])
{
	struct ndmsg nd = { .ndm_family = (unsigned char)a->family, .ndm_ifindex = index,
			    .ndm_state = NUD_PERMANENT };
	struct nl_msg *m = vn_msg_new(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE | NLM_F_ACK, &nd,
				   sizeof(nd));

	if (m) {
		nla_put(m, NDA_DST, (int)vn_addr_size(a->family), a->b);
		nla_put(m, NDA_LLADDR, 6, mac);
	}
	vn_batch_add(b, m);
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
	struct vn_batch b;
	struct vn_addr ll;

	vn_batch_init(&b, nl);
	if (any_family(ips, n_ips, AF_INET6)) {
		vn_addr_parse("fe80::1", &ll);
		put_addr(&b, ifindex, &ll, 64, RT_SCOPE_LINK);
	}
	for (size_t i = 0; i < n_ips; i++) {
		struct vn_prefix p = { .addr = ips[i], .len = vn_addr_size(ips[i].family) * 8 };

		put_route(&b, ifindex, &p, NULL, NULL);
	}
	return vn_batch_talk(&b, NULL, NULL, "host routes", e);
}

/* The answer to the pod's batch: every message must have succeeded, but a
 * route may exist already (EEXIST), put there by another attachment of the
 * same container: the first one wins, as in the reference plugins. */
static int pod_batch_result(const int *errs, size_t n, size_t first_route, struct vn_err *e)
{
	for (size_t i = 0; i < n; i++) {
		if (!errs[i] || (i >= first_route && errs[i] == EEXIST))
			continue;
		errno = errs[i];
		return vn_errf(e, VN_E_IO, "I/O error", "pod %s: %s",
			       i >= first_route ? "routes" : "link and addresses", strerror(errs[i]));
	}
	return 0;
}

int nl_pod_addrs(struct vn_nl *nl, int ifindex, const struct vn_addr *ips, size_t n_ips,
		 const uint8_t host_mac[6], const struct cfg_route *routes, size_t n_routes,
		 struct vn_err *e)
{
	int errs[NL_POD_MAX_MSGS];
	struct vn_batch b;
	struct vn_addr gw;
	size_t first_route;

	if (1 + n_ips + 2 + n_routes > NL_POD_MAX_MSGS)
		return vn_errf(e, VN_E_INVALID, "invalid configuration", "too many pod routes");
	vn_batch_init(&b, nl);
	put_pod_up(&b, ifindex);
	for (size_t i = 0; i < n_ips; i++)
		put_addr(&b, ifindex, &ips[i], vn_addr_size(ips[i].family) * 8, RT_SCOPE_UNIVERSE);
	if (any_family(ips, n_ips, AF_INET) && vn_addr_parse("169.254.1.1", &gw) == 0)
		put_neigh(&b, ifindex, &gw, host_mac);
	if (any_family(ips, n_ips, AF_INET6) && vn_addr_parse("fe80::1", &gw) == 0)
		put_neigh(&b, ifindex, &gw, host_mac);
	first_route = b.n;
	for (size_t i = 0; i < n_routes; i++)
		put_route(&b, ifindex, &routes[i].dst, routes[i].gw.family ? &routes[i].gw : NULL,
			  &routes[i]);
	if (vn_batch_talk_each(&b, NULL, NULL, errs, b.n, "pod addresses and routes", e))
		return -1;
	return pod_batch_result(errs, b.n, first_route, e);
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_match *m = data;
	const struct rtmsg *rtm = NLMSG_DATA(nlh);
	struct nlattr *tb[RTA_MAX + 1];
	uint32_t oif = 0;

	if (nlh->nlmsg_type != RTM_NEWROUTE || !parse_attrs(nlh, sizeof(*rtm), tb, RTA_MAX))
		return 1;
	m->found = rtm->rtm_type == RTN_UNICAST;
	m->dst_len = rtm->rtm_dst_len;
	get_u32(tb[RTA_OIF], &oif);
	m->oif = (int)oif;
	if (tb[RTA_GATEWAY] && (nla_len(tb[RTA_GATEWAY]) == 4 || nla_len(tb[RTA_GATEWAY]) == 16)) {
		m->gw.family = nla_len(tb[RTA_GATEWAY]) == 4 ? AF_INET : AF_INET6;
		memcpy(m->gw.b, nla_data(tb[RTA_GATEWAY]), (size_t)nla_len(tb[RTA_GATEWAY]));
	}
	return 1;
}

/* A FIB lookup of dst (RTM_F_FIB_MATCH: the route itself is answered). */
static void put_route_lookup(struct vn_batch *b, const struct vn_prefix *dst)
{
	struct rtmsg rtm = { .rtm_family = (unsigned char)dst->addr.family,
			     .rtm_dst_len = (unsigned char)(vn_addr_size(dst->addr.family) * 8),
			     .rtm_flags = RTM_F_FIB_MATCH };
	struct vn_addr probe = dst->addr;
	struct nl_msg *m = vn_msg_new(RTM_GETROUTE, NLM_F_ACK, &rtm, sizeof(rtm));

	/* 0.0.0.0 is answered as a local address without a FIB lookup; for
	 * a default route look up a documentation address nobody routes. */
	if (dst->len == 0)
		vn_addr_parse(dst->addr.family == AF_INET ? "192.0.2.1" : "2001:db8::1", &probe);
	if (m)
		nla_put(m, RTA_DST, (int)vn_addr_size(probe.family), probe.b);
	vn_batch_add(b, m);
}

static bool no_route(int err)
{
	return err == ENETUNREACH || err == EHOSTUNREACH || err == ESRCH;
}

int nl_route_match(struct vn_nl *nl, const struct vn_prefix *dst, struct route_match *out,
		   struct vn_err *e)
{
	struct vn_batch b;

	vn_batch_init(&b, nl);
	memset(out, 0, sizeof(*out));
	put_route_lookup(&b, dst);
	if (vn_batch_talk(&b, route_cb, out, "get route", e) == 0)
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

	return i < 2 ? route_cb(nlh, &d->m[i]) : 1;
}

int nl_default_route_mtu(struct vn_nl *nl, unsigned int *mtu, struct vn_err *e)
{
	static const int families[] = { AF_INET, AF_INET6 };
	struct vn_batch b;
	struct default_routes d;
	int errs[2];

	vn_batch_init(&b, nl);
	memset(&d, 0, sizeof(d));
	for (int i = 0; i < 2; i++) {
		struct vn_prefix any = { .addr = { .family = families[i] }, .len = 0 };

		put_route_lookup(&b, &any);
	}
	d.seq0 = b.len ? ((struct nlmsghdr *)b.buf)->nlmsg_seq : 0;
	if (vn_batch_talk_each(&b, default_route_cb, &d, errs, 2, "default routes", e))
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
	const struct ifaddrmsg *ifa = NLMSG_DATA(nlh);
	struct nlattr *tb[IFA_MAX + 1];
	struct vn_prefix *p = &d->out[d->n];
	int len;

	if (nlh->nlmsg_type != RTM_NEWADDR || !parse_attrs(nlh, sizeof(*ifa), tb, IFA_MAX) ||
	    (int)ifa->ifa_index != d->index || d->n >= d->max || !tb[IFA_ADDRESS])
		return 1;
	len = nla_len(tb[IFA_ADDRESS]);
	if (len != 4 && len != 16)
		return 1;
	memset(p, 0, sizeof(*p));
	p->addr.family = ifa->ifa_family;
	memcpy(p->addr.b, nla_data(tb[IFA_ADDRESS]), (size_t)len);
	p->len = ifa->ifa_prefixlen;
	d->n++;
	return 1;
}

int nl_addr_list(struct vn_nl *nl, int ifindex, struct vn_prefix *out, size_t max, size_t *n,
		 struct vn_err *e)
{
	struct ifaddrmsg ifa = { .ifa_family = AF_UNSPEC, .ifa_index = (unsigned int)ifindex };
	struct addr_dump d = { .index = ifindex, .out = out, .max = max };
	struct vn_batch b;

	vn_batch_init(&b, nl);
	vn_batch_add(&b, vn_msg_new(RTM_GETADDR, NLM_F_DUMP, &ifa, sizeof(ifa)));
	if (vn_batch_talk(&b, addr_cb, &d, "list addresses", e))
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
		return 1;
	if (strncmp(l.name, d->prefix, strlen(d->prefix)) == 0)
		d->fn(d->ctx, &l);
	return 1;
}

int nl_link_each(struct vn_nl *nl, const char *prefix, nl_link_fn fn, void *ctx,
		 struct vn_err *e)
{
	struct link_dump d = { .prefix = prefix, .fn = fn, .ctx = ctx };
	struct vn_batch b;

	vn_batch_init(&b, nl);
	put_link_by(&b, RTM_GETLINK, NLM_F_DUMP, NULL, 0, 0, 0, 0);
	return vn_batch_talk(&b, link_each_cb, &d, "list links", e);
}
