/* Unit tests for the watch stream: applying Node objects, NodeLists and
 * watch events, malformed input. (Splitting the stream into objects is
 * lib/jsonstream.c, tested in tests/unit/lib/test_jsonstream.c.) */
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

/* A DELETED event carries the node's last state; a node whose object is
 * malformed (it may be why it is deleted) must still go, by its name. */
static void deleted_by_name(void **state)
{
	struct vn_err e = { 0 };
	struct mesh m;

	(void)state;
	mesh_init(&m);
	assert_int_equal(apply(&m, NODE("n1", "10.244.1.0/24"), &e), 1);
	assert_int_equal(apply(&m, NODE("n2", "10.244.2.0/24"), &e), 1);
	assert_int_equal(apply(&m, "{\"type\":\"DELETED\",\"object\":{\"kind\":\"Node\","
			       "\"metadata\":{\"name\":\"n2\",\"annotations\":{"
			       "\"veilnet.dev/wireguard-public-key\":\"broken\"}},"
			       "\"spec\":{\"podCIDRs\":[\"10.244.x\"]}}}", &e), 1);
	assert_null(mesh_find(&m, "n2"));
	assert_int_equal(m.n, 1);
	/* without a name there is nothing to delete: an error */
	assert_int_equal(apply(&m, "{\"type\":\"DELETED\",\"object\":{\"metadata\":{}}}", &e), -1);
	assert_non_null(strstr(e.details, "metadata.name"));
	/* a bookmark (no name, no spec) changes nothing */
	assert_int_equal(apply(&m, "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Node\","
			       "\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"12746\","
			       "\"annotations\":{\"k8s.io/initial-events-end\":\"true\"}}}}", &e), 0);
	assert_int_equal(m.n, 1);
	mesh_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(applies_events),
		cmocka_unit_test(malformed_objects_leave_the_mesh_alone),
		cmocka_unit_test(deleted_by_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
