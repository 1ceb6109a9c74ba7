#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>
#include <veilnet/netns.h>

int vn_netns_open(const char *path, struct vn_err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		vn_errf(e, 5, "I/O error", "open netns %s: %s", path, strerror(errno));
	return fd;
}

int vn_netns_enter(const char *path, struct vn_err *e)
{
	int saved, target;

	saved = vn_netns_open("/proc/thread-self/ns/net", e);
	if (saved < 0)
		return -1;
	target = vn_netns_open(path, e);
	if (target < 0)
		goto fail;
	if (setns(target, CLONE_NEWNET)) {
		vn_errf(e, 5, "I/O error", "setns %s: %s", path, strerror(errno));
		close(target);
		goto fail;
	}
	close(target);
	return saved;
fail:
	close(saved);
	return -1;
}

int vn_netns_leave(int saved_fd, struct vn_err *e)
{
	int ret = 0;

	if (saved_fd < 0)
		return 0;
	if (setns(saved_fd, CLONE_NEWNET))
		ret = vn_errf(e, 5, "I/O error", "setns back: %s", strerror(errno));
	close(saved_fd);
	return ret;
}
