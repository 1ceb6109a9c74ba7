#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "parse.h"

/* Where we are while reading one object: its name for errors and the
 * field path ("spec.ingress[0].from[1]"). */
struct jp {
	char where[400];
	char path[512];
	size_t len;
	struct vn_err *e;
};

static size_t jp_push(struct jp *p, const char *key)
{
	size_t old = p->len;
	int n = snprintf(p->path + p->len, sizeof(p->path) - p->len, "%s%s",
			 p->len ? "." : "", key);

	if (n > 0)
		p->len = p->len + (size_t)n < sizeof(p->path) ? p->len + (size_t)n : sizeof(p->path) - 1;
	return old;
}

static size_t jp_index(struct jp *p, size_t i)
{
	size_t old = p->len;
	int n = snprintf(p->path + p->len, sizeof(p->path) - p->len, "[%zu]", i);

	if (n > 0)
		p->len = p->len + (size_t)n < sizeof(p->path) ? p->len + (size_t)n : sizeof(p->path) - 1;
	return old;
}

static void jp_pop(struct jp *p, size_t old)
{
	p->len = old;
	p->path[old] = '\0';
}

__attribute__((format(printf, 2, 3)))
static int jp_err(struct jp *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->len)
		return vn_errf(p->e, VN_E_INVALID, "invalid input", "%s: %s: %s",
			       p->where, p->path, msg);
	return vn_errf(p->e, VN_E_INVALID, "invalid input", "%s: %s", p->where, msg);
}

static int oom(struct jp *p)
{
	return vn_errf(p->e, VN_E_IO, "I/O error", "%s: out of memory", p->where);
}

/* Gets obj[key] (JSON null counts as absent) with a type check.
 * Returns 0 (*out NULL if absent) or -1. */
static int jp_get(struct jp *p, const json_t *obj, const char *key, int type,
		  json_t **out)
{
	static const char *const names[] = {
		[JSON_OBJECT] = "an object", [JSON_ARRAY] = "an array",
		[JSON_STRING] = "a string", [JSON_INTEGER] = "an integer",
		[JSON_TRUE] = "true or false",
	};
	json_t *v = json_object_get(obj, key);
	bool ok;

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	ok = type == JSON_TRUE ? json_is_boolean(v) : (int)json_typeof(v) == type;
	if (!ok) {
		size_t old = jp_push(p, key);

		jp_err(p, "expected %s", names[type]);
		jp_pop(p, old);
		return -1;
	}
	*out = v;
	return 0;
}

static int jp_str(struct jp *p, const json_t *obj, const char *key, const char **out)
{
	json_t *v;

	*out = NULL;
	if (jp_get(p, obj, key, JSON_STRING, &v))
		return -1;
	if (v)
		*out = json_string_value(v);
	return 0;
}

/* ---- name and label syntax ---- */

static bool alnum_lower(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool np_valid_dns_label(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63 || !alnum_lower(s[0]) || !alnum_lower(s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!alnum_lower(s[i]) && s[i] != '-')
			return false;
	return true;
}

bool np_valid_dns_subdomain(const char *s)
{
	char buf[254];
	size_t n = strlen(s);

	if (n == 0 || n > 253)
		return false;
	memcpy(buf, s, n + 1);
	for (char *save, *part = strtok_r(buf, ".", &save); part; part = strtok_r(NULL, ".", &save))
		if (!np_valid_dns_label(part))
			return false;
	return s[0] != '.' && s[n - 1] != '.' && !strstr(s, "..");
}

/* A "qualified name" part: [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, <= 63. */
static bool valid_qualified_part(const char *s, size_t n)
{
	if (n == 0 || n > 63 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("-_.", s[i]))
			return false;
	return true;
}

bool np_valid_label_key(const char *s)
{
	const char *slash = strchr(s, '/');
	char prefix[254];

	if (!slash)
		return valid_qualified_part(s, strlen(s));
	if ((size_t)(slash - s) >= sizeof(prefix))
		return false;
	memcpy(prefix, s, (size_t)(slash - s));
	prefix[slash - s] = '\0';
	return np_valid_dns_subdomain(prefix) && valid_qualified_part(slash + 1, strlen(slash + 1));
}

bool np_valid_label_value(const char *s)
{
	return s[0] == '\0' || valid_qualified_part(s, strlen(s));
}

bool np_valid_port_name(const char *s)
{
	size_t n = strlen(s);
	bool letter = false;

	if (n == 0 || n > 15 || s[0] == '-' || s[n - 1] == '-' || strstr(s, "--"))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] >= 'a' && s[i] <= 'z')
			letter = true;
		else if (!(s[i] >= '0' && s[i] <= '9') && s[i] != '-')
			return false;
	}
	return letter;
}

/* ---- labels and selectors ---- */

static int label_cmp(const void *a, const void *b)
{
	return strcmp(((const struct np_label *)a)->key, ((const struct np_label *)b)->key);
}

