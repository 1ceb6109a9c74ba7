/* conf.h - network configurations (.conf and .conflist) and what a runtime
 * hands each plugin of the chain. Pure: no I/O beyond parsing text.
 */
#ifndef CNT_CONF_H
#define CNT_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include <veilnet/err.h>

/* The highest CNI version cni-test implements, as libcni 1.2 does. */
#define CNT_SPEC_VERSION "1.1.0"

struct cnt_net {
	json_t *list;		/* owned; a single .conf is wrapped as a list of one */
	const char *name;	/* borrowed from list */
	const char *version;	/* the version in use (borrowed): see cnt_version_pick */
	json_t *versions;	/* borrowed "cniVersions" array, or NULL */
	json_t *plugins;	/* borrowed array of plugin objects (>= 1) */
	char *bytes;		/* owned: the list as libcni caches it ("config"): a
				 * .conflist's own text, a .conf upconverted like
				 * libcni's ConfListFromConf (keys sorted) */
	size_t len;		/* of bytes */
	bool disable_check;
	bool disable_gc;
};

/* Parses a .conf or .conflist text (a .conflist has "plugins"). Requires
 * name, a "type" in every plugin, and cniVersion or (in a .conflist)
 * cniVersions. disableCheck/disableGC may be booleans or the strings
 * "true"/"false" in any case, as libcni reads them; capabilities must map
 * names to booleans. Returns 0, or -1 with e set (VN_E_DECODE for bad
 * JSON, VN_E_INVALID for a missing or bad field). */
int cnt_net_parse(const char *text, size_t len, struct cnt_net *n, struct vn_err *e);

/* Parses a version like libcni's ParseVersion: "" is 0.1.0, then up to
 * three '.'-separated decimal numbers (missing ones are 0). Returns 0 and
 * the parts in out, or -1. */
int cnt_version_parse(const char *v, long out[3]);

/* The version a runtime uses for a list (libcni 1.2, SPEC "version
 * selection"): without cniVersions, cniVersion itself; with it, the highest
 * of cniVersions and cniVersion that is not above CNT_SPEC_VERSION.
 * versions is the cniVersions value or NULL; version is cniVersion or NULL.
 * Invalid entries, or no usable version at all, are VN_E_INVALID. On
 * success *out borrows from versions or version. */
int cnt_version_pick(const json_t *versions, const char *version, const char **out,
		     struct vn_err *e);

/* Frees what cnt_net_parse made; safe on a zeroed struct. */
void cnt_net_free(struct cnt_net *n);

/* The type of plugin i. */
const char *cnt_net_type(const struct cnt_net *n, size_t i);

/* Builds the config plugin i receives on stdin, as libcni's InjectConf
 * does: a copy of the plugin object with the list's name and cniVersion,
 * prevResult (when prev is non-NULL; otherwise the plugin's own key, if
 * any, stays), runtimeConfig holding the keys of rt (a JSON object or
 * NULL) whose capability the plugin declares true (when there are none,
 * the plugin's own runtimeConfig stays), and the extra keys of extra (or
 * NULL) copied as they are (e.g. "cni.dev/valid-attachments").
 * Returns a new reference, or NULL with e set. */
json_t *cnt_plugin_conf(const struct cnt_net *n, size_t i, const json_t *prev,
			const json_t *rt, const json_t *extra, struct vn_err *e);

/* Compares dotted versions numerically ("0.4.0" < "1.0.0" < "1.1.0");
 * missing parts count as 0, "" is 0.1.0 (as cnt_version_parse). */
int cnt_version_cmp(const char *a, const char *b);

/* Checks CNI_ARGS syntax: "" or K=V pairs separated by ';' with non-empty
 * keys. Returns 0 or -1 with e set. */
int cnt_cni_args_check(const char *args, struct vn_err *e);

/* CNI_ARGS (checked syntax) as libcni's RuntimeConf.Args: [["K","V"],...],
 * split at the first '=' of each pair. NULL for "" or NULL (libcni then
 * leaves "cniArgs" out of its cache). New reference. */
json_t *cnt_cni_args_pairs(const char *args);

/* The inverse: pairs joined as "K=V;K=V" (libcni's stringify). Returns a
 * malloc'd string ("" for NULL or no pairs), or NULL when out of memory. */
char *cnt_cni_args_join(const json_t *pairs);

/* The CNI_ARGS kubelet passes for a pod sandbox, in its order:
 * IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=pod;
 * K8S_POD_INFRA_CONTAINER_ID=cid;K8S_POD_UID=uid. Returns 0, or -1 if it
 * does not fit in len bytes. */
int cnt_k8s_args(char *buf, size_t len, const char *ns, const char *pod, const char *cid,
		 const char *uid);

/* A pod UID (an RFC 4122 version 4 UUID, 36 characters) derived from seed,
 * so that ADD and DEL of the same pod agree. buf must hold 37 bytes. */
void cnt_pod_uid(char *buf, size_t len, const char *seed);

/* libcni's checks before an ADD (pkg/utils): the container ID and the
 * network name match [a-zA-Z0-9][a-zA-Z0-9_.-]*, the interface name is 1..15
 * characters, not "." or "..", without '/', ':' or white space. Returns 0,
 * or -1 with e set to libcni's error (code 3 for a missing container ID, 7
 * for the network name, 4 otherwise; msg is libcni's text). */
int cnt_attachment_check(const char *cid, const char *net, const char *ifname,
			 struct vn_err *e);

/* Parses "cid:ifname,cid:ifname" into a cni.dev/valid-attachments array
 * ([{"containerID":..,"ifname":..}]). "" gives an empty array. Returns a
 * new reference or NULL with e set. */
json_t *cnt_valid_parse(const char *s, struct vn_err *e);

/* Reads and parses a configuration file (see cnt_net_parse). */
int cnt_net_load(const char *path, struct cnt_net *n, struct vn_err *e);

#endif
