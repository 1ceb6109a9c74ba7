/* wgnl.c - WireGuard generic netlink: message building, parsing, socket. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/genetlink.h>
#include <linux/wireguard.h>
#include <netinet/in.h>
#include <sodium.h>
#include "wgnl.h"

#define NO_MEM(e) vn_errf(e, VN_E_IO, "I/O error", "out of memory")

void wgnl_buf_free(struct wgnl_buf *b)
{
	if (b->data)
		sodium_memzero(b->data, b->cap);	/* may hold a private key */
	free(b->data);
	memset(b, 0, sizeof(*b));
}

static int buf_append(struct wgnl_buf *b, const void *data, size_t len)
{
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 16384;
		char *grown;

		while (cap < b->len + len)
			cap *= 2;
		/* Not realloc: the old block may hold a private key to wipe. */
		grown = malloc(cap);
		if (!grown)
			return -1;
		if (b->data) {
			memcpy(grown, b->data, b->len);
			sodium_memzero(b->data, b->cap);
			free(b->data);
		}
		b->data = grown;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->n_msgs++;
	return 0;
}

static struct nlmsghdr *start_msg(char *buf, uint16_t type, uint16_t flags, uint32_t seq,
				  uint8_t cmd)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = WG_GENL_VERSION;
	return nlh;
}

int wgnl_build_get(struct wgnl_buf *out, uint16_t family, uint32_t seq, const char *ifname,
		   struct vn_err *e)
{
	char buf[256];
	struct nlmsghdr *nlh = start_msg(buf, family, NLM_F_REQUEST | NLM_F_DUMP, seq,
					 WG_CMD_GET_DEVICE);

	mnl_attr_put_strz(nlh, WGDEVICE_A_IFNAME, ifname);
	if (buf_append(out, nlh, nlh->nlmsg_len))
		return NO_MEM(e);
	return 0;
}

/* The device attributes of the first message. */
static bool put_device_head(struct nlmsghdr *nlh, size_t max, const struct wg_device *d)
{
	uint32_t flags = (d->flags & WG_DEV_REPLACE_PEERS) ? WGDEVICE_F_REPLACE_PEERS : 0;

	if ((d->flags & WG_DEV_HAS_PRIVATE_KEY) &&
	    !mnl_attr_put_check(nlh, max, WGDEVICE_A_PRIVATE_KEY, WG_KEY_LEN, d->private_key.b))
		return false;
	if ((d->flags & WG_DEV_HAS_PORT) &&
	    !mnl_attr_put_u16_check(nlh, max, WGDEVICE_A_LISTEN_PORT, d->listen_port))
		return false;
	if ((d->flags & WG_DEV_HAS_FWMARK) &&
	    !mnl_attr_put_u32_check(nlh, max, WGDEVICE_A_FWMARK, d->fwmark))
		return false;
	if (flags && !mnl_attr_put_u32_check(nlh, max, WGDEVICE_A_FLAGS, flags))
		return false;
	return true;
}

static bool put_endpoint(struct nlmsghdr *nlh, size_t max, const struct wg_peer *p)
{
	if (p->endpoint.family == AF_INET) {
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(p->endpoint_port),
					   .sin_addr = p->endpoint.v4 };

		return mnl_attr_put_check(nlh, max, WGPEER_A_ENDPOINT, sizeof(sin), &sin);
	}
	if (p->endpoint.family == AF_INET6) {
		struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6,
					     .sin6_port = htons(p->endpoint_port),
					     .sin6_addr = p->endpoint.v6 };

		return mnl_attr_put_check(nlh, max, WGPEER_A_ENDPOINT, sizeof(sin6), &sin6);
	}
	return true;
}

