/* Unit tests for lib/: prefixes, JSON field access, atomic files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <veilnet/file.h>
#include <veilnet/json.h>
#include <veilnet/prefix.h>

static void prefix_parse_and_print(void **state)
{
	struct vn_prefix p;
	char buf[VN_PREFIX_STRLEN];

	(void)state;
	assert_int_equal(vn_prefix_parse("10.244.1.7/24", &p), 0);
	vn_prefix_canon(&p);
	assert_string_equal(vn_prefix_str(&p, buf), "10.244.1.0/24");
	assert_int_equal(vn_prefix_parse("fd00:10:244:1::5/64", &p), 0);
	vn_prefix_canon(&p);
	assert_string_equal(vn_prefix_str(&p, buf), "fd00:10:244:1::/64");
	assert_int_equal(vn_prefix_parse("10.0.0.1", &p), 0);
	assert_int_equal(p.len, 32);
	assert_int_equal(vn_prefix_parse("10.0.0.0/33", &p), -1);
	assert_int_equal(vn_prefix_parse("10.0.0.0/", &p), -1);
	assert_int_equal(vn_prefix_parse("10.0.0.0/-1", &p), -1);
	assert_int_equal(vn_prefix_parse("nonsense/8", &p), -1);
	assert_int_equal(vn_prefix_parse("::/129", &p), -1);
}

static void prefix_contains_and_last(void **state)
{
	struct vn_prefix p, q;
	struct vn_addr a;
	char buf[VN_ADDR_STRLEN];

	(void)state;
	vn_prefix_parse("10.244.1.0/26", &p);
	vn_addr_parse("10.244.1.63", &a);
	assert_true(vn_prefix_contains(&p, &a));
	vn_addr_parse("10.244.1.64", &a);
	assert_false(vn_prefix_contains(&p, &a));
	vn_addr_parse("fd00::1", &a);
	assert_false(vn_prefix_contains(&p, &a));
	vn_prefix_last(&p, &a);
	assert_string_equal(vn_addr_str(&a, buf), "10.244.1.63");
	vn_prefix_parse("0.0.0.0/0", &q);
	assert_true(vn_prefix_overlaps(&p, &q));
	vn_prefix_parse("10.244.2.0/24", &q);
	assert_false(vn_prefix_overlaps(&p, &q));
}

static void addr_arithmetic(void **state)
{
	struct vn_addr a, b;
	char buf[VN_ADDR_STRLEN];

	(void)state;
	vn_addr_parse("10.0.0.255", &a);
	vn_addr_add(&a, 1);
	assert_string_equal(vn_addr_str(&a, buf), "10.0.1.0");
	vn_addr_parse("fd00::ffff:ffff:ffff:ffff", &a);
	vn_addr_add(&a, 1);
	assert_string_equal(vn_addr_str(&a, buf), "fd00:0:0:1::");
	vn_addr_parse("10.0.0.10", &a);
	vn_addr_parse("10.0.0.20", &b);
	assert_int_equal(vn_addr_span(&a, &b), 11);
	assert_int_equal(vn_addr_span(&b, &a), 0);
	assert_true(vn_addr_cmp(&a, &b) < 0);
	vn_addr_parse("fd00::", &a);
	vn_addr_parse("fd00:0:0:1::", &b);
	assert_true(vn_addr_span(&a, &b) == UINT64_MAX);
}

static void json_fields_name_object_and_field(void **state)
{
	struct vn_err e = { 0 };
	const char *s;
	uint64_t n;
	json_t *root = vn_json_parse("{\"a\":\"x\",\"n\":5,\"bad\":3}", 23, "cfg", &e);

	(void)state;
	assert_non_null(root);
	assert_int_equal(vn_json_str(root, "a", true, &s, "cfg", &e), 0);
	assert_string_equal(s, "x");
	assert_int_equal(vn_json_uint(root, "n", true, 10, &n, "cfg", &e), 0);
	assert_int_equal(n, 5);
	assert_int_equal(vn_json_uint(root, "n", true, 4, &n, "cfg", &e), -1);
	assert_int_equal(vn_json_str(root, "bad", true, &s, "Pod x/a", &e), -1);
	assert_int_equal(e.code, VN_E_INVALID);
	assert_string_equal(e.details, "Pod x/a: field \"bad\": expected a string");
	assert_int_equal(vn_json_str(root, "missing", false, &s, "cfg", &e), 0);
	assert_null(s);
	assert_int_equal(vn_json_str(root, "missing", true, &s, "cfg", &e), -1);
	json_decref(root);
	assert_null(vn_json_parse("{", 1, "cfg", &e));
	assert_int_equal(e.code, VN_E_DECODE);
}

static void atomic_write_replaces_whole_file(void **state)
{
	char dir[] = "/tmp/vn-test-XXXXXX", path[512], sub[256];
	struct vn_err e = { 0 };
	struct stat st;
	size_t len;
	char *got;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/a/b/c", dir);
	assert_int_equal(vn_mkdir_p(sub, 0700, &e), 0);
	snprintf(path, sizeof(path), "%s/rec", sub);
	assert_int_equal(vn_write_atomic(path, "first", 5, 0600, &e), 0);
	assert_int_equal(vn_write_atomic(path, "second", 6, 0600, &e), 0);
	got = vn_read_file(path, &len, &e);
	assert_non_null(got);
	assert_int_equal(len, 6);
	assert_string_equal(got, "second");
	free(got);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_null(vn_read_file("/nonexistent/x", &len, &e));
	assert_int_equal(e.code, VN_E_IO);
	unlink(path);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(prefix_parse_and_print),
		cmocka_unit_test(prefix_contains_and_last),
		cmocka_unit_test(addr_arithmetic),
		cmocka_unit_test(json_fields_name_object_and_field),
		cmocka_unit_test(atomic_write_replaces_whole_file),
	};

	return cmocka_run_group_tests_name("lib", tests, NULL, NULL);
}
