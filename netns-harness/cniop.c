#include <ctype.h>
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

/* The cache directory: --cache-dir, else $CNI_TEST_CACHE_DIR, else libcni's. */
static const char *cache_dir(const struct cnt_opts *o)
{
	const char *env = getenv(CNT_CACHE_ENV);

	if (o->cache_dir)
		return o->cache_dir;
	return env && *env ? env : CNT_CACHE_DEFAULT;
}

/* CNI_ARGS: kubelet's for --k8s-pod (then --args appended), else --args. */
static int cni_args(const struct cnt_opts *o, const char *cid, char *buf, size_t len,
		    struct vn_err *e)
{
	char ns[64], pod[64], uid[40], seed[256];
	size_t n;

	if (!o->k8s_pod) {
		snprintf(buf, len, "%s", o->cni_args ? o->cni_args : "");
		return 0;
	}
	if (cnt_split_pod(o->k8s_pod, ns, sizeof(ns), pod, sizeof(pod), e))
		return -1;
	snprintf(seed, sizeof(seed), "%s/%s", ns, pod);
	cnt_pod_uid(uid, sizeof(uid), seed);
	if (cnt_k8s_args(buf, len, ns, pod, cid, o->pod_uid ? o->pod_uid : uid))
		return vn_errf(e, VN_E_INVALID, "invalid arguments", "CNI_ARGS too long");
	n = strlen(buf);
	if (o->cni_args && *o->cni_args &&
	    (size_t)snprintf(buf + n, len - n, ";%s", o->cni_args) >= len - n)
		return vn_errf(e, VN_E_INVALID, "invalid arguments", "CNI_ARGS too long");
	return 0;
}

/* What a plugin's failure looks like when it did not print an error object:
 * libcni's own description (pkg/invoke), as a CNI error object. */
static char *synthesized_error(const struct cnt_out *out)
{
	char how[96], *msg = NULL, *quoted = NULL, *text;
	json_t *raw = out->len ? json_stringn(out->out, out->len) : NULL, *err;
	int n;

	if (out->status > 128) {
		const char *sig = strsignal(out->status - 128);

		snprintf(how, sizeof(how), "signal: %c%s", sig ? tolower((unsigned char)sig[0]) : '?',
			 sig && sig[0] ? sig + 1 : "");
	} else {
		snprintf(how, sizeof(how), "exit status %d", out->status);
	}
	if (raw)
		quoted = json_dumps(raw, JSON_ENCODE_ANY);
	if (out->len)
		n = asprintf(&msg, "netplugin failed but error parsing its diagnostic message %s: "
			     "not a JSON object (%s)", quoted ? quoted : "(not UTF-8)", how);
	else
		n = asprintf(&msg, "netplugin failed with no error message: %s", how);
	err = json_pack("{s:i, s:s}", "code", 0, "msg", n >= 0 ? msg : "netplugin failed");
	text = json_dumps(err, JSON_COMPACT);
	json_decref(err);
	json_decref(raw);
	free(quoted);
	if (n >= 0)
		free(msg);
	return text;
}

/* Prints the plugin's output, which must be JSON: a failure's error object
 * as it is, a result, a VERSION answer. Output that is not JSON goes to
 * stderr instead; a failure without an error object gets libcni's
 * description of it as one. */
static void print_out(const struct cnt_out *out)
{
	json_error_t jerr;
	json_t *doc = out->len ? json_loadb(out->out, out->len, JSON_DISABLE_EOF_CHECK |
					    JSON_DECODE_ANY, &jerr) : NULL;
	bool is_json = doc != NULL;
	char *made;

	json_decref(doc);
	if (is_json) {
		fwrite(out->out, 1, out->len, stdout);
		if (out->out[out->len - 1] != '\n')
			putchar('\n');
		return;
	}
	if (out->len)
		fprintf(stderr, "cni-test: plugin %s printed something that is not JSON: %.*s\n",
			out->type ? out->type : "?", (int)out->len, out->out);
	if (!out->status)
		return;
	made = synthesized_error(out);
	if (made)
		puts(made);
	free(made);
}

