/* vnn-probe - the small network probe of the netpol suites and bench.
 *
 *   vnn-probe serve [--ready FILE] PORT...   TCP (accept, close) and UDP (echo)
 *                                            servers on every port, IPv4 and
 *                                            IPv6, until killed; FILE is
 *                                            created once they listen
 *   vnn-probe tcp ADDR PORT [TIMEOUT_MS]     exit 0 if a connection is made
 *   vnn-probe udp ADDR PORT [TIMEOUT_MS]     exit 0 if the echo comes back
 *   vnn-probe rate ADDR PORT MS              new TCP connections for MS
 *                                            milliseconds; prints the rate
 *
 * Exit status 1 means "no connection" (refused, dropped, timed out), 2 a
 * usage or local error. Linking nothing but libc.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SOCKS 64

static int sockaddr_of(const char *addr, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof(*s4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*s6);
		return AF_INET6;
	}
	return -1;
}

static int listen_on(int type, int port)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
				  .sin6_addr = IN6ADDR_ANY_INIT };
	int fd = socket(AF_INET6, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), zero = 0, one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || (type == SOCK_STREAM && listen(fd, 4096))) {
		close(fd);
		return -1;
	}
	return fd;
}

static int serve(int argc, char **argv)
{
	struct pollfd pf[MAX_SOCKS];
	int types[MAX_SOCKS], n = 0;
	const char *ready = NULL;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--ready") && i + 1 < argc) {
			ready = argv[++i];
			continue;
		}
		for (int t = 0; t < 2 && n < MAX_SOCKS; t++) {
			types[n] = t ? SOCK_DGRAM : SOCK_STREAM;
			pf[n].fd = listen_on(types[n], atoi(argv[i]));
			pf[n].events = POLLIN;
			if (pf[n].fd < 0) {
				fprintf(stderr, "vnn-probe: port %s: %s\n", argv[i], strerror(errno));
				return 2;
			}
			n++;
		}
	}
	if (ready) {
		int fd = open(ready, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

		if (fd >= 0)
			close(fd);
	}
	for (;;) {
		if (poll(pf, (nfds_t)n, -1) < 0 && errno != EINTR)
			return 2;
		for (int i = 0; i < n; i++) {
			char buf[512];
			struct sockaddr_storage from;
			socklen_t fl = sizeof(from);
			ssize_t r;
			int c;

			if (!(pf[i].revents & POLLIN))
				continue;
			if (types[i] == SOCK_STREAM) {
				while ((c = accept4(pf[i].fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
					close(c);
				continue;
			}
			while ((r = recvfrom(pf[i].fd, buf, sizeof(buf), 0, (struct sockaddr *)&from,
					     &fl)) >= 0) {
				sendto(pf[i].fd, buf, (size_t)r, 0, (struct sockaddr *)&from, fl);
				fl = sizeof(from);
			}
		}
	}
}

/* One TCP connection attempt; 0 connected, 1 not. */
static int tcp_once(const struct sockaddr_storage *ss, socklen_t len, int timeout_ms)
{
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct pollfd pf = { .fd = fd, .events = POLLOUT };
	int err = 0, rc = 1;
	socklen_t el = sizeof(err);

	if (fd < 0)
		return 2;
	/* Close with a reset: no TIME_WAIT, so a rate test does not run out
	 * of ports. */
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	if (connect(fd, (const struct sockaddr *)ss, len) == 0) {
		rc = 0;
	} else if (errno == EINPROGRESS && poll(&pf, 1, timeout_ms) == 1 &&
		   !getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) && err == 0) {
		rc = 0;
	}
	close(fd);
	return rc;
}

static int udp_once(const struct sockaddr_storage *ss, socklen_t len, int timeout_ms)
{
	int fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 1;
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	char buf[16];

	if (fd < 0)
		return 2;
	if (connect(fd, (const struct sockaddr *)ss, len) == 0 && send(fd, "ping", 4, 0) == 4 &&
	    poll(&pf, 1, timeout_ms) == 1 && recv(fd, buf, sizeof(buf), 0) == 4)
		rc = 0;
	close(fd);
	return rc;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int rate(const struct sockaddr_storage *ss, socklen_t len, int ms)
{
	double start = now_ms(), end = start + ms, t;
	long ok = 0, failed = 0;

	while ((t = now_ms()) < end) {
		if (tcp_once(ss, len, 1000) == 0)
			ok++;
		else
			failed++;
	}
	printf("%ld connections in %.0f ms: %.0f/s (%ld failed)\n", ok, t - start,
	       (double)ok * 1000.0 / (t - start), failed);
	return failed && !ok ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int timeout;

	if (argc >= 3 && !strcmp(argv[1], "serve"))
		return serve(argc - 2, argv + 2);
	if (argc < 4 || sockaddr_of(argv[2], atoi(argv[3]), &ss, &len) < 0) {
		fprintf(stderr, "usage: vnn-probe serve [--ready FILE] PORT... | "
			"tcp|udp ADDR PORT [TIMEOUT_MS] | rate ADDR PORT MS\n");
		return 2;
	}
	timeout = argc > 4 ? atoi(argv[4]) : 1000;
	if (!strcmp(argv[1], "tcp"))
		return tcp_once(&ss, len, timeout);
	if (!strcmp(argv[1], "udp"))
		return udp_once(&ss, len, timeout);
	if (!strcmp(argv[1], "rate"))
		return rate(&ss, len, timeout);
	fprintf(stderr, "vnn-probe: unknown command %s\n", argv[1]);
	return 2;
}
