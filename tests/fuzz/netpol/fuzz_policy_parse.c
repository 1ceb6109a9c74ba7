/* libFuzzer target: Kubernetes JSON through the whole pure pipeline of
 * veilnet-policy: parse (Lists, objects, watch events), compile for all
 * pods and for one node, render the nft text, and the explain matrix.
 * None of it may crash, leak or read out of bounds on any input. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "../../../netpol/compile.h"
#include "../../../netpol/parse.h"
#include "../../../netpol/report.h"

static void render_all(const struct np_world *w, const char *node)
{
	struct nr_opts o = { .node = node, .log_group = node ? 3 : -1 };
	struct nr_ruleset rs;
	FILE *f = fopen("/dev/null", "w");

	if (!f)
		return;
	if (!nr_compile(w, &o, &rs)) {
		nr_render(&rs, f);
		nr_ruleset_free(&rs);
	}
	fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct np_world w = { 0 };
	struct vn_err e;
	FILE *f;

	if (size > 1 << 16)
		return 0;
	if (np_load_text(&w, (const char *)data, size, "fuzz", &e) == 0 || w.n_pods || w.n_pols) {
		render_all(&w, NULL);
		render_all(&w, "n1");
		f = fopen("/dev/null", "w");
		if (f && w.n_pods <= 16) {
			np_report_matrix(f, &w, NULL, 80, 6, &e);
			np_report_matrix(f, &w, NULL, 53, 17, &e);
		}
		if (f)
			fclose(f);
	}
	np_world_free(&w);
	return 0;
}
