/* strict.c - the strict-mode nftables table (libnftnl batches). */
#include <errno.h>
#include <netinet/in.h>
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

static int prefix_qcmp(const void *a, const void *b)
{
	const struct vn_prefix *x = a, *y = b;
	int c = vn_addr_cmp(&x->addr, &y->addr);

	return c ? c : (x->len > y->len) - (x->len < y->len);
}

size_t strict_ranges(const struct vn_prefix *p, size_t n, int family, struct strict_range *out)
{
	struct vn_prefix *v = malloc((n + 1) * sizeof(*v));
	size_t m = 0, k = 0;

	if (!v)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (p[i].addr.family == family) {
			v[m] = p[i];
			vn_prefix_canon(&v[m++]);
		}
	qsort(v, m, sizeof(*v), prefix_qcmp);
	for (size_t i = 0; i < m; i++) {
		struct strict_range r = { .start = v[i].addr, .has_end = true };

		vn_prefix_last(&v[i], &r.end);
		vn_addr_add(&r.end, 1);
		r.has_end = vn_addr_cmp(&r.end, &r.start) > 0;	/* wrapped: to the end */
		if (k && (!out[k - 1].has_end || vn_addr_cmp(&r.start, &out[k - 1].end) <= 0)) {
			struct strict_range *last = &out[k - 1];

			if (last->has_end && (!r.has_end || vn_addr_cmp(&r.end, &last->end) > 0)) {
				last->end = r.end;
				last->has_end = r.has_end;
			}
			continue;
		}
		out[k++] = r;
	}
	free(v);
	return k;
}

const char *strict_fingerprint(const struct strict_spec *s, char *buf)
{
	snprintf(buf, 96, "veilnet-mesh strict v2 wg=%s", s->wg_ifname);
	return buf;
}

/* The elements a set should hold: start keys, and end keys flagged. */
struct elem {
	uint8_t key[16];
	bool end;
};

static int elem_cmp(const void *a, const void *b)
{
	const struct elem *x = a, *y = b;
	int c = memcmp(x->key, y->key, sizeof(x->key));

	return c ? c : (int)x->end - (int)y->end;
}

/* Elements for the prefixes of one family; *out malloc'd, sorted. */
static size_t want_elems(const struct vn_prefix *p, size_t n, int family, struct elem **out)
{
	struct strict_range *r = calloc(n + 1, sizeof(*r));
	struct elem *el = calloc(2 * n + 1, sizeof(*el));
	size_t k, m = 0;

	*out = el;
	if (!r || !el) {
		free(r);
		return (size_t)-1;
	}
	k = strict_ranges(p, n, family, r);
	for (size_t i = 0; i < k; i++) {
		memcpy(el[m++].key, r[i].start.b, vn_addr_size(family));
		if (r[i].has_end) {
			memcpy(el[m].key, r[i].end.b, vn_addr_size(family));
			el[m++].end = true;
		}
	}
	free(r);
	qsort(el, m, sizeof(*el), elem_cmp);
	return m;
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
		     const struct elem *el, size_t from, size_t to)
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
			 const struct elem *el, size_t n)
{
	for (size_t i = 0; i < n; i += ELEMS_PER_MSG)
		if (put_elems(b, name, family, id, el, i, i + ELEMS_PER_MSG < n ? i + ELEMS_PER_MSG : n))
			return -1;
	return 0;
}

