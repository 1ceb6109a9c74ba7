/* The nft text of a compiled ruleset, in the form `nft list table` prints. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include "compile.h"

struct out {
	char *buf;
	size_t len, n;
};

__attribute__((format(printf, 2, 3)))
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (o->n >= o->len)
		return;
	va_start(ap, fmt);
	w = vsnprintf(o->buf + o->n, o->len - o->n, fmt, ap);
	va_end(ap);
	if (w > 0)
		o->n = o->n + (size_t)w < o->len ? o->n + (size_t)w : o->len;
}

static const char *ipname(int family)
{
	return family == AF_INET6 ? "ip6" : "ip";
}

static const char *proto_name(uint8_t p)
{
	return p == 6 ? "tcp" : p == 17 ? "udp" : p == 132 ? "sctp" : "?";
}

/* "10.0.0.0/8", or the bare address for a full-length prefix. */
static void prefix_text(struct out *o, const struct vn_prefix *p)
{
	char a[VN_ADDR_STRLEN];

	vn_addr_str(&p->addr, a);
	if (p->len == vn_addr_size(p->addr.family) * 8)
		put(o, "%s", a);
	else
		put(o, "%s/%u", a, p->len);
}

static const char *verdict_name(enum nr_verdict v)
{
	switch (v) {
	case NR_V_ACCEPT:
		return "accept";
	case NR_V_DROP:
		return "drop";
	case NR_V_RETURN:
		return "return";
	case NR_V_NONE:
		break;
	}
	return NULL;
}

static void sep(struct out *o)
{
	if (o->n)
		put(o, " ");
}

static void match_text(struct out *o, const struct nr_rule *r)
{
	const char *dir = r->daddr ? "daddr" : "saddr";

	if (r->addr == NR_A_SET) {
		put(o, "%s %s @%s", ipname(r->family), dir, r->set);
	} else if (r->addr == NR_A_PREFIX) {
		put(o, "%s %s ", ipname(r->family), dir);
		prefix_text(o, &r->pfx);
		for (size_t i = 0; i < r->n_except; i++) {
			put(o, " %s %s != ", ipname(r->family), dir);
			prefix_text(o, &r->except[i]);
		}
	} else if (r->family && !r->nport) {
		put(o, "meta nfproto %s", r->family == AF_INET6 ? "ipv6" : "ipv4");
	}
	if (r->nport) {
		sep(o);
		put(o, "%s daddr . %s dport @%s", ipname(r->family), proto_name(r->proto), r->nport);
	} else if (r->port_lo) {
		sep(o);
		put(o, "%s dport %u", proto_name(r->proto), r->port_lo);
		if (r->port_hi != r->port_lo)
			put(o, "-%u", r->port_hi);
	} else if (r->proto) {
		sep(o);
		put(o, "meta l4proto %s", proto_name(r->proto));
	}
}

void nr_rule_text(const struct nr_rule *r, char *buf, size_t len)
{
	struct out o = { .buf = buf, .len = len };

	buf[0] = '\0';
	switch (r->kind) {
	case NR_R_CTSTATE:
		put(&o, "ct state established,related accept");
		return;
	case NR_R_VMAP:
		put(&o, "%s %s vmap @%s", ipname(r->family), r->daddr ? "daddr" : "saddr", r->set);
		return;
	case NR_R_MATCH:
		break;
	}
	match_text(&o, r);
	if (r->counter) {
		sep(&o);
		put(&o, "counter name \"%s\"", r->counter);
	} else if (r->anon_counter) {
		sep(&o);
		put(&o, "counter packets 0 bytes 0");
	}
	if (r->log_prefix) {
		sep(&o);
		put(&o, "log prefix \"%s\" group %d", r->log_prefix, r->log_group);
	}
	if (verdict_name(r->verdict)) {
		sep(&o);
		put(&o, "%s", verdict_name(r->verdict));
	}
}

void nr_elem_text(const struct nr_set *s, size_t i, char *buf, size_t len)
{
	const uint8_t *k = s->keys + i * nr_key_len(s);
	struct vn_addr a = { .family = s->family };
	unsigned int al = vn_addr_size(s->family);
	struct out o = { .buf = buf, .len = len };
	char txt[VN_ADDR_STRLEN];

	memcpy(a.b, k, al);
	put(&o, "%s", vn_addr_str(&a, txt));
	if (s->key == NR_KEY_ADDR_PORT) {
		uint16_t port;

		memcpy(&port, k + al, 2);
		put(&o, " . %u", ntohs(port));
	}
	if (s->vmap)
		put(&o, " : jump %s", s->chains[i]);
}

static void set_type(const struct nr_set *s, FILE *f)
{
	const char *addr = s->family == AF_INET6 ? "ipv6_addr" : "ipv4_addr";

	fprintf(f, "\t\ttype %s%s%s\n", addr, s->key == NR_KEY_ADDR_PORT ? " . inet_service" : "",
		s->vmap ? " : verdict" : "");
}

static void render_set(const struct nr_set *s, FILE *f)
{
	char e[256];

	fprintf(f, "\t%s %s {\n", s->vmap ? "map" : "set", s->name);
	set_type(s, f);
	if (s->comment)
		fprintf(f, "\t\tcomment \"%s\"\n", s->comment);
	if (s->n) {
		fprintf(f, "\t\telements = { ");
		for (size_t i = 0; i < s->n; i++) {
			nr_elem_text(s, i, e, sizeof(e));
			fprintf(f, "%s%s", i ? ",\n\t\t\t     " : "", e);
		}
		fprintf(f, " }\n");
	}
	fprintf(f, "\t}\n");
}

static void render_chain(const struct nr_chain *c, FILE *f)
{
	char text[4096];

	fprintf(f, "\tchain %s {\n", c->name);
	if (c->base)
		fprintf(f, "\t\ttype filter hook forward priority filter + %d; policy accept;\n",
			NR_PRIORITY);
	for (size_t i = 0; i < c->n; i++) {
		nr_rule_text(&c->rules[i], text, sizeof(text));
		fprintf(f, "\t\t%s\n", text);
	}
	fprintf(f, "\t}\n");
}

void nr_render(const struct nr_ruleset *rs, FILE *f)
{
	bool first = true;

	fprintf(f, "table inet %s {\n", NR_TABLE);
	for (size_t i = 0; i < rs->n_counters; i++) {
		fprintf(f, "%s\tcounter %s {\n\t\tpackets 0 bytes 0\n\t}\n", first ? "" : "\n",
			rs->counters[i]);
		first = false;
	}
	for (size_t i = 0; i < rs->n_sets; i++) {
		fprintf(f, "%s", first ? "" : "\n");
		render_set(&rs->sets[i], f);
		first = false;
	}
	for (size_t i = 0; i < rs->n_chains; i++) {
		fprintf(f, "%s", first ? "" : "\n");
		render_chain(&rs->chains[i], f);
		first = false;
	}
	fprintf(f, "}\n");
}
