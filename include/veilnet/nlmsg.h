/* nlmsg.h - requests built as libnl-3 messages and gathered in one buffer,
 * to be sent in one round trip over a struct vn_nl (nl.h).
 *
 * Build a message with vn_msg_new and libnl's nla_put_* / nla_nest_*, hand
 * it to vn_batch_add, and send the batch with vn_batch_talk. A message that
 * could not be built (out of memory) or did not fit marks the batch failed,
 * and the batch then fails before anything is sent. Used by the CNI
 * plugin, which is linked statically and so cannot use libmnl.
 */
#ifndef VEILNET_NLMSG_H
#define VEILNET_NLMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include <veilnet/nl.h>

#define VN_BATCH_SIZE 16384

struct vn_batch {
	struct vn_nl *nl;
	size_t len;
	size_t n;		/* messages */
	bool failed;
	_Alignas(struct nlmsghdr) char buf[VN_BATCH_SIZE];
};

/* Starts an empty batch to be sent over nl. */
void vn_batch_init(struct vn_batch *b, struct vn_nl *nl);

/* A request (NLM_F_REQUEST | flags) of type, with the fixed header of
 * hdrlen bytes at hdr; NULL if out of memory. */
struct nl_msg *vn_msg_new(int type, int flags, const void *hdr, size_t hdrlen);

/* Appends m with the next sequence number of the batch's socket, and
 * frees m. m NULL, or no room left, marks the batch failed. */
void vn_batch_add(struct vn_batch *b, struct nl_msg *m);

/* vn_nl_talk over the batch. */
int vn_batch_talk(struct vn_batch *b, vn_nl_cb cb, void *data, const char *what,
		  struct vn_err *e);

/* vn_nl_talk_each over the batch: errs[i] answers message i. */
int vn_batch_talk_each(struct vn_batch *b, vn_nl_cb cb, void *data, int *errs, size_t n_errs,
		       const char *what, struct vn_err *e);

#endif
