#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <veilnet/json.h>
#include "result.h"
#include "version.h"

void result_gateway(int family, struct vn_addr *out)
{
	vn_addr_parse(family == AF_INET ? GATEWAY4 : GATEWAY6, out);
}

static bool has_family(const struct vn_addr *ips, size_t n, int family)
{
	for (size_t i = 0; i < n; i++)
		if (ips[i].family == family)
			return true;
	return false;
}

void result_plan_routes(const struct plugin_config *c, const struct vn_addr *ips, size_t n_ips,
			struct cfg_route *out, size_t *n_out)
{
	static const int families[] = { AF_INET, AF_INET6 };

	*n_out = 0;
	for (int f = 0; f < 2; f++) {
		if (!has_family(ips, n_ips, families[f]))
			continue;
		memset(&out[*n_out], 0, sizeof(out[0]));
		out[*n_out].dst.addr.family = families[f];
		result_gateway(families[f], &out[*n_out].gw);
		(*n_out)++;
	}
	for (size_t i = 0; i < c->n_routes && *n_out < RESULT_MAX_ROUTES; i++) {
		struct cfg_route r = c->routes[i];

		if (!has_family(ips, n_ips, r.dst.addr.family) || r.dst.len == 0)
			continue;
		if (!r.gw.family)
			result_gateway(r.dst.addr.family, &r.gw);
		out[(*n_out)++] = r;
	}
}

const char *result_mac_str(const uint8_t m[6], char *buf)
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return buf;
}

/* Appends json values to arr, or to a new array stored under key. */
static json_t *array_of(json_t *o, const char *key)
{
	json_t *a = json_object_get(o, key);

	if (json_is_array(a))
		return a;
	a = json_array();
	if (json_object_set_new(o, key, a))
		return NULL;
	return a;
}

static int add_interface(json_t *ifs, const char *name, const uint8_t mac[6], const char *sandbox,
			 unsigned int mtu, int ver)
{
	char buf[18];
	json_t *o = json_object();

	if (!o)
		return -1;
	json_object_set_new(o, "name", json_string(name));
	json_object_set_new(o, "mac", json_string(result_mac_str(mac, buf)));
	if (ver >= CNI_V110 && mtu)
		json_object_set_new(o, "mtu", json_integer(mtu));
	if (sandbox)
		json_object_set_new(o, "sandbox", json_string(sandbox));
	return json_array_append_new(ifs, o);
}

static int add_ip(json_t *ips, const struct vn_addr *a, size_t iface, int ver)
{
	struct vn_prefix p = { .addr = *a, .len = vn_addr_size(a->family) * 8 };
	char buf[VN_PREFIX_STRLEN];
	json_t *o = json_object();

	if (!o)
		return -1;
	if (cni_version_ip_has_version(ver))
		json_object_set_new(o, "version", json_string(a->family == AF_INET ? "4" : "6"));
	json_object_set_new(o, "address", json_string(vn_prefix_str(&p, buf)));
	json_object_set_new(o, "gateway",
			    json_string(a->family == AF_INET ? GATEWAY4 : GATEWAY6));
	json_object_set_new(o, "interface", json_integer((json_int_t)iface));
	return json_array_append_new(ips, o);
}

/* A route; its attributes from 1.1.0 on, when set. */
static int add_route(json_t *routes, const struct cfg_route *r, int ver)
{
	char d[VN_PREFIX_STRLEN], g[VN_ADDR_STRLEN];
	json_t *o = json_object();

	if (!o)
		return -1;
	json_object_set_new(o, "dst", json_string(vn_prefix_str(&r->dst, d)));
	json_object_set_new(o, "gw", json_string(vn_addr_str(&r->gw, g)));
	if (cni_version_route_has_attrs(ver)) {
		if (r->mtu)
			json_object_set_new(o, "mtu", json_integer(r->mtu));
		if (r->advmss)
			json_object_set_new(o, "advmss", json_integer(r->advmss));
		if (r->priority)
			json_object_set_new(o, "priority", json_integer(r->priority));
	}
	return json_array_append_new(routes, o);
}

