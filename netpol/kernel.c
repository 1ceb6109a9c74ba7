#include <errno.h>
#include <libmnl/libmnl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include "kernel.h"
#include "vec.h"

/* nft's datatype numbers, as `type ipv4_addr` etc. are stored. */
#define TYPE_IPADDR 7
#define TYPE_IP6ADDR 8
#define TYPE_INET_SERVICE 13
#define TYPE_BITS 6
#define BYTEORDER_BIG_ENDIAN 2
#define ELEMS_PER_MSG 512

static int oom(struct vn_err *e)
{
	return vn_errf(e, VN_E_IO, "I/O error", "out of memory");
}

/* ---- the batch ---- */

struct batch {
	struct vn_nl *nl;
	char *buf;
	size_t len, cap;
	size_t msgs;
	long fail_at;
	uint32_t set_id;
	struct vn_err *e;
	bool failed;		/* out of memory while building */
};

/* Room for one more message of up to `need` bytes. */
static char *batch_room(struct batch *b, size_t need)
{
	if (b->len + need > b->cap) {
		size_t cap = b->cap ? b->cap : 1 << 16;
		char *p;

		while (b->len + need > cap)
			cap *= 2;
		p = realloc(b->buf, cap);
		if (!p) {
			b->failed = true;
			return NULL;
		}
		b->buf = p;
		b->cap = cap;
	}
	return b->buf + b->len;
}

