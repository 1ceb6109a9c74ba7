#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/netlink.h>
#include "engine.h"

double engine_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int engine_open(struct engine *en, const struct nr_opts *o, struct vn_err *e)
{
	const char *fail = getenv("VEILNET_POLICY_FAIL_AT");

	memset(en, 0, sizeof(*en));
	en->opts = *o;
	en->fail_at = fail ? strtol(fail, NULL, 10) : 0;
	return vn_nl_open(&en->nl, NETLINK_NETFILTER, e);
}

void engine_close(struct engine *en)
{
	nr_ruleset_free(&en->have);
	vn_nl_close(&en->nl);
}

static int addr_cmp(const void *a, const void *b)
{
	return vn_addr_cmp(a, b);
}

/* Every pod address the world knows, sorted. */
static struct vn_addr *known_addrs(const struct np_world *w, size_t *n)
{
	size_t total = 0;
	struct vn_addr *v;

	for (size_t i = 0; i < w->n_pods; i++)
		total += w->pods[i].n_ips;
	v = calloc(total + 1, sizeof(*v));
	if (!v)
		return NULL;
	*n = 0;
	for (size_t i = 0; i < w->n_pods; i++)
		for (size_t j = 0; j < w->pods[i].n_ips; j++)
			v[(*n)++] = w->pods[i].ips[j];
	qsort(v, *n, sizeof(*v), addr_cmp);
	return v;
}

static int refresh_have(struct engine *en, struct vn_err *e)
{
	if (en->have_valid)
		return nk_read_newpod(&en->nl, &en->have, e);
	nr_ruleset_free(&en->have);
	if (nk_read(&en->nl, &en->have, &en->exists, e))
		return -1;
	en->have_valid = true;
	return 0;
}

int engine_apply(struct engine *en, const struct np_world *w, struct engine_report *rep,
		 struct vn_err *e)
{
	struct nr_ruleset want;
	struct vn_addr *known = NULL;
	size_t n_known = 0;
	double t0 = engine_now_ms(), t1, t2;
	int rc = -1;

	memset(rep, 0, sizeof(*rep));
	if (nr_compile(w, &en->opts, &want))
		return vn_errf(e, VN_E_IO, "I/O error", "compile: out of memory");
	rep->info = want.info;
	t1 = engine_now_ms();
	rep->compile_ms = t1 - t0;
	if (refresh_have(en, e))
		goto out;
	known = known_addrs(w, &n_known);
	if (!known || nk_carry_newpod(&want, &en->have, known, n_known)) {
		vn_errf(e, VN_E_IO, "I/O error", "out of memory");
		goto out;
	}
	t2 = engine_now_ms();
	rep->read_ms = t2 - t1;
	if (nk_apply(&en->nl, &want, &en->have, en->exists, en->fail_at, &rep->stats, e)) {
		/* Whatever we believed, re-read the kernel before the next try. */
		en->have_valid = false;
		goto out;
	}
	rep->commit_ms = engine_now_ms() - t2;
	nr_ruleset_free(&en->have);
	en->have = want;
	memset(&want, 0, sizeof(want));
	en->exists = true;
	rc = 0;
out:
	free(known);
	nr_ruleset_free(&want);
	return rc;
}

void engine_report_line(const struct engine_report *r, char *buf, size_t len)
{
	const struct nk_stats *s = &r->stats;

	snprintf(buf, len,
		 "applied: %zu policies, %zu pods (%zu enforced here), %zu profiles; "
		 "%zu rules, %zu set elements; transaction: %zu messages%s, "
		 "+%zu/-%zu elements, +%zu rules, chains +%zu/-%zu/~%zu, sets +%zu/-%zu; "
		 "compile %.1f ms, read %.1f ms, commit %.1f ms",
		 r->info.policies, r->info.pods, r->info.local_pods, r->info.profiles,
		 r->info.rules, r->info.elements, s->messages, s->rebuilt ? " (table rebuilt)" : "",
		 s->elems_added, s->elems_deleted, s->rules_added, s->chains_added,
		 s->chains_deleted, s->chains_rewritten, s->sets_added, s->sets_deleted,
		 r->compile_ms, r->read_ms, r->commit_ms);
}
