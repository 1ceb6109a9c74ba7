/* veilnet-mesh - a WireGuard mesh between Kubernetes nodes for veilnet.
 *
 * See `veilnet-mesh help` and overlay/README.md.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include <veilnet/file.h>
#include <veilnet/log.h>
#include "keys.h"
#include "mesh.h"
#include "reconcile.h"
#include "status.h"
#include "watch.h"

static const char usage[] =
	"usage: veilnet-mesh COMMAND [OPTIONS]\n"
	"\n"
	"  genkey  [--key-file PATH] [--force]   create the node's private key (0600, never\n"
	"                                        overwritten without --force); prints the public key\n"
	"  init    [--key-file PATH]             the same, but keeps an existing key\n"
	"  pubkey  [--key-file PATH]             print the public key of the key file\n"
	"  publish --node NAME [--key-file PATH] [--port N]\n"
	"                                        print the kubectl command and the JSON merge patch\n"
	"                                        that publish this node's key on its Node object\n"
	"  up      --node NAME -f FILE [--ifname IF] [--key-file PATH] [--port N]\n"
	"          [--keepalive SECONDS] [--backend auto|kernel|uapi] [--cluster-cidr CIDR]...\n"
	"          [--no-strict] [--json]\n"
	"                                        reconcile the device, peers, MTU, routes and the\n"
	"                                        strict-mode table with FILE (NodeList, Node list or\n"
	"                                        VeilnetMesh file; - for stdin)\n"
	"          --cluster-cidr CIDR[,CIDR]    the whole pod network (v4 and/or v6, repeatable):\n"
	"                                        strict mode drops pod traffic to it unless it goes\n"
	"                                        through WireGuard or to a pod of this node;\n"
	"                                        without it, the pod CIDRs of nodes seen (and of\n"
	"                                        nodes that left, until down --purge)\n"
	"  down    [--ifname IF] [--purge]       remove the device, routes and wireguard-go; --purge\n"
	"                                        also removes the strict-mode table\n"
	"  status  [--ifname IF] [-f FILE] [--json]\n"
	"                                        peers, endpoints, last handshake, bytes\n"
	"  watch   --node NAME [up's options] [--debounce-ms N] [--max-delay-ms N]\n"
	"                                        read Node objects / watch events on stdin\n"
	"                                        (kubectl get nodes --watch -o json) and reconcile\n"
	"\n"
	"  defaults: --ifname " MESH_DEFAULT_IFNAME ", --key-file " MESH_DEFAULT_KEY_FILE
	", port 51820\n"
	"  common:   --log FILE|- --log-level error|warn|info|debug\n"
	"  env:      VEILNET_WG_GO (wireguard-go program), WG_UAPI_DIR, VEILNET_RUN_DIR\n";

struct cli {
	struct mesh_cfg cfg;
	const char *file;
	const char *log_path;
	const char *log_level;
	struct vn_prefix cluster[MESH_MAX_CIDRS];
	size_t n_cluster;
	bool force;
	bool purge;
	bool json;
	int debounce_ms;
	int max_delay_ms;
};

enum {
	OPT_KEY = 256, OPT_FORCE, OPT_NODE, OPT_IFNAME, OPT_PORT, OPT_KEEPALIVE, OPT_BACKEND,
	OPT_NO_STRICT, OPT_JSON, OPT_PURGE, OPT_DEBOUNCE, OPT_MAXDELAY, OPT_LOG, OPT_LOGLEVEL,
	OPT_WGLOG, OPT_CLUSTER,
};

static const struct option options[] = {
	{ "key-file", required_argument, NULL, OPT_KEY },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "node", required_argument, NULL, OPT_NODE },
	{ "file", required_argument, NULL, 'f' },
	{ "ifname", required_argument, NULL, OPT_IFNAME },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "keepalive", required_argument, NULL, OPT_KEEPALIVE },
	{ "backend", required_argument, NULL, OPT_BACKEND },
	{ "no-strict", no_argument, NULL, OPT_NO_STRICT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "purge", no_argument, NULL, OPT_PURGE },
	{ "debounce-ms", required_argument, NULL, OPT_DEBOUNCE },
	{ "max-delay-ms", required_argument, NULL, OPT_MAXDELAY },
	{ "log", required_argument, NULL, OPT_LOG },
	{ "log-level", required_argument, NULL, OPT_LOGLEVEL },
	{ "wireguard-go-log", required_argument, NULL, OPT_WGLOG },
	{ "cluster-cidr", required_argument, NULL, OPT_CLUSTER },
	{ NULL, 0, NULL, 0 },
};

static int fail(const struct vn_err *e)
{
	fprintf(stderr, "veilnet-mesh: %s: %s\n", e->msg, e->details);
	return 1;
}

static int bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "veilnet-mesh: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n(veilnet-mesh help for usage)\n");
	return 2;
}

static int parse_num(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_backend(const char *s, enum backend_choice *b)
{
	if (strcmp(s, "auto") == 0)
		*b = BACKEND_AUTO;
	else if (strcmp(s, "kernel") == 0)
		*b = BACKEND_KERNEL;
	else if (strcmp(s, "uapi") == 0)
		*b = BACKEND_UAPI;
	else
		return -1;
	return 0;
}

/* --cluster-cidr CIDR[,CIDR...] */
static int add_cluster(struct cli *c, const char *arg)
{
	char *list = strdup(arg), *save = NULL, *tok;
	struct vn_err e = { 0 };
	int ret = 0;

	if (!list)
		return bad_usage("%s: out of memory", "--cluster-cidr");
	for (tok = strtok_r(list, ",", &save); tok && !ret; tok = strtok_r(NULL, ",", &save))
		if (mesh_add_cidr(tok, "--cluster-cidr", c->cluster, &c->n_cluster, &e))
			ret = bad_usage("%s", e.details);
	if (!ret && c->n_cluster == 0)
		ret = bad_usage("--cluster-cidr \"%s\": no CIDR", arg);
	free(list);
	c->cfg.cluster = c->cluster;
	c->cfg.n_cluster = c->n_cluster;
	return ret;
}

