/* ADD: a sequence of steps, each undone in reverse order if a later one
 * fails, so a failed ADD leaves no link, address, route or reservation.
 *
 * The reservation comes first: chosen, written and committed (temp file,
 * fsync, links, rename) under the store's lock, so a crash at any later
 * instant leaves a record that DEL or GC finds, and nothing is configured
 * for an address that is not reserved on disk. The fsync (~0.3 ms on an
 * idle disk) could overlap the veth in a second thread; measured, it did
 * not pay: the two slow each other down, and with 8 parallel ADDs the
 * thread cost ~10% (plugin/README.md). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/nsfs.h>
#include <veilnet/netns.h>
#include <veilnet/podguard.h>
#include "delegate.h"
#include "netlink.h"
#include "plugin.h"
#include "result.h"
#include "sysctl.h"

#define MTU_OVERHEAD 80		/* WireGuard over IPv6 */
#define MTU_FALLBACK 1420

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
	json_t *ipam_result;		/* delegated IPAM's answer */
};

/* True if fd is the network namespace this thread runs in: the runtime's,
 * which a pod's veth, addresses and default routes must never go into. */
static bool is_own_netns(int fd)
{
	struct stat ours, theirs;

	return fstat(fd, &theirs) == 0 && stat("/proc/thread-self/ns/net", &ours) == 0 &&
	       ours.st_dev == theirs.st_dev && ours.st_ino == theirs.st_ino;
}

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
	if (is_own_netns(a->netns_fd))
		return vn_errf(e, VN_E_ENV, "invalid environment variables",
			       "CNI_NETNS %s is the plugin's own network namespace, not a container's",
			       a->p->env.netns);
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

/* Built-in IPAM, locked: the addresses (nothing written yet). */
static int choose_builtin(struct add *a, struct vn_err *e)
{
	struct plugin *p = a->p;
	struct vn_addr req[2];
	size_t n_req = plugin_requested_ips(p, req);
	struct store_record old;
	int got = store_get_record(&a->store, p->recname, &old, e);

	if (got < 0)
		return -1;
	if (got == 0) {
		store_record_free(&old);
		return vn_errf(e, VN_E_INVALID, "invalid configuration",
			       "container %s ifname %s is already attached to network %s (DEL it first)",
			       p->env.container_id, p->env.ifname, p->cfg.name);
	}
	return store_reserve(&a->store, &p->cfg, p->recname, req, n_req, a->res.ips, &a->res.n_ips,
			     e);
}

/* Delegated IPAM: the plugin's ips become /32 and /128 on the pod, and its
 * routes the pod's extra routes (the spec: the IPAM plugin determines
 * them, the main plugin applies them). */
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
	/* its routes (from its own ipam.routes) take the place of ours */
	return result_ipam_routes(a->ipam_result, a->p->cfg.routes, CFG_MAX_ROUTES,
				  &a->p->cfg.n_routes, e);
}

static void delegate_del(struct add *a)
{
	struct plugin *p = a->p;
	struct vn_err ignored;

	delegate_run(p->cfg.ipam_type, p->env.path, "DEL", p->input, p->input_len, NULL, &ignored);
}

static int choose_delegated(struct add *a, struct vn_err *e)
{
	struct plugin *p = a->p;

	if (delegate_run(p->cfg.ipam_type, p->env.path, "ADD", p->input, p->input_len,
			 &a->ipam_result, e))
		return -1;
	if (take_ipam_result(a, e)) {
		delegate_del(a);
		return -1;
	}
	return 0;
}

/* Chooses the addresses and commits their record, under the lock
 * (delegated IPAM runs before the lock is taken). */
