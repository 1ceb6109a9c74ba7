/* client.c - vn-probe client: probes every target at once.
 *
 * Each target is one new connection: TCP connect() (success = the
 * handshake completed), UDP request answered by the echo server, SCTP INIT
 * answered by an INIT-ACK with our tag. UDP and SCTP are resent `retries`
 * times, one attempt every timeout_ms; TCP waits for the same total time.
 * A refusal (RST, ICMP unreachable, ABORT) ends a target early.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/ip.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include "probe.h"

enum verdict { V_PENDING, V_OK, V_TIMEOUT, V_REFUSED, V_ERROR };

static const char *verdict_name[] = {
	"pending", "ok", "timeout", "refused", "error",
};

struct probe {
	const char *spec;
	struct probe_target t;
	uint16_t sport;			/* SCTP: always ours; else 0 = kernel */
	int fd;				/* TCP/UDP socket, -1 for SCTP */
	uint32_t tag;			/* SCTP init tag / UDP nonce */
	int attempts;
	int64_t start, deadline;	/* monotonic microseconds */
	int64_t done_at;
	enum verdict v;
	int err;			/* errno behind V_ERROR / V_REFUSED */
};

struct client {
	const struct probe_client_opts *o;
	struct probe *p;
	int n, pending;
	int raw4, raw6;			/* SCTP sockets, -1 if unused */
	struct sockaddr_storage src;
	socklen_t srclen;
};

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint32_t random32(void)
{
	uint32_t v = 0;

	while (v == 0)
		if (getrandom(&v, sizeof(v), 0) != sizeof(v))
			v = (uint32_t)now_us() * 2654435761u;
	return v;
}

static uint16_t target_port(const struct probe_target *t)
{
	if (t->addr.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&t->addr)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)&t->addr)->sin6_port);
}

static void finish(struct client *c, struct probe *p, enum verdict v, int err)
{
	if (p->v != V_PENDING)
		return;
	p->v = v;
	p->err = err;
	p->done_at = now_us();
	c->pending--;
	if (p->fd >= 0) {
		close(p->fd);
		p->fd = -1;
	}
}

/* The local address for a socket of the family: --src, port sport. */
static int bind_local(struct client *c, int fd, int family, uint16_t sport)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1;

	if (c->srclen && c->src.ss_family == family) {
		ss = c->src;
		len = c->srclen;
	} else if (sport) {
		memset(&ss, 0, sizeof(ss));
		ss.ss_family = (sa_family_t)family;
		len = family == AF_INET ? sizeof(struct sockaddr_in)
					: sizeof(struct sockaddr_in6);
	} else {
		return 0;
	}
	if (family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons(sport);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(sport);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) == 0)
		return 0;
	if (errno != EADDRINUSE || !sport)
		return -1;
	/* that port is still busy from an earlier run: let the kernel pick */
	return bind_local(c, fd, family, 0);
}

static int stream_start(struct client *c, struct probe *p)
{
	int type = p->t.proto == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
	int fd = socket(p->t.addr.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	p->fd = fd;
	if (bind_local(c, fd, p->t.addr.ss_family, p->sport) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&p->t.addr, p->t.addrlen) < 0 &&
	    errno != EINPROGRESS)
		return -1;
	return 0;
}

static void udp_send(struct client *c, struct probe *p)
{
	char msg[32];
	int len = snprintf(msg, sizeof(msg), "vn-probe %08x", p->tag);

	/* an ICMP error from the previous attempt surfaces here */
	if (send(p->fd, msg, (size_t)len, 0) < 0 && errno != EAGAIN)
		finish(c, p, errno == ECONNREFUSED ? V_REFUSED : V_ERROR, errno);
}

static void sctp_send(struct client *c, struct probe *p)
{
	uint8_t pkt[PROBE_SCTP_MAX];
	size_t len = probe_sctp_init(pkt, p->sport, target_port(&p->t), p->tag,
				     p->tag ^ 0x5a5a5a5au);
	int fd = p->t.addr.ss_family == AF_INET ? c->raw4 : c->raw6;
	struct sockaddr_storage to = p->t.addr;

	/* raw sockets: the port lives in the packet, not in the address */
	if (to.ss_family == AF_INET)
		((struct sockaddr_in *)&to)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&to)->sin6_port = 0;
	if (sendto(fd, pkt, len, 0, (struct sockaddr *)&to, p->t.addrlen) < 0 &&
	    errno != EAGAIN)
		finish(c, p, V_ERROR, errno);
}