/* A new set with its elements. */
static int put_set(struct batch *b, const char *name, int family, uint32_t id,
		   const struct vn_prefix *p, size_t n)
{
	struct nftnl_set *s = set_new(name, family, id);
	struct elem *el = NULL;
	struct nlmsghdr *nlh = NULL;
	size_t k = want_elems(p, n, family, &el);
	int ret = -1;

	if (!s || k == (size_t)-1)
		goto out;
	nlh = hdr(b, NFT_MSG_NEWSET, NLM_F_CREATE, 1024);
	if (!nlh)
		goto out;
	nftnl_set_nlmsg_build_payload(nlh, s);
	done(b, nlh);
	ret = put_all_elems(b, name, family, id, el, k);
out:
	if (s)
		nftnl_set_free(s);
	free(el);
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

static void expr_drop(struct nftnl_rule *r)
{
	struct nftnl_expr *c = nftnl_expr_alloc("counter"), *v = nftnl_expr_alloc("immediate");

	nftnl_rule_add_expr(r, c);
	nftnl_expr_set_u32(v, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(v, NFTNL_EXPR_IMM_VERDICT, NF_DROP);
	nftnl_rule_add_expr(r, v);
}

/* by_iif: match iifname "vn*"; else ip saddr @local. */
static int put_rule(struct batch *b, const char *wg, int family, bool by_iif, uint32_t set_base)
{
	const char *remote = family == AF_INET ? "remote4" : "remote6";
	const char *local = family == AF_INET ? "local4" : "local6";
	uint32_t remote_id = set_base, local_id = set_base + 1;
	struct nftnl_rule *r = nftnl_rule_alloc();
	uint8_t nfproto = family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6;
	char wgname[IFNAMSIZ] = { 0 };
	struct nftnl_udata_buf *u;
	struct nlmsghdr *nlh;

	if (!r)
		return -1;
	strncpy(wgname, wg, sizeof(wgname) - 1);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, STRICT_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, "forward");
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	expr_meta(r, NFT_META_NFPROTO);
	expr_cmp(r, NFT_CMP_EQ, &nfproto, 1);
	if (by_iif) {
		expr_meta(r, NFT_META_IIFNAME);
		expr_cmp(r, NFT_CMP_EQ, STRICT_POD_IFPREFIX, strlen(STRICT_POD_IFPREFIX));
	} else {
		expr_lookup_addr(r, family, true, local, local_id);
	}
	expr_lookup_addr(r, family, false, remote, remote_id);
	expr_meta(r, NFT_META_OIFNAME);
	expr_cmp(r, NFT_CMP_NEQ, wgname, sizeof(wgname));
	expr_drop(r);
	u = comment(NFTNL_UDATA_RULE_COMMENT, "veilnet-mesh strict: pod traffic to remote pods "
		    "leaves only through WireGuard");
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

static int build(struct batch *b, const struct strict_spec *s, bool exists, const char *fp)
{
	return (exists && put_table(b, NFT_MSG_DELTABLE, 0, NULL)) ||
	       put_table(b, NFT_MSG_NEWTABLE, NLM_F_CREATE, fp) || put_chain(b) ||
	       put_set(b, "remote4", AF_INET, 1, s->remote, s->n_remote) ||
	       put_set(b, "local4", AF_INET, 2, s->local, s->n_local) ||
	       put_set(b, "remote6", AF_INET6, 3, s->remote, s->n_remote) ||
	       put_set(b, "local6", AF_INET6, 4, s->local, s->n_local) ||
	       put_rule(b, s->wg_ifname, AF_INET, true, 1) ||
	       put_rule(b, s->wg_ifname, AF_INET, false, 1) ||
	       put_rule(b, s->wg_ifname, AF_INET6, true, 3) ||
	       put_rule(b, s->wg_ifname, AF_INET6, false, 3) ? -1 : 0;
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

struct set_dump {
	struct elem *v;
	size_t n;
	size_t cap;
	bool oom;
};

static int elem_cb(struct nftnl_set_elem *el, void *data)
{
	struct set_dump *d = data;
	uint32_t len = 0;
	const void *key = nftnl_set_elem_get(el, NFTNL_SET_ELEM_KEY, &len);

	if (!key || len > 16)
		return 0;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		struct elem *grown = realloc(d->v, cap * sizeof(*grown));

		if (!grown) {
			d->oom = true;
			return -1;
		}
		d->v = grown;
		d->cap = cap;
	}
	memset(&d->v[d->n], 0, sizeof(d->v[d->n]));
	memcpy(d->v[d->n].key, key, len);
	/* (nftnl_set_elem_get_u32 of an absent attribute is not safe) */
	d->v[d->n++].end = nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_FLAGS) &&
			   (nftnl_set_elem_get_u32(el, NFTNL_SET_ELEM_FLAGS) & NFT_SET_ELEM_INTERVAL_END);
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

/* The elements of an existing set, sorted. */
static int set_read(struct vn_nl *nl, const char *name, int family, struct set_dump *d,
		    struct vn_err *e)
{
	struct nftnl_set *s = set_new(name, family, 0);
	char buf[512];
	struct nlmsghdr *nlh;
	int ret;

	if (!s)
		return NO_MEM(e);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_INET, NLM_F_DUMP, vn_nl_seq(nl));
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	ret = vn_nl_talk(nl, nlh, nlh->nlmsg_len, setelem_cb, d, "list set elements", e);
	if (ret == 0 && d->oom)
		ret = NO_MEM(e);
	if (ret == 0)
		qsort(d->v, d->n, sizeof(*d->v), elem_cmp);
	return ret;
}

struct set_want {
	const char *name;
	int family;
	const struct vn_prefix *p;
	size_t n;
};

/* Fills the batch with flush + refill of every set whose elements differ;
 * returns how many differ, -1 if a set cannot be read (rebuild then). */
static int refill_sets(struct vn_nl *nl, struct batch *b, const struct set_want *sets,
		       struct vn_err *e)
{
	int differ = 0;

	for (int i = 0; i < 4 && differ >= 0; i++) {
		struct set_dump d = { 0 };
		struct elem *want = NULL;
		size_t k = want_elems(sets[i].p, sets[i].n, sets[i].family, &want);

		if (k == (size_t)-1 || set_read(nl, sets[i].name, sets[i].family, &d, e)) {
			differ = -1;
		} else if (d.n != k || (k && memcmp(d.v, want, k * sizeof(*want)))) {
			differ++;
			if (put_flush(b, sets[i].name, sets[i].family) ||
			    put_all_elems(b, sets[i].name, sets[i].family, 0, want, k))
				differ = -1;
		}
		free(d.v);
		free(want);
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

int strict_apply(const struct strict_spec *s, bool *changed, struct vn_err *e)
{
	const struct set_want sets[4] = {
		{ "remote4", AF_INET, s->remote, s->n_remote },
		{ "local4", AF_INET, s->local, s->n_local },
		{ "remote6", AF_INET6, s->remote, s->n_remote },
		{ "local6", AF_INET6, s->local, s->n_local },
	};
	struct vn_nl nl = { 0 };
	struct table_state ts;
	struct batch b = { 0 };
	char fp[96];
	int ret = -1, differ = -1;

	*changed = false;
	strict_fingerprint(s, fp);
	if (vn_nl_open(&nl, NETLINK_NETFILTER, e))
		return -1;
	if (table_get(&nl, &ts, e))
		goto out;
	b.cap = 64 * 1024 + (s->n_local + s->n_remote) * 160;
	b.buf = calloc(1, b.cap);
	if (!b.buf) {
		NO_MEM(e);
		goto out;
	}
	b.seq = vn_nl_seq(&nl);
	if (batch_edge(&b, true))
		goto nomem;
	/* The same table: only the sets' elements may need a change, which
	 * keeps the hooks (re-registering them costs RCU grace periods). */
	if (ts.exists && strcmp(ts.comment, fp) == 0)
		differ = refill_sets(&nl, &b, sets, e);
	if (differ == 0) {
		ret = 0;
		goto out;
	}
	if (differ < 0) {	/* another table, none, or unreadable: rebuild */
		b.len = 0;
		b.seq = vn_nl_seq(&nl);
		if (batch_edge(&b, true) || build(&b, s, ts.exists, fp))
			goto nomem;
	}
	if (batch_edge(&b, false))
		goto nomem;
	nl.seq = b.seq;
	if (vn_nl_talk(&nl, b.buf, b.len, NULL, NULL, "install table inet " STRICT_TABLE, e))
		goto out;
	*changed = true;
	ret = 0;
	goto out;
nomem:
	NO_MEM(e);
out:
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
