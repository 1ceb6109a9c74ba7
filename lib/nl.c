#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <veilnet/nl.h>

static const struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

int vn_nl_open(struct vn_nl *nl, int bus, struct vn_err *e)
{
	struct timeval tv = { .tv_sec = 10 };
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	socklen_t salen = sizeof(sa);

	memset(nl, 0, sizeof(*nl));
	nl->bus = bus;
	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, bus);
	if (nl->fd < 0)
		return vn_errf(e, 5, "I/O error", "netlink socket: %s", strerror(errno));
	nl->open = true;
	if (bind(nl->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(nl->fd, (struct sockaddr *)&sa, &salen) < 0) {
		vn_errf(e, 5, "I/O error", "netlink bind: %s", strerror(errno));
		vn_nl_close(nl);
		return -1;
	}
	/* A kernel that never answers must not hang the caller forever. */
	setsockopt(nl->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	nl->portid = sa.nl_pid;
	nl->seq = 0;		/* the socket is new: any start is unique */
	return 0;
}

void vn_nl_close(struct vn_nl *nl)
{
	if (nl->open)
		close(nl->fd);
	nl->open = false;
}

unsigned int vn_nl_seq(struct vn_nl *nl)
{
	return ++nl->seq;
}

/* Counts the messages in buf that expect an answer (ACK or dump end). */
static int count_answers(const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;
	int left = (int)len, n = 0;

	for (; NLMSG_OK(nlh, left); nlh = NLMSG_NEXT(nlh, left))
		if (nlh->nlmsg_flags & (NLM_F_ACK | NLM_F_DUMP))
			n++;
	return n;
}

struct talk {
	vn_nl_cb cb;
	void *data;
	int pending;
	unsigned int first_seq;	/* of the first message in the request */
	int *errs;		/* errno per message, by seq - first_seq */
	size_t n_errs;
	int err;		/* first errno seen, 0 if none */
};

static void talk_error(struct talk *t, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *me = NLMSG_DATA(nlh);
	size_t i;

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*me))) {
		t->err = t->err ? t->err : EBADMSG;
		t->pending = 0;	/* cannot tell which message it answers */
		return;
	}
	i = me->msg.nlmsg_seq - t->first_seq;
	if (me->error && !t->err)
		t->err = -me->error;
	if (t->errs && i < t->n_errs)
		t->errs[i] = -me->error;
	t->pending--;
}

/* Handles one received message. A dump that changed while it was read
 * (NLM_F_DUMP_INTR) is an error, EINTR: the caller may ask again. */
static void talk_one(struct talk *t, const struct nlmsghdr *nlh, unsigned int portid)
{
	if (nlh->nlmsg_pid && nlh->nlmsg_pid != portid)
		return;		/* not an answer to us */
	if (nlh->nlmsg_type == NLMSG_ERROR) {
		talk_error(t, nlh);
		return;
	}
	if (nlh->nlmsg_type == NLMSG_DONE) {
		t->pending--;
		return;
	}
	if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
		return;		/* NLMSG_NOOP, NLMSG_OVERRUN */
	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR) {
		t->err = t->err ? t->err : EINTR;
		return;
	}
	errno = 0;
	if (t->cb && t->cb(nlh, t->data) < 0 && !t->err)
		t->err = errno ? errno : EINVAL;
}

static int talk(struct vn_nl *nl, const void *buf, size_t len, struct talk *t, const char *what,
		struct vn_err *e)
{
	char rbuf[32768];	/* the kernel caps a dump part at 32 KiB */

	t->pending = count_answers(buf, len);
	t->first_seq = ((const struct nlmsghdr *)buf)->nlmsg_seq;
	if (sendto(nl->fd, buf, len, 0, (const struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return vn_errf(e, 5, "I/O error", "%s: send: %s", what, strerror(errno));
	while (t->pending > 0) {
		ssize_t n = recv(nl->fd, rbuf, sizeof(rbuf), 0);
		const struct nlmsghdr *nlh = (const void *)rbuf;
		int left = (int)n;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return vn_errf(e, 5, "I/O error", "%s: recv: %s", what, strerror(errno));
		for (; NLMSG_OK(nlh, left); nlh = NLMSG_NEXT(nlh, left))
			talk_one(t, nlh, nl->portid);
	}
	return 0;
}

int vn_nl_talk(struct vn_nl *nl, const void *buf, size_t len,
	       vn_nl_cb cb, void *data, const char *what, struct vn_err *e)
{
	struct talk t = { .cb = cb, .data = data };

	if (talk(nl, buf, len, &t, what, e))
		return -1;
	if (t.err) {
		errno = t.err;
		return vn_errf(e, 5, "I/O error", "%s: %s", what, strerror(t.err));
	}
	return 0;
}

int vn_nl_talk_each(struct vn_nl *nl, const void *buf, size_t len, vn_nl_cb cb, void *data,
		    int *errs, size_t n_errs, const char *what, struct vn_err *e)
{
	struct talk t = { .cb = cb, .data = data, .errs = errs, .n_errs = n_errs };

	memset(errs, 0, n_errs * sizeof(errs[0]));
	return talk(nl, buf, len, &t, what, e);
}
