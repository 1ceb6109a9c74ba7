/* Unit tests for strict mode's pure parts: prefixes merged into nftables
 * interval ranges, what the guard sets hold (cluster CIDRs, remote nodes,
 * departed nodes remembered), interval set elements and back, the table
 * fingerprint, and the decision: packets evaluated against the chain
 * (strict_chain) with the sets strict_apply would install. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <sodium.h>
#include "../../../overlay/strict.h"

static size_t ranges(const char **in, size_t n, int family, struct strict_range *out)
{
	struct vn_prefix p[16];

	for (size_t i = 0; i < n; i++)
		assert_int_equal(vn_prefix_parse(in[i], &p[i]), 0);
	return strict_ranges(p, n, family, out);
}

static void merges_ranges(void **state)
{
	const char *in[] = { "10.244.3.0/24", "10.244.2.0/24", "fd00:10:244:2::/64",
			     "10.244.9.0/24", "10.244.9.128/25", "10.244.2.7/24" };
	struct strict_range r[16];
	char a[VN_ADDR_STRLEN], b[VN_ADDR_STRLEN];
	size_t n;

	(void)state;
	n = ranges(in, 6, AF_INET, r);
	assert_int_equal(n, 2);
	/* 10.244.2.0/24 and .3.0/24 are adjacent: one range; .9 swallows its /25 */
	assert_string_equal(vn_addr_str(&r[0].start, a), "10.244.2.0");
	assert_string_equal(vn_addr_str(&r[0].end, b), "10.244.4.0");
	assert_string_equal(vn_addr_str(&r[1].start, a), "10.244.9.0");
	assert_string_equal(vn_addr_str(&r[1].end, b), "10.244.10.0");
	assert_true(r[1].has_end);
	n = ranges(in, 6, AF_INET6, r);
	assert_int_equal(n, 1);
	assert_string_equal(vn_addr_str(&r[0].end, b), "fd00:10:244:3::");
}

static void ranges_to_the_end(void **state)
{
	const char *in[] = { "255.255.255.0/24", "0.0.0.0/0", "10.0.0.0/8" };
	struct strict_range r[16];

	(void)state;
	assert_int_equal(ranges(in, 1, AF_INET, r), 1);
	assert_false(r[0].has_end);
	assert_int_equal(ranges(in, 3, AF_INET, r), 1);
	assert_false(r[0].has_end);
	assert_int_equal(ranges(in, 0, AF_INET, r), 0);
}

static void fingerprint(void **state)
{
	struct vn_prefix l[1], rem[2];
	struct strict_spec s = { .wg_ifname = "wg0", .local = l, .n_local = 1, .remote = rem,
				 .n_remote = 2 };
	char a[96], b[96];

	(void)state;
	vn_prefix_parse("10.244.1.0/24", &l[0]);
	vn_prefix_parse("10.244.2.0/24", &rem[0]);
	vn_prefix_parse("10.244.3.0/24", &rem[1]);
	assert_string_equal(strict_fingerprint(&s, a), "veilnet-mesh strict v3 wg=wg0");
	/* the sets' contents are compared element by element, not here */
	s.n_remote = 1;
	assert_string_equal(strict_fingerprint(&s, b), a);
	s.wg_ifname = "wg1";
	assert_string_not_equal(strict_fingerprint(&s, b), a);
}

static void merges_ranges_in_place(void **state)
{
	struct strict_range r[5];
	char a[VN_ADDR_STRLEN], b[VN_ADDR_STRLEN];

	(void)state;
	memset(r, 0, sizeof(r));
	vn_addr_parse("10.0.0.50", &r[0].start);	/* inside the next one */
	vn_addr_parse("10.0.0.60", &r[0].end);
	r[0].has_end = true;
	vn_addr_parse("10.0.0.0", &r[1].start);
	vn_addr_parse("10.0.0.100", &r[1].end);
	r[1].has_end = true;
	vn_addr_parse("10.0.0.100", &r[2].start);	/* adjacent: joins */
	vn_addr_parse("10.0.0.120", &r[2].end);
	r[2].has_end = true;
	vn_addr_parse("10.0.1.7", &r[3].start);	/* empty: dropped */
	vn_addr_parse("10.0.1.7", &r[3].end);
	r[3].has_end = true;
	vn_addr_parse("10.9.0.0", &r[4].start);	/* to the end of the space */
	assert_int_equal(strict_merge(r, 5), 2);
	assert_string_equal(vn_addr_str(&r[0].start, a), "10.0.0.0");
	assert_string_equal(vn_addr_str(&r[0].end, b), "10.0.0.120");
	assert_string_equal(vn_addr_str(&r[1].start, a), "10.9.0.0");
	assert_false(r[1].has_end);
	assert_int_equal(strict_merge(r, 0), 0);
}

