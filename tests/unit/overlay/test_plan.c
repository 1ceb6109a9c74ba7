/* Unit tests for overlay plans: the desired device, peer diffs (no-op,
 * join, leave, key rotation, endpoint change) and route diffs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "../../../overlay/keys.h"
#include "../../../overlay/plan.h"

/* Node i: key byte pattern i, address 172.30.0.i, pod CIDRs 10.244.i.0/24
 * and fd00:10:244:i::/64. */
static void make_node(struct mesh_node *n, int i, int keybyte)
{
	char buf[64];

	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "n%d", i);
	keys_generate(&n->public_key);
	memset(n->public_key.b, keybyte, WG_KEY_LEN);
	n->has_key = true;
	snprintf(buf, sizeof(buf), "172.30.0.%d", i);
	vn_addr_parse(buf, &n->address);
	n->has_address = true;
	snprintf(buf, sizeof(buf), "10.244.%d.0/24", i);
	vn_prefix_parse(buf, &n->pod_cidrs[0]);
	snprintf(buf, sizeof(buf), "fd00:10:244:%d::/64", i);
	vn_prefix_parse(buf, &n->pod_cidrs[1]);
	n->n_pod_cidrs = 2;
}

static void make_mesh(struct mesh *m, int n)
{
	struct mesh_node node;

	mesh_init(m);
	for (int i = 1; i <= n; i++) {
		make_node(&node, i, i);
		assert_int_equal(mesh_upsert(m, &node, NULL, NULL), 0);
	}
}

static struct wg_key priv1;

static void build(const struct mesh *m, struct plan *p)
{
	struct plan_opts o = { .node = "n1" };
	struct vn_err e = { 0 };

	assert_int_equal(plan_build(m, &o, &priv1, p, &e), 0);
}

/* The device as it would be after applying everything in want. */
static void copy_device(const struct wg_device *want, struct wg_device *cur)
{
	wg_device_init(cur, "wg");
	cur->flags = want->flags;
	cur->private_key = want->private_key;
	cur->listen_port = want->listen_port;
	for (size_t i = 0; i < want->n_peers; i++)
		assert_int_equal(wg_device_copy_peer(cur, &want->peers[i]), 0);
}

static void desired_device(void **state)
{
	struct plan p;
	struct mesh m;
	char buf[64];

	(void)state;
	make_mesh(&m, 3);
	build(&m, &p);
	assert_int_equal(p.want.n_peers, 2);
	assert_true(p.want.flags & WG_DEV_HAS_PRIVATE_KEY);
	assert_int_equal(p.want.listen_port, 51820);
	assert_int_equal(p.want.peers[0].public_key.b[0], 2);
	assert_int_equal(p.want.peers[0].n_allowedips, 2);
	assert_int_equal(p.want.peers[0].endpoint_port, 51820);
	assert_string_equal(vn_addr_str(&p.want.peers[0].endpoint, buf), "172.30.0.2");
	assert_int_equal(p.n_remote, 4);
	assert_string_equal(vn_prefix_str(&p.remote[0], buf), "10.244.2.0/24");
	assert_int_equal(p.n_local, 2);
	assert_true(p.has_probe);
	assert_string_equal(vn_addr_str(&p.uplink_probe, buf), "172.30.0.2");
	/* the local node publishes another key than ours: a warning */
	assert_non_null(strstr(p.warnings, "publish"));
	plan_free(&p);
	mesh_free(&m);
}

static void unfit_nodes_get_no_peer(void **state)
{
	struct mesh_node n;
	struct plan p;
	struct mesh m;

	(void)state;
	make_mesh(&m, 2);
	make_node(&n, 3, 3);
	n.has_key = false;		/* no annotation */
	mesh_upsert(&m, &n, NULL, NULL);
	make_node(&n, 4, 4);
	n.has_address = false;		/* no InternalIP */
	mesh_upsert(&m, &n, NULL, NULL);
	make_node(&n, 5, 7);
	mesh_upsert(&m, &n, NULL, NULL);
	make_node(&n, 6, 7);		/* same key as n5 */
	mesh_upsert(&m, &n, NULL, NULL);
	build(&m, &p);
	assert_int_equal(p.want.n_peers, 1);	/* only n2 */
	assert_int_equal(p.n_remote, 10);	/* but every remote CIDR is routed */
	assert_non_null(strstr(p.warnings, "\"n3\" has no"));
	assert_non_null(strstr(p.warnings, "\"n4\" has no InternalIP"));
	assert_non_null(strstr(p.warnings, "\"n5\" and \"n6\""));
	plan_free(&p);
	mesh_free(&m);
}

