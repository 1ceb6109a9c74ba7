/* compile.h - from a world to the nftables ruleset of one node, as data.
 *
 * Everything lives in table `inet veilnet` (PODGUARD_TABLE):
 *
 *   counter <ns>/<policy>/<ingress|egress>-<i>
 *       one named counter per policy rule used on this node: how many new
 *       connections the rule allowed (all the nft rules it expands into
 *       count into it).
 *   set peer4-<h> / peer6-<h>            (ipv4_addr / ipv6_addr)
 *       the addresses of every pod (any node) a pod peer selects; <h> is a
 *       hash of the peer's selectors, so a pod entering or leaving a
 *       selector is one element change.
 *   set nport4-<proto>-<name> / nport6-...   (addr . inet_service)
 *       (pod address . port) for every pod with a container port of that
 *       name and protocol: named ports resolved on the destination.
 *   map in4 / in6 / out4 / out6          (addr : verdict)
 *       a local pod isolated for ingress / egress -> jump <profile chain>.
 *   map newpod_in4 / newpod_in6 / newpod_out4 / newpod_out6
 *       filled by the CNI plugin for pods not known yet (podguard.h).
 *   chain forward   hook forward priority filter + 10, policy accept:
 *       ct state established,related accept; then the egress maps of the
 *       source, then the ingress maps of the destination.
 *   chain in-<ns>-<h> / out-<ns>-<h>     profile chains
 *       one per distinct set of policies selecting a local pod for a
 *       direction (pods with the same policies share it): one rule per
 *       (peer, port) of each policy rule, ending in `return` when allowed;
 *       the last rule counts (and optionally logs) and drops.
 *   chain nsin-<ns> / nsout-<ns>
 *       the profile of the namespace-wide policies (empty podSelector) of
 *       a namespace, used for pods whose own policies are exactly those and
 *       by podguard for pods not known yet.
 *
 * The ruleset's size grows with pods + policies + rules: peers are sets,
 * rules reference them; never one rule per pod pair.
 */
#ifndef NETPOL_COMPILE_H
#define NETPOL_COMPILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "model.h"

#define NR_TABLE "veilnet"
#define NR_BASE_CHAIN "forward"
#define NR_PRIORITY 10		/* filter + 10, see README */
#define NR_LOG_PREFIX_MAX 127
/* Most excepts one rule carries: an ipBlock with more is split (see
 * compile.c); the kernel takes at most 128 expressions per rule. */
#define NR_MAX_EXCEPTS 24
/* Longest counter name: longer ones are cut and end in a hash. */
#define NR_COUNTER_MAX 200

enum nr_key { NR_KEY_ADDR, NR_KEY_ADDR_PORT };

/* A named set or verdict map with its elements, sorted by key bytes. A
 * key is the address (4 or 16 bytes), then for NR_KEY_ADDR_PORT the port
 * in network order padded to 4 bytes (the kernel's register layout). */
struct nr_set {
	char *name;
	int family;		/* AF_INET / AF_INET6 */
	enum nr_key key;
	bool vmap;		/* map : verdict, elements jump to chains[i] */
	char *comment;		/* NULL: none */
	uint8_t *keys;		/* n * nr_key_len() bytes */
	char **chains;		/* vmap only */
	size_t n, cap;
};

enum nr_rule_kind { NR_R_MATCH, NR_R_CTSTATE, NR_R_VMAP };
enum nr_addr { NR_A_NONE, NR_A_SET, NR_A_PREFIX };
enum nr_verdict { NR_V_NONE, NR_V_ACCEPT, NR_V_DROP, NR_V_RETURN };

/* One rule, in the statement order nft prints it:
 *   [ip|ip6 saddr|daddr (@set | prefix [!= except...])]
 *   [tcp dport N[-M] | ip daddr . tcp dport @nport | meta l4proto tcp]
 *   [counter name "c" | counter] [log prefix ".." group N] verdict
 * NR_R_CTSTATE is `ct state established,related accept`; NR_R_VMAP is
 * `ip saddr vmap @set`. */
struct nr_rule {
	enum nr_rule_kind kind;
	int family;		/* 0 (any) or AF_INET / AF_INET6 */
	enum nr_addr addr;
	bool daddr;
	char *set;		/* NR_A_SET and NR_R_VMAP */
	struct vn_prefix pfx;
	struct vn_prefix *except;
	size_t n_except;
	uint8_t proto;		/* 0: any */
	uint16_t port_lo, port_hi;	/* port_lo 0: no port match */
	char *nport;		/* named-port set, matched with daddr . dport */
	char *counter;		/* named counter */
	bool anon_counter;
	char *log_prefix;	/* log when set */
	int log_group;
	enum nr_verdict verdict;
	uint64_t hash;		/* of the rule's text; identifies it in the kernel */
};

struct nr_chain {
	char *name;
	bool base;
	struct nr_rule *rules;
	size_t n, cap;
};

struct nr_info {
	size_t pods, local_pods, policies, profiles, elements, rules;
};

struct nr_ruleset {
	char **counters;	/* sorted */
	size_t n_counters;
	struct nr_set *sets;	/* sorted by name */
	size_t n_sets;
	struct nr_chain *chains;	/* the base chain first, then by name */
	size_t n_chains;
	struct nr_info info;
};

struct nr_opts {
	const char *node;	/* only its pods are enforced; NULL: every pod */
	int log_group;		/* log drops to this nflog group; -1: no logging */
};

/* Compiles w for the node. Returns 0, or -1 (out of memory). */
int nr_compile(const struct np_world *w, const struct nr_opts *o, struct nr_ruleset *rs);

void nr_ruleset_free(struct nr_ruleset *rs);

/* Writes the whole table as `nft list table inet veilnet` prints it
 * (whitespace within element lists aside); nft -f accepts it. */
void nr_render(const struct nr_ruleset *rs, FILE *out);

/* Writes one rule's text (no indentation, no newline) into buf. */
void nr_rule_text(const struct nr_rule *r, char *buf, size_t len);

/* Writes element i of s as nft prints it ("10.0.0.1", "10.0.0.1 . 80",
 * "10.0.0.1 : jump in-x-...") into buf. */
void nr_elem_text(const struct nr_set *s, size_t i, char *buf, size_t len);

/* Bytes per key of s. */
unsigned int nr_key_len(const struct nr_set *s);

/* Looks a set / chain up by name (binary search on sorted arrays, linear
 * on chains); NULL if absent. */
const struct nr_set *nr_find_set(const struct nr_ruleset *rs, const char *name);
const struct nr_chain *nr_find_chain(const struct nr_ruleset *rs, const char *name);

/* 64-bit FNV-1a, for names and rule identities. */
uint64_t nr_hash(const void *data, size_t len, uint64_t seed);
#define NR_HASH_SEED 0xcbf29ce484222325ULL

/* Adds an element to a set (keys must be added in any order; call
 * nr_set_sort afterwards). chain is copied (vmap). Returns 0 or -1. */
int nr_set_add(struct nr_set *s, const uint8_t *key, const char *chain);
void nr_set_sort(struct nr_set *s);
void nr_set_free(struct nr_set *s);

/* Names of the podguard maps, by direction and family. */
const char *nr_newpod_map(int dir_egress, int family);

#endif
