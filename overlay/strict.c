/* strict.c - the strict-mode nftables table (libnftnl batches). */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <sodium.h>
#include <veilnet/nl.h>
#include "strict.h"

#define NO_MEM(e) vn_errf(e, VN_E_IO, "I/O error", "out of memory")
#define ELEMS_PER_MSG 256
#define NFT_TYPE_IPADDR 7	/* nft's datatype ids, for `nft list` */
#define NFT_TYPE_IP6ADDR 8

/* ---- pure parts ---- */

static int range_qcmp(const void *a, const void *b)
{
	const struct strict_range *x = a, *y = b;

	return vn_addr_cmp(&x->start, &y->start);
}

static bool range_empty(const struct strict_range *r)
{
	return r->has_end && vn_addr_cmp(&r->end, &r->start) <= 0;
}

size_t strict_merge(struct strict_range *r, size_t n)
{
	size_t m = 0, k = 0;

	for (size_t i = 0; i < n; i++)
		if (!range_empty(&r[i]))
			r[m++] = r[i];
	qsort(r, m, sizeof(*r), range_qcmp);
	for (size_t i = 0; i < m; i++) {
		struct strict_range *last = k ? &r[k - 1] : NULL;

		if (last && (!last->has_end || vn_addr_cmp(&r[i].start, &last->end) <= 0)) {
			if (last->has_end && (!r[i].has_end || vn_addr_cmp(&r[i].end, &last->end) > 0)) {
				last->end = r[i].end;
				last->has_end = r[i].has_end;
			}
			continue;
		}
		r[k++] = r[i];
	}
	return k;
}

/* [first address, last address + 1) of a prefix; to the end if that wraps. */
static void prefix_range(const struct vn_prefix *p, struct strict_range *r)
{
	struct vn_prefix c = *p;

	vn_prefix_canon(&c);
	r->start = c.addr;
	vn_prefix_last(&c, &r->end);
	vn_addr_add(&r->end, 1);
	r->has_end = vn_addr_cmp(&r->end, &r->start) > 0;
}

/* Appends the ranges of the prefixes of one family; returns the new k. */
static size_t add_prefixes(const struct vn_prefix *p, size_t n, int family,
			   struct strict_range *out, size_t k)
{
	for (size_t i = 0; i < n; i++)
		if (p[i].addr.family == family)
			prefix_range(&p[i], &out[k++]);
	return k;
}

size_t strict_ranges(const struct vn_prefix *p, size_t n, int family, struct strict_range *out)
{
	return strict_merge(out, add_prefixes(p, n, family, out, 0));
}

static bool has_family(const struct vn_prefix *p, size_t n, int family)
{
	for (size_t i = 0; i < n; i++)
		if (p[i].addr.family == family)
			return true;
	return false;
}

size_t strict_guarded(const struct strict_spec *s, int family, const struct strict_range *held,
		      size_t n_held, struct strict_range *out)
{
	size_t k = add_prefixes(s->cluster, s->n_cluster, family, out, 0);

	k = add_prefixes(s->remote, s->n_remote, family, out, k);
	/* No cluster CIDR of this family: the set is the memory of departed
	 * nodes' pod CIDRs, so what it holds stays. */
	if (!has_family(s->cluster, s->n_cluster, family))
		for (size_t i = 0; i < n_held; i++)
			if (held[i].start.family == family)
				out[k++] = held[i];
	return strict_merge(out, k);
}

size_t strict_elems(const struct strict_range *r, size_t n, int family, struct strict_elem *out)
{
	size_t m = 0, size = vn_addr_size(family);

	for (size_t i = 0; i < n; i++) {
		memset(&out[m], 0, sizeof(out[m]));
		memcpy(out[m++].key, r[i].start.b, size);
		if (r[i].has_end) {
			memset(&out[m], 0, sizeof(out[m]));
			memcpy(out[m].key, r[i].end.b, size);
			out[m++].end = true;
		}
	}
	return m;
}

size_t strict_elems_ranges(const struct strict_elem *el, size_t n, int family,
			   struct strict_range *out)
{
	struct vn_addr start = { .family = family };
	bool open = false;
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		struct vn_addr a = { .family = family };

