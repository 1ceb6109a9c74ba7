/* args.h - the cni-test command line as a plain struct.
 *
 * cnt_args_parse fills struct cnt_opts from argv without touching the
 * system; every string borrows from argv. Options may come anywhere after
 * the (sub)command; "--" ends them and the rest is the command to run
 * (exec-in, pod exec, node exec). See cnt_usage for the grammar.
 */
#ifndef CNT_ARGS_H
#define CNT_ARGS_H

#include <stdbool.h>
#include <stdio.h>
#include <veilnet/err.h>

enum cnt_cmd {
	CNT_HELP,
	/* one CNI operation, like a runtime */
	CNT_ADD, CNT_CHECK, CNT_DEL, CNT_STATUS, CNT_GC, CNT_VERSION,
	CNT_EXEC_IN,
	/* clusters out of namespaces */
	CNT_CLUSTER_CREATE, CNT_CLUSTER_DESTROY, CNT_CLUSTER_SHOW,
	CNT_POD_ADD, CNT_POD_DEL, CNT_POD_EXEC, CNT_POD_LIST, CNT_POD_IP,
	CNT_POD_LABEL, CNT_NS_LABEL, CNT_NODE_EXEC,
	CNT_BENCH,
};

#define CNT_MAX_POS 4

struct cnt_opts {
	enum cnt_cmd cmd;
	/* CNI operations */
	const char *conf;		/* --conf: .conf or .conflist */
	const char *netns;		/* --netns PATH (may be "") */
	const char *netns_create;	/* --netns-create NAME */
	const char *container_id;	/* --container-id */
	const char *ifname;		/* --ifname, default eth0 */
	const char *cni_args;		/* --args K=V;K=V */
	const char *cni_path;		/* --cni-path */
	const char *prev;		/* --prev FILE: prevResult for CHECK/DEL */
	const char *cache_dir;		/* --cache-dir, results/ lives under it */
	const char *runtime_config;	/* --runtime-config JSON object */
	const char *valid;		/* --valid CID:IF,... for GC */
	const char *k8s_pod;		/* --k8s-pod NS/POD: CNI_ARGS as kubelet's */
	const char *pod_uid;		/* --pod-uid: its K8S_POD_UID */
	bool no_teardown;		/* --no-teardown: no DEL after a failed ADD */
	bool verbose;			/* --verbose, -v: say what happens, on stderr */
	/* clusters */
	const char *cluster;		/* NAME */
	const char *node;		/* NODE */
	const char *pod;		/* NAMESPACE/POD */
	const char *namespace;		/* NS of namespace label */
	const char *labels;		/* --labels or the k=v,... argument */
	const char *ports;		/* --ports name=port/proto,... */
	const char *plugin;		/* --plugin PATH */
	const char *plugin_conf;	/* --plugin-conf JSON merged into the plugin */
	unsigned int nodes;		/* --nodes */
	bool no_routes, ipv4_only, json, merge, ipv6;
	/* bench */
	const char *ref_conf;		/* --ref */
	const char *label, *ref_label;	/* --name, --ref-name */
	const char *netns_prefix;	/* --netns-prefix */
	unsigned int pods, workers;	/* --pods, --workers */
	/* the command after "--" (NULL-terminated, borrowed from argv) */
	char **argv;
};

/* Parses argv (argv[0] is the program). Returns 0, or -1 with e set
 * (code VN_E_INVALID, details say what is wrong). */
int cnt_args_parse(int argc, char **argv, struct cnt_opts *o, struct vn_err *e);

/* Splits "NAMESPACE/POD" into ns and pod (each must be a DNS label:
 * lowercase letters, digits and '-', 1..63 characters). Returns 0 or -1. */
int cnt_split_pod(const char *s, char *ns, size_t ns_len, char *pod, size_t pod_len,
		  struct vn_err *e);

/* True if s is a DNS label (see cnt_split_pod). */
bool cnt_dns_label(const char *s);

/* Prints the usage text. */
void cnt_usage(FILE *f);

#endif
