/* conf.h - network configurations (.conf and .conflist) and what a runtime
 * hands each plugin of the chain. Pure: no I/O beyond parsing text.
 */
#ifndef CNT_CONF_H
#define CNT_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include <veilnet/err.h>

struct cnt_net {
	json_t *list;		/* owned; a single .conf is wrapped as a list of one */
	const char *name;	/* borrowed from list */
	const char *version;	/* cniVersion, borrowed */
	json_t *plugins;	/* borrowed array of plugin objects (>= 1) */
	bool disable_check;
	bool disable_gc;
};

/* Parses a .conf or .conflist text (a .conflist has "plugins"). Requires
 * name, cniVersion and a "type" in every plugin. Returns 0, or -1 with e set
 * (VN_E_DECODE for bad JSON, VN_E_INVALID for a missing field). */
int cnt_net_parse(const char *text, size_t len, struct cnt_net *n, struct vn_err *e);

/* Frees what cnt_net_parse made; safe on a zeroed struct. */
void cnt_net_free(struct cnt_net *n);

/* The type of plugin i. */
const char *cnt_net_type(const struct cnt_net *n, size_t i);

/* Builds the config plugin i receives on stdin: a copy of the plugin object
 * with the list's name and cniVersion, prevResult (when prev is non-NULL),
 * runtimeConfig holding the keys of rt (a JSON object or NULL) whose
 * capability the plugin declares true, and the extra keys of extra (or
 * NULL) copied as they are (e.g. "cni.dev/valid-attachments").
 * Returns a new reference, or NULL with e set. */
json_t *cnt_plugin_conf(const struct cnt_net *n, size_t i, const json_t *prev,
			const json_t *rt, const json_t *extra, struct vn_err *e);

/* Compares dotted versions numerically ("0.4.0" < "1.0.0" < "1.1.0");
 * missing parts count as 0. */
int cnt_version_cmp(const char *a, const char *b);

/* Checks CNI_ARGS syntax: "" or K=V pairs separated by ';' with non-empty
 * keys. Returns 0 or -1 with e set. */
int cnt_cni_args_check(const char *args, struct vn_err *e);

/* Parses "cid:ifname,cid:ifname" into a cni.dev/valid-attachments array
 * ([{"containerID":..,"ifname":..}]). "" gives an empty array. Returns a
 * new reference or NULL with e set. */
json_t *cnt_valid_parse(const char *s, struct vn_err *e);

/* Reads and parses a configuration file (see cnt_net_parse). */
int cnt_net_load(const char *path, struct cnt_net *n, struct vn_err *e);

#endif
