/* delegate.h - running a delegated (IPAM) plugin per the CNI spec: found
 * in CNI_PATH, same environment (CNI_COMMAND replaced if asked), the same
 * configuration on stdin, its stderr passed through, its stdout captured.
 */
#ifndef PLUGIN_DELEGATE_H
#define PLUGIN_DELEGATE_H

#include <stddef.h>
#include <jansson.h>
#include <veilnet/err.h>

/* Runs plugin `type` with CNI_COMMAND=command. On success returns 0 and,
 * if out is given, the parsed stdout (NULL if empty; caller owns it). A
 * failure returns -1 with e set: the plugin's own error object if it
 * printed one, else code 5. */
int delegate_run(const char *type, const char *cni_path, const char *command,
		 const char *config, size_t len, json_t **out, struct vn_err *e);

#endif
