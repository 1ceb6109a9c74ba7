#include <errno.h>
#include <string.h>
#include <veilnet/nlmsg.h>

void vn_batch_init(struct vn_batch *b, struct vn_nl *nl)
{
	b->nl = nl;
	b->len = 0;
	b->n = 0;
	b->failed = false;
}

struct nl_msg *vn_msg_new(int type, int flags, const void *hdr, size_t hdrlen)
{
	struct nl_msg *m = nlmsg_alloc_simple(type, NLM_F_REQUEST | flags);

	if (m && nlmsg_append(m, (void *)hdr, hdrlen, NLMSG_ALIGNTO) < 0) {
		nlmsg_free(m);
		return NULL;
	}
	return m;
}

void vn_batch_add(struct vn_batch *b, struct nl_msg *m)
{
	struct nlmsghdr *nlh;

	if (!m) {
		b->failed = true;
		return;
	}
	nlh = nlmsg_hdr(m);
	nlh->nlmsg_seq = vn_nl_seq(b->nl);
	if (NLMSG_ALIGN(nlh->nlmsg_len) > sizeof(b->buf) - b->len) {
		b->failed = true;
	} else {
		memcpy(b->buf + b->len, nlh, nlh->nlmsg_len);
		memset(b->buf + b->len + nlh->nlmsg_len, 0,
		       NLMSG_ALIGN(nlh->nlmsg_len) - nlh->nlmsg_len);
		b->len += NLMSG_ALIGN(nlh->nlmsg_len);
		b->n++;
	}
	nlmsg_free(m);
}

static int failed(const char *what, struct vn_err *e)
{
	errno = ENOMEM;
	return vn_errf(e, VN_E_IO, "I/O error", "%s: out of memory", what);
}

int vn_batch_talk(struct vn_batch *b, vn_nl_cb cb, void *data, const char *what,
		  struct vn_err *e)
{
	if (b->failed)
		return failed(what, e);
	return vn_nl_talk(b->nl, b->buf, b->len, cb, data, what, e);
}

int vn_batch_talk_each(struct vn_batch *b, vn_nl_cb cb, void *data, int *errs, size_t n_errs,
		       const char *what, struct vn_err *e)
{
	if (b->failed)
		return failed(what, e);
	return vn_nl_talk_each(b->nl, b->buf, b->len, cb, data, errs, n_errs, what, e);
}
