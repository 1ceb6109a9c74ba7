/* Fuzzes veilnet-mesh's parsers of outside input: the mesh description
 * (NodeList / Node / VeilnetMesh), watch-stream objects and splitting, the
 * UAPI text answers and WireGuard netlink answers. The first byte picks
 * the parser; the rest is its input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <veilnet/jsonstream.h>
#include "../../../overlay/mesh.h"
#include "../../../overlay/uapi.h"
#include "../../../overlay/watch.h"
#include "../../../overlay/wgnl.h"

static void fuzz_mesh(const char *text, size_t len)
{
	struct vn_err e;
	struct mesh m;

	mesh_init(&m);
	mesh_parse(text, len, &m, &e);
	mesh_free(&m);
}

static void fuzz_watch(const char *text, size_t len)
{
	struct vn_jsonstream s = { .objects_only = true };
	struct vn_err e;
	struct mesh m;
	const char *obj;
	size_t olen, half = len / 2;

	mesh_init(&m);
	vn_jsonstream_feed(&s, text, half);
	while (vn_jsonstream_next(&s, &obj, &olen) > 0)
		watch_apply(&m, obj, olen, &e);
	vn_jsonstream_feed(&s, text + half, len - half);
	while (vn_jsonstream_next(&s, &obj, &olen) != 0)
		;
	vn_jsonstream_pending(&s);
	vn_jsonstream_free(&s);
	mesh_free(&m);
}

static void fuzz_uapi(const char *text, size_t len)
{
	struct wg_device d;
	struct vn_err e;

	wg_device_init(&d, NULL);
	uapi_parse(text, len, &d, &e);
	wg_device_free(&d);
}

static void fuzz_netlink(const uint8_t *data, size_t len)
{
	struct wg_device d;
	struct vn_err e;
	void *copy = malloc(len ? len : 1);	/* netlink data is aligned */

	if (!copy)
		return;
	memcpy(copy, data, len);
	wg_device_init(&d, NULL);
	wgnl_parse_all(copy, len, &d, &e);
	wg_device_free(&d);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 4) {
	case 0:
		fuzz_mesh((const char *)data + 1, size - 1);
		break;
	case 1:
		fuzz_watch((const char *)data + 1, size - 1);
		break;
	case 2:
		fuzz_uapi((const char *)data + 1, size - 1);
		break;
	default:
		fuzz_netlink(data + 1, size - 1);
		break;
	}
	return 0;
}
