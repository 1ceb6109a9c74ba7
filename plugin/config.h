/* config.h - the network configuration (stdin JSON) as plain structs.
 *
 * config_parse validates everything the plugin uses and keeps the parsed
 * JSON alive (struct plugin_config owns it; strings and json_t pointers
 * inside borrow from it). Unknown keys are ignored. Errors:
 *   6 (decoding failure) for text that is not JSON or not an object,
 *   1 (incompatible CNI version) for a cniVersion veilnet does not speak,
 *   7 (invalid configuration) for anything else, naming the field.
 *
 * Keys: cniVersion, name, type, mtu, ipam {type, ranges, subnet, rangeStart,
 * rangeEnd, gateway, dataDir, routes}, dns {nameservers, domain, search,
 * options}, logFile, logLevel, runtimeConfig {ips}, prevResult,
 * cni.dev/valid-attachments and cni.dev/attachments (GC; null, which libcni
 * sends when no attachment is valid, is an empty list), args (ignored).
 */
#ifndef PLUGIN_CONFIG_H
#define PLUGIN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include <veilnet/err.h>
#include <veilnet/prefix.h>

#define IPAM_MAX_RANGES 16	/* per range set */
#define IPAM_MAX_SETS 2		/* one per family */
#define CFG_MAX_ROUTES 16
#define CFG_PATH_MAX 512
#define CFG_DEFAULT_DATA_DIR "/var/lib/cni/veilnet"

/* One host-local style range: addresses start..end (inclusive) of subnet,
 * never the network address, the IPv4 broadcast or the gateway. */
struct ipam_range {
	struct vn_prefix subnet;	/* canonical (host bits clear) */
	struct vn_addr start;
	struct vn_addr end;
	struct vn_addr gateway;		/* family 0 when not given */
};

/* Ranges of one family, allocated from in order. */
struct ipam_rangeset {
	int family;
	size_t n;
	struct ipam_range r[IPAM_MAX_RANGES];
};

/* A route for the pod: dst via gw (gw family 0: the link-local gateway),
 * with CNI 1.1.0's optional attributes (0: not set). */
struct cfg_route {
	struct vn_prefix dst;
	struct vn_addr gw;
	uint32_t mtu, advmss, priority;
};

/* Reads a route's optional attributes "mtu", "advmss" and "priority" of
 * the JSON object o into r. "table" and "scope" are refused (code 2, an
 * unsupported field): the pod's routes live in its main table, at the
 * scope their gateway gives them. where names o in errors. */
int config_route_attrs(const json_t *o, struct cfg_route *r, const char *where, struct vn_err *e);

struct plugin_config {
	json_t *root;			/* owned */
	const char *cni_version;	/* as given */
	int ver;			/* enum cni_ver */
	const char *name;
	const char *type;
	unsigned int mtu;		/* 0: derive from the uplink */
	const char *ipam_type;		/* NULL or "veilnet": built-in IPAM */
	bool ipam_builtin;
	struct ipam_rangeset sets[IPAM_MAX_SETS];
	size_t n_sets;
	char data_dir[CFG_PATH_MAX];
	struct cfg_route routes[CFG_MAX_ROUTES];	/* ipam.routes; a delegated IPAM */
	size_t n_routes;				/* plugin's, once ADD has them */
	json_t *dns;			/* validated object or NULL */
	const char *log_file;
	const char *log_level;
	struct vn_addr req_ips[IPAM_MAX_SETS];	/* runtimeConfig.ips */
	size_t n_req_ips;
	json_t *prev_result;		/* object or NULL */
	json_t *attachments;		/* GC: array of {containerID, ifname}; NULL: no list */
};

/* Parses and validates len bytes of text into c (zeroed first). Returns 0,
 * or -1 with e set; call config_free in both cases. */
int config_parse(const char *text, size_t len, struct plugin_config *c, struct vn_err *e);

void config_free(struct plugin_config *c);

/* Reads only cniVersion out of text, for VERSION and for error objects.
 * Writes it into out (size bytes); "" if absent or unreadable. */
void config_peek_version(const char *text, size_t len, char *out, size_t size);

/* Fills r from the host-local fields (start, end, gateway may be NULL) and
 * validates it; where names it for errors. Returns 0 or -1 with e set. */
int ipam_range_init(struct ipam_range *r, const char *subnet, const char *start,
		    const char *end, const char *gateway, const char *where, struct vn_err *e);

#endif
