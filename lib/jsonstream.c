/* jsonstream.c - top-level JSON values out of a byte stream. */
#include <stdlib.h>
#include <string.h>
#include <veilnet/jsonstream.h>

#define FIRST_CAP 65536

/* Drops the consumed bytes before start. */
static void compact(struct vn_jsonstream *s)
{
	if (s->start == 0)
		return;
	memmove(s->buf, s->buf + s->start, s->len - s->start);
	s->len -= s->start;
	s->pos -= s->start;
	s->start = 0;
}

int vn_jsonstream_feed(struct vn_jsonstream *s, const char *data, size_t n)
{
	compact(s);
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : FIRST_CAP;
		char *grown;

		while (cap < s->len + n + 1)
			cap *= 2;
		grown = realloc(s->buf, cap);
		if (!grown)
			return -1;
		s->buf = grown;
		s->cap = cap;
	}
	if (n)
		memcpy(s->buf + s->len, data, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return 0;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool opens_value(const struct vn_jsonstream *s, char c)
{
	return c == '{' || (c == '[' && !s->objects_only);
}

/* Between values: skips blanks, then junk up to the next value start.
 * Returns -1 with [*p, *p + *n) set after skipping junk, 0 otherwise. */
static int skip_between(struct vn_jsonstream *s, const char **p, size_t *n)
{
	size_t from;

	while (s->pos < s->len && is_blank(s->buf[s->pos]))
		s->pos++;
	from = s->pos;
	while (s->pos < s->len && !opens_value(s, s->buf[s->pos]))
		s->pos++;
	s->start = s->pos;
	if (s->pos == from)
		return 0;
	*p = s->buf + from;
	*n = s->pos - from;
	return -1;
}

/* Scans one byte of a value; returns true when the value closed. */
static bool scan_byte(struct vn_jsonstream *s, char c)
{
	if (s->in_str) {
		if (s->esc)
			s->esc = false;
		else if (c == '\\')
			s->esc = true;
		else if (c == '"')
			s->in_str = false;
		return false;
	}
	if (c == '"')
		s->in_str = true;
	else if (c == '{' || c == '[')
		s->depth++;
	else if (c == '}' || c == ']')
		return --s->depth == 0;
	return false;
}

int vn_jsonstream_next(struct vn_jsonstream *s, const char **p, size_t *n)
{
	if (s->depth == 0 && skip_between(s, p, n))
		return -1;
	while (s->pos < s->len) {
		if (scan_byte(s, s->buf[s->pos++])) {
			*p = s->buf + s->start;
			*n = s->pos - s->start;
			s->start = s->pos;
			return 1;
		}
	}
	return 0;
}

size_t vn_jsonstream_pending(const struct vn_jsonstream *s)
{
	size_t n = 0;

	for (size_t i = s->start; i < s->len; i++)
		n += !is_blank(s->buf[i]);
	return n;
}

void vn_jsonstream_free(struct vn_jsonstream *s)
{
	free(s->buf);
	memset(s, 0, sizeof(*s));
}
