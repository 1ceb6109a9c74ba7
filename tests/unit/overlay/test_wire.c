/* Unit tests for the two backends' wire formats: the UAPI text protocol
 * and WireGuard generic netlink, each parsed back after building,
 * including a device split over many netlink messages. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/genetlink.h>
#include <linux/wireguard.h>
#include <sodium.h>
#include "../../../overlay/keys.h"
#include "../../../overlay/uapi.h"
#include "../../../overlay/wgnl.h"

/* A device: n_peers peers, peer i with key bytes i+1 and n_ips allowed
 * IPs (v4 /32s and one v6 /64 each), endpoint v4 or v6 by parity. */
static void make_device(struct wg_device *d, size_t n_peers, size_t n_ips)
{
	wg_device_init(d, "wgtest");
	d->flags = WG_DEV_HAS_PRIVATE_KEY | WG_DEV_HAS_PORT | WG_DEV_REPLACE_PEERS;
	keys_generate(&d->private_key);
	d->listen_port = 51820;
	for (size_t i = 0; i < n_peers; i++) {
		struct wg_key k;
		struct wg_peer *p;
		char buf[64];

		memset(k.b, 0, sizeof(k.b));
		k.b[0] = (uint8_t)(i >> 8);
		k.b[1] = (uint8_t)i;
		k.b[31] = 0x5a;
		p = wg_device_add_peer(d, &k);
		p->flags = WG_PEER_HAS_ENDPOINT | WG_PEER_HAS_KEEPALIVE | WG_PEER_REPLACE_ALLOWEDIPS;
		p->keepalive = (uint16_t)(i % 30);
		if (i % 2)
			snprintf(buf, sizeof(buf), "fd30::%zx", i);
		else
			snprintf(buf, sizeof(buf), "172.30.%zu.%zu", i / 250, i % 250 + 1);
		vn_addr_parse(buf, &p->endpoint);
		p->endpoint_port = (uint16_t)(51820 + i % 3);
		for (size_t j = 0; j < n_ips; j++) {
			struct vn_prefix ip;

			if (j == 0)
				snprintf(buf, sizeof(buf), "fd00:10:%zx:%zx::/64", i, j);
			else
				snprintf(buf, sizeof(buf), "10.%zu.%zu.%zu/32", i % 250, j / 250, j % 250);
			vn_prefix_parse(buf, &ip);
			wg_peer_add_allowedip(p, &ip);
		}
	}
}

static void assert_same_device(const struct wg_device *a, const struct wg_device *b)
{
	assert_int_equal(a->flags & ~WG_DEV_HAS_PUBLIC_KEY, b->flags & ~WG_DEV_HAS_PUBLIC_KEY);
	assert_memory_equal(a->private_key.b, b->private_key.b, WG_KEY_LEN);
	assert_int_equal(a->listen_port, b->listen_port);
	assert_int_equal(a->n_peers, b->n_peers);
	for (size_t i = 0; i < a->n_peers; i++) {
		const struct wg_peer *p = &a->peers[i], *q = &b->peers[i];

		assert_memory_equal(p->public_key.b, q->public_key.b, WG_KEY_LEN);
		assert_int_equal(p->flags, q->flags);
		assert_int_equal(p->keepalive, q->keepalive);
		assert_int_equal(p->endpoint_port, q->endpoint_port);
		assert_int_equal(vn_addr_cmp(&p->endpoint, &q->endpoint), 0);
		assert_int_equal(p->n_allowedips, q->n_allowedips);
		for (size_t j = 0; j < p->n_allowedips; j++) {
			assert_int_equal(vn_addr_cmp(&p->allowedips[j].addr, &q->allowedips[j].addr), 0);
			assert_int_equal(p->allowedips[j].len, q->allowedips[j].len);
		}
	}
}

/* ---- UAPI ---- */

