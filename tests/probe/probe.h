/* probe.h - vn-probe: servers and a concurrent client for reachability tests.
 *
 * vn-probe answers one question for the conformance runner: does a new
 * connection from here to there get through the packet filter? It speaks
 * TCP (connect), UDP (request/echo) and SCTP. This kernel has no SCTP
 * sockets, so SCTP is spoken with raw IP protocol-132 sockets: the client
 * sends a genuine INIT (valid common header and CRC32c), the server answers
 * with an INIT-ACK carrying the client's tag, so a stateful filter sees a
 * real association start and its answer.
 *
 * This header has the pure parts (packet layout, parsing of arguments),
 * unit-tested without root, and the two entry points.
 */
#ifndef VN_PROBE_H
#define VN_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>

#ifndef IPPROTO_SCTP
#define IPPROTO_SCTP 132
#endif

/* ---- SCTP packets (RFC 9260) ---------------------------------------- */

#define PROBE_SCTP_INIT 1
#define PROBE_SCTP_INIT_ACK 2
#define PROBE_SCTP_ABORT 6
#define PROBE_SCTP_HDR 12		/* common header */
#define PROBE_SCTP_MAX 64		/* the largest packet built here */

/* What probe_sctp_parse found in a packet (host byte order). */
struct probe_sctp {
	uint16_t sport, dport;
	uint32_t vtag;
	uint8_t chunk;			/* type of the first chunk */
	uint32_t init_tag;		/* INIT and INIT-ACK only, else 0 */
};

/* CRC32c (Castagnoli) of buf, as SCTP uses it (initial ~0, final xor). */
uint32_t probe_crc32c(const uint8_t *buf, size_t len);

/* Builds an INIT from sport to dport asking the peer to use init_tag;
 * the common header's tag is 0 as RFC 9260 requires. Writes at most
 * PROBE_SCTP_MAX bytes into buf and returns the packet length. */
size_t probe_sctp_init(uint8_t *buf, uint16_t sport, uint16_t dport,
		       uint32_t init_tag, uint32_t tsn);

/* Builds the INIT-ACK answering init (as parsed): ports swapped, the
 * common header's tag = init->init_tag, own tag my_tag, a state cookie.
 * Returns the packet length (at most PROBE_SCTP_MAX). */
size_t probe_sctp_init_ack(uint8_t *buf, const struct probe_sctp *init,
			   uint32_t my_tag, uint32_t tsn);

/* Builds an ABORT from sport to dport with tag vtag (T bit clear). */
size_t probe_sctp_abort(uint8_t *buf, uint16_t sport, uint16_t dport,
			uint32_t vtag);

/* Parses an SCTP packet (starting at the common header). Checks the
 * checksum and the first chunk's length. Returns 0, or -1 if the packet is
 * short, malformed or has a bad checksum. */
int probe_sctp_parse(const uint8_t *buf, size_t len, struct probe_sctp *out);

/* ---- arguments ------------------------------------------------------- */

#define PROBE_MAX_PORTS 64

/* Parses a port list "80,81,111-116" into ports[] (at most max entries,
 * no duplicates needed). Returns the count, or -1 on bad input or
 * overflow. */
int probe_parse_ports(const char *s, uint16_t *ports, int max);

/* A probe target "PROTO:HOST:PORT": proto tcp|udp|sctp, HOST an IPv4
 * address or a bracketed IPv6 address ("sctp:[fd00::1]:80"). */
struct probe_target {
	int proto;			/* IPPROTO_TCP, _UDP or _SCTP */
	struct sockaddr_storage addr;	/* family, address and port */
	socklen_t addrlen;
};

/* Parses spec into t. Returns 0 or -1. */
int probe_parse_target(const char *spec, struct probe_target *t);

/* Parses a plain IPv4 or IPv6 address (port 0). Returns 0 or -1. */
int probe_parse_addr(const char *s, struct sockaddr_storage *ss,
		     socklen_t *len);

/* Protocol name ("tcp", "udp", "sctp") to number; -1 if unknown. */
int probe_proto_num(const char *name);

/* ---- modes ------------------------------------------------------------ */

struct probe_server_opts {
	uint16_t ports[PROBE_MAX_PORTS];
	int nports;
	bool tcp, udp, sctp;		/* which protocols to serve */
	bool v4, v6;			/* which families (v6 skipped if absent) */
	bool ready;			/* print "ready" once listening */
};

/* Serves until killed. Returns non-zero on a setup failure. */
int probe_server(const struct probe_server_opts *o);

struct probe_client_opts {
	int timeout_ms;			/* one attempt */
	int retries;			/* UDP and SCTP resends; TCP waits as long */
	uint16_t sport_base;		/* 0: the kernel (or chance) picks */
	const char *src;		/* source address to bind, or NULL */
	char **specs;			/* the targets, as given */
	int nspecs;
};

/* Probes every target at once and prints one line per target, in the
 * order given: "SPEC ok|timeout|refused|error TIME". Returns 0 if every
 * target answered, 1 if some did not, 2 on a setup failure. */
int probe_client(const struct probe_client_opts *o);

#endif
