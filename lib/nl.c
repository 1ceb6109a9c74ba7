#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <veilnet/nl.h>

int vn_nl_open(struct vn_nl *nl, int bus, struct vn_err *e)
{
	struct timeval tv = { .tv_sec = 10 };

	memset(nl, 0, sizeof(*nl));
	nl->bus = bus;
	nl->sock = mnl_socket_open(bus);
	if (!nl->sock)
		return vn_errf(e, 5, "I/O error", "netlink socket: %s", strerror(errno));
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		vn_errf(e, 5, "I/O error", "netlink bind: %s", strerror(errno));
		vn_nl_close(nl);
		return -1;
	}
	/* A kernel that never answers must not hang the caller forever. */
	setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = 0;		/* the socket is new: any start is unique */
	return 0;
}

void vn_nl_close(struct vn_nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
}

unsigned int vn_nl_seq(struct vn_nl *nl)
{
	return ++nl->seq;
}

/* Counts the messages in buf that expect an answer (ACK or dump end). */
static int count_answers(const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;
	int len_left = (int)len, n = 0;

	while (mnl_nlmsg_ok(nlh, len_left)) {
		if (nlh->nlmsg_flags & (NLM_F_ACK | NLM_F_DUMP))
			n++;
		nlh = mnl_nlmsg_next(nlh, &len_left);
	}
	return n;
}

struct talk {
	mnl_cb_t cb;
	void *data;
	int pending;
	unsigned int first_seq;	/* of the first message in the request */
	int *errs;		/* errno per message, by seq - first_seq */
	size_t n_errs;
	int err;		/* first errno seen, 0 if none */
};

/* Handles one received message. */
static void talk_one(struct talk *t, const struct nlmsghdr *nlh, unsigned int portid)
{
	if (nlh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *me = mnl_nlmsg_get_payload(nlh);
		size_t i = me->msg.nlmsg_seq - t->first_seq;

		if (me->error && !t->err)
			t->err = -me->error;
		if (t->errs && i < t->n_errs)
			t->errs[i] = -me->error;
		t->pending--;
		return;
	}
	if (nlh->nlmsg_type == NLMSG_DONE) {
		t->pending--;
		return;
	}
	if (t->cb && mnl_cb_run(nlh, nlh->nlmsg_len, 0, portid, t->cb, t->data) < 0 && !t->err)
		t->err = errno ? errno : EINVAL;
}

static int talk(struct vn_nl *nl, const void *buf, size_t len, struct talk *t, const char *what,
		struct vn_err *e)
{
	char rbuf[32768];	/* the kernel caps a dump part at 32 KiB */

	t->pending = count_answers(buf, len);
	t->first_seq = ((const struct nlmsghdr *)buf)->nlmsg_seq;
	if (mnl_socket_sendto(nl->sock, buf, len) < 0)
		return vn_errf(e, 5, "I/O error", "%s: send: %s", what, strerror(errno));
	while (t->pending > 0) {
		ssize_t n = mnl_socket_recvfrom(nl->sock, rbuf, sizeof(rbuf));
		const struct nlmsghdr *nlh = (const void *)rbuf;
		int left = (int)n;

		if (n < 0)
			return vn_errf(e, 5, "I/O error", "%s: recv: %s", what, strerror(errno));
		for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left))
			talk_one(t, nlh, nl->portid);
	}
	return 0;
}

int vn_nl_talk(struct vn_nl *nl, const void *buf, size_t len,
	       mnl_cb_t cb, void *data, const char *what, struct vn_err *e)
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

int vn_nl_talk_each(struct vn_nl *nl, const void *buf, size_t len, mnl_cb_t cb, void *data,
		    int *errs, size_t n_errs, const char *what, struct vn_err *e)
{
	struct talk t = { .cb = cb, .data = data, .errs = errs, .n_errs = n_errs };

	memset(errs, 0, n_errs * sizeof(errs[0]));
	return talk(nl, buf, len, &t, what, e);
}
