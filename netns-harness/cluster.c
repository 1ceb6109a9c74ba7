#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <veilnet/file.h>
#include <veilnet/json.h>
#include "cluster.h"
#include "link.h"
#include "ns.h"
#include "state.h"

int cnt_report(const struct vn_err *e)
{
	fprintf(stderr, "cni-test: %s: %s\n", e->msg, e->details);
	return 1;
}

int cnt_exec_in(const char *name, char **argv)
{
	struct vn_err e = {0};

	cnt_ns_exec(name, argv, &e);
	cnt_report(&e);
	return 127;
}

int cnt_self_dir(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);
	char *slash;

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	return 0;
}

/* Setting up the underlay: bridge br0 with the gateway addresses and one
 * veth per node ("nK" on the bridge, "eth0" in the node). */
struct ul_ctx {
	const json_t *st;
	const int *node_fds;	/* [k] for node k, 1-based */
	unsigned int nodes;
};

static int ul_setup(void *ctx, struct vn_err *e)
{
	struct ul_ctx *u = ctx;
	const json_t *ul = json_object_get(u->st, "underlay");
	const char *ip6 = json_string_value(json_object_get(ul, "ip6"));
	struct nl_sock *sk = NULL;
	char name[16];
	int br, rc = -1;

	if (cnt_sysctl("net/ipv4/ip_forward", "1", e) ||
	    cnt_sysctl("net/ipv6/conf/all/forwarding", "1", e) ||
	    cnt_sysctl("net/ipv6/conf/default/accept_dad", "0", e))
		return -1;
	sk = cnt_nl_open(e);
	if (!sk || cnt_bridge_add(sk, "br0", e))
		goto out;
	br = cnt_link_index(sk, "br0", e);
	if (br < 0 || cnt_addr_add(sk, br, json_string_value(json_object_get(ul, "ip4")), e) ||
	    (ip6 && cnt_addr_add(sk, br, ip6, e)))
		goto out;
	for (unsigned int k = 1; k <= u->nodes; k++) {
		snprintf(name, sizeof(name), "n%u", k);
		if (cnt_veth_add(sk, name, br, "eth0", u->node_fds[k], e))
			goto out;
	}
	rc = 0;
out:
	cnt_nl_close(sk);
	return rc;
}

/* Routes to every other node's pod CIDRs via that node (skip: a node, or 0). */
static int pod_routes(struct nl_sock *sk, int dev, const json_t *st, unsigned int skip,
		      struct vn_err *e)
{
	size_t i;
	json_t *n;

	json_array_foreach(json_object_get(st, "nodes"), i, n) {
		const char *c6 = json_string_value(json_object_get(n, "podCIDR6"));

		if ((unsigned int)json_integer_value(json_object_get(n, "index")) == skip)
			continue;
		if (cnt_route_add(sk, json_string_value(json_object_get(n, "podCIDR4")),
				  json_string_value(json_object_get(n, "ip4")), dev, e) ||
		    (c6 && cnt_route_add(sk, c6, json_string_value(json_object_get(n, "ip6")),
					 dev, e)))
			return -1;
	}
	return 0;
}

static int ul_routes(void *ctx, struct vn_err *e)
{
	const json_t *st = ctx;
	struct nl_sock *sk = cnt_nl_open(e);
	int rc = -1, br;

	if (!sk)
		return -1;
	br = cnt_link_index(sk, "br0", e);
	if (br >= 0)
		rc = pod_routes(sk, br, st, 0, e);
	cnt_nl_close(sk);
	return rc;
}

struct node_ctx {
	const json_t *st;
	const struct cnt_node *node;
};

static int node_setup(void *ctx, struct vn_err *e)
{
	struct node_ctx *nc = ctx;
	const struct cnt_node *n = nc->node;
	bool routes = json_is_true(json_object_get(nc->st, "routes"));
	char cidr[64];
	struct nl_sock *sk;
	int dev, rc = -1;

	if (cnt_sysctl("net/ipv4/ip_forward", "1", e) ||
	    cnt_sysctl("net/ipv6/conf/all/forwarding", "1", e))
		return -1;
	sk = cnt_nl_open(e);
	if (!sk)
		return -1;
	/* The uplink's addresses work at once: no duplicate address detection
	 * (set before it goes up, so the link-local address skips it too). */
	dev = cnt_link_index(sk, "eth0", e);
	if (dev < 0 || cnt_sysctl("net/ipv6/conf/eth0/accept_dad", "0", e) ||
	    cnt_link_up(sk, dev, e))
		goto out;
	snprintf(cidr, sizeof(cidr), "%s/24", n->ip4);
	if (cnt_addr_add(sk, dev, cidr, e) ||
	    cnt_route_add(sk, "0.0.0.0/0", "172.30.0.254", dev, e))
		goto out;
	if (n->ip6[0]) {
		snprintf(cidr, sizeof(cidr), "%s/64", n->ip6);
		if (cnt_addr_add(sk, dev, cidr, e) || cnt_route_add(sk, "::/0", "fd30::fe", dev, e))
			goto out;
	}
	rc = routes ? pod_routes(sk, dev, nc->st, n->index, e) : 0;
out:
	cnt_nl_close(sk);
	return rc;
}

