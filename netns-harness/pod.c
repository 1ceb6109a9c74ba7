#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <veilnet/json.h>
#include "cluster.h"
#include "conf.h"
#include "ns.h"
#include "run.h"
#include "state.h"

/* One CNI operation for a pod, run inside its node's namespace. */
struct pod_op {
	enum cnt_cmd op;
	struct cnt_net net;
	struct cnt_rt rt;
	struct cnt_out out;
	char netns_path[PATH_MAX];
	char args[512];
};

static int pod_op_run(void *ctx, struct vn_err *e)
{
	struct pod_op *p = ctx;

	return cnt_run(p->op, &p->net, &p->rt, &p->out, e);
}

/* Prepares p for pod rec of cluster st (loads the node's conflist). */
static int pod_op_init(struct pod_op *p, const json_t *st, const json_t *rec,
		       const struct cnt_node *node, struct vn_err *e)
{
	const char *netns = json_string_value(json_object_get(rec, "netns"));
	const char *cid = json_string_value(json_object_get(rec, "containerId"));
	char uid[40];

	memset(p, 0, sizeof(*p));
	if (cnt_net_load(node->conflist, &p->net, e) ||
	    cnt_ns_path(netns, p->netns_path, sizeof(p->netns_path), e))
		return -1;
	cnt_pod_uid(uid, sizeof(uid), cid);	/* the same for ADD and DEL */
	if (cnt_k8s_args(p->args, sizeof(p->args),
			 json_string_value(json_object_get(rec, "namespace")),
			 json_string_value(json_object_get(rec, "name")), cid, uid))
		return vn_errf(e, VN_E_INVALID, "invalid arguments", "CNI_ARGS too long");
	p->rt.cid = cid;
	p->rt.netns = p->netns_path;
	p->rt.ifname = json_string_value(json_object_get(rec, "ifname"));
	p->rt.cni_args = p->args;
	p->rt.cni_path = json_string_value(json_object_get(st, "cniPath"));
	p->rt.cache_dir = json_string_value(json_object_get(st, "cacheDir"));
	return 0;
}

static void pod_op_free(struct pod_op *p)
{
	cnt_net_free(&p->net);
	cnt_out_free(&p->out);
}

/* Runs op for the pod in node's netns; returns the plugin's status, or -1
 * with e set. Prints the plugin's output when it failed. */
static int pod_cni(enum cnt_cmd op, const json_t *st, const json_t *rec,
		   const struct cnt_node *node, json_t **result, struct vn_err *e)
{
	struct pod_op p;
	int rc;

	if (pod_op_init(&p, st, rec, node, e)) {
		pod_op_free(&p);
		return -1;
	}
	p.op = op;
	rc = cnt_ns_run(node->netns, pod_op_run, &p, e);
	if (rc == 0 && p.out.status) {
		fprintf(stderr, "cni-test: %s of pod %s/%s: plugin %s exited with status %d\n",
			cnt_op_name(op), json_string_value(json_object_get(rec, "namespace")),
			json_string_value(json_object_get(rec, "name")), p.out.type, p.out.status);
		fwrite(p.out.out, 1, p.out.len, stdout);
		if (p.out.len && p.out.out[p.out.len - 1] != '\n')
			putchar('\n');
	}
	if (rc == 0) {
		rc = p.out.status;
		if (rc == 0 && result)
			*result = vn_json_parse(p.out.out, p.out.len, "plugin result", e);
		if (rc == 0 && result && !*result)
			rc = -1;
	}
	pod_op_free(&p);
	return rc;
}

/* The first IPv4 and IPv6 address of a CNI result, without prefix length. */
static void result_ips(const json_t *res, char *ip4, char *ip6, size_t len)
{
	size_t i;
	json_t *ip;

	ip4[0] = ip6[0] = '\0';
	json_array_foreach(json_object_get(res, "ips"), i, ip) {
		const char *a = json_string_value(json_object_get(ip, "address"));
		char *dst;

		if (!a)
			continue;
		dst = strchr(a, ':') ? ip6 : ip4;
		if (!dst[0])
			snprintf(dst, len, "%.*s", (int)strcspn(a, "/"), a);
	}
}

static void print_pod(const json_t *rec)
{
	const char *ip4 = json_string_value(json_object_get(rec, "ip4"));
	const char *ip6 = json_string_value(json_object_get(rec, "ip6"));

	printf("%s/%s %s %s %s\n", json_string_value(json_object_get(rec, "namespace")),
	       json_string_value(json_object_get(rec, "name")),
	       json_string_value(json_object_get(rec, "node")), ip4 ? ip4 : "-", ip6 ? ip6 : "-");
}

/* Changes the state under the lock: fn(st, ctx, e) on a fresh load, then
 * save. Returns 0 or -1 with e set. */
static int state_update(const char *cluster, int (*fn)(json_t *st, void *ctx, struct vn_err *e),
			void *ctx, struct vn_err *e)
{
	int lock = cnt_state_lock(cluster, e), rc = -1;
	json_t *st;

	if (lock < 0)
		return -1;
	st = cnt_state_load(cluster, e);
	if (st && fn(st, ctx, e) == 0)
		rc = cnt_state_save(st, e);
	json_decref(st);
	cnt_state_unlock(lock);
	return rc;
}

