/* watch.h - `veilnet-policy watch`: a stream of Kubernetes objects on
 * stdin, as `kubectl get --watch -o json` prints them (JSON values one after
 * the other; also {"type", "object"} events from --output-watch-events),
 * kept as a world and applied incrementally after a quiet time.
 *
 * A value that is not valid JSON, or an object that is not valid, is
 * reported on stderr and skipped (the previous version of that object
 * stays). A stream that ends inside a value is reported as truncated once
 * what came before has been applied. The stream is cut into values by
 * struct vn_jsonstream (<veilnet/jsonstream.h>).
 */
#ifndef NETPOL_WATCH_H
#define NETPOL_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <veilnet/err.h>
#include "compile.h"
#include "model.h"

struct watch_opts {
	struct nr_opts rules;
	long debounce_ms;	/* apply after this much quiet */
	long max_delay_ms;	/* ... but never later than this after a change */
	bool quiet;
};

/* Runs until end of input on fd (or SIGINT / SIGTERM). w holds the
 * initial state and is updated in place. Returns 0 at a clean end, -1
 * with e set for a truncated stream or a netfilter socket failure. */
int watch_run(struct np_world *w, const struct watch_opts *o, int fd, struct vn_err *e);

#endif
