/* Placeholder until veilnet-policy's table lands (issue 3): with no
 * `inet veilnet` table there is nothing to admit a pod to, which is what
 * these report. Replaced by the libnftnl implementation. */
#include <veilnet/podguard.h>

int podguard_admit(const char *pod_namespace, const struct vn_addr *ips, size_t n_ips,
		   struct vn_err *e)
{
	(void)pod_namespace; (void)ips; (void)n_ips; (void)e;
	return 0;
}

int podguard_forget(const struct vn_addr *ips, size_t n_ips, struct vn_err *e)
{
	(void)ips; (void)n_ips; (void)e;
	return 0;
}
