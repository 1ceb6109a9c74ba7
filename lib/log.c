#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <veilnet/log.h>

static int parse_level(const char *s)
{
	static const char *names[] = { "error", "warn", "info", "debug" };

	for (int i = 0; s && i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return i + 1;
	return VN_LOG_INFO;
}

int vn_log_open(struct vn_log *l, const char *path, const char *level, const char *tag)
{
	memset(l, 0, sizeof(*l));
	l->tag = tag ? tag : "";
	l->level = parse_level(level);
	if (!path)
		return 0;
	if (strcmp(path, "-") == 0 || strcmp(path, "stderr") == 0) {
		l->f = stderr;
		return 0;
	}
	l->f = fopen(path, "ae");
	return l->f ? 0 : -1;
}

void vn_log_close(struct vn_log *l)
{
	if (l->f && l->f != stderr)
		fclose(l->f);
	l->f = NULL;
}

int vn_log_wants(const struct vn_log *l, int level)
{
	return l && l->f && level <= l->level;
}

void vn_logf(const struct vn_log *l, int level, const char *fmt, ...)
{
	static const char *names[] = { "", "ERROR", "WARN", "INFO", "DEBUG" };
	struct timespec ts;
	struct tm tm;
	char stamp[32];
	va_list ap;

	if (!vn_log_wants(l, level))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(l->f, "%s.%03ldZ %s [%d] %s: ", stamp, ts.tv_nsec / 1000000,
		names[level], (int)getpid(), l->tag);
	va_start(ap, fmt);
	vfprintf(l->f, fmt, ap);
	va_end(ap);
	fputc('\n', l->f);
	fflush(l->f);
}