		memcpy(a.b, el[i].key, vn_addr_size(family));
		if (!el[i].end && !open) {
			start = a;
			open = true;
		} else if (el[i].end && open) {	/* a stray end matches nothing */
			out[k++] = (struct strict_range){ .start = start, .end = a, .has_end = true };
			open = false;
		}
	}
	if (open)
		out[k++] = (struct strict_range){ .start = start, .end = { .family = family } };
	return strict_merge(out, k);
}

static const struct strict_rule chain[] = {
	/* pod to pod on this node first: the local CIDRs may be guarded too */
	{ AF_INET, STRICT_SRC_ANY, STRICT_DST_LOCAL, STRICT_OIF_POD, false },
	{ AF_INET6, STRICT_SRC_ANY, STRICT_DST_LOCAL, STRICT_OIF_POD, false },
	{ AF_INET, STRICT_SRC_POD_IF, STRICT_DST_GUARDED, STRICT_OIF_NOT_WG, true },
	{ AF_INET, STRICT_SRC_LOCAL, STRICT_DST_GUARDED, STRICT_OIF_NOT_WG, true },
	{ AF_INET6, STRICT_SRC_POD_IF, STRICT_DST_GUARDED, STRICT_OIF_NOT_WG, true },
	{ AF_INET6, STRICT_SRC_LOCAL, STRICT_DST_GUARDED, STRICT_OIF_NOT_WG, true },
};

const struct strict_rule *strict_chain(size_t *n)
{
	*n = sizeof(chain) / sizeof(chain[0]);
	return chain;
}

const char *strict_fingerprint(const struct strict_spec *s, char *buf)
{
	snprintf(buf, 96, "veilnet-mesh strict v3 wg=%s", s->wg_ifname);
	return buf;
}

static int elem_cmp(const void *a, const void *b)
{
	const struct strict_elem *x = a, *y = b;
	int c = memcmp(x->key, y->key, sizeof(x->key));

	return c ? c : (int)x->end - (int)y->end;
}

/* ---- the batch ---- */

struct batch {
	char *buf;
	size_t len;
	size_t cap;
	uint32_t seq;
	bool full;
};

/* Room for one more message of at most need bytes. */
static char *room(struct batch *b, size_t need)
{
	if (b->len + need > b->cap) {
		b->full = true;
		return NULL;
	}
	return b->buf + b->len;
}

static void done(struct batch *b, struct nlmsghdr *nlh)
{
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

static struct nlmsghdr *hdr(struct batch *b, uint16_t type, uint16_t flags, size_t need)
{
	char *p = room(b, need);

	if (!p)
		return NULL;
	return nftnl_nlmsg_build_hdr(p, type, NFPROTO_INET, flags | NLM_F_ACK, b->seq++);
}

static struct nftnl_udata_buf *comment(int type, const char *text)
{
	struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(256);

	if (u && !nftnl_udata_put_strz(u, (uint8_t)type, text)) {
		nftnl_udata_buf_free(u);
		return NULL;
	}
	return u;
}

static int put_table(struct batch *b, uint16_t type, uint16_t flags, const char *fp)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nftnl_udata_buf *u = fp ? comment(NFTNL_UDATA_TABLE_COMMENT, fp) : NULL;
	struct nlmsghdr *nlh;
	int ret = -1;

	if (!t || (fp && !u))
		goto out;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, STRICT_TABLE);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	if (u)
		nftnl_table_set_data(t, NFTNL_TABLE_USERDATA, nftnl_udata_buf_data(u),
				     nftnl_udata_buf_len(u));
	nlh = hdr(b, type, flags, 1024);
	if (!nlh)
		goto out;
	nftnl_table_nlmsg_build_payload(nlh, t);
	done(b, nlh);
	ret = 0;
out:
	if (u)
		nftnl_udata_buf_free(u);
	if (t)
		nftnl_table_free(t);
	return ret;
}

