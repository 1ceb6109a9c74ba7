/* CHECK: compares the kernel (host veth and its routes, pod interface, its
 * addresses and routes) and the reservation record with prevResult, and
 * lists every difference in the error details (code 100). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <veilnet/netns.h>
#include "delegate.h"
#include "netlink.h"
#include "plugin.h"
#include "result.h"

struct diffs {
	char text[900];
	int n;
};

static void differ(struct diffs *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void differ(struct diffs *d, const char *fmt, ...)
{
	size_t len = strlen(d->text);
	va_list ap;

	if (len + 3 >= sizeof(d->text))
		return;
	if (d->n++)
		len += (size_t)snprintf(d->text + len, sizeof(d->text) - len, "; ");
	va_start(ap, fmt);
	vsnprintf(d->text + len, sizeof(d->text) - len, fmt, ap);
	va_end(ap);
}

static void check_host(struct plugin *p, const struct prev_view *v, struct diffs *d,
		       struct vn_err *e)
{
	char buf[VN_PREFIX_STRLEN];
	struct link_info l;
	struct vn_nl nl;

	if (vn_nl_open(&nl, NETLINK_ROUTE, e)) {
		differ(d, "netlink: %s", e->details);
		return;
	}
	if (nl_link_get(&nl, p->host_ifname, 0, &l, e) != 0) {
		differ(d, "host interface %s is missing", p->host_ifname);
		goto out;
	}
	if (!(l.flags & IFF_UP))
		differ(d, "host interface %s is down", p->host_ifname);
	for (size_t i = 0; i < v->n_ips; i++) {
		struct vn_prefix dst = { .addr = v->ips[i].addr,
					 .len = vn_addr_size(v->ips[i].addr.family) * 8 };
		struct route_match m;

		if (nl_route_match(&nl, &dst, &m, e) || !m.found || m.dst_len != dst.len ||
		    m.oif != l.index)
			differ(d, "host route to %s via %s is missing", vn_prefix_str(&dst, buf),
			       p->host_ifname);
	}
out:
	vn_nl_close(&nl);
}

static bool has_addr(const struct vn_prefix *list, size_t n, const struct vn_prefix *want)
{
	for (size_t i = 0; i < n; i++)
		if (list[i].len == want->len && vn_addr_cmp(&list[i].addr, &want->addr) == 0)
			return true;
	return false;
}

/* Each route ADD plans must be in the pod: through our interface via its
 * gateway, or through another interface of the pod, whose attachment made
 * it first (ADD leaves an existing route as it is). */
static void check_pod_routes(struct vn_nl *nl, const struct plugin *p, const struct prev_view *v,
			     int index, struct diffs *d, struct vn_err *e)
{
	struct vn_addr ips[STORE_MAX_IPS];
	struct cfg_route want[RESULT_MAX_ROUTES];
	char buf[VN_PREFIX_STRLEN];
	size_t n_want;

	for (size_t i = 0; i < v->n_ips; i++)
		ips[i] = v->ips[i].addr;
	result_plan_routes(&p->cfg, ips, v->n_ips, want, &n_want);
	for (size_t i = 0; i < n_want; i++) {
		struct route_match m;

		if (nl_route_match(nl, &want[i].dst, &m, e) || !m.found ||
		    m.dst_len != want[i].dst.len ||
		    (m.oif == index && vn_addr_cmp(&m.gw, &want[i].gw) != 0))
			differ(d, "pod route %s via %s is missing or different",
			       vn_prefix_str(&want[i].dst, buf), p->env.ifname);
	}
}

static void check_pod_inside(struct plugin *p, const struct prev_view *v, struct diffs *d,
			     struct vn_err *e)
{
	struct vn_prefix have[16];
	char buf[VN_PREFIX_STRLEN], m1[18], m2[18];
	struct link_info l;
	struct vn_nl nl;
	size_t n = 0;

