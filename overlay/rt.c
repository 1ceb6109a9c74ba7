/* rt.c - links and routes over rtnetlink (libmnl). */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include "rt.h"

#define NO_MEM(e) vn_errf(e, VN_E_IO, "I/O error", "out of memory")

static struct nlmsghdr *link_msg(char *buf, struct vn_nl *nl, uint16_t type, uint16_t flags,
				 uint32_t ifindex)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = vn_nl_seq(nl);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = (int)ifindex;
	return nlh;
}

static void link_kind(const struct nlattr *info, struct rt_link *l)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, info)
		if (mnl_attr_get_type(a) == IFLA_INFO_KIND &&
		    mnl_attr_validate(a, MNL_TYPE_STRING) == 0)
			snprintf(l->kind, sizeof(l->kind), "%.*s",
				 (int)strnlen(mnl_attr_get_str(a), mnl_attr_get_payload_len(a)),
				 mnl_attr_get_str(a));
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	struct rt_link *l = data;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	l->ifindex = (uint32_t)ifi->ifi_index;
	l->up = ifi->ifi_flags & IFF_UP;
	mnl_attr_for_each(a, nlh, sizeof(*ifi)) {
		switch (mnl_attr_get_type(a)) {
		case IFLA_IFNAME:
			if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
				snprintf(l->ifname, sizeof(l->ifname), "%s", mnl_attr_get_str(a));
			break;
		case IFLA_MTU:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
				l->mtu = mnl_attr_get_u32(a);
			break;
		case IFLA_LINKINFO:
			link_kind(a, l);
			break;
		}
	}
	return MNL_CB_OK;
}

int rt_link_get(struct vn_nl *nl, const char *ifname, uint32_t ifindex, struct rt_link *out,
		struct vn_err *e)
{
	char buf[512];
	struct nlmsghdr *nlh = link_msg(buf, nl, RTM_GETLINK, 0, ifname ? 0 : ifindex);

	memset(out, 0, sizeof(*out));
	if (ifname)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	if (vn_nl_talk(nl, nlh, nlh->nlmsg_len, link_cb, out, "get link", e))
		return vn_err_wrap(e, "%s", ifname ? ifname : "link");
	return 0;
}

int rt_link_add_wireguard(struct vn_nl *nl, const char *ifname, struct vn_err *e)
{
	char buf[512];
	struct nlmsghdr *nlh = link_msg(buf, nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
	struct nlattr *info;

	mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "wireguard");
	mnl_attr_nest_end(nlh, info);
	if (vn_nl_talk(nl, nlh, nlh->nlmsg_len, NULL, NULL, "add wireguard link", e))
		return vn_err_wrap(e, "%s", ifname);
	return 0;
}

int rt_link_set(struct vn_nl *nl, uint32_t ifindex, unsigned int mtu, bool up, struct vn_err *e)
{
	char buf[512];
	struct nlmsghdr *nlh = link_msg(buf, nl, RTM_NEWLINK, 0, ifindex);
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	if (up) {
		ifi->ifi_flags = IFF_UP;
		ifi->ifi_change = IFF_UP;
	}
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return vn_nl_talk(nl, nlh, nlh->nlmsg_len, NULL, NULL, "set link", e);
}

int rt_link_del(struct vn_nl *nl, uint32_t ifindex, struct vn_err *e)
{
	char buf[512];
	struct nlmsghdr *nlh = link_msg(buf, nl, RTM_DELLINK, 0, ifindex);

	return vn_nl_talk(nl, nlh, nlh->nlmsg_len, NULL, NULL, "delete link", e);
}

/* ---- routes ---- */

static struct nlmsghdr *route_msg(char *buf, struct vn_nl *nl, uint16_t type, uint16_t flags,
				  int family)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = vn_nl_seq(nl);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (unsigned char)family;
	return nlh;
}

struct route_parse {
	struct route_entry r;
	uint32_t table;
	bool ok;		/* a main-table unicast route */
};