static int put_chain(struct batch *b)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh;

	if (!c)
		return -1;
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, STRICT_TABLE);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, "forward");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_INET_FORWARD);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, 0);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	nlh = hdr(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE, 1024);
	if (nlh) {
		nftnl_chain_nlmsg_build_payload(nlh, c);
		done(b, nlh);
	}
	nftnl_chain_free(c);
	return nlh ? 0 : -1;
}

static struct nftnl_set *set_new(const char *name, int family, uint32_t id)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		return NULL;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, STRICT_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	if (id)		/* a set made in this batch; 0: an existing one, by name */
		nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, vn_addr_size(family));
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, family == AF_INET ? NFT_TYPE_IPADDR : NFT_TYPE_IP6ADDR);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_INTERVAL);
	return s;
}

static int add_elem(struct nftnl_set *s, const struct vn_addr *a, bool end)
{
	struct nftnl_set_elem *el = nftnl_set_elem_alloc();

	if (!el)
		return -1;
	nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, a->b, vn_addr_size(a->family));
	if (end)
		nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_FLAGS, NFT_SET_ELEM_INTERVAL_END);
	nftnl_set_elem_add(s, el);
	return 0;
}

/* One NEWSETELEM message for elements [from, to). */
static int put_elems(struct batch *b, const char *name, int family, uint32_t id,
		     const struct strict_elem *el, size_t from, size_t to)
{
	struct nftnl_set *s = set_new(name, family, id);
	struct nlmsghdr *nlh;
	int ret = -1;

	if (!s)
		return -1;
	for (size_t i = from; i < to; i++) {
		struct vn_addr a = { .family = family };

		memcpy(a.b, el[i].key, vn_addr_size(family));
		if (add_elem(s, &a, el[i].end))
			goto out;
	}
	nlh = hdr(b, NFT_MSG_NEWSETELEM, NLM_F_CREATE, 1024 + (to - from) * 64);
	if (!nlh)
		goto out;
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	done(b, nlh);
	ret = 0;
out:
	nftnl_set_free(s);
	return ret;
}

static int put_all_elems(struct batch *b, const char *name, int family, uint32_t id,
			 const struct strict_elem *el, size_t n)
{
	for (size_t i = 0; i < n; i += ELEMS_PER_MSG)
		if (put_elems(b, name, family, id, el, i, i + ELEMS_PER_MSG < n ? i + ELEMS_PER_MSG : n))
			return -1;
	return 0;
}

/* A new set with its elements. */
static int put_set(struct batch *b, const char *name, int family, uint32_t id,
		   const struct strict_elem *el, size_t n)
{
	struct nftnl_set *s = set_new(name, family, id);
	struct nlmsghdr *nlh = NULL;
	int ret = -1;

	if (!s)
		return -1;
	nlh = hdr(b, NFT_MSG_NEWSET, NLM_F_CREATE, 1024);
	if (nlh) {
		nftnl_set_nlmsg_build_payload(nlh, s);
		done(b, nlh);
		ret = put_all_elems(b, name, family, id, el, n);
	}
	nftnl_set_free(s);
	return ret;
}

/* Empties an existing set (DELSETELEM without elements flushes it). */
static int put_flush(struct batch *b, const char *name, int family)
{
	struct nftnl_set *s = set_new(name, family, 0);
	struct nlmsghdr *nlh;

	if (!s)
		return -1;
	nlh = hdr(b, NFT_MSG_DELSETELEM, 0, 1024);
	if (nlh) {
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		done(b, nlh);
	}
	nftnl_set_free(s);
	return nlh ? 0 : -1;
}

/* ---- rules ---- */

