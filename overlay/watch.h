/* watch.h - `veilnet-mesh watch`: a stream of Node objects in, reconciles
 * out.
 *
 * The input is what `kubectl get nodes --watch -o json` prints: JSON
 * objects one after the other (pretty-printed or not), either Node
 * objects, a NodeList/List (replaces every node known), or watch events
 * {"type": "ADDED"|"MODIFIED"|"DELETED"|"BOOKMARK"|"ERROR", "object": ...}
 * (`--output-watch-events`).
 *
 * The stream is cut into objects by struct vn_jsonstream
 * (<veilnet/jsonstream.h>, objects only: a top-level '[' is junk). The
 * event handling is pure and unit-tested; the loop
 * reads stdin with poll(2), applies objects as they come, and reconciles
 * once the input has been quiet for the debounce delay (or at most
 * max_delay after the first unreconciled change). A malformed object is
 * reported on stderr and skipped; a stream that ends inside an object is
 * an error (exit status 1) after the complete objects were reconciled.
 */
#ifndef VEILNET_OVERLAY_WATCH_H
#define VEILNET_OVERLAY_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include "mesh.h"
#include "reconcile.h"

/* Applies one JSON text (a Node, a NodeList or a watch event) to m.
 * Returns 1 if m changed, 0 if not, -1 with e set if malformed (m is left
 * as it was). */
int watch_apply(struct mesh *m, const char *text, size_t len, struct vn_err *e);

struct watch_opts {
	int debounce_ms;	/* quiet time before a reconcile */
	int max_delay_ms;	/* longest wait after the first change */
	int retry_ms;		/* after a failed reconcile */
	int in_fd;		/* the stream (stdin) */
};

/* Runs until the stream ends. Returns 0 (clean end), or 1 (truncated
 * stream or a last reconcile that failed). */
int watch_run(const struct mesh_cfg *c, const struct watch_opts *o);

#endif
