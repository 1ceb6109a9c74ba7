#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <veilnet/prefix.h>

unsigned int vn_addr_size(int family)
{
	if (family == AF_INET)
		return 4;
	if (family == AF_INET6)
		return 16;
	return 0;
}

int vn_addr_parse(const char *s, struct vn_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (!s)
		return -1;
	if (inet_pton(AF_INET, s, &out->v4) == 1) {
		out->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &out->v6) == 1) {
		out->family = AF_INET6;
		return 0;
	}
	return -1;
}

const char *vn_addr_str(const struct vn_addr *a, char *buf)
{
	if (!inet_ntop(a->family, a->b, buf, VN_ADDR_STRLEN))
		snprintf(buf, VN_ADDR_STRLEN, "?");
	return buf;
}

/* One to three decimal digits, at most max. */
static int parse_len(const char *s, unsigned int max, unsigned int *out)
{
	unsigned int v = 0;
	size_t n = 0;

	for (; s[n] >= '0' && s[n] <= '9' && n < 4; n++)
		v = v * 10 + (unsigned int)(s[n] - '0');
	if (n == 0 || n > 3 || s[n] || v > max)
		return -1;
	*out = v;
	return 0;
}

int vn_prefix_parse(const char *s, struct vn_prefix *out)
{
	char buf[VN_PREFIX_STRLEN];
	char *slash;

	memset(out, 0, sizeof(*out));
	if (!s || strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (vn_addr_parse(buf, &out->addr))
		return -1;
	out->len = vn_addr_size(out->addr.family) * 8;
	if (slash)
		return parse_len(slash + 1, out->len, &out->len);
	return 0;
}

const char *vn_prefix_str(const struct vn_prefix *p, char *buf)
{
	char a[VN_ADDR_STRLEN];

	snprintf(buf, VN_PREFIX_STRLEN, "%s/%u", vn_addr_str(&p->addr, a), p->len);
	return buf;
}

static void mask_bits(uint8_t *b, unsigned int size, unsigned int len, int set)
{
	for (unsigned int i = 0; i < size; i++) {
		unsigned int bit = i * 8;
		uint8_t keep;

		if (bit + 8 <= len)
			continue;
		keep = bit >= len ? 0 : (uint8_t)(0xff << (8 - (len - bit)));
		b[i] = set ? (uint8_t)(b[i] | ~keep) : (uint8_t)(b[i] & keep);
	}
}

void vn_prefix_canon(struct vn_prefix *p)
{
	mask_bits(p->addr.b, vn_addr_size(p->addr.family), p->len, 0);
}

void vn_prefix_last(const struct vn_prefix *p, struct vn_addr *out)
{
	*out = p->addr;
	mask_bits(out->b, vn_addr_size(out->family), p->len, 1);
}

bool vn_prefix_contains(const struct vn_prefix *p, const struct vn_addr *a)
{
	struct vn_prefix net = *p, other = { .addr = *a, .len = p->len };

	if (p->addr.family != a->family)
		return false;
	vn_prefix_canon(&net);
	vn_prefix_canon(&other);
	return memcmp(net.addr.b, other.addr.b, vn_addr_size(a->family)) == 0;
}

bool vn_prefix_overlaps(const struct vn_prefix *a, const struct vn_prefix *b)
{
	const struct vn_prefix *wide = a->len <= b->len ? a : b;
	const struct vn_prefix *narrow = wide == a ? b : a;

	return vn_prefix_contains(wide, &narrow->addr);
}

int vn_addr_cmp(const struct vn_addr *a, const struct vn_addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->b, b->b, vn_addr_size(a->family));
}

void vn_addr_add(struct vn_addr *a, uint64_t delta)
{
	unsigned int size = vn_addr_size(a->family);

	for (unsigned int i = size; i-- > 0 && delta;) {
		uint64_t sum = (uint64_t)a->b[i] + (delta & 0xff);

		a->b[i] = (uint8_t)sum;
		delta = (delta >> 8) + (sum >> 8);
	}
}

static unsigned __int128 addr_to_u128(const struct vn_addr *a)
{
	unsigned __int128 v = 0;

	for (unsigned int i = 0; i < vn_addr_size(a->family); i++)
		v = (v << 8) | a->b[i];
	return v;
}

uint64_t vn_addr_span(const struct vn_addr *lo, const struct vn_addr *hi)
{
	unsigned __int128 diff;

	if (lo->family != hi->family || vn_addr_cmp(lo, hi) > 0)
		return 0;
	diff = addr_to_u128(hi) - addr_to_u128(lo);
	return diff >= UINT64_MAX ? UINT64_MAX : (uint64_t)diff + 1;
}
