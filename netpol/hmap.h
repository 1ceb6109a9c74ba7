/* hmap.h - a small open-addressing map from 64-bit hashes to indices.
 *
 * Keys are already hashes (nr_hash of a name); 0 is a valid key. The map
 * owns its arrays; a zeroed struct is an empty map.
 */
#ifndef NETPOL_HMAP_H
#define NETPOL_HMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hmap {
	uint64_t *keys;
	size_t *vals;		/* SIZE_MAX marks a free slot */
	size_t cap, n;
};

/* Finds key; true with *val set if present. */
bool hmap_get(const struct hmap *h, uint64_t key, size_t *val);

/* Inserts or replaces. Returns 0, or -1 if out of memory. */
int hmap_put(struct hmap *h, uint64_t key, size_t val);

/* Removes key if present. */
void hmap_del(struct hmap *h, uint64_t key);

void hmap_free(struct hmap *h);

#endif
