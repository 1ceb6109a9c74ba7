#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <veilnet/jsonstream.h>
#include "engine.h"
#include "parse.h"
#include "watch.h"

#define RETRY_MS 1000

struct watcher {
	struct np_world *w;
	const struct watch_opts *o;
	struct engine en;
	struct vn_jsonstream js;
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

/* Reports junk between values, without its trailing blanks. */
static void junk(const char *p, size_t n)
{
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\n' || p[n - 1] == '\r'))
		n--;
	fprintf(stderr, "veilnet-policy watch: %zu bytes outside any JSON object "
		"(\"%.*s\"); skipped\n", n, n > 40 ? 40 : (int)n, p);
}

static void drain(struct watcher *wt)
{
	const char *p;
	size_t n;
	int r;

	while ((r = vn_jsonstream_next(&wt->js, &p, &n)) != 0) {
		if (r > 0)
			one_value(wt, p, n);
		else
			junk(p, n);
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
			if (vn_jsonstream_feed(&wt->js, buf, (size_t)n))
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
	if (vn_jsonstream_pending(&wt->js))
		return vn_errf(e, VN_E_DECODE, "decoding failure",
			       "truncated stream: input ended inside a JSON value (%zu bytes "
			       "unparsed after %zu values); what came before is applied",
			       vn_jsonstream_pending(&wt->js), wt->values);
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
	vn_jsonstream_free(&wt.js);
	engine_close(&wt.en);
	return rc;
}
