#include <stdio.h>
#include <string.h>
#include <veilnet/json.h>
#include "cniargs.h"
#include "config.h"
#include "version.h"

#define BAD(e, ...) vn_errf(e, VN_E_INVALID, "invalid configuration", __VA_ARGS__)

static int parse_addr_field(const char *text, int family, struct vn_addr *out,
			    const char *where, const char *field, struct vn_err *e)
{
	if (vn_addr_parse(text, out))
		return BAD(e, "%s: field \"%s\": \"%s\" is not an IP address", where, field, text);
	if (family && out->family != family)
		return BAD(e, "%s: field \"%s\": %s is not in the subnet's family",
			   where, field, text);
	return 0;
}

static int in_subnet(const struct ipam_range *r, const struct vn_addr *a, const char *where,
		     const char *field, struct vn_err *e)
{
	char buf[VN_PREFIX_STRLEN];

	if (!vn_prefix_contains(&r->subnet, a))
		return BAD(e, "%s: field \"%s\" is outside subnet %s", where, field,
			   vn_prefix_str(&r->subnet, buf));
	return 0;
}

/* The first and last addresses that may ever be handed out in the subnet. */
static void usable_bounds(const struct vn_prefix *net, struct vn_addr *lo, struct vn_addr *hi)
{
	*lo = net->addr;
	vn_addr_add(lo, 1);
	vn_prefix_last(net, hi);
	if (net->addr.family == AF_INET)
		vn_addr_add(hi, UINT64_MAX);	/* -1: not the broadcast */
}

int ipam_range_init(struct ipam_range *r, const char *subnet, const char *start,
		    const char *end, const char *gateway, const char *where, struct vn_err *e)
{
	struct vn_addr lo, hi;
	unsigned int max;

	memset(r, 0, sizeof(*r));
	if (!subnet)
		return BAD(e, "%s: field \"subnet\" is required", where);
	if (vn_prefix_parse(subnet, &r->subnet))
		return BAD(e, "%s: field \"subnet\": \"%s\" is not a CIDR prefix", where, subnet);
	vn_prefix_canon(&r->subnet);
	max = r->subnet.addr.family == AF_INET ? 30 : 126;
	if (r->subnet.len > max)
		return BAD(e, "%s: subnet %s is too small to allocate from (longest is /%u)",
			   where, subnet, max);
	usable_bounds(&r->subnet, &lo, &hi);
	r->start = lo;
	r->end = hi;
	if (start && (parse_addr_field(start, r->subnet.addr.family, &r->start, where,
				       "rangeStart", e) ||
		      in_subnet(r, &r->start, where, "rangeStart", e)))
		return -1;
	if (end && (parse_addr_field(end, r->subnet.addr.family, &r->end, where, "rangeEnd", e) ||
		    in_subnet(r, &r->end, where, "rangeEnd", e)))
		return -1;
	if (gateway && (parse_addr_field(gateway, r->subnet.addr.family, &r->gateway, where,
					 "gateway", e) ||
			in_subnet(r, &r->gateway, where, "gateway", e)))
		return -1;
	if (vn_addr_cmp(&r->start, &lo) < 0)
		return BAD(e, "%s: rangeStart %s is the network address", where, start);
	if (vn_addr_cmp(&r->end, &hi) > 0)
		return BAD(e, "%s: rangeEnd %s is the broadcast address", where, end);
	if (vn_addr_cmp(&r->start, &r->end) > 0)
		return BAD(e, "%s: rangeStart is after rangeEnd", where);
	return 0;
}

static int range_from_json(const json_t *obj, struct ipam_range *r, const char *where,
			   struct vn_err *e)
{
	const char *subnet, *start, *end, *gw;

	if (!json_is_object(obj))
		return BAD(e, "%s: expected an object", where);
	if (vn_json_str(obj, "subnet", true, &subnet, where, e) ||
	    vn_json_str(obj, "rangeStart", false, &start, where, e) ||
	    vn_json_str(obj, "rangeEnd", false, &end, where, e) ||
	    vn_json_str(obj, "gateway", false, &gw, where, e))
		return -1;
	return ipam_range_init(r, subnet, start, end, gw, where, e);
}

static bool ranges_overlap(const struct ipam_range *a, const struct ipam_range *b)
{
	return a->start.family == b->start.family &&
	       vn_addr_cmp(&a->start, &b->end) <= 0 && vn_addr_cmp(&b->start, &a->end) <= 0;
}