static void batch_commit(struct batch *b, struct nlmsghdr *nlh)
{
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

static void inject_failure(struct batch *b);

/* Starts message type/flags; NULL if out of memory. Message bodies are
 * bounded: ELEMS_PER_MSG elements or one rule fit in 256 KiB. */
static struct nlmsghdr *batch_msg(struct batch *b, uint16_t type, uint16_t flags)
{
	char *p;

	if (b->fail_at > 0 && (long)b->msgs + 1 == b->fail_at) {
		b->fail_at = 0;
		inject_failure(b);
	}
	p = batch_room(b, 1 << 18);
	if (!p)
		return NULL;
	b->msgs++;
	return nftnl_nlmsg_build_hdr(p, type, NFPROTO_INET, flags | NLM_F_ACK, vn_nl_seq(b->nl));
}

/* ---- expressions ---- */

static int add_expr(struct nftnl_rule *r, struct nftnl_expr *x)
{
	if (!x)
		return -1;
	nftnl_rule_add_expr(r, x);
	return 0;
}

static int e_meta(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *x = nftnl_expr_alloc("meta");

	if (!x)
		return -1;
	nftnl_expr_set_u32(x, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(x, NFTNL_EXPR_META_DREG, NFT_REG_1);
	return add_expr(r, x);
}

static int e_cmp(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *x = nftnl_expr_alloc("cmp");

	if (!x)
		return -1;
	nftnl_expr_set_u32(x, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(x, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(x, NFTNL_EXPR_CMP_DATA, data, len);
	return add_expr(r, x);
}

static int e_payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len,
		     uint32_t dreg)
{
	struct nftnl_expr *x = nftnl_expr_alloc("payload");

	if (!x)
		return -1;
	nftnl_expr_set_u32(x, NFTNL_EXPR_PAYLOAD_DREG, dreg);
	nftnl_expr_set_u32(x, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(x, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(x, NFTNL_EXPR_PAYLOAD_LEN, len);
	return add_expr(r, x);
}

static int e_bitwise(struct nftnl_rule *r, const void *mask, uint32_t len)
{
	struct nftnl_expr *x = nftnl_expr_alloc("bitwise");
	uint8_t zero[16] = { 0 };

	if (!x)
		return -1;
	nftnl_expr_set_u32(x, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(x, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(x, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(x, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(x, NFTNL_EXPR_BITWISE_XOR, zero, len);
	return add_expr(r, x);
}

static int e_lookup(struct nftnl_rule *r, const char *set, bool vmap)
{
	struct nftnl_expr *x = nftnl_expr_alloc("lookup");

	if (!x)
		return -1;
	nftnl_expr_set_u32(x, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	if (vmap)
		nftnl_expr_set_u32(x, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_str(x, NFTNL_EXPR_LOOKUP_SET, set);
	return add_expr(r, x);
}

static int e_verdict(struct nftnl_rule *r, int verdict)
{
	struct nftnl_expr *x = nftnl_expr_alloc("immediate");

	if (!x)
		return -1;
	nftnl_expr_set_u32(x, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(x, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
	return add_expr(r, x);
}

static uint8_t nfproto(int family)
{
	return family == AF_INET6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
}

static int e_family(struct nftnl_rule *r, int family)
{
	uint8_t v = nfproto(family);

	return e_meta(r, NFT_META_NFPROTO) || e_cmp(r, NFT_CMP_EQ, &v, 1);
}

/* Loads saddr / daddr of the family into dreg. */
static int e_addr(struct nftnl_rule *r, int family, bool daddr, uint32_t len, uint32_t dreg)
{
	uint32_t off = family == AF_INET6 ? (daddr ? 24 : 8) : (daddr ? 16 : 12);

	return e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, off, len, dreg);
}

/* addr == prefix (op EQ) or != (NEQ), encoded the way nft does: a
 * byte-aligned prefix loads only its bytes, others mask the address. */
static int e_prefix(struct nftnl_rule *r, bool daddr, const struct vn_prefix *p, uint32_t op)
{
	unsigned int size = vn_addr_size(p->addr.family);
	uint8_t mask[16] = { 0 };

	if (p->len && p->len % 8 == 0)
		return e_addr(r, p->addr.family, daddr, p->len / 8, NFT_REG_1) ||
		       e_cmp(r, op, p->addr.b, p->len / 8);
	for (unsigned int i = 0; i < p->len; i++)
		mask[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	return e_addr(r, p->addr.family, daddr, size, NFT_REG_1) ||
	       e_bitwise(r, mask, size) || e_cmp(r, op, p->addr.b, size);
}

static int e_l4(struct nftnl_rule *r, const struct nr_rule *nr)
{
	uint16_t lo = htons(nr->port_lo), hi = htons(nr->port_hi);
	uint8_t proto = nr->proto;

	if (!proto)
		return 0;
	if (e_meta(r, NFT_META_L4PROTO) || e_cmp(r, NFT_CMP_EQ, &proto, 1))
		return -1;
	if (nr->nport) {
		unsigned int al = vn_addr_size(nr->family);

		return e_addr(r, nr->family, true, al, NFT_REG_1) ||
		       e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2,
				 nr->family == AF_INET6 ? NFT_REG_2 : NFT_REG32_01) ||
		       e_lookup(r, nr->nport, false);
	}
	if (!nr->port_lo)
		return 0;
	if (e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG_1))
		return -1;
	if (nr->port_lo == nr->port_hi)
		return e_cmp(r, NFT_CMP_EQ, &lo, 2);
	return e_cmp(r, NFT_CMP_GTE, &lo, 2) || e_cmp(r, NFT_CMP_LTE, &hi, 2);
}

static int e_tail(struct nftnl_rule *r, const struct nr_rule *nr)
{
	struct nftnl_expr *x;

	if (nr->counter) {
		x = nftnl_expr_alloc("objref");
		if (!x)
			return -1;
		nftnl_expr_set_u32(x, NFTNL_EXPR_OBJREF_IMM_TYPE, NFT_OBJECT_COUNTER);
		nftnl_expr_set_str(x, NFTNL_EXPR_OBJREF_IMM_NAME, nr->counter);
		if (add_expr(r, x))
			return -1;
	} else if (nr->anon_counter) {
		x = nftnl_expr_alloc("counter");
		if (!x)
			return -1;
		nftnl_expr_set_u64(x, NFTNL_EXPR_CTR_PACKETS, 0);
		nftnl_expr_set_u64(x, NFTNL_EXPR_CTR_BYTES, 0);
		if (add_expr(r, x))
			return -1;
	}
	if (nr->log_prefix) {
		x = nftnl_expr_alloc("log");
		if (!x)
			return -1;
		nftnl_expr_set_str(x, NFTNL_EXPR_LOG_PREFIX, nr->log_prefix);
		nftnl_expr_set_u16(x, NFTNL_EXPR_LOG_GROUP, (uint16_t)nr->log_group);
		if (add_expr(r, x))
			return -1;
	}
	switch (nr->verdict) {
	case NR_V_ACCEPT:
		return e_verdict(r, NF_ACCEPT);
	case NR_V_DROP:
		return e_verdict(r, NF_DROP);
	case NR_V_RETURN:
		return e_verdict(r, NFT_RETURN);
	case NR_V_NONE:
		break;
	}
	return 0;
}

static int e_ctstate(struct nftnl_rule *r)
{
	struct nftnl_expr *x = nftnl_expr_alloc("ct");
	uint32_t mask = NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED);
	uint32_t zero = 0;

	if (!x)
		return -1;
	nftnl_expr_set_u32(x, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
	nftnl_expr_set_u32(x, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	return add_expr(r, x) || e_bitwise(r, &mask, 4) || e_cmp(r, NFT_CMP_NEQ, &zero, 4) ||
	       e_verdict(r, NF_ACCEPT);
}

/* The expressions of one rule, mirroring the text nr_rule_text prints. */
static int rule_exprs(struct nftnl_rule *r, const struct nr_rule *nr)
{
	switch (nr->kind) {
	case NR_R_CTSTATE:
		return e_ctstate(r);
	case NR_R_VMAP:
		return e_family(r, nr->family) ||
		       e_addr(r, nr->family, nr->daddr, vn_addr_size(nr->family), NFT_REG_1) ||
		       e_lookup(r, nr->set, true);
	case NR_R_MATCH:
		break;
	}
	if (nr->family && e_family(r, nr->family))
		return -1;
	if (nr->addr == NR_A_SET &&
	    (e_addr(r, nr->family, nr->daddr, vn_addr_size(nr->family), NFT_REG_1) ||
	     e_lookup(r, nr->set, false)))
		return -1;
	if (nr->addr == NR_A_PREFIX) {
		if (e_prefix(r, nr->daddr, &nr->pfx, NFT_CMP_EQ))
			return -1;
		for (size_t i = 0; i < nr->n_except; i++)
			if (e_prefix(r, nr->daddr, &nr->except[i], NFT_CMP_NEQ))
				return -1;
	}
	return e_l4(r, nr) || e_tail(r, nr);
}

/* ---- messages ---- */

static void msg_table(struct batch *b, uint16_t type)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh = t ? batch_msg(b, type, type == NFT_MSG_NEWTABLE ? NLM_F_CREATE : 0) :
			       NULL;

	if (!nlh) {
		b->failed = true;
	} else {
		nftnl_table_set_str(t, NFTNL_TABLE_NAME, NR_TABLE);
		nftnl_table_nlmsg_build_payload(nlh, t);
		batch_commit(b, nlh);
	}
	if (t)
		nftnl_table_free(t);
}

static void msg_counter(struct batch *b, uint16_t type, const char *name)
{
	struct nftnl_obj *o = nftnl_obj_alloc();
	struct nlmsghdr *nlh = o ? batch_msg(b, type, type == NFT_MSG_NEWOBJ ? NLM_F_CREATE : 0) :
			       NULL;

	if (!nlh) {
		b->failed = true;
	} else {
		nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, NR_TABLE);
		nftnl_obj_set_str(o, NFTNL_OBJ_NAME, name);
		nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
		if (type == NFT_MSG_NEWOBJ) {
			nftnl_obj_set_u64(o, NFTNL_OBJ_CTR_PKTS, 0);
			nftnl_obj_set_u64(o, NFTNL_OBJ_CTR_BYTES, 0);
		}
		nftnl_obj_nlmsg_build_payload(nlh, o);
		batch_commit(b, nlh);
	}
	if (o)
		nftnl_obj_free(o);
}

static uint32_t key_type(const struct nr_set *s)
{
	uint32_t addr = s->family == AF_INET6 ? TYPE_IP6ADDR : TYPE_IPADDR;

	return s->key == NR_KEY_ADDR_PORT ? (addr << TYPE_BITS) | TYPE_INET_SERVICE : addr;
}

/* Set userdata as nft writes it: key byte order, then the comment. */
static size_t set_udata(const struct nr_set *s, uint8_t *buf)
{
	uint32_t order = s->key == NR_KEY_ADDR ? BYTEORDER_BIG_ENDIAN : 0;
	size_t n = 0, cl;

	buf[n++] = NFTNL_UDATA_SET_KEYBYTEORDER;
	buf[n++] = 4;
	memcpy(buf + n, &order, 4);
	n += 4;
	if (s->comment) {
		cl = strlen(s->comment) + 1;
		buf[n++] = NFTNL_UDATA_SET_COMMENT;
		buf[n++] = (uint8_t)cl;
		memcpy(buf + n, s->comment, cl);
		n += cl;
	}
	return n;
}

static struct nftnl_set *set_obj(const struct nr_set *s)
{
	struct nftnl_set *o = nftnl_set_alloc();

	if (!o)
		return NULL;
	nftnl_set_set_str(o, NFTNL_SET_TABLE, NR_TABLE);
	nftnl_set_set_str(o, NFTNL_SET_NAME, s->name);
	nftnl_set_set_u32(o, NFTNL_SET_FAMILY, NFPROTO_INET);
	return o;
}

static void msg_set(struct batch *b, uint16_t type, const struct nr_set *s)
{
	struct nftnl_set *o = set_obj(s);
	struct nlmsghdr *nlh = o ? batch_msg(b, type, type == NFT_MSG_NEWSET ? NLM_F_CREATE : 0) :
			       NULL;
	uint8_t ud[160];

	if (!nlh) {
		b->failed = true;
		goto out;
	}
	if (type == NFT_MSG_NEWSET) {
		nftnl_set_set_u32(o, NFTNL_SET_FLAGS, s->vmap ? NFT_SET_MAP : 0);
		nftnl_set_set_u32(o, NFTNL_SET_KEY_TYPE, key_type(s));
		nftnl_set_set_u32(o, NFTNL_SET_KEY_LEN, nr_key_len(s));
		if (s->vmap) {
			nftnl_set_set_u32(o, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
			nftnl_set_set_u32(o, NFTNL_SET_DATA_LEN, 0);
		}
		nftnl_set_set_u32(o, NFTNL_SET_ID, ++b->set_id);
		nftnl_set_set_data(o, NFTNL_SET_USERDATA, ud, (uint32_t)set_udata(s, ud));
	}
	nftnl_set_nlmsg_build_payload(nlh, o);
	batch_commit(b, nlh);
out:
	if (o)
		nftnl_set_free(o);
}

/* Elements idx[0..n) of s, added or deleted, ELEMS_PER_MSG per message. */
static void msg_elems(struct batch *b, uint16_t type, const struct nr_set *s, const size_t *idx,
		      size_t n)
{
	unsigned int kl = nr_key_len(s);

	for (size_t at = 0; at < n && !b->failed; at += ELEMS_PER_MSG) {
		struct nftnl_set *o = set_obj(s);
		struct nlmsghdr *nlh;

		if (!o) {
			b->failed = true;
			return;
		}
		for (size_t i = at; i < n && i < at + ELEMS_PER_MSG; i++) {
			struct nftnl_set_elem *el = nftnl_set_elem_alloc();

			if (!el) {
				b->failed = true;
				break;
			}
			nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, s->keys + idx[i] * kl, kl);
			if (s->vmap && type == NFT_MSG_NEWSETELEM) {
				nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_VERDICT, (uint32_t)NFT_JUMP);
				nftnl_set_elem_set_str(el, NFTNL_SET_ELEM_CHAIN, s->chains[idx[i]]);
			}
			nftnl_set_elem_add(o, el);
		}
		nlh = b->failed ? NULL :
		      batch_msg(b, type, type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0);
		if (nlh) {
			nftnl_set_elems_nlmsg_build_payload(nlh, o);
			batch_commit(b, nlh);
		} else {
			b->failed = true;
		}
		nftnl_set_free(o);
	}
}

static void msg_all_elems(struct batch *b, const struct nr_set *s)
{
	size_t *idx = malloc((s->n + 1) * sizeof(*idx));

	if (!idx) {
		b->failed = true;
		return;
	}
	for (size_t i = 0; i < s->n; i++)
		idx[i] = i;
	msg_elems(b, NFT_MSG_NEWSETELEM, s, idx, s->n);
	free(idx);
}

static void msg_chain(struct batch *b, uint16_t type, const struct nr_chain *c)
{
	struct nftnl_chain *o = nftnl_chain_alloc();
	struct nlmsghdr *nlh = o ? batch_msg(b, type, type == NFT_MSG_NEWCHAIN ? NLM_F_CREATE : 0) :
			       NULL;

	if (!nlh) {
		b->failed = true;
		goto out;
	}
	nftnl_chain_set_str(o, NFTNL_CHAIN_TABLE, NR_TABLE);
	nftnl_chain_set_str(o, NFTNL_CHAIN_NAME, c->name);
	if (c->base && type == NFT_MSG_NEWCHAIN) {
		nftnl_chain_set_u32(o, NFTNL_CHAIN_HOOKNUM, NF_INET_FORWARD);
		nftnl_chain_set_s32(o, NFTNL_CHAIN_PRIO, NR_PRIORITY);
		nftnl_chain_set_str(o, NFTNL_CHAIN_TYPE, "filter");
		nftnl_chain_set_u32(o, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	nftnl_chain_nlmsg_build_payload(nlh, o);
	batch_commit(b, nlh);
out:
	if (o)
		nftnl_chain_free(o);
}

/* Deletes every rule of the chain (DELRULE without a handle). */
static void msg_flush_chain(struct batch *b, const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh = r ? batch_msg(b, NFT_MSG_DELRULE, 0) : NULL;

	if (!nlh) {
		b->failed = true;
	} else {
		nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NR_TABLE);
		nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
		nftnl_rule_nlmsg_build_payload(nlh, r);
		batch_commit(b, nlh);
	}
	if (r)
		nftnl_rule_free(r);
}

static void msg_rule(struct batch *b, const char *chain, const struct nr_rule *nr)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh;
	uint8_t ud[10] = { NK_UDATA_RULE_HASH, 8 };

	if (!r || rule_exprs(r, nr)) {
		b->failed = true;
		goto out;
	}
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NR_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	memcpy(ud + 2, &nr->hash, 8);
	nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, ud, sizeof(ud));
	nlh = batch_msg(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND);
	if (!nlh) {
		b->failed = true;
		goto out;
	}
	nftnl_rule_nlmsg_build_payload(nlh, r);
	batch_commit(b, nlh);
out:
	if (r)
		nftnl_rule_free(r);
}

/* A rule the kernel must refuse: a lookup in a set that does not exist. */
static void inject_failure(struct batch *b)
{
	struct nr_rule bad = {
		.kind = NR_R_MATCH, .family = AF_INET, .addr = NR_A_SET,
		.set = (char *)"veilnet-injected-failure", .verdict = NR_V_DROP,
	};

	msg_rule(b, NR_BASE_CHAIN, &bad);
}

/* ---- diff ---- */

static const struct nr_set *have_set(const struct nr_ruleset *have, const char *name)
{
	return have ? nr_find_set(have, name) : NULL;
}

static bool chains_equal(const struct nr_chain *a, const struct nr_chain *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->rules[i].hash != b->rules[i].hash)
			return false;
	return true;
}

static bool same_definition(const struct nr_set *a, const struct nr_set *b)
{
	return a->family == b->family && a->key == b->key && a->vmap == b->vmap;
}

/* Element i of a (keys, chain) compared with element j of b. */
static int elem_cmp(const struct nr_set *a, size_t i, const struct nr_set *b, size_t j)
{
	unsigned int kl = nr_key_len(a);

	return memcmp(a->keys + i * kl, b->keys + j * kl, kl);
}

/* Element diff of one set present on both sides: sorted merge. */
static void diff_elems(struct batch *b, const struct nr_set *want, const struct nr_set *have,
		       struct nk_stats *st)
{
	size_t *add = malloc((want->n + 1) * sizeof(size_t));
	size_t *del = malloc((have->n + 1) * sizeof(size_t));
	size_t i = 0, j = 0, na = 0, nd = 0;

	if (!add || !del) {
		b->failed = true;
		goto out;
	}
	while (i < want->n || j < have->n) {
		int c = i == want->n ? 1 : j == have->n ? -1 : elem_cmp(want, i, have, j);

		if (c < 0) {
			add[na++] = i++;
		} else if (c > 0) {
			del[nd++] = j++;
		} else {
			if (want->vmap && strcmp(want->chains[i], have->chains[j])) {
				del[nd++] = j;
				add[na++] = i;
			}
			i++;
			j++;
		}
	}
	msg_elems(b, NFT_MSG_DELSETELEM, have, del, nd);
	msg_elems(b, NFT_MSG_NEWSETELEM, want, add, na);
	st->elems_added += na;
	st->elems_deleted += nd;
out:
	free(add);
	free(del);
}

static bool want_counter(const struct nr_ruleset *rs, const char *name)
{
	return vec_find_str(rs->counters, rs->n_counters, sizeof(*rs->counters), 0, name) >= 0;
}

/* Does the transaction have to recreate the table? */
static bool needs_rebuild(const struct nr_ruleset *want, const struct nr_ruleset *have,
			  bool exists)
{
	const struct nr_chain *base;

	if (!exists)
		return true;
	for (size_t i = 0; i < want->n_sets; i++) {
		const struct nr_set *h = nr_find_set(have, want->sets[i].name);

		if (h && !same_definition(h, &want->sets[i]))
			return true;
	}
	/* A table without our base chain is not ours to patch. */
	base = nr_find_chain(have, NR_BASE_CHAIN);
	return !base;
}

static void build_full(struct batch *b, const struct nr_ruleset *want, bool exists,
		       struct nk_stats *st)
{
	st->rebuilt = true;
	if (exists)
		msg_table(b, NFT_MSG_DELTABLE);
	msg_table(b, NFT_MSG_NEWTABLE);
	for (size_t i = 0; i < want->n_counters; i++)
		msg_counter(b, NFT_MSG_NEWOBJ, want->counters[i]);
	st->counters_added = want->n_counters;
	for (size_t i = 0; i < want->n_sets; i++)
		msg_set(b, NFT_MSG_NEWSET, &want->sets[i]);
	st->sets_added = want->n_sets;
	/* Chains before elements: verdict maps jump to them. */
	for (size_t i = 0; i < want->n_chains; i++)
		msg_chain(b, NFT_MSG_NEWCHAIN, &want->chains[i]);
	st->chains_added = want->n_chains;
	for (size_t i = 0; i < want->n_sets; i++) {
		msg_all_elems(b, &want->sets[i]);
		st->elems_added += want->sets[i].n;
	}
	for (size_t i = 0; i < want->n_chains; i++) {
		for (size_t j = 0; j < want->chains[i].n; j++)
			msg_rule(b, want->chains[i].name, &want->chains[i].rules[j]);
		st->rules_added += want->chains[i].n;
	}
}

static void build_diff(struct batch *b, const struct nr_ruleset *want,
		       const struct nr_ruleset *have, struct nk_stats *st)
{
	bool *rewrite = calloc(want->n_chains + 1, sizeof(bool));

	if (!rewrite) {
		b->failed = true;
		return;
	}
	/* 1. new counters, sets (with elements) and chains */
	for (size_t i = 0; i < want->n_counters; i++) {
		if (!want_counter(have, want->counters[i])) {
			msg_counter(b, NFT_MSG_NEWOBJ, want->counters[i]);
			st->counters_added++;
		}
	}
	for (size_t i = 0; i < want->n_sets; i++) {
		if (have_set(have, want->sets[i].name))
			continue;
		msg_set(b, NFT_MSG_NEWSET, &want->sets[i]);
		st->sets_added++;
	}
	for (size_t i = 0; i < want->n_chains; i++) {
		const struct nr_chain *h = nr_find_chain(have, want->chains[i].name);

		if (!h) {
			msg_chain(b, NFT_MSG_NEWCHAIN, &want->chains[i]);
			st->chains_added++;
			rewrite[i] = true;
		} else if (!chains_equal(h, &want->chains[i])) {
			/* 2. chains whose rules changed are emptied ... */
			msg_flush_chain(b, h->name);
			st->chains_rewritten++;
			rewrite[i] = true;
		}
	}
	/* ... and so are chains that go away. */
	for (size_t i = 0; i < have->n_chains; i++)
		if (!nr_find_chain(want, have->chains[i].name))
			msg_flush_chain(b, have->chains[i].name);
	/* 3. elements: of new sets, and the changes of the others */
	for (size_t i = 0; i < want->n_sets; i++) {
		const struct nr_set *h = have_set(have, want->sets[i].name);

		if (h) {
			diff_elems(b, &want->sets[i], h, st);
		} else {
			msg_all_elems(b, &want->sets[i]);
			st->elems_added += want->sets[i].n;
		}
	}
	/* 4. the rules of new and changed chains */
	for (size_t i = 0; i < want->n_chains; i++) {
		if (!rewrite[i])
			continue;
		for (size_t j = 0; j < want->chains[i].n; j++)
			msg_rule(b, want->chains[i].name, &want->chains[i].rules[j]);
		st->rules_added += want->chains[i].n;
	}
	/* 5. what is no longer referenced */
	for (size_t i = 0; i < have->n_chains; i++) {
		if (!nr_find_chain(want, have->chains[i].name)) {
			msg_chain(b, NFT_MSG_DELCHAIN, &have->chains[i]);
			st->chains_deleted++;
		}
	}
	for (size_t i = 0; i < have->n_sets; i++) {
		if (!nr_find_set(want, have->sets[i].name)) {
			msg_set(b, NFT_MSG_DELSET, &have->sets[i]);
			st->sets_deleted++;
		}
	}
	for (size_t i = 0; i < have->n_counters; i++) {
		if (!want_counter(want, have->counters[i])) {
			msg_counter(b, NFT_MSG_DELOBJ, have->counters[i]);
			st->counters_deleted++;
		}
	}
	free(rewrite);
}

/* Socket buffers big enough for the batch and one ACK per message. */
static void size_buffers(struct vn_nl *nl, size_t batch_len, size_t msgs)
{
	int fd = nl->fd;
	int snd = (int)(batch_len + (1 << 16)), rcv = (int)(msgs * 1024 + (1 << 20));

	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof(snd)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof(snd));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
}

/* Sends the batch as one transaction. */
static int batch_send(struct batch *b, const char *what)
{
	struct nlmsghdr *nlh;
	char *p;

	if (!b->msgs)
		return 0;
	p = batch_room(b, NLMSG_HDRLEN * 2);
	if (!p)
		return oom(b->e);
	nlh = nftnl_batch_end(p, vn_nl_seq(b->nl));
	batch_commit(b, nlh);
	size_buffers(b->nl, b->len, b->msgs);
	return vn_nl_talk(b->nl, b->buf, b->len, NULL, NULL, what, b->e);
}

static int batch_begin(struct batch *b)
{
	char *p = batch_room(b, NLMSG_HDRLEN * 2);

	if (!p)
		return -1;
	batch_commit(b, nftnl_batch_begin(p, vn_nl_seq(b->nl)));
	return 0;
}

int nk_apply(struct vn_nl *nl, const struct nr_ruleset *want, const struct nr_ruleset *have,
	     bool exists, long fail_at, struct nk_stats *st, struct vn_err *e)
{
	struct batch b = { .nl = nl, .fail_at = fail_at, .e = e };
	int rc = -1;

	memset(st, 0, sizeof(*st));
	if (batch_begin(&b)) {
		oom(e);
		goto out;
	}
	if (needs_rebuild(want, have, exists))
		build_full(&b, want, exists, st);
	else
		build_diff(&b, want, have, st);
	if (b.failed) {
		oom(e);
		goto out;
	}
	st->messages = b.msgs;
	rc = batch_send(&b, "nftables transaction (table inet " NR_TABLE ")");
	if (rc)
		vn_err_wrap(e, "nothing applied, the previous ruleset stays in force");
out:
	free(b.buf);
	return rc;
}

int nk_flush(struct vn_nl *nl, struct vn_err *e)
{
	struct batch b = { .nl = nl, .e = e };
	int rc, err;

	if (batch_begin(&b))
		return oom(e);
	msg_table(&b, NFT_MSG_DELTABLE);
	rc = b.failed ? oom(e) : batch_send(&b, "delete table inet " NR_TABLE);
	err = errno;
	free(b.buf);
	if (rc && err == ENOENT)
		return 0;
	return rc;
}

/* ---- reading back ---- */

struct reader {
	struct nr_ruleset *rs;
	size_t sets_cap, chains_cap, counters_cap;
	struct nr_set *cur;	/* set whose elements are being read */
	int err;
};

static int dump(struct vn_nl *nl, uint16_t type, void (*fill)(struct nlmsghdr *, const void *),
		const void *arg, mnl_cb_t cb, struct reader *rd, const char *what, struct vn_err *e)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, type, NFPROTO_INET, NLM_F_DUMP,
						     vn_nl_seq(nl));

	fill(nlh, arg);
	if (vn_nl_talk(nl, nlh, nlh->nlmsg_len, cb, rd, what, e))
		return -1;
	if (rd->err)
		return oom(e);
	return 0;
}

static void fill_rule(struct nlmsghdr *nlh, const void *arg)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	(void)arg;
	if (!r)
		return;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NR_TABLE);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
}

static uint64_t rule_hash(const uint8_t *ud, uint32_t len)
{
	uint64_t h = 0;

	for (uint32_t i = 0; ud && i + 2 <= len; i += 2u + ud[i + 1]) {
		if (ud[i] == NK_UDATA_RULE_HASH && ud[i + 1] == 8 && i + 10 <= len) {
			memcpy(&h, ud + i + 2, 8);
			break;
		}
	}
	return h;
}

static int rule_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type <= NFTA_RULE_MAX)
		tb[type] = a;
	return MNL_CB_OK;
}

