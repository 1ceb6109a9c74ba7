#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <veilnet/file.h>
#include <veilnet/json.h>
#include "conf.h"

/* capabilities, when present, map names to booleans (libcni's
 * map[string]bool refuses anything else). */
static int check_caps(const json_t *p, const char *where, struct vn_err *e)
{
	json_t *caps = json_object_get(p, "capabilities"), *v;
	const char *key;

	if (!caps || json_is_null(caps))
		return 0;
	if (!json_is_object(caps))
		return vn_errf(e, VN_E_INVALID, "invalid configuration",
			       "%s: \"capabilities\" is not an object", where);
	json_object_foreach(caps, key, v)
		if (!json_is_boolean(v))
			return vn_errf(e, VN_E_INVALID, "invalid configuration",
				       "%s: capability \"%s\" is not true or false", where, key);
	return 0;
}

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
	return check_caps(p, where, e);
}

/* Wraps a single plugin .conf into a one-element list, as libcni's
 * ConfListFromConf does (only name, cniVersion and plugins). */
static json_t *wrap_single(json_t *conf)
{
	json_t *list = json_object(), *plugins = json_array();

	json_object_set(list, "name", json_object_get(conf, "name"));
	json_object_set(list, "cniVersion", json_object_get(conf, "cniVersion"));
	json_array_append_new(plugins, conf);
	json_object_set_new(list, "plugins", plugins);
	return list;
}

/* disableCheck / disableGC as libcni reads them: absent is false; a
 * boolean; or the string "true"/"false" in any case. */
static int read_flag(const json_t *list, const char *key, bool *out, struct vn_err *e)
{
	json_t *v = json_object_get(list, key);
	const char *s;

	*out = false;
	if (!v)
		return 0;
	if (json_is_boolean(v)) {
		*out = json_is_true(v);
		return 0;
	}
	s = json_string_value(v);
	if (!s)
		return vn_errf(e, VN_E_INVALID, "invalid configuration",
			       "network configuration: \"%s\" is neither a boolean nor a string",
			       key);
	if (!strcasecmp(s, "true") || !strcasecmp(s, "false")) {
		*out = !strcasecmp(s, "true");
		return 0;
	}
	return vn_errf(e, VN_E_INVALID, "invalid configuration",
		       "network configuration: invalid value \"%s\" for %s", s, key);
}

/* Keeps the bytes libcni caches as "config". */
static int keep_bytes(struct cnt_net *n, const char *text, size_t len, bool single,
		      struct vn_err *e)
{
	if (single) {
		n->bytes = json_dumps(n->list, JSON_COMPACT | JSON_SORT_KEYS);
		n->len = n->bytes ? strlen(n->bytes) : 0;
	} else {
		n->bytes = malloc(len + 1);
		if (n->bytes) {
			memcpy(n->bytes, text, len);
			n->bytes[len] = '\0';
			n->len = len;
		}
	}
	return n->bytes ? 0 : vn_errf(e, VN_E_IO, "I/O error", "out of memory");
}

/* name, the version in use and plugins. */
static int read_list(struct cnt_net *n, struct vn_err *e)
{
	const char *version = NULL;

	if (vn_json_str(n->list, "name", true, &n->name, "network configuration", e) ||
	    vn_json_arr(n->list, "plugins", true, &n->plugins, "network configuration", e))
		return -1;
	n->versions = json_object_get(n->list, "cniVersions");
	if (json_is_null(n->versions))
		n->versions = NULL;
	if (vn_json_str(n->list, "cniVersion", !n->versions, &version, "network configuration", e) ||
	    cnt_version_pick(n->versions, version, &n->version, e))
		return -1;
	if (json_array_size(n->plugins) == 0)
		return vn_errf(e, VN_E_INVALID, "invalid configuration", "\"plugins\" is empty");
	return 0;
}

