#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include "engine.h"
#include "parse.h"
#include "watch.h"

#define NO_VALUE ((size_t)-1)
#define RETRY_MS 1000

int framer_feed(struct framer *f, const char *data, size_t n)
{
	if (f->cap == 0)
		f->start = NO_VALUE;
	/* Drop what was consumed before growing. */
	if (f->pos > 0 && f->start == NO_VALUE) {
		memmove(f->buf, f->buf + f->pos, f->len - f->pos);
		f->len -= f->pos;
		f->pos = 0;
	} else if (f->start != NO_VALUE && f->start > 0) {
		memmove(f->buf, f->buf + f->start, f->len - f->start);
		f->len -= f->start;
		f->pos -= f->start;
		f->start = 0;
	}
	if (f->len + n + 1 > f->cap) {
		size_t cap = f->cap ? f->cap : 65536;
		char *p;

		while (f->len + n + 1 > cap)
			cap *= 2;
		p = realloc(f->buf, cap);
		if (!p)
			return -1;
		f->buf = p;
		f->cap = cap;
	}
	memcpy(f->buf + f->len, data, n);
	f->len += n;
	f->buf[f->len] = '\0';
	return 0;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Scans inside a value; returns true when it ends at f->pos. */
static bool scan_value(struct framer *f)
{
	while (f->pos < f->len) {
		char c = f->buf[f->pos++];

		if (f->in_str) {
			if (f->esc)
				f->esc = false;
			else if (c == '\\')
				f->esc = true;
			else if (c == '"')
				f->in_str = false;
			continue;
		}
		if (c == '"')
			f->in_str = true;
		else if (c == '{' || c == '[')
			f->depth++;
		else if ((c == '}' || c == ']') && --f->depth == 0)
			return true;
	}
	return false;
}

int framer_next(struct framer *f, const char **p, size_t *n)
{
	if (f->cap == 0)
		return 0;
	if (f->start == NO_VALUE) {
		size_t junk;

		while (f->pos < f->len && blank(f->buf[f->pos]))
			f->pos++;
		junk = f->pos;
		while (f->pos < f->len && f->buf[f->pos] != '{' && f->buf[f->pos] != '[')
			f->pos++;
		if (f->pos > junk) {
			size_t end = f->pos;

			/* Junk ends at a value start or at the end of what we have. */
			while (end > junk && blank(f->buf[end - 1]))
				end--;
			*p = f->buf + junk;
			*n = end - junk;
			return -1;
		}
		if (f->pos == f->len)
			return 0;
		f->start = f->pos;
		f->depth = 0;
		f->in_str = f->esc = false;
	}
	if (!scan_value(f))
		return 0;
	*p = f->buf + f->start;
	*n = f->pos - f->start;
	f->start = NO_VALUE;
	return 1;
}

size_t framer_pending(const struct framer *f)
{
	size_t n = 0;

	if (f->cap == 0)
		return 0;
	for (size_t i = f->start == NO_VALUE ? f->pos : f->start; i < f->len; i++)
		n += !blank(f->buf[i]);
	return n;
}

void framer_free(struct framer *f)
{
	free(f->buf);
	memset(f, 0, sizeof(*f));
}

/* ---- the loop ---- */

struct watcher {
	struct np_world *w;
	const struct watch_opts *o;
	struct engine en;
	struct framer fr;
	bool pending;
	double first_at, deadline;
	size_t values;
};

static void note_change(struct watcher *wt)
{
	double now = engine_now_ms();

	if (!wt->pending) {
		wt->pending = true;
		wt->first_at = now;
	}
	wt->deadline = now + (double)wt->o->debounce_ms;
	if (wt->deadline > wt->first_at + (double)wt->o->max_delay_ms)
		wt->deadline = wt->first_at + (double)wt->o->max_delay_ms;
}

static void one_value(struct watcher *wt, const char *p, size_t n)
{
	struct vn_err e = { 0 };
	json_error_t je;
	size_t changed = 0;
	json_t *j = json_loadb(p, n, JSON_REJECT_DUPLICATES, &je);

	wt->values++;
	if (!j) {
		fprintf(stderr, "veilnet-policy watch: value %zu: malformed JSON (line %d column "
			"%d: %s); skipped\n", wt->values, je.line, je.column, je.text);
		return;
	}
	if (np_apply_value(wt->w, j, &changed, &e))
		fprintf(stderr, "veilnet-policy watch: value %zu: %s; skipped\n", wt->values,
			e.details);
	else if (changed)
		note_change(wt);
	json_decref(j);
}

static void drain(struct watcher *wt)
{
	const char *p;
	size_t n;
	int r;

	while ((r = framer_next(&wt->fr, &p, &n)) != 0) {
		if (r > 0)
			one_value(wt, p, n);
		else
			fprintf(stderr, "veilnet-policy watch: %zu bytes outside any JSON object "
				"(\"%.*s\"); skipped\n", n, n > 40 ? 40 : (int)n, p);
	}
}

static void apply_now(struct watcher *wt)
{
	struct engine_report rep;
	struct vn_err e = { 0 };
	char line[1024];

	if (engine_apply(&wt->en, wt->w, &rep, &e)) {
		fprintf(stderr, "veilnet-policy watch: %s; retrying in %d ms\n", e.details, RETRY_MS);
		wt->first_at = engine_now_ms();
		wt->deadline = wt->first_at + RETRY_MS;
		return;
	}
	wt->pending = false;
	if (!wt->o->quiet) {
		engine_report_line(&rep, line, sizeof(line));
		printf("%s\n", line);
		fflush(stdout);
	}
}

static int signal_fd(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, old))
		return -1;
	return signalfd(-1, &set, SFD_CLOEXEC);
}