/* Only table, chain and userdata are needed: parsed with libmnl directly,
 * which is much cheaper than decoding every expression of every rule. */
static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[NFTA_RULE_MAX + 1] = { 0 };
	struct reader *rd = data;
	struct nr_ruleset *rs = rd->rs;
	struct nr_chain *ch = NULL;
	struct nr_rule *nr;
	const char *chain;

	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), rule_attr, tb) < 0 ||
	    !tb[NFTA_RULE_TABLE] || !tb[NFTA_RULE_CHAIN] ||
	    strcmp(mnl_attr_get_str(tb[NFTA_RULE_TABLE]), NR_TABLE))
		return MNL_CB_OK;
	chain = mnl_attr_get_str(tb[NFTA_RULE_CHAIN]);
	if (rs->n_chains && !strcmp(rs->chains[rs->n_chains - 1].name, chain))
		ch = &rs->chains[rs->n_chains - 1];
	if (!ch) {
		ch = vec_push((void **)&rs->chains, &rs->n_chains, &rd->chains_cap, sizeof(*ch));
		if (!ch || !(ch->name = strdup(chain))) {
			rd->err = ENOMEM;
			return MNL_CB_OK;
		}
		ch->base = !strcmp(chain, NR_BASE_CHAIN);
	}
	nr = vec_push((void **)&ch->rules, &ch->n, &ch->cap, sizeof(*nr));
	if (!nr) {
		rd->err = ENOMEM;
		return MNL_CB_OK;
	}
	if (tb[NFTA_RULE_USERDATA])
		nr->hash = rule_hash(mnl_attr_get_payload(tb[NFTA_RULE_USERDATA]),
				     mnl_attr_get_payload_len(tb[NFTA_RULE_USERDATA]));
	return MNL_CB_OK;
}

