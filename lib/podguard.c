/* podguard: the CNI plugin's side of "no open window" (see podguard.h).
 *
 * Both calls talk to table inet veilnet over lib/nl.h, in two round trips:
 * one batch of lookups (the table, the namespace chains, each address in
 * the newpod maps), then one transaction changing the maps. A concurrent
 * veilnet-policy apply may remove a chain or an element in between; the
 * transaction then fails as a whole and is retried.
 *
 * The nf_tables messages are built with libnl-3 and gathered by nlmsg.h:
 * the plugin is linked statically, without libnftnl or libmnl. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <veilnet/nlmsg.h>
#include <veilnet/podguard.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#define ATTEMPTS 3

static const char *map_name(int egress, int family)
{
	if (egress)
		return family == AF_INET6 ? "newpod_out6" : "newpod_out4";
	return family == AF_INET6 ? "newpod_in6" : "newpod_in4";
}

/* An nf_tables request on family inet; NULL if out of memory. */
static struct nl_msg *nft_msg(uint16_t type, int flags)
{
	struct nfgenmsg g = { .nfgen_family = NFPROTO_INET, .version = NFNETLINK_V0 };

	return vn_msg_new(NFNL_SUBSYS_NFTABLES << 8 | type, flags, &g, sizeof(g));
}

/* NFTA_SET_ELEM_KEY: the address. */
static int put_key(struct nl_msg *msg, const struct vn_addr *ip)
{
	struct nlattr *key = nla_nest_start(msg, NLA_F_NESTED | NFTA_SET_ELEM_KEY);

	if (!key || nla_put(msg, NFTA_DATA_VALUE, (int)vn_addr_size(ip->family), ip->b) < 0 ||
	    nla_nest_end(msg, key) < 0)
		return -1;
	return 0;
}

/* NFTA_SET_ELEM_DATA: a jump to chain. */
static int put_jump(struct nl_msg *msg, const char *chain)
{
	struct nlattr *data = nla_nest_start(msg, NLA_F_NESTED | NFTA_SET_ELEM_DATA);
	struct nlattr *verdict;

	if (!data || !(verdict = nla_nest_start(msg, NLA_F_NESTED | NFTA_DATA_VERDICT)))
		return -1;
	if (nla_put_u32(msg, NFTA_VERDICT_CODE, htonl((uint32_t)NFT_JUMP)) < 0 ||
	    nla_put_string(msg, NFTA_VERDICT_CHAIN, chain) < 0 ||
	    nla_nest_end(msg, verdict) < 0 || nla_nest_end(msg, data) < 0)
		return -1;
	return 0;
}

/* The payload of a set elements message: map's one element, key ip (a
 * jump to chain when chain is set). */
static int put_elems(struct nl_msg *msg, const char *map, const struct vn_addr *ip,
		     const char *chain)
{
	struct nlattr *list, *elem;

	if (nla_put_string(msg, NFTA_SET_ELEM_LIST_SET, map) < 0 ||
	    nla_put_string(msg, NFTA_SET_ELEM_LIST_TABLE, PODGUARD_TABLE) < 0)
		return -1;
	if (!(list = nla_nest_start(msg, NLA_F_NESTED | NFTA_SET_ELEM_LIST_ELEMENTS)) ||
	    !(elem = nla_nest_start(msg, NLA_F_NESTED | NFTA_LIST_ELEM)))
		return -1;
	if (put_key(msg, ip) || (chain && put_jump(msg, chain)) ||
	    nla_nest_end(msg, elem) < 0 || nla_nest_end(msg, list) < 0)
		return -1;
	return 0;
}

/* The lookups, all sent in one round trip and answered one by one:
 * message 0 the table, 1 and 2 the namespace's chains (when admitting),
 * then from elem0 on, message elem0 + 2 * i + egress: address i in each
 * newpod map. */
struct lookup {
	struct vn_batch b;
	int elem0;
	int errs[3 + 2 * PODGUARD_MAX_IPS];
};

static void lookup_table(struct lookup *l)
{
	struct nl_msg *m = nft_msg(NFT_MSG_GETTABLE, NLM_F_ACK);

	if (m && nla_put_string(m, NFTA_TABLE_NAME, PODGUARD_TABLE) < 0) {
		nlmsg_free(m);
		m = NULL;
	}
	vn_batch_add(&l->b, m);
}

