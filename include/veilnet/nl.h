/* nl.h - one netlink socket and request/answer round trips.
 *
 * A struct vn_nl is owned by whoever opened it and closed with vn_nl_close.
 * It is bound to the network namespace current at vn_nl_open time, so a
 * program may open one socket per namespace and keep using it after
 * switching back.
 *
 * Messages are built by the caller (libmnl, libnftnl or libnl-3, into one
 * buffer); this module only sends them and sorts out the answers, on a
 * plain socket, so that it links into the CNI plugin's static binary too.
 */
#ifndef VEILNET_NL_H
#define VEILNET_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/netlink.h>
#include <veilnet/err.h>

struct vn_nl {
	int fd;			/* valid while open */
	bool open;
	unsigned int portid;
	unsigned int seq;
	int bus;		/* NETLINK_ROUTE, NETLINK_NETFILTER, NETLINK_GENERIC */
};

/* Called for each data message of an answer; returns < 0 on error (with
 * errno set), anything else to go on (the values of libmnl's mnl_cb_t). */
typedef int (*vn_nl_cb)(const struct nlmsghdr *nlh, void *data);

/* Opens and binds a socket on the given bus. Returns 0 or -1 with e set. */
int vn_nl_open(struct vn_nl *nl, int bus, struct vn_err *e);

/* Closes the socket; safe on a zeroed or already closed struct. */
void vn_nl_close(struct vn_nl *nl);

/* Next sequence number, for building a message. */
unsigned int vn_nl_seq(struct vn_nl *nl);

/* Sends len bytes (one message or a batch) and reads answers until the
 * kernel has acknowledged every message that asked for an ACK, or a dump
 * ended. cb (may be NULL) runs for each data message. A kernel error is
 * returned as -1 with errno set and e filled (code 5, naming what). */
int vn_nl_talk(struct vn_nl *nl, const void *buf, size_t len,
	       vn_nl_cb cb, void *data, const char *what, struct vn_err *e);

/* Like vn_nl_talk, for a batch whose messages may fail one by one (lookups
 * that may find nothing): errs[i] receives the errno the kernel answered
 * to the message whose sequence number is i after the first message's (0:
 * success), for i < n_errs. Returns -1 with e set only if sending or
 * receiving failed; a callback's failure is not reported. */
int vn_nl_talk_each(struct vn_nl *nl, const void *buf, size_t len, vn_nl_cb cb, void *data,
		    int *errs, size_t n_errs, const char *what, struct vn_err *e);

#endif