/* After a failed ADD: DEL of the chain, as a runtime does (unless
 * --no-teardown). Its outcome goes to stderr only. */
static void teardown(const struct cnt_opts *o, const struct cnt_net *net,
		     const struct cnt_rt *rt)
{
	struct cnt_out d = {0};
	struct vn_err e = {0};

	if (o->verbose)
		fprintf(stderr, "cni-test: ADD failed: tearing down (DEL of the chain, "
			"in reverse)\n");
	if (cnt_teardown(net, rt, &d, &e))
		fprintf(stderr, "cni-test: teardown DEL: %s: %s\n", e.msg, e.details);
	else if (d.status)
		fprintf(stderr, "cni-test: teardown DEL: plugin %s exited with status %d: %.*s\n",
			d.type, d.status, (int)d.len, d.out);
	else if (o->verbose)
		fprintf(stderr, "cni-test: teardown DEL succeeded\n");
	cnt_out_free(&d);
}

static void say_version(const struct cnt_opts *o, const struct cnt_net *net)
{
	char *list;

	if (!o->verbose)
		return;
	if (!net->versions) {
		fprintf(stderr, "cni-test: network %s: CNI version %s\n", net->name, net->version);
		return;
	}
	list = json_dumps(net->versions, JSON_COMPACT);
	fprintf(stderr, "cni-test: network %s: CNI version %s, the highest of cniVersions %s "
		"and cniVersion that cni-test (like libcni 1.2) supports (up to %s)\n", net->name,
		net->version, list ? list : "?", CNT_SPEC_VERSION);
	free(list);
}

int cnt_cni_command(const struct cnt_opts *o)
{
	char cni_path[4096], netns[PATH_MAX] = "", args[2048];
	struct vn_err e = {0};
	struct cnt_net net = {0};
	struct json_opts j = {0};
	struct cnt_out out = {0};
	struct cnt_rt rt;
	bool made = false;
	const char *cid = o->container_id ? o->container_id : default_cid(o);
	int rc = CNT_EXIT_OWN, run;

	if (cnt_net_load(o->conf, &net, &e) || parse_json_opts(o, &j, &e) ||
	    (o->cni_args && cnt_cni_args_check(o->cni_args, &e)) ||
	    cni_args(o, cid, args, sizeof(args), &e))
		goto out;
	say_version(o, &net);
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
		.cid = cid,
		.netns = netns,
		.ifname = o->ifname,
		.cni_args = args,
		.cni_path = cni_path,
		.cache_dir = cache_dir(o),
		.runtime_config = j.runtime_config,
		.prev = j.prev,
		.valid = j.valid,
	};
	run = cnt_run(o->cmd, &net, &rt, &out, &e);
	if (run == 0) {
		print_out(&out);
		rc = out.status;
		if (rc && out.type)
			fprintf(stderr, "cni-test: %s: plugin %s exited with status %d\n",
				cnt_op_name(o->cmd), out.type, rc);
	} else {
		fprintf(stderr, "cni-test: %s: %s\n", e.msg, e.details);
	}
	if (o->cmd == CNT_ADD && rc && out.runs > 0 && !o->no_teardown)
		teardown(o, &net, &rt);
	vn_err_clear(&e);
out:
	if (rc == CNT_EXIT_OWN && e.code)
		fprintf(stderr, "cni-test: %s: %s\n", e.msg, e.details);
	/* the sandbox goes with a failed ADD, unless asked to keep what it left */
	if ((made && rc && !o->no_teardown) || (o->netns_create && o->cmd == CNT_DEL))
		if (cnt_ns_delete(o->netns_create, &e))
			fprintf(stderr, "cni-test: %s: %s\n", e.msg, e.details);
	cnt_out_free(&out);
	free_json_opts(&j);
	cnt_net_free(&net);
	return rc;
}