static void expr_meta(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *x = nftnl_expr_alloc("meta");

	nftnl_expr_set_u32(x, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(x, NFTNL_EXPR_META_DREG, NFT_REG_1);
	nftnl_rule_add_expr(r, x);
}

static void expr_cmp(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *x = nftnl_expr_alloc("cmp");

	nftnl_expr_set_u32(x, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(x, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(x, NFTNL_EXPR_CMP_DATA, data, len);
	nftnl_rule_add_expr(r, x);
}

static void expr_lookup_addr(struct nftnl_rule *r, int family, bool src, const char *set,
			     uint32_t id)
{
	struct nftnl_expr *p = nftnl_expr_alloc("payload"), *l = nftnl_expr_alloc("lookup");
	uint32_t off = family == AF_INET ? (src ? 12 : 16) : (src ? 8 : 24);

	nftnl_expr_set_u32(p, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	nftnl_expr_set_u32(p, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
	nftnl_expr_set_u32(p, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(p, NFTNL_EXPR_PAYLOAD_LEN, vn_addr_size(family));
	nftnl_rule_add_expr(r, p);
	nftnl_expr_set_u32(l, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_str(l, NFTNL_EXPR_LOOKUP_SET, set);
	nftnl_expr_set_u32(l, NFTNL_EXPR_LOOKUP_SET_ID, id);
	nftnl_rule_add_expr(r, l);
}

static void expr_verdict(struct nftnl_rule *r, bool drop)
{
	struct nftnl_expr *v = nftnl_expr_alloc("immediate");

	if (drop)	/* drops are counted: nft list chain inet veilnet-mesh forward */
		nftnl_rule_add_expr(r, nftnl_expr_alloc("counter"));
	nftnl_expr_set_u32(v, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(v, NFTNL_EXPR_IMM_VERDICT, drop ? NF_DROP : NF_ACCEPT);
	nftnl_rule_add_expr(r, v);
}

/* The sets, by family and kind, and their ids in a batch that makes them. */
static const char *set_name(int family, bool local)
{
	if (family == AF_INET)
		return local ? "local4" : "guard4";
	return local ? "local6" : "guard6";
}

static uint32_t set_id(int family, bool local)
{
	return (family == AF_INET ? 1 : 3) + local;
}

static void rule_exprs(struct nftnl_rule *r, const char *wg, const struct strict_rule *sr)
{
	uint8_t nfproto = sr->family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6;
	bool dst_local = sr->dst == STRICT_DST_LOCAL;
	char wgname[IFNAMSIZ] = { 0 };

	strncpy(wgname, wg, sizeof(wgname) - 1);
	expr_meta(r, NFT_META_NFPROTO);
	expr_cmp(r, NFT_CMP_EQ, &nfproto, 1);
	if (sr->src == STRICT_SRC_POD_IF) {
		expr_meta(r, NFT_META_IIFNAME);
		expr_cmp(r, NFT_CMP_EQ, STRICT_POD_IFPREFIX, strlen(STRICT_POD_IFPREFIX));
	} else if (sr->src == STRICT_SRC_LOCAL) {
		expr_lookup_addr(r, sr->family, true, set_name(sr->family, true),
				 set_id(sr->family, true));
	}
	expr_lookup_addr(r, sr->family, false, set_name(sr->family, dst_local),
			 set_id(sr->family, dst_local));
	expr_meta(r, NFT_META_OIFNAME);
	if (sr->oif == STRICT_OIF_POD)	/* a prefix: compares its bytes only */
		expr_cmp(r, NFT_CMP_EQ, STRICT_POD_IFPREFIX, strlen(STRICT_POD_IFPREFIX));
	else
		expr_cmp(r, NFT_CMP_NEQ, wgname, sizeof(wgname));
	expr_verdict(r, sr->drop);
}

static int put_rule(struct batch *b, const char *wg, const struct strict_rule *sr)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_udata_buf *u;
	struct nlmsghdr *nlh;

	if (!r)
		return -1;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, STRICT_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, "forward");
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	rule_exprs(r, wg, sr);
	u = comment(NFTNL_UDATA_RULE_COMMENT, sr->drop ?
		    "veilnet-mesh strict: pod traffic into the cluster pod network leaves only "
		    "through WireGuard" : "veilnet-mesh strict: pod to pod on this node");
	if (u)
		nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(u),
				    nftnl_udata_buf_len(u));
	nlh = hdr(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, 2048);
	if (nlh) {
		nftnl_rule_nlmsg_build_payload(nlh, r);
		done(b, nlh);
	}
	if (u)
		nftnl_udata_buf_free(u);
	nftnl_rule_free(r);
	return nlh ? 0 : -1;
}

/* One set: what the kernel holds (cur, when read) and what it should. */
struct set_plan {
	int family;
	bool local;
	struct strict_elem *cur;
	size_t n_cur;
	size_t cap_cur;
	bool read;
	bool oom;
	struct strict_elem *want;
	size_t n_want;
};

#define N_SETS 4

static int build(struct batch *b, const struct strict_spec *s, const struct set_plan *sp,
		 bool exists, const char *fp)
{
	const struct strict_rule *rules;
	size_t n_rules;

	if ((exists && put_table(b, NFT_MSG_DELTABLE, 0, NULL)) ||
	    put_table(b, NFT_MSG_NEWTABLE, NLM_F_CREATE, fp) || put_chain(b))
		return -1;
	for (int i = 0; i < N_SETS; i++)
		if (put_set(b, set_name(sp[i].family, sp[i].local), sp[i].family,
			    set_id(sp[i].family, sp[i].local), sp[i].want, sp[i].n_want))
			return -1;
	rules = strict_chain(&n_rules);
	for (size_t i = 0; i < n_rules; i++)
		if (put_rule(b, s->wg_ifname, &rules[i]))
			return -1;
	return 0;
}

/* ---- the socket edge ---- */

struct table_state {
	bool exists;
	char comment[128];
};

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct table_state *ts = data;
	struct nftnl_table *t = nftnl_table_alloc();
	const void *ud;
	uint32_t len = 0;

	if (!t)
		return MNL_CB_OK;
	if (nftnl_table_nlmsg_parse(nlh, t) == 0) {
		ts->exists = true;
		ud = nftnl_table_get_data(t, NFTNL_TABLE_USERDATA, &len);
		/* TLV: type, length, value (NUL-terminated comment). */
		if (ud && len > 2 && ((const uint8_t *)ud)[1] + 2u <= len &&
		    ((const uint8_t *)ud)[1] < sizeof(ts->comment))
			memcpy(ts->comment, (const uint8_t *)ud + 2, ((const uint8_t *)ud)[1]);
	}
	nftnl_table_free(t);
	return MNL_CB_OK;
}

static int table_get(struct vn_nl *nl, struct table_state *ts, struct vn_err *e)
{
	char buf[512];
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	memset(ts, 0, sizeof(*ts));
	if (!t)
		return NO_MEM(e);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, STRICT_TABLE);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_INET, NLM_F_ACK, vn_nl_seq(nl));
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	if (vn_nl_talk(nl, nlh, nlh->nlmsg_len, table_cb, ts, "get table inet " STRICT_TABLE, e)) {
		if (errno == ENOENT) {
			ts->exists = false;
			return 0;
		}
		return -1;
	}
	return 0;
}

/* ---- reading a set's elements ---- */

static int elem_cb(struct nftnl_set_elem *el, void *data)
{
	struct set_plan *d = data;
	uint32_t len = 0;
	const void *key = nftnl_set_elem_get(el, NFTNL_SET_ELEM_KEY, &len);

	if (!key || len > 16)
		return 0;
	if (d->n_cur == d->cap_cur) {
		size_t cap = d->cap_cur ? d->cap_cur * 2 : 64;
		struct strict_elem *grown = realloc(d->cur, cap * sizeof(*grown));

		if (!grown) {
			d->oom = true;
			return -1;
		}
		d->cur = grown;
		d->cap_cur = cap;
	}
	memset(&d->cur[d->n_cur], 0, sizeof(d->cur[d->n_cur]));
	memcpy(d->cur[d->n_cur].key, key, len);
	/* (nftnl_set_elem_get_u32 of an absent attribute is not safe) */
	d->cur[d->n_cur++].end = nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_FLAGS) &&
				 (nftnl_set_elem_get_u32(el, NFTNL_SET_ELEM_FLAGS) &
				  NFT_SET_ELEM_INTERVAL_END);
	return 0;
}

static int setelem_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (s && nftnl_set_elems_nlmsg_parse(nlh, s) == 0)
		nftnl_set_elem_foreach(s, elem_cb, data);
	if (s)
		nftnl_set_free(s);
	return MNL_CB_OK;
}

