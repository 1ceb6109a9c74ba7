/* result.h - CNI results and error objects as JSON (pure, no I/O).
 *
 * result_build makes the ADD result in the shape of the given cniVersion:
 * interfaces (host end with mac, pod end with mac and sandbox; "mtu" from
 * 1.1.0), ips with the pod interface's index and the link-local gateway
 * ("version" before 1.0.0), routes and dns. When a prevResult is given
 * (veilnet chained after another plugin) its content is kept and ours is
 * appended, interface indexes shifted accordingly.
 */
#ifndef PLUGIN_RESULT_H
#define PLUGIN_RESULT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <veilnet/err.h>
#include <veilnet/prefix.h>
#include "config.h"
#include "store.h"

#define GATEWAY4 "169.254.1.1"
#define GATEWAY6 "fe80::1"
#define RESULT_MAX_ROUTES (CFG_MAX_ROUTES + 2)

struct add_result {
	const char *host_ifname;
	uint8_t host_mac[6];
	const char *pod_ifname;
	uint8_t pod_mac[6];
	const char *sandbox;
	unsigned int mtu;
	struct vn_addr ips[STORE_MAX_IPS];	/* each a /32 or /128 */
	size_t n_ips;
	struct cfg_route routes[RESULT_MAX_ROUTES];	/* gw always set */
	size_t n_routes;
	const json_t *dns;			/* config dns or NULL */
};

/* The link-local gateway of a family. */
void result_gateway(int family, struct vn_addr *out);

/* The pod's routes: a default route per family of ips via the link-local
 * gateway, then the config's ipam.routes of those families (gw defaulting
 * to the link-local gateway; duplicates of the defaults skipped). */
void result_plan_routes(const struct plugin_config *c, const struct vn_addr *ips, size_t n_ips,
			struct cfg_route *out, size_t *n_out);

/* Builds the result object (caller owns it); NULL if out of memory. */
json_t *result_build(const struct add_result *r, int ver, const json_t *prev);

/* Text of a MAC address ("0a:1b:..."), buf of 18 bytes. */
const char *result_mac_str(const uint8_t mac[6], char *buf);

/* The error object {cniVersion, code, msg, details} as malloc'd text. */
char *result_error_json(const char *cni_version, const struct vn_err *e);

/* The VERSION answer as malloc'd text: cniVersion echoes requested (the
 * input's, any text, escaped; CNI_LATEST if NULL) and supportedVersions
 * lists every version the plugin accepts. NULL if out of memory. */
char *result_version_json(const char *requested);

/* Reads the routes of a delegated IPAM plugin's result ({dst, gw}) into
 * out (at most max; the rest are dropped). Each gets the link-local
 * gateway of its family: the pod reaches everything through the host end
 * of its veth, so the IPAM plugin's gateway is not on the pod's link.
 * Returns 0 or -1 with e set (code 6 naming the route). */
int result_ipam_routes(const json_t *ipam_result, struct cfg_route *out, size_t max, size_t *n,
		       struct vn_err *e);

/* What CHECK needs from a prevResult for one attachment. */
struct prev_view {
	int host_idx, pod_idx;		/* -1 if absent */
	uint8_t pod_mac[6];
	int has_pod_mac;
	struct vn_prefix ips[STORE_MAX_IPS];	/* ips on the pod interface */
	size_t n_ips;
	struct cfg_route routes[RESULT_MAX_ROUTES];
	size_t n_routes;
};

/* Finds the attachment's interfaces (host by name, pod by ifname and
 * sandbox) and its ips and routes in prev. Returns 0 or -1 with e set
 * (code 7 naming what is missing or malformed). */
int result_view(const json_t *prev, const char *host_ifname, const char *ifname,
		const char *netns, struct prev_view *v, struct vn_err *e);

#endif
