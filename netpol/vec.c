/* vec.c - growable arrays. */
#include <stdlib.h>
#include <string.h>
#include "vec.h"

void *vec_push(void **arr, size_t *n, size_t *cap, size_t elem)
{
	char *p;

	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 8;

		p = realloc(*arr, c * elem);
		if (!p)
			return NULL;
		*arr = p;
		*cap = c;
	}
	p = (char *)*arr + *n * elem;
	memset(p, 0, elem);
	(*n)++;
	return p;
}

long vec_find_str(const void *arr, size_t n, size_t elem, size_t name_off, const char *name)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const char *at;
		int c;

		memcpy(&at, (const char *)arr + mid * elem + name_off, sizeof(at));
		c = strcmp(at, name);
		if (!c)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}