/* Reads the elements of an existing set into sp->cur, sorted; sp->read
 * says whether that worked (a missing set, e.g. of an older table, is not
 * an error: the table is rebuilt). */
static void set_read(struct vn_nl *nl, struct set_plan *sp)
{
	struct nftnl_set *s = set_new(set_name(sp->family, sp->local), sp->family, 0);
	struct vn_err e = { 0 };
	char buf[512];
	struct nlmsghdr *nlh;

	if (!s)
		return;
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_INET, NLM_F_DUMP, vn_nl_seq(nl));
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	sp->read = vn_nl_talk(nl, nlh, nlh->nlmsg_len, setelem_cb, sp, "list set elements", &e) == 0 &&
		   !sp->oom;
	if (sp->read)
		qsort(sp->cur, sp->n_cur, sizeof(*sp->cur), elem_cmp);
	else
		sp->n_cur = 0;
}

/* sp->want from the spec (and, for a guard set, what it holds). */
static int set_want(const struct strict_spec *s, struct set_plan *sp)
{
	size_t room = (sp->local ? s->n_local : s->n_cluster + s->n_remote + sp->n_cur) + 1;
	struct strict_range *held = NULL, *r = calloc(room, sizeof(*r));
	size_t n_held = 0, k;
	int ret = -1;

	sp->want = calloc(2 * room, sizeof(*sp->want));
	if (!r || !sp->want)
		goto out;
	if (sp->local) {
		k = strict_ranges(s->local, s->n_local, sp->family, r);
	} else {
		held = calloc(sp->n_cur + 1, sizeof(*held));
		if (!held)
			goto out;
		n_held = strict_elems_ranges(sp->cur, sp->n_cur, sp->family, held);
		k = strict_guarded(s, sp->family, held, n_held, r);
	}
	sp->n_want = strict_elems(r, k, sp->family, sp->want);
	ret = 0;
out:
	free(held);
	free(r);
	return ret;
}

