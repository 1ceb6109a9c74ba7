#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <veilnet/file.h>

#define IO_ERR 5

int vn_mkdir_p(const char *dir, mode_t mode, struct vn_err *e)
{
	char buf[PATH_MAX];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(buf))
		return vn_errf(e, IO_ERR, "I/O error", "bad directory path '%s'", dir);
	memcpy(buf, dir, n + 1);
	for (char *p = buf + 1; ; p++) {
		char c = *p;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) && errno != EEXIST)
			return vn_errf(e, IO_ERR, "I/O error", "mkdir %s: %s", buf, strerror(errno));
		*p = c;
		if (!c)
			return 0;
	}
}

/* send() with MSG_NOSIGNAL, so that a socket whose peer went away gives
 * EPIPE rather than SIGPIPE; write() for anything that is not a socket. */
static ssize_t write_some(int fd, const char *p, size_t len, bool *not_sock)
{
	ssize_t w;

	if (*not_sock)
		return write(fd, p, len);
	w = send(fd, p, len, MSG_NOSIGNAL);
	if (w < 0 && errno == ENOTSOCK) {
		*not_sock = true;
		return write(fd, p, len);
	}
	return w;
}

int vn_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	bool not_sock = false;

	while (len) {
		ssize_t w = write_some(fd, p, len, &not_sock);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int vn_fsync_parent(const char *path)
{
	char buf[PATH_MAX];
	int fd, ret;

	snprintf(buf, sizeof(buf), "%s", path);
	fd = open(dirname(buf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = fsync(fd);
	close(fd);
	return ret;
}

int vn_write_atomic(const char *path, const void *data, size_t len,
		    mode_t mode, struct vn_err *e)
{
	char tmp[PATH_MAX];
	int fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= sizeof(tmp))
		return vn_errf(e, IO_ERR, "I/O error", "path too long: %s", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return vn_errf(e, IO_ERR, "I/O error", "create %s: %s", tmp, strerror(errno));
	if (vn_write_all(fd, data, len) || fsync(fd))
		goto fail;
	if (close(fd)) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path))
		goto fail;
	if (vn_fsync_parent(path))
		return vn_errf(e, IO_ERR, "I/O error", "fsync directory of %s: %s",
			       path, strerror(errno));
	return 0;
fail:
	vn_errf(e, IO_ERR, "I/O error", "write %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}

char *vn_read_fd(int fd, size_t *len, struct vn_err *e)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap), *grown;

	if (!buf)
		goto oom;
	for (;;) {
		ssize_t r;

		if (n + 1 >= cap) {
			grown = realloc(buf, cap * 2);
			if (!grown)
				goto oom;
			buf = grown;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			vn_errf(e, IO_ERR, "I/O error", "read: %s", strerror(errno));
			free(buf);
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
oom:
	free(buf);
	vn_errf(e, IO_ERR, "I/O error", "out of memory");
	return NULL;
}

char *vn_read_file(const char *path, size_t *len, struct vn_err *e)
{
	char *buf;
	int fd;

	if (strcmp(path, "-") == 0)
		return vn_read_fd(STDIN_FILENO, len, e);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		vn_errf(e, IO_ERR, "I/O error", "open %s: %s", path, strerror(errno));
		return NULL;
	}
	buf = vn_read_fd(fd, len, e);
	close(fd);
	if (!buf)
		vn_err_wrap(e, "%s", path);
	return buf;
}
