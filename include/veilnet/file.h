/* file.h - whole-file reads and crash-safe writes. */
#ifndef VEILNET_FILE_H
#define VEILNET_FILE_H

#include <stddef.h>
#include <sys/types.h>
#include <veilnet/err.h>

/* Creates dir and its parents with the given mode; existing dirs are fine.
 * Returns 0, or -1 with e set (code 5). */
int vn_mkdir_p(const char *dir, mode_t mode, struct vn_err *e);

/* Writes len bytes to path atomically: a temp file in the same directory,
 * fsync, rename over path, fsync of the directory. A crash at any instant
 * leaves either the old or the new content. Returns 0, or -1 with e set. */
int vn_write_atomic(const char *path, const void *data, size_t len,
		    mode_t mode, struct vn_err *e);

/* Writes all len bytes of buf to fd, going on after short writes and
 * EINTR. On a socket it uses send(MSG_NOSIGNAL): a peer that went away
 * gives EPIPE, not SIGPIPE. Returns 0, or -1 with errno set. */
int vn_write_all(int fd, const void *buf, size_t len);

/* fsyncs the directory that holds path (so that a rename or link into it
 * survives a crash). Returns 0, or -1 with errno set. */
int vn_fsync_parent(const char *path);

/* Reads a whole file (or stdin for "-") into a NUL-terminated malloc'd
 * buffer owned by the caller. Returns the buffer, or NULL with e set. */
char *vn_read_file(const char *path, size_t *len, struct vn_err *e);

/* Reads all of fd into a NUL-terminated malloc'd buffer owned by the
 * caller. Returns the buffer, or NULL with e set. */
char *vn_read_fd(int fd, size_t *len, struct vn_err *e);

#endif
