#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <veilnet/file.h>
#include <veilnet/json.h>
#include "state.h"

bool cnt_cluster_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n < 1 || n > CNT_NAME_MAX || name[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)name[i]) && !isdigit((unsigned char)name[i]) &&
		    name[i] != '-')
			return false;
	return true;
}

static json_t *node_new(const struct cnt_cluster_def *d, const char *dir, unsigned int k)
{
	char buf[PATH_MAX];
	json_t *n = json_object();

	snprintf(buf, sizeof(buf), "n%u", k);
	json_object_set_new(n, "name", json_string(buf));
	json_object_set_new(n, "index", json_integer(k));
	snprintf(buf, sizeof(buf), "%s-n%u", d->name, k);
	json_object_set_new(n, "netns", json_string(buf));
	json_object_set_new(n, "ifname", json_string("eth0"));
	snprintf(buf, sizeof(buf), "172.30.0.%u", k);
	json_object_set_new(n, "ip4", json_string(buf));
	snprintf(buf, sizeof(buf), "10.244.%u.0/24", k);
	json_object_set_new(n, "podCIDR4", json_string(buf));
	if (d->ipv6) {
		snprintf(buf, sizeof(buf), "fd30::%u", k);
		json_object_set_new(n, "ip6", json_string(buf));
		snprintf(buf, sizeof(buf), "fd00:10:244:%u::/64", k);
		json_object_set_new(n, "podCIDR6", json_string(buf));
	}
	snprintf(buf, sizeof(buf), "%.64s/n%u", dir, k);
	json_object_set_new(n, "dir", json_string(buf));
	snprintf(buf, sizeof(buf), "%.64s/n%u/net.conflist", dir, k);
	json_object_set_new(n, "conflist", json_string(buf));
	snprintf(buf, sizeof(buf), "%.64s/n%u/ipam", dir, k);
	json_object_set_new(n, "dataDir", json_string(buf));
	return n;
}

json_t *cnt_state_new(const struct cnt_cluster_def *d)
{
	char dir[64], buf[PATH_MAX + 64], plugin_dir[PATH_MAX];
	json_t *st, *nodes = json_array(), *ul;
	const char *slash = strrchr(d->plugin, '/');

	snprintf(dir, sizeof(dir), "%s/%s", CNT_RUN_DIR, d->name);
	snprintf(plugin_dir, sizeof(plugin_dir), "%.*s", slash ? (int)(slash - d->plugin) : 1,
		 slash ? d->plugin : ".");
	snprintf(buf, sizeof(buf), "%s-ul", d->name);
	ul = json_pack("{s:s, s:s, s:s}", "netns", buf, "bridge", "br0", "ip4", "172.30.0.254/24");
	if (d->ipv6)
		json_object_set_new(ul, "ip6", json_string("fd30::fe/64"));
	for (unsigned int k = 1; k <= d->nodes; k++)
		json_array_append_new(nodes, node_new(d, dir, k));
	st = json_pack("{s:s, s:s, s:s, s:b, s:b, s:s, s:o, s:o, s:{}, s:{}}",
		       "kind", "CniTestCluster", "name", d->name, "plugin", d->plugin,
		       "ipv6", d->ipv6, "routes", d->routes, "dir", dir,
		       "underlay", ul, "nodes", nodes, "namespaces", "pods");
	snprintf(buf, sizeof(buf), "%s:/opt/cni/bin:/usr/lib/cni", plugin_dir);
	json_object_set_new(st, "cniPath", json_string(buf));
	snprintf(buf, sizeof(buf), "%s/cache", dir);
	json_object_set_new(st, "cacheDir", json_string(buf));
	return st;
}

static void copy_str(char *dst, size_t len, const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	snprintf(dst, len, "%s", s ? s : "");
}

int cnt_state_node(const json_t *st, const char *node, struct cnt_node *out, struct vn_err *e)
{
	json_t *nodes = json_object_get(st, "nodes"), *n;
	size_t i;

	memset(out, 0, sizeof(*out));
	json_array_foreach(nodes, i, n) {
		const char *name = json_string_value(json_object_get(n, "name"));

		if (!name || strcmp(name, node))
			continue;
		out->index = (unsigned int)json_integer_value(json_object_get(n, "index"));
		copy_str(out->name, sizeof(out->name), n, "name");
		copy_str(out->netns, sizeof(out->netns), n, "netns");
		copy_str(out->ip4, sizeof(out->ip4), n, "ip4");
		copy_str(out->ip6, sizeof(out->ip6), n, "ip6");
		copy_str(out->cidr4, sizeof(out->cidr4), n, "podCIDR4");
		copy_str(out->cidr6, sizeof(out->cidr6), n, "podCIDR6");
		copy_str(out->conflist, sizeof(out->conflist), n, "conflist");
		copy_str(out->data_dir, sizeof(out->data_dir), n, "dataDir");
		return 0;
	}
	return vn_errf(e, VN_E_UNKNOWN, "unknown node", "cluster %s has no node '%s'",
		       json_string_value(json_object_get(st, "name")), node);
}