/* Reads a map of label key -> value at obj[key] into *l (sorted). */
static int parse_labels(struct jp *p, const json_t *obj, const char *key, struct np_labels *l)
{
	json_t *m, *v;
	const char *k;
	size_t old;
	int rc = -1;

	memset(l, 0, sizeof(*l));
	if (jp_get(p, obj, key, JSON_OBJECT, &m))
		return -1;
	if (!m)
		return 0;
	old = jp_push(p, key);
	l->v = calloc(json_object_size(m) + 1, sizeof(*l->v));
	if (!l->v) {
		oom(p);
		goto out;
	}
	json_object_foreach(m, k, v) {
		if (!np_valid_label_key(k)) {
			jp_err(p, "\"%s\" is not a valid label key", k);
			goto out;
		}
		if (!json_is_string(v) || !np_valid_label_value(json_string_value(v))) {
			jp_err(p, "label \"%s\": value must be a valid label value (at most 63 "
			       "characters: letters, digits, '-', '_', '.')", k);
			goto out;
		}
		l->v[l->n].key = strdup(k);
		l->v[l->n].value = strdup(json_string_value(v));
		l->n++;
		if (!l->v[l->n - 1].key || !l->v[l->n - 1].value) {
			oom(p);
			goto out;
		}
	}
	qsort(l->v, l->n, sizeof(*l->v), label_cmp);
	rc = 0;
out:
	if (rc)
		np_labels_free(l);
	jp_pop(p, old);
	return rc;
}

static int parse_op(struct jp *p, const char *s, enum np_op *op)
{
	static const char *const names[] = { "In", "NotIn", "Exists", "DoesNotExist" };

	for (int i = 0; i < 4; i++) {
		if (s && !strcmp(s, names[i])) {
			*op = (enum np_op)i;
			return 0;
		}
	}
	return jp_err(p, "operator: \"%s\" is not one of In, NotIn, Exists, DoesNotExist",
		      s ? s : "");
}

static int parse_expr(struct jp *p, const json_t *j, struct np_expr *x)
{
	const char *key, *op;
	json_t *vals;

	if (!json_is_object(j))
		return jp_err(p, "expected an object");
	if (jp_str(p, j, "key", &key) || jp_str(p, j, "operator", &op) ||
	    jp_get(p, j, "values", JSON_ARRAY, &vals))
		return -1;
	if (!key || !np_valid_label_key(key))
		return jp_err(p, "key: \"%s\" is not a valid label key", key ? key : "");
	if (parse_op(p, op, &x->op))
		return -1;
	x->key = strdup(key);
	if (!x->key)
		return oom(p);
	if ((x->op == NP_OP_IN || x->op == NP_OP_NOT_IN) && json_array_size(vals) == 0)
		return jp_err(p, "values: must be non-empty when operator is %s", op);
	if ((x->op == NP_OP_EXISTS || x->op == NP_OP_DOES_NOT_EXIST) && json_array_size(vals))
		return jp_err(p, "values: must be empty when operator is %s", op);
	x->values = calloc(json_array_size(vals) + 1, sizeof(char *));
	if (!x->values)
		return oom(p);
	for (size_t i = 0; i < json_array_size(vals); i++) {
		json_t *v = json_array_get(vals, i);

		if (!json_is_string(v) || !np_valid_label_value(json_string_value(v)))
			return jp_err(p, "values[%zu]: must be a valid label value", i);
		x->values[x->n_values] = strdup(json_string_value(v));
		if (!x->values[x->n_values++])
			return oom(p);
	}
	return 0;
}

/* Reads obj[key] as a LabelSelector. *present says whether it was there. */
static int parse_selector(struct jp *p, const json_t *obj, const char *key,
			  struct np_selector *s, bool *present)
{
	json_t *sel, *exprs;
	size_t old;
	int rc = -1;

	memset(s, 0, sizeof(*s));
	if (jp_get(p, obj, key, JSON_OBJECT, &sel))
		return -1;
	if (present)
		*present = sel != NULL;
	if (!sel)
		return 0;
	old = jp_push(p, key);
	if (parse_labels(p, sel, "matchLabels", &s->labels) ||
	    jp_get(p, sel, "matchExpressions", JSON_ARRAY, &exprs))
		goto out;
	s->exprs = calloc(json_array_size(exprs) + 1, sizeof(*s->exprs));
	if (!s->exprs) {
		oom(p);
		goto out;
	}
	for (size_t i = 0; i < json_array_size(exprs); i++) {
		size_t o2 = jp_push(p, "matchExpressions");

		jp_index(p, i);
		s->n_exprs++;
		if (parse_expr(p, json_array_get(exprs, i), &s->exprs[i]))
			goto out;
		jp_pop(p, o2);
	}
	rc = 0;
out:
	if (rc)
		np_selector_free(s);
	jp_pop(p, old);
	return rc;
}

/* ---- NetworkPolicy ---- */

/* An IPv4 CIDR written with leading zeros ("010.0.0.0/08"), which the API
 * server accepted before Kubernetes 1.33 and still keeps in old objects:
 * its octets are decimal. Parsed into *out; -1 if s is not that. */
static int legacy_ipv4_cidr(const char *s, struct vn_prefix *out)
{
	static const char ends[5] = { '.', '.', '.', '/', '\0' };
	unsigned int v[5] = { 0 };
	char buf[VN_PREFIX_STRLEN];

	for (int i = 0; i < 5; i++) {
		int n = 0;

		while (s[n] >= '0' && s[n] <= '9' && n < 6)
			v[i] = v[i] * 10 + (unsigned int)(s[n++] - '0');
		if (n == 0 || n > 5 || v[i] > (i < 4 ? 255u : 32u) || s[n] != ends[i])
			return -1;
		s += n + 1;
	}
	snprintf(buf, sizeof(buf), "%u.%u.%u.%u/%u", v[0], v[1], v[2], v[3], v[4]);
	return vn_prefix_parse(buf, out);
}