static void fill_set(struct nlmsghdr *nlh, const void *arg)
{
	struct nftnl_set *s = nftnl_set_alloc();

	(void)arg;
	if (!s)
		return;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, NR_TABLE);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
}

static int set_cb(const struct nlmsghdr *nlh, void *data)
{
	struct reader *rd = data;
	struct nftnl_set *s = nftnl_set_alloc();
	struct nr_set *ns;
	uint32_t kt;
	const char *table;

	if (!s || nftnl_set_nlmsg_parse(nlh, s) < 0)
		goto out;
	table = nftnl_set_get_str(s, NFTNL_SET_TABLE);
	if (!table || strcmp(table, NR_TABLE))
		goto out;
	ns = vec_push((void **)&rd->rs->sets, &rd->rs->n_sets, &rd->sets_cap, sizeof(*ns));
	if (!ns || !(ns->name = strdup(nftnl_set_get_str(s, NFTNL_SET_NAME)))) {
		rd->err = ENOMEM;
		goto out;
	}
	kt = nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE);
	ns->key = kt >> TYPE_BITS ? NR_KEY_ADDR_PORT : NR_KEY_ADDR;
	ns->family = (kt >> TYPE_BITS ? kt >> TYPE_BITS : kt) == TYPE_IP6ADDR ? AF_INET6 : AF_INET;
	ns->vmap = nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_MAP;
	/* A set of a type we never make: mark it so it gets replaced. */
	if (nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN) != nr_key_len(ns))
		ns->family = -1;
