#include <ctype.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "args.h"

/* A command word sequence and what it needs. */
struct cmd_def {
	const char *w1, *w2;	/* "pod", "add" or "add", NULL */
	enum cnt_cmd cmd;
	int npos;		/* positional arguments after the words */
	bool want_argv;		/* needs "-- CMD..." */
};

static const struct cmd_def cmds[] = {
	{"add", NULL, CNT_ADD, 0, false},
	{"check", NULL, CNT_CHECK, 0, false},
	{"del", NULL, CNT_DEL, 0, false},
	{"status", NULL, CNT_STATUS, 0, false},
	{"gc", NULL, CNT_GC, 0, false},
	{"version", NULL, CNT_VERSION, 0, false},
	{"exec-in", NULL, CNT_EXEC_IN, 1, true},
	{"bench", NULL, CNT_BENCH, 0, false},
	{"cluster", "create", CNT_CLUSTER_CREATE, 1, false},
	{"cluster", "destroy", CNT_CLUSTER_DESTROY, 1, false},
	{"cluster", "show", CNT_CLUSTER_SHOW, 1, false},
	{"pod", "add", CNT_POD_ADD, 3, false},
	{"pod", "del", CNT_POD_DEL, 2, false},
	{"pod", "exec", CNT_POD_EXEC, 2, true},
	{"pod", "list", CNT_POD_LIST, 1, false},
	{"pod", "ip", CNT_POD_IP, 2, false},
	{"pod", "label", CNT_POD_LABEL, 3, false},
	{"namespace", "label", CNT_NS_LABEL, 3, false},
	{"node", "exec", CNT_NODE_EXEC, 2, true},
};

enum opt_kind { OPT_STR, OPT_UINT, OPT_FLAG };

struct opt_def {
	const char *name;
	enum opt_kind kind;
	size_t off;
};

#define S(n, f) {n, OPT_STR, offsetof(struct cnt_opts, f)}
#define U(n, f) {n, OPT_UINT, offsetof(struct cnt_opts, f)}
#define F(n, f) {n, OPT_FLAG, offsetof(struct cnt_opts, f)}
static const struct opt_def opts[] = {
	S("--conf", conf), S("--netns", netns), S("--netns-create", netns_create),
	S("--container-id", container_id), S("--ifname", ifname), S("--args", cni_args),
	S("--cni-path", cni_path), S("--prev", prev), S("--cache-dir", cache_dir),
	S("--runtime-config", runtime_config), S("--valid", valid), S("--k8s-pod", k8s_pod),
	S("--pod-uid", pod_uid), F("--no-teardown", no_teardown), F("--verbose", verbose),
	F("-v", verbose),
	S("--labels", labels), S("--ports", ports), S("--plugin", plugin),
	S("--plugin-conf", plugin_conf), S("--ref", ref_conf), S("--name", label),
	S("--ref-name", ref_label), S("--netns-prefix", netns_prefix),
	U("--nodes", nodes), U("--pods", pods), U("--workers", workers),
	F("--no-routes", no_routes), F("--ipv4-only", ipv4_only), F("--json", json),
	F("--merge", merge), F("-6", ipv6),
};
#undef S
#undef U
#undef F

static int bad(struct vn_err *e, const char *fmt, const char *arg)
{
	return vn_errf(e, VN_E_INVALID, "invalid arguments", fmt, arg);
}

static int parse_uint(const char *s, unsigned int *out)
{
	char *end;
	unsigned long v;

	if (!*s || !isdigit((unsigned char)*s))
		return -1;
	v = strtoul(s, &end, 10);
	if (*end || v > UINT_MAX)
		return -1;
	*out = (unsigned int)v;
	return 0;
}

