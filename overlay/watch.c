/* watch.c - applying watch-stream objects and events, the loop. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <veilnet/json.h>
#include <veilnet/jsonstream.h>
#include "watch.h"

/* ---- events ---- */

static int apply_node(struct mesh *m, const json_t *obj, struct vn_err *e)
{
	struct mesh_node n;
	bool changed = false;

	if (mesh_node_from_k8s(obj, "Node", &n, e))
		return -1;
	if (mesh_upsert(m, &n, &changed, e))
		return -1;
	return changed;
}

/* A deletion needs the name only: the rest of the object (its last
 * state) may be what was wrong with it. */
static int delete_node(struct mesh *m, const json_t *obj, struct vn_err *e)
{
	const char *name = json_string_value(json_object_get(json_object_get(obj, "metadata"),
							     "name"));

	if (!name || !*name)
		return vn_errf(e, VN_E_INVALID, "invalid watch event",
			       "DELETED event: field \"object.metadata.name\": expected a non-empty "
			       "string");
	return mesh_remove(m, name) ? 1 : 0;
}

/* A NodeList replaces everything, but only once all of it parsed. */
static int apply_list(struct mesh *m, const json_t *root, struct vn_err *e)
{
	struct mesh fresh;
	int changed = 0;

	mesh_init(&fresh);
	fresh.default_port = m->default_port;
	memcpy(fresh.cluster_cidrs, m->cluster_cidrs, sizeof(fresh.cluster_cidrs));
	fresh.n_cluster_cidrs = m->n_cluster_cidrs;
	if (mesh_parse_json(root, &fresh, e)) {
		mesh_free(&fresh);
		return -1;
	}
	changed = fresh.n != m->n;
	for (size_t i = 0; !changed && i < fresh.n; i++) {
		bool c = false;

		mesh_upsert(m, &fresh.nodes[i], &c, NULL);
		changed = c;
	}
	mesh_free(m);
	*m = fresh;
	return changed;
}

static int apply_event(struct mesh *m, const json_t *root, const char *type, struct vn_err *e)
{
	json_t *obj = json_object_get(root, "object");

	if (strcmp(type, "BOOKMARK") == 0)
		return 0;
	if (strcmp(type, "ERROR") == 0)
		return vn_errf(e, VN_E_INVALID, "watch error", "the API server sent an ERROR event: %.200s",
			       json_string_value(json_object_get(obj, "message")) ?: "(no message)");
	if (!json_is_object(obj))
		return vn_errf(e, VN_E_INVALID, "invalid watch event",
			       "%s event: field \"object\": expected an object", type);
	if (strcmp(type, "ADDED") == 0 || strcmp(type, "MODIFIED") == 0)
		return apply_node(m, obj, e);
	if (strcmp(type, "DELETED") == 0)
		return delete_node(m, obj, e);
	return vn_errf(e, VN_E_INVALID, "invalid watch event", "unknown event type \"%.32s\"", type);
}

int watch_apply(struct mesh *m, const char *text, size_t len, struct vn_err *e)
{
	json_t *root = vn_json_parse(text, len, "watch stream object", e);
	const char *type;
	int ret;

	if (!root)
		return -1;
	type = json_string_value(json_object_get(root, "type"));
	if (type && json_object_get(root, "object"))
		ret = apply_event(m, root, type, e);
	else if (json_is_array(json_object_get(root, "items")))
		ret = apply_list(m, root, e);
	else
		ret = apply_node(m, root, e);
	json_decref(root);
	return ret;
}

/* ---- the loop ---- */

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

struct loop {
	const struct mesh_cfg *c;
	const struct watch_opts *o;
	struct mesh m;
	struct vn_jsonstream s;
	long first_change;	/* 0: nothing to reconcile */
	long last_input;
	long retry_at;		/* 0: no retry pending */
	int last_failed;
};

