/* server.c - vn-probe server: listens on every port x protocol given.
 *
 * TCP: accept and close. UDP: echo the datagram back, from the address it
 * was sent to. SCTP: one raw protocol-132 socket per family; an INIT to one
 * of our ports is answered with an INIT-ACK (an ABORT would be a real
 * stack's answer for other ports; we stay silent there).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/ip.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include "probe.h"

enum srv_kind { SRV_TCP, SRV_UDP, SRV_SCTP };

struct srv_sock {
	int fd;
	enum srv_kind kind;
	int family;
};

#define SRV_MAX (PROBE_MAX_PORTS * 4 + 2)

struct server {
	const struct probe_server_opts *o;
	struct srv_sock socks[SRV_MAX];
	int n;
};

static uint32_t random32(void)
{
	uint32_t v = 0;

	while (v == 0)
		if (getrandom(&v, sizeof(v), 0) != sizeof(v))
			v = (uint32_t)getpid() * 2654435761u;
	return v;
}

/* Fills a wildcard address of the family with the port. */
static socklen_t any_addr(int family, uint16_t port,
			  struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		return sizeof(*a);
	}
	struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

	a->sin6_family = AF_INET6;
	a->sin6_port = htons(port);
	return sizeof(*a);
}

static int srv_add(struct server *s, int fd, enum srv_kind kind, int family)
{
	if (s->n == SRV_MAX) {
		close(fd);
		return -1;
	}
	s->socks[s->n++] = (struct srv_sock){ fd, kind, family };
	return 0;
}

/* Options every socket of the family gets: v6 sockets are v6 only (the
 * v4 socket serves v4), and we want to learn the address a datagram was
 * sent to so the answer comes from it. */
static int set_family_opts(int fd, int family, int type)
{
	int one = 1;

	if (family == AF_INET6 && type != SOCK_RAW &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		return -1;
	if (type == SOCK_STREAM)
		return setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET)
		return setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	return setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
}

static int open_port(struct server *s, int family, int type, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = any_addr(family, port, &ss);
	int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (set_family_opts(fd, family, type) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 512) < 0)) {
		fprintf(stderr, "vn-probe server: %s port %u (%s): %s\n",
			type == SOCK_STREAM ? "tcp" : "udp", port,
			family == AF_INET ? "ipv4" : "ipv6", strerror(errno));
		close(fd);
		return -1;
	}
	return srv_add(s, fd, type == SOCK_STREAM ? SRV_TCP : SRV_UDP, family);
}