static void cluster_cidrs(void **state)
{
	struct vn_prefix opt[2];
	struct plan_opts o = { .node = "n1", .cluster = opt, .n_cluster = 2 };
	char buf[VN_PREFIX_STRLEN];
	struct vn_err e = { 0 };
	struct plan p;
	struct mesh m;

	(void)state;
	make_mesh(&m, 3);
	vn_prefix_parse("fd00:10:244::/48", &opt[0]);
	vn_prefix_parse("10.244.0.0/16", &opt[1]);
	vn_prefix_parse("10.244.0.0/16", &m.cluster_cidrs[0]);	/* the file's, a duplicate */
	m.n_cluster_cidrs = 1;
	assert_int_equal(plan_build(&m, &o, &priv1, &p, &e), 0);
	assert_int_equal(p.n_cluster, 2);
	assert_string_equal(vn_prefix_str(&p.cluster[0], buf), "10.244.0.0/16");
	assert_string_equal(vn_prefix_str(&p.cluster[1], buf), "fd00:10:244::/48");
	assert_null(strstr(p.warnings, "cluster CIDR"));
	plan_free(&p);
	/* a cluster CIDR that holds remote nodes' InternalIPs: warned */
	vn_prefix_parse("172.30.0.0/30", &opt[1]);
	assert_int_equal(plan_build(&m, &o, &priv1, &p, &e), 0);
	assert_non_null(strstr(p.warnings, "172.30.0.0/30 holds node \"n2\"'s InternalIP"));
	assert_non_null(strstr(p.warnings, "\"n3\"'s InternalIP 172.30.0.3"));
	assert_null(strstr(p.warnings, "\"n1\"'s"));	/* this node's own: no forward */
	plan_free(&p);
	vn_prefix_parse("172.30.0.2/32", &opt[1]);
	assert_int_equal(plan_build(&m, &o, &priv1, &p, &e), 0);
	assert_non_null(strstr(p.warnings, "\"n2\"'s"));
	assert_null(strstr(p.warnings, "\"n3\"'s"));
	plan_free(&p);
	mesh_free(&m);
}

static void unknown_local_node(void **state)
{
	struct plan_opts o = { .node = "nope" };
	struct vn_err e = { 0 };
	struct plan p;
	struct mesh m;

	(void)state;
	make_mesh(&m, 2);
	assert_int_equal(plan_build(&m, &o, &priv1, &p, &e), -1);
	assert_non_null(strstr(e.details, "\"nope\""));
	plan_free(&p);
	mesh_free(&m);
}

static void diff(const struct wg_device *cur, const struct wg_device *want,
		 struct wg_device *change, struct peer_counts *c)
{
	struct vn_err e = { 0 };

	assert_int_equal(plan_peer_diff(cur, want, change, c, &e), 0);
}

static void noop_and_fresh(void **state)
{
	struct wg_device cur, change, empty;
	struct peer_counts c;
	struct plan p;
	struct mesh m;

	(void)state;
	make_mesh(&m, 4);
	build(&m, &p);
	/* an empty device: key, port and every peer */
	wg_device_init(&empty, "wg");
	diff(&empty, &p.want, &change, &c);
	assert_int_equal(c.device, 2);
	assert_int_equal(c.added, 3);
	assert_int_equal(c.removed + c.updated, 0);
	assert_int_equal(change.n_peers, 3);
	assert_true(change.peers[0].flags & WG_PEER_REPLACE_ALLOWEDIPS);
	wg_device_free(&change);
	/* the device already right: nothing at all */
	copy_device(&p.want, &cur);
	diff(&cur, &p.want, &change, &c);
	assert_int_equal(c.device + c.added + c.removed + c.updated, 0);
	assert_false(wg_device_has_changes(&change));
	wg_device_free(&change);
	/* the same, with allowed IPs in another order: still nothing */
	{
		struct vn_prefix t = cur.peers[1].allowedips[0];

		cur.peers[1].allowedips[0] = cur.peers[1].allowedips[1];
		cur.peers[1].allowedips[1] = t;
	}
	diff(&cur, &p.want, &change, &c);
	assert_int_equal(c.updated, 0);
	wg_device_free(&change);
	wg_device_free(&cur);
	plan_free(&p);
	mesh_free(&m);
}

