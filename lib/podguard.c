/* podguard: the CNI plugin's side of "no open window" (see podguard.h).
 *
 * Both calls talk nf_tables netlink to table inet veilnet, with libmnl
 * over lib/nl.h: look the table and the namespace chains up, look each
 * address up in the newpod maps, then change the maps in one transaction
 * (a batch). A concurrent veilnet-policy apply may remove a chain or an
 * element in between; the transaction then fails as a whole and is
 * retried.
 *
 * The messages are few and small (a table or chain lookup by name, one
 * element per message), so they are built here directly on libmnl; the
 * policy engine (netpol/) uses libnftnl's object model for its rulesets. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <veilnet/nl.h>
#include <veilnet/podguard.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>

#define ATTEMPTS 3
#define MSG_MAX 512		/* one message: a chain name is at most 256 bytes */
#define GET_BUF 1024

/* Starts an nf_tables message of type cmd (family inet) at buf. */
static struct nlmsghdr *put_nft(void *buf, uint16_t cmd, uint16_t flags, unsigned int seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));

	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | cmd;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	nfg->nfgen_family = NFPROTO_INET;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	return nlh;
}

/* Batch delimiters (NFNL_MSG_BATCH_BEGIN / _END) for the nf_tables subsystem. */
static struct nlmsghdr *put_batch_mark(void *buf, uint16_t type, unsigned int seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(NFNL_SUBSYS_NFTABLES);
	return nlh;
}

/* Sends a GET for one object; 1 if it exists, 0 if not (ENOENT), -1 on
 * any other error. */
static int exists(struct vn_nl *nl, struct nlmsghdr *nlh, const char *what, struct vn_err *e)
{
	int rc = vn_nl_talk(nl, nlh, nlh->nlmsg_len, NULL, NULL, what, e);

	if (!rc)
		return 1;
	return errno == ENOENT ? 0 : -1;
}

static int table_exists(struct vn_nl *nl, struct vn_err *e)
{
	char buf[GET_BUF];
	struct nlmsghdr *nlh = put_nft(buf, NFT_MSG_GETTABLE, NLM_F_ACK, vn_nl_seq(nl));

	mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, PODGUARD_TABLE);
	return exists(nl, nlh, "podguard: get table", e);
}

static int chain_exists(struct vn_nl *nl, const char *name, struct vn_err *e)
{
	char buf[GET_BUF];
	struct nlmsghdr *nlh = put_nft(buf, NFT_MSG_GETCHAIN, NLM_F_ACK, vn_nl_seq(nl));

	mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, PODGUARD_TABLE);
	mnl_attr_put_strz(nlh, NFTA_CHAIN_NAME, name);
	return exists(nl, nlh, "podguard: get chain", e);
}

static const char *map_name(int egress, int family)
{
	if (egress)
		return family == AF_INET6 ? "newpod_out6" : "newpod_out4";
	return family == AF_INET6 ? "newpod_in6" : "newpod_in4";
}

/* The payload of a set element message: map (of table veilnet) with one
 * element, key ip, and a jump to chain when chain is set. */
static void put_elem(struct nlmsghdr *nlh, const char *map, const struct vn_addr *ip,
		     const char *chain)
{
	struct nlattr *list, *elem, *key, *data, *verdict;

	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, PODGUARD_TABLE);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, map);
	list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
	key = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
	mnl_attr_put(nlh, NFTA_DATA_VALUE, vn_addr_size(ip->family), ip->b);
	mnl_attr_nest_end(nlh, key);
	if (chain) {
		data = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_DATA);
		verdict = mnl_attr_nest_start(nlh, NFTA_DATA_VERDICT);
		mnl_attr_put_u32(nlh, NFTA_VERDICT_CODE, htonl((uint32_t)NFT_JUMP));
		mnl_attr_put_strz(nlh, NFTA_VERDICT_CHAIN, chain);
		mnl_attr_nest_end(nlh, verdict);
		mnl_attr_nest_end(nlh, data);
	}
	mnl_attr_nest_end(nlh, elem);
	mnl_attr_nest_end(nlh, list);
}

static int elem_exists(struct vn_nl *nl, const char *map, const struct vn_addr *ip,
		       struct vn_err *e)
{
	char buf[GET_BUF];
	struct nlmsghdr *nlh = put_nft(buf, NFT_MSG_GETSETELEM, NLM_F_ACK, vn_nl_seq(nl));

	put_elem(nlh, map, ip, NULL);
	return exists(nl, nlh, "podguard: get element", e);
}

/* One transaction: BATCH_BEGIN, element messages, BATCH_END. Sized for
 * its addresses (at most two messages per address and direction). */
struct batch {
	char *buf;
	size_t len;
	size_t cap;
	size_t msgs;
};

static int batch_init(struct batch *b, size_t n_ips, struct vn_err *e)
{
	b->cap = (4 * n_ips + 2) * MSG_MAX;
	b->buf = malloc(b->cap);
	b->len = b->msgs = 0;
	if (!b->buf)
		return vn_errf(e, VN_E_IO, "I/O error", "podguard: out of memory");
	return 0;
}

static void batch_free(struct batch *b)
{
	free(b->buf);
	b->buf = NULL;
}

/* Starts a new transaction in b (BATCH_BEGIN). */
static void batch_begin(struct vn_nl *nl, struct batch *b)
{
	struct nlmsghdr *nlh = put_batch_mark(b->buf, NFNL_MSG_BATCH_BEGIN, vn_nl_seq(nl));

	b->len = NLMSG_ALIGN(nlh->nlmsg_len);
	b->msgs = 0;
}

