/* ADD: a sequence of steps, each undone in reverse order if a later one
 * fails, so a failed ADD leaves no link, address, route or reservation.
 *
 * The reservation (file creation and fsyncs) runs in a second thread
 * while the main thread creates the veth and brings both ends up; the
 * addresses and routes follow once the reservation is committed, while
 * the thread makes it durable (directory fsync), which ADD waits for
 * before it returns. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <linux/nsfs.h>
#include <veilnet/netns.h>
#include <veilnet/podguard.h>
#include "delegate.h"
#include "name.h"
#include "netlink.h"
#include "plugin.h"
#include "result.h"
#include "sysctl.h"

#define MTU_OVERHEAD 80		/* WireGuard over IPv6 */
#define MTU_FALLBACK 1420
#define IPAM_STACK (256 * 1024)	/* the IPAM thread's frames are small */

struct add {
	struct plugin *p;
	struct vn_nl nl;		/* node netns */
	struct vn_nl pod_nl;		/* bound to the pod netns */
	int netns_fd;
	struct store store;
	struct add_result res;
	int host_index, pod_index;
	bool ipv6;			/* IPv6 may be used: DAD off on both ends */
	bool link_made;
	bool record_made;
	json_t *ipam_result;		/* delegated IPAM's answer */
	pthread_t ipam_thread;
	bool ipam_running;
	pthread_mutex_t ipam_mu;
	pthread_cond_t ipam_cv;
	bool ipam_ready;		/* addresses committed (or failed) */
	int ipam_rc;			/* the commit's status */
	int sync_rc;			/* the directory fsync's status */
	struct vn_err ipam_err, sync_err;
};

static int step_netns(struct add *a, struct vn_err *e)
{
	a->netns_fd = open(a->p->env.netns, O_RDONLY | O_CLOEXEC);
	if (a->netns_fd < 0)
		return vn_errf(e, errno == ENOENT ? VN_E_UNKNOWN : VN_E_ENV,
			       errno == ENOENT ? "container unknown" : "invalid environment variables",
			       "CNI_NETNS %s: %s", a->p->env.netns, strerror(errno));
	if (ioctl(a->netns_fd, NS_GET_NSTYPE) != CLONE_NEWNET)
		return vn_errf(e, VN_E_ENV, "invalid environment variables",
			       "CNI_NETNS %s is not a network namespace", a->p->env.netns);
	return vn_nl_open(&a->nl, NETLINK_ROUTE, e);
}

static struct store_record record_of(const struct add *a)
{
	const struct plugin *p = a->p;
	struct store_record r = {
		.container_id = p->env.container_id, .ifname = p->env.ifname,
		.host_ifname = p->host_ifname, .netns = p->env.netns,
		.pod_namespace = p->args.pod_namespace, .pod_name = p->args.pod_name,
		.ipam = p->cfg.ipam_builtin ? "veilnet" : p->cfg.ipam_type,
		.n_ips = a->res.n_ips,
	};

	memcpy(r.ips, a->res.ips, sizeof(r.ips));
	return r;
}

/* Built-in IPAM: reserve (links), then commit (record), under the lock. */
static int reserve_builtin(struct add *a, struct vn_err *e)
{
	struct plugin *p = a->p;
	struct vn_addr req[2];
	size_t n_req = plugin_requested_ips(p, req);
	struct store_record r, old;
	int ret = -1, got;

	if (store_prepare(&a->store, p->recname, e) || store_lock(&a->store, e))
		return -1;
	got = store_get_record(&a->store, p->recname, &old, e);
	if (got < 0)
		goto out;
	if (got == 0) {
		store_record_free(&old);
		vn_errf(e, VN_E_INVALID, "invalid configuration",
			"container %s ifname %s is already attached to network %s (DEL it first)",
			p->env.container_id, p->env.ifname, p->cfg.name);
		goto out;
	}
	if (store_reserve(&a->store, &p->cfg, p->recname, req, n_req, a->res.ips, &a->res.n_ips, e))
		goto out;
	r = record_of(a);
	if (store_commit(&a->store, p->recname, &r, true, e))
		goto out;
	a->record_made = true;
	ret = 0;
out:
	store_unlock(&a->store);
	return ret;
}

