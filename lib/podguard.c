/* podguard: the CNI plugin's side of "no open window" (see podguard.h).
 *
 * Both calls talk to table inet veilnet through libnftnl over lib/nl.h, in
 * two round trips: one batch of lookups (the table, the namespace chains,
 * each address in the newpod maps), then one transaction changing the
 * maps. A concurrent veilnet-policy apply may remove a chain or an element
 * in between; the transaction then fails as a whole and is retried. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <veilnet/nl.h>
#include <veilnet/podguard.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#define ATTEMPTS 3
#define BATCH_MAX (1 << 16)

static const char *map_name(int egress, int family)
{
	if (egress)
		return family == AF_INET6 ? "newpod_out6" : "newpod_out4";
	return family == AF_INET6 ? "newpod_in6" : "newpod_in4";
}

/* A set with one element (key = ip; a jump to chain when chain is set). */
static struct nftnl_set *one_elem(const char *map, const struct vn_addr *ip, const char *chain)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elem *el = nftnl_set_elem_alloc();

	if (!s || !el) {
		if (s)
			nftnl_set_free(s);
		if (el)
			nftnl_set_elem_free(el);
		return NULL;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, PODGUARD_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, map);
	nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, ip->b, vn_addr_size(ip->family));
	if (chain) {
		nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_VERDICT, (uint32_t)NFT_JUMP);
		nftnl_set_elem_set_str(el, NFTNL_SET_ELEM_CHAIN, chain);
	}
	nftnl_set_elem_add(s, el);
	return s;
}

/* The lookups, all sent in one round trip and answered one by one. */
struct lookup {
	char buf[8192];
	size_t len;
	int n;			/* messages */
	int elem0;		/* the first element lookup's message */
	int errs[3 + 2 * PODGUARD_MAX_IPS];
};

static struct nlmsghdr *lookup_hdr(struct vn_nl *nl, struct lookup *l, uint16_t type)
{
	l->n++;
	return nftnl_nlmsg_build_hdr(l->buf + l->len, type, NFPROTO_INET, NLM_F_ACK,
				     vn_nl_seq(nl));
}

/* Message 0: the table. */
static int lookup_table(struct vn_nl *nl, struct lookup *l)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (!t)
		return -1;
	nlh = lookup_hdr(nl, l, NFT_MSG_GETTABLE);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, PODGUARD_TABLE);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	l->len += NLMSG_ALIGN(nlh->nlmsg_len);
	return 0;
}

/* Messages 1 and 2, if asked for: the namespace's chains, in and out. */
static int lookup_chain(struct vn_nl *nl, struct lookup *l, const char *name)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh;

	if (!c)
		return -1;
	nlh = lookup_hdr(nl, l, NFT_MSG_GETCHAIN);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, PODGUARD_TABLE);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
	l->len += NLMSG_ALIGN(nlh->nlmsg_len);
	return 0;
}

/* Messages elem0 + 2 * i + egress: address i in each newpod map. */
static int lookup_elem(struct vn_nl *nl, struct lookup *l, const char *map,
		       const struct vn_addr *ip)
{
	struct nftnl_set *s = one_elem(map, ip, NULL);
	struct nlmsghdr *nlh;

	if (!s)
		return -1;
	nlh = lookup_hdr(nl, l, NFT_MSG_GETSETELEM);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	l->len += NLMSG_ALIGN(nlh->nlmsg_len);
	return 0;
}

/* Looks up the table, the chains (if given) and every address in the
 * maps, in one round trip. */
