#include <stdlib.h>
#include "hmap.h"

static size_t slot_of(uint64_t key, size_t cap)
{
	return (size_t)((key ^ (key >> 29)) * 0x9e3779b97f4a7c15ULL) & (cap - 1);
}

bool hmap_get(const struct hmap *h, uint64_t key, size_t *val)
{
	if (!h->cap)
		return false;
	for (size_t i = slot_of(key, h->cap);; i = (i + 1) & (h->cap - 1)) {
		if (h->vals[i] == SIZE_MAX)
			return false;
		if (h->keys[i] == key) {
			*val = h->vals[i];
			return true;
		}
	}
}

static int grow(struct hmap *h)
{
	size_t cap = h->cap ? h->cap * 2 : 64;
	struct hmap g = {
		.keys = malloc(cap * sizeof(uint64_t)),
		.vals = malloc(cap * sizeof(size_t)),
		.cap = cap,
	};

	if (!g.keys || !g.vals) {
		hmap_free(&g);
		return -1;
	}
	for (size_t i = 0; i < cap; i++)
		g.vals[i] = SIZE_MAX;
	for (size_t i = 0; i < h->cap; i++)
		if (h->vals[i] != SIZE_MAX)
			hmap_put(&g, h->keys[i], h->vals[i]);
	hmap_free(h);
	*h = g;
	return 0;
}

int hmap_put(struct hmap *h, uint64_t key, size_t val)
{
	if ((h->n + 1) * 2 > h->cap && grow(h))
		return -1;
	for (size_t i = slot_of(key, h->cap);; i = (i + 1) & (h->cap - 1)) {
		if (h->vals[i] == SIZE_MAX) {
			h->keys[i] = key;
			h->vals[i] = val;
			h->n++;
			return 0;
		}
		if (h->keys[i] == key) {
			h->vals[i] = val;
			return 0;
		}
	}
}

void hmap_del(struct hmap *h, uint64_t key)
{
	size_t i, j;

	if (!h->cap)
		return;
	for (i = slot_of(key, h->cap);; i = (i + 1) & (h->cap - 1)) {
		if (h->vals[i] == SIZE_MAX)
			return;
		if (h->keys[i] == key)
			break;
	}
	/* Backward-shift: move later entries of the probe run into the hole. */
	for (j = (i + 1) & (h->cap - 1); h->vals[j] != SIZE_MAX; j = (j + 1) & (h->cap - 1)) {
		size_t home = slot_of(h->keys[j], h->cap);

		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			h->keys[i] = h->keys[j];
			h->vals[i] = h->vals[j];
			i = j;
		}
	}
	h->vals[i] = SIZE_MAX;
	h->n--;
}

void hmap_free(struct hmap *h)
{
	free(h->keys);
	free(h->vals);
	h->keys = NULL;
	h->vals = NULL;
	h->cap = h->n = 0;
}
