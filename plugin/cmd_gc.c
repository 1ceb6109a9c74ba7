/* GC (CNI 1.1.0): removes the reservations, host veths and routes of every
 * attachment of this network that is not in cni.dev/valid-attachments (or
 * cni.dev/attachments). Keeps going past errors and reports the first. */
#include <stdlib.h>
#include <string.h>
#include <veilnet/podguard.h>
#include "delegate.h"
#include "name.h"
#include "netlink.h"
#include "plugin.h"

#define GC_MAX_LINKS 4096

struct gc {
	struct plugin *p;
	struct vn_nl nl;
	char (*valid)[STORE_RECNAME_MAX];	/* sorted record names to keep */
	size_t n_valid;
	char (*doomed)[16];			/* host links to delete */
	size_t n_doomed;
	char alias[128];
	struct vn_err err;			/* first error */
	int released;
};

static int cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

static bool keep(void *ctx, const char *recname)
{
	struct gc *g = ctx;

	return bsearch(recname, g->valid, g->n_valid, sizeof(g->valid[0]), cmp_name) != NULL;
}

static void note_err(struct gc *g, const struct vn_err *e)
{
	if (!g->err.code)
		g->err = *e;
}

static void drop(void *ctx, const struct store_record *r)
{
	struct gc *g = ctx;
	struct vn_err e;

	vn_err_clear(&e);
	if (name_is_host_ifname(r->host_ifname) && nl_link_delete(&g->nl, r->host_ifname, &e) < 0)
		note_err(g, &e);
	if (r->n_ips && podguard_forget(r->ips, r->n_ips, &e))
		note_err(g, &e);
	vn_logf(&g->p->log, VN_LOG_INFO, "gc: released %s/%s (%s)", r->container_id, r->ifname,
		r->host_ifname);
}

static int load_valid(struct gc *g, struct vn_err *e)
{
	json_t *list = g->p->cfg.attachments, *it;
	size_t i;

	if (!list)
		return vn_errf(e, VN_E_INVALID, "invalid configuration",
			       "config: GC needs \"cni.dev/valid-attachments\"");
	g->valid = calloc(json_array_size(list) + 1, sizeof(g->valid[0]));
	if (!g->valid)
		return vn_errf(e, VN_E_IO, "I/O error", "out of memory");
	json_array_foreach(list, i, it) {
		char host[16];

		name_host_ifname(json_string_value(json_object_get(it, "containerID")),
				 json_string_value(json_object_get(it, "ifname")), host);
		store_recname(host, g->valid[g->n_valid++]);
	}
	qsort(g->valid, g->n_valid, sizeof(g->valid[0]), cmp_name);
	return 0;
}

static void gc_store(struct gc *g)
{
	struct store s = { .dirfd = -1, .lockfd = -1 };
	struct vn_err e;
	int n;

	vn_err_clear(&e);
	if (store_open(&s, g->p->cfg.data_dir, false, &e))
		return;		/* no data directory: nothing reserved */
	if (store_lock(&s, &e) == 0) {
		n = store_gc(&s, keep, drop, g, &e);
		if (n < 0)
			note_err(g, &e);
		else
			g->released = n;
	} else {
		note_err(g, &e);
	}
	store_close(&s);
}

/* A leaked host veth of this network (marked by its alias) not kept, or a
 * retired one (DEL's tomb) whose deletion never happened. */
static void consider_link(void *ctx, const struct link_info *l)
{
	struct gc *g = ctx;
	char recname[STORE_RECNAME_MAX];

	if (strcmp(l->alias, g->alias) != 0 || g->n_doomed >= GC_MAX_LINKS)
		return;
	store_recname(l->name, recname);
	if (l->group == NL_TOMB_GROUP || (name_is_host_ifname(l->name) && !keep(g, recname)))
		memcpy(g->doomed[g->n_doomed++], l->name, 16);
}

static void gc_links(struct gc *g)
{
	struct vn_err e;

	vn_err_clear(&e);
	g->doomed = calloc(GC_MAX_LINKS, sizeof(g->doomed[0]));
	if (!g->doomed)
		return;
	plugin_alias(g->p, g->alias);
	if (nl_link_each(&g->nl, HOST_IFNAME_PREFIX, consider_link, g, &e))
		note_err(g, &e);
	for (size_t i = 0; i < g->n_doomed; i++)
		if (nl_link_delete(&g->nl, g->doomed[i], &e) < 0)
			note_err(g, &e);
}

int cmd_gc(struct plugin *p, struct vn_err *e)
{
	struct gc g = { .p = p };
	int ret = 0;

	vn_err_clear(&g.err);
	if (load_valid(&g, e) || vn_nl_open(&g.nl, NETLINK_ROUTE, e)) {
		free(g.valid);
		return -1;
	}
	gc_store(&g);
	gc_links(&g);
	vn_logf(&p->log, VN_LOG_INFO, "gc: %d records, %zu leaked links removed", g.released,
		g.n_doomed);
	vn_nl_close(&g.nl);
	if (!p->cfg.ipam_builtin &&
	    delegate_run(p->cfg.ipam_type, p->env.path, "GC", p->input, p->input_len, NULL, e))
		note_err(&g, e);
	if (g.err.code) {
		*e = g.err;
		ret = -1;
	}
	free(g.valid);
	free(g.doomed);
	return ret;
}