/* Waits for input or the deadline. Returns bytes read, 0 at end of input
 * or on a signal (*stop), -1 on a read error. */
static ssize_t wait_input(struct watcher *wt, int fd, int sfd, char *buf, size_t len, bool *stop)
{
	struct pollfd pf[2] = { { .fd = fd, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
	int timeout = -1;

	if (wt->pending) {
		double left = wt->deadline - engine_now_ms();

		timeout = left > 0 ? (int)left + 1 : 0;
	}
	if (poll(pf, sfd >= 0 ? 2 : 1, timeout) < 0)
		return errno == EINTR ? -2 : -1;
	if (sfd >= 0 && (pf[1].revents & POLLIN)) {
		struct signalfd_siginfo si;

		/* Consume it, or it would kill us when the mask is restored. */
		if (read(sfd, &si, sizeof(si)) < 0)
			return -1;
		*stop = true;
		return 0;
	}
	if (!(pf[0].revents & (POLLIN | POLLHUP | POLLERR)))
		return -2;	/* timeout */
	return read(fd, buf, len);
}

static int run(struct watcher *wt, int fd, int sfd, struct vn_err *e)
{
	char buf[65536];
	bool stop = false;

	for (;;) {
		ssize_t n = wait_input(wt, fd, sfd, buf, sizeof(buf), &stop);

		if (n == -1 && errno != EINTR && errno != EAGAIN)
			return vn_errf(e, VN_E_IO, "I/O error", "reading stdin: %s", strerror(errno));
		if (n > 0) {
			if (framer_feed(&wt->fr, buf, (size_t)n))
				return vn_errf(e, VN_E_IO, "I/O error", "out of memory");
			drain(wt);
		}
		if (wt->pending && (n == 0 || engine_now_ms() >= wt->deadline))
			apply_now(wt);
		if (n == 0)
			break;
	}
	if (stop)
		return 0;
	if (framer_pending(&wt->fr))
		return vn_errf(e, VN_E_DECODE, "decoding failure",
			       "truncated stream: input ended inside a JSON value (%zu bytes "
			       "unparsed after %zu values); what came before is applied",
			       framer_pending(&wt->fr), wt->values);
	if (wt->pending)
		return vn_errf(e, VN_E_IO, "I/O error", "the last changes could not be applied");
	return 0;
}

int watch_run(struct np_world *w, const struct watch_opts *o, int fd, struct vn_err *e)
{
	struct watcher wt = { .w = w, .o = o };
	sigset_t old;
	int sfd, rc;

	if (engine_open(&wt.en, &o->rules, e))
		return -1;
	sfd = signal_fd(&old);
	if (w->n_nss || w->n_pods || w->n_pols)
		note_change(&wt);
	rc = run(&wt, fd, sfd, e);
	if (sfd >= 0) {
		close(sfd);
		sigprocmask(SIG_SETMASK, &old, NULL);
	}
	framer_free(&wt.fr);
	engine_close(&wt.en);
	return rc;
}
