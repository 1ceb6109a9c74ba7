#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <veilnet/json.h>
#include "result.h"

/* The result types of libcni: 020 (0.1.0, 0.2.0), 040 (0.3.x, 0.4.0), 100. */
enum fam { FAM_NONE, FAM_020, FAM_040, FAM_100 };

static enum fam family(const char *v)
{
	static const struct {
		const char *v;
		enum fam f;
	} known[] = {
		{"0.1.0", FAM_020}, {"0.2.0", FAM_020}, {"0.3.0", FAM_040}, {"0.3.1", FAM_040},
		{"0.4.0", FAM_040}, {"1.0.0", FAM_100}, {"1.1.0", FAM_100},
	};

	for (size_t i = 0; v && i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(v, known[i].v))
			return known[i].f;
	return FAM_NONE;
}

bool cnt_result_version_known(const char *v)
{
	return family(v) != FAM_NONE;
}

/* One object being copied from src into dst; where names it ("" for the
 * result itself, "ips[1]", ...). */
struct obj {
	const json_t *src;
	json_t *dst;
	const char *where;
	struct vn_err *e;
};

static int bad(const struct obj *o, const char *key, const char *what)
{
	return vn_errf(o->e, VN_E_DECODE, "decoding failure", "plugin result: %s%s%s: %s",
		       o->where, *o->where ? "." : "", key, what);
}

/* obj[key], with JSON null counting as absent. */
static json_t *field(const struct obj *o, const char *key)
{
	json_t *v = json_object_get(o->src, key);

	return json_is_null(v) ? NULL : v;
}

/* A string; empty ones are left out unless always (a non-omitempty field). */
static int put_str(struct obj *o, const char *key, bool always)
{
	json_t *v = field(o, key);
	const char *s = v ? json_string_value(v) : "";

	if (!s)
		return bad(o, key, "expected a string");
	if (*s || always)
		json_object_set_new(o->dst, key, json_string(s));
	return 0;
}

/* An int; 0 is left out unless keep_zero (a pointer field: present is kept). */
static int put_int(struct obj *o, const char *key, bool keep_zero)
{
	json_t *v = field(o, key);

	if (!v)
		return 0;
	if (!json_is_integer(v))
		return bad(o, key, "expected an integer");
	if (json_integer_value(v) || keep_zero)
		json_object_set_new(o->dst, key, json_integer(json_integer_value(v)));
	return 0;
}

/* A list of strings, left out when empty. */
static int put_strs(struct obj *o, const char *key)
{
	json_t *v = field(o, key), *it;
	size_t i;

	if (!v)
		return 0;
	if (!json_is_array(v))
		return bad(o, key, "expected a list of strings");
	json_array_foreach(v, i, it)
		if (!json_is_string(it))
			return bad(o, key, "expected a list of strings");
	if (json_array_size(v))
		json_object_set_new(o->dst, key, json_deep_copy(v));
	return 0;
}

/* The canonical text of an IPv4 or IPv6 address (an IPv4-mapped IPv6
 * address prints as IPv4, as Go's net.IP does). Returns the family or 0. */
static int canon_ip(const char *s, char *out, size_t len)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, s, a) == 1)
		return inet_ntop(AF_INET, a, out, (socklen_t)len) ? AF_INET : 0;
	if (inet_pton(AF_INET6, s, a) != 1)
		return 0;
	if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)a))
		return inet_ntop(AF_INET, a + 12, out, (socklen_t)len) ? AF_INET : 0;
	return inet_ntop(AF_INET6, a, out, (socklen_t)len) ? AF_INET6 : 0;
}

/* An IP address (Go net.IP, omitempty). */
static int put_ip(struct obj *o, const char *key)
{
	char buf[INET6_ADDRSTRLEN];
	json_t *v = field(o, key);
	const char *s = v ? json_string_value(v) : "";

	if (!s)
		return bad(o, key, "expected a string");
	if (!*s)
		return 0;
	if (!canon_ip(s, buf, sizeof(buf)))
		return bad(o, key, "not an IP address");
	json_object_set_new(o->dst, key, json_string(buf));
	return 0;
}

/* Room for "ADDR/LEN". */
#define CIDR_LEN (INET6_ADDRSTRLEN + 16)

/* Parses "ADDR/LEN" (Go's net.ParseCIDR, address kept). Returns the family
 * and the canonical text in out, or 0. */
