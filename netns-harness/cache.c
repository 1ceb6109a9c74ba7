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

json_t *cnt_cache_entry(const struct cnt_net *n, const char *cid, const char *ifname,
			const char *netns, const char *cni_args, const json_t *result)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:O, s:O}",
			 "kind", "cniCacheV1", "containerId", cid, "ifName", ifname,
			 "networkName", n->name, "cniArgs", cni_args ? cni_args : "",
			 "netns", netns ? netns : "", "config", n->list, "result", result);
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

json_t *cnt_cache_result(const char *path, struct vn_err *e)
{
	json_t *doc = load_entry(path, e), *res;

	if (!doc)
		return NULL;
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

/* Adds the attachment in file name of dir to arr if it belongs to net. */
static void add_attachment(json_t *arr, const char *dir, const char *name, const char *net)
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
	if (nn && cid && ifn && !strcmp(nn, net))
		json_array_append_new(arr, json_pack("{s:s, s:s}", "containerID", cid,
						     "ifname", ifn));
	json_decref(doc);
}

json_t *cnt_cache_attachments(const char *cache_dir, const char *net, struct vn_err *e)
{
	char dir[PATH_MAX];
	json_t *arr = json_array();
	struct dirent *d;
	DIR *dp;

	snprintf(dir, sizeof(dir), "%s/results", cache_dir);
	dp = opendir(dir);
	if (!dp) {
		if (errno == ENOENT)
			return arr;
		json_decref(arr);
		vn_errf(e, VN_E_IO, "I/O error", "open %s: %s", dir, strerror(errno));
		return NULL;
	}
	while ((d = readdir(dp)))
		if (d->d_name[0] != '.' && !strstr(d->d_name, ".tmp."))
			add_attachment(arr, dir, d->d_name, net);
	closedir(dp);
	return arr;
}
