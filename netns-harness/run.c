#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <veilnet/file.h>
#include <veilnet/json.h>
#include "cache.h"
#include "peak.h"
#include "result.h"
#include "run.h"

extern char **environ;

const char *cnt_op_name(enum cnt_cmd op)
{
	switch (op) {
	case CNT_ADD: return "ADD";
	case CNT_CHECK: return "CHECK";
	case CNT_DEL: return "DEL";
	case CNT_STATUS: return "STATUS";
	case CNT_GC: return "GC";
	case CNT_VERSION: return "VERSION";
	default: return "?";
	}
}

int cnt_find_plugin(const char *type, const char *cni_path, char *buf, size_t len,
		    struct vn_err *e)
{
	const char *p = cni_path ? cni_path : "";

	while (*p) {
		size_t n = strcspn(p, ":");
		int w = snprintf(buf, len, "%.*s/%s", (int)n, p, type);

		if (n && w > 0 && (size_t)w < len && access(buf, X_OK) == 0)
			return 0;
		p += n;
		if (*p == ':')
			p++;
	}
	return vn_errf(e, VN_E_IO, "plugin not found",
		       "failed to find plugin \"%s\" in path [%s]", type, cni_path ? cni_path : "");
}

static char *env_var(const char *name, const char *val)
{
	char *s;

	if (asprintf(&s, "%s=%s", name, val ? val : "") < 0)
		return NULL;
	return s;
}

char **cnt_env_build(const char *command, const struct cnt_rt *rt)
{
	size_t n = 0, k = 0;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + 8, sizeof(*env));
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "CNI_", 4))
			env[k++] = strdup(environ[i]);
	env[k++] = env_var("CNI_COMMAND", command);
	env[k++] = env_var("CNI_CONTAINERID", rt->cid);
	env[k++] = env_var("CNI_NETNS", rt->netns);
	env[k++] = env_var("CNI_IFNAME", rt->ifname);
	env[k++] = env_var("CNI_ARGS", rt->cni_args);
	env[k++] = env_var("CNI_PATH", rt->cni_path);
	for (size_t i = 0; i < k; i++) {
		if (!env[i]) {
			cnt_env_free(env);
			return NULL;
		}
	}
	return env;
}

void cnt_env_free(char **env)
{
	if (!env)
		return;
	for (char **p = env; *p; p++)
		free(*p);
	free(env);
}

/* Fills a pipe with in (growing it if needed) and closes the write end.
 * Returns the read end, or -1. */
