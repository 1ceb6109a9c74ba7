/* run.h - running CNI plugins the way a runtime (libcni 1.2) does.
 *
 * cnt_exec runs one plugin binary: the CNI_* environment, the config on
 * stdin, stdout captured, stderr passed through. cnt_run runs a whole
 * network for one operation, as libcni's *NetworkList functions do:
 * - ADD: libcni's checks of the container ID, network name and ifname,
 *   then the chain in order, each plugin after the first with the previous
 *   result (as libcni decodes it, see result.h) as prevResult; the final
 *   result is cached (cache.h).
 * - CHECK (0.4.0 and later, nothing with disableCheck) in order and DEL in
 *   reverse, both with the cached result converted to the network's
 *   version as prevResult, or none when nothing is cached. A corrupt entry
 *   fails CHECK; DEL drops it and runs without. A successful DEL removes
 *   the entry.
 * - GC (nothing with disableGC): DEL (as above, with the cached container
 *   ID, netns, ifname, CNI_ARGS and capability arguments) of every cached
 *   attachment of the network that is not valid; then, from 1.1.0 on, GC
 *   of every plugin with cni.dev/valid-attachments and cni.dev/attachments,
 *   going on after failures. STATUS (1.1.0 on) runs the plugins in order
 *   up to the first failure. Both pass no runtimeConfig, and only
 *   CNI_COMMAND and CNI_PATH are non-empty.
 * - VERSION: libcni's GetVersionInfo for each plugin (stdin
 *   {"cniVersion":"1.1.0"}, CNI_NETNS, CNI_IFNAME and CNI_PATH "dummy"),
 *   then ValidateNetworkList's check that every plugin lists the network's
 *   version.
 * A failed ADD is not undone here (libcni does not either); a runtime
 * calls cnt_teardown.
 */
#ifndef CNT_RUN_H
#define CNT_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include <veilnet/err.h>
#include "args.h"
#include "conf.h"

/* What the runtime passes to every plugin of the network. */
struct cnt_rt {
	const char *cid;		/* CNI_CONTAINERID */
	const char *netns;		/* CNI_NETNS ("" or NULL: empty) */
	const char *ifname;		/* CNI_IFNAME */
	const char *cni_args;		/* CNI_ARGS */
	const char *cni_path;		/* CNI_PATH: where plugins are looked up */
	const char *cache_dir;		/* results cache; NULL: no cache at all */
	const json_t *runtime_config;	/* capability args, or NULL */
	const json_t *prev;		/* prevResult for CHECK/DEL instead of the cache */
	const json_t *valid;		/* valid-attachments for GC instead of the cache */
	bool peak_rss;			/* run plugins traced for their peak RSS (peak.h) */
};

/* The outcome of an operation. */
struct cnt_out {
	char *out;		/* stdout of the last plugin run (owned, NUL-terminated) */
	size_t len;
	int status;		/* its exit status; 128+N if killed by signal N */
	const char *type;	/* the type of the last plugin run (borrowed) */
	uint64_t ns;		/* time from spawn to reaping, summed over plugins */
	long maxrss_kb;		/* largest peak RSS of one plugin process (peak_rss) */
	int runs;		/* number of plugin invocations */
};

/* Finds type in the ':'-separated dirs of cni_path. Returns 0 and the path
 * in buf, or -1 with e set. */
int cnt_find_plugin(const char *type, const char *cni_path, char *buf, size_t len,
		    struct vn_err *e);

/* Builds a plugin environment: environ without CNI_*, then all six CNI
 * variables (NULL values become ""). Free with cnt_env_free. */
char **cnt_env_build(const char *command, const struct cnt_rt *rt);
void cnt_env_free(char **env);

/* Runs the plugin at path with env and stdin input; adds to o (out is
 * replaced, ns/maxrss/runs accumulate). peak: traced, for its peak RSS
 * (peak.h); otherwise spawned as Go's os/exec does. Returns 0 when the
 * plugin ran (whatever its status), -1 with e set when it could not be run. */
int cnt_exec(const char *path, char **env, const char *in, size_t in_len, bool peak,
	     struct cnt_out *o, struct vn_err *e);

/* Runs operation op (CNT_ADD .. CNT_VERSION) over the network. Returns 0
 * when the plugins ran (o->status tells how they did: for GC the first
 * failure), -1 with e set when cni-test itself failed (for VERSION also:
 * a plugin does not support the network's version, VN_E_INCOMPATIBLE). On
 * a successful ADD the result is cached; on a successful DEL the cache
 * entry is removed. */
int cnt_run(enum cnt_cmd op, const struct cnt_net *n, const struct cnt_rt *rt,
	    struct cnt_out *o, struct vn_err *e);

/* What every runtime does when setting up a sandbox's network failed
 * (containerd's RunPodSandbox, CRI-O, podman): DEL of the whole chain, in
 * reverse, with the cache as DEL reads it (after a failed ADD nothing is
 * cached, so no prevResult) and never rt->prev. Returns as cnt_run; o gets
 * the DEL's outcome. */
int cnt_teardown(const struct cnt_net *n, const struct cnt_rt *rt, struct cnt_out *o,
		 struct vn_err *e);

/* Frees o->out and zeroes o. */
void cnt_out_free(struct cnt_out *o);

/* The name CNI uses for an operation ("ADD", ...). */
const char *cnt_op_name(enum cnt_cmd op);

#endif
