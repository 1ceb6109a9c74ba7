#include <stdio.h>
#include <string.h>
#include "name.h"

uint64_t name_fnv1a(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

void name_host_ifname(const char *container_id, const char *ifname, char out[16])
{
	uint64_t h = NAME_FNV_INIT;

	h = name_fnv1a(h, container_id, strlen(container_id));
	h = name_fnv1a(h, "/", 1);
	h = name_fnv1a(h, ifname, strlen(ifname));
	snprintf(out, 16, HOST_IFNAME_PREFIX "%013llx", (unsigned long long)(h >> 12));
}

int name_is_host_ifname(const char *s)
{
	if (strlen(s) != HOST_IFNAME_LEN || strncmp(s, HOST_IFNAME_PREFIX, 2) != 0)
		return 0;
	for (const char *p = s + 2; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return 1;
}