	if (vn_nl_open(&nl, NETLINK_ROUTE, e)) {
		differ(d, "netlink in pod: %s", e->details);
		return;
	}
	if (nl_link_get(&nl, p->env.ifname, 0, &l, e) != 0) {
		differ(d, "pod interface %s is missing in %s", p->env.ifname, p->env.netns);
		goto out;
	}
	if (!(l.flags & IFF_UP))
		differ(d, "pod interface %s is down", p->env.ifname);
	if (v->has_pod_mac && memcmp(v->pod_mac, l.mac, 6) != 0)
		differ(d, "pod interface %s has MAC %s, prevResult says %s", p->env.ifname,
		       result_mac_str(l.mac, m1), result_mac_str(v->pod_mac, m2));
	if (nl_addr_list(&nl, l.index, have, 16, &n, e))
		differ(d, "listing addresses: %s", e->details);
	for (size_t i = 0; i < v->n_ips; i++)
		if (!has_addr(have, n, &v->ips[i]))
			differ(d, "address %s is missing on pod interface %s",
			       vn_prefix_str(&v->ips[i], buf), p->env.ifname);
	check_pod_routes(&nl, p, v, l.index, d, e);
out:
	vn_nl_close(&nl);
}

static void check_pod(struct plugin *p, const struct prev_view *v, struct diffs *d,
		      struct vn_err *e)
{
	int fd = open(p->env.netns, O_RDONLY | O_CLOEXEC), saved;

	if (fd < 0) {
		differ(d, "netns %s: %s", p->env.netns, strerror(errno));
		return;
	}
	saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (saved < 0 || setns(fd, CLONE_NEWNET)) {
		differ(d, "enter netns %s: %s", p->env.netns, strerror(errno));
	} else {
		check_pod_inside(p, v, d, e);
		if (vn_netns_leave(saved, e))
			differ(d, "%s", e->details);
		saved = -1;
	}
	if (saved >= 0)
		close(saved);
	close(fd);
}

static void check_record(struct plugin *p, const struct prev_view *v, struct diffs *d,
			 struct vn_err *e)
{
	struct store s = { .dirfd = -1, .lockfd = -1 };
	struct store_record r;
	char buf[VN_ADDR_STRLEN];

	if (store_open(&s, p->cfg.data_dir, false, e) || store_get_record(&s, p->recname, &r, e)) {
		differ(d, "no reservation record %s/%s", p->cfg.data_dir, p->recname);
		store_close(&s);
		return;
	}
	for (size_t i = 0; i < v->n_ips; i++) {
		bool listed = false;

		for (size_t j = 0; j < r.n_ips; j++)
			listed |= vn_addr_cmp(&r.ips[j], &v->ips[i].addr) == 0;
		if (!listed)
			differ(d, "address %s is not in the reservation record",
			       vn_addr_str(&v->ips[i].addr, buf));
		else if (p->cfg.ipam_builtin && !store_ip_taken(&s, &v->ips[i].addr))
			differ(d, "address %s is not reserved", vn_addr_str(&v->ips[i].addr, buf));
	}
	store_record_free(&r);
	store_close(&s);
}

int cmd_check(struct plugin *p, struct vn_err *e)
{
	struct prev_view v;
	struct diffs d = { .text = "" };

	if (result_view(p->cfg.prev_result, p->host_ifname, p->env.ifname, p->env.netns, &v, e))
		return -1;
	check_host(p, &v, &d, e);
	check_pod(p, &v, &d, e);
	check_record(p, &v, &d, e);
	if (d.n)
		return vn_errf(e, PLUGIN_E_CHECK, "network state differs from prevResult", "%s",
			       d.text);
	vn_err_clear(e);
	if (!p->cfg.ipam_builtin)
		return delegate_run(p->cfg.ipam_type, p->env.path, "CHECK", p->input, p->input_len,
				    NULL, e);
	return 0;
}
