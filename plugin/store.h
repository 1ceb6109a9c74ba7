/* store.h - the on-disk IPAM store of one network (its data directory).
 *
 * Layout of the data directory (default /var/lib/cni/veilnet/<network>):
 *   lock              flock(2)ed around every change; its content is the
 *                     round-robin hint "<last IPv4>,<last IPv6>\n" (losing
 *                     it only restarts allocation at the range start)
 *   vn<13 hex>.json   one record per attachment (container ID + ifname),
 *                     named after its host interface (name.h); JSON with
 *                     containerID, ifname, hostIfname, netns, ips,
 *                     K8S_POD_NAMESPACE, K8S_POD_NAME, ipam
 *   ip-<address>      a hard link of the record holding that address: the
 *                     reservation of the address (readable like the record)
 *
 * An address is taken if and only if ip-<address> exists, is the same
 * inode as the record its content names, and that record lists the
 * address. ADD writes the record to a temp file, fsyncs it, hard-links the
 * ip- names to it and only then renames it into place (store_commit); DEL
 * removes the record first and then its links. So a crash at any instant
 * leaves a consistent store: a link whose record is gone, was never
 * renamed into place, or is another inode is stale, i.e. free, and is
 * replaced by the next allocation or removed by GC. No index exists that
 * could disagree with the records.
 *
 * Changes are atomic, not synchronously durable: the directory is not
 * fsynced after a rename or unlink. A power loss may forget the last
 * changes, never mix them: a record that made it to disk was fsynced
 * whole before its rename, and a lost rename or unlink leaves only stale
 * links or a record that GC releases. Nothing is lost that matters, since
 * every attachment (its netns and veth) dies with the node anyway; the
 * runtime wires new sandboxes after a reboot. Functions marked "locked"
 * must run between store_lock and store_unlock.
 */
#ifndef PLUGIN_STORE_H
#define PLUGIN_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include <veilnet/err.h>
#include <veilnet/prefix.h>
#include "config.h"

#define STORE_MAX_IPS 4
#define STORE_RECNAME_MAX 32	/* "vn<13 hex>.json" + NUL fits */

struct store {
	int dirfd;
	int lockfd;
	int tmpfd;			/* store_prepare's temp file, or -1 */
	bool hint_loaded;		/* last4, last6 read from the lock file */
	struct vn_addr last4, last6;	/* the round-robin hint (family 0: none) */
	char tmpname[STORE_RECNAME_MAX + 24];
	char dir[CFG_PATH_MAX];
};

/* One attachment's record. Strings borrow from the writer's data, or from
 * root after store_record_parse (freed by store_record_free). */
struct store_record {
	const char *container_id;
	const char *ifname;
	const char *host_ifname;
	const char *netns;
	const char *pod_namespace;
	const char *pod_name;
	const char *ipam;		/* "veilnet" or the delegated plugin */
	struct vn_addr ips[STORE_MAX_IPS];
	size_t n_ips;
	json_t *root;
};

/* Opens (and with create, makes) the data directory. A zeroed or failed
 * store is safe to close. Returns 0 or -1 with e set (code 5). */
int store_open(struct store *s, const char *dir, bool create, struct vn_err *e);
void store_close(struct store *s);

/* Takes / drops the exclusive lock (released by the kernel if we die). */
int store_lock(struct store *s, struct vn_err *e);
void store_unlock(struct store *s);

/* Record file name for a host interface name: "<host>.json". */
void store_recname(const char *host_ifname, char out[STORE_RECNAME_MAX]);

/* Serializes r (pure). Returns malloc'd text or NULL (out of memory). */
char *store_record_json(const struct store_record *r);

/* Parses record text (pure). Returns 0 or -1 with e set (code 6). */
int store_record_parse(const char *text, size_t len, struct store_record *r, struct vn_err *e);
void store_record_free(struct store_record *r);

/* True if address a is taken (see above). Locked for a reliable answer. */
bool store_ip_taken(struct store *s, const struct vn_addr *a);

/* Locked. Chooses one address per range set of c (nothing is written):
 * requested addresses (req, at most one per family) where given, else the
 * next free one round-robin after the last handed out. Writes them (one
 * per set, in set order) into out. Errors: code 11 when a range set is
 * exhausted, 7 for a requested address outside every range or in use. */
int store_reserve(struct store *s, const struct plugin_config *c, const char *recname,
		  const struct vn_addr *req, size_t n_req, struct vn_addr *out, size_t *n_out,
		  struct vn_err *e);

/* Locked. Writes record r as recname atomically (temp file, fsync, rename)
 * and, with reserve, makes the ip- links of its addresses (and moves the
 * round-robin hint): the reservation is committed by the final rename. On
 * failure nothing of it is left. Same as store_stage, then store_finish. */
int store_commit(struct store *s, const char *recname, const struct store_record *r,
		 bool reserve, struct vn_err *e);

/* Creates the temp file store_stage will write recname through, so that
 * this (the slow part on some file systems) may happen before taking the
 * lock. Optional; store_close removes it if it was not used. */
int store_prepare(struct store *s, const char *recname, struct vn_err *e);

/* Locked. The first half of store_commit: writes r to the temp file (not
 * yet fsynced). On failure the temp file is gone. */
int store_stage(struct store *s, const char *recname, const struct store_record *r,
		struct vn_err *e);

/* Locked. The second half: fsyncs the temp file, links ips (the ones to
 * reserve; none for a record of delegated IPAM) to it, renames it to
 * recname and moves the round-robin hint. On failure nothing of the
 * record is left. */
int store_finish(struct store *s, const char *recname, const struct vn_addr *ips, size_t n_ips,
		 struct vn_err *e);

/* Reads a record. Returns 0 (r filled, free it), 1 if there is none, or -1
 * with e set. */
int store_get_record(struct store *s, const char *recname, struct store_record *r,
		     struct vn_err *e);

/* Locked. Releases an attachment: removes its record, then its links.
 * If old is given it receives the record that was there (n_ips 0 and
 * host_ifname NULL if none; free it). Missing is fine. Returns 0 or -1. */
int store_release(struct store *s, const char *recname, struct store_record *old,
		  struct vn_err *e);

/* Locked. Returns 0 if set has a free address now, 1 if exhausted. */
int store_set_has_free(struct store *s, const struct ipam_rangeset *set);

/* Called by store_gc for each record that is not kept; the record is
 * released after the call. */
typedef void (*store_gc_fn)(void *ctx, const struct store_record *r);

/* Locked. Garbage collection: every record whose name keep() rejects is
 * passed to drop() and released; then stale ip- links and temp files are
 * removed. Returns the number of records released, or -1 with e set. */
int store_gc(struct store *s, bool (*keep)(void *ctx, const char *recname),
	     store_gc_fn drop, void *ctx, struct vn_err *e);

#endif