/* Adds r to the set of its family, refusing overlaps with every range seen. */
static int add_range(struct plugin_config *c, size_t set, const struct ipam_range *r,
		     const char *where, struct vn_err *e)
{
	struct ipam_rangeset *s = &c->sets[set];

	for (size_t i = 0; i < IPAM_MAX_SETS; i++)
		for (size_t j = 0; j < c->sets[i].n; j++)
			if (ranges_overlap(&c->sets[i].r[j], r))
				return BAD(e, "%s overlaps another range", where);
	if (s->n && s->family != r->subnet.addr.family)
		return BAD(e, "%s: a range set mixes IPv4 and IPv6", where);
	if (s->n >= IPAM_MAX_RANGES)
		return BAD(e, "%s: more than %d ranges in a range set", where, IPAM_MAX_RANGES);
	s->family = r->subnet.addr.family;
	s->r[s->n++] = *r;
	return 0;
}

static int parse_rangeset(struct plugin_config *c, const json_t *arr, size_t idx,
			  struct vn_err *e)
{
	char where[64];
	struct ipam_range r;
	size_t i;
	json_t *v;

	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return BAD(e, "config: ipam.ranges[%zu]: expected a non-empty array of ranges", idx);
	json_array_foreach(arr, i, v) {
		snprintf(where, sizeof(where), "config: ipam.ranges[%zu][%zu]", idx, i);
		if (range_from_json(v, &r, where, e) || add_range(c, idx, &r, where, e))
			return -1;
	}
	for (size_t k = 0; k < idx; k++)
		if (c->sets[k].family == c->sets[idx].family)
			return BAD(e, "config: ipam.ranges: two range sets for IPv%d (one per family)",
				   c->sets[idx].family == AF_INET ? 4 : 6);
	return 0;
}

static int parse_ranges(struct plugin_config *c, const json_t *ipam, struct vn_err *e)
{
	json_t *ranges, *v;
	const char *subnet;
	size_t i;

	if (vn_json_arr(ipam, "ranges", false, &ranges, "config: ipam", e) ||
	    vn_json_str(ipam, "subnet", false, &subnet, "config: ipam", e))
		return -1;
	if (!ranges && subnet) {	/* host-local's single-range shorthand */
		struct ipam_range r;
		const char *start, *end, *gw;

		if (vn_json_str(ipam, "rangeStart", false, &start, "config: ipam", e) ||
		    vn_json_str(ipam, "rangeEnd", false, &end, "config: ipam", e) ||
		    vn_json_str(ipam, "gateway", false, &gw, "config: ipam", e) ||
		    ipam_range_init(&r, subnet, start, end, gw, "config: ipam", e) ||
		    add_range(c, 0, &r, "config: ipam", e))
			return -1;
		c->n_sets = 1;
		return 0;
	}
	if (!ranges || json_array_size(ranges) == 0)
		return BAD(e, "config: ipam: field \"ranges\" is required (one range set per family)");
	if (json_array_size(ranges) > IPAM_MAX_SETS)
		return BAD(e, "config: ipam.ranges: at most %d range sets (one per family)",
			   IPAM_MAX_SETS);
	json_array_foreach(ranges, i, v) {
		if (parse_rangeset(c, v, i, e))
			return -1;
		c->n_sets = i + 1;
	}
	return 0;
}

int config_route_attrs(const json_t *o, struct cfg_route *r, const char *where, struct vn_err *e)
{
	static const char *const refused[] = { "table", "scope" };
	uint64_t mtu = 0, advmss = 0, prio = 0;

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (json_object_get(o, refused[i]))
			return vn_errf(e, VN_E_UNSUPPORTED, "unsupported field",
				       "%s: field \"%s\": the pod's routes are in its main table, "
				       "at the scope of their gateway", where, refused[i]);
	if (vn_json_uint(o, "mtu", false, 65535, &mtu, where, e) ||
	    vn_json_uint(o, "advmss", false, 65535, &advmss, where, e) ||
	    vn_json_uint(o, "priority", false, UINT32_MAX, &prio, where, e))
		return -1;
	r->mtu = (uint32_t)mtu;
	r->advmss = (uint32_t)advmss;
	r->priority = (uint32_t)prio;
	return 0;
}