static void lookup_chain(struct lookup *l, const char *name)
{
	struct nl_msg *m = nft_msg(NFT_MSG_GETCHAIN, NLM_F_ACK);

	if (m && (nla_put_string(m, NFTA_CHAIN_TABLE, PODGUARD_TABLE) < 0 ||
		  nla_put_string(m, NFTA_CHAIN_NAME, name) < 0)) {
		nlmsg_free(m);
		m = NULL;
	}
	vn_batch_add(&l->b, m);
}

/* A set elements request: ip in map (a jump to chain if chain is set). */
static struct nl_msg *elem_msg(uint16_t type, int flags, const char *map,
			       const struct vn_addr *ip, const char *chain)
{
	struct nl_msg *m = nft_msg(type, flags);

	if (m && put_elems(m, map, ip, chain)) {
		nlmsg_free(m);
		m = NULL;
	}
	return m;
}

/* Looks up the table, the chains (if given) and every address in the
 * maps, in one round trip. */
static int lookup_all(struct vn_nl *nl, struct lookup *l, char chains[2][300],
		      const struct vn_addr *ips, size_t n_ips, struct vn_err *e)
{
	vn_batch_init(&l->b, nl);
	lookup_table(l);
	for (int d = 0; chains && d < 2; d++)
		lookup_chain(l, chains[d]);
	l->elem0 = (int)l->b.n;
	for (size_t i = 0; i < n_ips; i++)
		for (int d = 0; d < 2; d++)
			vn_batch_add(&l->b, elem_msg(NFT_MSG_GETSETELEM, NLM_F_ACK,
						     map_name(d, ips[i].family), &ips[i], NULL));
	return vn_batch_talk_each(&l->b, NULL, NULL, l->errs, l->b.n,
				  "podguard: look up table inet " PODGUARD_TABLE, e);
}

/* 1 if lookup k found its object, 0 if not (ENOENT), -1 (e set) if it
 * failed otherwise. */
static int found(const struct lookup *l, int k, struct vn_err *e)
{
	int err = l->errs[k];

	if (!err)
		return 1;
	if (err == ENOENT)
		return 0;
	errno = err;
	return vn_errf(e, VN_E_IO, "I/O error", "podguard: look up table inet %s: %s",
		       PODGUARD_TABLE, strerror(err));
}

/* A transaction delimiter: NFNL_MSG_BATCH_BEGIN or _END. */
static struct nl_msg *delim_msg(int type)
{
	struct nfgenmsg g = { .nfgen_family = AF_UNSPEC, .version = NFNETLINK_V0,
			      .res_id = htons(NFNL_SUBSYS_NFTABLES) };

	return vn_msg_new(type, 0, &g, sizeof(g));
}

/* Starts the transaction in b. */
static void txn_begin(struct vn_batch *b, struct vn_nl *nl)
{
	vn_batch_init(b, nl);
	vn_batch_add(b, delim_msg(NFNL_MSG_BATCH_BEGIN));
}

/* Ends and sends the transaction, if it changes anything. */
static int txn_send(struct vn_batch *b, const char *what, struct vn_err *e)
{
	if (b->n == 1 && !b->failed)
		return 0;	/* only BATCH_BEGIN: nothing to change */
	vn_batch_add(b, delim_msg(NFNL_MSG_BATCH_END));
	return vn_batch_talk(b, NULL, NULL, what, e);
}

