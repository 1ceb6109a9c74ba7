/* sysctl.h - /proc/sys/net values of the current network namespace.
 * Paths are opened after any setns, so they act on the netns we are in. */
#ifndef PLUGIN_SYSCTL_H
#define PLUGIN_SYSCTL_H

#include <veilnet/err.h>

/* Writes value to /proc/sys/<key> (key like "net/ipv4/ip_forward").
 * Returns 0 or -1 with e set (code 5). */
int sysctl_set(const char *key, const char *value, struct vn_err *e);

/* Sets key to value unless it already reads value. */
int sysctl_ensure(const char *key, const char *value, struct vn_err *e);

/* Writes value to net/ipv6/conf/<ifname>/<name>. */
int sysctl_set_if6(const char *ifname, const char *name, const char *value, struct vn_err *e);

/* Ensures net/ipv6/conf/<ifname>/<name> reads value. */
int sysctl_ensure_if6(const char *ifname, const char *name, const char *value, struct vn_err *e);

#endif