/* Writes each node's conflist and makes its directories. */
static int write_conflists(const json_t *st, const json_t *extra, struct vn_err *e)
{
	struct cnt_node node;
	size_t i;
	json_t *n;

	json_array_foreach(json_object_get(st, "nodes"), i, n) {
		json_t *conf;
		char *text;
		int rc;

		if (cnt_state_node(st, json_string_value(json_object_get(n, "name")), &node, e) ||
		    vn_mkdir_p(node.data_dir, 0755, e))
			return -1;
		conf = cnt_state_conflist(st, &node, extra);
		text = json_dumps(conf, JSON_INDENT(2));
		json_decref(conf);
		if (!text)
			return vn_errf(e, VN_E_IO, "I/O error", "cannot encode conflist");
		rc = cnt_write_replace(node.conflist, text, strlen(text), 0644, e);
		free(text);
		if (rc)
			return -1;
	}
	return 0;
}

/* Creates the namespaces and wires them, per the state. */
static int build(const json_t *st, unsigned int nodes, struct vn_err *e)
{
	int fds[CNT_MAX_NODES + 1] = {0};
	struct ul_ctx u = {st, fds, nodes};
	struct cnt_node node;
	char name[PATH_MAX];
	int rc = -1;

	if (cnt_ns_create(json_string_value(json_object_get(json_object_get(st, "underlay"),
								 "netns")), e))
		return -1;
	for (unsigned int k = 1; k <= nodes; k++) {
		snprintf(name, sizeof(name), "n%u", k);
		if (cnt_state_node(st, name, &node, e) || cnt_ns_create(node.netns, e))
			goto out;
		snprintf(name, sizeof(name), "%s/%s", CNT_NETNS_DIR, node.netns);
		fds[k] = open(name, O_RDONLY | O_CLOEXEC);
		if (fds[k] < 0) {
			vn_errf(e, VN_E_IO, "I/O error", "open %s: %s", name, strerror(errno));
			goto out;
		}
	}
	if (cnt_ns_run(json_string_value(json_object_get(json_object_get(st, "underlay"),
							 "netns")), ul_setup, &u, e))
		goto out;
	for (unsigned int k = 1; k <= nodes; k++) {
		struct node_ctx nc = {st, &node};

		snprintf(name, sizeof(name), "n%u", k);
		if (cnt_state_node(st, name, &node, e) || cnt_ns_run(node.netns, node_setup, &nc, e))
			goto out;
	}
	rc = 0;
	if (json_is_true(json_object_get(st, "routes")))
		rc = cnt_ns_run(json_string_value(json_object_get(json_object_get(st, "underlay"),
								   "netns")),
				ul_routes, (void *)st, e);
out:
	for (unsigned int k = 1; k <= nodes; k++)
		if (fds[k] > 0)
			close(fds[k]);
	return rc;
}

/* The plugin's absolute path into out (PATH_MAX bytes): given as a path,
 * as a name in /usr/lib/cni, or by default veilnet next to cni-test. */
static int plugin_path(const char *given, char *out, struct vn_err *e)
{
	char buf[PATH_MAX];

	if (!given) {
		if (cnt_self_dir(buf, sizeof(buf)))
			return vn_errf(e, VN_E_IO, "I/O error", "cannot find cni-test's directory");
		strncat(buf, "/veilnet", sizeof(buf) - strlen(buf) - 1);
		given = buf;
	} else if (!strchr(given, '/')) {
		snprintf(buf, sizeof(buf), "/usr/lib/cni/%s", given);
		given = buf;
	}
	if (!realpath(given, out) || access(out, X_OK))
		return vn_errf(e, VN_E_INVALID, "invalid arguments", "plugin %s: %s", given,
			       strerror(errno ? errno : ENOENT));
	return 0;
}

