/* veilnet-policy: Kubernetes NetworkPolicy on nftables.
 *
 *   veilnet-policy apply|dry-run|explain|flush|watch [--node NAME] [-f FILE ...]
 *
 * See usage() and the README for the options of each command.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <veilnet/file.h>
#include "engine.h"
#include "parse.h"
#include "report.h"
#include "watch.h"

struct cli {
	const char *cmd;
	const char *node;
	const char **files;
	size_t n_files;
	int log_group;
	bool json, matrix, quiet;
	const char *from, *to, *port, *pods;
	long debounce_ms, max_delay_ms;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: veilnet-policy COMMAND [--node NAME] [-f FILE ...] [options]\n"
		"\n"
		"Input: Kubernetes JSON (kubectl get namespaces,pods,networkpolicies -A -o json),\n"
		"from the files given with -f, or stdin (-f - or no -f).\n"
		"\n"
		"commands:\n"
		"  apply      program table inet veilnet in the current network namespace\n"
		"  dry-run    print the nft ruleset apply would load\n"
		"  explain    --from NS/POD|IP --to NS/POD|IP [--port P/PROTO] [--json]\n"
		"             explain --matrix [--port P/PROTO] [--pods NS/POD,...]\n"
		"  flush      delete table inet veilnet\n"
		"  watch      read a stream of objects / watch events on stdin and keep the\n"
		"             table in step (debounced); -f files give the initial state\n"
		"options:\n"
		"  --node NAME        enforce only for pods with spec.nodeName NAME\n"
		"                     (default: every pod)\n"
		"  --log-drops GROUP  log dropped connections to nflog group GROUP\n"
		"  --debounce MS      watch: quiet time before applying (default 100)\n"
		"  --max-delay MS     watch: longest delay of a change (default 1000)\n"
		"  --quiet            apply/watch: no summary lines\n");
}

static int parse_args(int argc, char **argv, struct cli *c)
{
	static const struct option opts[] = {
		{ "node", required_argument, NULL, 'n' },
		{ "file", required_argument, NULL, 'f' },
		{ "log-drops", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "matrix", no_argument, NULL, 'm' },
		{ "from", required_argument, NULL, 'F' },
		{ "to", required_argument, NULL, 'T' },
		{ "port", required_argument, NULL, 'p' },
		{ "pods", required_argument, NULL, 'P' },
		{ "debounce", required_argument, NULL, 'd' },
		{ "max-delay", required_argument, NULL, 'D' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int o;

	memset(c, 0, sizeof(*c));
	c->log_group = -1;
	c->debounce_ms = 100;
	c->max_delay_ms = 1000;
	if (argc < 2 || argv[1][0] == '-') {
		usage(argc >= 2 && !strcmp(argv[1], "--help") ? stdout : stderr);
		return argc >= 2 && !strcmp(argv[1], "--help") ? 1 : -1;
	}
	c->cmd = argv[1];
	c->files = calloc((size_t)argc, sizeof(char *));
	if (!c->files)
		return -1;
	optind = 2;
	while ((o = getopt_long(argc, argv, "n:f:qh", opts, NULL)) != -1) {
		switch (o) {
		case 'n': c->node = optarg; break;
		case 'f': c->files[c->n_files++] = optarg; break;
		case 'l': c->log_group = atoi(optarg); break;
		case 'j': c->json = true; break;
		case 'm': c->matrix = true; break;
		case 'F': c->from = optarg; break;
		case 'T': c->to = optarg; break;
		case 'p': c->port = optarg; break;
		case 'P': c->pods = optarg; break;
		case 'd': c->debounce_ms = atol(optarg); break;
		case 'D': c->max_delay_ms = atol(optarg); break;
		case 'q': c->quiet = true; break;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "veilnet-policy: unexpected argument \"%s\"\n", argv[optind]);
		return -1;
	}
	if (c->log_group < -1 || c->log_group > 65535) {
		fprintf(stderr, "veilnet-policy: --log-drops: group must be 0..65535\n");
		return -1;
	}
	return 0;
}

static bool blank(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!strchr(" \t\r\n", text[i]))
			return false;
	return true;
}

/* Loads the -f files (or stdin) into w. need_input: input without a
 * single JSON value is an error, not an empty cluster: it is what a
 * failed `kubectl get` leaves, and applying it would lift every policy. */
static int load_files(const struct cli *c, struct np_world *w, bool default_stdin,
		      bool need_input, struct vn_err *e)
{
	static const char *const std_in[] = { "-" };
	const char *const *files = c->n_files ? c->files : std_in;
	size_t n = c->n_files ? c->n_files : default_stdin ? 1 : 0;
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		size_t len;
		char *text = vn_read_file(files[i], &len, e);
		int rc;

		if (!text)
			return -1;
		any |= !blank(text, len);
		rc = np_load_text(w, text, len, strcmp(files[i], "-") ? files[i] : "stdin", e);
		free(text);
		if (rc)
			return -1;
	}
	if (need_input && !any)
		return vn_errf(e, VN_E_INVALID, "invalid input",
			       "no input: not one JSON value in %s (an empty cluster is a List "
			       "without items); nothing done",
			       c->n_files ? "the files given" : "stdin");
	return 0;
}