/* dns from the config unless the previous result already carries some. */
static int add_dns(json_t *out, const json_t *dns)
{
	json_t *prev = json_object_get(out, "dns");

	if (!dns || (json_is_object(prev) && json_object_size(prev)))
		return 0;
	return json_object_set_new(out, "dns", json_deep_copy(dns));
}

json_t *result_build(const struct add_result *r, int ver, const json_t *prev)
{
	json_t *out = prev ? json_deep_copy(prev) : json_object();
	json_t *ifs, *ips, *routes;
	size_t pod_idx;
	int bad = 0;

	if (!out)
		return NULL;
	json_object_set_new(out, "cniVersion", json_string(cni_version_str(ver)));
	ifs = array_of(out, "interfaces");
	ips = array_of(out, "ips");
	routes = array_of(out, "routes");
	if (!ifs || !ips || !routes)
		goto fail;
	pod_idx = json_array_size(ifs) + 1;
	bad |= add_interface(ifs, r->host_ifname, r->host_mac, NULL, r->mtu, ver);
	bad |= add_interface(ifs, r->pod_ifname, r->pod_mac, r->sandbox, r->mtu, ver);
	for (size_t i = 0; i < r->n_ips; i++)
		bad |= add_ip(ips, &r->ips[i], pod_idx, ver);
	for (size_t i = 0; i < r->n_routes; i++)
		bad |= add_route(routes, &r->routes[i], ver);
	bad |= add_dns(out, r->dns);
	if (!bad)
		return out;
fail:
	json_decref(out);
	return NULL;
}

char *result_error_json(const char *cni_version, const struct vn_err *e)
{
	json_t *o = json_object();
	char *text;

	if (!o)
		return NULL;
	json_object_set_new(o, "cniVersion",
			    json_string(cni_version && *cni_version ? cni_version : CNI_LATEST));
	json_object_set_new(o, "code", json_integer(e->code));
	json_object_set_new(o, "msg", json_string(e->msg[0] ? e->msg : "error"));
	if (e->details[0])
		json_object_set_new(o, "details", json_string(e->details));
	text = json_dumps(o, JSON_PRESERVE_ORDER | JSON_INDENT(2));
	json_decref(o);
	return text;
}

char *result_version_json(const char *requested)
{
	static const char *const versions[] = CNI_SUPPORTED_VERSIONS;
	json_t *o = json_object(), *list = json_array();
	char *text = NULL;
	int bad = !o || !list;

	for (size_t i = 0; !bad && i < sizeof(versions) / sizeof(versions[0]); i++)
		bad |= json_array_append_new(list, json_string(versions[i]));
	if (bad)
		goto cleanup;
	bad |= json_object_set_new(o, "cniVersion", json_string(requested ? requested : CNI_LATEST));
	bad |= json_object_set(o, "supportedVersions", list);
	if (!bad)
		text = json_dumps(o, JSON_PRESERVE_ORDER | JSON_INDENT(2));
cleanup:
	if (list)
		json_decref(list);
	if (o)
		json_decref(o);
	return text;
}

int result_ipam_routes(const json_t *ipam_result, struct cfg_route *out, size_t max, size_t *n,
		       struct vn_err *e)
{
	json_t *routes = json_object_get(ipam_result, "routes"), *it;
	size_t i;

	*n = 0;
	json_array_foreach(routes, i, it) {
		const char *dst = json_string_value(json_object_get(it, "dst"));
		struct cfg_route r;
		char where[48];

		memset(&r, 0, sizeof(r));
		if (!dst || vn_prefix_parse(dst, &r.dst))
			return vn_errf(e, VN_E_DECODE, "decoding failure",
				       "IPAM result: routes[%zu]: \"dst\" is not a CIDR prefix", i);
		snprintf(where, sizeof(where), "IPAM result: routes[%zu]", i);
		if (config_route_attrs(it, &r, where, e))
			return -1;
		vn_prefix_canon(&r.dst);
		result_gateway(r.dst.addr.family, &r.gw);
		if (*n < max)
			out[(*n)++] = r;
	}
	return 0;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;

