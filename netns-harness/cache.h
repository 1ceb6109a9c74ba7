/* cache.h - the runtime's result cache, in libcni's format and place: one
 * file per attachment, CACHE_DIR/results/<network>-<containerID>-<ifname>
 * (mode 0600, the directory 0700), holding what CHECK and DEL pass as
 * prevResult and what GC takes as the network's attachments. A libcni
 * runtime reads cni-test's entries and the other way round.
 *
 * File format (JSON, libcni's cachedInfo): {"kind": "cniCacheV1",
 * "containerId", "config": <the network configuration list's bytes, base64
 * as Go encodes a []byte>, "ifName", "networkName", "netns" (left out when
 * empty), "cniArgs": [["K", "V"], ...] (left out when empty),
 * "capabilityArgs": {...} (left out when empty), "result": <the ADD result
 * as libcni encodes it>}.
 */
#ifndef CNT_CACHE_H
#define CNT_CACHE_H

#include <stddef.h>
#include <jansson.h>
#include <veilnet/err.h>
#include "conf.h"

#define CNT_CACHE_DEFAULT "/var/lib/cni"	/* libcni's CacheDir */
#define CNT_CACHE_ENV "CNI_TEST_CACHE_DIR"	/* overrides the default */

/* One attachment as the cache records it (libcni's RuntimeConf). */
struct cnt_attachment {
	const char *cid;
	const char *ifname;
	const char *netns;		/* "" or NULL: left out */
	const char *cni_args;		/* CNI_ARGS, stored as pairs; "" or NULL: left out */
	const json_t *capability_args;	/* the runtime's capability arguments, or NULL */
};

/* The cache file of one attachment; '/' in names becomes '_'. Returns 0,
 * or -1 with e set if it does not fit in len bytes. */
int cnt_cache_path(char *buf, size_t len, const char *cache_dir, const char *net,
		   const char *cid, const char *ifname, struct vn_err *e);

/* Builds a cache entry (pure). Returns a new reference, NULL when out of
 * memory. */
json_t *cnt_cache_entry(const struct cnt_net *n, const struct cnt_attachment *a,
			const json_t *result);

/* Writes entry to path atomically (creating the directory, 0700). */
int cnt_cache_store(const char *path, const json_t *entry, struct vn_err *e);

/* Reads the result stored at path: a cniCacheV1 entry's "result", or, as
 * libcni does with any other JSON object, the whole file (the cache format
 * before cniCacheV1). Returns a new reference; NULL with e->code == 0 if
 * there is no such file, NULL with e set on a bad file. */
json_t *cnt_cache_result(const char *path, struct vn_err *e);

/* The cniCacheV1 entries (whole objects) of network net with a non-empty
 * ifName, in file name order, as libcni's GetCachedAttachments lists them
 * (an empty array if there is no results directory). NULL with e set on
 * failure. */
json_t *cnt_cache_entries(const char *cache_dir, const char *net, struct vn_err *e);

/* The same as a cni.dev/valid-attachments array
 * ([{"containerID": .., "ifname": ..}]). NULL with e set on failure. */
json_t *cnt_cache_attachments(const char *cache_dir, const char *net, struct vn_err *e);

/* Standard base64 with padding (Go's encoding of a []byte in JSON).
 * Returns a malloc'd string, NULL when out of memory. */
char *cnt_base64(const void *data, size_t len);

#endif
