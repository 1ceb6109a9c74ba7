#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <veilnet/file.h>
#include <veilnet/json.h>
#include "cache.h"
#include "state.h"

static void copy_safe(char *dst, const char *src)
{
	for (; *src; src++)
		*dst++ = *src == '/' ? '_' : *src;
	*dst = '\0';
}

int cnt_cache_path(char *buf, size_t len, const char *cache_dir, const char *net,
		   const char *cid, const char *ifname, struct vn_err *e)
{
	char name[NAME_MAX + 1];
	int n;

	if (strlen(net) + strlen(cid) + strlen(ifname) + 2 > NAME_MAX)
		return vn_errf(e, VN_E_INVALID, "invalid arguments",
			       "network, container ID and ifname too long for a cache file name");
	n = snprintf(name, sizeof(name), "%s-%s-%s", net, cid, ifname);
	copy_safe(name, name);
	n = snprintf(buf, len, "%s/results/%s", cache_dir, name);
	if (n < 0 || (size_t)n >= len)
		return vn_errf(e, VN_E_INVALID, "invalid arguments", "cache path too long");
	return 0;
}

char *cnt_base64(const void *data, size_t len)
{
	static const char abc[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *in = data;
	char *out = malloc((len + 2) / 3 * 4 + 1), *p = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		unsigned int v = (unsigned int)in[i] << 16;

		if (i + 1 < len)
			v |= (unsigned int)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		*p++ = abc[v >> 18];
		*p++ = abc[(v >> 12) & 63];
		*p++ = i + 1 < len ? abc[(v >> 6) & 63] : '=';
		*p++ = i + 2 < len ? abc[v & 63] : '=';
	}
	*p = '\0';
	return out;
}

json_t *cnt_cache_entry(const struct cnt_net *n, const struct cnt_attachment *a,
			const json_t *result)
{
	char *config = cnt_base64(n->bytes ? n->bytes : "", n->bytes ? n->len : 0);
	json_t *entry, *pairs = cnt_cni_args_pairs(a->cni_args);

	entry = config ? json_pack("{s:s, s:s, s:s, s:s, s:s, s:O}", "kind", "cniCacheV1",
				   "containerId", a->cid, "config", config, "ifName", a->ifname,
				   "networkName", n->name, "result", result) : NULL;
	free(config);
	if (entry && a->netns && *a->netns)
		json_object_set_new(entry, "netns", json_string(a->netns));
	if (entry && pairs)
		json_object_set(entry, "cniArgs", pairs);
	if (entry && json_object_size(a->capability_args))
		json_object_set_new(entry, "capabilityArgs",
				    json_deep_copy(a->capability_args));
	json_decref(pairs);
	return entry;
}

int cnt_cache_store(const char *path, const json_t *entry, struct vn_err *e)
{
	char dir[PATH_MAX], *slash, *text;
	int rc;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		if (vn_mkdir_p(dir, 0700, e))
			return -1;
	}
	text = json_dumps(entry, JSON_COMPACT);
	if (!text)
		return vn_errf(e, VN_E_IO, "I/O error", "cannot encode cache entry");
	rc = cnt_write_replace(path, text, strlen(text), 0600, e);
	free(text);
	return rc;
}

/* Reads one cache file; NULL with e->code 0 when it does not exist. */
static json_t *load_entry(const char *path, struct vn_err *e)
{
	size_t len;
	char *text;
	json_t *doc;

	vn_err_clear(e);
	if (access(path, F_OK) && errno == ENOENT)
		return NULL;
	text = vn_read_file(path, &len, e);
	if (!text)
		return NULL;
	doc = vn_json_parse(text, len, path, e);
	free(text);
	if (doc && !json_is_object(doc)) {
		json_decref(doc);
		vn_errf(e, VN_E_DECODE, "decoding failure", "%s: not a JSON object", path);
		return NULL;
	}
	return doc;
}

static bool is_v1(const json_t *doc)
{
	const char *kind = json_string_value(json_object_get(doc, "kind"));

	return kind && !strcmp(kind, "cniCacheV1");
}

json_t *cnt_cache_result(const char *path, struct vn_err *e)
{
	json_t *doc = load_entry(path, e), *res;

	if (!doc)
		return NULL;
	if (!is_v1(doc))
		return doc;	/* the old format: the file is the result */
	res = json_object_get(doc, "result");
	if (!json_is_object(res)) {
		json_decref(doc);
		vn_errf(e, VN_E_DECODE, "decoding failure", "%s: no \"result\" object", path);
		return NULL;
	}
	json_incref(res);
	json_decref(doc);
	return res;
}

/* Adds the entry in file name of dir to arr if it is one of net's. */
static void add_entry(json_t *arr, const char *dir, const char *name, const char *net)
{
	char path[PATH_MAX];
	struct vn_err e;
	json_t *doc;
	const char *cid, *ifn, *nn;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return;
	doc = load_entry(path, &e);
	if (!doc)
		return;
	nn = json_string_value(json_object_get(doc, "networkName"));
	cid = json_string_value(json_object_get(doc, "containerId"));
	ifn = json_string_value(json_object_get(doc, "ifName"));
	if (is_v1(doc) && nn && cid && ifn && *ifn && !strcmp(nn, net))
		json_array_append(arr, doc);
	json_decref(doc);
}

static int no_dots(const struct dirent *d)
{
	return d->d_name[0] != '.' && !strstr(d->d_name, ".tmp.");
}

json_t *cnt_cache_entries(const char *cache_dir, const char *net, struct vn_err *e)
{
	char dir[PATH_MAX];
	struct dirent **names;
	json_t *arr;
	int n;

	snprintf(dir, sizeof(dir), "%s/results", cache_dir);
	n = scandir(dir, &names, no_dots, alphasort);
	if (n < 0) {
		if (errno == ENOENT)
			return json_array();
		vn_errf(e, VN_E_IO, "I/O error", "open %s: %s", dir, strerror(errno));
		return NULL;
	}
	arr = json_array();
	for (int i = 0; i < n; i++) {
		add_entry(arr, dir, names[i]->d_name, net);
		free(names[i]);
	}
	free(names);
	return arr;
}

json_t *cnt_cache_attachments(const char *cache_dir, const char *net, struct vn_err *e)
{
	json_t *entries = cnt_cache_entries(cache_dir, net, e), *arr, *it;
	size_t i;

	if (!entries)
		return NULL;
	arr = json_array();
	json_array_foreach(entries, i, it)
		json_array_append_new(arr, json_pack("{s:O, s:O}", "containerID",
						     json_object_get(it, "containerId"), "ifname",
						     json_object_get(it, "ifName")));
	json_decref(entries);
	return arr;
}