static void attempt(struct client *c, struct probe *p)
{
	p->attempts++;
	p->deadline = now_us() + (int64_t)c->o->timeout_ms * 1000;
	if (p->t.proto == IPPROTO_TCP)
		p->deadline += (int64_t)c->o->retries * c->o->timeout_ms * 1000;
	else if (p->t.proto == IPPROTO_UDP)
		udp_send(c, p);
	else
		sctp_send(c, p);
}

static int open_raw(struct client *c, int family)
{
	int fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
			IPPROTO_SCTP);

	if (fd < 0)
		return -1;
	if (c->srclen && c->src.ss_family == family &&
	    bind(fd, (struct sockaddr *)&c->src, c->srclen) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int setup(struct client *c)
{
	for (int i = 0; i < c->n; i++) {
		struct probe *p = &c->p[i];
		int fam = p->t.addr.ss_family;
		int *raw = fam == AF_INET ? &c->raw4 : &c->raw6;

		p->tag = random32();
		p->sport = c->o->sport_base ? (uint16_t)(c->o->sport_base + i) : 0;
		if (p->t.proto == IPPROTO_SCTP) {
			if (!p->sport)
				p->sport = (uint16_t)(32768 + random32() % 28000);
			if (*raw < 0 && (*raw = open_raw(c, fam)) < 0) {
				perror("vn-probe client: raw sctp socket");
				return -1;
			}
		}
	}
	for (int i = 0; i < c->n; i++) {
		struct probe *p = &c->p[i];

		p->start = now_us();
		if (p->t.proto != IPPROTO_SCTP && stream_start(c, p) < 0) {
			finish(c, p, V_ERROR, errno);
			continue;
		}
		attempt(c, p);
	}
	return 0;
}

static void tcp_event(struct client *c, struct probe *p)
{
	int err = 0;
	socklen_t len = sizeof(err);

	getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err == 0)
		finish(c, p, V_OK, 0);
	else if (err == ECONNREFUSED || err == EHOSTUNREACH ||
		 err == ENETUNREACH)
		finish(c, p, V_REFUSED, err);
	else
		finish(c, p, V_ERROR, err);
}

static void udp_event(struct client *c, struct probe *p)
{
	char want[32], buf[64];
	int wl = snprintf(want, sizeof(want), "vn-probe %08x", p->tag);
	ssize_t n;

	while ((n = recv(p->fd, buf, sizeof(buf), 0)) >= 0 || errno != EAGAIN) {
		if (n < 0) {
			finish(c, p, errno == ECONNREFUSED ? V_REFUSED : V_ERROR,
			       errno);
			return;
		}
		if (n == wl && !memcmp(buf, want, (size_t)wl)) {
			finish(c, p, V_OK, 0);
			return;
		}
	}
}

/* Does this parsed packet from `from` answer probe p? */
static bool sctp_matches(const struct probe *p, const struct probe_sctp *s,
			 const struct sockaddr_storage *from)
{
	if (p->t.proto != IPPROTO_SCTP || p->v != V_PENDING ||
	    p->t.addr.ss_family != from->ss_family ||
	    s->sport != target_port(&p->t) || s->dport != p->sport)
		return false;
	if (from->ss_family == AF_INET)
		return ((const struct sockaddr_in *)from)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)&p->t.addr)->sin_addr.s_addr;
	return !memcmp(&((const struct sockaddr_in6 *)from)->sin6_addr,
		       &((const struct sockaddr_in6 *)&p->t.addr)->sin6_addr, 16);
}

static void sctp_deliver(struct client *c, const struct probe_sctp *s,
			 const struct sockaddr_storage *from)
{
	for (int i = 0; i < c->n; i++) {
		struct probe *p = &c->p[i];

		if (!sctp_matches(p, s, from) || s->vtag != p->tag)
			continue;
		if (s->chunk == PROBE_SCTP_INIT_ACK)
			finish(c, p, V_OK, 0);
		else if (s->chunk == PROBE_SCTP_ABORT)
			finish(c, p, V_REFUSED, ECONNREFUSED);
	}
}

static void sctp_event(struct client *c, int fd, int family)
{
	uint8_t buf[2048];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	struct probe_sctp s;
	ssize_t n;

	while ((n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from,
			     &fl)) >= 0) {
		const uint8_t *pkt = buf;
		size_t len = (size_t)n, hl = 0;

		fl = sizeof(from);
		if (family == AF_INET) {
			if (len < sizeof(struct iphdr))
				continue;
			hl = (size_t)((const struct iphdr *)buf)->ihl * 4;
			if (hl > len)
				continue;
		}
		pkt += hl;
		len -= hl;
		if (probe_sctp_parse(pkt, len, &s) == 0)
			sctp_deliver(c, &s, &from);
	}
}