/* Delegated IPAM: the plugin's ips become /32 and /128 on the pod. */
static int take_ipam_result(struct add *a, struct vn_err *e)
{
	json_t *ips = json_object_get(a->ipam_result, "ips"), *it;
	size_t i;

	json_array_foreach(ips, i, it) {
		struct vn_prefix pfx;
		const char *s = json_string_value(json_object_get(it, "address"));

		if (!s || vn_prefix_parse(s, &pfx) || a->res.n_ips >= STORE_MAX_IPS)
			return vn_errf(e, VN_E_DECODE, "decoding failure",
				       "IPAM plugin %s: bad ips[%zu]", a->p->cfg.ipam_type, i);
		a->res.ips[a->res.n_ips++] = pfx.addr;
	}
	if (!a->res.n_ips)
		return vn_errf(e, VN_E_INVALID, "invalid configuration",
			       "IPAM plugin %s returned no addresses", a->p->cfg.ipam_type);
	return 0;
}

static int reserve_delegated(struct add *a, struct vn_err *e)
{
	struct plugin *p = a->p;
	struct store_record r;
	int ret;

	if (delegate_run(p->cfg.ipam_type, p->env.path, "ADD", p->input, p->input_len,
			 &a->ipam_result, e))
		return -1;
	if (take_ipam_result(a, e) || store_lock(&a->store, e))
		goto fail;
	r = record_of(a);
	ret = store_commit(&a->store, p->recname, &r, false, e);
	store_unlock(&a->store);
	if (ret)
		goto fail;
	a->record_made = true;
	return 0;
fail:
	delegate_run(p->cfg.ipam_type, p->env.path, "DEL", p->input, p->input_len, NULL, NULL);
	return -1;
}

/* The node must forward what the pods send: net.ipv4.ip_forward and
 * net.ipv6.conf.all.forwarding, for the families the pod got. */
static int node_sysctls(struct add *a, struct vn_err *e)
{
	bool v4 = false, v6 = false;

	for (size_t i = 0; i < a->res.n_ips; i++) {
		v4 |= a->res.ips[i].family == AF_INET;
		v6 |= a->res.ips[i].family == AF_INET6;
	}
	if (v4 && sysctl_ensure("net/ipv4/ip_forward", "1", e))
		return -1;
	if (v6 && sysctl_ensure("net/ipv6/conf/all/forwarding", "1", e))
		return -1;
	return 0;
}

/* The IPAM thread: reserve and commit, tell the main thread the addresses
 * are there, then make them durable (the directory fsync) while the main
 * thread configures them. */
static void *ipam_main(void *arg)
{
	struct add *a = arg;
	struct plugin *p = a->p;
	int rc;

	if (store_open(&a->store, p->cfg.data_dir, true, &a->ipam_err))
		rc = -1;
	else
		rc = p->cfg.ipam_builtin ? reserve_builtin(a, &a->ipam_err)
					 : reserve_delegated(a, &a->ipam_err);
	if (rc == 0)
		rc = node_sysctls(a, &a->ipam_err);	/* the thread is in the node netns */
	pthread_mutex_lock(&a->ipam_mu);
	a->ipam_rc = rc;
	a->ipam_ready = true;
	pthread_cond_signal(&a->ipam_cv);
	pthread_mutex_unlock(&a->ipam_mu);
	if (rc == 0)
		a->sync_rc = store_sync(&a->store, &a->sync_err);
	return NULL;
}

static bool config_has_ipv6(const struct plugin_config *c)
{
	for (size_t i = 0; i < c->n_sets; i++)
		if (c->sets[i].family == AF_INET6)
			return true;
	return false;
}

