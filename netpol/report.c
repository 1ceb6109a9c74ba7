#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include "report.h"

int np_endpoint_parse(const struct np_world *w, const char *s, struct np_endpoint *ep,
		      struct vn_err *e)
{
	const char *slash = strchr(s, '/');
	char ns[256];

	memset(ep, 0, sizeof(*ep));
	if (!vn_addr_parse(s, &ep->ip)) {
		ep->pod = np_world_pod_by_ip(w, &ep->ip);
		return 0;
	}
	if (!slash || (size_t)(slash - s) >= sizeof(ns))
		return vn_errf(e, VN_E_INVALID, "invalid argument",
			       "\"%s\" is neither NAMESPACE/POD nor an IP address", s);
	memcpy(ns, s, (size_t)(slash - s));
	ns[slash - s] = '\0';
	ep->pod = np_world_pod(w, ns, slash + 1);
	if (!ep->pod)
		return vn_errf(e, VN_E_INVALID, "invalid argument", "no pod %s in the input", s);
	return 0;
}

static const struct vn_addr *pod_ip(const struct np_pod *p, int family)
{
	for (size_t i = 0; p && i < p->n_ips; i++)
		if (p->ips[i].family == family)
			return &p->ips[i];
	return NULL;
}

void np_endpoints_resolve(struct np_endpoint *src, struct np_endpoint *dst)
{
	int fam = src->ip.family ? src->ip.family : dst->ip.family;

	if (!fam)
		fam = (pod_ip(src->pod, AF_INET) && pod_ip(dst->pod, AF_INET)) ||
		      (!pod_ip(src->pod, AF_INET6) || !pod_ip(dst->pod, AF_INET6)) ?
		      AF_INET : AF_INET6;
	if (!src->ip.family && pod_ip(src->pod, fam))
		src->ip = *pod_ip(src->pod, fam);
	if (!dst->ip.family && pod_ip(dst->pod, fam))
		dst->ip = *pod_ip(dst->pod, fam);
}

int np_port_parse(const char *s, uint16_t *port, uint8_t *proto, struct vn_err *e)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	*proto = 6;
	if (end == s || v < 1 || v > 65535 || (*end && *end != '/'))
		return vn_errf(e, VN_E_INVALID, "invalid argument",
			       "port \"%s\": expected PORT or PORT/PROTOCOL (1-65535, TCP/UDP/SCTP)", s);
	*port = (uint16_t)v;
	if (*end == '/') {
		char up[8];
		size_t i;

		for (i = 0; end[1 + i] && i < sizeof(up) - 1; i++)
			up[i] = (char)toupper((unsigned char)end[1 + i]);
		up[i] = '\0';
		*proto = np_proto_parse(up);
		if (!*proto)
			return vn_errf(e, VN_E_INVALID, "invalid argument",
				       "port \"%s\": protocol must be TCP, UDP or SCTP", s);
	}
	return 0;
}

static void endpoint_text(const struct np_endpoint *ep, char *buf, size_t len)
{
	char a[VN_ADDR_STRLEN] = "no address";

	if (ep->ip.family)
		vn_addr_str(&ep->ip, a);
	if (ep->pod)
		snprintf(buf, len, "%s/%s (%s)", ep->pod->ns, ep->pod->name, a);
	else
		snprintf(buf, len, "%s", a);
}

static void selector_desc(const struct np_selector *s, char *buf, size_t len)
{
	size_t n = 0;

	n += (size_t)snprintf(buf + n, len - n, "{");
	for (size_t i = 0; i < s->labels.n && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s=%s", i ? "," : "", s->labels.v[i].key,
				      s->labels.v[i].value);
	for (size_t i = 0; i < s->n_exprs && n < len; i++) {
		static const char *const ops[] = { "In", "NotIn", "Exists", "DoesNotExist" };
		const struct np_expr *x = &s->exprs[i];

		n += (size_t)snprintf(buf + n, len - n, "%s%s %s", (i || s->labels.n) ? "," : "",
				      x->key, ops[x->op]);
		for (size_t j = 0; j < x->n_values && n < len; j++)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", j ? "|" : " ", x->values[j]);
	}
	if (n < len)
		snprintf(buf + n, len - n, "}");
}

static void peer_desc(const struct np_peer *p, char *buf, size_t len)
{
	char a[600], b[600], c[VN_PREFIX_STRLEN];
	size_t n;

	if (p->kind == NP_PEER_IPBLOCK) {
		n = (size_t)snprintf(buf, len, "ipBlock %s", vn_prefix_str(&p->cidr, c));
		for (size_t i = 0; i < p->n_except && n < len; i++)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? "," : " except ",
					      vn_prefix_str(&p->except[i], c));
		return;
	}
	selector_desc(&p->ns_sel, a, sizeof(a));
	selector_desc(&p->pod_sel, b, sizeof(b));
	if (p->has_ns_sel && p->has_pod_sel)
		snprintf(buf, len, "namespaceSelector%s podSelector%s", a, b);
	else if (p->has_ns_sel)
		snprintf(buf, len, "namespaceSelector%s", a);
	else
		snprintf(buf, len, "podSelector%s", b);
}

