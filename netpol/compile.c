#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "compile.h"
#include "decide.h"
#include "hmap.h"
#include "index.h"
#include "vec.h"

uint64_t nr_hash(const void *data, size_t len, uint64_t seed)
{
	const uint8_t *p = data;
	uint64_t h = seed;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t hash_str(const char *s)
{
	return nr_hash(s, strlen(s), NR_HASH_SEED);
}

unsigned int nr_key_len(const struct nr_set *s)
{
	return vn_addr_size(s->family) + (s->key == NR_KEY_ADDR_PORT ? 4 : 0);
}

int nr_set_add(struct nr_set *s, const uint8_t *key, const char *chain)
{
	unsigned int kl = nr_key_len(s);

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		uint8_t *k = realloc(s->keys, cap * kl);

		if (!k)
			return -1;
		s->keys = k;
		if (s->vmap) {
			char **c = realloc(s->chains, cap * sizeof(char *));

			if (!c)
				return -1;
			s->chains = c;
		}
		s->cap = cap;
	}
	memcpy(s->keys + s->n * kl, key, kl);
	if (s->vmap) {
		s->chains[s->n] = strdup(chain);
		if (!s->chains[s->n])
			return -1;
	}
	s->n++;
	return 0;
}

/* Sorting keys with their chains: sort an index, then permute. */
struct sort_ctx {
	const uint8_t *keys;
	unsigned int kl;
};

static _Thread_local struct sort_ctx sort_by;

static int idx_cmp(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = memcmp(sort_by.keys + i * sort_by.kl, sort_by.keys + j * sort_by.kl, sort_by.kl);

	return c ? c : (i > j) - (i < j);
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sort_by.kl);
}

/* Sorts and removes duplicate keys (the first chain of a key wins). */
void nr_set_sort(struct nr_set *s)
{
	unsigned int kl = nr_key_len(s);
	size_t *idx, w = 0;
	uint8_t *keys;
	char **chains;

	if (s->n < 2)
		return;
	sort_by.kl = kl;
	if (!s->vmap) {
		qsort(s->keys, s->n, kl, key_cmp);
		for (size_t i = 0; i < s->n; i++)
			if (w == 0 || memcmp(s->keys + (w - 1) * kl, s->keys + i * kl, kl))
				memmove(s->keys + w++ * kl, s->keys + i * kl, kl);
		s->n = w;
		return;
	}
	idx = malloc(s->n * sizeof(*idx));
	keys = malloc(s->n * kl);
	chains = malloc(s->n * sizeof(char *));
	if (!idx || !keys || !chains) {
		/* Unsorted is still correct for the kernel; only diffs get slower. */
		free(idx);
		free(keys);
		free(chains);
		return;
	}
	for (size_t i = 0; i < s->n; i++)
		idx[i] = i;
	sort_by.keys = s->keys;
	qsort(idx, s->n, sizeof(*idx), idx_cmp);
	for (size_t i = 0; i < s->n; i++) {
		const uint8_t *k = s->keys + idx[i] * kl;

		if (w && !memcmp(keys + (w - 1) * kl, k, kl)) {
			free(s->chains[idx[i]]);
			continue;
		}
		memcpy(keys + w * kl, k, kl);
		chains[w++] = s->chains[idx[i]];
	}
	free(s->keys);
	free(s->chains);
	free(idx);
	s->keys = keys;
	s->chains = chains;
	s->n = s->cap = w;
}

void nr_set_free(struct nr_set *s)
{
	if (s->chains)
		for (size_t i = 0; i < s->n; i++)
			free(s->chains[i]);
	free(s->chains);
	free(s->keys);
	free(s->name);
	free(s->comment);
	memset(s, 0, sizeof(*s));
}

static void rule_free(struct nr_rule *r)
{
	free(r->set);
	free(r->except);
	free(r->nport);
	free(r->counter);
	free(r->log_prefix);
}

void nr_ruleset_free(struct nr_ruleset *rs)
{
	for (size_t i = 0; i < rs->n_counters; i++)
		free(rs->counters[i]);
	free(rs->counters);
	for (size_t i = 0; i < rs->n_sets; i++)
		nr_set_free(&rs->sets[i]);
	free(rs->sets);
	for (size_t i = 0; i < rs->n_chains; i++) {
		for (size_t j = 0; j < rs->chains[i].n; j++)
			rule_free(&rs->chains[i].rules[j]);
		free(rs->chains[i].rules);
		free(rs->chains[i].name);
	}
	free(rs->chains);
	memset(rs, 0, sizeof(*rs));
}