static void join_leave_rotate(void **state)
{
	struct wg_device cur, change;
	struct mesh_node n;
	struct peer_counts c;
	struct plan p, p2;
	struct mesh m;

	(void)state;
	make_mesh(&m, 4);
	build(&m, &p);
	copy_device(&p.want, &cur);

	/* join: n5 appears, one peer added, nothing else */
	make_node(&n, 5, 5);
	mesh_upsert(&m, &n, NULL, NULL);
	build(&m, &p2);
	diff(&cur, &p2.want, &change, &c);
	assert_int_equal(c.added, 1);
	assert_int_equal(c.device + c.removed + c.updated, 0);
	assert_int_equal(change.n_peers, 1);
	assert_int_equal(change.peers[0].public_key.b[0], 5);
	assert_false(change.peers[0].flags & WG_PEER_REMOVE);
	assert_int_equal(change.peers[0].n_allowedips, 2);
	wg_device_free(&change);
	plan_free(&p2);

	/* leave: n3 goes, one removal */
	mesh_remove(&m, "n5");
	mesh_remove(&m, "n3");
	build(&m, &p2);
	diff(&cur, &p2.want, &change, &c);
	assert_int_equal(c.removed, 1);
	assert_int_equal(c.device + c.added + c.updated, 0);
	assert_int_equal(change.n_peers, 1);
	assert_int_equal(change.peers[0].public_key.b[0], 3);
	assert_true(change.peers[0].flags & WG_PEER_REMOVE);
	wg_device_free(&change);
	plan_free(&p2);

	/* rotation: n3 back with a new key: old key removed first, new added */
	make_node(&n, 3, 0x33);
	mesh_upsert(&m, &n, NULL, NULL);
	build(&m, &p2);
	diff(&cur, &p2.want, &change, &c);
	assert_int_equal(c.removed, 1);
	assert_int_equal(c.added, 1);
	assert_int_equal(c.updated + c.device, 0);
	assert_int_equal(change.n_peers, 2);
	assert_true(change.peers[0].flags & WG_PEER_REMOVE);
	assert_int_equal(change.peers[0].public_key.b[0], 3);
	assert_false(change.peers[1].flags & WG_PEER_REMOVE);
	assert_int_equal(change.peers[1].public_key.b[0], 0x33);
	wg_device_free(&change);
	plan_free(&p2);

	/* n2 moves to another address: an in-place update of that peer only */
	make_node(&n, 3, 3);
	mesh_upsert(&m, &n, NULL, NULL);
	make_node(&n, 2, 2);
	vn_addr_parse("172.30.0.99", &n.address);
	mesh_upsert(&m, &n, NULL, NULL);
	build(&m, &p2);
	diff(&cur, &p2.want, &change, &c);
	assert_int_equal(c.updated, 1);
	assert_int_equal(c.added + c.removed + c.device, 0);
	assert_true(change.peers[0].flags & WG_PEER_UPDATE_ONLY);
	assert_true(change.peers[0].flags & WG_PEER_REPLACE_ALLOWEDIPS);
	wg_device_free(&change);
	plan_free(&p2);

	wg_device_free(&cur);
	plan_free(&p);
	mesh_free(&m);
}

static void new_private_key_and_port(void **state)
{
	struct wg_device cur, change;
	struct plan_opts o = { .node = "n1", .port = 4000 };
	struct vn_err e = { 0 };
	struct peer_counts c;
	struct wg_key other;
	struct plan p, p2;
	struct mesh m;

	(void)state;
	make_mesh(&m, 2);
	build(&m, &p);
	copy_device(&p.want, &cur);
	keys_generate(&other);
	assert_int_equal(plan_build(&m, &o, &other, &p2, &e), 0);
	diff(&cur, &p2.want, &change, &c);
	assert_int_equal(c.device, 2);
	assert_int_equal(c.added + c.removed + c.updated, 0);
	assert_int_equal(change.listen_port, 4000);
	assert_memory_equal(change.private_key.b, other.b, WG_KEY_LEN);
	wg_device_free(&change);
	wg_device_free(&cur);
	plan_free(&p2);
	plan_free(&p);
	mesh_free(&m);
}

