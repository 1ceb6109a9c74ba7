/* cniop.h - `cni-test add|check|del|status|gc|version`: one CNI operation
 * on a network configuration, like a runtime. Returns the exit status: the
 * (last) plugin's status, or 125 when cni-test itself failed.
 */
#ifndef CNT_CNIOP_H
#define CNT_CNIOP_H

#include "args.h"

#define CNT_EXIT_OWN 125	/* cni-test could not run the plugins */

int cnt_cni_command(const struct cnt_opts *o);

/* The default CNI_PATH: $CNI_PATH, else cni-test's own directory,
 * /opt/cni/bin and /usr/lib/cni. Writes into buf. */
void cnt_default_cni_path(char *buf, size_t len);

#endif
