/* mesh.h - the mesh description: which nodes exist, their underlay
 * address, WireGuard key and port, and their pod CIDRs.
 *
 * Three JSON inputs give the same struct mesh:
 *  - a Kubernetes NodeList (`kubectl get nodes -o json`, kind NodeList or
 *    List): metadata.name, spec.podCIDRs (or spec.podCIDR), the node's
 *    underlay addresses from status.addresses (the InternalIPs, or the
 *    ExternalIPs when it has no InternalIP; a Hostname is never used), the
 *    annotations veilnet.dev/wireguard-public-key (base64) and,
 *    optionally, veilnet.dev/wireguard-port (a decimal string; default
 *    51820). Annotation values are read without surrounding whitespace;
 *  - a single Node object (kind Node), as `kubectl get node X -o json`;
 *  - veilnet's own mesh file, for use outside Kubernetes:
 *      {"kind": "VeilnetMesh", "apiVersion": "veilnet.dev/v1",
 *       "defaultPort": 51820,
 *       "nodes": [{"name": "n1", "address": "172.30.0.1", "port": 51820,
 *                  "publicKey": "<base64>",
 *                  "podCIDRs": ["10.244.1.0/24", "fd00:10:244:1::/64"]}],
 *       "clusterCIDRs": ["10.244.0.0/16", "fd00:10:244::/48"]}
 *    where only "name" is required (a node without key or address is known
 *    for strict mode but gets no peer). "clusterCIDRs" (optional) is the
 *    whole pod network, guarded by strict mode (strict.h) like
 *    `--cluster-cidr`.
 *
 * Errors name the node and the field, e.g.
 *   node "n2": field "spec.podCIDRs[1]": "10.244.x" is not an IP prefix
 * Pod CIDRs are stored canonical (host bits cleared).
 *
 * Dual-stack underlays: a node's address is its first InternalIP (else
 * ExternalIP); alt_address is its first one of the other family, if any.
 * mesh_node_endpoint picks the one whose family matches the local node's
 * address, so a v4-only node reaches a dual-stack node listed v6 first.
 */
#ifndef VEILNET_OVERLAY_MESH_H
#define VEILNET_OVERLAY_MESH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <veilnet/err.h>
#include <veilnet/prefix.h>
#include "wg.h"

#define MESH_DEFAULT_PORT 51820
#define MESH_ANN_KEY "veilnet.dev/wireguard-public-key"
#define MESH_ANN_PORT "veilnet.dev/wireguard-port"
#define MESH_MAX_CIDRS 8
#define MESH_NAME_MAX 254

struct mesh_node {
	char name[MESH_NAME_MAX];
	struct vn_addr address;		/* underlay: first InternalIP (else ExternalIP) */
	bool has_address;
	struct vn_addr alt_address;	/* the first one of the other family */
	bool has_alt_address;
	uint16_t port;			/* 0: the mesh's default port */
	struct wg_key public_key;
	bool has_key;
	struct vn_prefix pod_cidrs[MESH_MAX_CIDRS];
	size_t n_pod_cidrs;
};

struct mesh {
	struct mesh_node *nodes;
	size_t n;
	size_t cap;
	uint16_t default_port;
	struct vn_prefix cluster_cidrs[MESH_MAX_CIDRS];	/* mesh file only */
	size_t n_cluster_cidrs;
};

/* An empty mesh with the default port. */
void mesh_init(struct mesh *m);

/* Frees the nodes; m is empty (and usable) after, with its default port
 * and cluster CIDRs. */
void mesh_free(struct mesh *m);

/* Parses a NodeList, a Node or a mesh file (see above) and adds its nodes
 * to m. A name seen twice is an error. Returns 0 or -1 with e set. */
int mesh_parse(const char *text, size_t len, struct mesh *m, struct vn_err *e);

/* The same on a parsed JSON value. */
int mesh_parse_json(const json_t *root, struct mesh *m, struct vn_err *e);

/* Reads one Kubernetes Node object. where names it in errors when it
 * has no name yet (e.g. "items[3]"). */
int mesh_node_from_k8s(const json_t *obj, const char *where, struct mesh_node *n,
		       struct vn_err *e);

/* Adds n, or replaces the node of the same name. 0 or -1 (no memory).
 * *changed (may be NULL) tells whether m differs after. */
int mesh_upsert(struct mesh *m, const struct mesh_node *n, bool *changed, struct vn_err *e);

/* Removes the node called name; returns true if there was one. */
bool mesh_remove(struct mesh *m, const char *name);

/* The node called name, or NULL. */
const struct mesh_node *mesh_find(const struct mesh *m, const char *name);

/* Parses one IP prefix (canonical, host bits cleared) and appends it to
 * list (room for MESH_MAX_CIDRS; *n counts). what names it in errors,
 * e.g. "--cluster-cidr". */
int mesh_add_cidr(const char *text, const char *what, struct vn_prefix *list, size_t *n,
		  struct vn_err *e);

/* The port a node listens on (its own or the default). */
uint16_t mesh_node_port(const struct mesh *m, const struct mesh_node *n);

/* The address to reach n at from a node whose own address has the given
 * family (0: unknown): n's address of that family if it has one, else its
 * first. n must have an address. */
const struct vn_addr *mesh_node_endpoint(const struct mesh_node *n, int family);

#endif
