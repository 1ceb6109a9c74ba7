/* wg.h - one small interface to a WireGuard device, whichever backend
 * serves it.
 *
 * Plain structs describe a device, its peers and their allowed IPs. The
 * same structs carry both what a device *is* (wg_get_device) and what to
 * *change* (wg_set_device): flags say which fields are meant.
 *
 * Two backends implement the interface:
 *   WG_BACKEND_KERNEL  the kernel's "wireguard" generic netlink family
 *                      (wgnl.h builds and parses the messages);
 *   WG_BACKEND_UAPI    the userspace text protocol on
 *                      /var/run/wireguard/<ifname>.sock, as wireguard-go
 *                      serves it (uapi.h encodes and parses it).
 *
 * Ownership: a struct wg_device owns its peers array and each peer owns
 * its allowed IPs array; wg_device_free releases them all and wipes the
 * private key. A struct wg_conn is opened with wg_open and closed with
 * wg_close; it is bound to the network namespace current at wg_open.
 */
#ifndef VEILNET_OVERLAY_WG_H
#define VEILNET_OVERLAY_WG_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <veilnet/err.h>
#include <veilnet/nl.h>
#include <veilnet/prefix.h>

#define WG_KEY_LEN 32
#define WG_KEY_B64_LEN 45	/* 44 characters and the NUL */
#define WG_KEY_HEX_LEN 65	/* 64 characters and the NUL */

struct wg_key {
	uint8_t b[WG_KEY_LEN];
};

enum wg_peer_flag {
	WG_PEER_REMOVE = 1u << 0,		/* remove this peer */
	WG_PEER_REPLACE_ALLOWEDIPS = 1u << 1,	/* allowedips replace the old set */
	WG_PEER_UPDATE_ONLY = 1u << 2,		/* do not create the peer */
	WG_PEER_HAS_ENDPOINT = 1u << 3,		/* endpoint is set */
	WG_PEER_HAS_KEEPALIVE = 1u << 4,	/* keepalive is set */
	WG_PEER_HAS_PSK = 1u << 5,		/* preshared_key is set */
};

struct wg_peer {
	struct wg_key public_key;
	struct wg_key preshared_key;
	uint32_t flags;			/* enum wg_peer_flag */
	struct vn_addr endpoint;
	uint16_t endpoint_port;
	uint16_t keepalive;		/* seconds, 0 = off */
	/* Read-only statistics, filled by wg_get_device. */
	int64_t last_handshake_sec;
	int64_t last_handshake_nsec;
	uint64_t rx_bytes;
	uint64_t tx_bytes;
	struct vn_prefix *allowedips;
	size_t n_allowedips;
	size_t cap_allowedips;
};

enum wg_device_flag {
	WG_DEV_HAS_PRIVATE_KEY = 1u << 0,
	WG_DEV_HAS_PUBLIC_KEY = 1u << 1,
	WG_DEV_HAS_PORT = 1u << 2,
	WG_DEV_HAS_FWMARK = 1u << 3,
	WG_DEV_REPLACE_PEERS = 1u << 4,	/* peers replace all old ones */
};

struct wg_device {
	char ifname[IFNAMSIZ];
	uint32_t ifindex;
	uint32_t flags;			/* enum wg_device_flag */
	struct wg_key private_key;
	struct wg_key public_key;
	uint16_t listen_port;
	uint32_t fwmark;
	struct wg_peer *peers;
	size_t n_peers;
	size_t cap_peers;
};

/* Zeroes d and copies ifname (may be NULL). */
void wg_device_init(struct wg_device *d, const char *ifname);

/* Frees peers and allowed IPs and wipes the keys; d is zeroed after. */
void wg_device_free(struct wg_device *d);

/* Appends a zeroed peer with the given key; returns it, or NULL when out
 * of memory. The pointer is valid until the next wg_device_add_peer. */
struct wg_peer *wg_device_add_peer(struct wg_device *d, const struct wg_key *key);

/* Appends an allowed IP to a peer. Returns 0, or -1 when out of memory. */
int wg_peer_add_allowedip(struct wg_peer *p, const struct vn_prefix *ip);

/* Deep copy of a peer (allowed IPs included) appended to d. 0 or -1. */
int wg_device_copy_peer(struct wg_device *d, const struct wg_peer *p);

/* Keys in text: base64 (wg(8), Kubernetes annotations) and hex (UAPI).
 * The *_to_* functions write into buf (WG_KEY_B64_LEN / WG_KEY_HEX_LEN
 * bytes) and return it; the parsers return 0, or -1 on malformed text. */
const char *wg_key_to_base64(const struct wg_key *k, char *buf);
int wg_key_from_base64(const char *s, struct wg_key *k);
const char *wg_key_to_hex(const struct wg_key *k, char *buf);
int wg_key_from_hex(const char *s, struct wg_key *k);

/* True if every byte of k is zero. Constant time. */
bool wg_key_is_zero(const struct wg_key *k);

/* Compares two keys (memcmp order). */
int wg_key_cmp(const struct wg_key *a, const struct wg_key *b);

/* Wipes a key. */
void wg_key_wipe(struct wg_key *k);

enum wg_backend {
	WG_BACKEND_NONE = 0,
	WG_BACKEND_KERNEL,
	WG_BACKEND_UAPI,
};

/* Counters a backend keeps, for benchmarks and "changes" reports. */
struct wg_stats {
	unsigned long nl_messages;	/* netlink messages sent */
	unsigned long uapi_bytes;	/* UAPI bytes sent and received */
	unsigned long set_calls;	/* wg_set_device calls that sent anything */
};

struct wg_conn {
	enum wg_backend backend;
	char ifname[IFNAMSIZ];
	struct vn_nl nl;		/* kernel: generic netlink socket */
	uint16_t family;		/* kernel: "wireguard" family id */
	size_t msg_max;			/* kernel: largest SET message built */
	char sock_path[108];		/* uapi: the UAPI socket */
	struct wg_stats stats;
};

/* The UAPI socket path of an interface: /var/run/wireguard/<ifname>.sock
 * (the directory may be overridden with WG_UAPI_DIR for tests). */
void wg_uapi_path(const char *ifname, char *buf, size_t size);

/* Opens a connection to ifname's backend. Kernel: opens generic netlink
 * and resolves the family (fails when the module is absent). UAPI: only
 * records the socket path; each call connects anew, as wg(8) does.
 * Returns 0 or -1 with e set. */
int wg_open(struct wg_conn *c, enum wg_backend backend, const char *ifname, struct vn_err *e);

/* Closes c; safe on a zeroed struct. */
void wg_close(struct wg_conn *c);

/* Reads the device: keys, port, every peer with its allowed IPs and
 * statistics. out is initialised here; the caller frees it. */
int wg_get_device(struct wg_conn *c, struct wg_device *out, struct vn_err *e);

/* Applies the changes d describes (see the flags). d->ifname is ignored,
 * the connection's interface is used. A d with nothing in it sends
 * nothing. Returns 0 or -1 with e set. */
int wg_set_device(struct wg_conn *c, const struct wg_device *d, struct vn_err *e);

/* True if d carries any change for wg_set_device. */
bool wg_device_has_changes(const struct wg_device *d);

#endif