static struct vn_prefix pfx(const char *s)
{
	struct vn_prefix p;

	assert_int_equal(vn_prefix_parse(s, &p), 0);
	return p;
}

static bool in_ranges(const struct strict_range *r, size_t n, const struct vn_addr *a)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].start.family == a->family && vn_addr_cmp(a, &r[i].start) >= 0 &&
		    (!r[i].has_end || vn_addr_cmp(a, &r[i].end) < 0))
			return true;
	return false;
}

static bool covers(const struct strict_range *r, size_t n, const char *addr)
{
	struct vn_addr a;

	assert_int_equal(vn_addr_parse(addr, &a), 0);
	return in_ranges(r, n, &a);
}

/* What the set holds after strict_apply: guarded ranges, as elements (the
 * kernel's form) and read back, as the next strict_apply reads them. */
static size_t store_and_read(const struct strict_range *r, size_t n, int family,
			     struct strict_range *back)
{
	struct strict_elem el[64];
	size_t m = strict_elems(r, n, family, el);

	assert_true(m <= 2 * n);
	return strict_elems_ranges(el, m, family, back);
}

static void elems_round_trip(void **state)
{
	struct vn_prefix p[] = { pfx("10.244.2.0/24"), pfx("10.244.3.0/24"), pfx("10.244.7.0/24"),
				 pfx("255.255.0.0/16") };
	struct strict_range r[8], back[8];
	struct strict_elem el[16], odd[4];
	size_t n = strict_ranges(p, 4, AF_INET, r), m;

	(void)state;
	assert_int_equal(n, 3);
	m = strict_elems(r, n, AF_INET, el);
	assert_int_equal(m, 5);	/* the last range has no end element */
	assert_false(el[0].end);
	assert_true(el[1].end);
	assert_false(el[4].end);
	assert_int_equal(strict_elems_ranges(el, m, AF_INET, back), 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(vn_addr_cmp(&back[i].start, &r[i].start), 0);
		assert_int_equal(back[i].has_end, r[i].has_end);
		assert_true(!r[i].has_end || vn_addr_cmp(&back[i].end, &r[i].end) == 0);
	}
	/* kernel semantics: start, start, end is one range; a stray end and
	 * an unmatched start (to the end) too */
	memset(odd, 0, sizeof(odd));
	odd[0].key[0] = 10;
	odd[1].key[0] = 11;
	odd[2].key[0] = 12;
	odd[2].end = true;
	odd[3].key[0] = 13;
	odd[3].end = true;
	assert_int_equal(strict_elems_ranges(odd, 4, AF_INET, back), 1);
	assert_int_equal(back[0].start.b[0], 10);
	assert_int_equal(back[0].end.b[0], 12);
	assert_int_equal(strict_elems_ranges(odd + 1, 1, AF_INET, back), 1);
	assert_false(back[0].has_end);
}

/* n1's view: local 10.244.1.0/24 fd00:10:244:1::/64; remote nodes given. */
static struct vn_prefix local1[2];
static struct vn_prefix remote23[4];

static int setup(void **state)
{
	(void)state;
	local1[0] = pfx("10.244.1.0/24");
	local1[1] = pfx("fd00:10:244:1::/64");
	remote23[0] = pfx("10.244.2.0/24");
	remote23[1] = pfx("fd00:10:244:2::/64");
	remote23[2] = pfx("10.244.3.0/24");
	remote23[3] = pfx("fd00:10:244:3::/64");
	return 0;
}

static void departed_nodes_remembered(void **state)
{
	struct strict_spec s = { .wg_ifname = "wg0", .local = local1, .n_local = 2,
				 .remote = remote23, .n_remote = 4 };
	struct strict_range g[16], held[16];
	size_t n, h;

	(void)state;
	/* n2 and n3 known, nothing held yet */
	n = strict_guarded(&s, AF_INET, NULL, 0, g);
	assert_true(covers(g, n, "10.244.2.9") && covers(g, n, "10.244.3.9"));
	assert_false(covers(g, n, "10.244.1.9"));
	h = store_and_read(g, n, AF_INET, held);
	/* n3 leaves: only n2 known, but the set remembers n3 */
	s.n_remote = 2;
	n = strict_guarded(&s, AF_INET, held, h, g);
	assert_true(covers(g, n, "10.244.2.9"));
	assert_true(covers(g, n, "10.244.3.9"));
	assert_false(covers(g, n, "10.244.9.9"));	/* never seen: not known */
	/* and still after another reconcile */
	h = store_and_read(g, n, AF_INET, held);
	n = strict_guarded(&s, AF_INET, held, h, g);
	assert_true(covers(g, n, "10.244.3.9"));
	/* held ranges of the other family do not leak into this one */
	assert_int_equal(strict_guarded(&s, AF_INET6, held, h, g), 1);
	assert_true(covers(g, 1, "fd00:10:244:2::1"));
}