static int set_option(struct cli *c, int opt, const char *arg)
{
	long v;

	switch (opt) {
	case OPT_KEY: c->cfg.key_file = arg; break;
	case OPT_FORCE: c->force = true; break;
	case OPT_NODE: c->cfg.node = arg; break;
	case 'f': c->file = arg; break;
	case OPT_IFNAME:
		if (!*arg || strlen(arg) >= IFNAMSIZ || strchr(arg, '/'))
			return bad_usage("bad interface name \"%s\"", arg);
		c->cfg.ifname = arg;
		break;
	case OPT_PORT:
		if (parse_num(arg, 1, 65535, &v))
			return bad_usage("bad port \"%s\"", arg);
		c->cfg.port = (uint16_t)v;
		break;
	case OPT_KEEPALIVE:
		if (parse_num(arg, 0, 65535, &v))
			return bad_usage("bad keepalive \"%s\"", arg);
		c->cfg.keepalive = (uint16_t)v;
		break;
	case OPT_BACKEND:
		if (parse_backend(arg, &c->cfg.backend))
			return bad_usage("bad backend \"%s\" (auto, kernel or uapi)", arg);
		break;
	case OPT_NO_STRICT: c->cfg.strict = false; break;
	case OPT_JSON: c->json = true; break;
	case OPT_PURGE: c->purge = true; break;
	case OPT_DEBOUNCE:
	case OPT_MAXDELAY:
		if (parse_num(arg, 0, 3600000, &v))
			return bad_usage("bad delay \"%s\"", arg);
		*(opt == OPT_DEBOUNCE ? &c->debounce_ms : &c->max_delay_ms) = (int)v;
		break;
	case OPT_LOG: c->log_path = arg; break;
	case OPT_LOGLEVEL: c->log_level = arg; break;
	case OPT_WGLOG: c->cfg.wg_go_log = arg; break;
	case OPT_CLUSTER: return add_cluster(c, arg);
	default: return 2;
	}
	return 0;
}