static void batch_elem(struct vn_nl *nl, struct batch *b, uint16_t type, const char *map,
		       const struct vn_addr *ip, const char *chain)
{
	struct nlmsghdr *nlh = put_nft(b->buf + b->len, type,
				       (type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0) | NLM_F_ACK,
				       vn_nl_seq(nl));

	put_elem(nlh, map, ip, chain);
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
	b->msgs++;
}

static int batch_send(struct vn_nl *nl, struct batch *b, const char *what, struct vn_err *e)
{
	struct nlmsghdr *nlh;

	if (!b->msgs)
		return 0;
	nlh = put_batch_mark(b->buf + b->len, NFNL_MSG_BATCH_END, vn_nl_seq(nl));
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
	return vn_nl_talk(nl, b->buf, b->len, NULL, NULL, what, e);
}

/* One attempt: 0 done, 1 to retry (a concurrent change), -1 error. */
static int admit_once(struct vn_nl *nl, struct batch *b, const char *ns,
		      const struct vn_addr *ips, size_t n_ips, struct vn_err *e)
{
	char chains[2][300];
	int have[2], rc;

	rc = table_exists(nl, e);
	if (rc <= 0)
		return rc;
	for (int d = 0; d < 2; d++) {
		snprintf(chains[d], sizeof(chains[d]), "ns%s-%s", d ? "out" : "in", ns);
		have[d] = chain_exists(nl, chains[d], e);
		if (have[d] < 0)
			return -1;
	}
	batch_begin(nl, b);
	for (size_t i = 0; i < n_ips; i++) {
		for (int d = 0; d < 2; d++) {
			const char *map = map_name(d, ips[i].family);
			int old;

			if (!have[d])
				continue;
			old = elem_exists(nl, map, &ips[i], e);
			if (old < 0)
				return -1;
			if (old)
				batch_elem(nl, b, NFT_MSG_DELSETELEM, map, &ips[i], NULL);
			batch_elem(nl, b, NFT_MSG_NEWSETELEM, map, &ips[i], chains[d]);
		}
	}
	rc = batch_send(nl, b, "podguard: add pod addresses to table inet " PODGUARD_TABLE, e);
	if (rc && (errno == ENOENT || errno == EBUSY || errno == EEXIST))
		return 1;
	return rc;
}

static int valid_family(const struct vn_addr *ips, size_t n, struct vn_err *e)
{
	for (size_t i = 0; i < n; i++)
		if (ips[i].family != AF_INET && ips[i].family != AF_INET6)
			return vn_errf(e, VN_E_INVALID, "invalid argument",
				       "podguard: address %zu has no family", i);
	return 0;
}

int podguard_admit(const char *pod_namespace, const struct vn_addr *ips, size_t n_ips,
		   struct vn_err *e)
{
	struct batch b;
	struct vn_nl nl;
	int rc = -1;

	if (!pod_namespace || !*pod_namespace || strlen(pod_namespace) > 253 || !n_ips)
		return 0;
	if (valid_family(ips, n_ips, e) || batch_init(&b, n_ips, e))
		return -1;
	if (vn_nl_open(&nl, NETLINK_NETFILTER, e)) {
		batch_free(&b);
		return -1;
	}
	for (int i = 0; i < ATTEMPTS; i++) {
		rc = admit_once(&nl, &b, pod_namespace, ips, n_ips, e);
		if (rc <= 0)
			break;
	}
	if (rc > 0)
		rc = vn_errf(e, VN_E_AGAIN, "try again later",
			     "podguard: table inet %s kept changing; pod not admitted", PODGUARD_TABLE);
	vn_nl_close(&nl);
	batch_free(&b);
	return rc;
}

static int forget_once(struct vn_nl *nl, struct batch *b, const struct vn_addr *ips,
		       size_t n_ips, struct vn_err *e)
{
	int rc = table_exists(nl, e);

	if (rc <= 0)
		return rc;
	batch_begin(nl, b);
	for (size_t i = 0; i < n_ips; i++) {
		for (int d = 0; d < 2; d++) {
			const char *map = map_name(d, ips[i].family);
			int old = elem_exists(nl, map, &ips[i], e);

			if (old < 0)
				return -1;
			if (old)
				batch_elem(nl, b, NFT_MSG_DELSETELEM, map, &ips[i], NULL);
		}
	}
	rc = batch_send(nl, b, "podguard: remove pod addresses from table inet " PODGUARD_TABLE, e);
	if (rc && errno == ENOENT)
		return 1;
	return rc;
}

int podguard_forget(const struct vn_addr *ips, size_t n_ips, struct vn_err *e)
{
	struct batch b;
	struct vn_nl nl;
	int rc = -1;

	if (!n_ips)
		return 0;
	if (valid_family(ips, n_ips, e) || batch_init(&b, n_ips, e))
		return -1;
	if (vn_nl_open(&nl, NETLINK_NETFILTER, e)) {
		batch_free(&b);
		return -1;
	}
	for (int i = 0; i < ATTEMPTS; i++) {
		rc = forget_once(&nl, &b, ips, n_ips, e);
		if (rc <= 0)
			break;
	}
	/* Elements that went away meanwhile are what we wanted anyway. */
	if (rc > 0)
		rc = 0;
	vn_nl_close(&nl);
	batch_free(&b);
	return rc;
}
