/* netns.h - entering a network namespace and coming back.
 *
 * The caller owns the returned fd and must hand it to vn_netns_leave.
 * Only the calling thread changes namespace (setns).
 */
#ifndef VEILNET_NETNS_H
#define VEILNET_NETNS_H

#include <veilnet/err.h>

/* Opens a netns path (e.g. /var/run/netns/x or /proc/PID/ns/net).
 * Returns an fd, or -1 with e set (code 5 naming the path). */
int vn_netns_open(const char *path, struct vn_err *e);

/* Switches this thread to the netns at path. On success returns an fd
 * for the namespace we were in, to pass to vn_netns_leave; -1 with e set
 * on failure (nothing changed then). */
int vn_netns_enter(const char *path, struct vn_err *e);

/* Switches back to the namespace saved by vn_netns_enter and closes it.
 * Returns 0, or -1 with e set. */
int vn_netns_leave(int saved_fd, struct vn_err *e);

#endif