/* Applies option argv[*i] (and its value); advances *i past what it used. */
static int take_opt(int argc, char **argv, int *i, struct cnt_opts *o, struct vn_err *e)
{
	const char *arg = argv[*i], *val;
	char *base = (char *)o;

	for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
		const struct opt_def *d = &opts[k];
		size_t n = strlen(d->name);

		if (strncmp(arg, d->name, n) || (arg[n] && arg[n] != '='))
			continue;
		if (d->kind == OPT_FLAG) {
			if (arg[n])
				return bad(e, "option %s takes no value", d->name);
			*(bool *)(base + d->off) = true;
			return 0;
		}
		if (arg[n] == '=') {
			val = arg + n + 1;
		} else {
			if (*i + 1 >= argc)
				return bad(e, "option %s needs a value", d->name);
			val = argv[++*i];
		}
		if (d->kind == OPT_STR) {
			*(const char **)(base + d->off) = val;
			return 0;
		}
		if (parse_uint(val, (unsigned int *)(base + d->off)))
			return bad(e, "option %s needs a non-negative number", d->name);
		return 0;
	}
	return bad(e, "unknown option %s", arg);
}

static const struct cmd_def *find_cmd(int argc, char **argv, int *used)
{
	for (size_t k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++) {
		const struct cmd_def *c = &cmds[k];

		if (argc < 2 || strcmp(argv[1], c->w1))
			continue;
		if (!c->w2) {
			*used = 2;
			return c;
		}
		if (argc >= 3 && !strcmp(argv[2], c->w2)) {
			*used = 3;
			return c;
		}
	}
	return NULL;
}

/* Stores the positional arguments where each command wants them. */
static void place_pos(const struct cmd_def *c, const char **pos, struct cnt_opts *o)
{
	switch (c->cmd) {
	case CNT_EXEC_IN:
		o->netns = pos[0];
		break;
	case CNT_POD_ADD:
		o->cluster = pos[0];
		o->node = pos[1];
		o->pod = pos[2];
		break;
	case CNT_POD_LABEL:
		o->cluster = pos[0];
		o->pod = pos[1];
		o->labels = pos[2];
		break;
	case CNT_NS_LABEL:
		o->cluster = pos[0];
		o->namespace = pos[1];
		o->labels = pos[2];
		break;
	case CNT_NODE_EXEC:
		o->cluster = pos[0];
		o->node = pos[1];
		break;
	default:
		o->cluster = pos[0];
		o->pod = pos[1];
		break;
	}
}

static int check_cni_op(struct cnt_opts *o, struct vn_err *e)
{
	if (!o->conf)
		return bad(e, "%s", "--conf FILE is required");
	if (o->netns && o->netns_create)
		return bad(e, "%s", "--netns and --netns-create exclude each other");
	if (o->netns_create && (!*o->netns_create || strchr(o->netns_create, '/')))
		return bad(e, "--netns-create wants a plain name, not '%s'", o->netns_create);
	if (o->pod_uid && !o->k8s_pod)
		return bad(e, "%s", "--pod-uid needs --k8s-pod NS/POD");
	if (o->k8s_pod) {
		char ns[64], pod[64];

		return cnt_split_pod(o->k8s_pod, ns, sizeof(ns), pod, sizeof(pod), e);
	}
	return 0;
}