/* A NodeList node: name, key byte, status.addresses entries (JSON), CIDR. */
static void add_json_node(char *buf, size_t size, const char *name, int keybyte,
			  const char *addrs, const char *cidr)
{
	struct wg_key k;
	char b64[WG_KEY_B64_LEN];
	size_t used = strlen(buf);

	memset(k.b, keybyte, WG_KEY_LEN);
	snprintf(buf + used, size - used,
		 "%s{\"metadata\":{\"name\":\"%s\",\"annotations\":{"
		 "\"veilnet.dev/wireguard-public-key\":\"%s\"}},"
		 "\"spec\":{\"podCIDRs\":[\"%s\"]},\"status\":{\"addresses\":[%s]}}",
		 used > 10 ? "," : "", name, wg_key_to_base64(&k, b64), cidr, addrs);
}

static const struct wg_peer *peer_of(const struct plan *p, int keybyte)
{
	for (size_t i = 0; i < p->want.n_peers; i++)
		if (p->want.peers[i].public_key.b[0] == keybyte)
			return &p->want.peers[i];
	return NULL;
}

/* Dual-stack underlays: the endpoint is the remote node's address of the
 * local node's family (a v4-only node cannot reach a v6 address, and a
 * dual-stack node listed v6 first has a v4 one); a node with one family
 * only is reached there; ExternalIP when there is no InternalIP. */
static void dual_stack_endpoints(void **state)
{
	struct plan_opts o = { .node = "n1" };
	struct vn_err e = { 0 };
	char list[4096] = "{\"items\":[", ep[VN_ADDR_STRLEN];
	struct plan p;
	struct mesh m;

	(void)state;
	add_json_node(list, sizeof(list), "n1", 1,
		      "{\"type\":\"InternalIP\",\"address\":\"172.30.0.1\"}", "10.244.1.0/24");
	add_json_node(list, sizeof(list), "n2", 2,
		      "{\"type\":\"Hostname\",\"address\":\"n2\"},"
		      "{\"type\":\"InternalIP\",\"address\":\"fd30::2\"},"
		      "{\"type\":\"InternalIP\",\"address\":\"172.30.0.2\"}", "10.244.2.0/24");
	add_json_node(list, sizeof(list), "n3", 3,
		      "{\"type\":\"InternalIP\",\"address\":\"fd30::3\"}", "10.244.3.0/24");
	add_json_node(list, sizeof(list), "n4", 4,
		      "{\"type\":\"ExternalIP\",\"address\":\"198.51.100.4\"},"
		      "{\"type\":\"Hostname\",\"address\":\"n4\"}", "10.244.4.0/24");
	add_json_node(list, sizeof(list), "n5", 5,
		      "{\"type\":\"InternalIP\",\"address\":\"fd30::5\"},"
		      "{\"type\":\"InternalIP\",\"address\":\"172.30.0.5\"}", "10.244.5.0/24");
	strcat(list, "]}");
	mesh_init(&m);
	assert_int_equal(mesh_parse(list, strlen(list), &m, &e), 0);
	assert_int_equal(plan_build(&m, &o, &priv1, &p, &e), 0);
	assert_int_equal(p.want.n_peers, 4);
	assert_string_equal(vn_addr_str(&peer_of(&p, 2)->endpoint, ep), "172.30.0.2");
	assert_string_equal(vn_addr_str(&peer_of(&p, 3)->endpoint, ep), "fd30::3");
	assert_string_equal(vn_addr_str(&peer_of(&p, 4)->endpoint, ep), "198.51.100.4");
	assert_string_equal(vn_addr_str(&p.uplink_probe, ep), "172.30.0.2");
	plan_free(&p);
	/* seen from n5 (v6 first): n2 by its v6 address */
	o.node = "n5";
	assert_int_equal(plan_build(&m, &o, &priv1, &p, &e), 0);
	assert_string_equal(vn_addr_str(&peer_of(&p, 2)->endpoint, ep), "fd30::2");
	assert_string_equal(vn_addr_str(&peer_of(&p, 4)->endpoint, ep), "198.51.100.4");
	plan_free(&p);
	mesh_free(&m);
}

