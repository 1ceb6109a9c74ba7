/* sim.h - a tiny interpreter of a compiled ruleset, for tests: what the
 * forward chain of table inet veilnet decides for the first packet of a
 * connection, evaluated on the compiler's data (not on the kernel).
 * Cross-checked against np_explain, it tests the compiler. */
#ifndef SIM_H
#define SIM_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include "compile.h"

enum sim_v { SIM_CONT, SIM_ACCEPT, SIM_DROP };

static bool sim_lookup(const struct nr_set *s, const uint8_t *key, size_t *at)
{
	unsigned int kl = nr_key_len(s);
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = memcmp(s->keys + mid * kl, key, kl);

		if (!c) {
			if (at)
				*at = mid;
			return true;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

struct sim_pkt {
	struct vn_addr src, dst;
	uint8_t proto;
	uint16_t port;
};

static bool sim_rule_matches(const struct nr_ruleset *rs, const struct nr_rule *r,
			     const struct sim_pkt *p)
{
	const struct vn_addr *a = r->daddr ? &p->dst : &p->src;

	if (r->family && r->family != p->src.family)
		return false;
	if (r->addr == NR_A_SET) {
		const struct nr_set *s = nr_find_set(rs, r->set);

		if (!s || !sim_lookup(s, a->b, NULL))
			return false;
	} else if (r->addr == NR_A_PREFIX) {
		if (!vn_prefix_contains(&r->pfx, a))
			return false;
		for (size_t i = 0; i < r->n_except; i++)
			if (vn_prefix_contains(&r->except[i], a))
				return false;
	}
	if (r->proto && r->proto != p->proto)
		return false;
	if (r->port_lo && (p->port < r->port_lo || p->port > r->port_hi))
		return false;
	if (r->nport) {
		const struct nr_set *s = nr_find_set(rs, r->nport);
		uint8_t key[20] = { 0 };
		unsigned int al = vn_addr_size(p->dst.family);
		uint16_t port = htons(p->port);

		memcpy(key, p->dst.b, al);
		memcpy(key + al, &port, 2);
		if (!s || !sim_lookup(s, key, NULL))
			return false;
	}
	return true;
}

static enum sim_v sim_chain(const struct nr_ruleset *rs, const char *name, const struct sim_pkt *p,
			    int depth)
{
	const struct nr_chain *c = nr_find_chain(rs, name);

	if (!c || depth > 8)
		return SIM_DROP;
	for (size_t i = 0; i < c->n; i++) {
		const struct nr_rule *r = &c->rules[i];

		if (r->kind == NR_R_CTSTATE)
			continue;	/* a new connection */
		if (r->kind == NR_R_VMAP) {
			const struct nr_set *s = nr_find_set(rs, r->set);
			const struct vn_addr *a = r->daddr ? &p->dst : &p->src;
			size_t at;

			if (r->family != a->family || !s || !sim_lookup(s, a->b, &at))
				continue;
			enum sim_v v = sim_chain(rs, s->chains[at], p, depth + 1);

			if (v != SIM_CONT)
				return v;
			continue;
		}
		if (!sim_rule_matches(rs, r, p))
			continue;
		if (r->verdict == NR_V_DROP)
			return SIM_DROP;
		if (r->verdict == NR_V_ACCEPT)
			return SIM_ACCEPT;
		if (r->verdict == NR_V_RETURN)
			return SIM_CONT;
	}
	return SIM_CONT;
}

/* True if the ruleset lets the connection's first packet through. */
static inline bool sim_allows(const struct nr_ruleset *rs, const struct sim_pkt *p)
{
	return sim_chain(rs, NR_BASE_CHAIN, p, 0) != SIM_DROP;
}

#endif