static void parse_route(const struct nlmsghdr *nlh, struct route_parse *p)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	unsigned int size = vn_addr_size(rtm->rtm_family);
	const struct nlattr *a;

	memset(p, 0, sizeof(*p));
	if (nlh->nlmsg_type != RTM_NEWROUTE || !size || (rtm->rtm_flags & RTM_F_CLONED))
		return;
	p->table = rtm->rtm_table;
	p->r.kernel = rtm->rtm_protocol == RTPROT_KERNEL;
	p->r.dst.addr.family = rtm->rtm_family;
	p->r.dst.len = rtm->rtm_dst_len;
	mnl_attr_for_each(a, nlh, sizeof(*rtm)) {
		switch (mnl_attr_get_type(a)) {
		case RTA_DST:
			if (mnl_attr_get_payload_len(a) == size)
				memcpy(p->r.dst.addr.b, mnl_attr_get_payload(a), size);
			break;
		case RTA_OIF:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
				p->r.oif = mnl_attr_get_u32(a);
			break;
		case RTA_PRIORITY:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
				p->r.metric = mnl_attr_get_u32(a);
			break;
		case RTA_TABLE:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
				p->table = mnl_attr_get_u32(a);
			break;
		case RTA_GATEWAY:
		case RTA_VIA:
		case RTA_MULTIPATH:
			p->r.gateway = true;
			break;
		}
	}
	p->ok = p->table == RT_TABLE_MAIN && rtm->rtm_type == RTN_UNICAST;
}

/* What a route lookup answers: the output interface and the route's own
 * MTU (RTAX_MTU, 0 if none). Not parse_route: the kernel flags a lookup's
 * answer RTM_F_CLONED (IPv4 always), which the dump skips. */
struct lookup {
	uint32_t oif;
	unsigned int mtu;
};

static void lookup_metrics(const struct nlattr *nest, struct lookup *l)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, nest)
		if (mnl_attr_get_type(a) == RTAX_MTU && mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			l->mtu = mnl_attr_get_u32(a);
}

static int oif_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *a;
	struct lookup *l = data;

	if (nlh->nlmsg_type != RTM_NEWROUTE || l->oif)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(struct rtmsg)) {
		if (mnl_attr_get_type(a) == RTA_OIF && mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			l->oif = mnl_attr_get_u32(a);
		else if (mnl_attr_get_type(a) == RTA_METRICS)
			lookup_metrics(a, l);
	}
	return MNL_CB_OK;
}

int rt_route_oif(struct vn_nl *nl, const struct vn_addr *dst, uint32_t *oif, unsigned int *mtu,
		 struct vn_err *e)
{
	char buf[512];
	struct nlmsghdr *nlh = route_msg(buf, nl, RTM_GETROUTE, NLM_F_ACK, dst->family);
	struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct lookup l = { 0 };

	rtm->rtm_dst_len = (unsigned char)(vn_addr_size(dst->family) * 8);
	mnl_attr_put(nlh, RTA_DST, vn_addr_size(dst->family), dst->b);
	*oif = 0;
	*mtu = 0;
	if (vn_nl_talk(nl, nlh, nlh->nlmsg_len, oif_cb, &l, "get route", e))
		return -1;
	if (!l.oif) {
		errno = ENOENT;
		return vn_errf(e, VN_E_IO, "I/O error", "route has no output interface");
	}
	*oif = l.oif;
	*mtu = l.mtu;
	return 0;
}