json_t *cnt_state_conflist(const json_t *st, const struct cnt_node *node, const json_t *extra)
{
	const char *plugin = json_string_value(json_object_get(st, "plugin"));
	const char *type = strrchr(plugin, '/') ? strrchr(plugin, '/') + 1 : plugin;
	json_t *ranges = json_array(), *ipam, *conf;

	json_array_append_new(ranges, json_pack("[{s:s}]", "subnet", node->cidr4));
	if (node->cidr6[0])
		json_array_append_new(ranges, json_pack("[{s:s}]", "subnet", node->cidr6));
	ipam = json_pack("{s:o, s:s}", "ranges", ranges, "dataDir", node->data_dir);
	if (!strcmp(type, "ptp")) {
		json_object_set_new(ipam, "type", json_string("host-local"));
		json_object_set_new(ipam, "routes", json_pack("[{s:s}, {s:s}]", "dst", "0.0.0.0/0",
							      "dst", "::/0"));
	}
	conf = json_pack("{s:s, s:o}", "type", type, "ipam", ipam);
	if (json_is_object(extra))
		json_object_update_recursive(conf, (json_t *)extra);
	return json_pack("{s:s, s:s, s:[o]}", "cniVersion", strcmp(type, "ptp") ? "1.1.0" : "1.0.0",
			 "name", json_string_value(json_object_get(st, "name")), "plugins", conf);
}

json_t *cnt_state_pod(const json_t *st, const char *ns, const char *pod)
{
	char key[160];

	snprintf(key, sizeof(key), "%s/%s", ns, pod);
	return json_object_get(json_object_get(st, "pods"), key);
}

json_t *cnt_state_namespace(json_t *st, const char *ns, bool create)
{
	json_t *all = json_object_get(st, "namespaces"), *rec = json_object_get(all, ns);

	if (rec || !create)
		return rec;
	rec = json_pack("{s:{s:s}}", "labels", "kubernetes.io/metadata.name", ns);
	json_object_set_new(all, ns, rec);
	return rec;
}

static bool netns_taken(const json_t *st, const char *netns)
{
	const char *key;
	json_t *p;

	json_object_foreach(json_object_get(st, "pods"), key, p) {
		const char *other = json_string_value(json_object_get(p, "netns"));

		if (other && !strcmp(other, netns))
			return true;
	}
	return false;
}

json_t *cnt_state_pod_add(json_t *st, const char *ns, const char *pod, const char *node,
			  const json_t *labels, const json_t *ports, struct vn_err *e)
{
	char key[160], netns[256];
	json_t *rec;

	snprintf(key, sizeof(key), "%s/%s", ns, pod);
	snprintf(netns, sizeof(netns), "%s-%s-%s",
		 json_string_value(json_object_get(st, "name")), ns, pod);
	if (cnt_state_pod(st, ns, pod)) {
		vn_errf(e, VN_E_INVALID, "pod exists", "pod %s exists", key);
		return NULL;
	}
	if (netns_taken(st, netns)) {
		vn_errf(e, VN_E_INVALID, "pod exists", "netns %s of pod %s is taken by another pod",
			netns, key);
		return NULL;
	}
	cnt_state_namespace(st, ns, true);
	rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s}", "namespace", ns,
			"name", pod, "node", node, "netns", netns, "containerId", netns,
			"ifname", "eth0", "labels", labels ? json_deep_copy(labels) : json_object(),
			"ports", ports ? json_deep_copy(ports) : json_array(), "phase", "Pending");
	json_object_set_new(json_object_get(st, "pods"), key, rec);
	return rec;
}

void cnt_state_pod_remove(json_t *st, const char *ns, const char *pod)
{
	char key[160];

	snprintf(key, sizeof(key), "%s/%s", ns, pod);
	json_object_del(json_object_get(st, "pods"), key);
}

void cnt_state_set_labels(json_t *obj, const json_t *labels, bool merge)
{
	json_t *cur = json_object_get(obj, "labels"), *v;
	const char *key;

	if (!merge || !json_is_object(cur)) {
		cur = json_object();
		json_object_set_new(obj, "labels", cur);
	}
	json_object_foreach((json_t *)labels, key, v) {
		if (json_is_null(v))
			json_object_del(cur, key);
		else
			json_object_set(cur, key, v);
	}
}