static int step_ipam_start(struct add *a, struct vn_err *e)
{
	struct plugin *p = a->p;
	int rc;

	pthread_attr_t attr;

	a->ipv6 = p->cfg.ipam_builtin ? config_has_ipv6(&p->cfg) : sysctl_have_ipv6();
	vn_err_clear(&a->ipam_err);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, IPAM_STACK);
	rc = pthread_create(&a->ipam_thread, &attr, ipam_main, a);
	pthread_attr_destroy(&attr);
	if (rc)
		return vn_errf(e, VN_E_IO, "I/O error", "start IPAM thread: %s", strerror(rc));
	a->ipam_running = true;
	return 0;
}

/* Waits for the IPAM thread to end; returns the reservation's status. */
static int ipam_join(struct add *a)
{
	if (a->ipam_running) {
		pthread_join(a->ipam_thread, NULL);
		a->ipam_running = false;
	}
	return a->ipam_rc;
}

/* Waits until the addresses are committed (not yet durable). */
static int step_ipam_ready(struct add *a, struct vn_err *e)
{
	pthread_mutex_lock(&a->ipam_mu);
	while (!a->ipam_ready)
		pthread_cond_wait(&a->ipam_cv, &a->ipam_mu);
	pthread_mutex_unlock(&a->ipam_mu);
	if (a->ipam_rc) {
		*e = a->ipam_err;
		return -1;
	}
	vn_logf(&a->p->log, VN_LOG_DEBUG, "reserved %zu addresses", a->res.n_ips);
	return 0;
}

/* Waits until the reservation is durable. */
static int step_ipam_sync(struct add *a, struct vn_err *e)
{
	ipam_join(a);
	if (a->sync_rc) {
		*e = a->sync_err;
		return -1;
	}
	return 0;
}

static void undo_ipam(struct add *a)
{
	struct plugin *p = a->p;
	struct vn_err ignored;

	ipam_join(a);
	if (!a->record_made)
		return;		/* nothing committed: a failed reservation cleans up */
	if (!p->cfg.ipam_builtin)
		delegate_run(p->cfg.ipam_type, p->env.path, "DEL", p->input, p->input_len, NULL,
			     &ignored);
	if (store_lock(&a->store, &ignored) == 0) {
		store_release(&a->store, p->recname, NULL, &ignored);
		store_unlock(&a->store);
	}
}

static int random_mac(uint8_t mac[6], struct vn_err *e)
{
	if (getrandom(mac, 6, 0) != 6)
		return vn_errf(e, VN_E_IO, "I/O error", "getrandom: %s", strerror(errno));
	mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);	/* unicast, locally administered */
	return 0;
}

static int choose_mtu(struct add *a, struct vn_err *e)
{
	unsigned int mtu = 0;
	int found;

	if (a->p->cfg.mtu) {
		a->res.mtu = a->p->cfg.mtu;
		return 0;
	}
	found = nl_default_route_mtu(&a->nl, &mtu, e);
	if (found < 0)
		return -1;
	a->res.mtu = found == 0 && mtu > MTU_OVERHEAD + 576 ? mtu - MTU_OVERHEAD : MTU_FALLBACK;
	return 0;
}

struct tombs {
	const char *alias;
	char names[16][16];
	int n;
};

static void note_tomb(void *ctx, const struct link_info *l)
{
	struct tombs *t = ctx;

	if (t->n < 16 && name_is_tomb_ifname(l->name) && strcmp(l->alias, t->alias) == 0)
		memcpy(t->names[t->n++], l->name, 16);
}

/* A DEL of this attachment may have just retired the pod's previous veth
 * (its deletion finishes in the background): its pod end still holds
 * CNI_IFNAME. Deletes this network's retired links now; returns how many. */
