/* keys.h - the node's WireGuard key pair (X25519, libsodium).
 *
 * The private key lives in one file, in base64 on one line like wg(8)'s
 * key files: mode 0600, owned by root. It is never printed or logged;
 * only the public key leaves this module as text. sodium_init() must have
 * been called (main does).
 */
#ifndef VEILNET_OVERLAY_KEYS_H
#define VEILNET_OVERLAY_KEYS_H

#include <stdbool.h>
#include "wg.h"

/* A fresh private key: 32 random bytes clamped as Curve25519 wants
 * (what `wg genkey` writes). */
void keys_generate(struct wg_key *priv);

/* The public key of priv (X25519 scalar multiplication of the base point). */
void keys_public(const struct wg_key *priv, struct wg_key *pub);

/* Creates the key file at path with a new key and returns its public key.
 * The parent directory is created (0700) if missing. The key is written
 * to a private temp file (O_EXCL, 0600, fsync'd) that is then linked to
 * path, so an existing file is never overwritten (EEXIST error) unless
 * replace is true, in which case it is renamed over path atomically.
 * Returns 0 or -1 with e set. */
int keys_create(const char *path, bool replace, struct wg_key *pub, struct vn_err *e);

/* Reads the private key from path, as wg(8) reads a key file: the base64
 * key, then nothing but whitespace (a newline, CRLF, blank lines). A
 * symlink is followed (a Kubernetes Secret volume's files are links).
 * Refuses a file that group or others may access or that belongs to
 * another user. Returns 0 or -1 with e set (the message names the file,
 * never its content). */
int keys_load(const char *path, struct wg_key *priv, struct vn_err *e);

#endif