/* The peer's public key, and on its first part its flags and settings. */
static bool put_peer_head(struct nlmsghdr *nlh, size_t max, const struct wg_peer *p, bool first)
{
	uint32_t flags = 0;

	if (!mnl_attr_put_check(nlh, max, WGPEER_A_PUBLIC_KEY, WG_KEY_LEN, p->public_key.b))
		return false;
	if (!first)
		return true;
	if (p->flags & WG_PEER_REMOVE)
		flags |= WGPEER_F_REMOVE_ME;
	if (p->flags & WG_PEER_REPLACE_ALLOWEDIPS)
		flags |= WGPEER_F_REPLACE_ALLOWEDIPS;
	if (p->flags & WG_PEER_UPDATE_ONLY)
		flags |= WGPEER_F_UPDATE_ONLY;
	if (flags && !mnl_attr_put_u32_check(nlh, max, WGPEER_A_FLAGS, flags))
		return false;
	if (p->flags & WG_PEER_REMOVE)
		return true;
	if ((p->flags & WG_PEER_HAS_PSK) &&
	    !mnl_attr_put_check(nlh, max, WGPEER_A_PRESHARED_KEY, WG_KEY_LEN, p->preshared_key.b))
		return false;
	if ((p->flags & WG_PEER_HAS_ENDPOINT) && !put_endpoint(nlh, max, p))
		return false;
	if ((p->flags & WG_PEER_HAS_KEEPALIVE) &&
	    !mnl_attr_put_u16_check(nlh, max, WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, p->keepalive))
		return false;
	return true;
}

static bool put_allowedip(struct nlmsghdr *nlh, size_t max, const struct vn_prefix *ip)
{
	struct nlattr *nest = mnl_attr_nest_start_check(nlh, max, 0);

	if (!nest)
		return false;
	if (!mnl_attr_put_u16_check(nlh, max, WGALLOWEDIP_A_FAMILY, (uint16_t)ip->addr.family) ||
	    !mnl_attr_put_check(nlh, max, WGALLOWEDIP_A_IPADDR, vn_addr_size(ip->addr.family),
				ip->addr.b) ||
	    !mnl_attr_put_u8_check(nlh, max, WGALLOWEDIP_A_CIDR_MASK, (uint8_t)ip->len)) {
		mnl_attr_nest_cancel(nlh, nest);
		return false;
	}
	mnl_attr_nest_end(nlh, nest);
	return true;
}

/* Puts as many allowed IPs of p from *ai on as fit. Returns how many. */
static size_t put_allowedips(struct nlmsghdr *nlh, size_t max, const struct wg_peer *p, size_t *ai)
{
	struct nlattr *nest = mnl_attr_nest_start_check(nlh, max, WGPEER_A_ALLOWEDIPS);
	size_t added = 0;

	if (!nest)
		return 0;
	while (*ai < p->n_allowedips && put_allowedip(nlh, max, &p->allowedips[*ai])) {
		(*ai)++;
		added++;
	}
	if (added)
		mnl_attr_nest_end(nlh, nest);
	else
		mnl_attr_nest_cancel(nlh, nest);
	return added;
}

/* Fills the message with peers from *pi (allowed IP *ai on). Returns the
 * number of peer parts put; 0 means not even one fitted. */
static size_t put_peers(struct nlmsghdr *nlh, size_t max, const struct wg_device *d,
			size_t *pi, size_t *ai)
{
	struct nlattr *peers = mnl_attr_nest_start_check(nlh, max, WGDEVICE_A_PEERS);
	size_t parts = 0;

	if (!peers)
		return 0;
	while (*pi < d->n_peers) {
		const struct wg_peer *p = &d->peers[*pi];
		struct nlattr *pn = mnl_attr_nest_start_check(nlh, max, 0);
		size_t added;

		if (!pn)
			break;
		if (!put_peer_head(nlh, max, p, *ai == 0)) {
			mnl_attr_nest_cancel(nlh, pn);
			break;
		}
		size_t n_ips = (p->flags & WG_PEER_REMOVE) ? 0 : p->n_allowedips;

		added = *ai < n_ips ? put_allowedips(nlh, max, p, ai) : 0;
		if (*ai < n_ips && added == 0) {
			/* Not one allowed IP fits: this peer starts the next one. */
			mnl_attr_nest_cancel(nlh, pn);
			break;
		}
		mnl_attr_nest_end(nlh, pn);
		parts++;
		if (*ai < n_ips)
			break;	/* the rest of this peer goes on in the next message */
		(*pi)++;
		*ai = 0;
	}
	if (parts)
		mnl_attr_nest_end(nlh, peers);
	else
		mnl_attr_nest_cancel(nlh, peers);
	return parts;
}

