#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <veilnet/file.h>
#include <veilnet/json.h>
#include "conf.h"

static int check_plugin(json_t *p, size_t i, struct vn_err *e)
{
	char where[64];
	const char *type;

	snprintf(where, sizeof(where), "plugins[%zu]", i);
	if (!json_is_object(p))
		return vn_errf(e, VN_E_INVALID, "invalid configuration", "%s is not an object", where);
	if (vn_json_str(p, "type", true, &type, where, e))
		return -1;
	if (!*type || strchr(type, '/'))
		return vn_errf(e, VN_E_INVALID, "invalid configuration",
			       "%s: bad type '%s'", where, type);
	return 0;
}

/* Wraps a single plugin .conf into a one-element list. */
static json_t *wrap_single(json_t *conf)
{
	json_t *list = json_object(), *plugins = json_array();

	json_object_set(list, "name", json_object_get(conf, "name"));
	json_object_set(list, "cniVersion", json_object_get(conf, "cniVersion"));
	json_array_append_new(plugins, conf);
	json_object_set_new(list, "plugins", plugins);
	return list;
}

int cnt_net_parse(const char *text, size_t len, struct cnt_net *n, struct vn_err *e)
{
	json_t *root;
	bool flag;

	memset(n, 0, sizeof(*n));
	root = vn_json_parse(text, len, "network configuration", e);
	if (!root)
		return -1;
	if (!json_is_object(root)) {
		json_decref(root);
		return vn_errf(e, VN_E_INVALID, "invalid configuration",
			       "network configuration is not a JSON object");
	}
	n->list = json_object_get(root, "plugins") ? root : wrap_single(root);
	if (vn_json_str(n->list, "name", true, &n->name, "network configuration", e) ||
	    vn_json_str(n->list, "cniVersion", true, &n->version, "network configuration", e) ||
	    vn_json_arr(n->list, "plugins", true, &n->plugins, "network configuration", e))
		goto fail;
	if (json_array_size(n->plugins) == 0) {
		vn_errf(e, VN_E_INVALID, "invalid configuration", "\"plugins\" is empty");
		goto fail;
	}
	for (size_t i = 0; i < json_array_size(n->plugins); i++)
		if (check_plugin(json_array_get(n->plugins, i), i, e))
			goto fail;
	if (vn_json_bool(n->list, "disableCheck", false, &flag, "network configuration", e))
		goto fail;
	n->disable_check = json_object_get(n->list, "disableCheck") && flag;
	if (vn_json_bool(n->list, "disableGC", false, &flag, "network configuration", e))
		goto fail;
	n->disable_gc = json_object_get(n->list, "disableGC") && flag;
	return 0;
fail:
	cnt_net_free(n);
	return -1;
}

void cnt_net_free(struct cnt_net *n)
{
	json_decref(n->list);
	memset(n, 0, sizeof(*n));
}

const char *cnt_net_type(const struct cnt_net *n, size_t i)
{
	return json_string_value(json_object_get(json_array_get(n->plugins, i), "type"));
}

/* The runtimeConfig for a plugin: rt's keys the plugin's capabilities ask for. */
static json_t *runtime_config(const json_t *plugin, const json_t *rt)
{
	json_t *caps = json_object_get(plugin, "capabilities"), *out, *v;
	const char *key;

	if (!json_is_object(caps) || !json_is_object(rt))
		return NULL;
	out = json_object();
	json_object_foreach((json_t *)rt, key, v)
		if (json_is_true(json_object_get(caps, key)))
			json_object_set(out, key, v);
	if (json_object_size(out) == 0) {
		json_decref(out);
		return NULL;
	}
	return out;
}

json_t *cnt_plugin_conf(const struct cnt_net *n, size_t i, const json_t *prev,
			const json_t *rt, const json_t *extra, struct vn_err *e)
{
	json_t *plugin = json_array_get(n->plugins, i), *out, *rc;

	if (!plugin) {
		vn_errf(e, VN_E_INVALID, "invalid configuration", "no plugin %zu", i);
		return NULL;
	}
	out = json_deep_copy(plugin);
	if (!out) {
		vn_errf(e, VN_E_IO, "I/O error", "out of memory");
		return NULL;
	}
	json_object_set_new(out, "name", json_string(n->name));
	json_object_set_new(out, "cniVersion", json_string(n->version));
	json_object_del(out, "prevResult");
	json_object_del(out, "runtimeConfig");
	if (prev)
		json_object_set_new(out, "prevResult", json_deep_copy(prev));
	rc = runtime_config(plugin, rt);
	if (rc)
		json_object_set_new(out, "runtimeConfig", rc);
	if (json_is_object(extra))
		json_object_update(out, (json_t *)extra);
	return out;
}

int cnt_version_cmp(const char *a, const char *b)
{
	for (int part = 0; part < 3; part++) {
		unsigned long x = strtoul(a, (char **)&a, 10);
		unsigned long y = strtoul(b, (char **)&b, 10);

		if (x != y)
			return x < y ? -1 : 1;
		if (*a == '.')
			a++;
		if (*b == '.')
			b++;
	}
	return 0;
}

int cnt_cni_args_check(const char *args, struct vn_err *e)
{
	const char *p = args;

	while (*p) {
		const char *end = strchr(p, ';'), *eq;
		size_t n = end ? (size_t)(end - p) : strlen(p);

		eq = memchr(p, '=', n);
		if (!eq || eq == p)
			return vn_errf(e, VN_E_INVALID, "invalid arguments",
				       "CNI_ARGS '%s': every pair must be KEY=VALUE", args);
		p += n;
		if (*p == ';')
			p++;
	}
	return 0;
}

json_t *cnt_valid_parse(const char *s, struct vn_err *e)
{
	json_t *arr = json_array();
	const char *p = s;

	while (*p) {
		const char *end = strchr(p, ','), *colon;
		size_t n = end ? (size_t)(end - p) : strlen(p);
		json_t *a;

		colon = memchr(p, ':', n);
		if (!colon || colon == p || colon == p + n - 1) {
			json_decref(arr);
			vn_errf(e, VN_E_INVALID, "invalid arguments",
				"--valid '%s': entries are CONTAINERID:IFNAME", s);
			return NULL;
		}
		a = json_object();
		json_object_set_new(a, "containerID", json_stringn(p, (size_t)(colon - p)));
		json_object_set_new(a, "ifname", json_stringn(colon + 1, n - (size_t)(colon - p) - 1));
		json_array_append_new(arr, a);
		p += n;
		if (*p == ',')
			p++;
	}
	return arr;
}

int cnt_net_load(const char *path, struct cnt_net *n, struct vn_err *e)
{
	size_t len;
	char *text = vn_read_file(path, &len, e);
	int rc;

	memset(n, 0, sizeof(*n));
	if (!text)
		return -1;
	rc = cnt_net_parse(text, len, n, e);
	free(text);
	if (rc)
		vn_err_wrap(e, "%s", path);
	return rc;
}
