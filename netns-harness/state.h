/* state.h - a cluster's state: /run/cni-test/NAME/state.json.
 *
 * The state is one JSON document, written atomically after every change
 * (under /run/cni-test/NAME/lock), so other programs may read it at any
 * time. Layout (all addresses as text):
 *
 *   {"kind": "CniTestCluster", "name", "plugin", "cniPath", "ipv6", "routes",
 *    "dir", "cacheDir",
 *    "underlay": {"netns", "bridge", "ip4", "ip6"},
 *    "nodes": [{"name": "n1", "index": 1, "netns", "ifname": "eth0",
 *               "ip4", "ip6", "podCIDR4", "podCIDR6", "dir", "conflist",
 *               "dataDir"}],
 *    "namespaces": {"NS": {"labels": {..}}},
 *    "pods": {"NS/POD": {"namespace", "name", "node", "netns",
 *                        "containerId", "ifname", "ip4", "ip6",
 *                        "labels": {..}, "ports": [..], "phase"}}}
 *
 * ip6/podCIDR6 are absent with --ipv4-only. The functions below are pure
 * (they work on the document) except cnt_state_load/save/lock.
 */
#ifndef CNT_STATE_H
#define CNT_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>
#include <veilnet/err.h>

#define CNT_RUN_DIR "/run/cni-test"
#define CNT_MAX_NODES 250
#define CNT_NAME_MAX 32

/* Parameters of a new cluster. */
struct cnt_cluster_def {
	const char *name;
	unsigned int nodes;
	const char *plugin;	/* absolute path of the plugin binary */
	bool ipv6;
	bool routes;
};

/* A node, copied out of the document. */
struct cnt_node {
	unsigned int index;
	char name[16];
	char netns[64];
	char ip4[16], ip6[48];
	char cidr4[24], cidr6[48];
	char conflist[256];
	char data_dir[256];
};

/* True if name may name a cluster: 1..CNT_NAME_MAX of a-z, 0-9, '-'. */
bool cnt_cluster_name_ok(const char *name);

/* The state of a new cluster with its nodes and no pods. New reference. */
json_t *cnt_state_new(const struct cnt_cluster_def *d);

/* Copies node (by name; "ul" is not a node) out of st. Returns 0, or -1
 * with e set (VN_E_UNKNOWN) if there is no such node. */
int cnt_state_node(const json_t *st, const char *node, struct cnt_node *out, struct vn_err *e);

/* The conflist a node's pods are wired with (new reference): the plugin
 * named by the state's "plugin" (veilnet, or ptp with host-local), the
 * node's pod CIDRs and data dir, and extra (a JSON object or NULL) merged
 * into the plugin's config. */
json_t *cnt_state_conflist(const json_t *st, const struct cnt_node *node, const json_t *extra);

/* The pod NS/POD, or NULL (borrowed). */
json_t *cnt_state_pod(const json_t *st, const char *ns, const char *pod);

/* Adds a pod record (phase "Pending") and its namespace if new. labels and
 * ports may be NULL (empty); both are copied. Fails if the pod exists or
 * its netns name is taken by another pod. Returns the record (borrowed). */
json_t *cnt_state_pod_add(json_t *st, const char *ns, const char *pod, const char *node,
			  const json_t *labels, const json_t *ports, struct vn_err *e);

/* Removes the pod record; a missing one is fine. */
void cnt_state_pod_remove(json_t *st, const char *ns, const char *pod);

/* The namespace record NS, created (with no labels) if create. */
json_t *cnt_state_namespace(json_t *st, const char *ns, bool create);

/* Sets obj's "labels" to labels (merge: add/replace keys, a value of JSON
 * null removes the key). */
void cnt_state_set_labels(json_t *obj, const json_t *labels, bool merge);

/* Parses "k=v,k=v" ("" is no labels). With allow_remove, "k-" means remove k
 * (a JSON null value). Returns a new object, or NULL with e set. */
json_t *cnt_labels_parse(const char *s, bool allow_remove, struct vn_err *e);

/* Parses "name=port/PROTO,port/PROTO,..." into container ports
 * ([{"name", "containerPort", "protocol"}]); PROTO is TCP, UDP or SCTP
 * (any case, default TCP). Returns a new array or NULL with e set. */
json_t *cnt_ports_parse(const char *s, struct vn_err *e);

/* The cluster as a Kubernetes v1 List of Namespace and Pod objects. */
json_t *cnt_state_k8s_list(const json_t *st);

/* The state directory of a cluster. */
int cnt_state_dir(const char *cluster, char *buf, size_t len, struct vn_err *e);

/* Loads a cluster's state; NULL with e set (VN_E_UNKNOWN if none). */
json_t *cnt_state_load(const char *cluster, struct vn_err *e);

/* Writes the state atomically. */
int cnt_state_save(const json_t *st, struct vn_err *e);

/* Replaces path with len bytes atomically for readers (temp file in the
 * same directory, then rename) but without fsync: the state and the result
 * cache describe namespaces that do not survive a reboot either, and
 * cluster operations must stay fast. */
int cnt_write_replace(const char *path, const char *data, size_t len, mode_t mode,
		      struct vn_err *e);

/* Takes the cluster's lock (creating the directory); returns an fd to pass
 * to cnt_state_unlock, or -1 with e set. */
int cnt_state_lock(const char *cluster, struct vn_err *e);
void cnt_state_unlock(int fd);

#endif
