/* Unit tests for strict mode's pure parts: prefixes merged into nftables
 * interval ranges, and the table fingerprint. */
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
	assert_string_equal(strict_fingerprint(&s, a), "veilnet-mesh strict v2 wg=wg0");
	/* the sets' contents are compared element by element, not here */
	s.n_remote = 1;
	assert_string_equal(strict_fingerprint(&s, b), a);
	s.wg_ifname = "wg1";
	assert_string_not_equal(strict_fingerprint(&s, b), a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(merges_ranges),
		cmocka_unit_test(ranges_to_the_end),
		cmocka_unit_test(fingerprint),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