static void expire(struct client *c, int64_t now)
{
	for (int i = 0; i < c->n; i++) {
		struct probe *p = &c->p[i];

		if (p->v != V_PENDING || now < p->deadline)
			continue;
		if (p->t.proto != IPPROTO_TCP && p->attempts <= c->o->retries)
			attempt(c, p);
		else
			finish(c, p, V_TIMEOUT, 0);
	}
}

static int next_wait_ms(struct client *c, int64_t now)
{
	int64_t first = INT64_MAX;

	for (int i = 0; i < c->n; i++)
		if (c->p[i].v == V_PENDING && c->p[i].deadline < first)
			first = c->p[i].deadline;
	if (first <= now)
		return 0;
	return (int)((first - now + 999) / 1000);
}

static void dispatch(struct client *c, struct pollfd *pfd, int *owner, int n)
{
	for (int i = 0; i < n; i++) {
		if (!pfd[i].revents)
			continue;
		if (owner[i] == -4)
			sctp_event(c, pfd[i].fd, AF_INET);
		else if (owner[i] == -6)
			sctp_event(c, pfd[i].fd, AF_INET6);
		else if (c->p[owner[i]].t.proto == IPPROTO_TCP)
			tcp_event(c, &c->p[owner[i]]);
		else
			udp_event(c, &c->p[owner[i]]);
	}
}

static int run(struct client *c)
{
	struct pollfd *pfd = calloc((size_t)c->n + 2, sizeof(*pfd));
	int *owner = calloc((size_t)c->n + 2, sizeof(*owner));
	int rc = 0;

	if (!pfd || !owner) {
		rc = -1;
		goto out;
	}
	while (c->pending > 0) {
		int n = 0;

		if (c->raw4 >= 0) {
			owner[n] = -4;
			pfd[n++] = (struct pollfd){ .fd = c->raw4, .events = POLLIN };
		}
		if (c->raw6 >= 0) {
			owner[n] = -6;
			pfd[n++] = (struct pollfd){ .fd = c->raw6, .events = POLLIN };
		}
		for (int i = 0; i < c->n; i++) {
			struct probe *p = &c->p[i];

			if (p->v != V_PENDING || p->fd < 0)
				continue;
			owner[n] = i;
			pfd[n++] = (struct pollfd){ .fd = p->fd,
				.events = p->t.proto == IPPROTO_TCP ? POLLOUT : POLLIN };
		}
		if (poll(pfd, (nfds_t)n, next_wait_ms(c, now_us())) < 0 &&
		    errno != EINTR) {
			rc = -1;
			goto out;
		}
		dispatch(c, pfd, owner, n);
		expire(c, now_us());
	}
out:
	free(pfd);
	free(owner);
	return rc;
}

static int report(const struct client *c)
{
	int missing = 0;

	for (int i = 0; i < c->n; i++) {
		const struct probe *p = &c->p[i];
		double ms = (double)(p->done_at - p->start) / 1000.0;

		if (p->v != V_OK)
			missing = 1;
		if (p->v == V_ERROR || p->v == V_REFUSED)
			printf("%s %s %.1fms %s\n", p->spec, verdict_name[p->v],
			       ms, strerror(p->err));
		else
			printf("%s %s %.1fms\n", p->spec, verdict_name[p->v], ms);
	}
	fflush(stdout);
	return missing;
}

int probe_client(const struct probe_client_opts *o)
{
	struct client c = { .o = o, .n = o->nspecs, .pending = o->nspecs,
			    .raw4 = -1, .raw6 = -1 };
	int rc = 2;

	if (o->src && probe_parse_addr(o->src, &c.src, &c.srclen) < 0) {
		fprintf(stderr, "vn-probe client: bad --src %s\n", o->src);
		return 2;
	}
	c.p = calloc((size_t)c.n, sizeof(*c.p));
	if (!c.p)
		return 2;
	for (int i = 0; i < c.n; i++) {
		c.p[i].spec = o->specs[i];
		c.p[i].fd = -1;
		if (probe_parse_target(o->specs[i], &c.p[i].t) < 0) {
			fprintf(stderr, "vn-probe client: bad target %s "
				"(want tcp|udp|sctp:ADDR:PORT, [v6]:PORT)\n",
				o->specs[i]);
			goto out;
		}
	}
	if (setup(&c) < 0 || run(&c) < 0)
		goto out;
	rc = report(&c);
out:
	for (int i = 0; i < c.n; i++)
		if (c.p[i].fd >= 0)
			close(c.p[i].fd);
	if (c.raw4 >= 0)
		close(c.raw4);
	if (c.raw6 >= 0)
		close(c.raw6);
	free(c.p);
	return rc;
}