static bool set_differs(const struct set_plan *sp)
{
	return sp->n_cur != sp->n_want ||
	       (sp->n_want && memcmp(sp->cur, sp->want, sp->n_want * sizeof(*sp->want)));
}

/* Flush + refill of every set whose elements differ; returns how many
 * differ, -1 when out of room. */
static int refill_sets(struct batch *b, const struct set_plan *sp)
{
	int differ = 0;

	for (int i = 0; i < N_SETS; i++) {
		const char *name = set_name(sp[i].family, sp[i].local);

		if (!set_differs(&sp[i]))
			continue;
		differ++;
		if (put_flush(b, name, sp[i].family) ||
		    put_all_elems(b, name, sp[i].family, 0, sp[i].want, sp[i].n_want))
			return -1;
	}
	return differ;
}

static int batch_edge(struct batch *b, bool begin)
{
	char *p = room(b, 64);

	if (!p)
		return -1;
	if (begin)
		nftnl_batch_begin(p, b->seq++);
	else
		nftnl_batch_end(p, b->seq++);
	b->len += NLMSG_ALIGN(((struct nlmsghdr *)p)->nlmsg_len);
	return 0;
}

/* A batch goes to the kernel in one sendmsg, which fails (EMSGSIZE) when
 * it exceeds the socket's send buffer (wmem_default, ~208 KiB): a large
 * cluster's sets do. Room for the batch, and for one ACK per message. */
static void size_buffers(struct vn_nl *nl, size_t len, size_t msgs)
{
	int snd = (int)(len + (1 << 16)), rcv = (int)(msgs * 1024 + (1 << 20));

	if (setsockopt(nl->fd, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof(snd)))
		setsockopt(nl->fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof(snd));
	if (setsockopt(nl->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)))
		setsockopt(nl->fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
}

/* Reads the sets (when the table exists) and works out what they should
 * hold. Returns 0, or -1 when out of memory. */
static int sets_plan(struct vn_nl *nl, const struct strict_spec *s, bool exists,
		     struct set_plan *sp)
{
	for (int i = 0; i < N_SETS; i++) {
		sp[i].family = i < 2 ? AF_INET : AF_INET6;
		sp[i].local = i % 2;
		if (exists)
			set_read(nl, &sp[i]);
		if (sp[i].oom || set_want(s, &sp[i]))
			return -1;
	}
	return 0;
}

