/* name.h - deterministic host-side interface names.
 *
 * The host end of a pod's veth is named "vn" + 13 hex digits taken from a
 * 64-bit FNV-1a hash of containerID + "/" + ifname, so DEL, CHECK and GC
 * find it from the attachment alone, without any state. The same name keys
 * the attachment's record in the IPAM store.
 */
#ifndef PLUGIN_NAME_H
#define PLUGIN_NAME_H

#include <stddef.h>
#include <stdint.h>

#define HOST_IFNAME_PREFIX "vn"
#define HOST_IFNAME_LEN 15	/* "vn" + 13 hex digits */

/* 64-bit FNV-1a of len bytes, continuing from h (start with NAME_FNV_INIT). */
#define NAME_FNV_INIT 0xcbf29ce484222325ULL
uint64_t name_fnv1a(uint64_t h, const void *data, size_t len);

/* Writes the host interface name (HOST_IFNAME_LEN chars + NUL) into out:
 * "vn" followed by the top 52 bits of fnv1a(container_id "/" ifname) in
 * lower-case hex. */
void name_host_ifname(const char *container_id, const char *ifname, char out[16]);

/* True if s looks like a host interface name made by name_host_ifname. */
int name_is_host_ifname(const char *s);

#endif
