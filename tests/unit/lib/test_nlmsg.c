/* Unit tests for lib/nlmsg.c (batches of libnl-3 messages) and lib/nl.c
 * (round trips on a plain netlink socket). The round trips ask the kernel
 * about the loopback link, which needs no privilege. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <net/if.h>
#include <linux/rtnetlink.h>
#include <cmocka.h>
#include <veilnet/nlmsg.h>

static struct nl_msg *getlink(const char *name)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nl_msg *m = vn_msg_new(RTM_GETLINK, NLM_F_ACK, &ifi, sizeof(ifi));

	assert_non_null(m);
	assert_int_equal(nla_put_string(m, IFLA_IFNAME, name), 0);
	return m;
}

static void numbers_and_pads_each_message(void **state)
{
	struct vn_nl nl = { .seq = 41 };
	struct vn_batch b;
	const struct nlmsghdr *first, *second;
	struct nl_msg *m;

	(void)state;
	memset(&b, 0xaa, sizeof(b));	/* padding must not keep old bytes */
	vn_batch_init(&b, &nl);
	m = getlink("lo");
	assert_int_equal(nlmsg_append(m, "ab", 2, 0), 0);	/* unpadded: 2 bytes to pad */
	vn_batch_add(&b, m);
	vn_batch_add(&b, getlink("lo"));
	assert_false(b.failed);
	assert_int_equal(b.n, 2);
	first = (const void *)b.buf;
	second = (const void *)(b.buf + NLMSG_ALIGN(first->nlmsg_len));
	assert_int_equal(first->nlmsg_seq, 42);
	assert_int_equal(second->nlmsg_seq, 43);
	assert_int_equal(first->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
	assert_int_not_equal(first->nlmsg_len, NLMSG_ALIGN(first->nlmsg_len));
	for (size_t i = first->nlmsg_len; i < NLMSG_ALIGN(first->nlmsg_len); i++)
		assert_int_equal(b.buf[i], 0);
	assert_int_equal(b.len, NLMSG_ALIGN(first->nlmsg_len) + NLMSG_ALIGN(second->nlmsg_len));
}

static void a_full_batch_fails_before_sending(void **state)
{
	struct vn_nl nl = { .open = false };
	struct vn_batch b;
	struct vn_err e;
	size_t n = 0;

	(void)state;
	vn_batch_init(&b, &nl);
	while (!b.failed && n++ < VN_BATCH_SIZE)
		vn_batch_add(&b, getlink("lo"));
	assert_true(b.failed);
	assert_true(b.len <= VN_BATCH_SIZE);
	assert_int_equal(vn_batch_talk(&b, NULL, NULL, "test", &e), -1);
	assert_int_equal(errno, ENOMEM);
	assert_int_equal(e.code, VN_E_IO);
	assert_non_null(strstr(e.details, "test: out of memory"));
}

static void a_missing_message_fails_the_batch(void **state)
{
	struct vn_nl nl = { .open = false };
	struct vn_batch b;

	(void)state;
	vn_batch_init(&b, &nl);
	vn_batch_add(&b, NULL);
	assert_true(b.failed);
	assert_int_equal(b.n, 0);
}

static int count_lo(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(nlh);

	if (nlh->nlmsg_type == RTM_NEWLINK && ifi->ifi_flags & IFF_LOOPBACK)
		(*(int *)data)++;
	return 1;
}

static void answers_each_message_of_a_batch(void **state)
{
	struct vn_nl nl;
	struct vn_batch b;
	struct vn_err e;
	int errs[3], seen = 0;

	(void)state;
	assert_int_equal(vn_nl_open(&nl, NETLINK_ROUTE, &e), 0);
	vn_batch_init(&b, &nl);
	vn_batch_add(&b, getlink("lo"));
	vn_batch_add(&b, getlink("vn-no-such-if"));
	vn_batch_add(&b, getlink("lo"));
	assert_int_equal(vn_batch_talk_each(&b, count_lo, &seen, errs, 3, "get links", &e), 0);
	assert_int_equal(errs[0], 0);
	assert_int_equal(errs[1], ENODEV);
	assert_int_equal(errs[2], 0);
	assert_int_equal(seen, 2);
	vn_nl_close(&nl);
	vn_nl_close(&nl);	/* a second close is harmless */
}

static void a_kernel_error_names_the_request(void **state)
{
	struct vn_nl nl;
	struct vn_batch b;
	struct vn_err e;

	(void)state;
	assert_int_equal(vn_nl_open(&nl, NETLINK_ROUTE, &e), 0);
	vn_batch_init(&b, &nl);
	vn_batch_add(&b, getlink("vn-no-such-if"));
	assert_int_equal(vn_batch_talk(&b, NULL, NULL, "get link", &e), -1);
	assert_int_equal(errno, ENODEV);
	assert_int_equal(e.code, VN_E_IO);
	assert_non_null(strstr(e.details, "get link: "));
	vn_nl_close(&nl);
}

static void a_dump_reaches_its_end(void **state)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct vn_nl nl;
	struct vn_batch b;
	struct vn_err e;
	int seen = 0;

	(void)state;
	assert_int_equal(vn_nl_open(&nl, NETLINK_ROUTE, &e), 0);
	vn_batch_init(&b, &nl);
	vn_batch_add(&b, vn_msg_new(RTM_GETLINK, NLM_F_DUMP, &ifi, sizeof(ifi)));
	assert_int_equal(vn_batch_talk(&b, count_lo, &seen, "list links", &e), 0);
	assert_int_equal(seen, 1);
	vn_nl_close(&nl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(numbers_and_pads_each_message),
		cmocka_unit_test(a_full_batch_fails_before_sending),
		cmocka_unit_test(a_missing_message_fails_the_batch),
		cmocka_unit_test(answers_each_message_of_a_batch),
		cmocka_unit_test(a_kernel_error_names_the_request),
		cmocka_unit_test(a_dump_reaches_its_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