int cnt_net_parse(const char *text, size_t len, struct cnt_net *n, struct vn_err *e)
{
	json_t *root;
	bool single;

	memset(n, 0, sizeof(*n));
	root = vn_json_parse(text, len, "network configuration", e);
	if (!root)
		return -1;
	if (!json_is_object(root)) {
		json_decref(root);
		return vn_errf(e, VN_E_INVALID, "invalid configuration",
			       "network configuration is not a JSON object");
	}
	single = !json_object_get(root, "plugins");
	n->list = single ? wrap_single(root) : root;
	if (read_list(n, e))
		goto fail;
	for (size_t i = 0; i < json_array_size(n->plugins); i++)
		if (check_plugin(json_array_get(n->plugins, i), i, e))
			goto fail;
	if (read_flag(n->list, "disableCheck", &n->disable_check, e) ||
	    read_flag(n->list, "disableGC", &n->disable_gc, e) ||
	    keep_bytes(n, text, len, single, e))
		goto fail;
	return 0;
fail:
	cnt_net_free(n);
	return -1;
}

void cnt_net_free(struct cnt_net *n)
{
	json_decref(n->list);
	free(n->bytes);
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
	if (prev)
		json_object_set_new(out, "prevResult", json_deep_copy(prev));
	rc = runtime_config(plugin, rt);
	if (rc)
		json_object_set_new(out, "runtimeConfig", rc);
	if (json_is_object(extra))
		json_object_update(out, (json_t *)extra);
	return out;
}

int cnt_version_parse(const char *v, long out[3])
{
	const char *p = v;

	out[0] = 0;
	out[1] = *v ? 0 : 1;	/* "" means 0.1.0 */
	out[2] = 0;
	for (int part = 0; *p && part < 3; part++) {
		char *end;

		if (!isdigit((unsigned char)*p))
			return -1;
		out[part] = strtol(p, &end, 10);
		p = end;
		if (*p == '.' && part < 2 && p[1])
			p++;
		else if (*p)
			return -1;
	}
	return 0;
}

int cnt_version_cmp(const char *a, const char *b)
{
	long x[3], y[3];

	if (cnt_version_parse(a, x) || cnt_version_parse(b, y))
		return strcmp(a, b) < 0 ? -1 : strcmp(a, b) > 0;
	for (int part = 0; part < 3; part++)
		if (x[part] != y[part])
			return x[part] < y[part] ? -1 : 1;
	return 0;
}

/* Considers candidate v for the list's version: invalid is an error, above
 * CNT_SPEC_VERSION is skipped, otherwise the highest so far wins. */
static int consider(const char *v, const char *what, const char **best, struct vn_err *e)
{
	long parts[3];

	if (cnt_version_parse(v, parts))
		return vn_errf(e, VN_E_INVALID, "invalid configuration",
			       "network configuration: invalid %s \"%s\"", what, v);
	if (cnt_version_cmp(v, CNT_SPEC_VERSION) > 0)
		return 0;
	if (!*best || cnt_version_cmp(v, *best) > 0)
		*best = v;
	return 0;
}

int cnt_version_pick(const json_t *versions, const char *version, const char **out,
		     struct vn_err *e)
{
	const char *best = NULL;
	size_t i;
	json_t *v;