static int parse_cidr(struct jp *p, const json_t *j, struct vn_prefix *out)
{
	const char *s = json_is_string(j) ? json_string_value(j) : NULL;

	if (!s)
		return jp_err(p, "expected a CIDR string");
	if (!strchr(s, '/') || (vn_prefix_parse(s, out) && legacy_ipv4_cidr(s, out)))
		return jp_err(p, "\"%s\" is not a CIDR", s);
	vn_prefix_canon(out);
	return 0;
}

static int parse_ipblock(struct jp *p, const json_t *ipb, struct np_peer *peer)
{
	json_t *exc;
	size_t old;

	peer->kind = NP_PEER_IPBLOCK;
	old = jp_push(p, "cidr");
	if (!json_object_get(ipb, "cidr") || json_is_null(json_object_get(ipb, "cidr")))
		return jp_err(p, "required");
	if (parse_cidr(p, json_object_get(ipb, "cidr"), &peer->cidr))
		return -1;
	jp_pop(p, old);
	if (jp_get(p, ipb, "except", JSON_ARRAY, &exc))
		return -1;
	peer->except = calloc(json_array_size(exc) + 1, sizeof(*peer->except));
	if (!peer->except)
		return oom(p);
	for (size_t i = 0; i < json_array_size(exc); i++) {
		struct vn_prefix *x = &peer->except[peer->n_except];

		old = jp_push(p, "except");
		jp_index(p, i);
		if (parse_cidr(p, json_array_get(exc, i), x))
			return -1;
		if (x->addr.family != peer->cidr.addr.family || x->len <= peer->cidr.len ||
		    !vn_prefix_contains(&peer->cidr, &x->addr))
			return jp_err(p, "must be a strict subset of cidr");
		peer->n_except++;
		jp_pop(p, old);
	}
	return 0;
}

static int parse_peer(struct jp *p, const json_t *j, struct np_peer *peer)
{
	json_t *ipb;

	if (!json_is_object(j))
		return jp_err(p, "expected an object");
	if (parse_selector(p, j, "podSelector", &peer->pod_sel, &peer->has_pod_sel) ||
	    parse_selector(p, j, "namespaceSelector", &peer->ns_sel, &peer->has_ns_sel) ||
	    jp_get(p, j, "ipBlock", JSON_OBJECT, &ipb))
		return -1;
	if (ipb && (peer->has_pod_sel || peer->has_ns_sel))
		return jp_err(p, "may not specify ipBlock together with podSelector or "
			      "namespaceSelector");
	if (ipb) {
		size_t old = jp_push(p, "ipBlock");

		if (parse_ipblock(p, ipb, peer))
			return -1;
		jp_pop(p, old);
		return 0;
	}
	if (!peer->has_pod_sel && !peer->has_ns_sel)
		return jp_err(p, "must specify a peer (podSelector, namespaceSelector or ipBlock)");
	peer->kind = NP_PEER_PODS;
	return 0;
}

static int parse_port(struct jp *p, const json_t *j, struct np_port *port)
{
	json_t *num, *endp;
	const char *proto;

	if (!json_is_object(j))
		return jp_err(p, "expected an object");
	if (jp_str(p, j, "protocol", &proto) || jp_get(p, j, "endPort", JSON_INTEGER, &endp))
		return -1;
	port->proto = proto ? np_proto_parse(proto) : NP_TCP;
	if (!port->proto)
		return jp_err(p, "protocol: \"%s\" is not one of TCP, UDP, SCTP", proto);
	num = json_object_get(j, "port");
	if (!num || json_is_null(num)) {
		port->kind = NP_PORT_ANY;
	} else if (json_is_integer(num)) {
		json_int_t v = json_integer_value(num);

		if (v < 1 || v > 65535)
			return jp_err(p, "port: %lld is not between 1 and 65535", (long long)v);
		port->kind = NP_PORT_NUM;
		port->port = port->end_port = (uint16_t)v;
	} else if (json_is_string(num)) {
		if (!np_valid_port_name(json_string_value(num)))
			return jp_err(p, "port: \"%s\" is not a valid port name (IANA_SVC_NAME)",
				      json_string_value(num));
		port->kind = NP_PORT_NAME;
		port->name = strdup(json_string_value(num));
		if (!port->name)
			return oom(p);
	} else {
		return jp_err(p, "port: expected a number or a port name");
	}
	if (endp) {
		json_int_t v = json_integer_value(endp);

		if (port->kind != NP_PORT_NUM)
			return jp_err(p, "endPort: may only be given with a numeric port");
		if (v < port->port || v > 65535)
			return jp_err(p, "endPort: %lld must be between port (%u) and 65535",
				      (long long)v, port->port);
		port->end_port = (uint16_t)v;
	}
	return 0;
}

/* Reads the array obj[key] of objects with parse_one into *arr / *n. */
static int parse_array(struct jp *p, const json_t *obj, const char *key, void **arr,
		       size_t *n, size_t elem, int (*one)(struct jp *, const json_t *, void *))
{
	json_t *a;
	size_t old;

	*arr = NULL;
	*n = 0;
	if (jp_get(p, obj, key, JSON_ARRAY, &a))
		return -1;
	*arr = calloc(json_array_size(a) + 1, elem);
	if (!*arr)
		return oom(p);
	for (size_t i = 0; i < json_array_size(a); i++) {
		old = jp_push(p, key);
		jp_index(p, i);
		(*n)++;
		if (one(p, json_array_get(a, i), (char *)*arr + i * elem))
			return -1;
		jp_pop(p, old);
	}
	return 0;
}

