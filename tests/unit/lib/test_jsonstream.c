/* Unit tests for lib/jsonstream.c: cutting a stream into JSON values,
 * fed in pieces of every size; junk between values; truncation. The
 * first two cases are veilnet-policy's use (objects and arrays), the last
 * two veilnet-mesh's (objects only). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <veilnet/jsonstream.h>

/* Feeds text in chunks of `step` bytes; collects values and junk. */
static void split(const char *text, size_t step, char out[][128], size_t *n_out,
		  size_t *n_junk, size_t *pending)
{
	struct vn_jsonstream f = { 0 };
	size_t len = strlen(text);

	*n_out = *n_junk = 0;
	for (size_t at = 0; at < len; at += step) {
		const char *p;
		size_t n;
		int r;

		assert_int_equal(vn_jsonstream_feed(&f, text + at, at + step > len ? len - at : step), 0);
		while ((r = vn_jsonstream_next(&f, &p, &n)) != 0) {
			if (r < 0) {
				(*n_junk)++;
				continue;
			}
			snprintf(out[(*n_out)++], 128, "%.*s", (int)n, p);
		}
	}
	*pending = vn_jsonstream_pending(&f);
	vn_jsonstream_free(&f);
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

/* Objects only; feeds text in pieces of step bytes, collects the objects. */
static int split_all(const char *text, size_t step, char out[][512], int max, int *garbage)
{
	struct vn_jsonstream s = { .objects_only = true };
	size_t len = strlen(text);
	int n = 0;

	*garbage = 0;
	for (size_t off = 0; off < len; off += step) {
		const char *obj;
		size_t olen;
		int got;

		assert_int_equal(vn_jsonstream_feed(&s, text + off, off + step > len ? len - off : step), 0);
		while ((got = vn_jsonstream_next(&s, &obj, &olen)) != 0) {
			if (got < 0) {
				(*garbage)++;
				continue;
			}
			assert_true(n < max);
			assert_true(olen < 512);
			memcpy(out[n], obj, olen);
			out[n++][olen] = '\0';
		}
	}
	if (vn_jsonstream_pending(&s))
		n = -n - 1000;	/* flag: an unfinished object remains */
	vn_jsonstream_free(&s);
	return n;
}

static void splits_objects(void **state)
{
	static const char stream[] =
		"{\"a\": {\"b\": [1, {\"c\": \"}{\"}]}}\n"
		"{\n  \"s\": \"quote \\\" and brace } in a string\"\n}"
		"{}  \r\n\t{\"x\":[[]]}\n";
	char out[8][512];
	int garbage;

	(void)state;
	for (size_t step = 1; step <= sizeof(stream); step += 7) {
		assert_int_equal(split_all(stream, step, out, 8, &garbage), 4);
		assert_int_equal(garbage, 0);
		assert_string_equal(out[0], "{\"a\": {\"b\": [1, {\"c\": \"}{\"}]}}");
		assert_string_equal(out[2], "{}");
		assert_string_equal(out[3], "{\"x\":[[]]}");
	}
}

static void garbage_and_truncation(void **state)
{
	char out[8][512];
	int garbage, n;

	(void)state;
	n = split_all("junk {\"a\":1} 42 {\"b\":2}", 3, out, 8, &garbage);
	assert_int_equal(n, 2);
	assert_true(garbage >= 2);	/* reported as the bytes come */
	assert_string_equal(out[1], "{\"b\":2}");
	/* ends inside an object: pending */
	n = split_all("{\"a\":1}\n{\"b\": [1, 2", 4, out, 8, &garbage);
	assert_int_equal(n, -1 - 1000);
	/* whitespace after the last object is not truncation */
	n = split_all("{\"a\":1}\n\n  ", 4, out, 8, &garbage);
	assert_int_equal(n, 1);
}

/* Junk is handed out as it is, from its first non-blank byte up to the
 * next value; with objects_only a top-level array is junk too. */
static void junk_bytes(void **state)
{
	struct vn_jsonstream s = { 0 };
	const char *p;
	size_t n;

	(void)state;
	assert_int_equal(vn_jsonstream_feed(&s, "  oops \n[1]", 11), 0);
	assert_int_equal(vn_jsonstream_next(&s, &p, &n), -1);
	assert_int_equal(n, 6);
	assert_memory_equal(p, "oops \n", 6);
	assert_int_equal(vn_jsonstream_next(&s, &p, &n), 1);
	assert_int_equal(n, 3);
	assert_int_equal(vn_jsonstream_next(&s, &p, &n), 0);
	vn_jsonstream_free(&s);

	s.objects_only = true;
	assert_int_equal(vn_jsonstream_feed(&s, "[{\"a\":1}]", 9), 0);
	assert_int_equal(vn_jsonstream_next(&s, &p, &n), -1);
	assert_int_equal(n, 1);
	assert_int_equal(vn_jsonstream_next(&s, &p, &n), 1);
	assert_memory_equal(p, "{\"a\":1}", n);
	assert_int_equal(vn_jsonstream_next(&s, &p, &n), -1);
	assert_int_equal(n, 1);
	assert_int_equal(vn_jsonstream_pending(&s), 0);
	vn_jsonstream_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_junk_and_truncation),
		cmocka_unit_test(splits_objects),
		cmocka_unit_test(garbage_and_truncation),
		cmocka_unit_test(junk_bytes),
	};

	return cmocka_run_group_tests_name("lib_jsonstream", tests, NULL, NULL);
}
