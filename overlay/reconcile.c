/* reconcile.c - up and down, step by step (see reconcile.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>
#include "keys.h"
#include "reconcile.h"
#include "strict.h"
#include "uapi.h"
#include "wgproc.h"

#define NO_MEM(e) vn_errf(e, VN_E_IO, "I/O error", "out of memory")

const char *backend_name(enum wg_backend b)
{
	return b == WG_BACKEND_KERNEL ? "kernel" : b == WG_BACKEND_UAPI ? "uapi" : "none";
}

unsigned int up_report_total(const struct up_report *r)
{
	return r->link + r->pc.device + r->pc.added + r->pc.removed + r->pc.updated + r->routes +
	       r->strict;
}

/* Which backend serves an existing link (NONE: no link). */
static int find_backend(struct vn_nl *rt, const char *ifname, struct rt_link *link,
			enum wg_backend *b, struct vn_err *e)
{
	char sock[108];
	bool alive;

	*b = WG_BACKEND_NONE;
	wg_uapi_path(ifname, sock, sizeof(sock));
	alive = uapi_alive(sock);
	if (rt_link_get(rt, ifname, 0, link, e)) {
		if (errno != ENODEV)
			return -1;
		if (alive)
			return vn_errf(e, VN_E_INVALID, "interface name in use",
				       "%s answers but there is no link %s in this network namespace: "
				       "another namespace's wireguard-go uses this name", sock, ifname);
		return 0;
	}
	if (strcmp(link->kind, "wireguard") == 0)
		*b = WG_BACKEND_KERNEL;
	else if (alive)
		*b = WG_BACKEND_UAPI;
	else
		return vn_errf(e, VN_E_INVALID, "interface name in use",
			       "link %s exists but is not a WireGuard device (kind \"%s\")", ifname,
			       link->kind);
	return 0;
}

static bool kernel_refused(int err)
{
	return err == EOPNOTSUPP || err == ENOENT || err == EAFNOSUPPORT || err == EINVAL;
}

static int create_device(const struct mesh_cfg *c, struct vn_nl *rt, enum wg_backend *b,
			 struct vn_err *e)
{
	pid_t pid;

	if (c->backend != BACKEND_UAPI) {
		if (rt_link_add_wireguard(rt, c->ifname, e) == 0) {
			*b = WG_BACKEND_KERNEL;
			return 0;
		}
		if (c->backend == BACKEND_KERNEL || !kernel_refused(errno))
			return -1;
		vn_logf(c->log, VN_LOG_INFO, "kernel has no WireGuard (%s): starting %s",
			e->details, c->wg_go);
	}
	if (wgproc_start(c->ifname, c->wg_go, c->wg_go_log, &pid, e))
		return -1;
	vn_logf(c->log, VN_LOG_INFO, "started %s %s, pid %d", c->wg_go, c->ifname, (int)pid);
	*b = WG_BACKEND_UAPI;
	return 0;
}

static int device_ensure(const struct mesh_cfg *c, struct vn_nl *rt, struct wg_conn *conn,
			 struct rt_link *link, struct up_report *r, struct vn_err *e)
{
	enum wg_backend b;

	if (find_backend(rt, c->ifname, link, &b, e))
		return -1;
	if ((c->backend == BACKEND_KERNEL && b == WG_BACKEND_UAPI) ||
	    (c->backend == BACKEND_UAPI && b == WG_BACKEND_KERNEL))
		return vn_errf(e, VN_E_INVALID, "wrong backend", "%s is served by the %s backend",
			       c->ifname, backend_name(b));
	if (b == WG_BACKEND_NONE) {
		if (create_device(c, rt, &b, e))
			return -1;
		r->link++;
		if (rt_link_get(rt, c->ifname, 0, link, e))
			return -1;
	}
	r->backend = b;
	return wg_open(conn, b, c->ifname, e);
}

static int peers_settle(struct wg_conn *conn, const struct plan *p, struct up_report *r,
			struct vn_err *e)
{
	struct wg_device cur, change;
	int ret = -1;