struct dump {
	struct route_entry *v;
	size_t n;
	size_t cap;
	bool oom;
	int only_default_family;	/* rt_default_oif: family wanted, else 0 */
	uint32_t default_oif;
};

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump *d = data;
	struct route_parse p;

	parse_route(nlh, &p);
	if (!p.ok)
		return MNL_CB_OK;
	if (d->only_default_family) {
		if (p.r.dst.len == 0 && p.r.dst.addr.family == d->only_default_family &&
		    p.r.oif && !d->default_oif)
			d->default_oif = p.r.oif;
		return MNL_CB_OK;
	}
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		struct route_entry *grown = realloc(d->v, cap * sizeof(*grown));

		if (!grown) {
			d->oom = true;
			return MNL_CB_OK;
		}
		d->v = grown;
		d->cap = cap;
	}
	d->v[d->n++] = p.r;
	return MNL_CB_OK;
}

static int route_dump(struct vn_nl *nl, int family, struct dump *d, struct vn_err *e)
{
	char buf[512];
	struct nlmsghdr *nlh = route_msg(buf, nl, RTM_GETROUTE, NLM_F_DUMP, family);

	return vn_nl_talk(nl, nlh, nlh->nlmsg_len, dump_cb, d, "dump routes", e);
}

int rt_default_oif(struct vn_nl *nl, int family, uint32_t *oif, struct vn_err *e)
{
	struct dump d = { .only_default_family = family };

	if (route_dump(nl, family, &d, e))
		return -1;
	*oif = d.default_oif;
	if (!*oif) {
		errno = ENOENT;
		return vn_errf(e, VN_E_IO, "I/O error", "no default route");
	}
	return 0;
}

int rt_route_dump(struct vn_nl *nl, struct route_entry **out, size_t *n, struct vn_err *e)
{
	struct dump d = { 0 };

	if (route_dump(nl, AF_INET, &d, e) || route_dump(nl, AF_INET6, &d, e)) {
		free(d.v);
		return -1;
	}
	if (d.oom) {
		free(d.v);
		return NO_MEM(e);
	}
	*out = d.v;
	*n = d.n;
	return 0;
}

static void put_route(char *buf, struct vn_nl *nl, const struct route_op *op, uint32_t wg_oif)
{
	int family = op->dst.addr.family;
	bool add = op->op == ROUTE_REPLACE;
	struct nlmsghdr *nlh = route_msg(buf, nl, add ? RTM_NEWROUTE : RTM_DELROUTE,
					 NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_REPLACE : 0),
					 family);
	struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);

	rtm->rtm_dst_len = (unsigned char)op->dst.len;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = add ? RTPROT_STATIC : RTPROT_UNSPEC;
	rtm->rtm_scope = add ? RT_SCOPE_LINK : RT_SCOPE_NOWHERE;
	rtm->rtm_type = RTN_UNICAST;
	if (op->dst.len)
		mnl_attr_put(nlh, RTA_DST, vn_addr_size(family), op->dst.addr.b);
	mnl_attr_put_u32(nlh, RTA_OIF, add ? wg_oif : op->oif);
	mnl_attr_put_u32(nlh, RTA_PRIORITY, add ? plan_route_metric(family) : op->metric);
}

/* At most this many acknowledged messages in flight, so the answers fit
 * in the socket's receive buffer. */
#define ROUTE_BATCH 100

int rt_route_apply(struct vn_nl *nl, const struct route_op *ops, size_t n, uint32_t wg_oif,
		   unsigned long *n_msgs, struct vn_err *e)
{
	char *buf = malloc(ROUTE_BATCH * 128);
	int ret = 0;

	if (!buf)
		return NO_MEM(e);
	for (size_t i = 0; i < n && ret == 0; i += ROUTE_BATCH) {
		size_t len = 0;

		for (size_t j = i; j < n && j < i + ROUTE_BATCH; j++) {
			put_route(buf + len, nl, &ops[j], wg_oif);
			len += NLMSG_ALIGN(((struct nlmsghdr *)(buf + len))->nlmsg_len);
		}
		ret = vn_nl_talk(nl, buf, len, NULL, NULL, "change routes", e);
		if (n_msgs)
			*n_msgs += (n - i < ROUTE_BATCH ? n - i : ROUTE_BATCH);
	}
	free(buf);
	return ret;
}