static void reconcile(struct loop *l)
{
	struct up_report r;
	struct vn_err e = { 0 };

	l->first_change = 0;
	l->retry_at = 0;
	if (!mesh_find(&l->m, l->c->node)) {
		fprintf(stderr, "veilnet-mesh watch: node \"%s\" not seen yet; waiting\n", l->c->node);
		return;
	}
	if (reconcile_up(l->c, &l->m, &r, &e)) {
		fprintf(stderr, "veilnet-mesh watch: reconcile failed: %s: %s (retrying)\n", e.msg,
			e.details);
		l->last_failed = 1;
		l->retry_at = now_ms() + l->o->retry_ms;
		return;
	}
	l->last_failed = 0;
	if (r.warnings[0])
		fprintf(stderr, "%s", r.warnings);
	printf("reconciled: nodes=%zu peers=%zu changes=%u peers_added=%u peers_removed=%u "
	       "peers_updated=%u routes=%u\n", l->m.n, r.peers, up_report_total(&r), r.pc.added,
	       r.pc.removed, r.pc.updated, r.routes);
	fflush(stdout);
}

static void take_objects(struct loop *l)
{
	const char *obj;
	size_t len;
	int got;

	while ((got = vn_jsonstream_next(&l->s, &obj, &len)) != 0) {
		struct vn_err e = { 0 };
		int changed;

		if (got < 0) {
			fprintf(stderr, "veilnet-mesh watch: skipped %zu bytes outside any JSON "
				"object: \"%.40s\"\n", len, obj);
			continue;
		}
		changed = watch_apply(&l->m, obj, len, &e);
		if (changed < 0)
			fprintf(stderr, "veilnet-mesh watch: skipped a malformed object: %s\n",
				e.details);
		else if (changed && !l->first_change)
			l->first_change = now_ms();
	}
}

/* How long poll may wait: until the debounce, the max delay or a retry. */
static int wait_ms(const struct loop *l)
{
	long now = now_ms(), due = -1;

	if (l->first_change) {
		long quiet = l->last_input + l->o->debounce_ms;
		long cap = l->first_change + l->o->max_delay_ms;

		due = quiet < cap ? quiet : cap;
	} else if (l->retry_at) {
		due = l->retry_at;
	}
	if (due < 0)
		return -1;
	return due > now ? (int)(due - now) : 0;
}

static int read_some(struct loop *l)
{
	char buf[65536];
	ssize_t n = read(l->o->in_fd, buf, sizeof(buf));

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : -1;
	if (n == 0)
		return 0;
	l->last_input = now_ms();
	if (vn_jsonstream_feed(&l->s, buf, (size_t)n))
		return -1;
	take_objects(l);
	return 1;
}

int watch_run(const struct mesh_cfg *c, const struct watch_opts *o)
{
	struct loop l = { .c = c, .o = o, .s.objects_only = true };
	int status = 0, more = 1;

	mesh_init(&l.m);
	while (more > 0) {
		struct pollfd pfd = { .fd = o->in_fd, .events = POLLIN };
		int ready = poll(&pfd, 1, wait_ms(&l));

		if (ready < 0 && errno != EINTR) {
			perror("veilnet-mesh watch: poll");
			more = -1;
		} else if (ready > 0) {
			more = read_some(&l);
		} else if (ready == 0) {
			reconcile(&l);
		}
	}
	if (l.first_change || l.retry_at)
		reconcile(&l);
	if (more < 0) {
		fprintf(stderr, "veilnet-mesh watch: read: %s\n", strerror(errno));
		status = 1;
	} else if (vn_jsonstream_pending(&l.s)) {
		fprintf(stderr, "veilnet-mesh watch: the stream was truncated: it ends inside an "
			"object (%zu bytes unfinished)\n", l.s.len - l.s.start);
		status = 1;
	}
	if (l.last_failed)
		status = 1;
	mesh_free(&l.m);
	vn_jsonstream_free(&l.s);
	return status;
}
