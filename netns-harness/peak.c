#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>
#include "peak.h"

/* The child's side: stdin, stdout, traced, exec. On failure the errno
 * goes to err_fd (closed by a successful exec). */
static void child(const char *path, char **env, int in_fd, int out_fd, int err_fd)
{
	char *argv[] = {(char *)path, NULL};
	int err;

	if (dup2(in_fd, 0) >= 0 && dup2(out_fd, 1) >= 0 &&
	    ptrace(PTRACE_TRACEME, 0, NULL, NULL) == 0)
		execve(path, argv, env);	/* stops with SIGTRAP once it ran */
	err = errno;
	if (write(err_fd, &err, sizeof(err)) != sizeof(err))
		err = 0;	/* the parent only sees exit status 127 then */
	_exit(127);
}

int peak_spawn(const char *path, char **env, int in_fd, int out_fd, pid_t *pid)
{
	int fds[2], err = 0;

	if (pipe2(fds, O_CLOEXEC))
		return errno;
	*pid = fork();
	if (*pid == 0)
		child(path, env, in_fd, out_fd, fds[1]);
	if (*pid < 0)
		err = errno;
	close(fds[1]);
	while (*pid > 0 && read(fds[0], &err, sizeof(err)) < 0 && errno == EINTR)
		;	/* EOF (err stays 0): the exec closed the pipe */
	close(fds[0]);
	if (*pid > 0 && err)	/* it could not exec: reap it */
		while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
			;
	return err;
}

/* VmHWM of process pid, KiB; 0 if it cannot be read. */
static long vm_hwm_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static int wait_one(pid_t pid, int *st)
{
	while (waitpid(pid, st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

/* The stop after the exec: from here on, stop the child at its exit. */
static int after_exec(pid_t pid)
{
	long opts = PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL;

	if (ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)opts) < 0)
		return -1;
	return ptrace(PTRACE_CONT, pid, NULL, NULL) < 0 ? -1 : 0;
}

int peak_wait(pid_t pid, int *status, long *hwm_kb)
{
	bool execed = false;
	int st;

	*hwm_kb = 0;
	for (;;) {
		long sig = 0;

		if (wait_one(pid, &st))
			return -1;
		if (WIFEXITED(st) || WIFSIGNALED(st))
			break;
		if (!execed && WSTOPSIG(st) == SIGTRAP) {
			execed = true;
			if (after_exec(pid))
				return -1;
			continue;
		}
		if (st >> 8 == (SIGTRAP | (PTRACE_EVENT_EXIT << 8)))
			*hwm_kb = vm_hwm_kb(pid);	/* its memory is still there */
		else
			sig = WSTOPSIG(st);	/* a signal for the plugin: deliver it */
		if (ptrace(PTRACE_CONT, pid, NULL, (void *)sig) < 0)
			return -1;
	}
	*status = st;
	return 0;
}