int wgnl_build_set(struct wgnl_buf *out, uint16_t family, uint32_t seq, const char *ifname,
		   const struct wg_device *d, size_t msg_max, struct vn_err *e)
{
	char *buf;
	size_t pi = 0, ai = 0;
	bool first = true;
	int ret = -1;

	if (msg_max < WGNL_MSG_MIN)
		return vn_errf(e, VN_E_INVALID, "invalid argument",
			       "netlink message size %zu is below %d", msg_max, WGNL_MSG_MIN);
	buf = calloc(1, msg_max);
	if (!buf)
		return NO_MEM(e);
	do {
		struct nlmsghdr *nlh = start_msg(buf, family, NLM_F_REQUEST | NLM_F_ACK, seq++,
						 WG_CMD_SET_DEVICE);

		if (!mnl_attr_put_strz_check(nlh, msg_max, WGDEVICE_A_IFNAME, ifname) ||
		    (first && !put_device_head(nlh, msg_max, d))) {
			vn_errf(e, VN_E_INVALID, "invalid argument", "device attributes do not fit");
			goto out;
		}
		if (pi < d->n_peers && put_peers(nlh, msg_max, d, &pi, &ai) == 0) {
			vn_errf(e, VN_E_INVALID, "invalid argument",
				"peer %zu does not fit in a %zu-byte message", pi, msg_max);
			goto out;
		}
		if (buf_append(out, nlh, nlh->nlmsg_len)) {
			NO_MEM(e);
			goto out;
		}
		first = false;
	} while (pi < d->n_peers);
	ret = 0;
out:
	sodium_memzero(buf, msg_max);
	free(buf);
	return ret;
}

/* ---- parsing ---- */

static int bad(struct vn_err *e, const char *what)
{
	return vn_errf(e, VN_E_DECODE, "decoding failure", "wireguard netlink: bad %s", what);
}

static int parse_endpoint(const struct nlattr *a, struct wg_peer *p, struct vn_err *e)
{
	const void *data = mnl_attr_get_payload(a);
	uint16_t len = mnl_attr_get_payload_len(a);
	sa_family_t fam;

	if (len < sizeof(fam))
		return bad(e, "endpoint");
	memcpy(&fam, data, sizeof(fam));
	memset(&p->endpoint, 0, sizeof(p->endpoint));
	if (fam == AF_INET && len == sizeof(struct sockaddr_in)) {
		struct sockaddr_in sin;

		memcpy(&sin, data, sizeof(sin));
		p->endpoint.family = AF_INET;
		p->endpoint.v4 = sin.sin_addr;
		p->endpoint_port = ntohs(sin.sin_port);
	} else if (fam == AF_INET6 && len == sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 sin6;

		memcpy(&sin6, data, sizeof(sin6));
		p->endpoint.family = AF_INET6;
		p->endpoint.v6 = sin6.sin6_addr;
		p->endpoint_port = ntohs(sin6.sin6_port);
	} else {
		return bad(e, "endpoint");
	}
	p->flags |= WG_PEER_HAS_ENDPOINT;
	return 0;
}