	if (!s || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
			 &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

#define PREV_BAD(e, ...) vn_errf(e, VN_E_INVALID, "invalid configuration", __VA_ARGS__)

static int view_interfaces(const json_t *prev, const char *host, const char *ifname,
			   const char *netns, struct prev_view *v, struct vn_err *e)
{
	json_t *ifs, *it;
	size_t i;

	if (vn_json_arr(prev, "interfaces", true, &ifs, "prevResult", e))
		return -1;
	json_array_foreach(ifs, i, it) {
		const char *name, *sandbox, *mac;

		if (!json_is_object(it))
			return PREV_BAD(e, "prevResult: interfaces[%zu]: expected an object", i);
		if (vn_json_str(it, "name", true, &name, "prevResult: interfaces[]", e) ||
		    vn_json_str(it, "sandbox", false, &sandbox, "prevResult: interfaces[]", e) ||
		    vn_json_str(it, "mac", false, &mac, "prevResult: interfaces[]", e))
			return -1;
		if (strcmp(name, host) == 0 && (!sandbox || !*sandbox))
			v->host_idx = (int)i;
		if (strcmp(name, ifname) == 0 && sandbox && strcmp(sandbox, netns) == 0) {
			v->pod_idx = (int)i;
			v->has_pod_mac = parse_mac(mac, v->pod_mac) == 0;
		}
	}
	if (v->pod_idx < 0)
		return PREV_BAD(e, "prevResult: no interface %s with sandbox %s", ifname, netns);
	if (v->host_idx < 0)
		return PREV_BAD(e, "prevResult: no host interface %s", host);
	return 0;
}

static int view_ips(const json_t *prev, struct prev_view *v, struct vn_err *e)
{
	json_t *ips, *it;
	size_t i;

	if (vn_json_arr(prev, "ips", false, &ips, "prevResult", e))
		return -1;
	json_array_foreach(ips, i, it) {
		const char *addr;
		uint64_t idx = UINT64_MAX;

		if (!json_is_object(it))
			return PREV_BAD(e, "prevResult: ips[%zu]: expected an object", i);
		if (vn_json_str(it, "address", true, &addr, "prevResult: ips[]", e) ||
		    vn_json_uint(it, "interface", false, 1024, &idx, "prevResult: ips[]", e))
			return -1;
		if (idx != (uint64_t)v->pod_idx || v->n_ips >= STORE_MAX_IPS)
			continue;
		if (vn_prefix_parse(addr, &v->ips[v->n_ips]))
			return PREV_BAD(e, "prevResult: ips[%zu]: \"%s\" is not a CIDR address", i, addr);
		v->n_ips++;
	}
	return 0;
}

static int view_routes(const json_t *prev, struct prev_view *v, struct vn_err *e)
{
	json_t *routes, *it;
	size_t i;

	if (vn_json_arr(prev, "routes", false, &routes, "prevResult", e))
		return -1;
	json_array_foreach(routes, i, it) {
		struct cfg_route *r = &v->routes[v->n_routes];
		const char *dst, *gw;

		if (!json_is_object(it) || v->n_routes >= RESULT_MAX_ROUTES)
			continue;
		if (vn_json_str(it, "dst", true, &dst, "prevResult: routes[]", e) ||
		    vn_json_str(it, "gw", false, &gw, "prevResult: routes[]", e))
			return -1;
		memset(r, 0, sizeof(*r));
		if (vn_prefix_parse(dst, &r->dst) || (gw && vn_addr_parse(gw, &r->gw)))
			return PREV_BAD(e, "prevResult: routes[%zu]: bad dst or gw", i);
		v->n_routes++;
	}
	return 0;
}

int result_view(const json_t *prev, const char *host_ifname, const char *ifname,
		const char *netns, struct prev_view *v, struct vn_err *e)
{
	memset(v, 0, sizeof(*v));
	v->host_idx = v->pod_idx = -1;
	if (!prev)
		return PREV_BAD(e, "config: field \"prevResult\" is required");
	return view_interfaces(prev, host_ifname, ifname, netns, v, e) ||
	       view_ips(prev, v, e) || view_routes(prev, v, e) ? -1 : 0;
}