/* Calls fn for each comma-separated item of s; stops at the first error. */
struct items {
	json_t *acc;		/* what the items are collected in */
	bool allow_remove;	/* labels: "k-" removes k */
};

static int each_item(const char *s, int (*fn)(const char *item, size_t n, struct items *it,
					     struct vn_err *e),
		     struct items *it, struct vn_err *e)
{
	while (*s) {
		size_t n = strcspn(s, ",");

		if (n && fn(s, n, it, e))
			return -1;
		s += n;
		if (*s == ',')
			s++;
	}
	return 0;
}

static int label_item(const char *item, size_t n, struct items *it, struct vn_err *e)
{
	const char *eq = memchr(item, '=', n);
	char key[256];

	if (!eq && it->allow_remove && n > 1 && item[n - 1] == '-' && n < sizeof(key)) {
		snprintf(key, sizeof(key), "%.*s", (int)(n - 1), item);
		json_object_set_new(it->acc, key, json_null());
		return 0;
	}
	if (!eq || eq == item || (size_t)(eq - item) >= sizeof(key))
		return vn_errf(e, VN_E_INVALID, "invalid arguments",
			       "label '%.*s' is not key=value", (int)n, item);
	snprintf(key, sizeof(key), "%.*s", (int)(eq - item), item);
	json_object_set_new(it->acc, key, json_stringn(eq + 1, n - (size_t)(eq - item) - 1));
	return 0;
}

json_t *cnt_labels_parse(const char *s, bool allow_remove, struct vn_err *e)
{
	struct items it = {json_object(), allow_remove};

	if (each_item(s, label_item, &it, e)) {
		json_decref(it.acc);
		return NULL;
	}
	return it.acc;
}

static int port_item(const char *item, size_t n, struct items *it, struct vn_err *e)
{
	char buf[128], *eq, *slash, *end, *spec;
	const char *proto = "TCP";
	unsigned long port;
	json_t *p;

	if (n >= sizeof(buf))
		return vn_errf(e, VN_E_INVALID, "invalid arguments", "port '%.*s' too long",
			       (int)n, item);
	snprintf(buf, sizeof(buf), "%.*s", (int)n, item);
	eq = strchr(buf, '=');
	spec = eq ? eq + 1 : buf;
	if (eq)
		*eq = '\0';
	slash = strchr(spec, '/');
	if (slash) {
		*slash = '\0';
		for (char *c = slash + 1; *c; c++)
			*c = (char)toupper((unsigned char)*c);
		proto = slash + 1;
	}
	port = strtoul(spec, &end, 10);
	if (!*spec || *end || port < 1 || port > 65535 ||
	    (strcmp(proto, "TCP") && strcmp(proto, "UDP") && strcmp(proto, "SCTP")) ||
	    (eq && !*buf))
		return vn_errf(e, VN_E_INVALID, "invalid arguments",
			       "port '%.*s' is not [name=]port[/TCP|UDP|SCTP]", (int)n, item);
	p = json_pack("{s:I, s:s}", "containerPort", (json_int_t)port, "protocol", proto);
	if (eq)
		json_object_set_new(p, "name", json_string(buf));
	json_array_append_new(it->acc, p);
	return 0;
}

json_t *cnt_ports_parse(const char *s, struct vn_err *e)
{
	struct items it = {json_array(), false};

	if (each_item(s, port_item, &it, e)) {
		json_decref(it.acc);
		return NULL;
	}
	return it.acc;
}

static json_t *k8s_namespace(const char *name, const json_t *rec)
{
	json_t *labels = json_deep_copy(json_object_get(rec, "labels"));

	if (!json_is_object(labels)) {
		json_decref(labels);
		labels = json_object();
	}
	json_object_set_new(labels, "kubernetes.io/metadata.name", json_string(name));
	return json_pack("{s:s, s:s, s:{s:s, s:o}, s:{s:s}}", "apiVersion", "v1",
			 "kind", "Namespace", "metadata", "name", name, "labels", labels,
			 "status", "phase", "Active");
}

static const char *node_ip4(const json_t *st, const char *node)
{
	size_t i;
	json_t *n;

	json_array_foreach(json_object_get(st, "nodes"), i, n)
		if (!strcmp(json_string_value(json_object_get(n, "name")), node))
			return json_string_value(json_object_get(n, "ip4"));
	return NULL;
}