/* The whole transaction: refills when the table has the right structure
 * and readable sets, else a rebuild. *differ: sets changed, -1 rebuilt. */
static int fill_batch(struct batch *b, const struct strict_spec *s, const struct set_plan *sp,
		      const struct table_state *ts, const char *fp, uint32_t seq, int *differ)
{
	bool same = ts->exists && strcmp(ts->comment, fp) == 0;

	for (int i = 0; i < N_SETS; i++)
		same = same && sp[i].read;
	b->len = 0;
	b->seq = seq;
	if (batch_edge(b, true))
		return -1;
	/* The same table: only the sets' elements may need a change, which
	 * keeps the hooks (re-registering them costs RCU grace periods). */
	*differ = same ? refill_sets(b, sp) : -1;
	if (same && *differ < 0)
		return -1;
	if (!same && build(b, s, sp, ts->exists, fp))
		return -1;
	return batch_edge(b, false);
}

int strict_apply(const struct strict_spec *s, bool *changed, struct vn_err *e)
{
	struct set_plan sp[N_SETS] = { 0 };
	struct vn_nl nl = { 0 };
	struct table_state ts;
	struct batch b = { 0 };
	size_t total = 0;
	uint32_t seq0;
	char fp[96];
	int ret = -1, differ = -1;

	*changed = false;
	strict_fingerprint(s, fp);
	if (vn_nl_open(&nl, NETLINK_NETFILTER, e))
		return -1;
	if (table_get(&nl, &ts, e))
		goto out;
	if (sets_plan(&nl, s, ts.exists, sp))
		goto nomem;
	for (int i = 0; i < N_SETS; i++)
		total += sp[i].n_want;
	b.cap = 64 * 1024 + total * 64 + (total / ELEMS_PER_MSG + 8) * 2048;
	b.buf = calloc(1, b.cap);
	seq0 = vn_nl_seq(&nl);
	if (!b.buf || fill_batch(&b, s, sp, &ts, fp, seq0, &differ))
		goto nomem;
	ret = 0;
	if (differ == 0)
		goto out;
	nl.seq = b.seq;
	size_buffers(&nl, b.len, b.seq - seq0);
	ret = vn_nl_talk(&nl, b.buf, b.len, NULL, NULL, "install table inet " STRICT_TABLE, e);
	*changed = ret == 0;
	goto out;
nomem:
	NO_MEM(e);
out:
	for (int i = 0; i < N_SETS; i++) {
		free(sp[i].cur);
		free(sp[i].want);
	}
	free(b.buf);
	vn_nl_close(&nl);
	return ret;
}

int strict_remove(bool *removed, struct vn_err *e)
{
	struct vn_nl nl = { 0 };
	struct table_state ts;
	struct batch b = { .cap = 4096 };
	char *p;
	int ret = -1;

	*removed = false;
	if (vn_nl_open(&nl, NETLINK_NETFILTER, e))
		return -1;
	if (table_get(&nl, &ts, e))
		goto out;
	ret = 0;
	if (!ts.exists)
		goto out;
	ret = -1;
	b.buf = calloc(1, b.cap);
	if (!b.buf) {
		NO_MEM(e);
		goto out;
	}
	b.seq = vn_nl_seq(&nl);
	p = room(&b, 64);
	nftnl_batch_begin(p, b.seq++);
	b.len += NLMSG_ALIGN(((struct nlmsghdr *)p)->nlmsg_len);
	put_table(&b, NFT_MSG_DELTABLE, 0, NULL);
	p = room(&b, 64);
	nftnl_batch_end(p, b.seq++);
	b.len += NLMSG_ALIGN(((struct nlmsghdr *)p)->nlmsg_len);
	nl.seq = b.seq;
	if (vn_nl_talk(&nl, b.buf, b.len, NULL, NULL, "delete table inet " STRICT_TABLE, e))
		goto out;
	*removed = true;
	ret = 0;
out:
	free(b.buf);
	vn_nl_close(&nl);
	return ret;
}
