/* engine.h - compile a world and bring the kernel table in line with it.
 *
 * One struct engine per program run; it owns the netfilter socket and, in
 * watch mode, what the last transaction loaded (so the next one is a diff
 * without reading the whole table back). The first apply, and any apply
 * after a failure, reads the table back from the kernel instead.
 */
#ifndef NETPOL_ENGINE_H
#define NETPOL_ENGINE_H

#include <stdbool.h>
#include <veilnet/err.h>
#include <veilnet/nl.h>
#include "compile.h"
#include "kernel.h"
#include "model.h"

struct engine {
	struct vn_nl nl;
	struct nr_opts opts;
	long fail_at;		/* VEILNET_POLICY_FAIL_AT, 0: off */
	struct nr_ruleset have;	/* what the kernel holds, if have_valid */
	bool have_valid;
	bool exists;
};

struct engine_report {
	struct nr_info info;
	struct nk_stats stats;
	double compile_ms, read_ms, commit_ms;
};

/* Opens the netfilter socket in the current network namespace. */
int engine_open(struct engine *en, const struct nr_opts *o, struct vn_err *e);
void engine_close(struct engine *en);

/* Compiles w and applies it in one transaction. Returns 0, or -1 with e
 * set (the kernel keeps the previous ruleset). */
int engine_apply(struct engine *en, const struct np_world *w, struct engine_report *rep,
		 struct vn_err *e);

/* One line describing an apply, for people and for the bench. */
void engine_report_line(const struct engine_report *rep, char *buf, size_t len);

/* Milliseconds on the monotonic clock. */
double engine_now_ms(void);

#endif
