#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <veilnet/file.h>
#include <veilnet/netns.h>
#include "link.h"
#include "ns.h"

int cnt_ns_path(const char *name, char *buf, size_t len, struct vn_err *e)
{
	int n = strchr(name, '/') ? snprintf(buf, len, "%s", name)
				  : snprintf(buf, len, "%s/%s", CNT_NETNS_DIR, name);

	if (!*name || n < 0 || (size_t)n >= len)
		return vn_errf(e, VN_E_INVALID, "invalid arguments", "bad netns name '%s'", name);
	return 0;
}

bool cnt_ns_exists(const char *name)
{
	char path[PATH_MAX];

	return cnt_ns_path(name, path, sizeof(path), NULL) == 0 && access(path, F_OK) == 0;
}

ino_t cnt_ns_inode(const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	if (cnt_ns_path(name, path, sizeof(path), NULL) || stat(path, &st))
		return 0;
	return st.st_ino;
}

/* Makes CNT_NETNS_DIR a shared mount point, as ip-netns does, so that
 * unmounting a netns file reaches every mount namespace. */
static int shared_dir(struct vn_err *e)
{
	if (vn_mkdir_p(CNT_NETNS_DIR, 0755, e))
		return -1;
	if (mount("", CNT_NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) == 0)
		return 0;
	if (errno == EINVAL &&
	    mount(CNT_NETNS_DIR, CNT_NETNS_DIR, "none", MS_BIND | MS_REC, NULL) == 0 &&
	    mount("", CNT_NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) == 0)
		return 0;
	return vn_errf(e, VN_E_IO, "I/O error", "make %s a shared mount: %s", CNT_NETNS_DIR,
		       strerror(errno));
}

/* In the fresh namespace: lo up. */
static int setup_new(struct vn_err *e)
{
	struct nl_sock *sk = cnt_nl_open(e);
	int rc;

	if (!sk)
		return -1;
	rc = cnt_link_up(sk, 1, e);
	cnt_nl_close(sk);
	return rc;
}

int cnt_ns_create(const char *name, struct vn_err *e)
{
	char path[PATH_MAX];
	int fd, saved, rc = -1;

	if (strchr(name, '/') || cnt_ns_path(name, path, sizeof(path), e))
		return vn_errf(e, VN_E_INVALID, "invalid arguments", "bad netns name '%s'", name);
	if (shared_dir(e))
		return -1;
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0)
		return vn_errf(e, VN_E_IO, "I/O error", "create %s: %s", path, strerror(errno));
	close(fd);
	saved = vn_netns_open("/proc/thread-self/ns/net", e);
	if (saved < 0)
		goto out_unlink;
	if (unshare(CLONE_NEWNET)) {
		vn_errf(e, VN_E_IO, "I/O error", "unshare: %s", strerror(errno));
		close(saved);
		goto out_unlink;
	}
	if (mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL))
		vn_errf(e, VN_E_IO, "I/O error", "bind mount %s: %s", path, strerror(errno));
	else
		rc = setup_new(e);
	if (vn_netns_leave(saved, rc ? NULL : e))
		rc = -1;
	if (rc == 0)
		return 0;
	umount2(path, MNT_DETACH);
out_unlink:
	unlink(path);
	return -1;
}

int cnt_ns_delete(const char *name, struct vn_err *e)
{
	char path[PATH_MAX];

	if (cnt_ns_path(name, path, sizeof(path), e))
		return -1;
	if (umount2(path, MNT_DETACH) && errno != EINVAL && errno != ENOENT)
		return vn_errf(e, VN_E_IO, "I/O error", "umount %s: %s", path, strerror(errno));
	if (unlink(path) && errno != ENOENT)
		return vn_errf(e, VN_E_IO, "I/O error", "remove %s: %s", path, strerror(errno));
	return 0;
}

static bool in_set(ino_t ino, const ino_t *inos, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (inos[i] && inos[i] == ino)
			return true;
	return false;
}

/* One pass over /proc: signals (if sig) the processes in the set and
 * returns how many there are. */
static int scan(const ino_t *inos, size_t n, int sig)
{
	char path[64];
	struct dirent *d;
	struct stat st;
	int found = 0;
	DIR *dp = opendir("/proc");

	if (!dp)
		return 0;
	while ((d = readdir(dp))) {
		char *end;
		long pid = strtol(d->d_name, &end, 10);

		if (*end || pid <= 0 || pid == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/ns/net", pid);
		if (stat(path, &st) || !in_set(st.st_ino, inos, n))
			continue;
		found++;
		if (sig)
			kill((pid_t)pid, sig);
	}
	closedir(dp);
	return found;
}

int cnt_ns_kill(const ino_t *inos, size_t n)
{
	struct timespec ts = {0, 10 * 1000 * 1000};
	int killed = scan(inos, n, SIGKILL);

	for (int i = 0; killed && i < 500 && scan(inos, n, 0); i++)
		nanosleep(&ts, NULL);
	return killed;
}

int cnt_ns_exec(const char *name, char **argv, struct vn_err *e)
{
	char path[PATH_MAX];
	int saved;

	if (cnt_ns_path(name, path, sizeof(path), e))
		return -1;
	saved = vn_netns_enter(path, e);
	if (saved < 0)
		return -1;
	close(saved);
	execvp(argv[0], argv);
	return vn_errf(e, VN_E_IO, "I/O error", "exec %s: %s", argv[0], strerror(errno));
}

int cnt_sysctl(const char *key, const char *val, struct vn_err *e)
{
	char path[PATH_MAX];
	int fd;
	ssize_t w;

	snprintf(path, sizeof(path), "/proc/sys/%s", key);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return vn_errf(e, VN_E_IO, "I/O error", "open %s: %s", path, strerror(errno));
	w = write(fd, val, strlen(val));
	close(fd);
	if (w != (ssize_t)strlen(val))
		return vn_errf(e, VN_E_IO, "I/O error", "write %s: %s", path, strerror(errno));
	return 0;
}

int cnt_ns_run(const char *name, int (*fn)(void *ctx, struct vn_err *e), void *ctx,
	       struct vn_err *e)
{
	char path[PATH_MAX];
	int saved, rc;

	if (cnt_ns_path(name, path, sizeof(path), e))
		return -1;
	saved = vn_netns_enter(path, e);
	if (saved < 0)
		return -1;
	rc = fn(ctx, e);
	if (vn_netns_leave(saved, rc ? NULL : e))
		rc = -1;
	return rc;
}
