/* cniargs.h - parsing CNI_ARGS ("K=V;K=V").
 *
 * Known keys: K8S_POD_NAMESPACE, K8S_POD_NAME, K8S_POD_UID,
 * K8S_POD_INFRA_CONTAINER_ID and IP (one address per family, separated by
 * commas, optionally with a /len that is ignored). IgnoreUnknown and every
 * other key are ignored. Empty pairs (";;") are skipped. A pair without
 * '=', an empty key, a repeated known key or a bad IP is an error (code 4
 * naming CNI_ARGS).
 */
#ifndef PLUGIN_CNIARGS_H
#define PLUGIN_CNIARGS_H

#include <stddef.h>
#include <veilnet/err.h>
#include <veilnet/prefix.h>

#define CNI_ARGS_MAX_IPS 2

struct cni_args {
	char *buf;			/* owned copy the strings point into */
	const char *pod_namespace;	/* NULL if absent */
	const char *pod_name;
	const char *pod_uid;
	const char *infra_container_id;
	struct vn_addr ips[CNI_ARGS_MAX_IPS];
	size_t n_ips;
};

/* Parses s (may be NULL: nothing given) into out. Returns 0, or -1 with e
 * set; out must be freed with cni_args_free either way. */
int cni_args_parse(const char *s, struct cni_args *out, struct vn_err *e);

void cni_args_free(struct cni_args *a);

/* Parses "addr[,addr]" (each may carry a /len, ignored) into at most
 * max addresses, at most one per family. where names the source in errors.
 * Returns 0 or -1 with e set (code given). */
int cni_parse_ip_list(char *s, struct vn_addr *out, size_t max, size_t *n,
		      int code, const char *where, struct vn_err *e);

/* Adds one address to a per-family list (at most one per family). */
int cni_ip_list_add(const char *text, struct vn_addr *out, size_t max, size_t *n,
		    int code, const char *where, struct vn_err *e);

#endif