static int parse_allowedip(const struct nlattr *nest, struct wg_peer *p, struct vn_err *e)
{
	const struct nlattr *a;
	struct vn_prefix ip = { 0 };
	int have = 0;

	mnl_attr_for_each_nested(a, nest) {
		switch (mnl_attr_get_type(a)) {
		case WGALLOWEDIP_A_FAMILY:
			if (mnl_attr_validate(a, MNL_TYPE_U16) < 0)
				return bad(e, "allowed IP family");
			ip.addr.family = mnl_attr_get_u16(a);
			have |= 1;
			break;
		case WGALLOWEDIP_A_IPADDR:
			if (mnl_attr_get_payload_len(a) != 4 && mnl_attr_get_payload_len(a) != 16)
				return bad(e, "allowed IP address");
			memcpy(ip.addr.b, mnl_attr_get_payload(a), mnl_attr_get_payload_len(a));
			have |= 2 | (mnl_attr_get_payload_len(a) == 16 ? 8 : 0);
			break;
		case WGALLOWEDIP_A_CIDR_MASK:
			if (mnl_attr_validate(a, MNL_TYPE_U8) < 0)
				return bad(e, "allowed IP mask");
			ip.len = mnl_attr_get_u8(a);
			have |= 4;
			break;
		}
	}
	if ((have & 7) != 7 || vn_addr_size(ip.addr.family) * 8 < ip.len ||
	    ((have & 8) != 0) != (ip.addr.family == AF_INET6))
		return bad(e, "allowed IP");
	if (wg_peer_add_allowedip(p, &ip))
		return NO_MEM(e);
	return 0;
}

static int parse_key(const struct nlattr *a, struct wg_key *k, struct vn_err *e)
{
	if (mnl_attr_get_payload_len(a) != WG_KEY_LEN)
		return bad(e, "key length");
	memcpy(k->b, mnl_attr_get_payload(a), WG_KEY_LEN);
	return 0;
}

static int parse_u64(const struct nlattr *a, uint64_t *v, struct vn_err *e)
{
	if (mnl_attr_validate(a, MNL_TYPE_U64) < 0)
		return bad(e, "counter");
	*v = mnl_attr_get_u64(a);
	return 0;
}

static int parse_peer_attr(const struct nlattr *a, struct wg_peer *p, struct vn_err *e)
{
	const struct nlattr *ip;
	struct wg_key psk;
	int64_t ts[2];
	uint32_t f;

	switch (mnl_attr_get_type(a)) {
	case WGPEER_A_PRESHARED_KEY:
		if (parse_key(a, &psk, e))
			return -1;
		if (!wg_key_is_zero(&psk)) {
			p->preshared_key = psk;
			p->flags |= WG_PEER_HAS_PSK;
		}
		wg_key_wipe(&psk);
		return 0;
	case WGPEER_A_FLAGS:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			return bad(e, "peer flags");
		f = mnl_attr_get_u32(a);
		p->flags |= ((f & WGPEER_F_REMOVE_ME) ? WG_PEER_REMOVE : 0) |
			    ((f & WGPEER_F_REPLACE_ALLOWEDIPS) ? WG_PEER_REPLACE_ALLOWEDIPS : 0) |
			    ((f & WGPEER_F_UPDATE_ONLY) ? WG_PEER_UPDATE_ONLY : 0);
		return 0;
	case WGPEER_A_ENDPOINT:
		return parse_endpoint(a, p, e);
	case WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL:
		if (mnl_attr_validate(a, MNL_TYPE_U16) < 0)
			return bad(e, "keepalive");
		p->keepalive = mnl_attr_get_u16(a);
		p->flags |= WG_PEER_HAS_KEEPALIVE;
		return 0;
	case WGPEER_A_LAST_HANDSHAKE_TIME:
		if (mnl_attr_get_payload_len(a) != sizeof(ts))
			return bad(e, "handshake time");
		memcpy(ts, mnl_attr_get_payload(a), sizeof(ts));
		p->last_handshake_sec = ts[0];
		p->last_handshake_nsec = ts[1];
		return 0;
	case WGPEER_A_RX_BYTES:
		return parse_u64(a, &p->rx_bytes, e);
	case WGPEER_A_TX_BYTES:
		return parse_u64(a, &p->tx_bytes, e);
	case WGPEER_A_ALLOWEDIPS:
		mnl_attr_for_each_nested(ip, a)
			if (parse_allowedip(ip, p, e))
				return -1;
		return 0;
	}
	return 0;
}