static int one_peer(struct jp *p, const json_t *j, void *out)
{
	return parse_peer(p, j, out);
}

static int one_port(struct jp *p, const json_t *j, void *out)
{
	return parse_port(p, j, out);
}

static int parse_rule(struct jp *p, const json_t *j, struct np_rule *r, const char *peers_key)
{
	if (!json_is_object(j))
		return jp_err(p, "expected an object");
	if (parse_array(p, j, peers_key, (void **)&r->peers, &r->n_peers, sizeof(*r->peers),
			one_peer))
		return -1;
	return parse_array(p, j, "ports", (void **)&r->ports, &r->n_ports, sizeof(*r->ports),
			   one_port);
}

static int one_in_rule(struct jp *p, const json_t *j, void *out)
{
	return parse_rule(p, j, out, "from");
}

static int one_out_rule(struct jp *p, const json_t *j, void *out)
{
	return parse_rule(p, j, out, "to");
}

static int parse_types(struct jp *p, const json_t *spec, struct np_policy *pol)
{
	json_t *types, *eg;
	size_t old;

	if (jp_get(p, spec, "policyTypes", JSON_ARRAY, &types) ||
	    jp_get(p, spec, "egress", JSON_ARRAY, &eg))
		return -1;
	if (json_array_size(types) == 0) {
		/* The API server's default: Ingress, plus Egress if egress rules exist. */
		pol->types[NP_INGRESS] = true;
		pol->types[NP_EGRESS] = json_array_size(eg) > 0;
		return 0;
	}
	if (json_array_size(types) > 2)
		return jp_err(p, "policyTypes: may not have more than 2 entries");
	for (size_t i = 0; i < json_array_size(types); i++) {
		json_t *t = json_array_get(types, i);
		const char *s = json_is_string(t) ? json_string_value(t) : NULL;

		old = jp_push(p, "policyTypes");
		jp_index(p, i);
		if (!s)
			return jp_err(p, "expected a string");
		if (!strcmp(s, "Ingress"))
			pol->types[NP_INGRESS] = true;
		else if (!strcmp(s, "Egress"))
			pol->types[NP_EGRESS] = true;
		else
			return jp_err(p, "\"%s\" is not one of Ingress, Egress", s);
		jp_pop(p, old);
	}
	return 0;
}

static int parse_policy(struct jp *p, const json_t *j, struct np_policy *pol)
{
	json_t *spec;
	size_t old;

	if (jp_get(p, j, "spec", JSON_OBJECT, &spec))
		return -1;
	if (!spec) {
		/* The zero spec, as the API server takes it: every pod of the
		 * namespace, policyTypes defaulted to [Ingress], no rules. */
		pol->types[NP_INGRESS] = true;
		return 0;
	}
	old = jp_push(p, "spec");
	if (parse_selector(p, spec, "podSelector", &pol->pod_sel, NULL) ||
	    parse_types(p, spec, pol) ||
	    parse_array(p, spec, "ingress", (void **)&pol->rules[NP_INGRESS],
			&pol->n_rules[NP_INGRESS], sizeof(struct np_rule), one_in_rule) ||
	    parse_array(p, spec, "egress", (void **)&pol->rules[NP_EGRESS],
			&pol->n_rules[NP_EGRESS], sizeof(struct np_rule), one_out_rule))
		return -1;
	jp_pop(p, old);
	return 0;
}

/* ---- Pod ---- */

static int add_ip(struct jp *p, struct np_pod *pod, const char *s)
{
	struct vn_addr a;

	if (!s || vn_addr_parse(s, &a))
		return jp_err(p, "\"%s\" is not an IP address", s ? s : "");
	for (size_t i = 0; i < pod->n_ips; i++)
		if (vn_addr_cmp(&pod->ips[i], &a) == 0)
			return 0;
	if (pod->n_ips == NP_MAX_IPS)
		return jp_err(p, "more than %d addresses", NP_MAX_IPS);
	pod->ips[pod->n_ips++] = a;
	return 0;
}

static int parse_pod_ips(struct jp *p, const json_t *status, struct np_pod *pod)
{
	json_t *ips;
	const char *ip;
	size_t old;

	if (!status)
		return 0;
	if (jp_get(p, status, "podIPs", JSON_ARRAY, &ips) || jp_str(p, status, "podIP", &ip))
		return -1;
	for (size_t i = 0; i < json_array_size(ips); i++) {
		json_t *o = json_array_get(ips, i);
		const char *s = NULL;

		old = jp_push(p, "podIPs");
		jp_index(p, i);
		if (!json_is_object(o))
			return jp_err(p, "expected an object");
		if (jp_str(p, o, "ip", &s))
			return -1;
		jp_push(p, "ip");
		if (add_ip(p, pod, s))
			return -1;
		jp_pop(p, old);
	}
	if (ip && *ip) {
		old = jp_push(p, "podIP");
		if (add_ip(p, pod, ip))
			return -1;
		jp_pop(p, old);
	}
	return 0;
}