static void port_desc(const struct np_port *p, char *buf, size_t len)
{
	const char *proto = np_proto_name(p->proto);

	if (p->kind == NP_PORT_ANY)
		snprintf(buf, len, "any port/%s", proto);
	else if (p->kind == NP_PORT_NAME)
		snprintf(buf, len, "%s/%s", p->name, proto);
	else if (p->end_port != p->port)
		snprintf(buf, len, "%u-%u/%s", p->port, p->end_port, proto);
	else
		snprintf(buf, len, "%u/%s", p->port, proto);
}

/* "y/allow ingress[0] (from[1] podSelector{pod=a}, ports[0] 80/TCP)" */
static void match_desc(const struct np_match *m, enum np_dir d, char *buf, size_t len)
{
	const struct np_rule *r = &m->pol->rules[d][m->rule];
	char peer[1400] = "any peer", port[300] = "any port";
	const char *dn = d == NP_INGRESS ? "ingress" : "egress";

	if (m->peer != NP_ANY) {
		char t[1300];

		peer_desc(&r->peers[m->peer], t, sizeof(t));
		snprintf(peer, sizeof(peer), "%s[%zu] %s", d == NP_INGRESS ? "from" : "to", m->peer, t);
	}
	if (m->port != NP_ANY) {
		char t[200];

		port_desc(&r->ports[m->port], t, sizeof(t));
		snprintf(port, sizeof(port), "ports[%zu] %s", m->port, t);
	}
	snprintf(buf, len, "%s/%s %s[%zu] (%s, %s)", m->pol->ns, m->pol->name, dn, m->rule, peer, port);
}

static void side_text(FILE *f, enum np_dir d, const struct np_endpoint *self,
		      const struct np_side *s)
{
	const char *dn = d == NP_INGRESS ? "ingress" : "egress";
	char me[300], by[2400];

	endpoint_text(self, me, sizeof(me));
	if (!s->applies) {
		fprintf(f, "  %s of %s: allowed (not a pod: no policy applies)\n", dn, me);
		return;
	}
	if (!s->isolated) {
		fprintf(f, "  %s of %s: allowed (not isolated: no NetworkPolicy selects it for %s)\n",
			dn, me, np_dir_name(d));
		return;
	}
	fprintf(f, "  %s of %s: isolated by", dn, me);
	for (size_t i = 0; i < s->n_pols; i++)
		fprintf(f, "%s %s/%s", i ? "," : "", s->pols[i]->ns, s->pols[i]->name);
	fprintf(f, "\n");
	if (s->allowed) {
		match_desc(&s->by, d, by, sizeof(by));
		fprintf(f, "    allowed by %s\n", by);
	} else {
		fprintf(f, "    denied: no rule allows it\n");
	}
}

void np_report_text(FILE *f, const struct np_endpoint *src, const struct np_endpoint *dst,
		    uint16_t port, uint8_t proto, const struct np_verdict *v)
{
	char a[300], b[300];

	endpoint_text(src, a, sizeof(a));
	endpoint_text(dst, b, sizeof(b));
	fprintf(f, "%s: %s -> %s port %u/%s\n", v->allowed ? "allowed" : "denied", a, b, port,
		np_proto_name(proto));
	side_text(f, NP_EGRESS, src, &v->side[NP_EGRESS]);
	side_text(f, NP_INGRESS, dst, &v->side[NP_INGRESS]);
}

static json_t *endpoint_json(const struct np_endpoint *ep)
{
	char a[VN_ADDR_STRLEN], pod[600];
	json_t *o = json_object();

	if (!o)
		return NULL;
	if (ep->pod) {
		snprintf(pod, sizeof(pod), "%s/%s", ep->pod->ns, ep->pod->name);
		json_object_set_new(o, "pod", json_string(pod));
	}
	json_object_set_new(o, "ip", ep->ip.family ? json_string(vn_addr_str(&ep->ip, a)) :
				     json_null());
	return o;
}

