/* Unit tests: the pure allocator and the on-disk store (in a temp dir). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../../../plugin/ipam.h"
#include "../../../plugin/store.h"

/* A fake reservation table for the allocator. */
struct taken {
	struct vn_addr a[64];
	size_t n;
};

static bool is_taken(void *ctx, const struct vn_addr *a)
{
	struct taken *t = ctx;

	for (size_t i = 0; i < t->n; i++)
		if (vn_addr_cmp(&t->a[i], a) == 0)
			return true;
	return false;
}

static void take(struct taken *t, const struct vn_addr *a)
{
	t->a[t->n++] = *a;
}

static void set_of(struct ipam_rangeset *s, const char *subnet, const char *start, const char *end,
		   const char *gw)
{
	struct vn_err e = { 0 };

	memset(s, 0, sizeof(*s));
	assert_int_equal(ipam_range_init(&s->r[0], subnet, start, end, gw, "test", &e), 0);
	s->family = s->r[0].subnet.addr.family;
	s->n = 1;
}

static const char *pick(const struct ipam_rangeset *s, const char *last, struct taken *t, char *buf)
{
	struct vn_addr l, out;

	if (last)
		vn_addr_parse(last, &l);
	if (ipam_pick(s, last ? &l : NULL, is_taken, t, &out))
		return "EXHAUSTED";
	return vn_addr_str(&out, buf);
}

static void exhaustion_and_bounds(void **state)
{
	struct ipam_rangeset s;
	struct taken t = { .n = 0 };
	char buf[VN_ADDR_STRLEN];
	struct vn_addr a;

	(void)state;
	set_of(&s, "10.0.0.0/29", NULL, NULL, NULL);	/* .1 .. .6 */
	assert_int_equal(ipam_set_size(&s), 6);
	for (int i = 1; i <= 6; i++) {
		char want[32];

		snprintf(want, sizeof(want), "10.0.0.%d", i);
		assert_string_equal(pick(&s, NULL, &t, buf), want);
		vn_addr_parse(want, &a);
		take(&t, &a);
	}
	assert_string_equal(pick(&s, NULL, &t, buf), "EXHAUSTED");
	assert_string_equal(pick(&s, "10.0.0.3", &t, buf), "EXHAUSTED");
	vn_addr_parse("10.0.0.0", &a);
	assert_false(ipam_set_allows(&s, &a));	/* network */
	vn_addr_parse("10.0.0.7", &a);
	assert_false(ipam_set_allows(&s, &a));	/* broadcast */
}

static void range_start_end_gateway(void **state)
{
	struct ipam_rangeset s;
	struct taken t = { .n = 0 };
	char buf[VN_ADDR_STRLEN];
	struct vn_addr a;

	(void)state;
	set_of(&s, "10.1.0.0/24", "10.1.0.100", "10.1.0.102", "10.1.0.101");
	assert_int_equal(ipam_set_size(&s), 2);
	assert_string_equal(pick(&s, NULL, &t, buf), "10.1.0.100");
	assert_string_equal(pick(&s, "10.1.0.100", &t, buf), "10.1.0.102");	/* gateway skipped */
	assert_string_equal(pick(&s, "10.1.0.102", &t, buf), "10.1.0.100");	/* wraps */
	vn_addr_parse("10.1.0.101", &a);
	assert_false(ipam_set_allows(&s, &a));
	vn_addr_parse("10.1.0.99", &a);
	assert_false(ipam_set_allows(&s, &a));
	vn_addr_parse("10.1.0.102", &a);
	assert_true(ipam_set_allows(&s, &a));
}

static void reuse_order_round_robin(void **state)
{
	struct ipam_rangeset s;
	struct taken t = { .n = 0 };
	char buf[VN_ADDR_STRLEN];
	struct vn_addr a;

	(void)state;
	set_of(&s, "10.2.0.0/24", NULL, NULL, NULL);
	vn_addr_parse("10.2.0.1", &a);
	take(&t, &a);
	vn_addr_parse("10.2.0.2", &a);
	take(&t, &a);
	/* .1 is released; the next allocation continues after the last (.2) */
	t.a[0] = t.a[1];
	t.n = 1;
	assert_string_equal(pick(&s, "10.2.0.2", &t, buf), "10.2.0.3");
	/* the last address in the range: the next is the first free from the start */
	assert_string_equal(pick(&s, "10.2.0.254", &t, buf), "10.2.0.1");
	/* a hint outside the set starts at the range start */
	assert_string_equal(pick(&s, "192.168.0.1", &t, buf), "10.2.0.1");
}

