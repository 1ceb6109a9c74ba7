/* podguard.h - closing the window between a pod's first packet and its
 * policies.
 *
 * The CNI plugin knows a new pod's Kubernetes namespace at ADD time
 * (K8S_POD_NAMESPACE), long before the policy agent sees the pod in the API.
 * veilnet-policy keeps, in its table `inet veilnet` of the node's netns,
 * one chain per namespace and direction whose policies select *every* pod of
 * that namespace (an empty podSelector): "nsin-<ns>" and "nsout-<ns>". Those
 * chains carry exactly the union of the namespace-wide policies, so they
 * are right for a pod whose labels are not known yet.
 *
 * It also keeps four verdict maps, filled by the plugin:
 *   newpod_in4  (ipv4_addr : verdict)   ip daddr -> jump nsin-<ns>
 *   newpod_out4 (ipv4_addr : verdict)   ip saddr -> jump nsout-<ns>
 *   newpod_in6 / newpod_out6            the same for ip6
 * consulted for any local pod address the agent does not know yet.
 *
 * podguard_admit adds the pod's addresses to the maps whose chain exists,
 * in one nftables transaction, before ADD returns and so before the pod
 * can send or receive anything. No table, no chain: the namespace is not
 * isolated, nothing to do, success. Any other failure is an error and ADD
 * must fail (fail closed). podguard_forget removes them (DEL; errors about
 * missing objects are ignored). The agent removes the elements of pods it
 * has reconciled.
 *
 * Both work on the network namespace current when called.
 */
#ifndef VEILNET_PODGUARD_H
#define VEILNET_PODGUARD_H

#include <stddef.h>
#include <veilnet/err.h>
#include <veilnet/prefix.h>

#define PODGUARD_TABLE "veilnet"	/* family inet */
#define PODGUARD_MAX_IPS 4		/* addresses per pod */

int podguard_admit(const char *pod_namespace, const struct vn_addr *ips, size_t n_ips,
		   struct vn_err *e);

int podguard_forget(const struct vn_addr *ips, size_t n_ips, struct vn_err *e);

#endif