static void cluster_cidrs_guard_everything(void **state)
{
	struct vn_prefix cl[] = { pfx("10.244.0.0/16"), pfx("fd00:10:244::/48") };
	struct strict_spec s = { .wg_ifname = "wg0", .local = local1, .n_local = 2,
				 .remote = remote23, .n_remote = 2, .cluster = cl, .n_cluster = 2 };
	struct strict_range g[16], held[2];
	size_t n;

	(void)state;
	memset(held, 0, sizeof(held));	/* something held before, e.g. 192.168.5.0/24 */
	vn_addr_parse("192.168.5.0", &held[0].start);
	vn_addr_parse("192.168.6.0", &held[0].end);
	held[0].has_end = true;
	n = strict_guarded(&s, AF_INET, held, 1, g);
	assert_int_equal(n, 1);	/* the /16 swallows the nodes' /24s */
	assert_true(covers(g, n, "10.244.3.9") && covers(g, n, "10.244.200.1"));
	assert_true(covers(g, n, "10.244.1.9"));	/* local: accepted by an earlier rule */
	assert_false(covers(g, n, "192.168.5.1"));	/* with cluster CIDRs nothing is remembered */
	assert_false(covers(g, n, "10.245.0.1"));
	n = strict_guarded(&s, AF_INET6, NULL, 0, g);
	assert_true(covers(g, n, "fd00:10:244:77::1"));
	assert_false(covers(g, n, "fd00:10:245::1"));
	/* a v4 cluster CIDR only: IPv6 still remembers */
	s.n_cluster = 1;
	vn_addr_parse("fd00:99::", &held[0].start);
	vn_addr_parse("fd00:99:0:1::", &held[0].end);
	n = strict_guarded(&s, AF_INET6, held, 1, g);
	assert_true(covers(g, n, "fd00:99::5"));
}

/* ---- the decision: a packet through the forward chain ---- */

struct sets {
	struct strict_range local[2][8], guard[2][16];
	size_t n_local[2], n_guard[2];
};

static void sets_for(const struct strict_spec *s, const struct strict_range *held, size_t n_held,
		     struct sets *v)
{
	for (int f = 0; f < 2; f++) {
		int family = f ? AF_INET6 : AF_INET;

		v->n_local[f] = strict_ranges(s->local, s->n_local, family, v->local[f]);
		v->n_guard[f] = strict_guarded(s, family, held, n_held, v->guard[f]);
	}
}

static bool is_pod_if(const char *ifname)
{
	return strncmp(ifname, STRICT_POD_IFPREFIX, strlen(STRICT_POD_IFPREFIX)) == 0;
}

/* true: dropped. First matching rule decides; the policy accepts. */
static bool dropped(const struct sets *v, const char *wg, const char *iif, const char *src,
		    const char *dst, const char *oif)
{
	const struct strict_rule *rules;
	struct vn_addr sa, da;
	size_t n;

	assert_int_equal(vn_addr_parse(src, &sa), 0);
	assert_int_equal(vn_addr_parse(dst, &da), 0);
	rules = strict_chain(&n);
	for (size_t i = 0; i < n; i++) {
		const struct strict_rule *r = &rules[i];
		int f = r->family == AF_INET6;

		if (r->family != da.family)
			continue;
		if ((r->src == STRICT_SRC_POD_IF && !is_pod_if(iif)) ||
		    (r->src == STRICT_SRC_LOCAL && !in_ranges(v->local[f], v->n_local[f], &sa)))
			continue;
		if (r->dst == STRICT_DST_LOCAL ? !in_ranges(v->local[f], v->n_local[f], &da)
					       : !in_ranges(v->guard[f], v->n_guard[f], &da))
			continue;
		if (r->oif == STRICT_OIF_POD ? !is_pod_if(oif) : strcmp(oif, wg) == 0)
			continue;
		return r->drop;
	}
	return false;
}

