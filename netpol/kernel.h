/* kernel.h - the edge: table inet veilnet in the kernel, through libnftnl
 * messages batched over libmnl (lib/nl.h, every message with NLM_F_ACK).
 *
 * The kernel is the state: nk_read reads our table back (rule identities,
 * set elements, counters) into a struct nr_ruleset whose rules carry only
 * their hash (kept in each rule's userdata, which nft does not print), and
 * nk_apply turns what the kernel has into what the compiler wants in ONE
 * transaction:
 *   - a pod entering or leaving a selector is a set element change;
 *   - a chain whose rules changed is flushed and refilled, in place;
 *   - chains, sets and counters no longer wanted are deleted;
 *   - a set whose definition changed (or a missing table) makes the
 *     transaction delete and recreate the whole table, still atomically.
 * The kernel commits all of it or nothing: a failure leaves the previous
 * ruleset in force. Only table inet veilnet is ever touched or listed.
 *
 * Everything works on the network namespace the socket was opened in.
 */
#ifndef NETPOL_KERNEL_H
#define NETPOL_KERNEL_H

#include <stdbool.h>
#include <veilnet/err.h>
#include <veilnet/nl.h>
#include "compile.h"

/* Rule userdata TLV type holding the 8-byte rule hash (nft ignores
 * userdata types it does not know). */
#define NK_UDATA_RULE_HASH 0xa5

struct nk_stats {
	size_t messages;	/* in the transaction */
	size_t chains_added, chains_deleted, chains_rewritten;
	size_t rules_added;
	size_t sets_added, sets_deleted;
	size_t elems_added, elems_deleted;
	size_t counters_added, counters_deleted;
	bool rebuilt;		/* the table was (re)created */
};

/* Reads table inet veilnet. *exists is false (and have empty) without it.
 * Returns 0 or -1 with e set. */
int nk_read(struct vn_nl *nl, struct nr_ruleset *have, bool *exists, struct vn_err *e);

/* Re-reads only the podguard maps (newpod_*) into have. */
int nk_read_newpod(struct vn_nl *nl, struct nr_ruleset *have, struct vn_err *e);

/* Copies into want's newpod maps the elements of have's that stay: those
 * whose address is not in known (sorted, as vn_addr_cmp orders) and whose
 * chain want still has. Returns 0 or -1 (out of memory). */
int nk_carry_newpod(struct nr_ruleset *want, const struct nr_ruleset *have,
		    const struct vn_addr *known, size_t n_known);

/* One transaction from have (exists: the table is there) to want.
 * fail_at > 0 injects an invalid message as message number fail_at
 * (testing: the whole transaction must then be refused). Returns 0, or
 * -1 with e set (nothing changed). */
int nk_apply(struct vn_nl *nl, const struct nr_ruleset *want, const struct nr_ruleset *have,
	     bool exists, long fail_at, struct nk_stats *st, struct vn_err *e);

/* Deletes table inet veilnet (absent is fine). */
int nk_flush(struct vn_nl *nl, struct vn_err *e);

#endif