static int open_raw(struct server *s, int family)
{
	int fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
			IPPROTO_SCTP);

	if (fd < 0 || set_family_opts(fd, family, SOCK_RAW) < 0) {
		fprintf(stderr, "vn-probe server: raw sctp socket (%s): %s\n",
			family == AF_INET ? "ipv4" : "ipv6", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return srv_add(s, fd, SRV_SCTP, family);
}

static bool ipv6_usable(void)
{
	int fd = socket(AF_INET6, SOCK_DGRAM, 0);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static int open_family(struct server *s, int family)
{
	const struct probe_server_opts *o = s->o;

	for (int i = 0; i < o->nports; i++) {
		if (o->tcp && open_port(s, family, SOCK_STREAM, o->ports[i]) < 0)
			return -1;
		if (o->udp && open_port(s, family, SOCK_DGRAM, o->ports[i]) < 0)
			return -1;
	}
	if (o->sctp && open_raw(s, family) < 0)
		return -1;
	return 0;
}

static void tcp_accept_all(int fd)
{
	int c;

	while ((c = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
		close(c);
}

/* Receives one datagram (or raw packet) with the local address it was sent
 * to in *cmsg_out (a copy of the PKTINFO control message). */
struct dgram {
	uint8_t buf[2048];
	ssize_t len;
	struct sockaddr_storage from;
	socklen_t fromlen;
	union {
		char raw[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} ctl;
	size_t ctllen;
};

static int recv_dgram(int fd, struct dgram *d)
{
	struct iovec iov = { d->buf, sizeof(d->buf) };
	struct msghdr m = {
		.msg_name = &d->from, .msg_namelen = sizeof(d->from),
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = d->ctl.raw, .msg_controllen = sizeof(d->ctl.raw),
	};

	d->len = recvmsg(fd, &m, 0);
	if (d->len < 0)
		return -1;
	d->fromlen = m.msg_namelen;
	d->ctllen = m.msg_controllen;
	return 0;
}

/* Turns a received PKTINFO into the one that makes the answer leave from
 * the address the request was sent to. */
static void answer_from(struct dgram *d, int family)
{
	struct msghdr m = { .msg_control = d->ctl.raw,
			    .msg_controllen = d->ctllen };
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (family == AF_INET && c->cmsg_level == IPPROTO_IP &&
		    c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo *pi = (struct in_pktinfo *)CMSG_DATA(c);

			pi->ipi_spec_dst = pi->ipi_addr;
			pi->ipi_ifindex = 0;
		}
	}
}

static void send_answer(int fd, struct dgram *d, const uint8_t *buf,
			size_t len, int family)
{
	struct iovec iov = { (void *)buf, len };
	struct msghdr m = {
		.msg_name = &d->from, .msg_namelen = d->fromlen,
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = d->ctllen ? d->ctl.raw : NULL,
		.msg_controllen = d->ctllen,
	};

	answer_from(d, family);
	if (sendmsg(fd, &m, 0) < 0 && errno != EAGAIN)
		fprintf(stderr, "vn-probe server: send: %s\n", strerror(errno));
}

static void udp_echo_all(int fd, int family)
{
	struct dgram d;

	while (recv_dgram(fd, &d) == 0)
		send_answer(fd, &d, d.buf, (size_t)d.len, family);
}

static bool serves_port(const struct probe_server_opts *o, uint16_t port)
{
	for (int i = 0; i < o->nports; i++)
		if (o->ports[i] == port)
			return true;
	return false;
}

/* A raw IPv4 socket hands us the IP header too; IPv6 raw sockets do not. */
static int sctp_payload(struct dgram *d, int family, const uint8_t **p,
			size_t *len)
{
	size_t hl;

	*p = d->buf;
	*len = (size_t)d->len;
	if (family == AF_INET6)
		return 0;
	if (*len < sizeof(struct iphdr))
		return -1;
	hl = (size_t)((const struct iphdr *)d->buf)->ihl * 4;
	if (hl < sizeof(struct iphdr) || hl > *len)
		return -1;
	*p += hl;
	*len -= hl;
	return 0;
}

static void sctp_answer_all(struct server *s, int fd, int family)
{
	struct dgram d;
	struct probe_sctp in;
	uint8_t out[PROBE_SCTP_MAX];
	const uint8_t *p;
	size_t len, olen;

	while (recv_dgram(fd, &d) == 0) {
		if (sctp_payload(&d, family, &p, &len) < 0 ||
		    probe_sctp_parse(p, len, &in) < 0)
			continue;
		if (in.chunk != PROBE_SCTP_INIT || in.vtag != 0 ||
		    in.init_tag == 0 || !serves_port(s->o, in.dport))
			continue;
		olen = probe_sctp_init_ack(out, &in, random32(), random32());
		/* raw sockets take the port from the packet, not the name */
		if (family == AF_INET)
			((struct sockaddr_in *)&d.from)->sin_port = 0;
		else
			((struct sockaddr_in6 *)&d.from)->sin6_port = 0;
		send_answer(fd, &d, out, olen, family);
	}
}

static int serve(struct server *s)
{
	struct pollfd pfd[SRV_MAX];

	for (int i = 0; i < s->n; i++)
		pfd[i] = (struct pollfd){ .fd = s->socks[i].fd, .events = POLLIN };
	for (;;) {
		if (poll(pfd, (nfds_t)s->n, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("vn-probe server: poll");
			return 1;
		}
		for (int i = 0; i < s->n; i++) {
			struct srv_sock *k = &s->socks[i];

			if (!(pfd[i].revents & POLLIN))
				continue;
			if (k->kind == SRV_TCP)
				tcp_accept_all(k->fd);
			else if (k->kind == SRV_UDP)
				udp_echo_all(k->fd, k->family);
			else
				sctp_answer_all(s, k->fd, k->family);
		}
	}
}

int probe_server(const struct probe_server_opts *o)
{
	struct server s = { .o = o };
	int rc = 1;

	if (o->v4 && open_family(&s, AF_INET) < 0)
		goto out;
	if (o->v6 && ipv6_usable() && open_family(&s, AF_INET6) < 0)
		goto out;
	if (o->ready) {
		printf("ready\n");
		fflush(stdout);
	}
	rc = serve(&s);
out:
	for (int i = 0; i < s.n; i++)
		close(s.socks[i].fd);
	return rc;
}