static int parse_args(struct cli *c, int argc, char **argv)
{
	int opt, ret;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "f:", options, NULL)) != -1) {
		if (opt == '?')
			return 2;
		if ((ret = set_option(c, opt, optarg)))
			return ret;
	}
	if (optind < argc)
		return bad_usage("unexpected argument \"%s\"", argv[optind]);
	return 0;
}

/* ---- keys ---- */

static int cmd_genkey(struct cli *c, bool keep_existing)
{
	char b64[WG_KEY_B64_LEN];
	struct wg_key priv, pub;
	struct vn_err e = { 0 };

	if (keep_existing && access(c->cfg.key_file, F_OK) == 0) {
		if (keys_load(c->cfg.key_file, &priv, &e))
			return fail(&e);
		keys_public(&priv, &pub);
		wg_key_wipe(&priv);
	} else if (keys_create(c->cfg.key_file, c->force, &pub, &e)) {
		return fail(&e);
	}
	printf("%s\n", wg_key_to_base64(&pub, b64));
	return 0;
}

static int load_public(const struct cli *c, struct wg_key *pub)
{
	struct wg_key priv;
	struct vn_err e = { 0 };

	if (keys_load(c->cfg.key_file, &priv, &e))
		return fail(&e);
	keys_public(&priv, pub);
	wg_key_wipe(&priv);
	return 0;
}

static int cmd_pubkey(struct cli *c)
{
	char b64[WG_KEY_B64_LEN];
	struct wg_key pub;

	if (load_public(c, &pub))
		return 1;
	printf("%s\n", wg_key_to_base64(&pub, b64));
	return 0;
}

static int cmd_publish(struct cli *c)
{
	char b64[WG_KEY_B64_LEN], port[16] = "";
	struct wg_key pub;
	json_t *patch;
	char *text;

	if (!c->cfg.node)
		return bad_usage("%s needs --node NAME", "publish");
	if (load_public(c, &pub))
		return 1;
	wg_key_to_base64(&pub, b64);
	if (c->cfg.port)
		snprintf(port, sizeof(port), "%u", c->cfg.port);
	printf("kubectl annotate node %s --overwrite %s=%s", c->cfg.node, MESH_ANN_KEY, b64);
	if (*port)
		printf(" %s=%s", MESH_ANN_PORT, port);
	printf("\n");
	patch = json_pack("{s:{s:{s:s}}}", "metadata", "annotations", MESH_ANN_KEY, b64);
	if (*port)
		json_object_set_new(json_object_get(json_object_get(patch, "metadata"), "annotations"),
				    MESH_ANN_PORT, json_string(port));
	text = json_dumps(patch, JSON_COMPACT | JSON_SORT_KEYS);
	printf("%s\n", text ? text : "{}");
	free(text);
	json_decref(patch);
	return 0;
}

/* ---- up / down / status / watch ---- */

static int load_mesh(const char *path, struct mesh *m)
{
	struct vn_err e = { 0 };
	size_t len = 0;
	char *text = vn_read_file(path, &len, &e);
	int ret;

	mesh_init(m);
	if (!text)
		return fail(&e);
	ret = mesh_parse(text, len, m, &e);
	free(text);
	if (ret) {
		mesh_free(m);
		return fail(&e);
	}
	return 0;
}

static void print_up(const struct cli *c, const struct up_report *r)
{
	if (c->json) {
		printf("{\"interface\":\"%s\",\"backend\":\"%s\",\"peers\":%zu,\"changes\":%u,"
		       "\"link\":%u,\"device\":%u,\"peersAdded\":%u,\"peersRemoved\":%u,"
		       "\"peersUpdated\":%u,\"routes\":%u,\"strict\":%u,\"mtu\":%u,"
		       "\"wgNetlinkMessages\":%lu,\"routeNetlinkMessages\":%lu,\"uapiBytes\":%lu}\n",
		       c->cfg.ifname, backend_name(r->backend), r->peers, up_report_total(r), r->link,
		       r->pc.device, r->pc.added, r->pc.removed, r->pc.updated, r->routes, r->strict,
		       r->mtu, r->nl_messages, r->rt_messages, r->uapi_bytes);
		return;
	}
	printf("up: interface=%s backend=%s peers=%zu changes=%u link=%u device=%u peers_added=%u "
	       "peers_removed=%u peers_updated=%u routes=%u strict=%u mtu=%u nl_messages=%lu "
	       "rt_messages=%lu uapi_bytes=%lu\n",
	       c->cfg.ifname, backend_name(r->backend), r->peers, up_report_total(r), r->link,
	       r->pc.device, r->pc.added, r->pc.removed, r->pc.updated, r->routes, r->strict, r->mtu,
	       r->nl_messages, r->rt_messages, r->uapi_bytes);
}

