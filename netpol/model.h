/* model.h - the Kubernetes objects veilnet-policy works on, as plain structs.
 *
 * A struct np_world owns everything in it: namespaces, pods and
 * NetworkPolicies, already validated and defaulted the way the API server
 * would (protocol TCP, policyTypes, kubernetes.io/metadata.name on every
 * namespace). Each object owns its strings and arrays; np_world_free frees
 * all of it. Nothing here knows about JSON or nftables.
 */
#ifndef NETPOL_MODEL_H
#define NETPOL_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <veilnet/prefix.h>
#include "hmap.h"

#define NP_NS_LABEL "kubernetes.io/metadata.name"
#define NP_MAX_IPS 4

struct np_label {
	char *key;
	char *value;
};

/* A label map, sorted by key, keys unique. */
struct np_labels {
	struct np_label *v;
	size_t n;
};

enum np_op { NP_OP_IN, NP_OP_NOT_IN, NP_OP_EXISTS, NP_OP_DOES_NOT_EXIST };

struct np_expr {
	char *key;
	enum np_op op;
	char **values;
	size_t n_values;
};

/* A LabelSelector: every matchLabels pair and every expression must hold.
 * The empty selector matches everything. */
struct np_selector {
	struct np_labels labels;
	struct np_expr *exprs;
	size_t n_exprs;
};

/* IP protocol numbers. */
enum np_proto { NP_TCP = 6, NP_UDP = 17, NP_SCTP = 132 };

/* A container port, for named ports. */
struct np_cport {
	char *name;		/* NULL when unnamed */
	uint16_t port;
	uint8_t proto;
};

struct np_namespace {
	char *name;
	struct np_labels labels;	/* always has NP_NS_LABEL=name */
};

struct np_pod {
	char *ns;
	char *name;
	char *node;		/* spec.nodeName, NULL if unscheduled */
	struct np_labels labels;
	struct vn_addr ips[NP_MAX_IPS];	/* status.podIPs (or podIP) */
	size_t n_ips;
	struct np_cport *ports;
	size_t n_ports;
};

enum np_port_kind { NP_PORT_ANY, NP_PORT_NUM, NP_PORT_NAME };

/* One entry of a rule's ports: protocol plus all ports, a number or
 * range (port..end_port), or a named port. */
struct np_port {
	uint8_t proto;
	enum np_port_kind kind;
	uint16_t port;
	uint16_t end_port;	/* == port when no endPort */
	char *name;		/* NP_PORT_NAME */
};

enum np_peer_kind { NP_PEER_PODS, NP_PEER_IPBLOCK };

/* A NetworkPolicyPeer. PODS: has_ns_sel false means "pods of the policy's
 * namespace", has_pod_sel false means "every pod" of the namespaces. */
struct np_peer {
	enum np_peer_kind kind;
	bool has_pod_sel;
	bool has_ns_sel;
	struct np_selector pod_sel;
	struct np_selector ns_sel;
	struct vn_prefix cidr;	/* IPBLOCK, canonical */
	struct vn_prefix *except;
	size_t n_except;
};

/* A rule. No peers: every peer. No ports: every port and protocol. */
struct np_rule {
	struct np_peer *peers;
	size_t n_peers;
	struct np_port *ports;
	size_t n_ports;
};

enum np_dir { NP_INGRESS = 0, NP_EGRESS = 1 };

struct np_policy {
	char *ns;
	char *name;
	struct np_selector pod_sel;
	bool types[2];		/* policyTypes, defaulted */
	struct np_rule *rules[2];
	size_t n_rules[2];
};

/* The objects, in no particular order (compile and report sort). A
 * zeroed struct is an empty world. */
struct np_world {
	struct np_namespace *nss;
	size_t n_nss, cap_nss;
	struct np_pod *pods;
	size_t n_pods, cap_pods;
	struct np_policy *pols;
	size_t n_pols, cap_pols;
	struct hmap idx;	/* hash(kind, namespace, name) -> array index */
};

enum np_kind { NP_K_NAMESPACE, NP_K_POD, NP_K_POLICY };

/* One parsed object on its way into a world. */
struct np_object {
	enum np_kind kind;
	union {
		struct np_namespace ns;
		struct np_pod pod;
		struct np_policy pol;
	};
};

void np_labels_free(struct np_labels *l);
void np_selector_free(struct np_selector *s);
void np_namespace_free(struct np_namespace *n);
void np_pod_free(struct np_pod *p);
void np_policy_free(struct np_policy *p);
void np_object_free(struct np_object *o);
void np_world_free(struct np_world *w);

/* The value of key in l, or NULL. */
const char *np_labels_get(const struct np_labels *l, const char *key);

/* Puts o into w, replacing the object of the same kind, namespace and
 * name. Takes ownership of o's contents (o is zeroed). Returns 0, or -1 if
 * out of memory (o is then freed). */
int np_world_put(struct np_world *w, struct np_object *o);

/* Removes the object of that kind, namespace (NULL for namespaces) and
 * name. Returns true if there was one. */
bool np_world_remove(struct np_world *w, enum np_kind kind, const char *ns, const char *name);

/* Finds a pod / namespace by name; NULL if absent. */
const struct np_pod *np_world_pod(const struct np_world *w, const char *ns, const char *name);
const struct np_namespace *np_world_ns(const struct np_world *w, const char *name);

/* The pod whose status lists addr; NULL if none. */
const struct np_pod *np_world_pod_by_ip(const struct np_world *w, const struct vn_addr *addr);

/* "TCP", "UDP", "SCTP" (or "?"), and back (case-sensitive, as the API);
 * np_proto_parse returns 0 for an unknown name. */
const char *np_proto_name(uint8_t proto);
uint8_t np_proto_parse(const char *s);

/* "Ingress" / "Egress" */
const char *np_dir_name(enum np_dir d);

#endif