static json_t *side_json(enum np_dir d, const struct np_side *s)
{
	json_t *o = json_object(), *pols = json_array();
	char by[2400], name[600];

	if (!o || !pols) {
		json_decref(o);
		json_decref(pols);
		return NULL;
	}
	json_object_set_new(o, "applies", json_boolean(s->applies));
	json_object_set_new(o, "isolated", json_boolean(s->isolated));
	for (size_t i = 0; i < s->n_pols; i++) {
		snprintf(name, sizeof(name), "%s/%s", s->pols[i]->ns, s->pols[i]->name);
		json_array_append_new(pols, json_string(name));
	}
	json_object_set_new(o, "policies", pols);
	json_object_set_new(o, "allowed", json_boolean(s->allowed));
	if (s->isolated && s->allowed) {
		json_t *m = json_object();

		snprintf(name, sizeof(name), "%s/%s", s->by.pol->ns, s->by.pol->name);
		match_desc(&s->by, d, by, sizeof(by));
		json_object_set_new(m, "policy", json_string(name));
		json_object_set_new(m, "rule", json_integer((json_int_t)s->by.rule));
		json_object_set_new(m, "peer", s->by.peer == NP_ANY ? json_null() :
					       json_integer((json_int_t)s->by.peer));
		json_object_set_new(m, "port", s->by.port == NP_ANY ? json_null() :
					       json_integer((json_int_t)s->by.port));
		json_object_set_new(m, "description", json_string(by));
		json_object_set_new(o, "allowedBy", m);
	} else {
		json_object_set_new(o, "allowedBy", json_null());
	}
	json_object_set_new(o, "reason", json_string(!s->applies ? "not a pod" :
						     !s->isolated ? "not isolated" :
						     s->allowed ? "allowed by a rule" :
						     "no rule allows it"));
	return o;
}

json_t *np_report_json(const struct np_endpoint *src, const struct np_endpoint *dst,
		       uint16_t port, uint8_t proto, const struct np_verdict *v)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	json_object_set_new(o, "allowed", json_boolean(v->allowed));
	json_object_set_new(o, "from", endpoint_json(src));
	json_object_set_new(o, "to", endpoint_json(dst));
	json_object_set_new(o, "port", json_integer(port));
	json_object_set_new(o, "protocol", json_string(np_proto_name(proto)));
	json_object_set_new(o, "egress", side_json(NP_EGRESS, &v->side[NP_EGRESS]));
	json_object_set_new(o, "ingress", side_json(NP_INGRESS, &v->side[NP_INGRESS]));
	return o;
}

static int pod_cmp(const void *a, const void *b)
{
	const struct np_pod *x = *(const struct np_pod *const *)a;
	const struct np_pod *y = *(const struct np_pod *const *)b;
	int c = strcmp(x->ns, y->ns);

	return c ? c : strcmp(x->name, y->name);
}

/* The pods of the table: from the list, or all with addresses. */
static const struct np_pod **matrix_pods(const struct np_world *w, const char *csv, size_t *n,
					 struct vn_err *e)
{
	const struct np_pod **pods = calloc(w->n_pods + 1, sizeof(*pods));
	char *copy = NULL, *save;

	*n = 0;
	if (!pods || (csv && !(copy = strdup(csv)))) {
		free(pods);
		vn_errf(e, VN_E_IO, "I/O error", "out of memory");
		return NULL;
	}
	if (!csv) {
		for (size_t i = 0; i < w->n_pods; i++)
			if (w->pods[i].n_ips)
				pods[(*n)++] = &w->pods[i];
		qsort(pods, *n, sizeof(*pods), pod_cmp);
		return pods;
	}
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		struct np_endpoint ep;

		if (*n == w->n_pods || np_endpoint_parse(w, t, &ep, e) || !ep.pod) {
			vn_errf(e, VN_E_INVALID, "invalid argument",
				"--pods: %s is not a pod of the input (or listed twice)", t);
			free(copy);
			free(pods);
			return NULL;
		}
		pods[(*n)++] = ep.pod;
	}
	free(copy);
	return pods;
}

int np_report_matrix(FILE *f, const struct np_world *w, const char *pods_csv, uint16_t port,
		     uint8_t proto, struct vn_err *e)
{
	size_t n, width = 7, cw = 3;
	const struct np_pod **pods = matrix_pods(w, pods_csv, &n, e);
	char name[600];

	if (!pods)
		return -1;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(pods[i]->ns) + 1 + strlen(pods[i]->name);

		width = l > width ? l : width;
		cw = l > cw ? l : cw;
	}
	fprintf(f, "%-*s", (int)width + 3, "from\\to");
	for (size_t j = 0; j < n; j++) {
		snprintf(name, sizeof(name), "%s/%s", pods[j]->ns, pods[j]->name);
		fprintf(f, "%-*s", j + 1 < n ? (int)cw + 3 : 0, name);
	}
	fprintf(f, "\n");
	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s/%s", pods[i]->ns, pods[i]->name);
		fprintf(f, "%-*s", (int)width + 3, name);
		for (size_t j = 0; j < n; j++) {
			struct np_endpoint src = { .pod = pods[i] }, dst = { .pod = pods[j] };
			struct np_verdict v;
			const char *c = "-";

			if (i != j) {
				np_endpoints_resolve(&src, &dst);
				if (np_explain(w, &src, &dst, port, proto, &v)) {
					free(pods);
					return vn_errf(e, VN_E_IO, "I/O error", "out of memory");
				}
				c = v.allowed ? "." : "X";
				np_verdict_free(&v);
			}
			fprintf(f, "%*s%*s", (int)cw, c, j + 1 < n ? 3 : 0, "");
		}
		fprintf(f, "\n");
	}
	free(pods);
	return 0;
}
