#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <linux/rtnetlink.h>
#include "netlink.h"
#include "reaper.h"

struct reaper {
	struct vn_nl req;	/* group deletes */
	struct vn_nl mon;	/* link notifications */
	bool pending;		/* a tomb was seen since the last delete */
	long deadline;		/* when to delete, if pending (ms) */
	long idle_end;		/* when to leave, if not pending (ms) */
};

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

static void delete_tombs(struct vn_nl *nl)
{
	struct vn_err ignored;

	nl_group_delete(nl, NL_TOMB_GROUP, &ignored);
}

static void note_tomb(struct reaper *r)
{
	long now = now_ms();

	r->idle_end = now + REAPER_IDLE_MS;
	if (r->pending)
		return;
	r->pending = true;
	r->deadline = now + REAPER_BATCH_MS;
}

/* Reads every queued notification; notes a link entering the tomb group.
 * A lost notification (ENOBUFS) may have been one. */
static void drain(struct reaper *r)
{
	char buf[32768];
	ssize_t n;

	while ((n = recv(r->mon.fd, buf, sizeof(buf), MSG_DONTWAIT)) != 0) {
		const struct nlmsghdr *nlh = (const void *)buf;
		int left = (int)n;

		if (n < 0) {
			if (errno == ENOBUFS)
				note_tomb(r);
			if (errno != EINTR && errno != ENOBUFS)
				return;
			continue;
		}
		for (; NLMSG_OK(nlh, left); nlh = NLMSG_NEXT(nlh, left)) {
			struct link_info l;

			if (nl_parse_link(nlh, &l) == 0 && l.group == NL_TOMB_GROUP)
				note_tomb(r);
		}
	}
}

/* Follows notifications until no tomb has come for REAPER_IDLE_MS. */
static void follow(struct reaper *r)
{
	struct pollfd pfd = { .fd = r->mon.fd, .events = POLLIN };

	for (;;) {
		long wait = (r->pending ? r->deadline : r->idle_end) - now_ms();
		int rc = poll(&pfd, 1, wait > 0 ? (int)wait : 0);

		if (rc > 0) {
			drain(r);
		} else if (rc == 0 && r->pending) {
			r->pending = false;
			delete_tombs(&r->req);
		} else if (rc == 0 || errno != EINTR) {
			return;
		}
	}
}

/* The reaper process: namefd holds its name until it leaves. */
static void reaper_run(int namefd)
{
	struct reaper r = { .pending = false };
	struct vn_err ignored;
	unsigned int group = RTNLGRP_LINK;

	setsid();
	for (int fd = 0; fd < 3; fd++)
		close(fd);	/* the runtime must not wait for us */
	if (vn_nl_open(&r.req, NETLINK_ROUTE, &ignored) == 0 &&
	    vn_nl_open(&r.mon, NETLINK_ROUTE, &ignored) == 0 &&
	    setsockopt(r.mon.fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) == 0) {
		note_tomb(&r);	/* subscribed first: no tomb retired from now on is missed */
		follow(&r);
	}
	close(namefd);
	if (r.req.open)
		delete_tombs(&r.req);	/* one retired while we were leaving */
	vn_nl_close(&r.mon);
	vn_nl_close(&r.req);
}

/* Claims the node netns' reaper name: an abstract unix socket, which
 * lives in the network namespace and goes with its last holder, even one
 * killed. Returns the bound socket, -1 with errno EADDRINUSE if a reaper
 * holds it, or -1 with another errno. */
static int claim(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
				    strlen(REAPER_NAME));
	int err;

	if (fd < 0)
		return -1;
	memcpy(a.sun_path + 1, REAPER_NAME, strlen(REAPER_NAME));	/* sun_path[0] = 0 */
	if (bind(fd, (struct sockaddr *)&a, len) == 0)
		return fd;
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

/* No reaper can run: deletes the tombs now, at DEL's expense. */
static void delete_now(void)
{
	struct vn_err ignored;
	struct vn_nl nl;

	if (vn_nl_open(&nl, NETLINK_ROUTE, &ignored) == 0) {
		delete_tombs(&nl);
		vn_nl_close(&nl);
	}
}

void reaper_ensure(void)
{
	int fd = claim();
	pid_t pid;

	if (fd < 0) {
		if (errno != EADDRINUSE)
			delete_now();
		return;		/* EADDRINUSE: the running reaper sees our tomb */
	}
	pid = fork();	/* the child holds the name from now on */
	if (pid == 0) {
		reaper_run(fd);
		_exit(0);
	}
	close(fd);
	if (pid < 0)
		delete_now();
}
