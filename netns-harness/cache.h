/* cache.h - the runtime's result cache, like libcni's: one file per
 * attachment under CACHE_DIR/results/<network>-<containerID>-<ifname>,
 * holding the ADD result that CHECK and DEL pass as prevResult and the
 * attachment list GC passes as cni.dev/valid-attachments.
 *
 * File format (JSON): {"kind": "cniCacheV1", "containerId", "ifName",
 * "networkName", "cniArgs": "K=V;...", "netns", "config": <the network
 * configuration>, "result": <the ADD result>}.
 */
#ifndef CNT_CACHE_H
#define CNT_CACHE_H

#include <stddef.h>
#include <jansson.h>
#include <veilnet/err.h>
#include "conf.h"

#define CNT_CACHE_DEFAULT "/var/lib/cni/cni-test"

/* The cache file of one attachment; '/' in names becomes '_'. Returns 0,
 * or -1 with e set if it does not fit in len bytes. */
int cnt_cache_path(char *buf, size_t len, const char *cache_dir, const char *net,
		   const char *cid, const char *ifname, struct vn_err *e);

/* Builds a cache entry (pure). Returns a new reference. */
json_t *cnt_cache_entry(const struct cnt_net *n, const char *cid, const char *ifname,
			const char *netns, const char *cni_args, const json_t *result);

/* Writes entry to path atomically (creating the directory). */
int cnt_cache_store(const char *path, const json_t *entry, struct vn_err *e);

/* Reads the result stored at path. Returns a new reference; NULL with
 * e->code == 0 if there is no such file, NULL with e set on a bad file. */
json_t *cnt_cache_result(const char *path, struct vn_err *e);

/* The attachments cached for network net: a valid-attachments array
 * (empty if the directory does not exist). NULL with e set on failure. */
json_t *cnt_cache_attachments(const char *cache_dir, const char *net, struct vn_err *e);

#endif
