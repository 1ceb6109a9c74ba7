/* DEL: succeeds whatever is left (missing netns, empty CNI_NETNS, unknown
 * container, a second DEL) and releases whatever exists. The host veth is
 * found by its deterministic name; deleting it removes the pod end and the
 * routes with it, so the pod netns is never entered.
 *
 * The kernel needs ~20 ms (an RCU grace period) to unregister a veth, which
 * would be 90% of DEL. So DEL retires the link at once (down, which flushes
 * its routes, and renamed to a "vnx..." tomb name, freeing the
 * deterministic name) and a detached child process deletes it. If that
 * child never runs, GC removes the tomb (it keeps the network's alias). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include <veilnet/podguard.h>
#include "delegate.h"
#include "name.h"
#include "netlink.h"
#include "plugin.h"

/* ips of our pod interface in prevResult, for podguard when no record. */
static size_t prev_ips(const struct plugin *p, struct vn_addr *out, size_t max)
{
	json_t *ips = p->cfg.prev_result ? json_object_get(p->cfg.prev_result, "ips") : NULL, *it;
	size_t i, n = 0;

	json_array_foreach(ips, i, it) {
		struct vn_prefix pfx;
		const char *s = json_string_value(json_object_get(it, "address"));

		if (n < max && s && vn_prefix_parse(s, &pfx) == 0)
			out[n++] = pfx.addr;
	}
	return n;
}

static int release(struct plugin *p, struct vn_addr *ips, size_t *n, struct vn_err *e)
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
		memcpy(ips, old.ips, sizeof(old.ips));
		store_record_free(&old);
		ret = 0;
	}
	store_close(&store);
	return ret;
}

/* In a detached child: delete the retired link, then exit. */
static void reap_in_child(int index)
{
	struct vn_err ignored;
	struct vn_nl nl;
	pid_t pid = fork();

	if (pid != 0)
		return;		/* parent (or fork failed: GC will do it) */
	setsid();
	for (int fd = 0; fd < 3; fd++)
		close(fd);	/* the runtime must not wait for us */
	if (vn_nl_open(&nl, NETLINK_ROUTE, &ignored) == 0)
		nl_link_delete_index(&nl, index, &ignored);
	_exit(0);
}

static int remove_link(struct plugin *p, struct vn_err *e)
{
	uint8_t rnd[6] = { 0 };
	char tomb[16];
	struct vn_nl nl;
	int index = 0, ret;

	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return vn_errf(e, VN_E_IO, "I/O error", "getrandom: %s", strerror(errno));
	name_tomb_ifname(rnd, tomb);
	if (vn_nl_open(&nl, NETLINK_ROUTE, e))
		return -1;
	ret = nl_link_retire(&nl, p->host_ifname, tomb, &index, e);
	vn_nl_close(&nl);
	if (ret == 0)
		reap_in_child(index);
	vn_logf(&p->log, VN_LOG_DEBUG, "%s %s", p->host_ifname, ret ? "was gone" : "retired");
	return ret < 0 ? -1 : 0;
}

int cmd_del(struct plugin *p, struct vn_err *e)
{
	struct vn_addr ips[STORE_MAX_IPS];
	size_t n = 0;

	if (remove_link(p, e))
		return -1;
	if (!p->cfg.ipam_builtin && delegate_run(p->cfg.ipam_type, p->env.path, "DEL", p->input,
						 p->input_len, NULL, e))
		return -1;
	if (release(p, ips, &n, e))
		return -1;
	if (n == 0)
		n = prev_ips(p, ips, STORE_MAX_IPS);
	return n ? podguard_forget(ips, n, e) : 0;
}