static int parse_cport(struct jp *p, const json_t *j, struct np_pod *pod)
{
	struct np_cport *cp = &pod->ports[pod->n_ports];
	const char *name, *proto;
	json_t *num;

	if (!json_is_object(j))
		return jp_err(p, "expected an object");
	if (jp_str(p, j, "name", &name) || jp_str(p, j, "protocol", &proto) ||
	    jp_get(p, j, "containerPort", JSON_INTEGER, &num))
		return -1;
	if (!num || json_integer_value(num) < 1 || json_integer_value(num) > 65535)
		return jp_err(p, "containerPort: must be between 1 and 65535");
	if (name && !np_valid_port_name(name))
		return jp_err(p, "name: \"%s\" is not a valid port name (IANA_SVC_NAME)", name);
	cp->proto = proto ? np_proto_parse(proto) : NP_TCP;
	if (!cp->proto)
		return jp_err(p, "protocol: \"%s\" is not one of TCP, UDP, SCTP", proto);
	cp->port = (uint16_t)json_integer_value(num);
	if (name && !(cp->name = strdup(name)))
		return oom(p);
	pod->n_ports++;
	return 0;
}

/* Does container c serve for the pod's whole life? Regular containers do,
 * and so do sidecars: init containers with restartPolicy Always. */
static bool long_lived(const json_t *c, bool init)
{
	const json_t *rp = json_object_get(c, "restartPolicy");

	return !init || (json_is_string(rp) && !strcmp(json_string_value(rp), "Always"));
}

/* The ports of spec[key] (containers or initContainers) that named ports
 * resolve to, appended to pod->ports. */
static int parse_container_list(struct jp *p, const json_t *spec, const char *key, bool init,
				struct np_pod *pod)
{
	json_t *cs;

	if (jp_get(p, spec, key, JSON_ARRAY, &cs))
		return -1;
	for (size_t i = 0; i < json_array_size(cs); i++) {
		json_t *c = json_array_get(cs, i), *ports;
		size_t old = jp_push(p, key);

		jp_index(p, i);
		if (!json_is_object(c))
			return jp_err(p, "expected an object");
		if (jp_get(p, c, "ports", JSON_ARRAY, &ports))
			return -1;
		for (size_t k = 0; long_lived(c, init) && k < json_array_size(ports); k++) {
			size_t o2 = jp_push(p, "ports");

			jp_index(p, k);
			if (parse_cport(p, json_array_get(ports, k), pod))
				return -1;
			jp_pop(p, o2);
		}
		jp_pop(p, old);
	}
	return 0;
}

static size_t count_ports(const json_t *spec, const char *key)
{
	const json_t *cs = json_object_get(spec, key);
	size_t total = 0;

	for (size_t i = 0; i < json_array_size(cs); i++) {
		json_t *ports = json_object_get(json_array_get(cs, i), "ports");

		total += json_is_array(ports) ? json_array_size(ports) : 0;
	}
	return total;
}

/* Container ports, for named ports: the containers' and the sidecars'. */
static int parse_containers(struct jp *p, const json_t *spec, struct np_pod *pod)
{
	pod->ports = calloc(count_ports(spec, "containers") + count_ports(spec, "initContainers") + 1,
			    sizeof(*pod->ports));
	if (!pod->ports)
		return oom(p);
	return parse_container_list(p, spec, "containers", false, pod) ||
	       parse_container_list(p, spec, "initContainers", true, pod) ? -1 : 0;
}