struct pod_ref {
	char ns[64], pod[64];
	const char *node;
	json_t *labels, *ports;		/* pod add */
	json_t *rec;			/* a copy of the record (owned) */
	char ip4[64], ip6[64];		/* pod add: the addresses */
	bool merge;
};

static int add_record(json_t *st, void *ctx, struct vn_err *e)
{
	struct pod_ref *r = ctx;
	struct cnt_node node;
	json_t *rec;

	if (cnt_state_node(st, r->node, &node, e))
		return -1;
	rec = cnt_state_pod_add(st, r->ns, r->pod, r->node, r->labels, r->ports, e);
	if (!rec)
		return -1;
	r->rec = json_deep_copy(rec);
	return 0;
}

static int set_running(json_t *st, void *ctx, struct vn_err *e)
{
	struct pod_ref *r = ctx;
	json_t *rec = cnt_state_pod(st, r->ns, r->pod);

	if (!rec)
		return vn_errf(e, VN_E_UNKNOWN, "unknown pod", "pod %s/%s vanished", r->ns, r->pod);
	if (r->ip4[0])
		json_object_set_new(rec, "ip4", json_string(r->ip4));
	if (r->ip6[0])
		json_object_set_new(rec, "ip6", json_string(r->ip6));
	json_object_set_new(rec, "phase", json_string("Running"));
	json_decref(r->rec);
	r->rec = json_deep_copy(rec);
	return 0;
}

static int drop_record(json_t *st, void *ctx, struct vn_err *e)
{
	struct pod_ref *r = ctx;

	(void)e;
	cnt_state_pod_remove(st, r->ns, r->pod);
	return 0;
}

/* Loads the state and finds node and pod record (copies into r->rec). */
static json_t *load_pod(const char *cluster, struct pod_ref *r, struct cnt_node *node,
			struct vn_err *e)
{
	json_t *st = cnt_state_load(cluster, e), *rec;

	if (!st)
		return NULL;
	rec = cnt_state_pod(st, r->ns, r->pod);
	if (!rec) {
		vn_errf(e, VN_E_UNKNOWN, "unknown pod", "cluster %s has no pod %s/%s", cluster,
			r->ns, r->pod);
		goto fail;
	}
	if (node && cnt_state_node(st, json_string_value(json_object_get(rec, "node")), node, e))
		goto fail;
	r->rec = json_deep_copy(rec);
	return st;
fail:
	json_decref(st);
	return NULL;
}

static int parse_ref(const struct cnt_opts *o, struct pod_ref *r, struct vn_err *e)
{
	memset(r, 0, sizeof(*r));
	r->node = o->node;
	r->merge = o->merge;
	return cnt_split_pod(o->pod, r->ns, sizeof(r->ns), r->pod, sizeof(r->pod), e);
}

/* Undoes a pod add after a failure: DEL, netns, record. */
static void undo_add(const char *cluster, const json_t *st, struct pod_ref *r,
		     const struct cnt_node *node, bool netns_made)
{
	struct vn_err e = {0};

	if (netns_made) {
		pod_cni(CNT_DEL, st, r->rec, node, NULL, &e);
		cnt_ns_delete(json_string_value(json_object_get(r->rec, "netns")), &e);
	}
	state_update(cluster, drop_record, r, &e);
}

int cnt_pod_add(const struct cnt_opts *o)
{
	struct vn_err e = {0};
	struct cnt_node node;
	struct pod_ref r;
	json_t *st = NULL, *res = NULL;
	int rc = 1, status;

	if (parse_ref(o, &r, &e))
		return cnt_report(&e);
	if ((o->labels && !(r.labels = cnt_labels_parse(o->labels, false, &e))) ||
	    (o->ports && !(r.ports = cnt_ports_parse(o->ports, &e))) ||
	    state_update(o->cluster, add_record, &r, &e)) {
		cnt_report(&e);
		goto out;
	}
	st = cnt_state_load(o->cluster, &e);
	if (!st || cnt_state_node(st, r.node, &node, &e) ||
	    cnt_ns_create(json_string_value(json_object_get(r.rec, "netns")), &e)) {
		cnt_report(&e);
		undo_add(o->cluster, st, &r, &node, false);
		goto out;
	}
	status = pod_cni(CNT_ADD, st, r.rec, &node, &res, &e);
	if (status) {
		if (status < 0)
			cnt_report(&e);
		rc = status < 0 ? 1 : status;
		undo_add(o->cluster, st, &r, &node, true);
		goto out;
	}
	result_ips(res, r.ip4, r.ip6, sizeof(r.ip4));
	if (state_update(o->cluster, set_running, &r, &e)) {
		cnt_report(&e);
		goto out;
	}
	print_pod(r.rec);
	rc = 0;
out:
	json_decref(res);
	json_decref(st);
	json_decref(r.labels);
	json_decref(r.ports);
	json_decref(r.rec);
	return rc;
}

