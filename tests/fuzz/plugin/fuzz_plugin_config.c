/* libFuzzer target: the network configuration parser (plugin/config.c).
 *
 * Raw bytes rarely make JSON that gets past the first checks, so each input
 * is used three ways: as the whole configuration; split at '\n' into the
 * string values of a well-formed configuration (versions, name, subnets,
 * range bounds, gateway, routes, dns, runtimeConfig ips, dataDir); and, if
 * it parses as any JSON value, as the "ipam" and "prevResult" members. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../../plugin/config.h"
#include "../../../plugin/result.h"

static void try_text(const char *text, size_t len)
{
	struct plugin_config c;
	struct vn_err e = { 0 };
	char ver[32];

	if (config_parse(text, len, &c, &e) == 0 && c.prev_result) {
		struct prev_view v;

		result_view(c.prev_result, "vn0123456789abc", "eth0", "/run/netns/x", &v, &e);
	}
	config_free(&c);
	config_peek_version(text, len, ver, sizeof(ver));
}

static void try_json(json_t *root)
{
	char *text = json_dumps(root, JSON_COMPACT);

	if (text)
		try_text(text, strlen(text));
	free(text);
}

/* The n-th '\n'-separated field of data, or a default. */
static const char *field(char **fields, int n, int count, const char *dflt)
{
	return n < count ? fields[n] : dflt;
}

static void try_fields(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *fields[16], *save = NULL;
	int n = 0;
	json_t *root;

	if (!buf)
		return;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (char *f = strtok_r(buf, "\n", &save); f && n < 16; f = strtok_r(NULL, "\n", &save))
		fields[n++] = f;
	root = json_pack("{s:s, s:s, s:s, s:i, s:{s:s, s:[[{s:s, s:s, s:s, s:s}], [{s:s}]], s:[{s:s, s:s}]},"
			 " s:{s:[s], s:[s]}, s:{s:[s, s]}}",
			 "cniVersion", field(fields, 0, n, "1.1.0"),
			 "name", field(fields, 1, n, "net"),
			 "type", "veilnet",
			 "mtu", (int)(n > 2 ? strtol(fields[2], NULL, 10) : 1400),
			 "ipam", "dataDir", field(fields, 3, n, "/tmp/x"),
			 "ranges", "subnet", field(fields, 4, n, "10.0.0.0/24"),
			 "rangeStart", field(fields, 5, n, "10.0.0.2"),
			 "rangeEnd", field(fields, 6, n, "10.0.0.200"),
			 "gateway", field(fields, 7, n, "10.0.0.1"),
			 "subnet", field(fields, 8, n, "fd00::/64"),
			 "routes", "dst", field(fields, 9, n, "10.96.0.0/12"), "gw", field(fields, 10, n, "10.0.0.1"),
			 "dns", "nameservers", field(fields, 11, n, "10.96.0.10"),
			 "search", field(fields, 12, n, "svc"),
			 "runtimeConfig", "ips", field(fields, 13, n, "10.0.0.5"), field(fields, 14, n, "fd00::5"));
	if (root) {
		try_json(root);
		json_decref(root);
	}
	free(buf);
}

static void try_members(const uint8_t *data, size_t size)
{
	json_t *v = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	json_t *root;

	if (!v)
		return;
	root = json_pack("{s:s, s:s, s:O}", "cniVersion", "1.0.0", "name", "n", "ipam", v);
	if (root) {
		try_json(root);
		json_object_set_new(root, "ipam", json_pack("{s:[[{s:s}]]}", "ranges", "subnet", "10.1.0.0/16"));
		json_object_set(root, "prevResult", v);
		try_json(root);
		json_decref(root);
	}
	json_decref(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	try_text((const char *)data, size);
	try_fields(data, size);
	try_members(data, size);
	return 0;
}