static int reap_tombs(struct add *a)
{
	struct tombs t = { .n = 0 };
	struct vn_err ignored;
	char alias[128];

	t.alias = plugin_alias(a->p, alias);
	if (nl_link_each(&a->nl, TOMB_IFNAME_PREFIX, note_tomb, &t, &ignored))
		return 0;
	for (int i = 0; i < t.n; i++)
		nl_link_delete(&a->nl, t.names[i], &ignored);
	vn_logf(&a->p->log, VN_LOG_INFO, "deleted %d retired links to free %s", t.n,
		a->p->env.ifname);
	return t.n;
}

static int step_veth(struct add *a, struct vn_err *e)
{
	struct plugin *p = a->p;
	char alias[128];
	struct veth_spec v = { .host_name = p->host_ifname, .pod_name = p->env.ifname,
			       .netns_fd = a->netns_fd, .alias = plugin_alias(p, alias) };

	if (choose_mtu(a, e) || random_mac(a->res.host_mac, e) || random_mac(a->res.pod_mac, e))
		return -1;
	memcpy(v.host_mac, a->res.host_mac, 6);
	memcpy(v.pod_mac, a->res.pod_mac, 6);
	v.mtu = a->res.mtu;
	if (nl_veth_create(&a->nl, &v, e) &&
	    (errno != EEXIST || reap_tombs(a) == 0 || nl_veth_create(&a->nl, &v, e)))
		return vn_err_wrap(e, "host %s, pod %s", p->host_ifname, p->env.ifname);
	a->link_made = true;
	return 0;
}

static void undo_veth(struct add *a)
{
	struct vn_err ignored;

	if (a->link_made)
		nl_link_delete(&a->nl, a->p->host_ifname, &ignored);
}

/* Host end (already up, see nl_veth_create): IPv6 DAD off and forwarding
 * on, before the pod end comes up and gives it a carrier (DAD would start
 * then); its index for the routes. */
static int step_host_link(struct add *a, struct vn_err *e)
{
	struct plugin *p = a->p;
	struct link_info l;
	int got;

	if (a->ipv6 && (sysctl_set_if6(p->host_ifname, "accept_dad", "0", e) ||
			sysctl_ensure_if6(p->host_ifname, "forwarding", "1", e)))
		return -1;
	got = nl_link_get(&a->nl, p->host_ifname, 0, &l, e);
	if (got)
		return got < 0 ? -1 : vn_errf(e, VN_E_IO, "I/O error", "%s vanished", p->host_ifname);
	a->host_index = l.index;
	return 0;
}

/* Inside the pod netns: DAD off, a netlink socket that stays bound to the
 * pod netns, the interface's index, up. */
static int pod_inside(struct add *a, struct vn_err *e)
{
	struct plugin *p = a->p;
	struct link_info l;
	int got;

	if (a->ipv6 && sysctl_set_if6(p->env.ifname, "accept_dad", "0", e))
		return -1;
	if (vn_nl_open(&a->pod_nl, NETLINK_ROUTE, e))
		return -1;
	got = nl_link_get(&a->pod_nl, p->env.ifname, 0, &l, e);
	if (got)
		return got < 0 ? -1 : vn_errf(e, VN_E_IO, "I/O error", "%s vanished from the pod",
					      p->env.ifname);
	a->pod_index = l.index;
	return nl_link_up(&a->pod_nl, l.index, NULL, false, e);
}

static int step_pod_link(struct add *a, struct vn_err *e)
{
	int saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC), ret;

	if (saved < 0)
		return vn_errf(e, VN_E_IO, "I/O error", "open own netns: %s", strerror(errno));
	if (setns(a->netns_fd, CLONE_NEWNET)) {
		close(saved);
		return vn_errf(e, VN_E_ENV, "invalid environment variables",
			       "CNI_NETNS %s: setns: %s", a->p->env.netns, strerror(errno));
	}
	ret = pod_inside(a, e);
	if (vn_netns_leave(saved, ret ? NULL : e))
		ret = -1;
	return ret;
}

