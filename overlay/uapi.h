/* uapi.h - the userspace backend: WireGuard's cross-platform UAPI.
 *
 * wireguard-go (and boringtun) serve a text protocol on the unix socket
 * /var/run/wireguard/<ifname>.sock: "get=1\n\n" answers key=value lines
 * ending in "errno=0\n\n"; "set=1\n" followed by key=value lines and an
 * empty line applies a change. Keys travel in hex.
 *
 * uapi_encode_set and uapi_parse are pure; uapi_parse reads both a get
 * answer and a set request, so unit tests parse back what was encoded.
 */
#ifndef VEILNET_OVERLAY_UAPI_H
#define VEILNET_OVERLAY_UAPI_H

#include <stddef.h>
#include <sys/types.h>
#include "wg.h"

/* Encodes d as a complete "set=1" request ending with the empty line.
 * *out is malloc'd, NUL-terminated and owned by the caller, who should
 * wipe it (it may hold the private key) with uapi_text_free. */
int uapi_encode_set(const struct wg_device *d, char **out, size_t *len, struct vn_err *e);

/* Wipes and frees a text from uapi_encode_set or the socket. */
void uapi_text_free(char *text, size_t len);

/* Parses key=value lines up to the first empty line or the end of text
 * into d (initialised by the caller). "errno=N" with N != 0 is an error
 * (errno is set to |N|: wireguard-go answers -98 for EADDRINUSE); unknown
 * keys are skipped. Returns 0 or -1 with e. */
int uapi_parse(const char *text, size_t len, struct wg_device *d, struct vn_err *e);

/* Writes "addr:port" or "[addr]:port" into buf (64 bytes). */
const char *uapi_endpoint_str(const struct vn_addr *a, uint16_t port, char *buf);

/* Parses "addr:port" or "[addr]:port". Returns 0 or -1. */
int uapi_endpoint_parse(const char *s, struct vn_addr *a, uint16_t *port);

/* Sends request (len bytes) to the socket and reads the answer up to its
 * empty line. *answer is malloc'd and owned by the caller. A socket that
 * is absent or refuses gives -1 with errno ENOENT or ECONNREFUSED. The
 * server must be root or this user (SO_PEERCRED) and the socket file not
 * writable by group or others, else -1 with errno EACCES and nothing is
 * sent: the requests carry the private key, and get=1 answers it. When
 * the server answers an error and closes before the whole request is
 * written (wireguard-go stops at the first line it refuses), its answer
 * ("errno=N") is returned, as wg(8) reports it. */
int uapi_talk(struct wg_conn *c, const char *request, size_t len, char **answer,
	      size_t *answer_len, struct vn_err *e);

/* The backend functions behind wg_get_device / wg_set_device. */
int uapi_get_device(struct wg_conn *c, struct wg_device *out, struct vn_err *e);
int uapi_set_device(struct wg_conn *c, const struct wg_device *d, struct vn_err *e);

/* True if something listens on the socket at path (it accepts a
 * connection). */
bool uapi_alive(const char *path);

/* The pid of the process serving the socket at path (SO_PEERCRED), 0 if
 * none answers. */
pid_t uapi_server_pid(const char *path);

#endif