/* One attempt: 0 done, 1 to retry (a concurrent change), -1 error. */
static int admit_once(struct vn_nl *nl, struct vn_batch *b, const char *ns,
		      const struct vn_addr *ips, size_t n_ips, struct vn_err *e)
{
	struct lookup l;
	char chains[2][300];
	int have[2], rc;

	for (int d = 0; d < 2; d++)
		snprintf(chains[d], sizeof(chains[d]), "ns%s-%s", d ? "out" : "in", ns);
	if (lookup_all(nl, &l, chains, ips, n_ips, e))
		return -1;
	rc = found(&l, 0, e);
	if (rc <= 0)
		return rc;	/* no table: no policy here, nothing to do */
	for (int d = 0; d < 2; d++)
		if ((have[d] = found(&l, 1 + d, e)) < 0)
			return -1;
	txn_begin(b, nl);
	for (size_t i = 0; i < n_ips; i++) {
		for (int d = 0; d < 2; d++) {
			const char *map = map_name(d, ips[i].family);
			int old;

			if (!have[d])
				continue;
			if ((old = found(&l, l.elem0 + 2 * (int)i + d, e)) < 0)
				return -1;
			if (old)
				vn_batch_add(b, elem_msg(NFT_MSG_DELSETELEM, NLM_F_ACK, map, &ips[i],
							 NULL));
			vn_batch_add(b, elem_msg(NFT_MSG_NEWSETELEM, NLM_F_CREATE | NLM_F_ACK, map,
						 &ips[i], chains[d]));
		}
	}
	rc = txn_send(b, "podguard: add pod addresses to table inet " PODGUARD_TABLE, e);
	if (rc && (errno == ENOENT || errno == EBUSY || errno == EEXIST))
		return 1;
	return rc;
}

static int valid_family(const struct vn_addr *ips, size_t n, struct vn_err *e)
{
	if (n > PODGUARD_MAX_IPS)
		return vn_errf(e, VN_E_INVALID, "invalid argument",
			       "podguard: %zu addresses, at most %d", n, PODGUARD_MAX_IPS);
	for (size_t i = 0; i < n; i++)
		if (ips[i].family != AF_INET && ips[i].family != AF_INET6)
			return vn_errf(e, VN_E_INVALID, "invalid argument",
				       "podguard: address %zu has no family", i);
	return 0;
}

int podguard_admit(const char *pod_namespace, const struct vn_addr *ips, size_t n_ips,
		   struct vn_err *e)
{
	struct vn_batch b;
	struct vn_nl nl;
	int rc = -1;

	if (!pod_namespace || !*pod_namespace || strlen(pod_namespace) > 253 || !n_ips)
		return 0;
	if (valid_family(ips, n_ips, e) || vn_nl_open(&nl, NETLINK_NETFILTER, e))
		return -1;
	for (int i = 0; i < ATTEMPTS; i++) {
		rc = admit_once(&nl, &b, pod_namespace, ips, n_ips, e);
		if (rc <= 0)
			break;
	}
	if (rc > 0)
		rc = vn_errf(e, VN_E_AGAIN, "try again later",
			     "podguard: table inet %s kept changing; pod not admitted", PODGUARD_TABLE);
	vn_nl_close(&nl);
	return rc;
}

static int forget_once(struct vn_nl *nl, struct vn_batch *b, const struct vn_addr *ips,
		       size_t n_ips, struct vn_err *e)
{
	struct lookup l;
	int rc;

	if (lookup_all(nl, &l, NULL, ips, n_ips, e))
		return -1;
	rc = found(&l, 0, e);
	if (rc <= 0)
		return rc;
	txn_begin(b, nl);
	for (size_t i = 0; i < n_ips; i++) {
		for (int d = 0; d < 2; d++) {
			int old = found(&l, l.elem0 + 2 * (int)i + d, e);

			if (old < 0)
				return -1;
			if (old)
				vn_batch_add(b, elem_msg(NFT_MSG_DELSETELEM, NLM_F_ACK,
							 map_name(d, ips[i].family), &ips[i], NULL));
		}
	}
	rc = txn_send(b, "podguard: remove pod addresses from table inet " PODGUARD_TABLE, e);
	if (rc && errno == ENOENT)
		return 1;
	return rc;
}

int podguard_forget(const struct vn_addr *ips, size_t n_ips, struct vn_err *e)
{
	struct vn_batch b;
	struct vn_nl nl;
	int rc = -1;

	if (!n_ips)
		return 0;
	if (valid_family(ips, n_ips, e) || vn_nl_open(&nl, NETLINK_NETFILTER, e))
		return -1;
	for (int i = 0; i < ATTEMPTS; i++) {
		rc = forget_once(&nl, &b, ips, n_ips, e);
		if (rc <= 0)
			break;
	}
	/* Elements that went away meanwhile are what we wanted anyway. */
	if (rc > 0)
		rc = 0;
	vn_nl_close(&nl);
	return rc;
}