static int parse_routes(struct plugin_config *c, const json_t *ipam, struct vn_err *e)
{
	json_t *routes, *v;
	char where[48];
	size_t i;

	if (vn_json_arr(ipam, "routes", false, &routes, "config: ipam", e))
		return -1;
	if (!routes)
		return 0;
	if (json_array_size(routes) > CFG_MAX_ROUTES)
		return BAD(e, "config: ipam.routes: more than %d routes", CFG_MAX_ROUTES);
	json_array_foreach(routes, i, v) {
		struct cfg_route *r = &c->routes[c->n_routes];
		const char *dst, *gw;

		snprintf(where, sizeof(where), "config: ipam.routes[%zu]", i);
		if (!json_is_object(v))
			return BAD(e, "%s: expected an object", where);
		if (vn_json_str(v, "dst", true, &dst, where, e) ||
		    vn_json_str(v, "gw", false, &gw, where, e))
			return -1;
		if (vn_prefix_parse(dst, &r->dst))
			return BAD(e, "%s: field \"dst\": \"%s\" is not a CIDR prefix", where, dst);
		vn_prefix_canon(&r->dst);
		memset(&r->gw, 0, sizeof(r->gw));
		if (gw && parse_addr_field(gw, r->dst.addr.family, &r->gw, where, "gw", e))
			return -1;
		if (config_route_attrs(v, r, where, e))
			return -1;
		c->n_routes++;
	}
	return 0;
}

static int parse_data_dir(struct plugin_config *c, const json_t *ipam, struct vn_err *e)
{
	const char *dir;
	int n;

	if (vn_json_str(ipam, "dataDir", false, &dir, "config: ipam", e))
		return -1;
	if (dir && dir[0] != '/')
		return BAD(e, "config: ipam: field \"dataDir\": \"%s\" is not an absolute path", dir);
	if (dir)
		n = snprintf(c->data_dir, sizeof(c->data_dir), "%s", dir);
	else
		n = snprintf(c->data_dir, sizeof(c->data_dir), CFG_DEFAULT_DATA_DIR "/%s", c->name);
	if (n < 0 || (size_t)n >= sizeof(c->data_dir) - 32)
		return BAD(e, "config: ipam: field \"dataDir\" is too long");
	return 0;
}

static int parse_ipam(struct plugin_config *c, struct vn_err *e)
{
	json_t *ipam;

	if (vn_json_obj(c->root, "ipam", true, &ipam, "config", e) ||
	    vn_json_str(ipam, "type", false, &c->ipam_type, "config: ipam", e))
		return -1;
	c->ipam_builtin = !c->ipam_type || strcmp(c->ipam_type, "veilnet") == 0;
	if (!c->ipam_builtin && (!*c->ipam_type || strchr(c->ipam_type, '/') ||
				 c->ipam_type[0] == '.'))
		return BAD(e, "config: ipam: field \"type\": \"%s\" is not a plugin name",
			   c->ipam_type);
	if (parse_data_dir(c, ipam, e))
		return -1;
	if (!c->ipam_builtin)
		return 0;
	return parse_ranges(c, ipam, e) || parse_routes(c, ipam, e) ? -1 : 0;
}

static int check_str_array(const json_t *obj, const char *key, bool ips, const char *where,
			   struct vn_err *e)
{
	json_t *arr, *v;
	struct vn_addr a;
	size_t i;

	if (vn_json_arr(obj, key, false, &arr, where, e))
		return -1;
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v))
			return BAD(e, "%s: field \"%s\"[%zu]: expected a string", where, key, i);
		if (ips && vn_addr_parse(json_string_value(v), &a))
			return BAD(e, "%s: field \"%s\"[%zu]: \"%s\" is not an IP address", where,
				   key, i, json_string_value(v));
	}
	return 0;
}

static int parse_dns(struct plugin_config *c, struct vn_err *e)
{
	const char *domain;

	if (vn_json_obj(c->root, "dns", false, &c->dns, "config", e))
		return -1;
	if (!c->dns)
		return 0;
	return vn_json_str(c->dns, "domain", false, &domain, "config: dns", e) ||
	       check_str_array(c->dns, "nameservers", true, "config: dns", e) ||
	       check_str_array(c->dns, "search", false, "config: dns", e) ||
	       check_str_array(c->dns, "options", false, "config: dns", e) ? -1 : 0;
}

static int parse_runtime(struct plugin_config *c, struct vn_err *e)
{
	json_t *rc, *ips, *v;
	size_t i;

	if (vn_json_obj(c->root, "runtimeConfig", false, &rc, "config", e) ||
	    vn_json_arr(rc, "ips", false, &ips, "config: runtimeConfig", e))
		return -1;
	json_array_foreach(ips, i, v) {
		if (!json_is_string(v))
			return BAD(e, "config: runtimeConfig.ips[%zu]: expected a string", i);
		if (cni_ip_list_add(json_string_value(v), c->req_ips, IPAM_MAX_SETS, &c->n_req_ips,
				    VN_E_INVALID, "config: runtimeConfig.ips", e))
			return -1;
	}
	return 0;
}

