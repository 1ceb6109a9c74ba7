/* Growable arrays and the sorted-by-name lookup (vec.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include "vec.h"

struct item {
	int n;
	const char *name;
};

static void push_grows_and_zeroes(void **state)
{
	struct item *v = NULL;
	size_t n = 0, cap = 0;

	(void)state;
	for (int i = 0; i < 100; i++) {
		struct item *it = vec_push((void **)&v, &n, &cap, sizeof(*v));

		assert_non_null(it);
		assert_int_equal(it->n, 0);
		assert_null(it->name);
		it->n = i;
	}
	assert_int_equal(n, 100);
	assert_true(cap >= 100);
	for (int i = 0; i < 100; i++)
		assert_int_equal(v[i].n, i);
	free(v);
}

static void finds_by_name(void **state)
{
	static const struct item items[] = { { 1, "a" }, { 2, "bb" }, { 3, "c" }, { 4, "x" } };
	static const char *const names[] = { "alpha", "beta", "gamma" };

	(void)state;
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(vec_find_str(items, 4, sizeof(*items), offsetof(struct item, name),
					      items[i].name), (long)i);
	assert_int_equal(vec_find_str(items, 4, sizeof(*items), offsetof(struct item, name), "b"), -1);
	assert_int_equal(vec_find_str(items, 0, sizeof(*items), offsetof(struct item, name), "a"), -1);
	assert_int_equal(vec_find_str(names, 3, sizeof(*names), 0, "gamma"), 2);
	assert_int_equal(vec_find_str(names, 3, sizeof(*names), 0, "zeta"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(push_grows_and_zeroes),
		cmocka_unit_test(finds_by_name),
	};

	return cmocka_run_group_tests_name("netpol_vec", tests, NULL, NULL);
}