	if (wg_get_device(conn, &cur, e))
		return -1;
	if (plan_peer_diff(&cur, &p->want, &change, &r->pc, e))
		goto out;
	ret = wg_set_device(conn, &change, e);
	wg_device_free(&change);
out:
	wg_device_free(&cur);
	return ret;
}

/* The uplink: the route to the first remote node, else the default; its
 * MTU is the route's own if it has one, else the interface's. */
static unsigned int uplink_mtu(struct vn_nl *rt, const struct plan *p, uint32_t wg_ifindex)
{
	struct rt_link up;
	struct vn_err e;
	uint32_t oif = 0;
	unsigned int route_mtu = 0, mtu;

	if (p->has_probe && rt_route_oif(rt, &p->uplink_probe, &oif, &route_mtu, &e))
		oif = 0;
	if (!oif || oif == wg_ifindex) {
		route_mtu = 0;
		if (rt_default_oif(rt, AF_INET, &oif, &e) && rt_default_oif(rt, AF_INET6, &oif, &e))
			oif = 0;
	}
	if (!oif || oif == wg_ifindex || rt_link_get(rt, NULL, oif, &up, &e))
		return 1500 - 80;
	mtu = route_mtu && route_mtu < up.mtu ? route_mtu : up.mtu;
	return mtu <= 80 + 576 ? 1500 - 80 : mtu - 80;
}

static int link_settle(struct vn_nl *rt, const struct plan *p, struct rt_link *link,
		       struct up_report *r, struct vn_err *e)
{
	unsigned int mtu = uplink_mtu(rt, p, link->ifindex);

	r->mtu = mtu;
	if (link->mtu == mtu && link->up)
		return 0;
	r->link += (link->mtu != mtu) + !link->up;
	r->rt_messages++;
	if (rt_link_set(rt, link->ifindex, link->mtu != mtu ? mtu : 0, true, e))
		return vn_err_wrap(e, "%s", link->ifname);
	return 0;
}

static int routes_settle(struct vn_nl *rt, const struct plan *p, uint32_t wg_ifindex,
			 struct up_report *r, struct vn_err *e)
{
	struct route_entry *cur = NULL;
	struct route_op *ops = NULL;
	size_t n_cur = 0, n_ops;
	int ret = -1;

	if (rt_route_dump(rt, &cur, &n_cur, e))
		return -1;
	ops = calloc(n_cur + p->n_remote + 1, sizeof(*ops));
	if (!ops) {
		NO_MEM(e);
		goto out;
	}
	n_ops = plan_routes(cur, n_cur, p->remote, p->n_remote, wg_ifindex, ops);
	if (n_ops == (size_t)-1) {
		NO_MEM(e);
		goto out;
	}
	r->routes = (unsigned int)n_ops;
	ret = rt_route_apply(rt, ops, n_ops, wg_ifindex, &r->rt_messages, e);
out:
	free(ops);
	free(cur);
	return ret;
}

static int strict_settle(const struct mesh_cfg *c, const struct plan *p, struct up_report *r,
			 struct vn_err *e)
{
	struct strict_spec s = { .wg_ifname = c->ifname, .local = p->local, .n_local = p->n_local,
				 .remote = p->remote, .n_remote = p->n_remote,
				 .cluster = p->cluster, .n_cluster = p->n_cluster };
	bool changed = false;

	if (!c->strict) {	/* --no-strict: no table, not even an old one */
		if (strict_remove(&changed, e))
			return vn_err_wrap(e, "strict mode");
		r->strict += changed;
		return 0;
	}
	if (strict_apply(&s, &changed, e))
		return vn_err_wrap(e, "strict mode");
	r->strict += changed;
	return 0;
}

/* Logs how long the step since *t took (debug level). */
static void step(const struct mesh_cfg *c, const char *what, struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	vn_logf(c->log, VN_LOG_DEBUG, "%s: %.2f ms", what,
		(double)(now.tv_sec - t->tv_sec) * 1e3 + (double)(now.tv_nsec - t->tv_nsec) / 1e6);
	*t = now;
}

