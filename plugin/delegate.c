#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <veilnet/file.h>
#include <veilnet/json.h>
#include "delegate.h"

extern char **environ;

static int find_plugin(const char *type, const char *cni_path, char *out, size_t size,
		       struct vn_err *e)
{
	const char *p = cni_path;

	while (p && *p) {
		const char *end = strchr(p, ':');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n && (size_t)snprintf(out, size, "%.*s/%s", (int)n, p, type) < size &&
		    access(out, X_OK) == 0)
			return 0;
		p = end ? end + 1 : NULL;
	}
	return vn_errf(e, VN_E_INVALID, "invalid configuration",
		       "IPAM plugin \"%s\" not found in CNI_PATH (%s)", type,
		       cni_path ? cni_path : "unset");
}

/* environ with CNI_COMMAND replaced; the array is malloc'd, strings borrowed. */
static char **make_env(const char *command_var)
{
	size_t n = 0, k = 0;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + 2, sizeof(*env));
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "CNI_COMMAND=", 12) != 0)
			env[k++] = environ[i];
	env[k] = (char *)command_var;
	return env;
}

/* Starts the plugin with stdin/stdout on pipes. Returns its pid or -1. */
static pid_t spawn(const char *path, char **env, int in[2], int out[2])
{
	posix_spawn_file_actions_t fa;
	char *argv[] = { (char *)path, NULL };
	pid_t pid;
	int rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_addclose(&fa, in[1]);
	posix_spawn_file_actions_addclose(&fa, out[0]);
	rc = posix_spawn(&pid, path, &fa, NULL, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	if (rc) {
		errno = rc;
		return -1;
	}
	return pid;
}

/* Turns the plugin's output and status into e. */
static int plugin_failed(const char *type, const char *command, int status, json_t *res,
			 struct vn_err *e)
{
	json_t *code = res ? json_object_get(res, "code") : NULL;
	json_t *msg = res ? json_object_get(res, "msg") : NULL;
	json_t *det = res ? json_object_get(res, "details") : NULL;

	if (json_is_integer(code))
		return vn_errf(e, (int)json_integer_value(code),
			       json_is_string(msg) ? json_string_value(msg) : "IPAM plugin failed",
			       "IPAM plugin %s %s: %s%s%s", type, command,
			       json_is_string(msg) ? json_string_value(msg) : "",
			       json_is_string(det) ? ": " : "",
			       json_is_string(det) ? json_string_value(det) : "");
	return vn_errf(e, VN_E_IO, "I/O error", "IPAM plugin %s %s exited with status %d", type,
		       command, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

int delegate_run(const char *type, const char *cni_path, const char *command,
		 const char *config, size_t len, json_t **out, struct vn_err *e)
{
	char path[PATH_MAX], var[64];
	int in[2] = { -1, -1 }, outp[2] = { -1, -1 }, status = 0, ret = -1;
	char **env = NULL, *text = NULL;
	json_t *res = NULL;
	size_t n = 0;
	pid_t pid;

	if (out)
		*out = NULL;
	if (find_plugin(type, cni_path, path, sizeof(path), e))
		return -1;
	snprintf(var, sizeof(var), "CNI_COMMAND=%s", command);
	signal(SIGPIPE, SIG_IGN);
	env = make_env(var);
	if (!env || pipe2(in, O_CLOEXEC) || pipe2(outp, O_CLOEXEC)) {
		vn_errf(e, VN_E_IO, "I/O error", "IPAM plugin %s: %s", type, strerror(errno));
		goto done;
	}
	pid = spawn(path, env, in, outp);
	if (pid < 0) {
		vn_errf(e, VN_E_IO, "I/O error", "run %s: %s", path, strerror(errno));
		goto done;
	}
	close(in[0]);
	close(outp[1]);
	in[0] = outp[1] = -1;
	vn_write_all(in[1], config, len);
	close(in[1]);
	in[1] = -1;
	text = vn_read_fd(outp[0], &n, e);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!text)
		goto done;
	if (n)
		res = json_loadb(text, n, 0, NULL);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		plugin_failed(type, command, status, res, e);
		goto done;
	}
	if (n && !res) {
		vn_errf(e, VN_E_DECODE, "decoding failure", "IPAM plugin %s %s: output is not JSON",
			type, command);
		goto done;
	}
	if (out) {
		*out = res;
		res = NULL;
	}
	ret = 0;
done:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (outp[i] >= 0)
			close(outp[i]);
	}
	if (res)
		json_decref(res);
	free(text);
	free(env);
	return ret;
}
