/* bench.h - `cni-test bench`: ADD, CHECK and DEL latency of a plugin over
 * many pods, sequential and with parallel workers, next to a reference
 * plugin run by the same code. Only the plugin's spawn-run-exit time is
 * measured (cnt_exec, spawning as Go's os/exec does); configs and the
 * cache are prepared outside it. Peak RSS is measured apart, on a few
 * traced invocations (peak.h).
 * Runs in its own namespaces (<prefix>-node, <prefix>-p<i>), removed at
 * the end. Prints a markdown table.
 */
#ifndef CNT_BENCH_H
#define CNT_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include "args.h"

/* Latency statistics of n samples (sorted in place). */
struct cnt_stats {
	double median_ms, p99_ms;
};
void cnt_stats_of(uint64_t *ns, size_t n, struct cnt_stats *s);

int cnt_bench(const struct cnt_opts *o);

#endif