out:
	if (s)
		nftnl_set_free(s);
	return MNL_CB_OK;
}

static void fill_elems(struct nlmsghdr *nlh, const void *arg)
{
	const struct nr_set *want = arg;
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		return;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, NR_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, want->name);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
}

static int elem_one(struct nftnl_set_elem *el, void *data)
{
	struct reader *rd = data;
	struct nr_set *s = rd->cur;
	uint32_t len = 0;
	const void *key = nftnl_set_elem_get(el, NFTNL_SET_ELEM_KEY, &len);
	const char *chain = s->vmap ? nftnl_set_elem_get_str(el, NFTNL_SET_ELEM_CHAIN) : NULL;

	if (!key || len != nr_key_len(s))
		return 0;
	if (nr_set_add(s, key, chain ? chain : "")) {
		rd->err = ENOMEM;
		return -1;
	}
	return 0;
}

static int elems_cb(const struct nlmsghdr *nlh, void *data)
{
	struct reader *rd = data;
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		return MNL_CB_OK;
	if (nftnl_set_elems_nlmsg_parse(nlh, s) >= 0)
		nftnl_set_elem_foreach(s, elem_one, rd);
	nftnl_set_free(s);
	return MNL_CB_OK;
}

static void fill_obj(struct nlmsghdr *nlh, const void *arg)
{
	struct nftnl_obj *o = nftnl_obj_alloc();

	(void)arg;
	if (!o)
		return;
	nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, NR_TABLE);
	nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
	nftnl_obj_nlmsg_build_payload(nlh, o);
	nftnl_obj_free(o);
}

