/* DEL: succeeds whatever is left (missing netns, empty CNI_NETNS, unknown
 * container, a second DEL) and releases whatever exists. The host veth is
 * found by its deterministic name; deleting it removes the pod end and the
 * routes with it, so the pod netns is never entered.
 *
 * The kernel needs ~15 ms (an RCU grace period, under the rtnl lock that
 * every other netlink request waits for) to unregister a veth, which would
 * be 90% of DEL. So DEL retires the link at once, in one message (down,
 * which flushes its routes, and moved to the tomb group), and the node's
 * reaper process (reaper.h) deletes the tombs in batches. If it never
 * runs, the next ADD of the same attachment, a later reaper or GC removes
 * the tomb. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <veilnet/podguard.h>
#include "delegate.h"
#include "name.h"
#include "netlink.h"
#include "plugin.h"
#include "reaper.h"

/* True if prevResult's ip entry belongs to our pod interface: its
 * "interface" index names an interface called CNI_IFNAME inside a sandbox.
 * A prevResult that lists no interfaces leaves every ip ours. */
static bool prev_ip_is_ours(const struct plugin *p, json_t *ifaces, json_t *ip)
{
	json_t *idx = json_object_get(ip, "interface"), *iface;
	const char *name, *sandbox;

	if (!json_array_size(ifaces))
		return true;
	if (!json_is_integer(idx) || json_integer_value(idx) < 0)
		return false;
	iface = json_array_get(ifaces, (size_t)json_integer_value(idx));
	name = json_string_value(json_object_get(iface, "name"));
	sandbox = json_string_value(json_object_get(iface, "sandbox"));
	return name && sandbox && *sandbox && p->env.ifname && strcmp(name, p->env.ifname) == 0;
}

/* ips of our pod interface in prevResult, for podguard when no record
 * (a chain's other interfaces keep theirs). */
static size_t prev_ips(const struct plugin *p, struct vn_addr *out, size_t max)
{
	json_t *prev = p->cfg.prev_result;
	json_t *ips = prev ? json_object_get(prev, "ips") : NULL, *it;
	json_t *ifaces = prev ? json_object_get(prev, "interfaces") : NULL;
	size_t i, n = 0;

	json_array_foreach(ips, i, it) {
		struct vn_prefix pfx;
		const char *s = json_string_value(json_object_get(it, "address"));

		if (n < max && s && vn_prefix_parse(s, &pfx) == 0 && prev_ip_is_ours(p, ifaces, it))
			out[n++] = pfx.addr;
	}
	return n;
}

/* Releases the record; *n and ips are its addresses, *guarded whether ADD
 * gave them to podguard (a Kubernetes pod: it had a namespace). */
static int release(struct plugin *p, struct vn_addr *ips, size_t *n, bool *guarded,
		   struct vn_err *e)
{
	struct store store = { .dirfd = -1, .lockfd = -1 };
	struct store_record old;
	int ret = -1;

	*n = 0;
	if (store_open(&store, p->cfg.data_dir, false, e)) {
		vn_err_clear(e);	/* no data directory: nothing reserved */
		return 0;
	}
	if (store_lock(&store, e) == 0 && store_release(&store, p->recname, &old, e) == 0) {
		*n = old.n_ips;
		*guarded = old.pod_namespace != NULL;
		memcpy(ips, old.ips, sizeof(old.ips));
		store_record_free(&old);
		ret = 0;
	}
	store_close(&store);
	return ret;
}

static int remove_link(struct plugin *p, struct vn_err *e)
{
	struct vn_nl nl;
	int ret;

	if (vn_nl_open(&nl, NETLINK_ROUTE, e))
		return -1;
	ret = nl_link_retire(&nl, p->host_ifname, e);
	vn_nl_close(&nl);
	if (ret == 0)
		reaper_ensure();
	vn_logf(&p->log, VN_LOG_DEBUG, "%s %s", p->host_ifname, ret ? "was gone" : "retired");
	return ret < 0 ? -1 : 0;
}

int cmd_del(struct plugin *p, struct vn_err *e)
{
	struct vn_addr ips[STORE_MAX_IPS];
	bool guarded = false;
	size_t n = 0;

	if (remove_link(p, e))
		return -1;
	if (!p->cfg.ipam_builtin && delegate_run(p->cfg.ipam_type, p->env.path, "DEL", p->input,
						 p->input_len, NULL, e))
		return -1;
	if (release(p, ips, &n, &guarded, e))
		return -1;
	if (n == 0) {
		n = prev_ips(p, ips, STORE_MAX_IPS);
		guarded = p->args.pod_namespace != NULL;
	}
	return n && guarded ? podguard_forget(ips, n, e) : 0;
}