int cnt_cluster_create(const struct cnt_opts *o)
{
	char plugin[PATH_MAX], dir[PATH_MAX];
	struct cnt_cluster_def d = {o->cluster, o->nodes, plugin, !o->ipv4_only, !o->no_routes};
	struct vn_err e = {0};
	json_t *st = NULL, *extra = NULL;
	int lock, rc = 1;

	if (cnt_state_dir(o->cluster, dir, sizeof(dir), &e) ||
	    plugin_path(o->plugin, plugin, &e))
		return cnt_report(&e);
	if (o->plugin_conf) {
		extra = vn_json_parse(o->plugin_conf, strlen(o->plugin_conf), "--plugin-conf", &e);
		if (!extra)
			return cnt_report(&e);
	}
	lock = cnt_state_lock(o->cluster, &e);
	if (lock < 0)
		goto out;
	strncat(dir, "/state.json", sizeof(dir) - strlen(dir) - 1);
	if (access(dir, F_OK) == 0) {
		vn_errf(&e, VN_E_INVALID, "cluster exists",
			"cluster %s exists (cni-test cluster destroy %s)", o->cluster, o->cluster);
		goto out;
	}
	st = cnt_state_new(&d);
	if (extra)
		json_object_set(st, "pluginConf", extra);
	if (cnt_state_save(st, &e) || write_conflists(st, extra, &e))
		goto out;
	if (build(st, o->nodes, &e))
		goto out;
	rc = 0;
out:
	cnt_state_unlock(lock);
	if (rc) {
		cnt_report(&e);
		if (st)
			cnt_cluster_destroy(o->cluster);
	} else {
		printf("cluster %s: %u nodes, plugin %s\n", o->cluster, o->nodes, plugin);
	}
	json_decref(st);
	json_decref(extra);
	return rc;
}

/* Adds name to the list of netns to remove (at most cap). */
static void want_ns(const char **list, size_t *n, size_t cap, const char *name)
{
	if (name && *n < cap)
		list[(*n)++] = name;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	if (remove(path) && errno != ENOENT)
		fprintf(stderr, "cni-test: remove %s: %s\n", path, strerror(errno));
	return 0;
}

/* Kills the processes in, and removes, the namespaces in names. */
static void remove_namespaces(const char **names, size_t n)
{
	ino_t *inos = calloc(n ? n : 1, sizeof(*inos));
	struct vn_err e;

	for (size_t i = 0; inos && i < n; i++)
		inos[i] = cnt_ns_inode(names[i]);
	if (inos)
		cnt_ns_kill(inos, n);
	free(inos);
	for (size_t i = 0; i < n; i++)
		if (cnt_ns_delete(names[i], &e))
			cnt_report(&e);
}

int cnt_cluster_destroy(const char *name)
{
	char dir[PATH_MAX], fallback[CNT_MAX_NODES + 1][64];
	struct vn_err e = {0};
	const char **names = NULL;
	size_t n = 0, cap;
	json_t *st, *v;
	const char *key;
	int lock;

	if (cnt_state_dir(name, dir, sizeof(dir), &e))
		return cnt_report(&e);
	lock = access(dir, F_OK) == 0 ? cnt_state_lock(name, &e) : -1;
	st = cnt_state_load(name, &e);
	cap = CNT_MAX_NODES + 2 + (st ? json_object_size(json_object_get(st, "pods")) : 0);
	names = calloc(cap, sizeof(*names));
	if (!names) {
		json_decref(st);
		cnt_state_unlock(lock);
		return 1;
	}
	/* The underlay and node namespaces by the names they always have (so a
	 * lost state file leaves nothing behind), then the pods of the state. */
	for (unsigned int k = 0; k <= CNT_MAX_NODES; k++) {
		if (k)
			snprintf(fallback[k], sizeof(fallback[k]), "%s-n%u", name, k);
		else
			snprintf(fallback[k], sizeof(fallback[k]), "%s-ul", name);
		if (cnt_ns_exists(fallback[k]))
			want_ns(names, &n, cap, fallback[k]);
	}
	json_object_foreach(json_object_get(st, "pods"), key, v)
		want_ns(names, &n, cap, json_string_value(json_object_get(v, "netns")));
	remove_namespaces(names, n);
	free(names);
	json_decref(st);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	cnt_state_unlock(lock);
	return 0;
}

int cnt_cluster_show(const char *name)
{
	struct vn_err e = {0};
	json_t *st = cnt_state_load(name, &e);

	if (!st)
		return cnt_report(&e);
	json_dumpf(st, stdout, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(st);
	return 0;
}
