/* wgnl.h - the kernel backend: WireGuard's generic netlink family.
 *
 * Building and parsing are pure (no socket): wgnl_build_* write netlink
 * messages into a growing buffer and wgnl_parse reads one message back into
 * a struct wg_device. The same parser reads the kernel's GET_DEVICE dump
 * answers and our own SET_DEVICE requests, so unit tests parse back what
 * was built.
 *
 * Splitting: a device with many peers or allowed IPs does not fit in one
 * message. wgnl_build_set cuts it into messages of at most msg_max bytes.
 * Only the first message carries the device attributes (private key,
 * port, fwmark, WGDEVICE_F_REPLACE_PEERS). A peer cut in the middle of its
 * allowed IPs goes on in the next message, which repeats only its public
 * key: WGPEER_F_REPLACE_ALLOWEDIPS, the endpoint and the keepalive are
 * sent with the peer's first part only. The kernel cuts its dump answers
 * the same way; wgnl_parse merges a peer whose public key equals the last
 * peer's into that peer.
 */
#ifndef VEILNET_OVERLAY_WGNL_H
#define VEILNET_OVERLAY_WGNL_H

#include <stddef.h>
#include <stdint.h>
#include <libmnl/libmnl.h>
#include "wg.h"

/* Default largest SET message. The kernel takes any size up to the
 * socket's send buffer; wg(8) uses one page. */
#define WGNL_MSG_MAX 16384
/* Smallest msg_max that still fits one peer with one allowed IP. */
#define WGNL_MSG_MIN 256

/* A growing buffer of netlink messages, owned by its user. */
struct wgnl_buf {
	char *data;
	size_t len;
	size_t cap;
	unsigned int n_msgs;
};

void wgnl_buf_free(struct wgnl_buf *b);

/* Appends the SET_DEVICE messages for d (addressed to ifname) to out,
 * each at most msg_max bytes, flagged NLM_F_REQUEST|NLM_F_ACK, with
 * sequence numbers seq, seq+1, ... Returns 0 or -1 with e set (out of
 * memory, or msg_max too small for one peer). */
int wgnl_build_set(struct wgnl_buf *out, uint16_t family, uint32_t seq, const char *ifname,
		   const struct wg_device *d, size_t msg_max, struct vn_err *e);

/* Appends the GET_DEVICE dump request for ifname. */
int wgnl_build_get(struct wgnl_buf *out, uint16_t family, uint32_t seq, const char *ifname,
		   struct vn_err *e);

/* Reads one WireGuard message (a GET answer or a SET request) into d,
 * adding to what is there: a first peer continuing d's last peer is
 * merged into it. Returns 0 or -1 with e set (malformed attributes). */
int wgnl_parse(const struct nlmsghdr *nlh, struct wg_device *d, struct vn_err *e);

/* wgnl_parse over every message in buf. */
int wgnl_parse_all(const void *buf, size_t len, struct wg_device *d, struct vn_err *e);

/* The socket edge. */

/* Resolves the "wireguard" family id with CTRL_CMD_GETFAMILY. Fails with
 * errno ENOENT when the kernel has no WireGuard. */
int wgnl_resolve_family(struct vn_nl *nl, uint16_t *family, struct vn_err *e);

/* GET_DEVICE as a dump, parts merged into out (already initialised). */
int wgnl_get_device(struct wg_conn *c, struct wg_device *out, struct vn_err *e);

/* SET_DEVICE in as many messages as needed, all acknowledged. */
int wgnl_set_device(struct wg_conn *c, const struct wg_device *d, struct vn_err *e);

#endif