static int stdin_pipe(const char *in, size_t len)
{
	int fds[2];
	bool short_write;

	if (pipe2(fds, O_CLOEXEC))
		return -1;
	if (len > 65536)
		fcntl(fds[1], F_SETPIPE_SZ, (int)(len < 1048576 ? len : 1048576));
	short_write = vn_write_all(fds[1], in, len) != 0;
	close(fds[1]);
	if (short_write) {
		close(fds[0]);
		errno = EFBIG;
		return -1;
	}
	return fds[0];
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Starts path with stdin from in_fd and stdout to out_fd, the way Go's
 * os/exec (containerd, CRI-O, podman) does: posix_spawn is a vfork-style
 * clone that shares the parent's memory until the exec, instead of
 * copying its page tables as fork does. Returns 0 or an errno. */
static int spawn(const char *path, char **env, int in_fd, int out_fd, pid_t *pid)
{
	char *argv[] = {(char *)path, NULL};
	posix_spawn_file_actions_t fa;
	int err;

	err = posix_spawn_file_actions_init(&fa);
	if (err)
		return err;
	err = posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
	if (!err)
		err = posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	if (!err)
		err = posix_spawn(pid, path, &fa, NULL, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	return err;
}

/* Reaps the child started by spawn (peak: by peak_spawn, whose peak RSS
 * goes to *hwm_kb). Returns 0 or an errno; a traced child that could not
 * be followed is killed. */
static int reap(pid_t pid, bool peak, int *st, long *hwm_kb)
{
	int err = 0;

	*hwm_kb = 0;
	if (peak) {
		if (peak_wait(pid, st, hwm_kb) == 0)
			return 0;
		err = errno;
		kill(pid, SIGKILL);
	}
	while (waitpid(pid, st, 0) < 0)
		if (errno != EINTR)
			return err ? err : errno;
	return err;
}

int cnt_exec(const char *path, char **env, const char *in, size_t in_len, bool peak,
	     struct cnt_out *o, struct vn_err *e)
{
	int in_fd, outp[2], st, err;
	uint64_t t0;
	long hwm;
	pid_t pid;
	char *out;

	in_fd = stdin_pipe(in, in_len);
	if (in_fd < 0)
		return vn_errf(e, VN_E_IO, "I/O error", "stdin pipe: %s", strerror(errno));
	if (pipe2(outp, O_CLOEXEC)) {
		close(in_fd);
		return vn_errf(e, VN_E_IO, "I/O error", "pipe: %s", strerror(errno));
	}
	if (peak)	/* its output is read after it exited */
		fcntl(outp[0], F_SETPIPE_SZ, PEAK_PIPE_SIZE);
	t0 = now_ns();
	err = peak ? peak_spawn(path, env, in_fd, outp[1], &pid)
		   : spawn(path, env, in_fd, outp[1], &pid);
	close(in_fd);
	close(outp[1]);
	if (!err && peak)
		err = reap(pid, true, &st, &hwm);	/* before reading: see peak.h */
	if (err) {
		close(outp[0]);
		return vn_errf(e, VN_E_IO, "I/O error", "execute %s: %s", path, strerror(err));
	}
	out = vn_read_fd(outp[0], &o->len, e);
	close(outp[0]);
	if (!peak && (err = reap(pid, false, &st, &hwm))) {
		free(out);
		return vn_errf(e, VN_E_IO, "I/O error", "wait for %s: %s", path, strerror(err));
	}
	o->ns += now_ns() - t0;
	if (!out)
		return -1;
	free(o->out);
	o->out = out;
	o->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	if (hwm > o->maxrss_kb)
		o->maxrss_kb = hwm;
	o->runs++;
	return 0;
}

void cnt_out_free(struct cnt_out *o)
{
	free(o->out);
	memset(o, 0, sizeof(*o));
}

/* Runs the plugin of type with command and the stdin config conf: looked
 * up in cni_path, with the environment of env_rt. */
static int run_type(const char *command, const char *type, const char *cni_path,
		    const json_t *conf, const struct cnt_rt *env_rt, struct cnt_out *o,
		    struct vn_err *e)
{
	char path[PATH_MAX], *text, **env;
	int rc;

	o->type = type;
	if (cnt_find_plugin(type, cni_path, path, sizeof(path), e))
		return -1;
	text = json_dumps(conf, JSON_COMPACT);
	env = cnt_env_build(command, env_rt);
	if (!text || !env) {
		free(text);
		cnt_env_free(env);
		return vn_errf(e, VN_E_IO, "I/O error", "out of memory");
	}
	rc = cnt_exec(path, env, text, strlen(text), env_rt->peak_rss, o, e);
	free(text);
	cnt_env_free(env);
	return rc;
}

/* Builds plugin i's config and runs it with op; rt gives the environment
 * and runtimeConfig. */
static int run_one(enum cnt_cmd op, const struct cnt_net *n, size_t i, const json_t *prev,
		   const json_t *extra, const struct cnt_rt *rt, struct cnt_out *o,
		   struct vn_err *e)
{
	json_t *conf = cnt_plugin_conf(n, i, prev, rt->runtime_config, extra, e);
	int rc;

	if (!conf)
		return -1;
	rc = run_type(cnt_op_name(op), cnt_net_type(n, i), rt->cni_path, conf, rt, o, e);
	json_decref(conf);
	return rc;
}

/* The environment of GC and STATUS: libcni passes an empty RuntimeConf, so
 * only CNI_COMMAND and CNI_PATH have values (and no runtimeConfig). */
static struct cnt_rt network_rt(const struct cnt_rt *rt)
{
	return (struct cnt_rt){.cni_path = rt->cni_path};
}

static int cache_file(const struct cnt_net *n, const struct cnt_rt *rt, char *buf,
		      size_t len, struct vn_err *e)
{
	return cnt_cache_path(buf, len, rt->cache_dir, n->name, rt->cid ? rt->cid : "",
			      rt->ifname ? rt->ifname : "", e);
}

static int cache_add(const struct cnt_net *n, const struct cnt_rt *rt, const json_t *result,
		     struct vn_err *e)
{
	struct cnt_attachment a = {.cid = rt->cid ? rt->cid : "",
				   .ifname = rt->ifname ? rt->ifname : "", .netns = rt->netns,
				   .cni_args = rt->cni_args,
				   .capability_args = rt->runtime_config};
	char path[PATH_MAX];
	json_t *entry = cnt_cache_entry(n, &a, result);
	int rc;

	if (!entry)
		return vn_errf(e, VN_E_IO, "I/O error", "out of memory");
	rc = cache_file(n, rt, path, sizeof(path), e);
	if (rc == 0)
		rc = cnt_cache_store(path, entry, e);
	json_decref(entry);
	if (rc)
		vn_err_wrap(e, "failed to set network \"%s\" cached result", n->name);
	return rc;
}

static int do_add(const struct cnt_net *n, const struct cnt_rt *rt, struct cnt_out *o,
		  struct vn_err *e)
{
	json_t *prev = NULL;
	size_t count = json_array_size(n->plugins);
	int rc = cnt_attachment_check(rt->cid, n->name, rt->ifname, e);

	for (size_t i = 0; i < count && rc == 0; i++) {
		rc = run_one(CNT_ADD, n, i, prev, NULL, rt, o, e);
		if (rc || o->status)
			break;
		json_decref(prev);
		prev = cnt_result_decode(o->out, o->len, n->version, e);
		if (!prev)
			rc = vn_err_wrap(e, "plugin type=\"%s\" failed (add)", o->type);
	}
	if (rc == 0 && o->status == 0 && prev && rt->cache_dir)
		rc = cache_add(n, rt, prev, e);
	json_decref(prev);
	return rc;
}

/* The prevResult for CHECK and DEL: rt->prev as given, else (from 0.4.0 on)
 * the cached result converted to the network's version. Returns 0 with
 * *prev NULL when there is none, -1 with e set for an unusable entry. */
static int load_prev(const struct cnt_net *n, const struct cnt_rt *rt, json_t **prev,
		     struct vn_err *e)
{
	char path[PATH_MAX];
	json_t *raw;

	*prev = NULL;
	vn_err_clear(e);
	if (rt->prev) {
		*prev = json_incref((json_t *)rt->prev);
		return 0;
	}
	if (!rt->cache_dir || cnt_version_cmp(n->version, "0.4.0") < 0)
		return 0;
	if (cache_file(n, rt, path, sizeof(path), e))
		return -1;
	raw = cnt_cache_result(path, e);
	if (raw) {
		*prev = cnt_result_cached(raw, n->version, e);
		json_decref(raw);
	}
	if (!*prev && e->code)
		return vn_err_wrap(e, "failed to get network \"%s\" cached result", n->name);
	return 0;
}

static int do_check(const struct cnt_net *n, const struct cnt_rt *rt, struct cnt_out *o,
		    struct vn_err *e)
{
	json_t *prev;
	int rc = 0;

	if (cnt_version_cmp(n->version, "0.4.0") < 0)
		return vn_errf(e, VN_E_INCOMPATIBLE, "incompatible CNI version",
			       "configuration version \"%s\" does not support the CHECK command",
			       n->version);
	if (n->disable_check)
		return 0;
	if (load_prev(n, rt, &prev, e))
		return -1;
	for (size_t i = 0; i < json_array_size(n->plugins); i++) {
		rc = run_one(CNT_CHECK, n, i, prev, NULL, rt, o, e);
		if (rc || o->status)
			break;
	}
	json_decref(prev);
	return rc;
}

static int do_del(const struct cnt_net *n, const struct cnt_rt *rt, struct cnt_out *o,
		  struct vn_err *e)
{
	char path[PATH_MAX];
	bool have_path = rt->cache_dir && cache_file(n, rt, path, sizeof(path), e) == 0;
	json_t *prev;
	int rc = 0;

	if (load_prev(n, rt, &prev, e)) {
		/* libcni drops an unusable entry and deletes without it */
		if (have_path)
			unlink(path);
		vn_err_clear(e);
	}
	for (size_t i = json_array_size(n->plugins); i-- > 0;) {
		rc = run_one(CNT_DEL, n, i, prev, NULL, rt, o, e);
		if (rc || o->status)
			break;
	}
	json_decref(prev);
	if (rc == 0 && o->status == 0 && have_path)
		unlink(path);
	return rc;
}

int cnt_teardown(const struct cnt_net *n, const struct cnt_rt *rt, struct cnt_out *o,
		 struct vn_err *e)
{
	struct cnt_rt t = *rt;

	t.prev = NULL;
	return do_del(n, &t, o, e);
}

/* The first failure of an operation that goes on after failures (GC). */
struct first_fail {
	int status;		/* the first failing plugin's status, or 0 */
	char *out;		/* and its output (owned) */
	size_t len;
	const char *type;
	bool own;		/* cni-test failed somewhere */
	struct vn_err e;	/* the first of those */
};

static void note_fail(struct first_fail *f, int rc, const struct cnt_out *o,
		      const struct vn_err *e)
{
	if (rc && !f->own) {
		f->own = true;
		f->e = *e;
	}
	if (rc == 0 && o->status && !f->status && (f->out = malloc(o->len + 1))) {
		memcpy(f->out, o->out, o->len + 1);
		f->len = o->len;
		f->status = o->status;
		f->type = o->type;
	}
}

/* Puts the first failure into o / e. Returns what do_gc returns. */
static int report_fail(struct first_fail *f, struct cnt_out *o, struct vn_err *e)
{
	if (f->status) {
		free(o->out);
		o->out = f->out;
		o->len = f->len;
		o->status = f->status;
		o->type = f->type;
		return 0;
	}
	if (f->own) {
		*e = f->e;
		return -1;
	}
	return 0;
}

/* True if valid (a valid-attachments array) holds cid/ifname. */
static bool is_valid(const json_t *valid, const char *cid, const char *ifname)
{
	json_t *a;
	size_t i;

	json_array_foreach(valid, i, a) {
		const char *c = json_string_value(json_object_get(a, "containerID"));
		const char *f = json_string_value(json_object_get(a, "ifname"));

		if (c && f && !strcmp(c, cid) && !strcmp(f, ifname))
			return true;
	}
	return false;
}

/* GC's first part: DEL of every cached attachment that is not valid, with
 * the runtime config the cache recorded for it. */
static void gc_stale(const struct cnt_net *n, const struct cnt_rt *rt, const json_t *valid,
		     struct cnt_out *o, struct first_fail *f)
{
	json_t *entries, *it;
	struct vn_err e = {0};
	size_t i;

	entries = cnt_cache_entries(rt->cache_dir, n->name, &e);
	if (!entries) {
		note_fail(f, -1, o, &e);
		return;
	}
	json_array_foreach(entries, i, it) {
		const char *cid = json_string_value(json_object_get(it, "containerId"));
		const char *ifname = json_string_value(json_object_get(it, "ifName"));
		const char *netns = json_string_value(json_object_get(it, "netns"));
		char *args = cnt_cni_args_join(json_object_get(it, "cniArgs"));
		json_t *caps = json_object_get(it, "capabilityArgs");
		struct cnt_rt d = {.cid = cid, .netns = netns ? netns : "", .ifname = ifname,
				   .cni_args = args ? args : "", .cni_path = rt->cni_path,
				   .cache_dir = rt->cache_dir,
				   .runtime_config = json_is_object(caps) ? caps : NULL};

		if (!is_valid(valid, cid, ifname)) {
			int rc = do_del(n, &d, o, &e);

			if (rc == 0 && o->status)
				fprintf(stderr, "cni-test: GC: DEL of stale attachment %s %s: "
					"plugin %s exited with status %d\n", cid, ifname, o->type,
					o->status);
			note_fail(f, rc, o, &e);
		}
		free(args);
	}
	json_decref(entries);
}

static int do_gc(const struct cnt_net *n, const struct cnt_rt *rt, struct cnt_out *o,
		 struct vn_err *e)
{
	struct cnt_rt blank = network_rt(rt);
	struct first_fail f = {0};
	json_t *valid, *extra;

	if (n->disable_gc)
		return 0;
	valid = rt->valid ? json_incref((json_t *)rt->valid)
			  : rt->cache_dir ? cnt_cache_attachments(rt->cache_dir, n->name, e)
					  : json_array();
	if (!valid)
		return -1;
	if (rt->cache_dir)
		gc_stale(n, rt, valid, o, &f);
	extra = json_pack("{s:O, s:O}", "cni.dev/valid-attachments", valid, "cni.dev/attachments",
			  valid);
	for (size_t i = 0; i < json_array_size(n->plugins) &&
			   cnt_version_cmp(n->version, "1.1.0") >= 0; i++)
		note_fail(&f, run_one(CNT_GC, n, i, NULL, extra, &blank, o, e), o, e);
	json_decref(extra);
	json_decref(valid);
	return report_fail(&f, o, e);
}

static int do_status(const struct cnt_net *n, const struct cnt_rt *rt, struct cnt_out *o,
		     struct vn_err *e)
{
	struct cnt_rt blank = network_rt(rt);
	int rc = 0;

	if (cnt_version_cmp(n->version, "1.1.0") < 0)
		return 0;
	for (size_t i = 0; i < json_array_size(n->plugins); i++) {
		rc = run_one(CNT_STATUS, n, i, NULL, NULL, &blank, o, e);
		if (rc || o->status)
			break;
	}
	return rc;
}

/* Appends src (and a newline if it lacks one) to the growing buffer *acc. */
static int append(char **acc, size_t *acc_len, const char *src, size_t len)
{
	bool nl = len && src[len - 1] != '\n';
	char *grown = realloc(*acc, *acc_len + len + 2);

	if (!grown)
		return -1;
	memcpy(grown + *acc_len, src, len);
	*acc_len += len;
	if (nl)
		grown[(*acc_len)++] = '\n';
	grown[*acc_len] = '\0';
	*acc = grown;
	return 0;
}

/* A VERSION failure that means "a plugin from before VERSION existed". */
static bool unknown_version_cmd(const struct cnt_out *o)
{
	json_t *err = json_loadb(o->out, o->len, 0, NULL);
	const char *msg = json_string_value(json_object_get(err, "msg"));
	bool yes = msg && !strcmp(msg, "unknown CNI_COMMAND: VERSION");

	json_decref(err);
	return yes;
}

/* Decodes a VERSION answer like libcni's PluginDecoder and checks that it
 * lists version. Returns 0, or -1 with e set. */
static int check_supported(const struct cnt_out *o, const char *type, const char *version,
			   struct vn_err *e)
{
	json_t *info = vn_json_parse(o->out, o->len, "version info", e), *list, *v;
	const char *cv;
	bool found = false;
	size_t i;

	if (!info)
		return vn_err_wrap(e, "plugin %s: decoding version info", type);
	cv = json_string_value(json_object_get(info, "cniVersion"));
	list = json_object_get(info, "supportedVersions");
	if (!cv || !*cv) {
		json_decref(info);
		return vn_errf(e, VN_E_DECODE, "decoding failure", "plugin %s: decoding version "
			       "info: missing field cniVersion", type);
	}
	if (json_array_size(list) == 0 && strcmp(cv, "0.2.0")) {
		json_decref(info);
		return vn_errf(e, VN_E_DECODE, "decoding failure", "plugin %s: decoding version "
			       "info: missing field supportedVersions", type);
	}
	json_array_foreach(list, i, v)
		found |= json_is_string(v) && !strcmp(json_string_value(v), version);
	if (json_array_size(list) == 0)	/* a 0.2.0 plugin: 0.1.0 and 0.2.0 */
		found = !strcmp(version, "0.1.0") || !strcmp(version, "0.2.0");
	json_decref(info);
	if (found)
		return 0;
	return vn_errf(e, VN_E_INCOMPATIBLE, "incompatible CNI versions",
		       "plugin %s does not support config version \"%s\"", type, version);
}

/* VERSION of plugin i as libcni's GetVersionInfo runs it; then the check of
 * ValidateNetworkList. Returns 0 (o->status set if the plugin failed), or
 * -1 with e set. */
static int version_one(const struct cnt_net *n, size_t i, const struct cnt_rt *rt,
		       struct cnt_out *o, struct vn_err *e)
{
	struct cnt_rt dummy = {.netns = "dummy", .ifname = "dummy", .cni_path = "dummy"};
	json_t *conf = json_pack("{s:s}", "cniVersion", CNT_SPEC_VERSION);
	const char *type = cnt_net_type(n, i);
	int rc = run_type("VERSION", type, rt->cni_path, conf, &dummy, o, e);

	json_decref(conf);
	if (rc || (o->status && !unknown_version_cmd(o)))
		return rc;
	if (o->status) {	/* supports 0.1.0 only */
		o->status = 0;
		if (!strcmp(n->version, "0.1.0"))
			return 0;
		return vn_errf(e, VN_E_INCOMPATIBLE, "incompatible CNI versions",
			       "plugin %s does not support config version \"%s\"", type, n->version);
	}
	return check_supported(o, type, n->version, e);
}

static int do_version(const struct cnt_net *n, const struct cnt_rt *rt, struct cnt_out *o,
		      struct vn_err *e)
{
	char *acc = NULL;
	size_t acc_len = 0;
	int rc = 0;

	for (size_t i = 0; i < json_array_size(n->plugins); i++) {
		rc = version_one(n, i, rt, o, e);
		if (rc || o->status)
			break;
		if (append(&acc, &acc_len, o->out, o->len)) {
			rc = vn_errf(e, VN_E_IO, "I/O error", "out of memory");
			break;
		}
	}
	if (rc == 0 && o->status == 0) {
		free(o->out);
		o->out = acc ? acc : strdup("");
		o->len = acc_len;
	} else {
		free(acc);
	}
	return rc;
}

int cnt_run(enum cnt_cmd op, const struct cnt_net *n, const struct cnt_rt *rt,
	    struct cnt_out *o, struct vn_err *e)
{
	switch (op) {
	case CNT_ADD: return do_add(n, rt, o, e);
	case CNT_CHECK: return do_check(n, rt, o, e);
	case CNT_DEL: return do_del(n, rt, o, e);
	case CNT_GC: return do_gc(n, rt, o, e);
	case CNT_STATUS: return do_status(n, rt, o, e);
	case CNT_VERSION: return do_version(n, rt, o, e);
	default:
		return vn_errf(e, VN_E_INVALID, "invalid arguments", "not a CNI operation");
	}
}