/* Fills pod; *gone is set for pods that take no part in policy. */
static int parse_pod(struct jp *p, const json_t *j, struct np_pod *pod, bool *gone)
{
	json_t *spec, *status, *hostnet;
	const char *node, *phase = NULL;
	size_t old;

	if (jp_get(p, j, "spec", JSON_OBJECT, &spec) || jp_get(p, j, "status", JSON_OBJECT, &status))
		return -1;
	if (spec) {
		old = jp_push(p, "spec");
		if (jp_str(p, spec, "nodeName", &node) ||
		    jp_get(p, spec, "hostNetwork", JSON_TRUE, &hostnet) ||
		    parse_containers(p, spec, pod))
			return -1;
		jp_pop(p, old);
		if (node && *node && !(pod->node = strdup(node)))
			return oom(p);
		if (hostnet && json_is_true(hostnet))
			*gone = true;
	}
	if (status) {
		old = jp_push(p, "status");
		if (jp_str(p, status, "phase", &phase) || parse_pod_ips(p, status, pod))
			return -1;
		jp_pop(p, old);
		if (phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed")))
			*gone = true;
	}
	return 0;
}

/* ---- objects ---- */

static int set_ns_label(struct np_namespace *ns)
{
	struct np_labels *l = &ns->labels;
	struct np_label *grown;

	for (size_t i = 0; i < l->n; i++) {
		if (!strcmp(l->v[i].key, NP_NS_LABEL)) {
			char *v = strdup(ns->name);

			if (!v)
				return -1;
			free(l->v[i].value);
			l->v[i].value = v;
			return 0;
		}
	}
	grown = realloc(l->v, (l->n + 1) * sizeof(*l->v));
	if (!grown)
		return -1;
	l->v = grown;
	l->v[l->n].key = strdup(NP_NS_LABEL);
	l->v[l->n].value = strdup(ns->name);
	l->n++;
	if (!l->v[l->n - 1].key || !l->v[l->n - 1].value)
		return -1;
	qsort(l->v, l->n, sizeof(*l->v), label_cmp);
	return 0;
}

/* Reads metadata.name / namespace and names the object for errors. */
static int parse_meta(struct jp *p, const json_t *j, const char *kind, bool namespaced,
		      char **ns_out, char **name_out, json_t **meta)
{
	const char *name = NULL, *ns = NULL;
	size_t old;

	snprintf(p->where, sizeof(p->where), "%s", kind);
	if (jp_get(p, j, "metadata", JSON_OBJECT, meta))
		return -1;
	if (*meta && (jp_str(p, *meta, "name", &name) || jp_str(p, *meta, "namespace", &ns)))
		return -1;
	if (namespaced && (!ns || !*ns))
		ns = "default";
	if (namespaced)
		snprintf(p->where, sizeof(p->where), "%s %s/%s", kind, ns, name ? name : "");
	else
		snprintf(p->where, sizeof(p->where), "%s %s", kind, name ? name : "");
	old = jp_push(p, "metadata.name");
	if (!name || !*name)
		return jp_err(p, "required");
	if (namespaced ? !np_valid_dns_subdomain(name) : !np_valid_dns_label(name))
		return jp_err(p, "\"%s\" is not a valid name", name);
	jp_pop(p, old);
	if (namespaced && !np_valid_dns_label(ns)) {
		old = jp_push(p, "metadata.namespace");
		return jp_err(p, "\"%s\" is not a valid namespace name", ns);
	}
	*name_out = strdup(name);
	if (namespaced)
		*ns_out = strdup(ns);
	if (!*name_out || (namespaced && !*ns_out))
		return oom(p);
	return 0;
}

/* Is apiVersion (NULL: not given) of the API group that defines kind?
 * Pods and Namespaces are core ("v1"), NetworkPolicies networking.k8s.io
 * (or the old extensions). Other groups have kinds of the same names
 * (Calico's and Antrea's NetworkPolicy) that mean something else. */
static bool own_group(const char *kind, const char *api_version)
{
	const char *slash = api_version ? strchr(api_version, '/') : NULL;
	size_t n = slash ? (size_t)(slash - api_version) : 0;

	if (!api_version)
		return true;
	if (strcmp(kind, "NetworkPolicy"))
		return !slash;
	return slash && ((n == 17 && !strncmp(api_version, "networking.k8s.io", n)) ||
			 (n == 10 && !strncmp(api_version, "extensions", n)));
}

/* The type of the items of a typed List (PodList: kind Pod, the List's
 * apiVersion), which the API server leaves out of each item. */
struct item_type {
	const char *kind;
	const char *api_version;
};

/* np_parse_object; an object without a kind is of type *it (NULL: none). */
static int parse_object(const json_t *j, const struct item_type *it, struct np_object *o,
			struct vn_err *e)
{
	struct jp p = { .e = e };
	const json_t *k = json_object_get(j, "kind"), *av = json_object_get(j, "apiVersion");
	bool own = json_is_string(k);
	const char *kind = own ? json_string_value(k) : it ? it->kind : NULL;
	const char *api = json_is_string(av) ? json_string_value(av) :
			  !own && it ? it->api_version : NULL;
	json_t *meta;
	bool gone = false;
	int rc = -1;

	memset(o, 0, sizeof(*o));
	snprintf(p.where, sizeof(p.where), "input");
	if (!json_is_object(j))
		return jp_err(&p, "expected a JSON object");
	if (!kind)
		return jp_err(&p, "object without a \"kind\"");
	if (!own_group(kind, api))
		return NP_IGNORE;
	if (!strcmp(kind, "Namespace")) {
		o->kind = NP_K_NAMESPACE;
		if (parse_meta(&p, j, kind, false, NULL, &o->ns.name, &meta))
			goto out;
		jp_push(&p, "metadata");
		if (parse_labels(&p, meta, "labels", &o->ns.labels))
			goto out;
		if (set_ns_label(&o->ns)) {
			oom(&p);
			goto out;
		}
		rc = NP_PUT;
	} else if (!strcmp(kind, "Pod")) {
		o->kind = NP_K_POD;
		if (parse_meta(&p, j, kind, true, &o->pod.ns, &o->pod.name, &meta))
			goto out;
		jp_push(&p, "metadata");
		if (parse_labels(&p, meta, "labels", &o->pod.labels))
			goto out;
		jp_pop(&p, 0);
		if (parse_pod(&p, j, &o->pod, &gone))
			goto out;
		rc = gone ? NP_DELETE : NP_PUT;
	} else if (!strcmp(kind, "NetworkPolicy")) {
		o->kind = NP_K_POLICY;
		if (parse_meta(&p, j, kind, true, &o->pol.ns, &o->pol.name, &meta) ||
		    parse_policy(&p, j, &o->pol))
			goto out;
		rc = NP_PUT;
	} else {
		return NP_IGNORE;
	}
out:
	if (rc < 0)
		np_object_free(o);
	return rc;
}

int np_parse_object(const json_t *j, struct np_object *o, struct vn_err *e)
{
	return parse_object(j, NULL, o, e);
}

/* ---- values, lists, events ---- */

struct change {
	int verb;
	struct np_object o;
};

struct changes {
	struct change *v;
	size_t n, cap;
};

static void changes_free(struct changes *c)
{
	for (size_t i = 0; i < c->n; i++)
		np_object_free(&c->v[i].o);
	free(c->v);
}

static int collect(const json_t *j, const struct item_type *it, struct changes *c, int depth,
		   struct vn_err *e);

static int collect_event(const json_t *j, struct changes *c, int depth, struct vn_err *e)
{
	const char *type = json_string_value(json_object_get(j, "type"));
	json_t *obj = json_object_get(j, "object");
	size_t before = c->n;

	if (!strcmp(type, "BOOKMARK"))
		return 0;
	if (!strcmp(type, "ERROR")) {
		const char *msg = json_string_value(json_object_get(obj, "message"));

		return vn_errf(e, VN_E_INVALID, "invalid input", "watch error event: %s",
			       msg ? msg : "(no message)");
	}
	if (strcmp(type, "ADDED") && strcmp(type, "MODIFIED") && strcmp(type, "DELETED"))
		return vn_errf(e, VN_E_INVALID, "invalid input",
			       "watch event: unknown type \"%s\"", type);
	if (!json_is_object(obj))
		return vn_errf(e, VN_E_INVALID, "invalid input",
			       "watch event %s: \"object\" must be an object", type);
	if (collect(obj, NULL, c, depth + 1, e))
		return -1;
	if (!strcmp(type, "DELETED"))
		for (size_t i = before; i < c->n; i++)
			c->v[i].verb = NP_DELETE;
	return 0;
}

/* The kind of the items of List kind k: "Pod" for "PodList"; NULL for a
 * plain "List", whose items name their own kinds. Writes into buf. */
static const char *list_item_kind(const char *k, char *buf, size_t len)
{
	size_t n = strlen(k);

	if (n <= 4 || n - 4 >= len)
		return NULL;
	memcpy(buf, k, n - 4);
	buf[n - 4] = '\0';
	return buf;
}

/* Collects the changes of one value; an object without a kind is of
 * type *it (NULL: an error). */
static int collect(const json_t *j, const struct item_type *it, struct changes *c, int depth,
		   struct vn_err *e)
{
	const char *kind = json_string_value(json_object_get(j, "kind"));
	json_t *items = json_object_get(j, "items");
	struct change ch;
	size_t klen = kind ? strlen(kind) : 0;
	char ik[64];
	struct item_type sub = { list_item_kind(kind ? kind : "", ik, sizeof(ik)),
				 json_string_value(json_object_get(j, "apiVersion")) };

	if (depth > 4)
		return vn_errf(e, VN_E_INVALID, "invalid input", "input: lists nested too deep");
	if (json_is_object(j) && !kind && json_is_string(json_object_get(j, "type")) &&
	    json_object_get(j, "object"))
		return collect_event(j, c, depth, e);
	if (kind && klen >= 4 && !strcmp(kind + klen - 4, "List")) {
		if (!json_is_array(items) && !json_is_null(items) && items)
			return vn_errf(e, VN_E_INVALID, "invalid input",
				       "%s: field \"items\": expected an array", kind);
		for (size_t i = 0; i < json_array_size(items); i++)
			if (collect(json_array_get(items, i), sub.kind ? &sub : NULL, c, depth + 1, e))
				return vn_err_wrap(e, "%s items[%zu]", kind, i);
		return 0;
	}
	ch.verb = parse_object(j, it, &ch.o, e);
	if (ch.verb < 0)
		return -1;
	if (ch.verb == NP_IGNORE)
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct change *v = realloc(c->v, cap * sizeof(*v));

		if (!v) {
			np_object_free(&ch.o);
			return vn_errf(e, VN_E_IO, "I/O error", "out of memory");
		}
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = ch;
	return 0;
}

/* np_apply_value, with the type of kind-less objects (see collect). */
static int apply_value(struct np_world *w, const json_t *j, const struct item_type *it,
		       size_t *n_changed, struct vn_err *e)
{
	struct changes c = { 0 };
	int rc = -1;

	if (n_changed)
		*n_changed = 0;
	if (collect(j, it, &c, 0, e))
		goto out;
	for (size_t i = 0; i < c.n; i++) {
		struct np_object *o = &c.v[i].o;

		if (c.v[i].verb == NP_DELETE) {
			const char *ns = o->kind == NP_K_POD ? o->pod.ns :
					 o->kind == NP_K_POLICY ? o->pol.ns : NULL;
			const char *name = o->kind == NP_K_POD ? o->pod.name :
					   o->kind == NP_K_POLICY ? o->pol.name : o->ns.name;

			np_world_remove(w, o->kind, ns, name);
		} else if (np_world_put(w, o)) {
			vn_errf(e, VN_E_IO, "I/O error", "out of memory");
			goto out;
		}
		if (n_changed)
			(*n_changed)++;
	}
	rc = 0;
out:
	changes_free(&c);
	return rc;
}

int np_apply_value(struct np_world *w, const json_t *j, size_t *n_changed, struct vn_err *e)
{
	return apply_value(w, j, NULL, n_changed, e);
}

/* ---- big Lists, one item at a time ----
 *
 * A List of 10,000 pods is megabytes of JSON; building it as one jansson
 * tree costs more than everything else together. The scanner below only
 * finds the spans of the top-level members and of the items, so that each
 * item is parsed, applied and freed on its own. Anything unusual falls back
 * to parsing the whole value, which also gives the proper syntax errors. */

static size_t skip_ws(const char *s, size_t len, size_t i)
{
	while (i < len && isspace((unsigned char)s[i]))
		i++;
	return i;
}

/* End of the string starting at s[i] == '"', or 0. */
static size_t skip_string(const char *s, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return 0;
}

/* End of the JSON value starting at s[i], or 0 if it does not end. */
static size_t skip_value(const char *s, size_t len, size_t i)
{
	int depth = 0;

	if (i >= len)
		return 0;
	if (s[i] == '"')
		return skip_string(s, len, i);
	if (s[i] != '{' && s[i] != '[') {
		while (i < len && !strchr(",]} \t\r\n", s[i]))
			i++;
		return i;
	}
	for (; i < len; i++) {
		if (s[i] == '"') {
			i = skip_string(s, len, i);
			if (!i)
				return 0;
			i--;
		} else if (s[i] == '{' || s[i] == '[') {
			depth++;
		} else if ((s[i] == '}' || s[i] == ']') && --depth == 0) {
			return i + 1;
		}
	}
	return 0;
}

struct span {
	size_t at, end;
};

/* The members of a List that the fast path needs. */
struct list_spans {
	struct span kind, api_version, items;
};

/* Finds the "kind", "apiVersion" and "items" members of the object at
 * s[i..end). Returns 0 if the object has the expected shape. */
static int list_members(const char *s, size_t i, size_t end, struct list_spans *l)
{
	memset(l, 0, sizeof(*l));
	if (s[i] != '{')
		return -1;
	for (i = skip_ws(s, end, i + 1); i < end && s[i] != '}';) {
		size_t k = i, kend = s[i] == '"' ? skip_string(s, end, i) : 0, v, vend;

		if (!kend)
			return -1;
		i = skip_ws(s, end, kend);
		if (i >= end || s[i] != ':')
			return -1;
		v = skip_ws(s, end, i + 1);
		vend = skip_value(s, end, v);
		if (!vend)
			return -1;
		if (kend - k == 6 && !memcmp(s + k, "\"kind\"", 6))
			l->kind = (struct span){ v, vend };
		else if (kend - k == 12 && !memcmp(s + k, "\"apiVersion\"", 12))
			l->api_version = (struct span){ v, vend };
		else if (kend - k == 7 && !memcmp(s + k, "\"items\"", 7))
			l->items = (struct span){ v, vend };
		i = skip_ws(s, end, vend);
		if (i < end && s[i] == ',')
			i = skip_ws(s, end, i + 1);
	}
	return i < end ? 0 : -1;
}

/* A syntax error of the value that starts at text[at], reported with
 * its line and column in the whole text (jansson counts from the start
 * of what it was given). */
static int decode_error(struct vn_err *e, const char *source, const char *text, size_t at,
			const json_error_t *je)
{
	int line = je->line, col = je->column;
	size_t bol = 0;

	for (size_t i = 0; i < at; i++) {
		if (text[i] == '\n') {
			line++;
			bol = i + 1;
		}
	}
	if (je->line <= 1)
		col += (int)(at - bol);
	return vn_errf(e, VN_E_DECODE, "decoding failure", "%s: line %d column %d: %s", source,
		       line, col, je->text);
}

/* Parses and applies the item at text[at..end); kind-less objects are of
 * type *it (NULL: none). */
static int load_one(struct np_world *w, const char *text, size_t at, size_t end,
		    const char *source, const struct item_type *it, struct vn_err *e)
{
	json_error_t je;
	json_t *j = json_loadb(text + at, end - at, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	int rc;

	if (!j)
		return decode_error(e, source, text, at, &je);
	rc = apply_value(w, j, it, NULL, e);
	json_decref(j);
	return rc;
}

/* The JSON string at span sp, if it is one without escapes that fits in
 * buf; else NULL. */
static const char *span_str(const char *s, const struct span *sp, char *buf, size_t len)
{
	size_t n = sp->end - sp->at;

	if (!sp->end || n < 2 || n - 2 >= len || s[sp->at] != '"' || memchr(s + sp->at, '\\', n))
		return NULL;
	memcpy(buf, s + sp->at + 1, n - 2);
	buf[n - 2] = '\0';
	return buf;
}

/* A List whose items can be taken one by one: 1 done, 0 not such a
 * List (nothing done), -1 error. */
static int load_list(struct np_world *w, const char *s, size_t at, size_t end,
		     const char *source, struct vn_err *e)
{
	struct list_spans l;
	struct item_type it;
	char k[64], ik[64], av[64];
	const char *kind;
	size_t i, n = 0, kl;

	if (list_members(s, at, end, &l) || !l.items.end || s[l.items.at] != '[' ||
	    !(kind = span_str(s, &l.kind, k, sizeof(k))))
		return 0;
	kl = strlen(kind);
	if (kl < 4 || strcmp(kind + kl - 4, "List"))
		return 0;
	it = (struct item_type){ list_item_kind(kind, ik, sizeof(ik)),
				 span_str(s, &l.api_version, av, sizeof(av)) };
	for (i = skip_ws(s, l.items.end, l.items.at + 1); i < l.items.end && s[i] != ']'; n++) {
		size_t vend = skip_value(s, l.items.end, i);

		if (!vend)
			return 0;
		if (load_one(w, s, i, vend, source, it.kind ? &it : NULL, e))
			return vn_err_wrap(e, "%s items[%zu]", kind, n);
		i = skip_ws(s, l.items.end, vend);
		if (i < l.items.end && s[i] == ',')
			i = skip_ws(s, l.items.end, i + 1);
	}
	return 1;
}

int np_load_text(struct np_world *w, const char *text, size_t len, const char *source,
		 struct vn_err *e)
{
	size_t off = 0;

	for (;;) {
		json_error_t je;
		size_t end;
		json_t *j;
		int rc;

		off = skip_ws(text, len, off);
		if (off >= len)
			return 0;
		end = skip_value(text, len, off);
		if (end && text[off] == '{') {
			rc = load_list(w, text, off, end, source, e);
			if (rc < 0)
				return -1;
			if (rc > 0) {
				off = end;
				continue;
			}
		}
		j = json_loadb(text + off, len - off, JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES, &je);
		if (!j)
			return decode_error(e, source, text, off, &je);
		off += je.position;
		if (np_apply_value(w, j, NULL, e)) {
			json_decref(j);
			return -1;
		}
		json_decref(j);
	}
}