const char *nr_newpod_map(int dir_egress, int family)
{
	if (dir_egress)
		return family == AF_INET6 ? "newpod_out6" : "newpod_out4";
	return family == AF_INET6 ? "newpod_in6" : "newpod_in4";
}

const struct nr_set *nr_find_set(const struct nr_ruleset *rs, const char *name)
{
	long at = vec_find_str(rs->sets, rs->n_sets, sizeof(*rs->sets),
			       offsetof(struct nr_set, name), name);

	return at < 0 ? NULL : &rs->sets[at];
}

const struct nr_chain *nr_find_chain(const struct nr_ruleset *rs, const char *name)
{
	for (size_t i = 0; i < rs->n_chains; i++)
		if (!strcmp(rs->chains[i].name, name))
			return &rs->chains[i];
	return NULL;
}

/* ---- the compiler ---- */

struct cc {
	const struct np_world *w;
	const struct nr_opts *o;
	struct nr_ruleset *rs;
	struct np_index ix;
	size_t sets_cap, chains_cap, counters_cap;
	struct hmap set_by_name;	/* hash(name) -> index in rs->sets */
	struct hmap chain_by_name;
	struct hmap counter_by_name;
	bool fam[2];		/* some pod has an IPv4 / IPv6 address */
	char buf[1024];
};

static int add_counter(struct cc *c, const char *name)
{
	uint64_t h = hash_str(name);
	size_t dummy;
	char **slot;

	if (hmap_get(&c->counter_by_name, h, &dummy))
		return 0;
	slot = vec_push((void **)&c->rs->counters, &c->rs->n_counters, &c->counters_cap,
			sizeof(char *));
	if (!slot || !(*slot = strdup(name)))
		return -1;
	return hmap_put(&c->counter_by_name, h, c->rs->n_counters - 1);
}

/* Returns the set named name, creating it (empty) if needed; *created
 * says whether it is new. NULL if out of memory. */
static struct nr_set *get_set(struct cc *c, const char *name, int family, enum nr_key key,
			      bool vmap, const char *comment, bool *created)
{
	uint64_t h = hash_str(name);
	struct nr_set *s;
	size_t at;

	*created = false;
	if (hmap_get(&c->set_by_name, h, &at))
		return &c->rs->sets[at];
	s = vec_push((void **)&c->rs->sets, &c->rs->n_sets, &c->sets_cap, sizeof(*s));
	if (!s)
		return NULL;
	s->family = family;
	s->key = key;
	s->vmap = vmap;
	s->name = strdup(name);
	s->comment = comment ? strdup(comment) : NULL;
	if (!s->name || (comment && !s->comment) ||
	    hmap_put(&c->set_by_name, h, c->rs->n_sets - 1))
		return NULL;
	*created = true;
	return s;
}

static struct nr_chain *new_chain(struct cc *c, const char *name, bool base)
{
	struct nr_chain *ch = vec_push((void **)&c->rs->chains, &c->rs->n_chains, &c->chains_cap,
				       sizeof(*ch));

	if (!ch || !(ch->name = strdup(name)) ||
	    hmap_put(&c->chain_by_name, hash_str(name), c->rs->n_chains - 1))
		return NULL;
	ch->base = base;
	return ch;
}

static struct nr_rule *new_rule(struct nr_chain *ch)
{
	return vec_push((void **)&ch->rules, &ch->n, &ch->cap, sizeof(struct nr_rule));
}

/* Writes a selector in a stable form: "k=v,k2 in (a,b),!k3". Label keys
 * and values hold none of " =,()!", so different selectors read
 * differently. */