int cnt_pod_del(const struct cnt_opts *o)
{
	struct vn_err e = {0};
	struct cnt_node node;
	struct pod_ref r;
	json_t *st;
	ino_t ino;
	int status;

	if (parse_ref(o, &r, &e))
		return cnt_report(&e);
	st = load_pod(o->cluster, &r, &node, &e);
	if (!st)
		return cnt_report(&e);
	ino = cnt_ns_inode(json_string_value(json_object_get(r.rec, "netns")));
	cnt_ns_kill(&ino, 1);
	status = pod_cni(CNT_DEL, st, r.rec, &node, NULL, &e);
	if (status < 0)
		cnt_report(&e);
	if (cnt_ns_delete(json_string_value(json_object_get(r.rec, "netns")), &e) ||
	    state_update(o->cluster, drop_record, &r, &e)) {
		cnt_report(&e);
		status = status ? status : -1;
	}
	json_decref(st);
	json_decref(r.rec);
	return status < 0 ? 1 : status;
}

int cnt_pod_exec(const struct cnt_opts *o)
{
	struct vn_err e = {0};
	struct pod_ref r;
	char netns[256];
	json_t *st;

	if (parse_ref(o, &r, &e))
		return cnt_report(&e);
	st = load_pod(o->cluster, &r, NULL, &e);
	if (!st)
		return cnt_report(&e);
	snprintf(netns, sizeof(netns), "%s", json_string_value(json_object_get(r.rec, "netns")));
	json_decref(r.rec);
	json_decref(st);
	return cnt_exec_in(netns, o->argv);
}

int cnt_node_exec(const struct cnt_opts *o)
{
	struct vn_err e = {0};
	struct cnt_node node;
	char netns[256];
	json_t *st = cnt_state_load(o->cluster, &e);

	if (!st)
		return cnt_report(&e);
	if (!strcmp(o->node, "ul")) {
		snprintf(netns, sizeof(netns), "%s", json_string_value(json_object_get(
				 json_object_get(st, "underlay"), "netns")));
	} else if (cnt_state_node(st, o->node, &node, &e) == 0) {
		snprintf(netns, sizeof(netns), "%s", node.netns);
	} else {
		json_decref(st);
		return cnt_report(&e);
	}
	json_decref(st);
	return cnt_exec_in(netns, o->argv);
}

int cnt_pod_list(const struct cnt_opts *o)
{
	struct vn_err e = {0};
	json_t *st = cnt_state_load(o->cluster, &e), *v;
	const char *key;

	if (!st)
		return cnt_report(&e);
	if (o->json) {
		json_t *list = cnt_state_k8s_list(st);

		json_dumpf(list, stdout, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(list);
	} else {
		json_object_foreach(json_object_get(st, "pods"), key, v)
			print_pod(v);
	}
	json_decref(st);
	return 0;
}

int cnt_pod_ip(const struct cnt_opts *o)
{
	struct vn_err e = {0};
	struct pod_ref r;
	const char *ip;
	json_t *st;

	if (parse_ref(o, &r, &e))
		return cnt_report(&e);
	st = load_pod(o->cluster, &r, NULL, &e);
	if (!st)
		return cnt_report(&e);
	ip = json_string_value(json_object_get(r.rec, o->ipv6 ? "ip6" : "ip4"));
	if (ip)
		printf("%s\n", ip);
	else
		fprintf(stderr, "cni-test: pod %s/%s has no IPv%c address\n", r.ns, r.pod,
			o->ipv6 ? '6' : '4');
	json_decref(r.rec);
	json_decref(st);
	return ip ? 0 : 1;
}

static int set_labels(json_t *st, void *ctx, struct vn_err *e)
{
	struct pod_ref *r = ctx;
	json_t *obj;

	if (r->pod[0]) {
		obj = cnt_state_pod(st, r->ns, r->pod);
		if (!obj)
			return vn_errf(e, VN_E_UNKNOWN, "unknown pod", "no pod %s/%s", r->ns, r->pod);
	} else {
		obj = cnt_state_namespace(st, r->ns, true);
		json_object_set_new(r->labels, "kubernetes.io/metadata.name", json_string(r->ns));
	}
	cnt_state_set_labels(obj, r->labels, r->merge);
	return 0;
}

int cnt_label(const struct cnt_opts *o)
{
	struct vn_err e = {0};
	struct pod_ref r;
	int rc = 0;

	if (o->cmd == CNT_POD_LABEL) {
		if (parse_ref(o, &r, &e))
			return cnt_report(&e);
	} else {
		memset(&r, 0, sizeof(r));
		r.merge = o->merge;
		if (!cnt_dns_label(o->namespace) || strlen(o->namespace) >= sizeof(r.ns)) {
			vn_errf(&e, VN_E_INVALID, "invalid arguments", "bad namespace '%s'",
				o->namespace);
			return cnt_report(&e);
		}
		strcpy(r.ns, o->namespace);
	}
	r.labels = cnt_labels_parse(o->labels, o->merge, &e);
	if (!r.labels || state_update(o->cluster, set_labels, &r, &e))
		rc = cnt_report(&e);
	json_decref(r.labels);
	return rc;
}
