#include <string.h>
#include "ipam.h"

static bool in_range(const struct ipam_range *r, const struct vn_addr *a)
{
	return a->family == r->start.family && vn_addr_cmp(a, &r->start) >= 0 &&
	       vn_addr_cmp(a, &r->end) <= 0;
}

static bool is_gateway(const struct ipam_rangeset *set, const struct vn_addr *a)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->r[i].gateway.family && vn_addr_cmp(&set->r[i].gateway, a) == 0)
			return true;
	return false;
}

/* Index of the range holding a, or -1. */
static int range_of(const struct ipam_rangeset *set, const struct vn_addr *a)
{
	for (size_t i = 0; i < set->n; i++)
		if (in_range(&set->r[i], a))
			return (int)i;
	return -1;
}

bool ipam_set_allows(const struct ipam_rangeset *set, const struct vn_addr *a)
{
	return range_of(set, a) >= 0 && !is_gateway(set, a);
}

uint64_t ipam_set_size(const struct ipam_rangeset *set)
{
	uint64_t total = 0;

	for (size_t i = 0; i < set->n; i++) {
		uint64_t n = vn_addr_span(&set->r[i].start, &set->r[i].end);

		total = total + n < total ? UINT64_MAX : total + n;
	}
	for (size_t i = 0; i < set->n; i++)
		if (set->r[i].gateway.family && in_range(&set->r[i], &set->r[i].gateway) &&
		    total != UINT64_MAX)
			total--;
	return total;
}

/* Moves *a to the next address of the set, wrapping from the last range's
 * end to the first range's start; *ri tracks the range. */
static void step(const struct ipam_rangeset *set, struct vn_addr *a, size_t *ri)
{
	if (vn_addr_cmp(a, &set->r[*ri].end) >= 0) {
		*ri = (*ri + 1) % set->n;
		*a = set->r[*ri].start;
		return;
	}
	vn_addr_add(a, 1);
}

int ipam_pick(const struct ipam_rangeset *set, const struct vn_addr *last,
	      ipam_taken_fn taken, void *ctx, struct vn_addr *out)
{
	uint64_t total = 0, tries;
	struct vn_addr a;
	size_t ri = 0;
	int r = last ? range_of(set, last) : -1;

	if (set->n == 0)
		return 1;
	for (size_t i = 0; i < set->n; i++) {
		uint64_t n = vn_addr_span(&set->r[i].start, &set->r[i].end);

		total = total + n < total ? UINT64_MAX : total + n;
	}
	if (r >= 0) {
		a = *last;
		ri = (size_t)r;
		step(set, &a, &ri);
	} else {
		a = set->r[0].start;
	}
	for (tries = 0; tries < total; tries++, step(set, &a, &ri)) {
		if (is_gateway(set, &a) || taken(ctx, &a))
			continue;
		*out = a;
		return 0;
	}
	return 1;
}

int ipam_find_set(const struct ipam_rangeset *sets, size_t n, const struct vn_addr *a)
{
	for (size_t i = 0; i < n; i++)
		if (ipam_set_allows(&sets[i], a))
			return (int)i;
	return -1;
}