static void selector_write(const struct np_selector *s, FILE *f)
{
	const char *sep = "";

	for (size_t i = 0; i < s->labels.n; i++, sep = ",")
		fprintf(f, "%s%s=%s", sep, s->labels.v[i].key, s->labels.v[i].value);
	for (size_t i = 0; i < s->n_exprs; i++, sep = ",") {
		const struct np_expr *x = &s->exprs[i];

		if (x->op == NP_OP_EXISTS || x->op == NP_OP_DOES_NOT_EXIST) {
			fprintf(f, "%s%s%s", sep, x->op == NP_OP_EXISTS ? "" : "!", x->key);
			continue;
		}
		fprintf(f, "%s%s %s (", sep, x->key, x->op == NP_OP_IN ? "in" : "notin");
		for (size_t j = 0; j < x->n_values; j++)
			fprintf(f, "%s%s", j ? "," : "", x->values[j]);
		fputc(')', f);
	}
}

/* The whole text of a pod peer, "namespaces{...} pods{...}" or
 * "namespace NS pods{...}": it names the peer's set by its hash, so it
 * is never cut. Returns a malloc'ed string, or NULL if out of memory. */
static char *peer_key(const struct np_policy *pol, const struct np_peer *peer)
{
	char *key = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&key, &len);
	int bad;

	if (!f)
		return NULL;
	if (peer->has_ns_sel) {
		fputs("namespaces{", f);
		selector_write(&peer->ns_sel, f);
		fputs("} ", f);
	} else {
		fprintf(f, "namespace %s ", pol->ns);
	}
	fputs("pods{", f);
	selector_write(&peer->pod_sel, f);
	fputc('}', f);
	bad = ferror(f);
	if (fclose(f) || bad) {
		free(key);
		return NULL;
	}
	return key;
}

/* nft comments: at most 127 bytes of plain characters. */
static void comment_clean(char *s)
{
	size_t n = strlen(s);

	if (n > NR_LOG_PREFIX_MAX) {
		memcpy(s + NR_LOG_PREFIX_MAX - 3, "...", 4);
		n = NR_LOG_PREFIX_MAX;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == '"' || s[i] == '\\' ||
		    (unsigned char)s[i] >= 0x7f)
			s[i] = '?';
}

/* Fills the peer sets of a pod peer for the address families in use and
 * returns their names ("peer4-<h>", "peer6-<h>"). */
static int peer_sets(struct cc *c, const struct np_policy *pol, const struct np_peer *peer,
		     char names[2][32])
{
	struct nr_set *s[2] = { NULL, NULL };
	size_t idx[2] = { 0, 0 };
	bool created = false;
	char *key = peer_key(pol, peer);
	uint64_t h;

	if (!key)
		return -1;
	h = hash_str(key);
	snprintf(names[0], 32, "peer4-%016llx", (unsigned long long)h);
	snprintf(names[1], 32, "peer6-%016llx", (unsigned long long)h);
	comment_clean(key);
	for (int f = 0; f < 2; f++) {
		bool made;

		if (!c->fam[f])
			continue;
		s[f] = get_set(c, names[f], f ? AF_INET6 : AF_INET, NR_KEY_ADDR, false, key, &made);
		if (!s[f]) {
			free(key);
			return -1;
		}
		idx[f] = (size_t)(s[f] - c->rs->sets);
		created |= made;
	}
	free(key);
	if (!created)
		return 0;
	/* Creating the second set may have moved the first. */
	return np_index_peer_members(&c->ix, pol, peer, c->fam[0] ? &c->rs->sets[idx[0]] : NULL,
				     c->fam[1] ? &c->rs->sets[idx[1]] : NULL);
}

static const char *proto_lower(uint8_t proto)
{
	return proto == NP_UDP ? "udp" : proto == NP_SCTP ? "sctp" : "tcp";
}

/* The named-port set for (family, proto, name), filled on creation. */
static int nport_set(struct cc *c, int family, uint8_t proto, const char *name, char *out,
		     size_t len)
{
	struct nr_set *s;
	bool created;

	snprintf(out, len, "nport%d-%s-%s", family == AF_INET ? 4 : 6, proto_lower(proto), name);
	s = get_set(c, out, family, NR_KEY_ADDR_PORT, false, NULL, &created);
	if (!s)
		return -1;
	if (!created)
		return 0;
	return np_index_named_port(&c->ix, family, proto, name, s);
}

/* One policy rule entry (peer x port) as nft rules appended to ch. */
struct expand {
	const struct np_policy *pol;
	enum np_dir dir;
	const struct np_peer *peer;	/* NULL: any peer */
	const struct np_port *port;	/* NULL: any port */
	const char *counter;
};