static int step_reserve(struct add *a, struct vn_err *e)
{
	struct plugin *p = a->p;
	struct store_record r;

	if (store_open(&a->store, p->cfg.data_dir, true, e) ||
	    store_prepare(&a->store, p->recname, e))
		return -1;
	if (!p->cfg.ipam_builtin && choose_delegated(a, e))
		return -1;
	if (store_lock(&a->store, e))
		goto fail;
	if (p->cfg.ipam_builtin && choose_builtin(a, e))
		goto fail;
	r = record_of(a);
	if (store_commit(&a->store, p->recname, &r, p->cfg.ipam_builtin, e))
		goto fail;
	store_unlock(&a->store);
	for (size_t i = 0; i < a->res.n_ips; i++)
		a->ipv6 |= a->res.ips[i].family == AF_INET6;
	vn_logf(&p->log, VN_LOG_DEBUG, "reserved %zu addresses", a->res.n_ips);
	return 0;
fail:
	store_unlock(&a->store);
	if (!p->cfg.ipam_builtin)
		delegate_del(a);
	return -1;
}

/* The node must forward what the pods send: net.ipv4.ip_forward and
 * net.ipv6.conf.all.forwarding, for the families the pod got. */
static int step_node_sysctls(struct add *a, struct vn_err *e)
{
	bool v4 = false;

	for (size_t i = 0; i < a->res.n_ips; i++)
		v4 |= a->res.ips[i].family == AF_INET;
	if (v4 && sysctl_ensure("net/ipv4/ip_forward", "1", e))
		return -1;
	if (a->ipv6 && sysctl_ensure("net/ipv6/conf/all/forwarding", "1", e))
		return -1;
	return 0;
}

/* Undoes step_reserve. */
static void undo_reserve(struct add *a)
{
	struct plugin *p = a->p;
	struct vn_err ignored;

	if (!p->cfg.ipam_builtin)
		delegate_del(a);
	if (store_lock(&a->store, &ignored) == 0) {
		store_release(&a->store, p->recname, NULL, &ignored);
		store_unlock(&a->store);
	}
}

