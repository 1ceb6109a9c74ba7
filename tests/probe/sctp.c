/* sctp.c - building and parsing the few SCTP packets vn-probe speaks. */
#include <string.h>
#include "probe.h"

#define CHUNK_HDR 4
#define INIT_BODY 16		/* tag, a_rwnd, streams out/in, TSN */
#define COOKIE_PARAM 7
#define COOKIE_LEN 8

uint32_t probe_crc32c(const uint8_t *buf, size_t len)
{
	uint32_t crc = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < len; i++) {
		crc ^= buf[i];
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1u)));
	}
	return ~crc;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* The checksum field holds the CRC in little-endian byte order. */
static void seal(uint8_t *buf, size_t len)
{
	uint32_t crc;

	memset(buf + 8, 0, 4);
	crc = probe_crc32c(buf, len);
	buf[8] = crc & 0xff;
	buf[9] = (crc >> 8) & 0xff;
	buf[10] = (crc >> 16) & 0xff;
	buf[11] = crc >> 24;
}

static void common_header(uint8_t *buf, uint16_t sport, uint16_t dport,
			  uint32_t vtag)
{
	put16(buf, sport);
	put16(buf + 2, dport);
	put32(buf + 4, vtag);
	memset(buf + 8, 0, 4);
}

/* INIT and INIT-ACK share their fixed part. */
static void init_body(uint8_t *p, uint32_t tag, uint32_t tsn)
{
	put32(p, tag);
	put32(p + 4, 65536);	/* advertised receiver window */
	put16(p + 8, 10);	/* outbound streams */
	put16(p + 10, 10);	/* max inbound streams */
	put32(p + 12, tsn);
}

size_t probe_sctp_init(uint8_t *buf, uint16_t sport, uint16_t dport,
		       uint32_t init_tag, uint32_t tsn)
{
	size_t len = PROBE_SCTP_HDR + CHUNK_HDR + INIT_BODY;
	uint8_t *c = buf + PROBE_SCTP_HDR;

	common_header(buf, sport, dport, 0);
	c[0] = PROBE_SCTP_INIT;
	c[1] = 0;
	put16(c + 2, CHUNK_HDR + INIT_BODY);
	init_body(c + CHUNK_HDR, init_tag, tsn);
	seal(buf, len);
	return len;
}

size_t probe_sctp_init_ack(uint8_t *buf, const struct probe_sctp *init,
			   uint32_t my_tag, uint32_t tsn)
{
	size_t clen = CHUNK_HDR + INIT_BODY + 4 + COOKIE_LEN;
	size_t len = PROBE_SCTP_HDR + clen;
	uint8_t *c = buf + PROBE_SCTP_HDR;
	uint8_t *param = c + CHUNK_HDR + INIT_BODY;

	common_header(buf, init->dport, init->sport, init->init_tag);
	c[0] = PROBE_SCTP_INIT_ACK;
	c[1] = 0;
	put16(c + 2, clen);
	init_body(c + CHUNK_HDR, my_tag, tsn);
	/* State Cookie: opaque to the peer; ours names both tags. */
	put16(param, COOKIE_PARAM);
	put16(param + 2, 4 + COOKIE_LEN);
	put32(param + 4, init->init_tag);
	put32(param + 8, my_tag);
	seal(buf, len);
	return len;
}

size_t probe_sctp_abort(uint8_t *buf, uint16_t sport, uint16_t dport,
			uint32_t vtag)
{
	size_t len = PROBE_SCTP_HDR + CHUNK_HDR;
	uint8_t *c = buf + PROBE_SCTP_HDR;

	common_header(buf, sport, dport, vtag);
	c[0] = PROBE_SCTP_ABORT;
	c[1] = 0;
	put16(c + 2, CHUNK_HDR);
	seal(buf, len);
	return len;
}

static int checksum_ok(const uint8_t *buf, size_t len)
{
	uint8_t copy[1500];
	uint32_t want, crc;

	if (len > sizeof(copy))
		return 0;
	memcpy(copy, buf, len);
	want = (uint32_t)buf[8] | (uint32_t)buf[9] << 8 |
	       (uint32_t)buf[10] << 16 | (uint32_t)buf[11] << 24;
	memset(copy + 8, 0, 4);
	crc = probe_crc32c(copy, len);
	return crc == want;
}

int probe_sctp_parse(const uint8_t *buf, size_t len, struct probe_sctp *out)
{
	const uint8_t *c = buf + PROBE_SCTP_HDR;
	uint16_t clen;

	memset(out, 0, sizeof(*out));
	if (len < PROBE_SCTP_HDR + CHUNK_HDR || !checksum_ok(buf, len))
		return -1;
	clen = get16(c + 2);
	if (clen < CHUNK_HDR || clen > len - PROBE_SCTP_HDR)
		return -1;
	out->sport = get16(buf);
	out->dport = get16(buf + 2);
	out->vtag = get32(buf + 4);
	out->chunk = c[0];
	if (out->chunk == PROBE_SCTP_INIT || out->chunk == PROBE_SCTP_INIT_ACK) {
		if (clen < CHUNK_HDR + INIT_BODY)
			return -1;
		out->init_tag = get32(c + CHUNK_HDR);
	}
	return 0;
}