static void uapi_roundtrip(void **state)
{
	struct wg_device d, back;
	struct vn_err e = { 0 };
	char *text, hex[WG_KEY_HEX_LEN];
	size_t len;

	(void)state;
	make_device(&d, 5, 3);
	d.peers[2].flags = WG_PEER_REMOVE;
	d.peers[3].flags |= WG_PEER_UPDATE_ONLY;
	assert_int_equal(uapi_encode_set(&d, &text, &len, &e), 0);
	assert_int_equal(strncmp(text, "set=1\nprivate_key=", 18), 0);
	assert_non_null(strstr(text, "listen_port=51820\nreplace_peers=true\npublic_key="));
	assert_non_null(strstr(text, "endpoint=[fd30::1]:51821\n"));
	assert_non_null(strstr(text, "remove=true\n"));
	assert_non_null(strstr(text, "allowed_ip=10.0.0.1/32\n"));
	assert_string_equal(text + len - 2, "\n\n");
	assert_non_null(strstr(text, wg_key_to_hex(&d.private_key, hex)));
	wg_device_init(&back, NULL);
	assert_int_equal(uapi_parse(text, len, &back, &e), 0);
	/* a removed peer carries nothing else */
	d.peers[2].n_allowedips = 0;
	d.peers[2].keepalive = d.peers[2].endpoint_port = 0;
	memset(&d.peers[2].endpoint, 0, sizeof(d.peers[2].endpoint));
	assert_same_device(&d, &back);
	uapi_text_free(text, len);
	wg_device_free(&back);
	wg_device_free(&d);
}

static void uapi_get_answer(void **state)
{
	/* as wireguard-go answers get=1 */
	static const char answer[] =
		"private_key=e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a\n"
		"listen_port=51820\n"
		"public_key=b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33\n"
		"preshared_key=0000000000000000000000000000000000000000000000000000000000000000\n"
		"protocol_version=1\n"
		"endpoint=[abcd:23::33%2]:51820\n"
		"last_handshake_time_sec=1700000000\n"
		"last_handshake_time_nsec=5\n"
		"tx_bytes=38333\n"
		"rx_bytes=2224\n"
		"persistent_keepalive_interval=25\n"
		"allowed_ip=192.168.4.4/32\n"
		"public_key=58402e695ba1772b1cc9309755f043251ea77fdcf10fbe63989ceb7e19321376\n"
		"protocol_version=1\n"
		"endpoint=182.122.22.19:3233\n"
		"last_handshake_time_sec=0\n"
		"last_handshake_time_nsec=0\n"
		"tx_bytes=0\n"
		"rx_bytes=0\n"
		"persistent_keepalive_interval=0\n"
		"allowed_ip=192.168.4.6/32\n"
		"allowed_ip=fd00::/64\n"
		"errno=0\n"
		"\n";
	struct vn_err e = { 0 };
	struct wg_device d;
	char buf[64];

	(void)state;
	wg_device_init(&d, NULL);
	/* the zone-scoped endpoint is not ours to parse: an error naming it */
	assert_int_equal(uapi_parse(answer, sizeof(answer) - 1, &d, &e), -1);
	assert_non_null(strstr(e.details, "endpoint"));
	wg_device_free(&d);
	{
		char fixed[sizeof(answer)];
		char *z;

		memcpy(fixed, answer, sizeof(answer));
		z = strstr(fixed, "%2]");
		memmove(z, z + 2, strlen(z + 2) + 1);
		wg_device_init(&d, NULL);
		assert_int_equal(uapi_parse(fixed, strlen(fixed), &d, &e), 0);
	}
	assert_true(d.flags & WG_DEV_HAS_PRIVATE_KEY);
	assert_int_equal(d.listen_port, 51820);
	assert_int_equal(d.n_peers, 2);
	assert_int_equal(d.peers[0].last_handshake_sec, 1700000000);
	assert_int_equal(d.peers[0].tx_bytes, 38333);
	assert_int_equal(d.peers[0].rx_bytes, 2224);
	assert_int_equal(d.peers[0].keepalive, 25);
	assert_false(d.peers[0].flags & WG_PEER_HAS_PSK);
	assert_string_equal(uapi_endpoint_str(&d.peers[0].endpoint, d.peers[0].endpoint_port, buf),
			    "[abcd:23::33]:51820");
	assert_int_equal(d.peers[1].n_allowedips, 2);
	assert_string_equal(vn_prefix_str(&d.peers[1].allowedips[1], buf), "fd00::/64");
	wg_device_free(&d);
}

/* wireguard-go 0.0.20220316 answers a refused set with a negative errno
 * ("errno=-98" when the port is taken), which wg(8) reports as "Address
 * already in use": the same error, not a malformed answer. */