/* Both MACs from one getrandom: unicast, locally administered. */
static int random_macs(struct add *a, struct vn_err *e)
{
	uint8_t rnd[12];

	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return vn_errf(e, VN_E_IO, "I/O error", "getrandom: %s", strerror(errno));
	memcpy(a->res.host_mac, rnd, 6);
	memcpy(a->res.pod_mac, rnd + 6, 6);
	a->res.host_mac[0] = (uint8_t)((a->res.host_mac[0] & 0xfe) | 0x02);
	a->res.pod_mac[0] = (uint8_t)((a->res.pod_mac[0] & 0xfe) | 0x02);
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

/* A DEL of this attachment may have just retired the pod's previous veth
 * (its deletion finishes in the background): its host end still holds
 * the host name, its pod end CNI_IFNAME. Deletes the retired links now;
 * true if the create is worth another try: retired links were deleted,
 * or none are left (the node's reaper may have deleted them since). */
static bool reap_retired(struct add *a)
{
	struct vn_err ignored;
	int rc = nl_group_delete(&a->nl, NL_TOMB_GROUP, &ignored);

	if (rc == 0)
		vn_logf(&a->p->log, VN_LOG_INFO, "deleted retired links to free %s/%s",
			a->p->host_ifname, a->p->env.ifname);
	return rc >= 0;
}

/* True if the pod netns has a link named CNI_IFNAME already: then that is
 * why the veth could not be made. */
static bool pod_has_ifname(struct add *a)
{
	int saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	struct vn_err ignored;
	struct link_info l;
	struct vn_nl nl;
	bool found = false;

	if (saved < 0)
		return false;
	if (setns(a->netns_fd, CLONE_NEWNET)) {
		close(saved);
		return false;
	}
	if (vn_nl_open(&nl, NETLINK_ROUTE, &ignored) == 0) {
		found = nl_link_get(&nl, a->p->env.ifname, 0, &l, &ignored) == 0;
		vn_nl_close(&nl);
	}
	vn_netns_leave(saved, NULL);
	return found;
}

/* The spec: an interface of the requested name in the container is an
 * error; it names CNI_IFNAME, which this container cannot use. */
static int ifname_taken(struct add *a, struct vn_err *e)
{
	return vn_errf(e, VN_E_ENV, "invalid environment variables",
		       "CNI_IFNAME: interface %s already exists in CNI_NETNS %s", a->p->env.ifname,
		       a->p->env.netns);
}

static int step_veth(struct add *a, struct vn_err *e)
{
	struct plugin *p = a->p;
	char alias[128];
	struct veth_spec v = { .host_name = p->host_ifname, .pod_name = p->env.ifname,
			       .netns_fd = a->netns_fd, .alias = plugin_alias(p, alias) };

	if (choose_mtu(a, e) || random_macs(a, e))
		return -1;
	memcpy(v.host_mac, a->res.host_mac, 6);
	memcpy(v.pod_mac, a->res.pod_mac, 6);
	v.mtu = a->res.mtu;
	if (nl_veth_create(&a->nl, &v, &a->host_index, &a->pod_index, e) == 0 ||
	    (errno == EEXIST && reap_retired(a) &&
	     nl_veth_create(&a->nl, &v, &a->host_index, &a->pod_index, e) == 0)) {
		a->link_made = true;
		return 0;
	}
	if (pod_has_ifname(a))
		return ifname_taken(a, e);
	return vn_err_wrap(e, "host %s, pod %s", p->host_ifname, p->env.ifname);
}

static void undo_veth(struct add *a)
{
	struct vn_err ignored;

	if (a->link_made)
		nl_link_delete(&a->nl, a->p->host_ifname, &ignored);
}

/* Host end (already up, see nl_veth_create): IPv6 DAD off and forwarding
 * on, before the pod end comes up and gives it a carrier (DAD would start
 * then). */
static int step_host_link(struct add *a, struct vn_err *e)
{
	const char *host = a->p->host_ifname;

	if (a->ipv6 && (sysctl_set_if6(host, "accept_dad", "0", e) ||
			sysctl_ensure_if6(host, "forwarding", "1", e)))
		return -1;
	return 0;
}

/* Inside the pod netns: DAD off, and a netlink socket that stays bound to
 * the pod netns. */
static int pod_inside(struct add *a, struct vn_err *e)
{
	if (a->ipv6 && sysctl_set_if6(a->p->env.ifname, "accept_dad", "0", e))
		return -1;
	return vn_nl_open(&a->pod_nl, NETLINK_ROUTE, e);
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

/* Host routes to the pod, then the pod end up with its addresses, gateway
 * neighbours and routes: two round trips. */
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
	{ "reserve addresses", step_reserve, undo_reserve },
	{ "node sysctls", step_node_sysctls, NULL },
	{ "create veth", step_veth, undo_veth },
	{ "host link", step_host_link, NULL },		/* undone with the veth */
	{ "pod link", step_pod_link, NULL },		/* undone with the veth */
	{ "addresses and routes", step_addresses, NULL },	/* undone with the veth */
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
	struct add a = { .p = p, .netns_fd = -1,
			 .store = { .dirfd = -1, .lockfd = -1, .tmpfd = -1 } };
	size_t n = sizeof(steps) / sizeof(steps[0]), i;
	bool timed = vn_log_wants(&p->log, VN_LOG_DEBUG);
	int ret = 0;

	for (i = 0; i < n; i++) {
		struct timespec t0;

		if (timed)
			clock_gettime(CLOCK_MONOTONIC, &t0);
		if (steps[i].run(&a, e) == 0) {
			if (timed)
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
	if (a.ipam_result)
		json_decref(a.ipam_result);
	store_close(&a.store);
	vn_nl_close(&a.pod_nl);
	vn_nl_close(&a.nl);
	if (a.netns_fd >= 0)
		close(a.netns_fd);
	return ret;
}
