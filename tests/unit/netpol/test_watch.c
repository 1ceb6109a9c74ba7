/* Splitting a watch stream into JSON values (the framer of watch.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "watch.h"

/* Feeds text in chunks of `step` bytes; collects values and junk. */
static void split(const char *text, size_t step, char out[][128], size_t *n_out,
		  size_t *n_junk, size_t *pending)
{
	struct framer f = { 0 };
	size_t len = strlen(text);

	*n_out = *n_junk = 0;
	for (size_t at = 0; at < len; at += step) {
		const char *p;
		size_t n;
		int r;

		assert_int_equal(framer_feed(&f, text + at, at + step > len ? len - at : step), 0);
		while ((r = framer_next(&f, &p, &n)) != 0) {
			if (r < 0) {
				(*n_junk)++;
				continue;
			}
			snprintf(out[(*n_out)++], 128, "%.*s", (int)n, p);
		}
	}
	*pending = framer_pending(&f);
	framer_free(&f);
}

static const char *const stream =
	"{\"a\": \"}{\\\"\"}\n"
	"  {\"b\": [1, {\"c\": \"]\"}]}{\"d\":1}\n"
	"[{\"e\":2}]\n";

static void test_values(void **state)
{
	char out[8][128];
	size_t n, junk, pending;

	(void)state;
	for (size_t step = 1; step <= strlen(stream); step++) {
		split(stream, step, out, &n, &junk, &pending);
		assert_int_equal(n, 4);
		assert_int_equal(junk, 0);
		assert_int_equal(pending, 0);
		assert_string_equal(out[0], "{\"a\": \"}{\\\"\"}");
		assert_string_equal(out[1], "{\"b\": [1, {\"c\": \"]\"}]}");
		assert_string_equal(out[2], "{\"d\":1}");
		assert_string_equal(out[3], "[{\"e\":2}]");
	}
}

static void test_junk_and_truncation(void **state)
{
	char out[8][128];
	size_t n, junk, pending;

	(void)state;
	split("{\"a\":1} garbage {\"b\":2}\n{\"c\": {\"unfinished\": ", 64, out, &n, &junk, &pending);
	assert_int_equal(n, 2);
	assert_int_equal(junk, 1);
	assert_string_equal(out[1], "{\"b\":2}");
	assert_int_equal(pending, strlen("{\"c\":{\"unfinished\":"));
	split("{\"a\":1}\n  \n", 3, out, &n, &junk, &pending);
	assert_int_equal(n, 1);
	assert_int_equal(pending, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_junk_and_truncation),
	};

	return cmocka_run_group_tests_name("netpol_watch", tests, NULL, NULL);
}
