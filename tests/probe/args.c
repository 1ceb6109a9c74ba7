/* args.c - parsing vn-probe's port lists, addresses and targets. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "probe.h"

static int parse_port(const char *s, char **end, uint16_t *out)
{
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, end, 10);
	if (errno || v < 1 || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

int probe_parse_ports(const char *s, uint16_t *ports, int max)
{
	int n = 0;
	uint16_t lo, hi;
	char *end;

	if (!s || !*s)
		return -1;
	for (;;) {
		if (parse_port(s, &end, &lo) < 0)
			return -1;
		hi = lo;
		if (*end == '-' && parse_port(end + 1, &end, &hi) < 0)
			return -1;
		if (hi < lo)
			return -1;
		for (unsigned int p = lo; p <= hi; p++) {
			if (n == max)
				return -1;
			ports[n++] = (uint16_t)p;
		}
		if (*end == '\0')
			return n;
		if (*end != ',')
			return -1;
		s = end + 1;
	}
}

int probe_proto_num(const char *name)
{
	if (!strcmp(name, "tcp"))
		return IPPROTO_TCP;
	if (!strcmp(name, "udp"))
		return IPPROTO_UDP;
	if (!strcmp(name, "sctp"))
		return IPPROTO_SCTP;
	return -1;
}

int probe_parse_addr(const char *s, struct sockaddr_storage *ss,
		     socklen_t *len)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		*len = sizeof(*a4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		*len = sizeof(*a6);
		return 0;
	}
	return -1;
}

/* Splits "HOST:PORT" or "[HOST]:PORT" into host (copied) and port. */
static int split_host_port(const char *s, char *host, size_t hostcap,
			   const char **port)
{
	const char *colon, *hs = s;
	size_t hl;

	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -1;
		hs = s + 1;
		hl = (size_t)(close - hs);
		*port = close + 2;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return -1;	/* bare IPv6 must be bracketed */
		hl = (size_t)(colon - s);
		*port = colon + 1;
	}
	if (hl == 0 || hl >= hostcap)
		return -1;
	memcpy(host, hs, hl);
	host[hl] = '\0';
	return 0;
}

int probe_parse_target(const char *spec, struct probe_target *t)
{
	char proto[8], host[64];
	const char *colon = strchr(spec, ':'), *port;
	uint16_t p;
	char *end;

	memset(t, 0, sizeof(*t));
	if (!colon || (size_t)(colon - spec) >= sizeof(proto))
		return -1;
	memcpy(proto, spec, (size_t)(colon - spec));
	proto[colon - spec] = '\0';
	t->proto = probe_proto_num(proto);
	if (t->proto < 0)
		return -1;
	if (split_host_port(colon + 1, host, sizeof(host), &port) < 0)
		return -1;
	if (parse_port(port, &end, &p) < 0 || *end)
		return -1;
	if (probe_parse_addr(host, &t->addr, &t->addrlen) < 0)
		return -1;
	if (t->addr.ss_family == AF_INET)
		((struct sockaddr_in *)&t->addr)->sin_port = htons(p);
	else
		((struct sockaddr_in6 *)&t->addr)->sin6_port = htons(p);
	return 0;
}
