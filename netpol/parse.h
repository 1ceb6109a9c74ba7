/* parse.h - Kubernetes JSON into the plain structs of model.h.
 *
 * Input is what kubectl prints: a v1 List (or NamespaceList, PodList,
 * NetworkPolicyList), single Namespace / Pod / NetworkPolicy objects, and
 * watch events {"type": ..., "object": ...} (--output-watch-events), possibly
 * several JSON values one after the other. Other kinds are ignored.
 *
 * Objects are validated and defaulted as the API server would: protocol
 * TCP; policyTypes [Ingress] plus Egress when spec.egress is non-empty;
 * every namespace carries kubernetes.io/metadata.name. An error names the
 * object and the field path, e.g.
 *   NetworkPolicy x/allow: spec.ingress[0].from[1].ipBlock.cidr: "10.0.0/8" is not a CIDR
 * Pods that cannot take part in policy (hostNetwork, phase Succeeded or
 * Failed) count as deleted.
 */
#ifndef NETPOL_PARSE_H
#define NETPOL_PARSE_H

#include <jansson.h>
#include <veilnet/err.h>
#include "model.h"

enum np_verb { NP_PUT, NP_DELETE, NP_IGNORE };

/* Parses one object. Returns NP_PUT with *o filled (the caller owns it),
 * NP_DELETE with *o filled with the identity (kind, namespace, name) of an
 * object to remove, NP_IGNORE for kinds not used here, or -1 with e set. */
int np_parse_object(const json_t *j, struct np_object *o, struct vn_err *e);

/* Applies one JSON value (List, object or watch event) to w. All or
 * nothing: on error w is unchanged. *n_changed (may be NULL) gets the
 * number of objects put or removed. Returns 0 or -1 with e set. */
int np_apply_value(struct np_world *w, const json_t *j, size_t *n_changed, struct vn_err *e);

/* Applies every JSON value in text (concatenated values allowed) to w.
 * source names the input in errors ("-" is stdin). On error w may hold
 * the values before the bad one; callers that need all-or-nothing load
 * into a fresh world. Returns 0 or -1 with e set. */
int np_load_text(struct np_world *w, const char *text, size_t len, const char *source,
		 struct vn_err *e);

/* Label key / value and DNS name checks, as the API server does them. */
bool np_valid_label_key(const char *s);
bool np_valid_label_value(const char *s);
bool np_valid_dns_label(const char *s);
bool np_valid_dns_subdomain(const char *s);
bool np_valid_port_name(const char *s);

#endif
