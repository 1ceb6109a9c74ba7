#include <stdio.h>
#include "plugin.h"

size_t plugin_requested_ips(const struct plugin *p, struct vn_addr out[2])
{
	size_t n = 0;

	for (size_t i = 0; i < p->cfg.n_req_ips && n < 2; i++)
		out[n++] = p->cfg.req_ips[i];
	for (size_t i = 0; i < p->args.n_ips && n < 2; i++) {
		int dup = 0;

		for (size_t j = 0; j < n; j++)
			dup |= out[j].family == p->args.ips[i].family;
		if (!dup)
			out[n++] = p->args.ips[i];
	}
	return n;
}

const char *plugin_alias(const struct plugin *p, char *buf)
{
	snprintf(buf, 128, PLUGIN_ALIAS_PREFIX "%s", p->cfg.name);
	return buf;
}