static int obj_cb(const struct nlmsghdr *nlh, void *data)
{
	struct reader *rd = data;
	struct nftnl_obj *o = nftnl_obj_alloc();
	const char *table;
	char **slot;

	if (!o || nftnl_obj_nlmsg_parse(nlh, o) < 0)
		goto out;
	table = nftnl_obj_get_str(o, NFTNL_OBJ_TABLE);
	if (!table || strcmp(table, NR_TABLE) ||
	    nftnl_obj_get_u32(o, NFTNL_OBJ_TYPE) != NFT_OBJECT_COUNTER)
		goto out;
	slot = vec_push((void **)&rd->rs->counters, &rd->rs->n_counters, &rd->counters_cap,
		    sizeof(char *));
	if (!slot || !(*slot = strdup(nftnl_obj_get_str(o, NFTNL_OBJ_NAME))))
		rd->err = ENOMEM;
out:
	if (o)
		nftnl_obj_free(o);
	return MNL_CB_OK;
}

static int table_exists(struct vn_nl *nl, bool *exists, struct vn_err *e)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_INET, NLM_F_ACK,
						     vn_nl_seq(nl));
	struct nftnl_table *t = nftnl_table_alloc();
	int rc;

	if (!t)
		return oom(e);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, NR_TABLE);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	rc = vn_nl_talk(nl, nlh, nlh->nlmsg_len, NULL, NULL, "get table inet " NR_TABLE, e);
	*exists = rc == 0;
	if (rc && errno == ENOENT)
		return 0;
	return rc;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int set_cmp(const void *a, const void *b)
{
	return strcmp(((const struct nr_set *)a)->name, ((const struct nr_set *)b)->name);
}

