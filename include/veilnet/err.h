/* err.h - a small error value carried up from where a failure is found.
 *
 * Every layer fills one struct vn_err and returns -1; the caller at the top
 * decides how to show it (a CNI error object, a line on stderr, ...).
 * code:    a program-specific number (the plugin uses CNI spec codes).
 * msg:     short, stable text ("invalid configuration").
 * details: what exactly went wrong, naming the object and field.
 */
#ifndef VEILNET_ERR_H
#define VEILNET_ERR_H

#include <stdarg.h>

/* Codes shared by all programs; the numbers are the CNI spec's well-known
 * error codes, so the plugin can pass them through unchanged. */
enum {
	VN_E_INCOMPATIBLE = 1,	/* incompatible CNI version */
	VN_E_UNSUPPORTED = 2,	/* unsupported field */
	VN_E_UNKNOWN = 3,	/* unknown container / object */
	VN_E_ENV = 4,		/* invalid environment variables */
	VN_E_IO = 5,		/* I/O failure */
	VN_E_DECODE = 6,	/* failed to decode content */
	VN_E_INVALID = 7,	/* invalid configuration / input */
	VN_E_AGAIN = 11,	/* try again later */
};

struct vn_err {
	int code;
	char msg[128];
	char details[1024];
};

/* Sets code, msg and printf-style details. Always returns -1. */
int vn_errf(struct vn_err *e, int code, const char *msg, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Prefixes details with "<fmt>: " (used to add context while unwinding).
 * Always returns -1. */
int vn_err_wrap(struct vn_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Resets to "no error". */
void vn_err_clear(struct vn_err *e);

#endif
