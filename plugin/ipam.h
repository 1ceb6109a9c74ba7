/* ipam.h - the pure address allocator (no I/O).
 *
 * Picks addresses from a range set like host-local does: round-robin,
 * continuing after the last address handed out, so a freed address is not
 * reused at once. Whether an address is taken is asked through a callback,
 * so the on-disk store (store.h) and the unit tests can both drive it.
 */
#ifndef PLUGIN_IPAM_H
#define PLUGIN_IPAM_H

#include <stdbool.h>
#include <stdint.h>
#include <veilnet/err.h>
#include "config.h"

/* Returns true if a is reserved; ctx is the caller's. */
typedef bool (*ipam_taken_fn)(void *ctx, const struct vn_addr *a);

/* True if a can ever be handed out by set: inside one of its ranges
 * (start..end) and not a range's gateway. */
bool ipam_set_allows(const struct ipam_rangeset *set, const struct vn_addr *a);

/* Number of addresses set can hand out (saturated at UINT64_MAX). */
uint64_t ipam_set_size(const struct ipam_rangeset *set);

/* Picks the first free address after last (NULL or outside the set: from
 * the first range's start), wrapping around once. Returns 0 with *out set,
 * or 1 if every address of the set is taken. */
int ipam_pick(const struct ipam_rangeset *set, const struct vn_addr *last,
	      ipam_taken_fn taken, void *ctx, struct vn_addr *out);

/* Finds the range set of sets[0..n) that may hand out a; -1 if none. */
int ipam_find_set(const struct ipam_rangeset *sets, size_t n, const struct vn_addr *a);

#endif