static void uapi_errno_answers(void **state)
{
	static const char *answers[] = { "errno=-98\n\n", "errno=98\n\n" };
	struct vn_err e = { 0 };
	struct wg_device d;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		wg_device_init(&d, NULL);
		errno = 0;
		assert_int_equal(uapi_parse(answers[i], strlen(answers[i]), &d, &e), -1);
		assert_int_equal(errno, EADDRINUSE);
		assert_non_null(strstr(e.details, strerror(EADDRINUSE)));
		wg_device_free(&d);
	}
	wg_device_init(&d, NULL);
	assert_int_equal(uapi_parse("errno=0\n\n", 9, &d, &e), 0);
	assert_int_equal(uapi_parse("errno=--1\n\n", 11, &d, &e), -1);
	assert_non_null(strstr(e.details, "bad errno"));
	wg_device_free(&d);
}

static void uapi_errors(void **state)
{
	struct vn_err e = { 0 };
	struct wg_device d;
	struct vn_addr a;
	uint16_t port;
	static const char *bad[] = {
		"errno=22\n\n",
		"listen_port=70000\n\n",
		"private_key=1234\n\n",
		"no equals sign\n\n",
		"public_key=58402e695ba1772b1cc9309755f043251ea77fdcf10fbe63989ceb7e19321376\n"
		"allowed_ip=10.0.0.0/33\n\n",
		"public_key=58402e695ba1772b1cc9309755f043251ea77fdcf10fbe63989ceb7e19321376\n"
		"endpoint=1.2.3.4\n\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		wg_device_init(&d, NULL);
		errno = 0;
		assert_int_equal(uapi_parse(bad[i], strlen(bad[i]), &d, &e), -1);
		wg_device_free(&d);
	}
	wg_device_init(&d, NULL);
	assert_int_equal(uapi_parse("errno=22\n\n", 10, &d, &e), -1);
	assert_int_equal(errno, 22);
	wg_device_free(&d);
	/* a bad private key value is never echoed */
	wg_device_init(&d, NULL);
	assert_int_equal(uapi_parse("private_key=secretsecret\n\n", 26, &d, &e), -1);
	assert_null(strstr(e.details, "secretsecret"));
	wg_device_free(&d);
	/* an empty line ends the message: what follows is not read */
	wg_device_init(&d, NULL);
	assert_int_equal(uapi_parse("listen_port=1\n\nlisten_port=x\n", 29, &d, &e), 0);
	assert_int_equal(d.listen_port, 1);
	wg_device_free(&d);
	assert_int_equal(uapi_endpoint_parse("[fd00::1]:51820", &a, &port), 0);
	assert_int_equal(port, 51820);
	assert_int_equal(uapi_endpoint_parse("10.0.0.1:0", &a, &port), 0);
	assert_int_equal(uapi_endpoint_parse("10.0.0.1:65536", &a, &port), -1);
	assert_int_equal(uapi_endpoint_parse("[fd00::1]51820", &a, &port), -1);
	assert_int_equal(uapi_endpoint_parse("fd00::1", &a, &port), -1);
	assert_int_equal(uapi_endpoint_parse(":80", &a, &port), -1);
}

/* ---- generic netlink ---- */

#define FAMILY 0x1b

/* Walks messages: checks each against msg_max and the split rules. */
static void check_split(const struct wgnl_buf *b, size_t msg_max, size_t *n_msgs)
{
	const struct nlmsghdr *nlh = (const void *)b->data;
	int left = (int)b->len;
	size_t i = 0;
	struct wg_key last_key = { 0 };
	bool have_last = false;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left), i++) {
		struct wg_device one;
		struct vn_err e = { 0 };
		const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);

		assert_true(nlh->nlmsg_len <= msg_max);
		assert_int_equal(nlh->nlmsg_type, FAMILY);
		assert_int_equal(g->cmd, WG_CMD_SET_DEVICE);
		assert_true(nlh->nlmsg_flags & NLM_F_ACK);
		wg_device_init(&one, NULL);
		assert_int_equal(wgnl_parse(nlh, &one, &e), 0);
		assert_string_equal(one.ifname, "wgtest");	/* every message names the device */
		/* device attributes and REPLACE_PEERS: first message only */
		assert_int_equal(!!(one.flags & WG_DEV_REPLACE_PEERS), i == 0);
		assert_int_equal(!!(one.flags & WG_DEV_HAS_PRIVATE_KEY), i == 0);
		assert_int_equal(!!(one.flags & WG_DEV_HAS_PORT), i == 0);
		for (size_t p = 0; p < one.n_peers; p++) {
			bool continued = p == 0 && have_last &&
					 wg_key_cmp(&one.peers[0].public_key, &last_key) == 0;

			/* REPLACE_ALLOWEDIPS (and the endpoint): a peer's first part only */
			assert_int_equal(!!(one.peers[p].flags & WG_PEER_REPLACE_ALLOWEDIPS), !continued);
			assert_int_equal(!!(one.peers[p].flags & WG_PEER_HAS_ENDPOINT), !continued);
		}
		if (one.n_peers) {
			last_key = one.peers[one.n_peers - 1].public_key;
			have_last = true;
		}
		wg_device_free(&one);
	}
	assert_int_equal(left, 0);
	*n_msgs = i;
}