static void ipv6_and_multi_range(void **state)
{
	struct ipam_rangeset s;
	struct taken t = { .n = 0 };
	char buf[VN_ADDR_STRLEN];
	struct vn_err e = { 0 };
	struct vn_addr a;

	(void)state;
	set_of(&s, "fd00:10::/64", NULL, NULL, NULL);
	assert_int_equal(ipam_set_size(&s), UINT64_MAX);	/* saturated */
	assert_string_equal(pick(&s, NULL, &t, buf), "fd00:10::1");
	assert_string_equal(pick(&s, "fd00:10::ffff", &t, buf), "fd00:10::1:0");
	assert_string_equal(pick(&s, "fd00:10::ffff:ffff:ffff:ffff", &t, buf), "fd00:10::1");
	/* two ranges: after the end of the first, continue in the second */
	set_of(&s, "fd00:20::/120", "fd00:20::fe", NULL, NULL);
	assert_int_equal(ipam_range_init(&s.r[1], "fd00:30::/120", NULL, "fd00:30::2", NULL, "t", &e), 0);
	s.n = 2;
	assert_int_equal(ipam_set_size(&s), 4);
	assert_string_equal(pick(&s, "fd00:20::ff", &t, buf), "fd00:30::1");
	vn_addr_parse("fd00:30::1", &a);
	take(&t, &a);
	vn_addr_parse("fd00:30::2", &a);
	take(&t, &a);
	assert_string_equal(pick(&s, "fd00:20::ff", &t, buf), "fd00:20::fe");
	assert_int_equal(ipam_find_set(&s, 1, &a), 0);
}

/* ---- the store ---- */

static char tmpdir[64];

static int make_dir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/vnp-unit-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd);
}

static void config_4(struct plugin_config *c, const char *start, const char *end)
{
	struct vn_err e = { 0 };

	memset(c, 0, sizeof(*c));
	c->name = "unit";
	c->n_sets = 1;
	c->sets[0].family = AF_INET;
	c->sets[0].n = 1;
	assert_int_equal(ipam_range_init(&c->sets[0].r[0], "10.9.0.0/24", start, end, NULL, "t", &e), 0);
}

static int reserve(struct store *s, const struct plugin_config *c, const char *host,
		   const char *want, char *got, struct vn_err *e)
{
	char rec[STORE_RECNAME_MAX];
	struct vn_addr req, out[2];
	size_t n = 0;
	struct store_record r = { .container_id = host, .ifname = "eth0", .host_ifname = host,
				  .pod_namespace = "ns1", .pod_name = "p" };

	store_recname(host, rec);
	if (want)
		vn_addr_parse(want, &req);
	memset(e, 0, sizeof(*e));
	if (store_lock(s, e))
		return -1;
	if (store_reserve(s, c, rec, want ? &req : NULL, want ? 1 : 0, out, &n, e)) {
		store_unlock(s);
		return -1;
	}
	memcpy(r.ips, out, sizeof(out));
	r.n_ips = n;
	assert_int_equal(store_commit(s, rec, &r, true, e), 0);
	store_unlock(s);
	vn_addr_str(&out[0], got);
	return 0;
}

