#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "sysctl.h"

int sysctl_set(const char *key, const char *value, struct vn_err *e)
{
	char path[256];
	size_t len = strlen(value);
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/%s", key);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return vn_errf(e, VN_E_IO, "I/O error", "open %s: %s", path, strerror(errno));
	if (write(fd, value, len) != (ssize_t)len) {
		vn_errf(e, VN_E_IO, "I/O error", "write %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int sysctl_ensure(const char *key, const char *value, struct vn_err *e)
{
	char path[256], buf[32];
	size_t len = strlen(value);
	ssize_t n = -1;
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/%s", key);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	if (n > 0 && (size_t)n >= len && memcmp(buf, value, len) == 0 &&
	    ((size_t)n == len || buf[len] == '\n'))
		return 0;
	return sysctl_set(key, value, e);
}

int sysctl_set_if6(const char *ifname, const char *name, const char *value, struct vn_err *e)
{
	char key[96];

	snprintf(key, sizeof(key), "net/ipv6/conf/%s/%s", ifname, name);
	return sysctl_set(key, value, e);
}

int sysctl_ensure_if6(const char *ifname, const char *name, const char *value, struct vn_err *e)
{
	char key[96];

	snprintf(key, sizeof(key), "net/ipv6/conf/%s/%s", ifname, name);
	return sysctl_ensure(key, value, e);
}