static int read_elems(struct vn_nl *nl, struct reader *rd, struct nr_set *s, struct vn_err *e)
{
	if (s->family < 0)
		return 0;
	rd->cur = s;
	if (dump(nl, NFT_MSG_GETSETELEM, fill_elems, s, elems_cb, rd, "list set elements", e))
		return -1;
	nr_set_sort(s);
	return 0;
}

int nk_read(struct vn_nl *nl, struct nr_ruleset *have, bool *exists, struct vn_err *e)
{
	struct reader rd = { .rs = have };

	memset(have, 0, sizeof(*have));
	if (table_exists(nl, exists, e))
		return -1;
	if (!*exists)
		return 0;
	if (dump(nl, NFT_MSG_GETRULE, fill_rule, NULL, rule_cb, &rd, "list rules", e) ||
	    dump(nl, NFT_MSG_GETSET, fill_set, NULL, set_cb, &rd, "list sets", e) ||
	    dump(nl, NFT_MSG_GETOBJ, fill_obj, NULL, obj_cb, &rd, "list counters", e))
		goto fail;
	if (have->n_counters)
		qsort(have->counters, have->n_counters, sizeof(char *), str_cmp);
	if (have->n_sets)
		qsort(have->sets, have->n_sets, sizeof(*have->sets), set_cmp);
	for (size_t i = 0; i < have->n_sets; i++)
		if (read_elems(nl, &rd, &have->sets[i], e))
			goto fail;
	return 0;
fail:
	nr_ruleset_free(have);
	return -1;
}

