/* cluster.h - clusters out of network namespaces (the commands behind
 * `cni-test cluster|pod|namespace|node ...`). See netns-harness/README.md.
 *
 * Every function returns the process exit status: 0 on success, the
 * plugin's status when a plugin failed, 1 for other failures (printed on
 * stderr as "cni-test: ...").
 */
#ifndef CNT_CLUSTER_H
#define CNT_CLUSTER_H

#include "args.h"

int cnt_cluster_create(const struct cnt_opts *o);
int cnt_cluster_destroy(const char *name);
int cnt_cluster_show(const char *name);

int cnt_pod_add(const struct cnt_opts *o);
int cnt_pod_del(const struct cnt_opts *o);
int cnt_pod_exec(const struct cnt_opts *o);
int cnt_pod_list(const struct cnt_opts *o);
int cnt_pod_ip(const struct cnt_opts *o);
int cnt_label(const struct cnt_opts *o);
int cnt_node_exec(const struct cnt_opts *o);

/* The directory cni-test runs from (where build/veilnet lives next to it). */
int cnt_self_dir(char *buf, size_t len);

/* Prints "cni-test: msg: details" on stderr; returns 1. */
int cnt_report(const struct vn_err *e);

/* Execs argv (PATH search) inside netns name. Returns only on failure,
 * reported on stderr, with 127 (the exit status of a command that could
 * not run). */
int cnt_exec_in(const char *name, char **argv);

#endif