static int lookup_all(struct vn_nl *nl, struct lookup *l, char chains[2][300],
		      const struct vn_addr *ips, size_t n_ips, struct vn_err *e)
{
	int bad;

	l->len = 0;
	l->n = 0;
	bad = lookup_table(nl, l);
	for (int d = 0; chains && d < 2 && !bad; d++)
		bad = lookup_chain(nl, l, chains[d]);
	l->elem0 = l->n;
	for (size_t i = 0; i < n_ips && !bad; i++)
		for (int d = 0; d < 2 && !bad; d++)
			bad = lookup_elem(nl, l, map_name(d, ips[i].family), &ips[i]);
	if (bad)
		return vn_errf(e, VN_E_IO, "I/O error", "podguard: out of memory");
	return vn_nl_talk_each(nl, l->buf, l->len, NULL, NULL, l->errs, (size_t)l->n,
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

struct batch {
	char buf[BATCH_MAX];
	size_t len;
	size_t msgs;
};

static int batch_elem(struct vn_nl *nl, struct batch *b, uint16_t type, const char *map,
		      const struct vn_addr *ip, const char *chain)
{
	struct nftnl_set *s = one_elem(map, ip, chain);
	struct nlmsghdr *nlh;

	if (!s || b->len + 1024 > sizeof(b->buf)) {
		if (s)
			nftnl_set_free(s);
		return -1;
	}
	nlh = nftnl_nlmsg_build_hdr(b->buf + b->len, type, NFPROTO_INET,
				    (type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0) | NLM_F_ACK,
				    vn_nl_seq(nl));
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
	b->msgs++;
	return 0;
}

static int batch_send(struct vn_nl *nl, struct batch *b, const char *what, struct vn_err *e)
{
	char begin[NLMSG_HDRLEN * 2];
	struct nlmsghdr *nlh;

	if (!b->msgs)
		return 0;
	/* Make room for BATCH_BEGIN in front. */
	nlh = nftnl_batch_begin(begin, vn_nl_seq(nl));
	if (b->len + 2 * NLMSG_ALIGN(nlh->nlmsg_len) > sizeof(b->buf))
		return vn_errf(e, VN_E_IO, "I/O error", "podguard: too many addresses");
	memmove(b->buf + NLMSG_ALIGN(nlh->nlmsg_len), b->buf, b->len);
	memcpy(b->buf, nlh, nlh->nlmsg_len);
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
	nlh = nftnl_batch_end(b->buf + b->len, vn_nl_seq(nl));
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
	return vn_nl_talk(nl, b->buf, b->len, NULL, NULL, what, e);
}

/* One attempt: 0 done, 1 to retry (a concurrent change), -1 error. */
static int admit_once(struct vn_nl *nl, struct batch *b, const char *ns,
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
	b->len = b->msgs = 0;
	for (size_t i = 0; i < n_ips; i++) {
		for (int d = 0; d < 2; d++) {
			const char *map = map_name(d, ips[i].family);
			int old;

			if (!have[d])
				continue;
			if ((old = found(&l, l.elem0 + 2 * (int)i + d, e)) < 0)
				return -1;
			if ((old && batch_elem(nl, b, NFT_MSG_DELSETELEM, map, &ips[i], NULL)) ||
			    batch_elem(nl, b, NFT_MSG_NEWSETELEM, map, &ips[i], chains[d]))
				return vn_errf(e, VN_E_IO, "I/O error", "podguard: too many addresses");
		}
	}
	rc = batch_send(nl, b, "podguard: add pod addresses to table inet " PODGUARD_TABLE, e);
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
	struct batch b;
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

static int forget_once(struct vn_nl *nl, struct batch *b, const struct vn_addr *ips,
		       size_t n_ips, struct vn_err *e)
{
	struct lookup l;
	int rc;

	if (lookup_all(nl, &l, NULL, ips, n_ips, e))
		return -1;
	rc = found(&l, 0, e);
	if (rc <= 0)
		return rc;
	b->len = b->msgs = 0;
	for (size_t i = 0; i < n_ips; i++) {
		for (int d = 0; d < 2; d++) {
			const char *map = map_name(d, ips[i].family);
			int old = found(&l, l.elem0 + 2 * (int)i + d, e);

			if (old < 0)
				return -1;
			if (old && batch_elem(nl, b, NFT_MSG_DELSETELEM, map, &ips[i], NULL))
				return vn_errf(e, VN_E_IO, "I/O error", "podguard: too many addresses");
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
