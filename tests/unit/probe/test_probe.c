/* Unit tests for vn-probe's pure parts: CRC32c, SCTP packets, arguments. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <string.h>
#include "probe.h"

static void crc32c_known_vectors(void **state)
{
	const uint8_t digits[] = "123456789";
	uint8_t zeros[32] = { 0 };

	(void)state;
	/* the check value of CRC-32C, and RFC 3720 B.4's 32 zero bytes */
	assert_int_equal(probe_crc32c(digits, 9), 0xe3069283u);
	assert_int_equal(probe_crc32c(zeros, sizeof(zeros)), 0x8a9136aau);
}

static void init_round_trip(void **state)
{
	uint8_t pkt[PROBE_SCTP_MAX];
	struct probe_sctp s;
	size_t len;

	(void)state;
	len = probe_sctp_init(pkt, 40000, 80, 0xdeadbeef, 7);
	assert_int_equal(len, 32);
	assert_int_equal(probe_sctp_parse(pkt, len, &s), 0);
	assert_int_equal(s.sport, 40000);
	assert_int_equal(s.dport, 80);
	assert_int_equal(s.vtag, 0);	/* an INIT always carries tag 0 */
	assert_int_equal(s.chunk, PROBE_SCTP_INIT);
	assert_int_equal(s.init_tag, 0xdeadbeef);
	/* one flipped bit anywhere breaks the checksum */
	pkt[20] ^= 0x10;
	assert_int_equal(probe_sctp_parse(pkt, len, &s), -1);
}

static void init_ack_answers_init(void **state)
{
	uint8_t pkt[PROBE_SCTP_MAX];
	struct probe_sctp init = { .sport = 40000, .dport = 81,
				   .chunk = PROBE_SCTP_INIT,
				   .init_tag = 0x01020304 };
	struct probe_sctp s;
	size_t len;

	(void)state;
	len = probe_sctp_init_ack(pkt, &init, 0x0a0b0c0d, 99);
	assert_true(len <= PROBE_SCTP_MAX);
	assert_int_equal(len % 4, 0);
	assert_int_equal(probe_sctp_parse(pkt, len, &s), 0);
	assert_int_equal(s.sport, 81);
	assert_int_equal(s.dport, 40000);
	assert_int_equal(s.vtag, 0x01020304);
	assert_int_equal(s.chunk, PROBE_SCTP_INIT_ACK);
	assert_int_equal(s.init_tag, 0x0a0b0c0d);
	/* the mandatory State Cookie parameter follows the fixed part */
	assert_int_equal(pkt[32] << 8 | pkt[33], 7);
}

static void parse_rejects_short_and_bad_chunks(void **state)
{
	uint8_t pkt[PROBE_SCTP_MAX];
	struct probe_sctp s;
	size_t len;

	(void)state;
	len = probe_sctp_abort(pkt, 1, 2, 3);
	assert_int_equal(probe_sctp_parse(pkt, len, &s), 0);
	assert_int_equal(s.chunk, PROBE_SCTP_ABORT);
	assert_int_equal(s.vtag, 3);
	assert_int_equal(probe_sctp_parse(pkt, 12, &s), -1);
	/* a chunk claiming to be longer than the packet */
	len = probe_sctp_init(pkt, 1, 2, 3, 4);
	assert_int_equal(probe_sctp_parse(pkt, len - 4, &s), -1);
}

static void port_lists(void **state)
{
	uint16_t p[PROBE_MAX_PORTS];

	(void)state;
	assert_int_equal(probe_parse_ports("80,81,111-116", p, PROBE_MAX_PORTS), 8);
	assert_int_equal(p[0], 80);
	assert_int_equal(p[2], 111);
	assert_int_equal(p[7], 116);
	assert_int_equal(probe_parse_ports("1", p, 1), 1);
	assert_int_equal(probe_parse_ports("1,2", p, 1), -1);
	assert_int_equal(probe_parse_ports("", p, 4), -1);
	assert_int_equal(probe_parse_ports("0", p, 4), -1);
	assert_int_equal(probe_parse_ports("65536", p, 4), -1);
	assert_int_equal(probe_parse_ports("9-8", p, 4), -1);
	assert_int_equal(probe_parse_ports("80,", p, 4), -1);
	assert_int_equal(probe_parse_ports("80;81", p, 4), -1);
}

static void targets(void **state)
{
	struct probe_target t;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&t.addr;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&t.addr;
	char buf[64];

	(void)state;
	assert_int_equal(probe_parse_target("sctp:10.244.1.5:81", &t), 0);
	assert_int_equal(t.proto, IPPROTO_SCTP);
	assert_int_equal(t.addr.ss_family, AF_INET);
	assert_int_equal(ntohs(a4->sin_port), 81);
	assert_string_equal(inet_ntop(AF_INET, &a4->sin_addr, buf, sizeof(buf)),
			    "10.244.1.5");
	assert_int_equal(probe_parse_target("udp:[fd00:10:244:1::5]:80", &t), 0);
	assert_int_equal(t.proto, IPPROTO_UDP);
	assert_int_equal(t.addr.ss_family, AF_INET6);
	assert_int_equal(ntohs(a6->sin6_port), 80);
	assert_int_equal(probe_parse_target("tcp:fd00::1:80", &t), -1);
	assert_int_equal(probe_parse_target("icmp:10.0.0.1:80", &t), -1);
	assert_int_equal(probe_parse_target("tcp:10.0.0.1", &t), -1);
	assert_int_equal(probe_parse_target("tcp:10.0.0.1:0", &t), -1);
	assert_int_equal(probe_parse_target("tcp:10.0.0.1:80x", &t), -1);
	assert_int_equal(probe_parse_target("tcp:host:80", &t), -1);
	assert_int_equal(probe_parse_target("tcp:[fd00::1:80", &t), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(crc32c_known_vectors),
		cmocka_unit_test(init_round_trip),
		cmocka_unit_test(init_ack_answers_init),
		cmocka_unit_test(parse_rejects_short_and_bad_chunks),
		cmocka_unit_test(port_lists),
		cmocka_unit_test(targets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