static void build_and_parse(size_t n_peers, size_t n_ips, size_t msg_max, size_t min_msgs)
{
	struct wg_device d, back;
	struct wgnl_buf b = { 0 };
	struct vn_err e = { 0 };
	size_t n_msgs;

	make_device(&d, n_peers, n_ips);
	assert_int_equal(wgnl_build_set(&b, FAMILY, 100, "wgtest", &d, msg_max, &e), 0);
	check_split(&b, msg_max, &n_msgs);
	assert_int_equal(n_msgs, b.n_msgs);
	assert_true(n_msgs >= min_msgs);
	wg_device_init(&back, NULL);
	assert_int_equal(wgnl_parse_all(b.data, b.len, &back, &e), 0);
	assert_same_device(&d, &back);
	wgnl_buf_free(&b);
	wg_device_free(&back);
	wg_device_free(&d);
}

static void netlink_one_message(void **state)
{
	(void)state;
	build_and_parse(3, 2, WGNL_MSG_MAX, 1);
}

static void netlink_split_peers(void **state)
{
	(void)state;
	/* 1,000 peers of 2 allowed IPs do not fit in 16 KiB */
	build_and_parse(1000, 2, WGNL_MSG_MAX, 5);
}

static void netlink_split_inside_a_peer(void **state)
{
	(void)state;
	/* 600 allowed IPs for one peer: cut across many small messages */
	build_and_parse(3, 600, 1024, 20);
	build_and_parse(40, 37, 512, 40);
	build_and_parse(1, 1, WGNL_MSG_MIN, 1);
}

static void netlink_too_small(void **state)
{
	struct wg_device d;
	struct wgnl_buf b = { 0 };
	struct vn_err e = { 0 };

	(void)state;
	make_device(&d, 1, 1);
	assert_int_equal(wgnl_build_set(&b, FAMILY, 1, "wgtest", &d, 64, &e), -1);
	wgnl_buf_free(&b);
	wg_device_free(&d);
}

static void netlink_empty_and_removal(void **state)
{
	struct wg_device d, back;
	struct wgnl_buf b = { 0 };
	struct vn_err e = { 0 };

	(void)state;
	wg_device_init(&d, "wgtest");
	assert_int_equal(wgnl_build_set(&b, FAMILY, 1, "wgtest", &d, WGNL_MSG_MAX, &e), 0);
	assert_int_equal(b.n_msgs, 1);
	wgnl_buf_free(&b);
	make_device(&d, 2, 2);
	d.flags = 0;
	d.peers[0].flags = WG_PEER_REMOVE;
	assert_int_equal(wgnl_build_set(&b, FAMILY, 1, "wgtest", &d, WGNL_MSG_MAX, &e), 0);
	wg_device_init(&back, NULL);
	assert_int_equal(wgnl_parse_all(b.data, b.len, &back, &e), 0);
	assert_int_equal(back.n_peers, 2);
	assert_int_equal(back.peers[0].flags, WG_PEER_REMOVE);
	assert_int_equal(back.peers[0].n_allowedips, 0);
	assert_int_equal(back.peers[1].n_allowedips, 2);
	wgnl_buf_free(&b);
	wg_device_free(&back);
	wg_device_free(&d);
}

/* A GET_DEVICE answer as the kernel sends it: statistics attributes, and
 * a peer's allowed IPs continued in a second message. */
