/* run.h - running CNI plugins the way a runtime (libcni) does.
 *
 * cnt_exec runs one plugin binary: the CNI_* environment, the config on
 * stdin, stdout captured, stderr passed through. cnt_run runs a whole
 * network for one operation: the chain in order for ADD (prevResult from
 * the previous plugin), CHECK and STATUS; in reverse for DEL; the cached
 * ADD result as prevResult for CHECK and DEL; the cached attachments as
 * cni.dev/valid-attachments for GC; VERSION for each plugin.
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
};

/* The outcome of an operation. */
struct cnt_out {
	char *out;		/* stdout of the last plugin run (owned, NUL-terminated) */
	size_t len;
	int status;		/* its exit status; 128+N if killed by signal N */
	const char *type;	/* the type of the last plugin run (borrowed) */
	uint64_t ns;		/* time from fork to reaping, summed over plugins */
	long maxrss_kb;		/* largest ru_maxrss of one invocation (and children) */
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
 * replaced, ns/maxrss/runs accumulate). Returns 0 when the plugin ran
 * (whatever its status), -1 with e set when it could not be run. */
int cnt_exec(const char *path, char **env, const char *in, size_t in_len,
	     struct cnt_out *o, struct vn_err *e);

/* Runs operation op (CNT_ADD .. CNT_VERSION) over the network. Returns 0
 * when the plugins ran (o->status tells how they did), -1 with e set when
 * cni-test itself failed. On a successful ADD the result is cached; on a
 * successful DEL the cache entry is removed. */
int cnt_run(enum cnt_cmd op, const struct cnt_net *n, const struct cnt_rt *rt,
	    struct cnt_out *o, struct vn_err *e);

/* Frees o->out and zeroes o. */
void cnt_out_free(struct cnt_out *o);

/* The name CNI uses for an operation ("ADD", ...). */
const char *cnt_op_name(enum cnt_cmd op);

#endif
