/* main.c - vn-probe command line.
 *
 *   vn-probe server [--ports 80,81,111-116] [--protos tcp,udp,sctp]
 *                   [--family 4|6|all] [--ready]
 *   vn-probe client [--timeout MS] [--retries N] [--sport BASE] [--src ADDR]
 *                   TARGET...          TARGET = tcp|udp|sctp:ADDR:PORT
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "probe.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vn-probe server [--ports LIST] [--protos tcp,udp,sctp] "
		"[--family 4|6|all] [--ready]\n"
		"       vn-probe client [--timeout MS] [--retries N] "
		"[--sport BASE] [--src ADDR] TARGET...\n"
		"  LIST: 80,81,111-116   TARGET: tcp|udp|sctp:ADDR:PORT "
		"(IPv6 as [ADDR]:PORT)\n"
		"  client prints \"TARGET ok|timeout|refused|error TIME\" per "
		"target; exits 0 if all are ok, 1 if not, 2 on errors\n");
}

static int parse_protos(const char *s, struct probe_server_opts *o)
{
	char buf[64], *tok, *save = NULL;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	o->tcp = o->udp = o->sctp = false;
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		switch (probe_proto_num(tok)) {
		case IPPROTO_TCP: o->tcp = true; break;
		case IPPROTO_UDP: o->udp = true; break;
		case IPPROTO_SCTP: o->sctp = true; break;
		default: return -1;
		}
	}
	return 0;
}

static int parse_family(const char *s, bool *v4, bool *v6)
{
	*v4 = !strcmp(s, "4") || !strcmp(s, "all");
	*v6 = !strcmp(s, "6") || !strcmp(s, "all");
	return *v4 || *v6 ? 0 : -1;
}

static int server_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ports", required_argument, NULL, 'p' },
		{ "protos", required_argument, NULL, 'P' },
		{ "family", required_argument, NULL, 'f' },
		{ "ready", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct probe_server_opts o = { .tcp = true, .udp = true, .sctp = true,
				       .v4 = true, .v6 = true };
	int c;

	o.nports = probe_parse_ports("80,81", o.ports, PROBE_MAX_PORTS);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			o.nports = probe_parse_ports(optarg, o.ports, PROBE_MAX_PORTS);
			if (o.nports < 0)
				goto bad;
			break;
		case 'P':
			if (parse_protos(optarg, &o) < 0)
				goto bad;
			break;
		case 'f':
			if (parse_family(optarg, &o.v4, &o.v6) < 0)
				goto bad;
			break;
		case 'r':
			o.ready = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto bad;
		}
	}
	if (optind != argc)
		goto bad;
	return probe_server(&o);
bad:
	usage(stderr);
	return 2;
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

static int client_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "retries", required_argument, NULL, 'r' },
		{ "sport", required_argument, NULL, 's' },
		{ "src", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct probe_client_opts o = { .timeout_ms = 300, .retries = 1 };
	int c, v;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (parse_int(optarg, 1, 60000, &o.timeout_ms) < 0)
				goto bad;
			break;
		case 'r':
			if (parse_int(optarg, 0, 10, &o.retries) < 0)
				goto bad;
			break;
		case 's':
			if (parse_int(optarg, 1, 65535, &v) < 0)
				goto bad;
			o.sport_base = (uint16_t)v;
			break;
		case 'S':
			o.src = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto bad;
		}
	}
	o.specs = argv + optind;
	o.nspecs = argc - optind;
	if (o.nspecs == 0 || (o.sport_base && o.sport_base + o.nspecs > 65536))
		goto bad;
	return probe_client(&o);
bad:
	usage(stderr);
	return 2;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "server"))
		return server_main(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "client"))
		return client_main(argc - 1, argv + 1);
	usage(argc >= 2 && !strcmp(argv[1], "--help") ? stdout : stderr);
	return 2;
}