	*out = version;
	if (!versions)
		return version ? 0 : vn_errf(e, VN_E_INVALID, "invalid configuration",
					     "network configuration: no cniVersion");
	if (!json_is_array(versions))
		return vn_errf(e, VN_E_INVALID, "invalid configuration",
			       "network configuration: \"cniVersions\" is not an array");
	json_array_foreach(versions, i, v) {
		if (!json_is_string(v))
			return vn_errf(e, VN_E_INVALID, "invalid configuration",
				       "network configuration: cniVersions[%zu] is not a string", i);
		if (consider(json_string_value(v), "cniVersions entry", &best, e))
			return -1;
	}
	if (version && consider(version, "cniVersion", &best, e))
		return -1;
	if (!best)
		return vn_errf(e, VN_E_INVALID, "invalid configuration",
			       "network configuration: none of cniVersions (nor cniVersion) is a "
			       "version up to %s", CNT_SPEC_VERSION);
	*out = best;
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

json_t *cnt_cni_args_pairs(const char *args)
{
	json_t *pairs;
	const char *p = args;

	if (!args || !*args)
		return NULL;
	pairs = json_array();
	while (*p) {
		size_t n = strcspn(p, ";");
		const char *eq = memchr(p, '=', n);

		if (eq)
			json_array_append_new(pairs, json_pack("[s#, s#]", p, (int)(eq - p), eq + 1,
							       (int)(n - (size_t)(eq - p) - 1)));
		p += n;
		if (*p == ';')
			p++;
	}
	return pairs;
}

char *cnt_cni_args_join(const json_t *pairs)
{
	char *out = strdup(""), *grown;
	size_t i, len = 0;
	json_t *kv;

	json_array_foreach(pairs, i, kv) {
		const char *k = json_string_value(json_array_get(kv, 0));
		const char *v = json_string_value(json_array_get(kv, 1));
		int n;

		if (!out || !k)
			continue;
		n = asprintf(&grown, "%s%s%s=%s", out, len ? ";" : "", k, v ? v : "");
		free(out);
		out = n < 0 ? NULL : grown;
		len = n < 0 ? 0 : (size_t)n;
	}
	return out;
}

int cnt_k8s_args(char *buf, size_t len, const char *ns, const char *pod, const char *cid,
		 const char *uid)
{
	int n = snprintf(buf, len, "IgnoreUnknown=1;K8S_POD_NAMESPACE=%s;K8S_POD_NAME=%s;"
			 "K8S_POD_INFRA_CONTAINER_ID=%s;K8S_POD_UID=%s", ns, pod, cid, uid);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* 64-bit FNV-1a of s, starting from basis. */
static uint64_t fnv1a(const char *s, uint64_t basis)
{
	uint64_t h = basis;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

void cnt_pod_uid(char *buf, size_t len, const char *seed)
{
	uint64_t hi = fnv1a(seed, 0xcbf29ce484222325ULL);
	uint64_t lo = fnv1a(seed, hi ^ 0x9e3779b97f4a7c15ULL);

	hi = (hi & ~0xf000ULL) | 0x4000ULL;			/* version 4 */
	lo = (lo & ~(0xc000ULL << 48)) | (0x8000ULL << 48);	/* RFC 4122 variant */
	snprintf(buf, len, "%08x-%04x-%04x-%04x-%012llx", (unsigned int)(hi >> 32),
		 (unsigned int)(hi >> 16) & 0xffff, (unsigned int)hi & 0xffff,
		 (unsigned int)(lo >> 48), (unsigned long long)(lo & 0xffffffffffffULL));
}

/* libcni's [a-zA-Z0-9][a-zA-Z0-9_.-]* */
static bool cni_name(const char *s)
{
	if (!isalnum((unsigned char)*s))
		return false;
	for (s++; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' && *s != '-')
			return false;
	return true;
}

static int check_ifname(const char *ifname, struct vn_err *e)
{
	if (!*ifname)
		return vn_errf(e, VN_E_ENV, "interface name is empty", "%s", "");
	if (strlen(ifname) > 15)
		return vn_errf(e, VN_E_ENV, "interface name is too long",
			       "interface name should be less than 16 characters");
	if (!strcmp(ifname, ".") || !strcmp(ifname, ".."))
		return vn_errf(e, VN_E_ENV, "interface name is . or ..", "%s", "");
	for (const char *p = ifname; *p; p++)
		if (*p == '/' || *p == ':' || isspace((unsigned char)*p))
			return vn_errf(e, VN_E_ENV, "interface name contains / or : or whitespace "
				       "characters", "%s", ifname);
	return 0;
}

int cnt_attachment_check(const char *cid, const char *net, const char *ifname,
			 struct vn_err *e)
{
	if (!cid || !*cid)
		return vn_errf(e, VN_E_UNKNOWN, "missing containerID", "%s", "");
	if (!cni_name(cid))
		return vn_errf(e, VN_E_ENV, "invalid characters in containerID", "%s", cid);
	if (!net || !*net)
		return vn_errf(e, VN_E_INVALID, "missing network name:", "%s", "");
	if (!cni_name(net))
		return vn_errf(e, VN_E_INVALID, "invalid characters found in network name", "%s",
			       net);
	return check_ifname(ifname ? ifname : "", e);
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