/* Two nodes claiming one pod CIDR: WireGuard gives a prefix to one peer
 * only, so wanting it on both never settles (every up moves it). Neither
 * peer gets it, a warning names both, and the device then settles. A
 * remote node claiming this node's own CIDR gets neither it nor a route. */
static void conflicting_pod_cidrs(void **state)
{
	struct wg_device cur, change;
	struct peer_counts c;
	struct mesh_node n;
	char buf[VN_PREFIX_STRLEN];
	struct plan p;
	struct mesh m;

	(void)state;
	make_mesh(&m, 3);
	make_node(&n, 4, 4);
	n.pod_cidrs[0] = m.nodes[1].pod_cidrs[0];	/* n2's 10.244.2.0/24 */
	mesh_upsert(&m, &n, NULL, NULL);
	make_node(&n, 5, 5);
	n.pod_cidrs[0] = m.nodes[0].pod_cidrs[0];	/* n1's (ours) 10.244.1.0/24 */
	mesh_upsert(&m, &n, NULL, NULL);
	build(&m, &p);
	assert_int_equal(p.want.n_peers, 4);
	for (size_t i = 0; i < p.want.n_peers; i++)
		for (size_t j = 0; j < p.want.peers[i].n_allowedips; j++) {
			vn_prefix_str(&p.want.peers[i].allowedips[j], buf);
			assert_string_not_equal(buf, "10.244.2.0/24");
			assert_string_not_equal(buf, "10.244.1.0/24");
		}
	assert_int_equal(peer_of(&p, 2)->n_allowedips, 1);	/* its v6 CIDR only */
	assert_int_equal(peer_of(&p, 3)->n_allowedips, 2);	/* untouched */
	assert_non_null(strstr(p.warnings, "\"n2\" and \"n4\" both claim pod CIDR 10.244.2.0/24"));
	assert_non_null(strstr(p.warnings, "\"n5\" claims this node's pod CIDR 10.244.1.0/24"));
	/* the conflicting CIDR is still routed into the device (dropped
	 * there); this node's own is not */
	for (size_t i = 0; i < p.n_remote; i++)
		assert_string_not_equal(vn_prefix_str(&p.remote[i], buf), "10.244.1.0/24");
	assert_int_equal(p.n_remote, 6);
	/* applied, the device matches: nothing to do the next time */
	copy_device(&p.want, &cur);
	diff(&cur, &p.want, &change, &c);
	assert_false(wg_device_has_changes(&change));
	wg_device_free(&change);
	wg_device_free(&cur);
	plan_free(&p);
	/* a node listing one CIDR twice claims it once: no conflict */
	mesh_remove(&m, "n4");
	mesh_remove(&m, "n5");
	m.nodes[2].pod_cidrs[1] = m.nodes[2].pod_cidrs[0];
	build(&m, &p);
	assert_null(strstr(p.warnings, "claim"));
	assert_int_equal(peer_of(&p, 3)->n_allowedips, 2);
	plan_free(&p);
	mesh_free(&m);
}

/* What someone may change by hand with wg(8) and up must undo: an fwmark
 * (it diverts the tunnel's own packets in policy routing) and a preshared
 * key on one side (no handshake completes). */
static void hand_made_changes_undone(void **state)
{
	struct wg_device cur, change;
	struct peer_counts c;
	struct plan p;
	struct mesh m;

	(void)state;
	make_mesh(&m, 3);
	build(&m, &p);
	copy_device(&p.want, &cur);
	cur.flags |= WG_DEV_HAS_FWMARK;
	cur.fwmark = 0;			/* the kernel always reports one: 0 is none */
	diff(&cur, &p.want, &change, &c);
	assert_false(wg_device_has_changes(&change));
	wg_device_free(&change);
	cur.fwmark = 0x1234;
	cur.peers[1].flags |= WG_PEER_HAS_PSK;
	memset(cur.peers[1].preshared_key.b, 0x77, WG_KEY_LEN);
	diff(&cur, &p.want, &change, &c);
	assert_int_equal(c.device, 1);
	assert_int_equal(c.updated, 1);
	assert_int_equal(c.added + c.removed, 0);
	assert_true(change.flags & WG_DEV_HAS_FWMARK);
	assert_int_equal(change.fwmark, 0);
	assert_false(change.flags & WG_DEV_HAS_PRIVATE_KEY);
	assert_int_equal(change.n_peers, 1);
	assert_memory_equal(change.peers[0].public_key.b, cur.peers[1].public_key.b, WG_KEY_LEN);
	assert_true(change.peers[0].flags & WG_PEER_HAS_PSK);
	assert_true(wg_key_is_zero(&change.peers[0].preshared_key));	/* zero: removed */
	assert_true(change.peers[0].flags & WG_PEER_UPDATE_ONLY);
	wg_device_free(&change);
	wg_device_free(&cur);
	plan_free(&p);
	mesh_free(&m);
}

