#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <veilnet/file.h>
#include <veilnet/json.h>
#include "cache.h"
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

static void child(const char *path, char **env, int in_fd, int out_fd)
{
	char *argv[] = {(char *)path, NULL};

	if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0)
		_exit(127);
	execve(path, argv, env);
	_exit(127);
}

int cnt_exec(const char *path, char **env, const char *in, size_t in_len,
	     struct cnt_out *o, struct vn_err *e)
{
	int in_fd, outp[2], st;
	struct rusage ru;
	uint64_t t0;
	pid_t pid;
	char *out;

	in_fd = stdin_pipe(in, in_len);
	if (in_fd < 0)
		return vn_errf(e, VN_E_IO, "I/O error", "stdin pipe: %s", strerror(errno));
	if (pipe2(outp, O_CLOEXEC)) {
		close(in_fd);
		return vn_errf(e, VN_E_IO, "I/O error", "pipe: %s", strerror(errno));
	}
	t0 = now_ns();
	pid = fork();
	if (pid == 0)
		child(path, env, in_fd, outp[1]);
	close(in_fd);
	close(outp[1]);
	if (pid < 0) {
		close(outp[0]);
		return vn_errf(e, VN_E_IO, "I/O error", "fork: %s", strerror(errno));
	}
	out = vn_read_fd(outp[0], &o->len, e);
	close(outp[0]);
	while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR)
		;
	o->ns += now_ns() - t0;
	if (!out)
		return -1;
	free(o->out);
	o->out = out;
	o->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	if (ru.ru_maxrss > o->maxrss_kb)
		o->maxrss_kb = ru.ru_maxrss;
	o->runs++;
	return 0;
}

void cnt_out_free(struct cnt_out *o)
{
	free(o->out);
	memset(o, 0, sizeof(*o));
}

/* Runs plugin i of n with command and the given stdin config. */
static int run_plugin(const char *command, const struct cnt_net *n, size_t i,
		      const json_t *conf, const struct cnt_rt *rt, struct cnt_out *o,
		      struct vn_err *e)
{
	char path[PATH_MAX], *text, **env;
	int rc;

	o->type = cnt_net_type(n, i);
	if (cnt_find_plugin(o->type, rt->cni_path, path, sizeof(path), e))
		return -1;
	text = json_dumps(conf, JSON_COMPACT);
	env = cnt_env_build(command, rt);
	if (!text || !env) {
		free(text);
		cnt_env_free(env);
		return vn_errf(e, VN_E_IO, "I/O error", "out of memory");
	}
	rc = cnt_exec(path, env, text, strlen(text), o, e);
	free(text);
	cnt_env_free(env);
	return rc;
}

/* Builds plugin i's config and runs it. */
static int run_one(enum cnt_cmd op, const struct cnt_net *n, size_t i, const json_t *prev,
		   const json_t *extra, const struct cnt_rt *rt, struct cnt_out *o,
		   struct vn_err *e)
{
	json_t *conf = cnt_plugin_conf(n, i, prev, rt->runtime_config, extra, e);
	int rc;

	if (!conf)
		return -1;
	rc = run_plugin(cnt_op_name(op), n, i, conf, rt, o, e);
	json_decref(conf);
	return rc;
}

static int cache_file(const struct cnt_net *n, const struct cnt_rt *rt, char *buf,
		      size_t len, struct vn_err *e)
{
	return cnt_cache_path(buf, len, rt->cache_dir, n->name, rt->cid ? rt->cid : "",
			      rt->ifname ? rt->ifname : "", e);
}

static int do_add(const struct cnt_net *n, const struct cnt_rt *rt, struct cnt_out *o,
		  struct vn_err *e)
{
	char path[PATH_MAX];
	json_t *prev = NULL, *entry;
	size_t count = json_array_size(n->plugins);
	int rc = 0;

	for (size_t i = 0; i < count && rc == 0; i++) {
		rc = run_one(CNT_ADD, n, i, prev, NULL, rt, o, e);
		if (rc || o->status)
			break;
		json_decref(prev);
		prev = vn_json_parse(o->out, o->len, "plugin result", e);
		if (!prev)
			rc = vn_err_wrap(e, "plugin %s", o->type);
	}
	if (rc == 0 && o->status == 0 && prev && rt->cache_dir) {
		entry = cnt_cache_entry(n, rt->cid ? rt->cid : "", rt->ifname ? rt->ifname : "",
					rt->netns, rt->cni_args, prev);
		rc = cache_file(n, rt, path, sizeof(path), e);
		if (rc == 0)
			rc = cnt_cache_store(path, entry, e);
		json_decref(entry);
	}
	json_decref(prev);
	return rc;
}