static void store_reserve_release(void **state)
{
	struct plugin_config c;
	struct store s;
	struct vn_err e = { 0 };
	struct store_record r;
	char got[VN_ADDR_STRLEN], rec[STORE_RECNAME_MAX], path[256];
	struct vn_addr a;

	(void)state;
	config_4(&c, "10.9.0.10", "10.9.0.12");
	assert_int_equal(store_open(&s, tmpdir, true, &e), 0);
	assert_int_equal(reserve(&s, &c, "vn0000000000001", NULL, got, &e), 0);
	assert_string_equal(got, "10.9.0.10");
	assert_int_equal(reserve(&s, &c, "vn0000000000002", NULL, got, &e), 0);
	assert_string_equal(got, "10.9.0.11");
	/* the record is on disk with the pod's namespace */
	store_recname("vn0000000000002", rec);
	assert_int_equal(store_get_record(&s, rec, &r, &e), 0);
	assert_string_equal(r.pod_namespace, "ns1");
	assert_int_equal(r.n_ips, 1);
	store_record_free(&r);
	/* a taken address cannot be requested */
	assert_int_equal(reserve(&s, &c, "vn0000000000003", "10.9.0.10", got, &e), -1);
	assert_int_equal(e.code, VN_E_INVALID);
	assert_non_null(strstr(e.details, "in use"));
	/* outside every range */
	assert_int_equal(reserve(&s, &c, "vn0000000000003", "10.9.0.200", got, &e), -1);
	assert_non_null(strstr(e.details, "not in any range"));
	assert_int_equal(reserve(&s, &c, "vn0000000000003", NULL, got, &e), 0);
	assert_string_equal(got, "10.9.0.12");
	assert_int_equal(reserve(&s, &c, "vn0000000000004", NULL, got, &e), -1);
	assert_int_equal(e.code, VN_E_AGAIN);
	assert_int_equal(store_set_has_free(&s, &c.sets[0]), 1);
	/* release .10: record and link gone, the address free again */
	store_recname("vn0000000000001", rec);
	assert_int_equal(store_lock(&s, &e), 0);
	assert_int_equal(store_release(&s, rec, &r, &e), 0);
	assert_int_equal(r.n_ips, 1);
	store_record_free(&r);
	assert_int_equal(store_release(&s, rec, NULL, &e), 0);	/* twice is fine */
	store_unlock(&s);
	snprintf(path, sizeof(path), "%s/%s", tmpdir, rec);
	assert_int_not_equal(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/ip-10.9.0.10", tmpdir);
	assert_int_not_equal(access(path, F_OK), 0);
	vn_addr_parse("10.9.0.10", &a);
	assert_false(store_ip_taken(&s, &a));
	assert_int_equal(store_set_has_free(&s, &c.sets[0]), 0);
	assert_int_equal(reserve(&s, &c, "vn0000000000004", NULL, got, &e), 0);
	assert_string_equal(got, "10.9.0.10");
	store_close(&s);
}

/* count_tmp: temp files left in the store directory. */
static int count_tmp(void)
{
	char cmd[128];
	FILE *f;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls %s | grep -c '\\.tmp\\.'", tmpdir);
	f = popen(cmd, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &n), 1);
	pclose(f);
	return n;
}

/* ADD's two halves: a staged record takes nothing until store_finish
 * renames it into place; a staged record never finished leaves nothing. */
