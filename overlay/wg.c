/* wg.c - the device structs, key text forms and the backend dispatch. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "wg.h"
#include "wgnl.h"
#include "uapi.h"

void wg_device_init(struct wg_device *d, const char *ifname)
{
	memset(d, 0, sizeof(*d));
	if (ifname)
		snprintf(d->ifname, sizeof(d->ifname), "%s", ifname);
}

void wg_device_free(struct wg_device *d)
{
	for (size_t i = 0; i < d->n_peers; i++) {
		sodium_memzero(&d->peers[i].preshared_key, sizeof(struct wg_key));
		free(d->peers[i].allowedips);
	}
	free(d->peers);
	sodium_memzero(d, sizeof(*d));
}

struct wg_peer *wg_device_add_peer(struct wg_device *d, const struct wg_key *key)
{
	struct wg_peer *p;

	if (d->n_peers == d->cap_peers) {
		size_t cap = d->cap_peers ? d->cap_peers * 2 : 8;
		struct wg_peer *grown = realloc(d->peers, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		d->peers = grown;
		d->cap_peers = cap;
	}
	p = &d->peers[d->n_peers++];
	memset(p, 0, sizeof(*p));
	p->public_key = *key;
	return p;
}

int wg_peer_add_allowedip(struct wg_peer *p, const struct vn_prefix *ip)
{
	if (p->n_allowedips == p->cap_allowedips) {
		size_t cap = p->cap_allowedips ? p->cap_allowedips * 2 : 4;
		struct vn_prefix *grown = realloc(p->allowedips, cap * sizeof(*grown));

		if (!grown)
			return -1;
		p->allowedips = grown;
		p->cap_allowedips = cap;
	}
	p->allowedips[p->n_allowedips++] = *ip;
	return 0;
}

int wg_device_copy_peer(struct wg_device *d, const struct wg_peer *src)
{
	struct wg_peer *p = wg_device_add_peer(d, &src->public_key);

	if (!p)
		return -1;
	*p = *src;
	p->allowedips = NULL;
	p->n_allowedips = p->cap_allowedips = 0;
	for (size_t i = 0; i < src->n_allowedips; i++)
		if (wg_peer_add_allowedip(p, &src->allowedips[i]))
			return -1;
	return 0;
}

const char *wg_key_to_base64(const struct wg_key *k, char *buf)
{
	return sodium_bin2base64(buf, WG_KEY_B64_LEN, k->b, WG_KEY_LEN,
				 sodium_base64_VARIANT_ORIGINAL);
}

int wg_key_from_base64(const char *s, struct wg_key *k)
{
	size_t n = 0;
	const char *end;

	if (!s || strlen(s) != WG_KEY_B64_LEN - 1 || s[WG_KEY_B64_LEN - 2] != '=')
		return -1;
	if (sodium_base642bin(k->b, WG_KEY_LEN, s, WG_KEY_B64_LEN - 1, NULL, &n, &end,
			      sodium_base64_VARIANT_ORIGINAL) || n != WG_KEY_LEN || *end)
		return -1;
	return 0;
}

const char *wg_key_to_hex(const struct wg_key *k, char *buf)
{
	return sodium_bin2hex(buf, WG_KEY_HEX_LEN, k->b, WG_KEY_LEN);
}

int wg_key_from_hex(const char *s, struct wg_key *k)
{
	size_t n = 0;
	const char *end;

	if (!s || strlen(s) != WG_KEY_HEX_LEN - 1)
		return -1;
	if (sodium_hex2bin(k->b, WG_KEY_LEN, s, WG_KEY_HEX_LEN - 1, NULL, &n, &end) ||
	    n != WG_KEY_LEN || *end)
		return -1;
	return 0;
}

bool wg_key_is_zero(const struct wg_key *k)
{
	return sodium_is_zero(k->b, WG_KEY_LEN) == 1;
}

int wg_key_cmp(const struct wg_key *a, const struct wg_key *b)
{
	return memcmp(a->b, b->b, WG_KEY_LEN);
}

void wg_key_wipe(struct wg_key *k)
{
	sodium_memzero(k->b, WG_KEY_LEN);
}

void wg_uapi_path(const char *ifname, char *buf, size_t size)
{
	const char *dir = getenv("WG_UAPI_DIR");

	snprintf(buf, size, "%s/%s.sock", dir && *dir ? dir : "/var/run/wireguard", ifname);
}

int wg_open(struct wg_conn *c, enum wg_backend backend, const char *ifname, struct vn_err *e)
{
	memset(c, 0, sizeof(*c));
	c->backend = backend;
	snprintf(c->ifname, sizeof(c->ifname), "%s", ifname);
	c->msg_max = WGNL_MSG_MAX;
	if (backend == WG_BACKEND_UAPI) {
		wg_uapi_path(ifname, c->sock_path, sizeof(c->sock_path));
		return 0;
	}
	if (backend != WG_BACKEND_KERNEL)
		return vn_errf(e, VN_E_INVALID, "invalid backend", "no backend chosen for %s", ifname);
	if (vn_nl_open(&c->nl, NETLINK_GENERIC, e))
		return -1;
	if (wgnl_resolve_family(&c->nl, &c->family, e)) {
		vn_nl_close(&c->nl);
		return -1;
	}
	return 0;
}

void wg_close(struct wg_conn *c)
{
	vn_nl_close(&c->nl);
	c->backend = WG_BACKEND_NONE;
}

int wg_get_device(struct wg_conn *c, struct wg_device *out, struct vn_err *e)
{
	wg_device_init(out, c->ifname);
	if (c->backend == WG_BACKEND_KERNEL)
		return wgnl_get_device(c, out, e);
	if (c->backend == WG_BACKEND_UAPI)
		return uapi_get_device(c, out, e);
	return vn_errf(e, VN_E_INVALID, "invalid backend", "%s: no backend", c->ifname);
}

bool wg_device_has_changes(const struct wg_device *d)
{
	return d->n_peers > 0 ||
	       (d->flags & (WG_DEV_HAS_PRIVATE_KEY | WG_DEV_HAS_PORT | WG_DEV_HAS_FWMARK |
			    WG_DEV_REPLACE_PEERS));
}

int wg_set_device(struct wg_conn *c, const struct wg_device *d, struct vn_err *e)
{
	if (!wg_device_has_changes(d))
		return 0;
	c->stats.set_calls++;
	if (c->backend == WG_BACKEND_KERNEL)
		return wgnl_set_device(c, d, e);
	if (c->backend == WG_BACKEND_UAPI)
		return uapi_set_device(c, d, e);
	return vn_errf(e, VN_E_INVALID, "invalid backend", "%s: no backend", c->ifname);
}