static int parse_cidr(const char *s, char *out, size_t len)
{
	char addr[CIDR_LEN], canon[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	int bits = 0;
	int af;

	if (!slash || (size_t)(slash - s) >= sizeof(addr) || !slash[1])
		return 0;
	for (const char *p = slash + 1; *p; p++) {
		if (!isdigit((unsigned char)*p) || bits > 128)
			return 0;
		bits = bits * 10 + (*p - '0');
	}
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	af = canon_ip(addr, canon, sizeof(canon));
	if (!af || bits > (af == AF_INET ? 32 : 128))
		return 0;
	snprintf(out, len, "%s/%d", canon, bits);
	return af;
}

/* An address with prefix length (Go types.IPNet, always present). */
static int put_cidr(struct obj *o, const char *key)
{
	char buf[CIDR_LEN];
	json_t *v = field(o, key);

	if (!v)
		return bad(o, key, "missing");
	if (!json_is_string(v) || !parse_cidr(json_string_value(v), buf, sizeof(buf)))
		return bad(o, key, "not an address with a prefix length");
	json_object_set_new(o->dst, key, json_string(buf));
	return 0;
}

/* Makes one typed object from src; where names it. */
typedef int (*fill_fn)(struct obj *o, enum fam f);

static int fill_route(struct obj *o, enum fam f)
{
	(void)f;
	return put_cidr(o, "dst") || put_ip(o, "gw") || put_int(o, "mtu", false) ||
	       put_int(o, "advmss", false) || put_int(o, "priority", false) ||
	       put_int(o, "table", true) || put_int(o, "scope", true) ? -1 : 0;
}

static int fill_dns(struct obj *o, enum fam f)
{
	(void)f;
	return put_strs(o, "nameservers") || put_str(o, "domain", false) ||
	       put_strs(o, "search") || put_strs(o, "options") ? -1 : 0;
}

static int fill_iface(struct obj *o, enum fam f)
{
	if (put_str(o, "name", true) || put_str(o, "mac", false) ||
	    (f == FAM_100 && put_int(o, "mtu", false)) || put_str(o, "sandbox", false))
		return -1;
	if (f == FAM_100 && (put_str(o, "socketPath", false) || put_str(o, "pciID", false)))
		return -1;
	return 0;
}

static int fill_ip(struct obj *o, enum fam f)
{
	return (f == FAM_040 && put_str(o, "version", true)) || put_int(o, "interface", true) ||
	       put_cidr(o, "address") || put_ip(o, "gateway") ? -1 : 0;
}

static int put_list(struct obj *o, const char *key, enum fam f, fill_fn fill);

static int fill_ip020(struct obj *o, enum fam f)
{
	return put_cidr(o, "ip") || put_ip(o, "gateway") || put_list(o, "routes", f, fill_route)
		       ? -1 : 0;
}

/* Builds the typed form of src (an object) into a new object *out. */
static int make(const json_t *src, const char *where, enum fam f, fill_fn fill, json_t **out,
		struct vn_err *e)
{
	struct obj o = {.src = src, .dst = json_object(), .where = where, .e = e};

	*out = NULL;
	if (!json_is_object(src)) {
		json_decref(o.dst);
		return vn_errf(e, VN_E_DECODE, "decoding failure", "plugin result: %s: expected "
			       "an object", *where ? where : "result");
	}
	if (fill(&o, f)) {
		json_decref(o.dst);
		return -1;
	}
	*out = o.dst;
	return 0;
}

/* A list of typed objects, left out when empty. */
static int put_list(struct obj *o, const char *key, enum fam f, fill_fn fill)
{
	json_t *v = field(o, key), *arr, *it, *made;
	char where[256];
	size_t i;

	if (!v)
		return 0;
	if (!json_is_array(v))
		return bad(o, key, "expected a list");
	arr = json_array();
	json_array_foreach(v, i, it) {
		snprintf(where, sizeof(where), "%s%s%s[%zu]", o->where, *o->where ? "." : "", key, i);
		if (make(it, where, f, fill, &made, o->e)) {
			json_decref(arr);
			return -1;
		}
		json_array_append_new(arr, made);
	}
	if (json_array_size(arr))
		json_object_set_new(o->dst, key, arr);
	else
		json_decref(arr);
	return 0;
}

/* One typed object (ip4, ip6), left out when absent. */
static int put_one(struct obj *o, const char *key, enum fam f, fill_fn fill)
{
	json_t *v = field(o, key), *made;

	if (!v)
		return 0;
	if (make(v, key, f, fill, &made, o->e))
		return -1;
	json_object_set_new(o->dst, key, made);
	return 0;
}

/* dns: libcni's 1.x result leaves an empty one out, the older ones keep it. */
static int put_dns(struct obj *o, enum fam f)
{
	json_t *v = field(o, "dns"), *empty = v ? NULL : json_object(), *made;
	int rc = make(v ? v : empty, "dns", f, fill_dns, &made, o->e);

	json_decref(empty);
	if (rc)
		return -1;
	if (f == FAM_100 && json_object_size(made) == 0)
		json_decref(made);
	else
		json_object_set_new(o->dst, "dns", made);
	return 0;
}

json_t *cnt_result_create(const json_t *res, const char *version, struct vn_err *e)
{
	enum fam f = family(version);
	struct obj o = {.src = res, .where = "", .e = e};
	int rc;

	if (f == FAM_NONE) {
		vn_errf(e, VN_E_DECODE, "decoding failure", "unsupported CNI result version \"%s\"",
			version ? version : "");
		return NULL;
	}
	if (!json_is_object(res)) {
		vn_errf(e, VN_E_DECODE, "decoding failure", "plugin result is not a JSON object");
		return NULL;
	}
	o.dst = json_pack("{s:s}", "cniVersion", version);
	if (f == FAM_020)
		rc = put_one(&o, "ip4", f, fill_ip020) || put_one(&o, "ip6", f, fill_ip020);
	else
		rc = put_list(&o, "interfaces", f, fill_iface) || put_list(&o, "ips", f, fill_ip) ||
		     put_list(&o, "routes", f, fill_route);
	if (rc || put_dns(&o, f)) {
		json_decref(o.dst);
		return NULL;
	}
	return o.dst;
}

json_t *cnt_result_decode(const char *text, size_t len, const char *conf_version,
			  struct vn_err *e)
{
	json_error_t je;
	json_t *doc = json_loadb(text, len, JSON_DECODE_ANY, &je), *res;
	const char *v;

	if (!doc) {
		vn_errf(e, VN_E_DECODE, "decoding failure", "failed to unmarshal raw result: "
			"line %d column %d: %s", je.line, je.column, je.text);
		return NULL;
	}
	if (json_is_null(doc)) {
		json_decref(doc);
		doc = json_object();
	}
	if (!json_is_object(doc)) {
		json_decref(doc);
		vn_errf(e, VN_E_DECODE, "decoding failure",
			"failed to unmarshal raw result: not a JSON object");
		return NULL;
	}
	v = json_string_value(json_object_get(doc, "cniVersion"));
	res = cnt_result_create(doc, v && *v ? v : conf_version, e);
	json_decref(doc);
	return res;
}

/* The "version" of an ip for a 0.x result: "4" or "6" by its address. */
static const char *ip_version(const json_t *ip)
{
	char buf[CIDR_LEN];
	const char *a = json_string_value(json_object_get(ip, "address"));

	return a && parse_cidr(a, buf, sizeof(buf)) == AF_INET ? "4" : "6";
}

/* 1.x -> 0.3.x/0.4.0: interfaces lose mtu, socketPath and pciID, ips get a
 * version, dns is always there. */
static void down_to_040(json_t *r)
{
	json_t *it, *dns = json_object_get(r, "dns");
	size_t i;

	json_array_foreach(json_object_get(r, "interfaces"), i, it) {
		json_object_del(it, "mtu");
		json_object_del(it, "socketPath");
		json_object_del(it, "pciID");
	}
	json_array_foreach(json_object_get(r, "ips"), i, it)
		json_object_set_new(it, "version", json_string(ip_version(it)));
	if (!dns)
		json_object_set_new(r, "dns", json_object());
}

/* 0.3.x/0.4.0 -> 1.x: ips lose their version, an empty dns goes. */
static void up_to_100(json_t *r)
{
	json_t *it;
	size_t i;

	json_array_foreach(json_object_get(r, "ips"), i, it)
		json_object_del(it, "version");
	if (json_object_size(json_object_get(r, "dns")) == 0)
		json_object_del(r, "dns");
}

json_t *cnt_result_convert(const json_t *res, const char *to, struct vn_err *e)
{
	const char *from = json_string_value(json_object_get(res, "cniVersion"));
	enum fam ff, tf = family(to);
	json_t *out;

	if (!from || !*from)
		from = "0.1.0";
	if (!strcmp(from, to))
		return json_incref((json_t *)res);
	ff = family(from);
	if (ff == FAM_NONE || tf == FAM_NONE || ff == FAM_020 || tf == FAM_020) {
		vn_errf(e, VN_E_INCOMPATIBLE, "incompatible CNI versions",
			"no converter for CNI result version %s to %s%s", from, to,
			ff == FAM_020 || tf == FAM_020 ? " (cni-test does not convert 0.1.0/0.2.0 "
							 "results)" : "");
		return NULL;
	}
	out = json_deep_copy(res);
	json_object_set_new(out, "cniVersion", json_string(to));
	if (ff == FAM_100 && tf == FAM_040)
		down_to_040(out);
	else if (ff == FAM_040 && tf == FAM_100)
		up_to_100(out);
	return out;
}

json_t *cnt_result_cached(const json_t *raw, const char *to, struct vn_err *e)
{
	const char *v = json_string_value(json_object_get(raw, "cniVersion"));
	json_t *typed = cnt_result_create(raw, v && *v ? v : "0.1.0", e), *out;

	if (!typed)
		return NULL;
	out = cnt_result_convert(typed, to, e);
	json_decref(typed);
	return out;
}
