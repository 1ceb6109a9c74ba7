/* jsonstream.h - cutting a byte stream into top-level JSON values.
 *
 * `kubectl get --watch -o json` prints JSON values one after the other,
 * pretty-printed or not, with or without blanks between them. A struct
 * vn_jsonstream buffers what was read so far (vn_jsonstream_feed) and hands
 * out each value as soon as it is complete (vn_jsonstream_next). It tracks
 * strings, escapes and {} / [] nesting only: it does not validate the JSON
 * (parse each value with jansson). Bytes between values that cannot start
 * one are handed out as junk, so the caller can report and skip them.
 *
 * Start from a zeroed struct (`struct vn_jsonstream s = { 0 };`), set
 * objects_only if wanted, and release it with vn_jsonstream_free. The
 * struct owns its buffer.
 */
#ifndef VEILNET_JSONSTREAM_H
#define VEILNET_JSONSTREAM_H

#include <stdbool.h>
#include <stddef.h>

struct vn_jsonstream {
	char *buf;		/* buffered input, NUL-terminated */
	size_t len, cap;
	size_t pos;		/* next byte to scan */
	size_t start;		/* start of the value being scanned (or of what is left) */
	int depth;		/* {} and [] nesting, 0 between values */
	bool in_str, esc;
	bool objects_only;	/* set by the caller: only '{' starts a value, '[' is junk */
};

/* Appends n bytes. Returns 0, or -1 when out of memory. */
int vn_jsonstream_feed(struct vn_jsonstream *s, const char *data, size_t n);

/* The next complete value: returns 1 with [*p, *p + *n) set to it; 0 if
 * more input is needed; -1 for junk: [*p, *p + *n) are the bytes from the
 * first non-blank one up to the start of the next value (or the end of
 * the input buffered so far), now skipped. The pointers stay valid until
 * the next vn_jsonstream_feed; the buffer is NUL-terminated after the
 * input buffered so far. */
int vn_jsonstream_next(struct vn_jsonstream *s, const char **p, size_t *n);

/* The number of non-blank bytes of an unfinished value buffered: non-zero
 * at the end of the input means the stream was truncated. */
size_t vn_jsonstream_pending(const struct vn_jsonstream *s);

/* Frees the buffer and zeroes the struct (objects_only included). */
void vn_jsonstream_free(struct vn_jsonstream *s);

#endif