static void netlink_get_answer(void **state)
{
	char buf[2][1024];
	struct nlmsghdr *nlh[2];
	struct wg_device d;
	struct vn_err e = { 0 };
	uint8_t key[WG_KEY_LEN];
	int64_t ts[2] = { 1700000000, 42 };
	struct wgnl_buf all = { 0 };

	(void)state;
	memset(key, 7, sizeof(key));
	for (int m = 0; m < 2; m++) {
		struct nlattr *peers, *peer, *ips, *ip;
		struct genlmsghdr *g;

		nlh[m] = mnl_nlmsg_put_header(buf[m]);
		nlh[m]->nlmsg_type = FAMILY;
		nlh[m]->nlmsg_flags = NLM_F_MULTI;
		g = mnl_nlmsg_put_extra_header(nlh[m], sizeof(*g));
		g->cmd = WG_CMD_GET_DEVICE;
		mnl_attr_put_u32(nlh[m], WGDEVICE_A_IFINDEX, 7);
		mnl_attr_put_strz(nlh[m], WGDEVICE_A_IFNAME, "wg0");
		if (m == 0) {
			mnl_attr_put(nlh[m], WGDEVICE_A_PUBLIC_KEY, WG_KEY_LEN, key);
			mnl_attr_put_u16(nlh[m], WGDEVICE_A_LISTEN_PORT, 51820);
		}
		peers = mnl_attr_nest_start(nlh[m], WGDEVICE_A_PEERS);
		peer = mnl_attr_nest_start(nlh[m], 0);
		mnl_attr_put(nlh[m], WGPEER_A_PUBLIC_KEY, WG_KEY_LEN, key);
		if (m == 0) {
			mnl_attr_put(nlh[m], WGPEER_A_LAST_HANDSHAKE_TIME, sizeof(ts), ts);
			mnl_attr_put_u64(nlh[m], WGPEER_A_RX_BYTES, 1234);
			mnl_attr_put_u64(nlh[m], WGPEER_A_TX_BYTES, 5678);
			mnl_attr_put_u16(nlh[m], WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, 0);
			mnl_attr_put_u32(nlh[m], WGPEER_A_PROTOCOL_VERSION, 1);
		}
		ips = mnl_attr_nest_start(nlh[m], WGPEER_A_ALLOWEDIPS);
		ip = mnl_attr_nest_start(nlh[m], 0);
		mnl_attr_put_u16(nlh[m], WGALLOWEDIP_A_FAMILY, AF_INET);
		mnl_attr_put(nlh[m], WGALLOWEDIP_A_IPADDR, 4, m ? "\x0a\x00\x00\x02" : "\x0a\x00\x00\x01");
		mnl_attr_put_u8(nlh[m], WGALLOWEDIP_A_CIDR_MASK, 32);
		mnl_attr_nest_end(nlh[m], ip);
		mnl_attr_nest_end(nlh[m], ips);
		mnl_attr_nest_end(nlh[m], peer);
		mnl_attr_nest_end(nlh[m], peers);
		all.len = 0;
	}
	all.data = malloc(nlh[0]->nlmsg_len + nlh[1]->nlmsg_len);
	memcpy(all.data, nlh[0], nlh[0]->nlmsg_len);
	memcpy(all.data + nlh[0]->nlmsg_len, nlh[1], nlh[1]->nlmsg_len);
	all.len = all.cap = nlh[0]->nlmsg_len + nlh[1]->nlmsg_len;
	wg_device_init(&d, NULL);
	assert_int_equal(wgnl_parse_all(all.data, all.len, &d, &e), 0);
	assert_int_equal(d.ifindex, 7);
	assert_string_equal(d.ifname, "wg0");
	assert_true(d.flags & WG_DEV_HAS_PUBLIC_KEY);
	assert_int_equal(d.n_peers, 1);	/* merged */
	assert_int_equal(d.peers[0].n_allowedips, 2);
	assert_int_equal(d.peers[0].last_handshake_sec, 1700000000);
	assert_int_equal(d.peers[0].last_handshake_nsec, 42);
	assert_int_equal(d.peers[0].rx_bytes, 1234);
	assert_int_equal(d.peers[0].tx_bytes, 5678);
	wg_device_free(&d);
	/* a truncated answer is an error, not a crash */
	wg_device_init(&d, NULL);
	assert_int_equal(wgnl_parse_all(all.data, all.len - 8, &d, &e), -1);
	wg_device_free(&d);
	wgnl_buf_free(&all);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(uapi_roundtrip),
		cmocka_unit_test(uapi_get_answer),
		cmocka_unit_test(uapi_errors),
		cmocka_unit_test(uapi_errno_answers),
		cmocka_unit_test(netlink_one_message),
		cmocka_unit_test(netlink_split_peers),
		cmocka_unit_test(netlink_split_inside_a_peer),
		cmocka_unit_test(netlink_too_small),
		cmocka_unit_test(netlink_empty_and_removal),
		cmocka_unit_test(netlink_get_answer),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
