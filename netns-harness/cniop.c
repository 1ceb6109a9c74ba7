#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <veilnet/file.h>
#include <veilnet/json.h>
#include "cache.h"
#include "cluster.h"
#include "cniop.h"
#include "conf.h"
#include "ns.h"
#include "run.h"

void cnt_default_cni_path(char *buf, size_t len)
{
	const char *env = getenv("CNI_PATH");
	char self[PATH_MAX];

	if (env && *env)
		snprintf(buf, len, "%s", env);
	else if (cnt_self_dir(self, sizeof(self)) == 0)
		snprintf(buf, len, "%s:/opt/cni/bin:/usr/lib/cni", self);
	else
		snprintf(buf, len, "/opt/cni/bin:/usr/lib/cni");
}

/* The JSON-valued options, parsed. */
struct json_opts {
	json_t *runtime_config, *prev, *valid;
};

static json_t *json_file(const char *path, struct vn_err *e)
{
	size_t len;
	char *text = vn_read_file(path, &len, e);
	json_t *j;

	if (!text)
		return NULL;
	j = vn_json_parse(text, len, path, e);
	free(text);
	return j;
}

static int parse_json_opts(const struct cnt_opts *o, struct json_opts *j, struct vn_err *e)
{
	memset(j, 0, sizeof(*j));
	if (o->runtime_config &&
	    !(j->runtime_config = vn_json_parse(o->runtime_config, strlen(o->runtime_config),
						"--runtime-config", e)))
		return -1;
	if (o->prev && !(j->prev = json_file(o->prev, e)))
		return -1;
	if (o->valid && !(j->valid = cnt_valid_parse(o->valid, e)))
		return -1;
	return 0;
}

static void free_json_opts(struct json_opts *j)
{
	json_decref(j->runtime_config);
	json_decref(j->prev);
	json_decref(j->valid);
}

static const char *default_cid(const struct cnt_opts *o)
{
	const char *slash;

	if (o->netns_create)
		return o->netns_create;
	if (o->netns && *o->netns) {
		slash = strrchr(o->netns, '/');
		return slash && slash[1] ? slash + 1 : o->netns;
	}
	return "cni-test";
}

static void print_out(const struct cnt_out *out)
{
	if (!out->len)
		return;
	fwrite(out->out, 1, out->len, stdout);
	if (out->out[out->len - 1] != '\n')
		putchar('\n');
}

int cnt_cni_command(const struct cnt_opts *o)
{
	char cni_path[4096], netns[PATH_MAX] = "";
	struct vn_err e = {0};
	struct cnt_net net = {0};
	struct json_opts j = {0};
	struct cnt_out out = {0};
	struct cnt_rt rt;
	bool made = false;
	int rc = CNT_EXIT_OWN;

	if (cnt_net_load(o->conf, &net, &e) || parse_json_opts(o, &j, &e) ||
	    (o->cni_args && cnt_cni_args_check(o->cni_args, &e)))
		goto out;
	if (o->cni_path)
		snprintf(cni_path, sizeof(cni_path), "%s", o->cni_path);
	else
		cnt_default_cni_path(cni_path, sizeof(cni_path));
	if (o->netns_create) {
		if (cnt_ns_path(o->netns_create, netns, sizeof(netns), &e))
			goto out;
		if (o->cmd == CNT_ADD) {
			if (cnt_ns_create(o->netns_create, &e))
				goto out;
			made = true;
		}
	} else if (o->netns) {
		snprintf(netns, sizeof(netns), "%s", o->netns);
	}
	rt = (struct cnt_rt){
		.cid = o->container_id ? o->container_id : default_cid(o),
		.netns = netns,
		.ifname = o->ifname,
		.cni_args = o->cni_args ? o->cni_args : "",
		.cni_path = cni_path,
		.cache_dir = o->cache_dir ? o->cache_dir : CNT_CACHE_DEFAULT,
		.runtime_config = j.runtime_config,
		.prev = j.prev,
		.valid = j.valid,
	};
	if (cnt_run(o->cmd, &net, &rt, &out, &e))
		goto out;
	print_out(&out);
	rc = out.status;
	if (rc && out.type)
		fprintf(stderr, "cni-test: %s: plugin %s exited with status %d\n",
			cnt_op_name(o->cmd), out.type, rc);
out:
	if (rc == CNT_EXIT_OWN)
		fprintf(stderr, "cni-test: %s: %s\n", e.msg, e.details);
	if ((made && rc) || (o->netns_create && o->cmd == CNT_DEL))
		if (cnt_ns_delete(o->netns_create, &e))
			fprintf(stderr, "cni-test: %s: %s\n", e.msg, e.details);
	cnt_out_free(&out);
	free_json_opts(&j);
	cnt_net_free(&net);
	return rc;
}
