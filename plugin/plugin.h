/* plugin.h - one invocation of the veilnet CNI plugin and its verbs.
 *
 * main.c fills struct plugin (environment, CNI_ARGS, configuration, the
 * raw stdin for delegation) and calls the verb for CNI_COMMAND. A verb
 * returns 0 and may leave a result in out (printed by main), or -1 with e
 * set (printed as a CNI error object).
 */
#ifndef PLUGIN_PLUGIN_H
#define PLUGIN_PLUGIN_H

#include <jansson.h>
#include <veilnet/err.h>
#include <veilnet/log.h>
#include "cniargs.h"
#include "config.h"
#include "env.h"
#include "store.h"

/* Error codes of STATUS (CNI 1.1.0) and of CHECK, beyond err.h's. */
#define PLUGIN_E_NOT_AVAILABLE 50	/* STATUS: ADD cannot succeed now */
#define PLUGIN_E_CHECK 100		/* CHECK: the kernel differs from prevResult */

/* Alias set on host interfaces: "veilnet:<network name>" (GC finds them). */
#define PLUGIN_ALIAS_PREFIX "veilnet:"

struct plugin {
	struct cni_env env;
	struct cni_args args;
	struct plugin_config cfg;
	const char *input;		/* stdin as read, for delegated plugins */
	size_t input_len;
	struct vn_log log;
	char host_ifname[16];		/* of (CNI_CONTAINERID, CNI_IFNAME) */
	char recname[STORE_RECNAME_MAX];
	json_t *out;			/* result to print, owned; NULL: none */
};

int cmd_add(struct plugin *p, struct vn_err *e);
int cmd_del(struct plugin *p, struct vn_err *e);
int cmd_check(struct plugin *p, struct vn_err *e);
int cmd_gc(struct plugin *p, struct vn_err *e);
int cmd_status(struct plugin *p, struct vn_err *e);

/* Addresses requested for this attachment: runtimeConfig.ips, then CNI_ARGS
 * IP= for families not given there. Returns how many (at most 2). */
size_t plugin_requested_ips(const struct plugin *p, struct vn_addr out[2]);

/* The alias text for this network, into buf (128 bytes). */
const char *plugin_alias(const struct plugin *p, char *buf);

#endif