static int cmd_apply(const struct cli *c, const struct np_world *w, struct vn_err *e)
{
	struct nr_opts o = { .node = c->node, .log_group = c->log_group };
	struct engine en;
	struct engine_report rep;
	char line[1024];
	int rc;

	if (engine_open(&en, &o, e))
		return -1;
	rc = engine_apply(&en, w, &rep, e);
	engine_close(&en);
	if (!rc && !c->quiet) {
		engine_report_line(&rep, line, sizeof(line));
		printf("%s\n", line);
	}
	return rc;
}

static int cmd_dry_run(const struct cli *c, const struct np_world *w, struct vn_err *e)
{
	struct nr_opts o = { .node = c->node, .log_group = c->log_group };
	struct nr_ruleset rs;

	if (nr_compile(w, &o, &rs))
		return vn_errf(e, VN_E_IO, "I/O error", "compile: out of memory");
	nr_render(&rs, stdout);
	nr_ruleset_free(&rs);
	return 0;
}

static int cmd_explain(const struct cli *c, const struct np_world *w, struct vn_err *e)
{
	struct np_endpoint src, dst;
	struct np_verdict v;
	uint16_t port = 80;
	uint8_t proto = 6;
	int rc = 0;

	if (c->port && np_port_parse(c->port, &port, &proto, e))
		return -1;
	if (c->matrix)
		return np_report_matrix(stdout, w, c->pods, port, proto, e);
	if (!c->from || !c->to)
		return vn_errf(e, VN_E_INVALID, "invalid argument",
			       "explain needs --from and --to (or --matrix)");
	if (np_endpoint_parse(w, c->from, &src, e) || np_endpoint_parse(w, c->to, &dst, e))
		return vn_err_wrap(e, "explain");
	np_endpoints_resolve(&src, &dst);
	if (np_explain(w, &src, &dst, port, proto, &v))
		return vn_errf(e, VN_E_IO, "I/O error", "out of memory");
	if (c->json) {
		json_t *j = np_report_json(&src, &dst, port, proto, &v);

		if (!j || json_dumpf(j, stdout, JSON_INDENT(2)) || printf("\n") < 0)
			rc = vn_errf(e, VN_E_IO, "I/O error", "writing JSON failed");
		json_decref(j);
	} else {
		np_report_text(stdout, &src, &dst, port, proto, &v);
	}
	np_verdict_free(&v);
	return rc;
}

static int cmd_flush(struct vn_err *e)
{
	struct vn_nl nl;
	int rc;

	if (vn_nl_open(&nl, NETLINK_NETFILTER, e))
		return -1;
	rc = nk_flush(&nl, e);
	vn_nl_close(&nl);
	return rc;
}

static int cmd_watch(const struct cli *c, struct np_world *w, struct vn_err *e)
{
	struct watch_opts o = {
		.rules = { .node = c->node, .log_group = c->log_group },
		.debounce_ms = c->debounce_ms,
		.max_delay_ms = c->max_delay_ms,
		.quiet = c->quiet,
	};

	return watch_run(w, &o, 0, e);
}

int main(int argc, char **argv)
{
	struct np_world w = { 0 };
	struct vn_err e = { 0 };
	struct cli c;
	int rc = parse_args(argc, argv, &c);

	if (rc) {
		free(c.files);
		return rc > 0 ? 0 : 2;
	}
	if (!strcmp(c.cmd, "flush")) {
		rc = cmd_flush(&e);
	} else if (!strcmp(c.cmd, "watch")) {
		rc = load_files(&c, &w, false, false, &e) ? -1 : cmd_watch(&c, &w, &e);
	} else if (!strcmp(c.cmd, "apply") || !strcmp(c.cmd, "dry-run") ||
		   !strcmp(c.cmd, "explain")) {
		rc = load_files(&c, &w, true, true, &e);
		if (!rc && !strcmp(c.cmd, "apply"))
			rc = cmd_apply(&c, &w, &e);
		else if (!rc && !strcmp(c.cmd, "dry-run"))
			rc = cmd_dry_run(&c, &w, &e);
		else if (!rc)
			rc = cmd_explain(&c, &w, &e);
	} else {
		fprintf(stderr, "veilnet-policy: unknown command \"%s\"\n", c.cmd);
		usage(stderr);
		free(c.files);
		return 2;
	}
	if (rc)
		fprintf(stderr, "veilnet-policy %s: %s\n", c.cmd, e.details);
	np_world_free(&w);
	free(c.files);
	return rc ? 1 : 0;
}