/* What a rule matches on the peer's address: a set of pod addresses, a
 * prefix minus excepts, or (both NULL) any address. */
struct peer_match {
	const char *set;
	const struct vn_prefix *pfx;
	const struct vn_prefix *exc;
	size_t n_exc;
};

static int add_match_rule(struct cc *c, struct nr_chain *ch, const struct expand *x,
			  int family, const struct peer_match *m)
{
	struct nr_rule *r = new_rule(ch);
	char nport[96];

	if (!r)
		return -1;
	r->kind = NR_R_MATCH;
	r->family = family;
	r->daddr = x->dir == NP_EGRESS;
	r->verdict = NR_V_RETURN;
	if (m->set) {
		r->addr = NR_A_SET;
		if (!(r->set = strdup(m->set)))
			return -1;
	} else if (m->pfx) {
		r->addr = NR_A_PREFIX;
		r->pfx = *m->pfx;
		r->n_except = m->n_exc;
		r->except = calloc(r->n_except + 1, sizeof(*r->except));
		if (!r->except)
			return -1;
		memcpy(r->except, m->exc, r->n_except * sizeof(*r->except));
	}
	if (x->port) {
		r->proto = x->port->proto;
		if (x->port->kind == NP_PORT_NUM) {
			r->port_lo = x->port->port;
			r->port_hi = x->port->end_port;
		} else if (x->port->kind == NP_PORT_NAME) {
			if (nport_set(c, family, x->port->proto, x->port->name, nport, sizeof(nport)) ||
			    !(r->nport = strdup(nport)))
				return -1;
		}
	}
	return (r->counter = strdup(x->counter)) ? 0 : -1;
}

/* ---- ipBlocks with many excepts ----
 *
 * The kernel takes at most 128 expressions in a rule, and each except
 * costs two or three. An ipBlock with more than NR_MAX_EXCEPTS excepts
 * becomes several rules: its CIDR is cut in halves, recursively, until
 * each piece holds few enough excepts (an except that is a whole piece
 * removes it). Prefixes either nest or are disjoint, so a packet matches
 * one piece exactly when it is in the CIDR and in no except. */