static json_t *k8s_pod(const json_t *st, const json_t *rec)
{
	const char *ip4 = json_string_value(json_object_get(rec, "ip4"));
	const char *ip6 = json_string_value(json_object_get(rec, "ip6"));
	const char *node = json_string_value(json_object_get(rec, "node"));
	const char *hip = node ? node_ip4(st, node) : NULL;
	json_t *ips = json_array(), *status, *pod;

	if (ip4)
		json_array_append_new(ips, json_pack("{s:s}", "ip", ip4));
	if (ip6)
		json_array_append_new(ips, json_pack("{s:s}", "ip", ip6));
	status = json_pack("{s:O, s:o}", "phase", json_object_get(rec, "phase"), "podIPs", ips);
	if (ip4 || ip6)
		json_object_set_new(status, "podIP", json_string(ip4 ? ip4 : ip6));
	if (hip)
		json_object_set_new(status, "hostIP", json_string(hip));
	pod = json_pack("{s:s, s:s, s:{s:O, s:O, s:O}, s:{s:O, s:[{s:s, s:O}]}, s:o}",
			"apiVersion", "v1", "kind", "Pod",
			"metadata", "name", json_object_get(rec, "name"),
			"namespace", json_object_get(rec, "namespace"),
			"labels", json_object_get(rec, "labels"),
			"spec", "nodeName", json_object_get(rec, "node"),
			"containers", "name", "main", "ports", json_object_get(rec, "ports"),
			"status", status);
	return pod;
}

json_t *cnt_state_k8s_list(const json_t *st)
{
	json_t *items = json_array(), *v;
	const char *key;

	json_object_foreach(json_object_get(st, "namespaces"), key, v)
		json_array_append_new(items, k8s_namespace(key, v));
	json_object_foreach(json_object_get(st, "pods"), key, v)
		json_array_append_new(items, k8s_pod(st, v));
	return json_pack("{s:s, s:s, s:{s:s}, s:o}", "apiVersion", "v1", "kind", "List",
			 "metadata", "resourceVersion", "", "items", items);
}

int cnt_state_dir(const char *cluster, char *buf, size_t len, struct vn_err *e)
{
	if (!cnt_cluster_name_ok(cluster))
		return vn_errf(e, VN_E_INVALID, "invalid arguments",
			       "bad cluster name '%s' (1..%d of a-z, 0-9, '-')", cluster,
			       CNT_NAME_MAX);
	snprintf(buf, len, "%s/%s", CNT_RUN_DIR, cluster);
	return 0;
}

json_t *cnt_state_load(const char *cluster, struct vn_err *e)
{
	char path[PATH_MAX];
	size_t len;
	char *text;
	json_t *st;

	if (cnt_state_dir(cluster, path, sizeof(path), e))
		return NULL;
	strncat(path, "/state.json", sizeof(path) - strlen(path) - 1);
	if (access(path, F_OK)) {
		vn_errf(e, VN_E_UNKNOWN, "unknown cluster", "no cluster '%s' (%s)", cluster, path);
		return NULL;
	}
	text = vn_read_file(path, &len, e);
	if (!text)
		return NULL;
	st = vn_json_parse(text, len, path, e);
	free(text);
	if (st && !json_is_object(json_object_get(st, "pods"))) {
		vn_errf(e, VN_E_DECODE, "decoding failure", "%s: not a cluster state", path);
		json_decref(st);
		return NULL;
	}
	return st;
}

int cnt_write_replace(const char *path, const char *data, size_t len, mode_t mode,
		      struct vn_err *e)
{
	char tmp[PATH_MAX];
	bool short_write;
	int fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= sizeof(tmp))
		return vn_errf(e, VN_E_IO, "I/O error", "path too long: %s", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return vn_errf(e, VN_E_IO, "I/O error", "create %s: %s", tmp, strerror(errno));
	short_write = vn_write_all(fd, data, len) != 0;
	if (close(fd) || short_write || rename(tmp, path)) {
		vn_errf(e, VN_E_IO, "I/O error", "write %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int cnt_state_save(const json_t *st, struct vn_err *e)
{
	char path[PATH_MAX], *text;
	const char *dir = json_string_value(json_object_get(st, "dir"));
	int rc;

	if (!dir)
		return vn_errf(e, VN_E_INVALID, "invalid state", "state has no dir");
	snprintf(path, sizeof(path), "%s/state.json", dir);
	text = json_dumps(st, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	if (!text)
		return vn_errf(e, VN_E_IO, "I/O error", "cannot encode state");
	rc = cnt_write_replace(path, text, strlen(text), 0644, e);
	free(text);
	return rc;
}

int cnt_state_lock(const char *cluster, struct vn_err *e)
{
	char path[PATH_MAX];
	int fd;

	if (cnt_state_dir(cluster, path, sizeof(path), e) || vn_mkdir_p(path, 0755, e))
		return -1;
	strncat(path, "/lock", sizeof(path) - strlen(path) - 1);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return vn_errf(e, VN_E_IO, "I/O error", "open %s: %s", path, strerror(errno));
	while (flock(fd, LOCK_EX) && errno == EINTR)
		;
	return fd;
}

void cnt_state_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}