static int cmd_up(struct cli *c)
{
	struct vn_err e = { 0 };
	struct up_report r;
	struct mesh m;
	int ret;

	if (!c->cfg.node || !c->file)
		return bad_usage("%s needs --node NAME and -f FILE", "up");
	if (load_mesh(c->file, &m))
		return 1;
	ret = reconcile_up(&c->cfg, &m, &r, &e);
	mesh_free(&m);
	if (r.warnings[0])
		fprintf(stderr, "%s", r.warnings);
	if (ret)
		return fail(&e);
	print_up(c, &r);
	return 0;
}

static int cmd_down(struct cli *c)
{
	struct vn_err e = { 0 };
	struct down_report r;

	if (reconcile_down(&c->cfg, c->purge, &r, &e))
		return fail(&e);
	printf("down: interface=%s process_stopped=%d link_deleted=%d strict_removed=%d\n",
	       c->cfg.ifname, r.process_stopped, r.link_deleted, r.strict_removed);
	return 0;
}

static int cmd_status(struct cli *c)
{
	struct mesh m;
	int ret;

	mesh_init(&m);
	if (c->file && load_mesh(c->file, &m))
		return 1;
	ret = status_show(c->cfg.ifname, &m, c->json, stdout);
	mesh_free(&m);
	return ret;
}

static int cmd_watch(struct cli *c)
{
	struct watch_opts o = { .debounce_ms = c->debounce_ms, .max_delay_ms = c->max_delay_ms,
				.retry_ms = 2000, .in_fd = STDIN_FILENO };

	if (!c->cfg.node)
		return bad_usage("%s needs --node NAME", "watch");
	return watch_run(&c->cfg, &o);
}

static int run(struct cli *c, const char *cmd)
{
	if (strcmp(cmd, "genkey") == 0)
		return cmd_genkey(c, false);
	if (strcmp(cmd, "init") == 0)
		return cmd_genkey(c, true);
	if (strcmp(cmd, "pubkey") == 0)
		return cmd_pubkey(c);
	if (strcmp(cmd, "publish") == 0)
		return cmd_publish(c);
	if (strcmp(cmd, "up") == 0)
		return cmd_up(c);
	if (strcmp(cmd, "down") == 0)
		return cmd_down(c);
	if (strcmp(cmd, "status") == 0)
		return cmd_status(c);
	if (strcmp(cmd, "watch") == 0)
		return cmd_watch(c);
	return bad_usage("unknown command \"%s\"", cmd);
}

int main(int argc, char **argv)
{
	struct vn_log log;
	struct cli c = { .cfg = { .ifname = MESH_DEFAULT_IFNAME, .key_file = MESH_DEFAULT_KEY_FILE,
				  .strict = true, .wg_go = "wireguard-go" },
			 .debounce_ms = 200, .max_delay_ms = 2000 };
	int ret;

	if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "veilnet-mesh: libsodium cannot start\n");
		return 1;
	}
	if (getenv("VEILNET_WG_GO") && *getenv("VEILNET_WG_GO"))
		c.cfg.wg_go = getenv("VEILNET_WG_GO");
	if ((ret = parse_args(&c, argc - 1, argv + 1)))
		return ret;
	vn_log_open(&log, c.log_path, c.log_level, "veilnet-mesh");
	c.cfg.log = &log;
	ret = run(&c, argv[1]);
	vn_log_close(&log);
	return ret;
}