static int step_addresses(struct add *a, struct vn_err *e)
{
	result_plan_routes(&a->p->cfg, a->res.ips, a->res.n_ips, a->res.routes, &a->res.n_routes);
	if (nl_host_routes(&a->nl, a->host_index, a->res.ips, a->res.n_ips, e))
		return -1;
	return nl_pod_addrs(&a->pod_nl, a->pod_index, a->res.ips, a->res.n_ips, a->res.host_mac,
			    a->res.routes, a->res.n_routes, e);
}

static int step_podguard(struct add *a, struct vn_err *e)
{
	const char *ns = a->p->args.pod_namespace;

	if (!ns)
		return 0;	/* not a Kubernetes pod: no namespace policy applies */
	return podguard_admit(ns, a->res.ips, a->res.n_ips, e);
}

static void undo_podguard(struct add *a)
{
	struct vn_err ignored;

	if (a->p->args.pod_namespace)
		podguard_forget(a->res.ips, a->res.n_ips, &ignored);
}

static int step_result(struct add *a, struct vn_err *e)
{
	struct plugin *p = a->p;
	json_t *ipam_dns = a->ipam_result ? json_object_get(a->ipam_result, "dns") : NULL;

	a->res.host_ifname = p->host_ifname;
	a->res.pod_ifname = p->env.ifname;
	a->res.sandbox = p->env.netns;
	a->res.dns = p->cfg.dns ? p->cfg.dns : (json_is_object(ipam_dns) ? ipam_dns : NULL);
	p->out = result_build(&a->res, p->cfg.ver, p->cfg.prev_result);
	return p->out ? 0 : vn_errf(e, VN_E_IO, "I/O error", "out of memory");
}

struct step {
	const char *name;
	int (*run)(struct add *a, struct vn_err *e);
	void (*undo)(struct add *a);
};

static const struct step steps[] = {
	{ "open netns", step_netns, NULL },
	{ "start IPAM", step_ipam_start, undo_ipam },	/* runs in its own thread */
	{ "create veth", step_veth, undo_veth },
	{ "host link", step_host_link, NULL },		/* undone with the veth */
	{ "pod link", step_pod_link, NULL },		/* undone with the veth */
	{ "IPAM committed", step_ipam_ready, NULL },
	{ "addresses and routes", step_addresses, NULL },	/* undone with the veth */
	{ "IPAM durable", step_ipam_sync, NULL },
	{ "podguard", step_podguard, undo_podguard },
	{ "result", step_result, NULL },
};

static long usec_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000000 + (t1.tv_nsec - t0->tv_nsec) / 1000;
}

int cmd_add(struct plugin *p, struct vn_err *e)
{
	struct add a = { .p = p, .netns_fd = -1, .store = { .dirfd = -1, .lockfd = -1 },
			 .ipam_mu = PTHREAD_MUTEX_INITIALIZER, .ipam_cv = PTHREAD_COND_INITIALIZER };
	size_t n = sizeof(steps) / sizeof(steps[0]), i;
	int ret = 0;

	for (i = 0; i < n; i++) {
		struct timespec t0;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (steps[i].run(&a, e) == 0) {
			vn_logf(&p->log, VN_LOG_DEBUG, "step \"%s\": %ld us", steps[i].name,
				usec_since(&t0));
			continue;
		}
		vn_logf(&p->log, VN_LOG_WARN, "step \"%s\" failed, undoing", steps[i].name);
		while (i-- > 0)
			if (steps[i].undo)
				steps[i].undo(&a);
		ret = -1;
		break;
	}
	ipam_join(&a);
	if (a.ipam_result)
		json_decref(a.ipam_result);
	store_close(&a.store);
	vn_nl_close(&a.pod_nl);
	vn_nl_close(&a.nl);
	if (a.netns_fd >= 0)
		close(a.netns_fd);
	return ret;
}
