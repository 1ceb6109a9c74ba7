/* STATUS (CNI 1.1.0; main.c refuses older configurations): can an ADD
 * succeed now? Code 50 when the data directory is unusable or a range set
 * has no free address; a delegated IPAM plugin is asked too. */
#include <string.h>
#include "delegate.h"
#include "ipam.h"
#include "plugin.h"

static int not_available(struct vn_err *e, const char *what, const char *details)
{
	return vn_errf(e, PLUGIN_E_NOT_AVAILABLE, "plugin not available", "%s: %s", what, details);
}

static int check_ranges(struct plugin *p, struct store *s, struct vn_err *e)
{
	char buf[VN_ADDR_STRLEN];

	for (size_t i = 0; i < p->cfg.n_sets; i++) {
		const struct ipam_rangeset *set = &p->cfg.sets[i];

		if (store_set_has_free(s, set))
			return vn_errf(e, PLUGIN_E_NOT_AVAILABLE, "plugin not available",
				       "no IP addresses available: every IPv%d address of the range "
				       "set starting at %s is taken", set->family == AF_INET ? 4 : 6,
				       vn_addr_str(&set->r[0].start, buf));
	}
	return 0;
}

int cmd_status(struct plugin *p, struct vn_err *e)
{
	struct store s = { .dirfd = -1, .lockfd = -1 };
	int ret;

	if (store_open(&s, p->cfg.data_dir, true, e) || store_lock(&s, e)) {
		char why[sizeof(e->details)];

		memcpy(why, e->details, sizeof(why));
		ret = not_available(e, "data directory unusable", why);
		store_close(&s);
		return ret;
	}
	ret = p->cfg.ipam_builtin ? check_ranges(p, &s, e) : 0;
	store_close(&s);
	if (ret || p->cfg.ipam_builtin)
		return ret;
	return delegate_run(p->cfg.ipam_type, p->env.path, "STATUS", p->input, p->input_len,
			    NULL, e);
}