/* The prevResult for CHECK and DEL: rt->prev, else the cache (or NULL). */
static json_t *cached_prev(const struct cnt_net *n, const struct cnt_rt *rt, struct vn_err *e)
{
	char path[PATH_MAX];

	vn_err_clear(e);
	if (rt->prev)
		return json_incref((json_t *)rt->prev);
	if (!rt->cache_dir || cnt_version_cmp(n->version, "0.4.0") < 0)
		return NULL;
	if (cache_file(n, rt, path, sizeof(path), e))
		return NULL;
	return cnt_cache_result(path, e);
}

static int do_check(const struct cnt_net *n, const struct cnt_rt *rt, struct cnt_out *o,
		    struct vn_err *e)
{
	json_t *prev;
	int rc = 0;

	if (cnt_version_cmp(n->version, "0.4.0") < 0)
		return vn_errf(e, VN_E_INCOMPATIBLE, "incompatible CNI version",
			       "configuration version \"%s\" does not support CHECK", n->version);
	if (n->disable_check)
		return 0;
	prev = cached_prev(n, rt, e);
	if (!prev)
		return e->code ? -1 : vn_errf(e, VN_E_UNKNOWN, "no cached result",
					      "no cached ADD result for %s/%s/%s (use --prev FILE)",
					      n->name, rt->cid, rt->ifname);
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
	json_t *prev = cached_prev(n, rt, e);
	int rc = 0;

	if (!prev && e->code)
		return -1;
	for (size_t i = json_array_size(n->plugins); i-- > 0;) {
		rc = run_one(CNT_DEL, n, i, prev, NULL, rt, o, e);
		if (rc || o->status)
			break;
	}
	json_decref(prev);
	if (rc == 0 && o->status == 0 && rt->cache_dir &&
	    cache_file(n, rt, path, sizeof(path), e) == 0)
		unlink(path);
	return rc;
}

static int do_gc(const struct cnt_net *n, const struct cnt_rt *rt, struct cnt_out *o,
		 struct vn_err *e)
{
	json_t *valid, *extra;
	int rc = 0, first_status = 0;
	char *first_out = NULL;

	if (cnt_version_cmp(n->version, "1.1.0") < 0 || n->disable_gc)
		return 0;
	valid = rt->valid ? json_incref((json_t *)rt->valid)
			  : cnt_cache_attachments(rt->cache_dir ? rt->cache_dir : "", n->name, e);
	if (!valid)
		return -1;
	extra = json_pack("{s:o}", "cni.dev/valid-attachments", valid);
	for (size_t i = 0; i < json_array_size(n->plugins) && rc == 0; i++) {
		rc = run_one(CNT_GC, n, i, NULL, extra, rt, o, e);
		if (rc == 0 && o->status && !first_status) {
			first_status = o->status;
			first_out = strdup(o->out);
		}
	}
	json_decref(extra);
	if (first_status && first_out) {
		free(o->out);
		o->out = first_out;
		o->len = strlen(first_out);
		o->status = first_status;
	} else {
		free(first_out);
	}
	return rc;
}

static int do_status(const struct cnt_net *n, const struct cnt_rt *rt, struct cnt_out *o,
		     struct vn_err *e)
{
	int rc = 0;

	if (cnt_version_cmp(n->version, "1.1.0") < 0)
		return 0;
	for (size_t i = 0; i < json_array_size(n->plugins); i++) {
		rc = run_one(CNT_STATUS, n, i, NULL, NULL, rt, o, e);
		if (rc || o->status)
			break;
	}
	return rc;
}

/* Appends src to the growing buffer *acc. */
static int append(char **acc, size_t *acc_len, const char *src, size_t len)
{
	char *grown = realloc(*acc, *acc_len + len + 1);

	if (!grown)
		return -1;
	memcpy(grown + *acc_len, src, len);
	*acc_len += len;
	grown[*acc_len] = '\0';
	*acc = grown;
	return 0;
}

static int do_version(const struct cnt_net *n, const struct cnt_rt *rt, struct cnt_out *o,
		      struct vn_err *e)
{
	json_t *conf = json_pack("{s:s}", "cniVersion", n->version);
	char *acc = NULL;
	size_t acc_len = 0;
	int rc = 0;

	for (size_t i = 0; i < json_array_size(n->plugins); i++) {
		rc = run_plugin("VERSION", n, i, conf, rt, o, e);
		if (rc == 0 && append(&acc, &acc_len, o->out, o->len))
			rc = vn_errf(e, VN_E_IO, "I/O error", "out of memory");
		if (rc || o->status)
			break;
	}
	json_decref(conf);
	if (rc == 0 && o->status == 0) {
		free(o->out);
		o->out = acc;
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