static int parse_peer(const struct nlattr *nest, struct wg_device *d, struct vn_err *e)
{
	const struct nlattr *a, *keyattr = NULL;
	struct wg_peer *p;
	struct wg_key key;

	mnl_attr_for_each_nested(a, nest)
		if (mnl_attr_get_type(a) == WGPEER_A_PUBLIC_KEY)
			keyattr = a;
	if (!keyattr)
		return bad(e, "peer without public key");
	if (parse_key(keyattr, &key, e))
		return -1;
	if (d->n_peers && wg_key_cmp(&d->peers[d->n_peers - 1].public_key, &key) == 0)
		p = &d->peers[d->n_peers - 1];	/* continued from the last message */
	else if (!(p = wg_device_add_peer(d, &key)))
		return NO_MEM(e);
	mnl_attr_for_each_nested(a, nest)
		if (parse_peer_attr(a, p, e))
			return -1;
	return 0;
}

static int parse_device_attr(const struct nlattr *a, struct wg_device *d, struct vn_err *e)
{
	const struct nlattr *peer;

	switch (mnl_attr_get_type(a)) {
	case WGDEVICE_A_IFINDEX:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			return bad(e, "ifindex");
		d->ifindex = mnl_attr_get_u32(a);
		return 0;
	case WGDEVICE_A_IFNAME:
		if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0 ||
		    mnl_attr_get_payload_len(a) > IFNAMSIZ)
			return bad(e, "ifname");
		memcpy(d->ifname, mnl_attr_get_str(a), mnl_attr_get_payload_len(a));
		return 0;
	case WGDEVICE_A_PRIVATE_KEY:
		d->flags |= WG_DEV_HAS_PRIVATE_KEY;
		return parse_key(a, &d->private_key, e);
	case WGDEVICE_A_PUBLIC_KEY:
		d->flags |= WG_DEV_HAS_PUBLIC_KEY;
		return parse_key(a, &d->public_key, e);
	case WGDEVICE_A_FLAGS:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			return bad(e, "device flags");
		if (mnl_attr_get_u32(a) & WGDEVICE_F_REPLACE_PEERS)
			d->flags |= WG_DEV_REPLACE_PEERS;
		return 0;
	case WGDEVICE_A_LISTEN_PORT:
		if (mnl_attr_validate(a, MNL_TYPE_U16) < 0)
			return bad(e, "listen port");
		d->listen_port = mnl_attr_get_u16(a);
		d->flags |= WG_DEV_HAS_PORT;
		return 0;
	case WGDEVICE_A_FWMARK:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			return bad(e, "fwmark");
		d->fwmark = mnl_attr_get_u32(a);
		d->flags |= WG_DEV_HAS_FWMARK;
		return 0;
	case WGDEVICE_A_PEERS:
		mnl_attr_for_each_nested(peer, a)
			if (parse_peer(peer, d, e))
				return -1;
		return 0;
	}
	return 0;
}

int wgnl_parse(const struct nlmsghdr *nlh, struct wg_device *d, struct vn_err *e)
{
	const struct nlattr *a;

	/* libmnl reads attributes up to the aligned end: reject a length that
	 * is not aligned (the kernel's never are). */
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + GENL_HDRLEN || nlh->nlmsg_len % NLMSG_ALIGNTO)
		return bad(e, "message length");
	mnl_attr_for_each(a, nlh, GENL_HDRLEN)
		if (parse_device_attr(a, d, e))
			return -1;
	return 0;
}

