/* prefix.h - IPv4/IPv6 addresses and prefixes as plain values.
 *
 * struct vn_addr holds either family in network byte order; struct vn_prefix
 * adds a prefix length. No allocation anywhere: everything is by value.
 */
#ifndef VEILNET_PREFIX_H
#define VEILNET_PREFIX_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

struct vn_addr {
	int family;		/* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
		uint8_t b[16];	/* first 4 bytes for AF_INET */
	};
};

struct vn_prefix {
	struct vn_addr addr;
	unsigned int len;	/* 0..32 or 0..128 */
};

/* Longest text forms, including the NUL. */
#define VN_ADDR_STRLEN 46
#define VN_PREFIX_STRLEN 50

/* Size of the address in bytes (4 or 16); 0 for an unknown family. */
unsigned int vn_addr_size(int family);

/* Parses "10.0.0.1" or "fd00::1". Returns 0, or -1 on bad input. */
int vn_addr_parse(const char *s, struct vn_addr *out);

/* Writes the text form into buf (VN_ADDR_STRLEN bytes) and returns buf. */
const char *vn_addr_str(const struct vn_addr *a, char *buf);

/* Parses "10.0.0.0/24" or "fd00::/64". A bare address means /32 or /128.
 * Host bits are kept as given; see vn_prefix_canon. Returns 0 or -1. */
int vn_prefix_parse(const char *s, struct vn_prefix *out);

/* Writes "addr/len" into buf (VN_PREFIX_STRLEN bytes) and returns buf. */
const char *vn_prefix_str(const struct vn_prefix *p, char *buf);

/* Clears the host bits, so the address is the network's first address. */
void vn_prefix_canon(struct vn_prefix *p);

/* True if a lies inside p (same family and same first p->len bits). */
bool vn_prefix_contains(const struct vn_prefix *p, const struct vn_addr *a);

/* True if the two prefixes share any address. */
bool vn_prefix_overlaps(const struct vn_prefix *a, const struct vn_prefix *b);

/* Orders addresses: by family, then numerically. Returns <0, 0, >0. */
int vn_addr_cmp(const struct vn_addr *a, const struct vn_addr *b);

/* *a += delta as a big-endian number (wraps within the family's size). */
void vn_addr_add(struct vn_addr *a, uint64_t delta);

/* Number of addresses from lo to hi inclusive, saturated at UINT64_MAX;
 * 0 if hi < lo or the families differ. */
uint64_t vn_addr_span(const struct vn_addr *lo, const struct vn_addr *hi);

/* The last address of the prefix (all host bits set). */
void vn_prefix_last(const struct vn_prefix *p, struct vn_addr *out);

#endif