/* The GC list under key: absent (0), or an array, where null is an empty
 * one: libcni sends null when the runtime has no valid attachment (a Go
 * nil slice). The empty array replaces the null in root, which owns it. */
static int attachments_under(struct plugin_config *c, const char *key, struct vn_err *e)
{
	json_t *v = json_object_get(c->root, key);

	if (!v)
		return 0;
	if (json_is_null(v) && json_object_set_new(c->root, key, json_array()))
		return vn_errf(e, VN_E_IO, "I/O error", "out of memory");
	return vn_json_arr(c->root, key, false, &c->attachments, "config", e);
}

/* cni.dev/valid-attachments (libcni) or cni.dev/attachments (the spec text). */
static int parse_attachments(struct plugin_config *c, struct vn_err *e)
{
	static const char *const keys[] = { "cni.dev/valid-attachments", "cni.dev/attachments" };
	json_t *v;
	size_t i;

	for (int k = 0; k < 2 && !c->attachments; k++)
		if (attachments_under(c, keys[k], e))
			return -1;
	json_array_foreach(c->attachments, i, v) {
		const char *cid, *ifname;
		char where[64];

		snprintf(where, sizeof(where), "config: attachments[%zu]", i);
		if (!json_is_object(v))
			return BAD(e, "%s: expected an object", where);
		if (vn_json_str(v, "containerID", true, &cid, where, e) ||
		    vn_json_str(v, "ifname", true, &ifname, where, e))
			return -1;
	}
	return 0;
}

static int valid_network_name(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("_.-", *s)))
			return 0;
	return 1;
}

static int parse_top(struct plugin_config *c, struct vn_err *e)
{
	uint64_t mtu = 0;
	static const char *const levels[] = { "error", "warn", "info", "debug" };
	bool level_ok = false;

	if (vn_json_str(c->root, "cniVersion", true, &c->cni_version, "config", e))
		return -1;
	c->ver = cni_version_parse(c->cni_version);
	if (c->ver < 0)
		return vn_errf(e, VN_E_INCOMPATIBLE, "incompatible CNI version",
			       "config: cniVersion \"%s\" is not one of 0.3.0 0.3.1 0.4.0 1.0.0 1.1.0",
			       c->cni_version);
	if (vn_json_str(c->root, "name", true, &c->name, "config", e) ||
	    vn_json_str(c->root, "type", false, &c->type, "config", e) ||
	    vn_json_uint(c->root, "mtu", false, 65535, &mtu, "config", e) ||
	    vn_json_str(c->root, "logFile", false, &c->log_file, "config", e) ||
	    vn_json_str(c->root, "logLevel", false, &c->log_level, "config", e) ||
	    vn_json_obj(c->root, "prevResult", false, &c->prev_result, "config", e))
		return -1;
	if (!valid_network_name(c->name))
		return BAD(e, "config: field \"name\": \"%s\" is not a valid network name", c->name);
	if (mtu && mtu < 68)
		return BAD(e, "config: field \"mtu\": %llu is below 68", (unsigned long long)mtu);
	c->mtu = (unsigned int)mtu;
	for (int i = 0; c->log_level && i < 4; i++)
		level_ok |= strcmp(c->log_level, levels[i]) == 0;
	if (c->log_level && !level_ok)
		return BAD(e, "config: field \"logLevel\": \"%s\" is not error, warn, info or debug",
			   c->log_level);
	return 0;
}

int config_parse(const char *text, size_t len, struct plugin_config *c, struct vn_err *e)
{
	memset(c, 0, sizeof(*c));
	c->root = vn_json_parse(text, len, "config", e);
	if (!c->root)
		return -1;
	if (!json_is_object(c->root))
		return vn_errf(e, VN_E_DECODE, "decoding failure", "config: expected a JSON object");
	if (parse_top(c, e) || parse_ipam(c, e) || parse_dns(c, e) || parse_runtime(c, e) ||
	    parse_attachments(c, e))
		return -1;
	return 0;
}

void config_free(struct plugin_config *c)
{
	if (c->root)
		json_decref(c->root);
	memset(c, 0, sizeof(*c));
}

void config_peek_version(const char *text, size_t len, char *out, size_t size)
{
	json_t *root = text && len ? json_loadb(text, len, 0, NULL) : NULL;
	json_t *v = root ? json_object_get(root, "cniVersion") : NULL;

	snprintf(out, size, "%s", json_is_string(v) ? json_string_value(v) : "");
	if (root)
		json_decref(root);
}