int reconcile_up(const struct mesh_cfg *c, const struct mesh *m, struct up_report *r,
		 struct vn_err *e)
{
	struct plan_opts o = { .node = c->node, .port = c->port, .keepalive = c->keepalive,
			       .cluster = c->cluster, .n_cluster = c->n_cluster };
	struct wg_conn conn = { 0 };
	struct vn_nl rt = { 0 };
	struct rt_link link;
	struct wg_key priv;
	struct timespec t;
	struct plan p;
	int ret = -1;

	clock_gettime(CLOCK_MONOTONIC, &t);
	memset(r, 0, sizeof(*r));
	if (keys_load(c->key_file, &priv, e))
		return -1;
	ret = plan_build(m, &o, &priv, &p, e);
	wg_key_wipe(&priv);
	if (ret)
		return -1;
	ret = -1;
	snprintf(r->warnings, sizeof(r->warnings), "%s", p.warnings);
	r->peers = p.want.n_peers;
	step(c, "plan", &t);
	if (vn_nl_open(&rt, NETLINK_ROUTE, e))
		goto out;
	if (strict_settle(c, &p, r, e))
		goto out;
	step(c, "strict table", &t);
	if (device_ensure(c, &rt, &conn, &link, r, e))
		goto out;
	step(c, "device", &t);
	if (peers_settle(&conn, &p, r, e))
		goto out;
	step(c, "peers", &t);
	if (link_settle(&rt, &p, &link, r, e) || routes_settle(&rt, &p, link.ifindex, r, e))
		goto out;
	step(c, "link and routes", &t);
	ret = 0;
out:
	r->nl_messages = conn.stats.nl_messages;
	r->uapi_bytes = conn.stats.uapi_bytes;
	wg_close(&conn);
	vn_nl_close(&rt);
	plan_free(&p);
	return ret;
}

int reconcile_down(const struct mesh_cfg *c, bool purge, struct down_report *r, struct vn_err *e)
{
	struct vn_nl rt = { 0 };
	struct rt_link link;
	char sock[108];
	pid_t server;
	bool reaped = false;
	int ret = -1;

	memset(r, 0, sizeof(*r));
	/* whoever serves the socket, also a wireguard-go in no pid file */
	wg_uapi_path(c->ifname, sock, sizeof(sock));
	server = uapi_server_pid(sock);
	if (wgproc_stop(c->ifname, &r->process_stopped, e))
		return -1;
	if (vn_nl_open(&rt, NETLINK_ROUTE, e))
		return -1;
	if (rt_link_get(&rt, c->ifname, 0, &link, e) == 0) {
		if (strcmp(link.kind, "wireguard") && strcmp(link.kind, "tun")) {
			vn_errf(e, VN_E_INVALID, "not ours",
				"link %s is not a WireGuard device (kind \"%s\"): left alone",
				c->ifname, link.kind);
			goto out;
		}
		if (rt_link_del(&rt, link.ifindex, e) && errno != ENODEV)
			goto out;
		r->link_deleted = true;
	} else if (errno != ENODEV) {
		goto out;
	}
	/* (a server whose link is in another netns is that netns' business) */
	if (server && r->link_deleted && wgproc_reap(server, c->ifname, &reaped, e))
		goto out;
	r->process_stopped = r->process_stopped || reaped;
	if (purge && strict_remove(&r->strict_removed, e))
		goto out;
	ret = 0;
out:
	vn_nl_close(&rt);
	return ret;
}

int reconcile_open(const char *ifname, struct wg_conn *conn, struct rt_link *link,
		   struct vn_err *e)
{
	struct vn_nl rt = { 0 };
	enum wg_backend b;
	int ret;

	if (vn_nl_open(&rt, NETLINK_ROUTE, e))
		return -1;
	ret = find_backend(&rt, ifname, link, &b, e);
	vn_nl_close(&rt);
	if (ret)
		return -1;
	if (b == WG_BACKEND_NONE)
		return vn_errf(e, VN_E_UNKNOWN, "not up", "there is no WireGuard device %s here",
			       ifname);
	return wg_open(conn, b, ifname, e);
}