static int prefix_cmp(const void *a, const void *b)
{
	const struct vn_prefix *x = a, *y = b;
	int c = vn_addr_cmp(&x->addr, &y->addr);

	return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Sorts v by address and keeps only the outermost prefixes (an except
 * inside another adds nothing). Returns the new count. */
static size_t outermost(struct vn_prefix *v, size_t n)
{
	size_t w = 0;

	if (n > 1)
		qsort(v, n, sizeof(*v), prefix_cmp);
	for (size_t i = 0; i < n; i++)
		if (!w || !vn_prefix_contains(&v[w - 1], &v[i].addr))
			v[w++] = v[i];
	return w;
}

/* Rules for pfx minus exc[0..n): sorted, outermost, each strictly inside
 * pfx. */
static int ipblock_piece(struct cc *c, struct nr_chain *ch, const struct expand *x,
			 const struct vn_prefix *pfx, const struct vn_prefix *exc, size_t n)
{
	struct peer_match m = { .pfx = pfx, .exc = exc, .n_exc = n };

	if (n <= NR_MAX_EXCEPTS)
		return add_match_rule(c, ch, x, pfx->addr.family, &m);
	for (int half = 0; half < 2; half++) {
		struct vn_prefix h = *pfx;
		size_t lo = 0, hi;

		h.len++;
		if (half)
			h.addr.b[pfx->len / 8] |= (uint8_t)(0x80 >> (pfx->len % 8));
		while (lo < n && !vn_prefix_contains(&h, &exc[lo].addr))
			lo++;
		for (hi = lo; hi < n && vn_prefix_contains(&h, &exc[hi].addr); hi++)
			;
		if (hi > lo && exc[lo].len == h.len)
			continue;
		if (ipblock_piece(c, ch, x, &h, exc + lo, hi - lo))
			return -1;
	}
	return 0;
}

static int ipblock_rules(struct cc *c, struct nr_chain *ch, const struct expand *x)
{
	const struct np_peer *p = x->peer;
	struct peer_match m = { .pfx = &p->cidr, .exc = p->except, .n_exc = p->n_except };
	struct vn_prefix *exc;
	int rc;

	if (p->n_except <= NR_MAX_EXCEPTS)
		return add_match_rule(c, ch, x, p->cidr.addr.family, &m);
	exc = calloc(p->n_except, sizeof(*exc));
	if (!exc)
		return -1;
	memcpy(exc, p->except, p->n_except * sizeof(*exc));
	rc = ipblock_piece(c, ch, x, &p->cidr, exc, outermost(exc, p->n_except));
	free(exc);
	return rc;
}

static int expand_entry(struct cc *c, struct nr_chain *ch, const struct expand *x)
{
	bool named = x->port && x->port->kind == NP_PORT_NAME;
	struct peer_match any = { 0 };
	char names[2][32];

	if (x->peer && x->peer->kind == NP_PEER_IPBLOCK)
		return ipblock_rules(c, ch, x);
	/* Pod peers and named ports match pod addresses: only the families
	 * some pod has need rules. */
	if (x->peer && peer_sets(c, x->pol, x->peer, names))
		return -1;
	if (!x->peer && !named)
		return add_match_rule(c, ch, x, 0, &any);
	for (int f = 0; f < 2; f++) {
		struct peer_match m = { .set = x->peer ? names[f] : NULL };

		if (c->fam[f] && add_match_rule(c, ch, x, f ? AF_INET6 : AF_INET, &m))
			return -1;
	}
	return 0;
}

/* The named counter of rule i: "<ns>/<policy>/<ingress|egress>-<i>", made
 * a name nft reads back (its parser wants a letter, '_' or '.' first, so
 * a namespace starting with a digit gets a leading '_') and cut to
 * NR_COUNTER_MAX bytes, ending in "_<hash of the whole name>", when long
 * (object names are at most 255 bytes). */
static void counter_name(const struct np_policy *pol, enum np_dir d, size_t i, char *buf,
			 size_t len)
{
	char full[640];
	bool letter = (pol->ns[0] >= 'a' && pol->ns[0] <= 'z');
	int n = snprintf(full, sizeof(full), "%s%s/%s/%s-%zu", letter ? "" : "_", pol->ns,
			 pol->name, d == NP_INGRESS ? "ingress" : "egress", i);
	size_t used = n < 0 ? 0 : (size_t)n < sizeof(full) ? (size_t)n : sizeof(full) - 1;

	if (used <= NR_COUNTER_MAX)
		snprintf(buf, len, "%.*s", NR_COUNTER_MAX, full);
	else
		snprintf(buf, len, "%.*s_%016llx", NR_COUNTER_MAX - 17, full,
			 (unsigned long long)nr_hash(full, used, NR_HASH_SEED));
}

static int policy_rules(struct cc *c, struct nr_chain *ch, const struct np_policy *pol,
			enum np_dir d)
{
	char counter[256];

	for (size_t i = 0; i < pol->n_rules[d]; i++) {
		const struct np_rule *r = &pol->rules[d][i];
		struct expand x = { .pol = pol, .dir = d, .counter = counter };

		counter_name(pol, d, i, counter, sizeof(counter));
		if (add_counter(c, counter))
			return -1;
		for (size_t p = 0; p < (r->n_peers ? r->n_peers : 1); p++) {
			x.peer = r->n_peers ? &r->peers[p] : NULL;
			for (size_t q = 0; q < (r->n_ports ? r->n_ports : 1); q++) {
				x.port = r->n_ports ? &r->ports[q] : NULL;
				if (expand_entry(c, ch, &x))
					return -1;
			}
		}
	}
	return 0;
}

static int drop_rule(struct cc *c, struct nr_chain *ch, const struct np_policy **pols,
		     size_t n, enum np_dir d)
{
	struct nr_rule *r = new_rule(ch);
	size_t len = 0;
	char *p = c->buf;

	if (!r)
		return -1;
	r->kind = NR_R_MATCH;
	r->anon_counter = true;
	r->verdict = NR_V_DROP;
	if (c->o->log_group < 0)
		return 0;
	len = (size_t)snprintf(p, sizeof(c->buf), "veilnet drop %s %s:",
			       d == NP_INGRESS ? "ingress" : "egress", pols[0]->ns);
	for (size_t i = 0; i < n && len < sizeof(c->buf); i++)
		len += (size_t)snprintf(p + len, sizeof(c->buf) - len, "%s%s", i ? "," : "",
					pols[i]->name);
	if (len >= NR_LOG_PREFIX_MAX - 1)
		strcpy(p + NR_LOG_PREFIX_MAX - 5, "...");
	strcat(p, " ");
	r->log_group = c->o->log_group;
	return (r->log_prefix = strdup(p)) ? 0 : -1;
}

/* The profile chain for policies pols (all in one namespace, sorted) and
 * direction d; created on first use. Returns its name in out. */
static int profile_chain(struct cc *c, const struct np_policy **pols, size_t n, enum np_dir d,
			 bool ns_wide, char *out, size_t len)
{
	const char *dn = d == NP_INGRESS ? "in" : "out";
	uint64_t h = NR_HASH_SEED;
	struct nr_chain *ch;
	size_t at;

	for (size_t i = 0; i < n; i++)
		h = nr_hash(pols[i]->name, strlen(pols[i]->name) + 1, h);
	if (ns_wide)
		snprintf(out, len, "ns%s-%s", dn, pols[0]->ns);
	else
		snprintf(out, len, "%s-%s-%016llx", dn, pols[0]->ns, (unsigned long long)h);
	if (hmap_get(&c->chain_by_name, hash_str(out), &at))
		return 0;
	ch = new_chain(c, out, false);
	if (!ch)
		return -1;
	c->rs->info.profiles++;
	for (size_t i = 0; i < n; i++)
		if (policy_rules(c, ch, pols[i], d))
			return -1;
	return drop_rule(c, ch, pols, n, d);
}

/* Namespace-wide policies of ns for d: empty podSelector. */
static size_t ns_wide(const struct cc *c, const char *ns, enum np_dir d,
		      const struct np_policy **out)
{
	size_t lo, hi, n = 0;

	np_index_policies_of(&c->ix, ns, &lo, &hi);
	for (size_t i = lo; i < hi; i++) {
		const struct np_policy *p = c->ix.pols[i];

		if (p->types[d] && np_selector_empty(&p->pod_sel))
			out[n++] = p;
	}
	return n;
}

static bool same_list(const struct np_policy **a, size_t na, const struct np_policy **b,
		      size_t nb)
{
	return na == nb && (na == 0 || !memcmp(a, b, na * sizeof(*a)));
}

static int map_pod(struct cc *c, const struct np_pod *pod, enum np_dir d, const char *chain)
{
	for (size_t i = 0; i < pod->n_ips; i++) {
		int fam = pod->ips[i].family;
		const char *name = d == NP_INGRESS ? (fam == AF_INET ? "in4" : "in6") :
				   (fam == AF_INET ? "out4" : "out6");
		bool created;
		struct nr_set *s = get_set(c, name, fam, NR_KEY_ADDR, true, NULL, &created);

		if (!s || nr_set_add(s, pod->ips[i].b, chain))
			return -1;
	}
	return 0;
}

static int pod_profiles(struct cc *c, const struct np_pod *pod, const struct np_policy **buf,
			const struct np_policy **wide)
{
	char chain[160];

	for (int d = 0; d < 2; d++) {
		size_t lo, hi, n = 0, nw;

		np_index_policies_of(&c->ix, pod->ns, &lo, &hi);
		for (size_t i = lo; i < hi; i++)
			if (np_policy_applies(c->ix.pols[i], pod, (enum np_dir)d))
				buf[n++] = c->ix.pols[i];
		if (!n)
			continue;
		nw = ns_wide(c, pod->ns, (enum np_dir)d, wide);
		if (profile_chain(c, buf, n, (enum np_dir)d, same_list(buf, n, wide, nw), chain,
				  sizeof(chain)) ||
		    map_pod(c, pod, (enum np_dir)d, chain))
			return -1;
	}
	return 0;
}

static int base_chain(struct cc *c)
{
	static const struct { bool daddr; int fam; const char *set; } maps[] = {
		{ false, AF_INET, "out4" }, { false, AF_INET6, "out6" },
		{ false, AF_INET, "newpod_out4" }, { false, AF_INET6, "newpod_out6" },
		{ true, AF_INET, "in4" }, { true, AF_INET6, "in6" },
		{ true, AF_INET, "newpod_in4" }, { true, AF_INET6, "newpod_in6" },
	};
	struct nr_chain *ch = new_chain(c, NR_BASE_CHAIN, true);
	struct nr_rule *r;

	if (!ch || !(r = new_rule(ch)))
		return -1;
	r->kind = NR_R_CTSTATE;
	r->verdict = NR_V_ACCEPT;
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		bool created;

		if (!get_set(c, maps[i].set, maps[i].fam, NR_KEY_ADDR, true, NULL, &created) ||
		    !(r = new_rule(ch)))
			return -1;
		r->kind = NR_R_VMAP;
		r->family = maps[i].fam;
		r->daddr = maps[i].daddr;
		if (!(r->set = strdup(maps[i].set)))
			return -1;
	}
	return 0;
}