static bool is_newpod(const char *name)
{
	return !strncmp(name, "newpod_", 7);
}

int nk_read_newpod(struct vn_nl *nl, struct nr_ruleset *have, struct vn_err *e)
{
	struct reader rd = { .rs = have };

	for (size_t i = 0; i < have->n_sets; i++) {
		struct nr_set *s = &have->sets[i];

		if (!is_newpod(s->name))
			continue;
		for (size_t j = 0; j < s->n; j++)
			free(s->chains[j]);
		s->n = 0;
		if (read_elems(nl, &rd, s, e))
			return -1;
	}
	return 0;
}

static bool known_addr(const struct vn_addr *known, size_t n, int family, const uint8_t *key)
{
	struct vn_addr a = { .family = family };
	size_t lo = 0, hi = n;

	memcpy(a.b, key, vn_addr_size(family));
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = vn_addr_cmp(&known[mid], &a);

		if (!c)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

int nk_carry_newpod(struct nr_ruleset *want, const struct nr_ruleset *have,
		    const struct vn_addr *known, size_t n_known)
{
	for (size_t i = 0; i < want->n_sets; i++) {
		struct nr_set *w = &want->sets[i];
		const struct nr_set *h;

		if (!is_newpod(w->name) || !(h = nr_find_set(have, w->name)) ||
		    !same_definition(w, h))
			continue;
		for (size_t j = 0; j < h->n; j++) {
			const uint8_t *key = h->keys + j * nr_key_len(h);

			if (known_addr(known, n_known, h->family, key) ||
			    !nr_find_chain(want, h->chains[j]))
				continue;
			if (nr_set_add(w, key, h->chains[j]))
				return -1;
		}
		nr_set_sort(w);
	}
	return 0;
}
