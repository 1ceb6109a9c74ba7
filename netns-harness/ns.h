/* ns.h - named network namespaces, as `ip netns` keeps them: a file
 * /var/run/netns/NAME with the namespace bind-mounted on it.
 *
 * A NAME without '/' means /var/run/netns/NAME; anything with a '/' is
 * taken as a path. None of these changes the caller's namespace for good.
 */
#ifndef CNT_NS_H
#define CNT_NS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <veilnet/err.h>

#define CNT_NETNS_DIR "/var/run/netns"

/* Writes the path of a netns name (or the path itself) into buf. */
int cnt_ns_path(const char *name, char *buf, size_t len, struct vn_err *e);

/* Creates netns NAME with lo up (fails if it exists). */
int cnt_ns_create(const char *name, struct vn_err *e);

/* Unmounts and removes netns NAME; a missing one is fine. */
int cnt_ns_delete(const char *name, struct vn_err *e);

/* True if the netns file exists. */
bool cnt_ns_exists(const char *name);

/* The namespace's inode number (the identity /proc/PID/ns/net shows), or 0. */
ino_t cnt_ns_inode(const char *name);

/* Kills (SIGKILL) every process, other than this one, whose network
 * namespace is one of inos[0..n), and waits until they are gone (at most
 * a few seconds). Returns how many were killed. */
int cnt_ns_kill(const ino_t *inos, size_t n);

/* Enters netns name and execs argv (PATH search). Returns only on failure,
 * with e set. */
int cnt_ns_exec(const char *name, char **argv, struct vn_err *e);

/* Writes val to /proc/sys/<key> (e.g. "net/ipv4/ip_forward") in the current
 * network namespace. */
int cnt_sysctl(const char *key, const char *val, struct vn_err *e);

/* Enters netns name, runs fn(ctx, e), comes back. Returns fn's result, or
 * -1 with e set if the namespace could not be entered or left. */
int cnt_ns_run(const char *name, int (*fn)(void *ctx, struct vn_err *e), void *ctx,
	       struct vn_err *e);

#endif
