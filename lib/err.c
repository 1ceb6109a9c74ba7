#include <stdio.h>
#include <string.h>
#include <veilnet/err.h>

int vn_errf(struct vn_err *e, int code, const char *msg, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return -1;
	e->code = code;
	snprintf(e->msg, sizeof(e->msg), "%s", msg);
	va_start(ap, fmt);
	vsnprintf(e->details, sizeof(e->details), fmt, ap);
	va_end(ap);
	return -1;
}

int vn_err_wrap(struct vn_err *e, const char *fmt, ...)
{
	char prefix[256], old[sizeof(e->details)];
	va_list ap;

	if (!e)
		return -1;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, e->details, sizeof(old));
	/* Truncation is fine: details are for people, cut at the end. */
	size_t n = strnlen(prefix, sizeof(prefix) - 1);	/* < sizeof(details) - 2 */

	memcpy(e->details, prefix, n);
	memcpy(e->details + n, ": ", 2);
	memcpy(e->details + n + 2, old, sizeof(e->details) - n - 3);
	e->details[sizeof(e->details) - 1] = '\0';
	return -1;
}

void vn_err_clear(struct vn_err *e)
{
	memset(e, 0, sizeof(*e));
}
