/* wgproc.c - starting, finding and stopping wireguard-go. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <veilnet/file.h>
#include "uapi.h"
#include "wgproc.h"

static const char *run_dir(void)
{
	const char *d = getenv("VEILNET_RUN_DIR");

	return d && *d ? d : "/run/veilnet";
}

void wgproc_pidfile(const char *ifname, char *buf, size_t size)
{
	snprintf(buf, size, "%s/mesh-%s.pid", run_dir(), ifname);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Pauses a few milliseconds between two polls of a condition. */
static void tick(void)
{
	struct timespec ts = { .tv_nsec = 5 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

static void child_exec(const char *ifname, const char *prog, const char *log_path)
{
	int fd = open(log_path ? log_path : "/dev/null", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
		      0600);
	int in = open("/dev/null", O_RDONLY | O_CLOEXEC);

	/* Its own process group (no job-control signals from our terminal)
	 * and SIGHUP ignored, but the caller's session: setsid would put it
	 * in a scheduler autogroup of its own, which on a small machine
	 * starves it against the caller's other processes. */
	setpgid(0, 0);
	signal(SIGHUP, SIG_IGN);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
	}
	if (in >= 0)
		dup2(in, STDIN_FILENO);
	setenv("WG_PROCESS_FOREGROUND", "1", 1);
	if (!getenv("LOG_LEVEL"))
		setenv("LOG_LEVEL", "error", 1);
	execlp(prog, prog, ifname, (char *)NULL);
	fprintf(stderr, "veilnet-mesh: exec %s: %s\n", prog, strerror(errno));
	_exit(127);
}

static int write_pidfile(const char *ifname, pid_t pid, struct vn_err *e)
{
	char path[256], text[32];
	int n;

	if (vn_mkdir_p(run_dir(), 0755, e))
		return -1;
	wgproc_pidfile(ifname, path, sizeof(path));
	n = snprintf(text, sizeof(text), "%d\n", (int)pid);
	return vn_write_atomic(path, text, (size_t)n, 0644, e);
}

int wgproc_start(const char *ifname, const char *prog, const char *log_path, pid_t *pid,
		 struct vn_err *e)
{
	char sock[108];
	long deadline = now_ms() + 5000;
	int status;
	pid_t p;

	wg_uapi_path(ifname, sock, sizeof(sock));
	unlink(sock);	/* a stale socket of a dead process */
	p = fork();
	if (p < 0)
		return vn_errf(e, VN_E_IO, "I/O error", "fork: %s", strerror(errno));
	if (p == 0)
		child_exec(ifname, prog, log_path);
	if (write_pidfile(ifname, p, e)) {
		kill(p, SIGTERM);
		waitpid(p, NULL, 0);
		return -1;
	}
	while (!uapi_alive(sock)) {
		if (waitpid(p, &status, WNOHANG) == p)
			return vn_errf(e, VN_E_IO, "I/O error", "%s %s exited with status %d",
				       prog, ifname, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		if (now_ms() > deadline) {
			kill(p, SIGKILL);
			waitpid(p, NULL, 0);
			return vn_errf(e, VN_E_IO, "I/O error", "%s %s: no UAPI socket after 5 s",
				       prog, ifname);
		}
		tick();
	}
	*pid = p;
	return 0;
}

static pid_t read_pid(const char *ifname)
{
	char path[256], *text;
	struct vn_err e;
	long v;

	wgproc_pidfile(ifname, path, sizeof(path));
	text = vn_read_file(path, NULL, &e);
	if (!text)
		return 0;
	v = strtol(text, NULL, 10);
	free(text);
	return v > 1 ? (pid_t)v : 0;
}

/* True if pid runs wireguard-go for ifname (its argv). */
static bool is_ours(pid_t pid, const char *ifname)
{
	char path[64], *cmd;
	struct vn_err e;
	size_t len = 0;
	bool ours = false;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	cmd = vn_read_file(path, &len, &e);
	if (!cmd)
		return false;
	/* argv[0] mentions wireguard-go, argv[1] is the interface. */
	if (strstr(cmd, "wireguard-go") && strlen(cmd) + 1 < len)
		ours = strcmp(cmd + strlen(cmd) + 1, ifname) == 0;
	free(cmd);
	return ours;
}

pid_t wgproc_running(const char *ifname)
{
	pid_t pid = read_pid(ifname);

	return pid && is_ours(pid, ifname) ? pid : 0;
}

/* True if pid is a zombie (a parent that never reaps must not make us
 * wait for a process that has already exited). */
static bool zombie(pid_t pid)
{
	char path[64], *stat, *close;
	struct vn_err e;
	bool z = false;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	stat = vn_read_file(path, NULL, &e);
	if (!stat)
		return false;
	close = strrchr(stat, ')');
	if (close && close[1] == ' ' && (close[2] == 'Z' || close[2] == 'X'))
		z = true;
	free(stat);
	return z;
}

static bool gone(pid_t pid)
{
	/* Reaps it if it is our child; otherwise asks whether it exists. */
	if (waitpid(pid, NULL, WNOHANG) == pid)
		return true;
	return (kill(pid, 0) && errno == ESRCH) || zombie(pid);
}

/* Waits up to ms for pid to be gone. */
static bool wait_gone(pid_t pid, long ms)
{
	long deadline = now_ms() + ms;

	while (!gone(pid) && now_ms() < deadline)
		tick();
	return gone(pid);
}

/* SIGTERM, 5 s, then SIGKILL, 2 s. */
static int terminate(pid_t pid, const char *ifname, struct vn_err *e)
{
	kill(pid, SIGTERM);
	if (!wait_gone(pid, 5000)) {
		kill(pid, SIGKILL);
		if (!wait_gone(pid, 2000))
			return vn_errf(e, VN_E_IO, "I/O error", "wireguard-go %s (pid %d) does not exit",
				       ifname, (int)pid);
	}
	return 0;
}

/* The pid file and a socket nobody serves any more. */
static void remove_leftovers(const char *ifname)
{
	char path[256], sock[108];

	wgproc_pidfile(ifname, path, sizeof(path));
	unlink(path);
	wg_uapi_path(ifname, sock, sizeof(sock));
	if (!uapi_alive(sock))
		unlink(sock);
}

int wgproc_stop(const char *ifname, bool *stopped, struct vn_err *e)
{
	pid_t pid = wgproc_running(ifname);

	*stopped = false;
	if (pid) {
		if (terminate(pid, ifname, e))
			return -1;
		*stopped = true;
	}
	remove_leftovers(ifname);
	return 0;
}

int wgproc_reap(pid_t pid, const char *ifname, bool *stopped, struct vn_err *e)
{
	*stopped = false;
	if (pid <= 1 || gone(pid))
		goto done;
	*stopped = true;
	if (wait_gone(pid, 2000))	/* its TUN link is gone: it leaves by itself */
		goto done;
	if (is_ours(pid, ifname) && terminate(pid, ifname, e))
		return -1;
done:
	remove_leftovers(ifname);
	return 0;
}