int wgnl_parse_all(const void *buf, size_t len, struct wg_device *d, struct vn_err *e)
{
	const char *p = buf;

	/* Not mnl_nlmsg_ok: its int arithmetic trusts a huge nlmsg_len. */
	while (len > 0) {
		const struct nlmsghdr *nlh = (const void *)p;
		size_t step;

		if (len < sizeof(*nlh) || nlh->nlmsg_len < sizeof(*nlh) || nlh->nlmsg_len > len)
			return bad(e, "message length");
		if (wgnl_parse(nlh, d, e))
			return -1;
		step = NLMSG_ALIGN(nlh->nlmsg_len);
		if (step > len)
			step = len;
		p += step;
		len -= step;
	}
	return 0;
}

/* ---- the socket edge ---- */

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *a;
	uint16_t *family = data;

	mnl_attr_for_each(a, nlh, GENL_HDRLEN)
		if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID &&
		    mnl_attr_validate(a, MNL_TYPE_U16) == 0)
			*family = mnl_attr_get_u16(a);
	return MNL_CB_OK;
}

int wgnl_resolve_family(struct vn_nl *nl, uint16_t *family, struct vn_err *e)
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = vn_nl_seq(nl);
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, WG_GENL_NAME);
	*family = 0;
	if (vn_nl_talk(nl, nlh, nlh->nlmsg_len, family_cb, family,
		       "resolve generic netlink family \"wireguard\"", e))
		return -1;
	if (!*family) {
		errno = ENOENT;
		return vn_errf(e, VN_E_IO, "I/O error", "no \"wireguard\" family id in answer");
	}
	return 0;
}

struct get_ctx {
	struct wg_device *d;
	struct vn_err *e;
	int failed;
};

static int get_cb(const struct nlmsghdr *nlh, void *data)
{
	struct get_ctx *g = data;

	if (g->failed)
		return MNL_CB_OK;
	if (wgnl_parse(nlh, g->d, g->e))
		g->failed = 1;
	return MNL_CB_OK;
}

int wgnl_get_device(struct wg_conn *c, struct wg_device *out, struct vn_err *e)
{
	struct wgnl_buf req = { 0 };
	struct get_ctx g = { .d = out, .e = e };
	int ret;

	if (wgnl_build_get(&req, c->family, vn_nl_seq(&c->nl), c->ifname, e))
		return -1;
	c->stats.nl_messages++;
	ret = vn_nl_talk(&c->nl, req.data, req.len, get_cb, &g, "wireguard get device", e);
	wgnl_buf_free(&req);
	if (ret)
		return vn_err_wrap(e, "%s", c->ifname);
	return g.failed ? -1 : 0;
}

/* Sends at most this many bytes of messages per sendto. */
#define SEND_CHUNK (96 * 1024)

int wgnl_set_device(struct wg_conn *c, const struct wg_device *d, struct vn_err *e)
{
	struct wgnl_buf msgs = { 0 };
	size_t off = 0;
	int ret = -1;

	if (wgnl_build_set(&msgs, c->family, c->nl.seq + 1, c->ifname, d, c->msg_max, e))
		goto out;
	c->nl.seq += msgs.n_msgs;
	c->stats.nl_messages += msgs.n_msgs;
	while (off < msgs.len) {
		const struct nlmsghdr *nlh = (const void *)(msgs.data + off);
		size_t len = 0;

		/* Whole messages, up to SEND_CHUNK bytes (at least one). */
		while (off + len < msgs.len) {
			const struct nlmsghdr *m = (const void *)(msgs.data + off + len);

			if (len && len + m->nlmsg_len > SEND_CHUNK)
				break;
			len += NLMSG_ALIGN(m->nlmsg_len);
		}
		if (vn_nl_talk(&c->nl, nlh, len, NULL, NULL, "wireguard set device", e)) {
			vn_err_wrap(e, "%s", c->ifname);
			goto out;
		}
		off += len;
	}
	ret = 0;
out:
	wgnl_buf_free(&msgs);
	return ret;
}