/* Chains and rules for the namespace-wide policies of every namespace
 * that has some, so podguard can use them for pods not known yet. */
static int ns_chains(struct cc *c, const struct np_policy **buf)
{
	char chain[160];

	for (size_t i = 0; i < c->ix.n_pols; i++) {
		const struct np_policy *p = c->ix.pols[i];

		if (i > 0 && !strcmp(c->ix.pols[i - 1]->ns, p->ns))
			continue;
		for (int d = 0; d < 2; d++) {
			size_t n = ns_wide(c, p->ns, (enum np_dir)d, buf);

			if (n && profile_chain(c, buf, n, (enum np_dir)d, true, chain, sizeof(chain)))
				return -1;
		}
	}
	return 0;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int set_cmp(const void *a, const void *b)
{
	return strcmp(((const struct nr_set *)a)->name, ((const struct nr_set *)b)->name);
}

static int chain_cmp(const void *a, const void *b)
{
	const struct nr_chain *x = a, *y = b;

	if (x->base != y->base)
		return x->base ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void finish(struct cc *c)
{
	struct nr_ruleset *rs = c->rs;
	char text[2048];

	if (rs->n_counters)
		qsort(rs->counters, rs->n_counters, sizeof(char *), str_cmp);
	for (size_t i = 0; i < rs->n_sets; i++) {
		nr_set_sort(&rs->sets[i]);
		rs->info.elements += rs->sets[i].n;
	}
	qsort(rs->sets, rs->n_sets, sizeof(*rs->sets), set_cmp);
	qsort(rs->chains, rs->n_chains, sizeof(*rs->chains), chain_cmp);
	for (size_t i = 0; i < rs->n_chains; i++) {
		for (size_t j = 0; j < rs->chains[i].n; j++) {
			struct nr_rule *r = &rs->chains[i].rules[j];

			nr_rule_text(r, text, sizeof(text));
			r->hash = hash_str(text);
		}
		rs->info.rules += rs->chains[i].n;
	}
}

int nr_compile(const struct np_world *w, const struct nr_opts *o, struct nr_ruleset *rs)
{
	struct cc c = { .w = w, .o = o, .rs = rs };
	const struct np_policy **buf = calloc(w->n_pols + 1, sizeof(*buf));
	const struct np_policy **wide = calloc(w->n_pols + 1, sizeof(*wide));
	int rc = -1;

	memset(rs, 0, sizeof(*rs));
	if (!buf || !wide || np_index_build(&c.ix, w) || base_chain(&c))
		goto out;
	for (size_t i = 0; i < c.ix.n_pods; i++)
		for (size_t j = 0; j < c.ix.pods[i]->n_ips; j++)
			c.fam[c.ix.pods[i]->ips[j].family == AF_INET6] = true;
	for (size_t i = 0; i < c.ix.n_pods; i++) {
		const struct np_pod *pod = c.ix.pods[i];

		rs->info.pods++;
		if (o->node && (!pod->node || strcmp(pod->node, o->node)))
			continue;
		rs->info.local_pods++;
		if (pod_profiles(&c, pod, buf, wide))
			goto out;
	}
	if (ns_chains(&c, buf))
		goto out;
	rs->info.policies = w->n_pols;
	finish(&c);
	rc = 0;
out:
	if (rc)
		nr_ruleset_free(rs);
	np_index_free(&c.ix);
	hmap_free(&c.set_by_name);
	hmap_free(&c.chain_by_name);
	hmap_free(&c.counter_by_name);
	free(buf);
	free(wide);
	return rc;
}
