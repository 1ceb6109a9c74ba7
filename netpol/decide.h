/* decide.h - NetworkPolicy semantics as pure functions over a world.
 *
 * Selector matching, which policies select a pod for a direction, peer and
 * port matching, and np_explain: the verdict for one connection (source,
 * destination, port, protocol) with the reasons, straight from the model.
 * The compiler (compile.h) produces rules that must agree with np_explain;
 * tests use it as the oracle.
 */
#ifndef NETPOL_DECIDE_H
#define NETPOL_DECIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "model.h"

/* True if every matchLabels pair and every expression holds for l. */
bool np_selector_matches(const struct np_selector *s, const struct np_labels *l);

/* True for {} (no labels, no expressions): selects everything. */
bool np_selector_empty(const struct np_selector *s);

/* Calls fn with the labels of namespace ns: those of its Namespace object,
 * or kubernetes.io/metadata.name=ns alone if the world has none. */
bool np_ns_selector_matches(const struct np_world *w, const struct np_selector *s,
			    const char *ns);

/* True if pol selects pod (same namespace, podSelector matches); the
 * direction is not looked at. */
bool np_policy_selects(const struct np_policy *pol, const struct np_pod *pod);

/* True if pol applies to pod for direction d (policyTypes and selector). */
bool np_policy_applies(const struct np_policy *pol, const struct np_pod *pod, enum np_dir d);

/* A connection's end: a known pod, or just an address. ip.family is 0
 * when a pod has no address of the family in question. */
struct np_endpoint {
	const struct np_pod *pod;
	struct vn_addr ip;
};

/* True if peer (of policy pol) matches the endpoint at the other end. */
bool np_peer_matches(const struct np_world *w, const struct np_policy *pol,
		     const struct np_peer *peer, const struct np_endpoint *ep);

/* True if the port entry allows port/proto towards destination dst (named
 * ports are resolved on dst's container ports, protocol included). */
bool np_port_matches(const struct np_port *pp, const struct np_pod *dst, uint16_t port,
		     uint8_t proto);

#define NP_ANY ((size_t)-1)

/* The rule that allowed: rule index, and peer / port index in it
 * (NP_ANY when the rule has no peers / no ports). */
struct np_match {
	const struct np_policy *pol;
	size_t rule;
	size_t peer;
	size_t port;
};

/* One direction of the decision: egress of the source, ingress of the
 * destination. */
struct np_side {
	bool applies;		/* the endpoint is a pod, so policy applies */
	bool isolated;		/* some policy selects it for this direction */
	const struct np_policy **pols;	/* those policies (owned array) */
	size_t n_pols;
	bool allowed;
	struct np_match by;	/* valid when isolated && allowed */
};

struct np_verdict {
	struct np_side side[2];	/* [NP_EGRESS]: source, [NP_INGRESS]: destination */
	bool allowed;
};

/* Decides one connection. Returns 0, or -1 if out of memory. */
int np_explain(const struct np_world *w, const struct np_endpoint *src,
	       const struct np_endpoint *dst, uint16_t port, uint8_t proto,
	       struct np_verdict *v);

void np_verdict_free(struct np_verdict *v);

#endif