static void store_stage_then_finish(void **state)
{
	struct store_record r = { .container_id = "c", .ifname = "eth0",
				  .host_ifname = "vn00000000000ee", .n_ips = 1 };
	struct store s;
	struct vn_err e = { 0 };
	char rec[STORE_RECNAME_MAX], path[256];

	(void)state;
	vn_addr_parse("10.9.0.40", &r.ips[0]);
	store_recname(r.host_ifname, rec);
	snprintf(path, sizeof(path), "%s/%s", tmpdir, rec);
	assert_int_equal(store_open(&s, tmpdir, true, &e), 0);
	assert_int_equal(store_finish(&s, rec, r.ips, 1, &e), -1);	/* nothing staged */
	assert_int_equal(e.code, VN_E_IO);
	assert_int_equal(store_lock(&s, &e), 0);
	assert_int_equal(store_stage(&s, rec, &r, &e), 0);
	assert_int_equal(count_tmp(), 1);
	assert_int_not_equal(access(path, F_OK), 0);
	assert_false(store_ip_taken(&s, &r.ips[0]));
	assert_int_equal(store_finish(&s, rec, r.ips, 1, &e), 0);
	store_unlock(&s);
	assert_int_equal(access(path, F_OK), 0);
	assert_true(store_ip_taken(&s, &r.ips[0]));
	assert_int_equal(count_tmp(), 0);
	/* staged, never finished (ADD failed before its commit) */
	r.host_ifname = "vn00000000000ef";
	store_recname(r.host_ifname, rec);
	vn_addr_parse("10.9.0.41", &r.ips[0]);
	assert_int_equal(store_lock(&s, &e), 0);
	assert_int_equal(store_stage(&s, rec, &r, &e), 0);
	store_close(&s);
	assert_int_equal(count_tmp(), 0);
	assert_int_equal(store_open(&s, tmpdir, false, &e), 0);
	assert_false(store_ip_taken(&s, &r.ips[0]));
	store_close(&s);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* What crashes leave: a link of a temp record never renamed into place
 * (ADD died before the rename), a link of a record that was removed and
 * written anew without it (DEL died, then the attachment came back), and a
 * foreign symlink. All three addresses are free. */
static void store_crash_leftovers(void **state)
{
	struct plugin_config c;
	struct store s;
	struct vn_err e = { 0 };
	char got[VN_ADDR_STRLEN], path[256], path2[256];
	struct vn_addr a;

	(void)state;
	config_4(&c, "10.9.0.20", "10.9.0.22");
	assert_int_equal(store_open(&s, tmpdir, true, &e), 0);
	/* 1: temp record of vn00000000000aa, linked, never renamed */
	snprintf(path, sizeof(path), "%s/vn00000000000aa.json.tmp.77", tmpdir);
	write_file(path, "{\"containerID\":\"x\",\"ifname\":\"eth0\",\"hostIfname\":\"vn00000000000aa\","
		   "\"ips\":[\"10.9.0.20\"]}");
	snprintf(path2, sizeof(path2), "%s/ip-10.9.0.20", tmpdir);
	assert_int_equal(link(path, path2), 0);
	unlink(path);
	/* 2: an old record of vn00000000000bb (linked), then a new one */
	snprintf(path, sizeof(path), "%s/vn00000000000bb.json", tmpdir);
	write_file(path, "{\"containerID\":\"x\",\"ifname\":\"eth0\",\"hostIfname\":\"vn00000000000bb\","
		   "\"ips\":[\"10.9.0.21\"]}");
	snprintf(path2, sizeof(path2), "%s/ip-10.9.0.21", tmpdir);
	assert_int_equal(link(path, path2), 0);
	unlink(path);
	write_file(path, "{\"containerID\":\"x\",\"ifname\":\"eth0\",\"hostIfname\":\"vn00000000000bb\","
		   "\"ips\":[\"10.9.0.21\"]}");
	/* 3: a symlink */
	snprintf(path2, sizeof(path2), "%s/ip-10.9.0.22", tmpdir);
	assert_int_equal(symlink("vn00000000000bb.json", path2), 0);
	for (int i = 20; i <= 22; i++) {
		snprintf(got, sizeof(got), "10.9.0.%d", i);
		vn_addr_parse(got, &a);
		assert_false(store_ip_taken(&s, &a));
	}
	assert_int_equal(reserve(&s, &c, "vn00000000000cc", NULL, got, &e), 0);
	assert_string_equal(got, "10.9.0.20");
	assert_int_equal(reserve(&s, &c, "vn00000000000dd", NULL, got, &e), 0);
	assert_string_equal(got, "10.9.0.21");
	vn_addr_parse("10.9.0.21", &a);
	assert_true(store_ip_taken(&s, &a));
	store_close(&s);
}

static bool keep_dd(void *ctx, const char *recname)
{
	(void)ctx;
	return strcmp(recname, "vn00000000000dd.json") == 0;
}

static void drop_count(void *ctx, const struct store_record *r)
{
	(void)r;
	(*(int *)ctx)++;
}

static void store_gc_keeps_valid(void **state)
{
	struct store s;
	struct vn_err e = { 0 };
	char path[256];
	int dropped = 0;
	struct vn_addr a;

	(void)state;
	assert_int_equal(store_open(&s, tmpdir, false, &e), 0);
	snprintf(path, sizeof(path), "%s/vn00000000000dd.json.tmp.123", tmpdir);
	fclose(fopen(path, "w"));
	assert_int_equal(store_lock(&s, &e), 0);
	/* left from the tests above: bb (a record whose address dd took), cc,
	 * dd, vn..01-04, and the symlink ip-10.9.0.22 */
	assert_true(store_gc(&s, keep_dd, drop_count, &dropped, &e) >= 2);
	store_unlock(&s);
	assert_true(dropped >= 2);
	assert_int_not_equal(access(path, F_OK), 0);	/* temp file removed */
	vn_addr_parse("10.9.0.21", &a);
	assert_true(store_ip_taken(&s, &a));		/* dd kept */
	vn_addr_parse("10.9.0.20", &a);
	assert_false(store_ip_taken(&s, &a));		/* cc released */
	snprintf(path, sizeof(path), "%s/ip-10.9.0.20", tmpdir);
	assert_int_not_equal(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/vn00000000000bb.json", tmpdir);
	assert_int_not_equal(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/ip-10.9.0.22", tmpdir);
	assert_int_not_equal(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/ip-10.9.0.10", tmpdir);
	assert_int_not_equal(access(path, F_OK), 0);	/* vn..04's, released */
	store_close(&s);
}

/* Parallel processes never share an address. */
static void store_parallel(void **state)
{
	struct plugin_config c;
	struct vn_err e = { 0 };
	char dir[128], cmd[1024];
	int status;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/par", tmpdir);
	config_4(&c, "10.9.0.1", "10.9.0.254");
	for (int w = 0; w < 4; w++) {
		if (fork() == 0) {
			struct store s;
			char host[16], got[VN_ADDR_STRLEN];

			if (store_open(&s, dir, true, &e))
				_exit(1);
			for (int i = 0; i < 40; i++) {
				snprintf(host, sizeof(host), "vn%013x", w * 100 + i);
				if (reserve(&s, &c, host, NULL, got, &e))
					_exit(2);
			}
			store_close(&s);
			_exit(0);
		}
	}
	for (int w = 0; w < 4; w++) {
		wait(&status);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	/* 160 distinct links, each a hard link of a record that lists it */
	snprintf(cmd, sizeof(cmd),
		 "test $(ls %s | grep -c '^ip-') = 160 && test $(ls %s | grep -c json$) = 160 && "
		 "for l in %s/ip-*; do grep -q \"\\\"${l##*/ip-}\\\"\" $l || exit 1; done", dir, dir, dir);
	assert_int_equal(system(cmd), 0);
}

static void record_round_trip(void **state)
{
	struct store_record r = { .container_id = "c", .ifname = "eth0", .host_ifname = "vnx",
				  .netns = "/run/netns/a", .pod_namespace = "prod", .ipam = "veilnet",
				  .n_ips = 2 };
	struct store_record back;
	struct vn_err e = { 0 };
	char *text;

	(void)state;
	vn_addr_parse("10.0.0.1", &r.ips[0]);
	vn_addr_parse("fd00::1", &r.ips[1]);
	text = store_record_json(&r);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"K8S_POD_NAMESPACE\":\"prod\""));
	assert_null(strstr(text, "K8S_POD_NAME\""));
	assert_int_equal(store_record_parse(text, strlen(text), &back, &e), 0);
	assert_string_equal(back.netns, "/run/netns/a");
	assert_int_equal(back.n_ips, 2);
	assert_int_equal(vn_addr_cmp(&back.ips[1], &r.ips[1]), 0);
	store_record_free(&back);
	free(text);
	assert_int_equal(store_record_parse("{\"ips\":[]}", 10, &back, &e), -1);
	assert_int_equal(e.code, VN_E_DECODE);
	store_record_free(&back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exhaustion_and_bounds),
		cmocka_unit_test(range_start_end_gateway),
		cmocka_unit_test(reuse_order_round_robin),
		cmocka_unit_test(ipv6_and_multi_range),
		cmocka_unit_test(record_round_trip),
		cmocka_unit_test(store_reserve_release),
		cmocka_unit_test(store_stage_then_finish),
		cmocka_unit_test(store_crash_leftovers),
		cmocka_unit_test(store_gc_keeps_valid),
		cmocka_unit_test(store_parallel),
	};

	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
