/* index.h - lookup structures over a world, so that compiling 10,000 pods
 * and thousands of policies does not evaluate every selector on every pod.
 *
 * Built by np_index_build, read-only afterwards, freed by np_index_free.
 * Pointers borrow from the world, which must outlive the index.
 */
#ifndef NETPOL_INDEX_H
#define NETPOL_INDEX_H

#include <stddef.h>
#include <stdint.h>
#include "compile.h"
#include "model.h"

struct ix_ns {
	const char *name;
	const struct np_labels *labels;
	size_t pod_lo, pod_hi;	/* its pods in np_index.pods */
};

struct ix_post {
	uint64_t h;		/* hash of "key=value" */
	size_t pod;
};

struct np_index {
	const struct np_pod **pods;	/* pods with addresses, by namespace */
	size_t n_pods;
	size_t *pod_ns;		/* namespace index of each pod */
	const struct np_policy **pols;	/* by namespace, then name */
	size_t n_pols;
	struct ix_ns *nss;	/* every namespace named anywhere, by name */
	size_t n_nss;
	struct np_label *synth;	/* kubernetes.io/metadata.name for namespaces without object */
	struct np_labels *synth_labels;
	struct ix_post *posts;	/* by hash, then pod */
	size_t n_posts;
	bool *ns_ok;		/* scratch, n_nss */
};

int np_index_build(struct np_index *ix, const struct np_world *w);
void np_index_free(struct np_index *ix);

/* The range [*lo, *hi) of ix->pols in namespace ns. */
void np_index_policies_of(const struct np_index *ix, const char *ns, size_t *lo, size_t *hi);

/* Adds the addresses of the pods a pod peer of pol selects to s4 / s6
 * (either may be NULL: that family is not wanted). */
int np_index_peer_members(struct np_index *ix, const struct np_policy *pol,
			  const struct np_peer *peer, struct nr_set *s4, struct nr_set *s6);

/* Adds (address . port) of every pod with a container port named name
 * for proto, in the set's family. */
int np_index_named_port(const struct np_index *ix, int family, uint8_t proto, const char *name,
			struct nr_set *s);

#endif
