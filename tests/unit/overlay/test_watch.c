/* Unit tests for the watch stream: splitting concatenated JSON objects,
 * applying Node objects, NodeLists and watch events, malformed input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "../../../overlay/watch.h"

#define NODE(name, cidr) \
	"{\"kind\":\"Node\",\"metadata\":{\"name\":\"" name "\"},\"spec\":{\"podCIDRs\":[\"" cidr "\"]}}"

/* Feeds text in pieces of step bytes, collects the objects. */
static int split_all(const char *text, size_t step, char out[][512], int max, int *garbage)
{
	struct watch_split s = { 0 };
	size_t len = strlen(text);
	int n = 0;

	*garbage = 0;
	for (size_t off = 0; off < len; off += step) {
		const char *obj;
		size_t olen;
		char why[128];
		int got;

		assert_int_equal(watch_split_feed(&s, text + off, off + step > len ? len - off : step), 0);
		while ((got = watch_split_next(&s, &obj, &olen, why, sizeof(why))) != 0) {
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
	if (watch_split_pending(&s))
		n = -n - 1000;	/* flag: an unfinished object remains */
	watch_split_free(&s);
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

static int apply(struct mesh *m, const char *text, struct vn_err *e)
{
	return watch_apply(m, text, strlen(text), e);
}

static void applies_events(void **state)
{
	struct vn_err e = { 0 };
	struct mesh m;

	(void)state;
	mesh_init(&m);
	/* plain Node objects (kubectl get --watch -o json) */
	assert_int_equal(apply(&m, NODE("n1", "10.244.1.0/24"), &e), 1);
	assert_int_equal(apply(&m, NODE("n2", "10.244.2.0/24"), &e), 1);
	assert_int_equal(apply(&m, NODE("n2", "10.244.2.0/24"), &e), 0);	/* unchanged */
	assert_int_equal(m.n, 2);
	/* watch events */
	assert_int_equal(apply(&m, "{\"type\":\"ADDED\",\"object\":" NODE("n3", "10.244.3.0/24") "}", &e), 1);
	assert_int_equal(apply(&m, "{\"type\":\"MODIFIED\",\"object\":" NODE("n3", "10.244.33.0/24") "}", &e), 1);
	assert_int_equal(mesh_find(&m, "n3")->pod_cidrs[0].addr.b[2], 33);
	assert_int_equal(apply(&m, "{\"type\":\"DELETED\",\"object\":" NODE("n1", "10.244.1.0/24") "}", &e), 1);
	assert_null(mesh_find(&m, "n1"));
	assert_int_equal(apply(&m, "{\"type\":\"DELETED\",\"object\":" NODE("n1", "10.244.1.0/24") "}", &e), 0);
	assert_int_equal(apply(&m, "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Node\"}}", &e), 0);
	/* a NodeList replaces everything */
	assert_int_equal(apply(&m, "{\"kind\":\"NodeList\",\"items\":[" NODE("n9", "10.9.0.0/16") "]}", &e), 1);
	assert_int_equal(m.n, 1);
	assert_non_null(mesh_find(&m, "n9"));
	assert_int_equal(apply(&m, "{\"kind\":\"NodeList\",\"items\":[" NODE("n9", "10.9.0.0/16") "]}", &e), 0);
	mesh_free(&m);
}

static void malformed_objects_leave_the_mesh_alone(void **state)
{
	struct vn_err e = { 0 };
	struct mesh m;

	(void)state;
	mesh_init(&m);
	assert_int_equal(apply(&m, NODE("n1", "10.244.1.0/24"), &e), 1);
	assert_int_equal(apply(&m, NODE("n2", "10.244.x/24"), &e), -1);
	assert_non_null(strstr(e.details, "node \"n2\""));
	assert_non_null(strstr(e.details, "spec.podCIDRs[0]"));
	assert_int_equal(apply(&m, "{\"type\":\"ADDED\",\"object\":5}", &e), -1);
	assert_non_null(strstr(e.details, "object"));
	assert_int_equal(apply(&m, "{\"type\":\"EXPLODED\",\"object\":{}}", &e), -1);
	assert_int_equal(apply(&m, "{\"type\":\"ERROR\",\"object\":{\"message\":\"too old\"}}", &e), -1);
	assert_non_null(strstr(e.details, "too old"));
	assert_int_equal(apply(&m, "{\"metadata\":", &e), -1);
	assert_int_equal(apply(&m, "{\"kind\":\"NodeList\",\"items\":[" NODE("ok", "10.1.0.0/16") ","
			       NODE("bad", "nope") "]}", &e), -1);
	assert_int_equal(m.n, 1);	/* nothing half-applied */
	assert_non_null(mesh_find(&m, "n1"));
	mesh_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(splits_objects),
		cmocka_unit_test(garbage_and_truncation),
		cmocka_unit_test(applies_events),
		cmocka_unit_test(malformed_objects_leave_the_mesh_alone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
