/* vec.h - growable arrays: a pointer, a count and a capacity. */
#ifndef NETPOL_VEC_H
#define NETPOL_VEC_H

#include <stddef.h>

/* Appends one zeroed elem-sized slot to *arr (n entries, room for cap),
 * doubling the room when it is full (first 8). Returns the slot, or NULL
 * when out of memory (*arr, *n and *cap are then unchanged). */
void *vec_push(void **arr, size_t *n, size_t *cap, size_t elem);

/* Binary search in an array of n elem-sized entries sorted (by strcmp)
 * on the string whose pointer stands name_off bytes into each entry (0
 * for an array of char *). Returns the index of the entry whose string is
 * name, or -1. */
long vec_find_str(const void *arr, size_t n, size_t elem, size_t name_off, const char *name);

#endif
