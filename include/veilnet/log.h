/* log.h - an optional log file with a level, owned by the program's main.
 *
 * A zeroed struct vn_log logs nothing. Nothing is ever written to stdout,
 * which belongs to protocol output.
 */
#ifndef VEILNET_LOG_H
#define VEILNET_LOG_H

#include <stdio.h>

enum vn_log_level { VN_LOG_ERROR = 1, VN_LOG_WARN, VN_LOG_INFO, VN_LOG_DEBUG };

struct vn_log {
	FILE *f;
	int level;
	const char *tag;	/* e.g. "veilnet" or the container ID */
};

/* Opens path for appending ("-" or "stderr" for stderr). level is
 * "error", "warn", "info" or "debug"; unknown means "info". A file that
 * cannot be opened leaves logging off (returns -1). */
int vn_log_open(struct vn_log *l, const char *path, const char *level, const char *tag);

void vn_log_close(struct vn_log *l);

/* True if a message of this level would be written (so a caller can skip
 * gathering what only the log needs). */
int vn_log_wants(const struct vn_log *l, int level);

void vn_logf(const struct vn_log *l, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