int cnt_args_parse(int argc, char **argv, struct cnt_opts *o, struct vn_err *e)
{
	const struct cmd_def *c;
	const char *pos[CNT_MAX_POS] = {0};
	int used = 0, npos = 0;

	memset(o, 0, sizeof(*o));
	o->ifname = "eth0";
	o->pods = 200;
	o->workers = 8;
	o->netns_prefix = "vnb";
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		o->cmd = CNT_HELP;
		return 0;
	}
	c = find_cmd(argc, argv, &used);
	if (!c)
		return bad(e, "unknown command '%s' (try cni-test --help)", argv[1]);
	o->cmd = c->cmd;
	for (int i = used; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			o->argv = &argv[i + 1];
			break;
		}
		if (argv[i][0] == '-' && argv[i][1]) {
			if (take_opt(argc, argv, &i, o, e))
				return -1;
			continue;
		}
		if (npos >= c->npos)
			return bad(e, "unexpected argument '%s'", argv[i]);
		pos[npos++] = argv[i];
	}
	if (npos < c->npos)
		return vn_errf(e, VN_E_INVALID, "invalid arguments",
			       "%s %s needs %d argument(s), got %d", c->w1, c->w2 ? c->w2 : "",
			       c->npos, npos);
	if (c->want_argv && (!o->argv || !o->argv[0]))
		return bad(e, "%s needs -- COMMAND...", c->w1);
	if (!c->want_argv && o->argv)
		return bad(e, "%s takes no -- COMMAND", c->w1);
	if (npos)
		place_pos(c, pos, o);
	if (o->cmd >= CNT_ADD && o->cmd <= CNT_VERSION)
		return check_cni_op(o, e);
	if (o->cmd == CNT_CLUSTER_CREATE && (o->nodes < 1 || o->nodes > 250))
		return bad(e, "%s", "cluster create needs --nodes N with 1 <= N <= 250");
	if (o->cmd == CNT_BENCH && (!o->conf || !o->pods || !o->workers))
		return bad(e, "%s", "bench needs --conf FILE, --pods > 0 and --workers > 0");
	return 0;
}

bool cnt_dns_label(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '-')
			return false;
	return true;
}

int cnt_split_pod(const char *s, char *ns, size_t ns_len, char *pod, size_t pod_len,
		  struct vn_err *e)
{
	const char *slash = strchr(s, '/');
	size_t n;

	if (!slash)
		return bad(e, "'%s' is not NAMESPACE/POD", s);
	n = (size_t)(slash - s);
	if (n >= ns_len || strlen(slash + 1) >= pod_len)
		return bad(e, "'%s' is too long", s);
	memcpy(ns, s, n);
	ns[n] = '\0';
	strcpy(pod, slash + 1);
	if (!cnt_dns_label(ns) || !cnt_dns_label(pod))
		return bad(e, "'%s': namespace and pod must be DNS labels "
			   "(a-z, 0-9, '-', at most 63)", s);
	return 0;
}

void cnt_usage(FILE *f)
{
	fputs(
"usage:\n"
"  cni-test add|check|del|status|gc|version --conf FILE [--netns PATH | --netns-create NAME]\n"
"           [--container-id ID] [--ifname eth0] [--args 'K=V;K=V'] [--cni-path DIR:DIR]\n"
"           [--prev FILE] [--cache-dir DIR] [--runtime-config JSON] [--valid CID:IF,...]\n"
"           [--k8s-pod NS/POD [--pod-uid UID]] [--no-teardown] [--verbose]\n"
"      runs the network's plugins like a runtime; prints the plugin's output and\n"
"      exits with its status (125: cni-test itself failed). A failed ADD is\n"
"      followed by a DEL of the chain unless --no-teardown\n"
"  cni-test exec-in NETNS -- CMD...\n"
"  cni-test cluster create NAME --nodes N [--plugin PATH] [--plugin-conf JSON]\n"
"           [--no-routes] [--ipv4-only]\n"
"  cni-test cluster destroy NAME\n"
"  cni-test cluster show NAME\n"
"  cni-test pod add NAME NODE NS/POD [--labels k=v,...] [--ports name=port/proto,...]\n"
"  cni-test pod del NAME NS/POD\n"
"  cni-test pod exec NAME NS/POD -- CMD...\n"
"  cni-test pod list NAME [--json]\n"
"  cni-test pod ip NAME NS/POD [-6]\n"
"  cni-test pod label NAME NS/POD k=v,... [--merge]\n"
"  cni-test namespace label NAME NS k=v,... [--merge]\n"
"  cni-test node exec NAME NODE|ul -- CMD...\n"
"  cni-test bench --conf FILE [--name LABEL] [--ref FILE --ref-name LABEL]\n"
"           [--pods 200] [--workers 8] [--netns-prefix vnb]\n", f);
}