static void decision_after_a_leave(void **state)
{
	struct strict_spec s = { .wg_ifname = "wg0", .local = local1, .n_local = 2,
				 .remote = remote23, .n_remote = 4 };
	struct strict_range g[16], held[16];
	struct sets v;
	size_t h;

	(void)state;
	h = store_and_read(g, strict_guarded(&s, AF_INET, NULL, 0, g), AF_INET, held);
	h += store_and_read(g, strict_guarded(&s, AF_INET6, NULL, 0, g), AF_INET6, held + h);
	s.n_remote = 2;	/* n3 left, no cluster CIDR */
	sets_for(&s, held, h, &v);
	/* n3's pods: dropped whichever way they would leave but WireGuard */
	assert_true(dropped(&v, "wg0", "vnaaaa", "10.244.1.5", "10.244.3.7", "eth0"));
	assert_true(dropped(&v, "wg0", "vnaaaa", "10.244.1.5", "10.244.3.7", "eth1"));
	assert_false(dropped(&v, "wg0", "vnaaaa", "10.244.1.5", "10.244.3.7", "wg0"));
	/* n2 through the tunnel, not around it */
	assert_false(dropped(&v, "wg0", "vnaaaa", "10.244.1.5", "10.244.2.7", "wg0"));
	assert_true(dropped(&v, "wg0", "vnaaaa", "10.244.1.5", "10.244.2.7", "eth0"));
	assert_true(dropped(&v, "wg0", "eth0", "10.244.1.5", "10.244.2.7", "eth0"));	/* by source */
	/* pods of this node, node addresses, the internet: untouched */
	assert_false(dropped(&v, "wg0", "vnaaaa", "10.244.1.5", "10.244.1.6", "vnbbbb"));
	assert_false(dropped(&v, "wg0", "vnaaaa", "10.244.1.5", "172.30.0.2", "eth0"));
	assert_false(dropped(&v, "wg0", "vnaaaa", "10.244.1.5", "8.8.8.8", "eth0"));
	/* forwarded traffic that is not from a local pod */
	assert_false(dropped(&v, "wg0", "eth0", "172.30.0.9", "10.244.3.7", "eth0"));
	/* IPv6 remembers n3 as well */
	assert_true(dropped(&v, "wg0", "vnaaaa", "fd00:10:244:1::5", "fd00:10:244:3::7", "eth0"));
	assert_false(dropped(&v, "wg0", "vnaaaa", "fd00:10:244:1::5", "fd00:10:244:1::6", "vnbbbb"));
}

static void decision_with_cluster_cidrs(void **state)
{
	struct vn_prefix cl[] = { pfx("10.244.0.0/16"), pfx("fd00:10:244::/48") };
	struct strict_spec s = { .wg_ifname = "wg0", .local = local1, .n_local = 2,
				 .remote = remote23, .n_remote = 2, .cluster = cl, .n_cluster = 2 };
	struct sets v;

	(void)state;
	sets_for(&s, NULL, 0, &v);
	/* n3 left (or was never seen), a node not yet seen: all guarded */
	assert_true(dropped(&v, "wg0", "vnaaaa", "10.244.1.5", "10.244.3.7", "eth0"));
	assert_true(dropped(&v, "wg0", "vnaaaa", "10.244.1.5", "10.244.77.7", "eth0"));
	assert_true(dropped(&v, "wg0", "vnaaaa", "fd00:10:244:1::5", "fd00:10:244:9::7", "eth0"));
	assert_false(dropped(&v, "wg0", "vnaaaa", "10.244.1.5", "10.244.2.7", "wg0"));
	/* pod to pod on this node first, in both families */
	assert_false(dropped(&v, "wg0", "vnaaaa", "10.244.1.5", "10.244.1.6", "vnbbbb"));
	assert_false(dropped(&v, "wg0", "vnaaaa", "fd00:10:244:1::5", "fd00:10:244:1::6", "vnbbbb"));
	/* but this node's pod CIDR out of the uplink (no such pod) is not pod to pod */
	assert_true(dropped(&v, "wg0", "vnaaaa", "10.244.1.5", "10.244.1.200", "eth0"));
	/* outside the cluster CIDRs: untouched */
	assert_false(dropped(&v, "wg0", "vnaaaa", "10.244.1.5", "10.96.0.1", "eth0"));
	assert_false(dropped(&v, "wg0", "vnaaaa", "fd00:10:244:1::5", "2001:db8::1", "eth0"));
	/* another wg device name is not ours */
	assert_true(dropped(&v, "wg0", "vnaaaa", "10.244.1.5", "10.244.2.7", "wg1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(merges_ranges),
		cmocka_unit_test(ranges_to_the_end),
		cmocka_unit_test(merges_ranges_in_place),
		cmocka_unit_test(elems_round_trip),
		cmocka_unit_test_setup(departed_nodes_remembered, setup),
		cmocka_unit_test_setup(cluster_cidrs_guard_everything, setup),
		cmocka_unit_test_setup(decision_after_a_leave, setup),
		cmocka_unit_test_setup(decision_with_cluster_cidrs, setup),
		cmocka_unit_test(fingerprint),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