static struct route_entry route(const char *dst, uint32_t oif, uint32_t metric, bool gw)
{
	struct route_entry r = { .oif = oif, .metric = metric, .gateway = gw };

	vn_prefix_parse(dst, &r.dst);
	return r;
}

static void routes(void **state)
{
	struct vn_prefix want[3];
	struct route_entry cur[8];
	struct route_op ops[16];
	char buf[64];
	size_t n;

	(void)state;
	vn_prefix_parse("10.244.2.0/24", &want[0]);
	vn_prefix_parse("10.244.3.0/24", &want[1]);
	vn_prefix_parse("fd00:10:244:2::/64", &want[2]);
	assert_int_equal(plan_prefix_sort(want, 3), 3);
	/* nothing yet: three replaces */
	assert_int_equal(plan_routes(NULL, 0, want, 3, 9, ops), 3);
	/* already right, plus unrelated routes: nothing */
	cur[0] = route("10.244.2.0/24", 9, 0, false);
	cur[1] = route("10.244.3.0/24", 9, 0, false);
	cur[2] = route("fd00:10:244:2::/64", 9, 1024, false);
	cur[3] = route("0.0.0.0/0", 2, 0, true);
	cur[4] = route("172.30.0.0/24", 2, 0, false);
	cur[5] = route("fe80::/64", 9, 256, false);
	cur[5].kernel = true;
	assert_int_equal(plan_routes(cur, 6, want, 3, 9, ops), 0);
	/* a plain underlay route in the way: replaced (same metric) */
	cur[1] = route("10.244.3.0/24", 2, 0, true);
	n = plan_routes(cur, 6, want, 3, 9, ops);
	assert_int_equal(n, 1);
	assert_int_equal(ops[0].op, ROUTE_REPLACE);
	assert_string_equal(vn_prefix_str(&ops[0].dst, buf), "10.244.3.0/24");
	/* one with another metric: ours added, that one deleted */
	cur[1] = route("10.244.3.0/24", 2, 100, true);
	n = plan_routes(cur, 6, want, 3, 9, ops);
	assert_int_equal(n, 2);
	assert_int_equal(ops[0].op, ROUTE_REPLACE);
	assert_int_equal(ops[1].op, ROUTE_DELETE);
	assert_int_equal(ops[1].metric, 100);
	assert_int_equal(ops[1].oif, 2);
	/* a node left: its route through the device is deleted */
	cur[1] = route("10.244.3.0/24", 9, 0, false);
	cur[6] = route("10.244.4.0/24", 9, 0, false);
	n = plan_routes(cur, 7, want, 3, 9, ops);
	assert_int_equal(n, 1);
	assert_int_equal(ops[0].op, ROUTE_DELETE);
	assert_string_equal(vn_prefix_str(&ops[0].dst, buf), "10.244.4.0/24");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(desired_device),
		cmocka_unit_test(unfit_nodes_get_no_peer),
		cmocka_unit_test(unknown_local_node),
		cmocka_unit_test(cluster_cidrs),
		cmocka_unit_test(noop_and_fresh),
		cmocka_unit_test(join_leave_rotate),
		cmocka_unit_test(new_private_key_and_port),
		cmocka_unit_test(routes),
		cmocka_unit_test(dual_stack_endpoints),
		cmocka_unit_test(conflicting_pod_cidrs),
		cmocka_unit_test(hand_made_changes_undone),
	};

	if (sodium_init() < 0)
		return 1;
	keys_generate(&priv1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
