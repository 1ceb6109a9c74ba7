/* env.h - the CNI_* environment of one invocation as a plain struct.
 *
 * Empty variables count as unset (runtimes set all six, some empty).
 * Validation follows the verb: ADD and CHECK need CNI_CONTAINERID,
 * CNI_NETNS and CNI_IFNAME; DEL needs CNI_CONTAINERID and CNI_IFNAME;
 * VERSION, STATUS and GC have no attachment parameters: for them
 * CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME and CNI_ARGS are left NULL,
 * whatever they hold. ADD also refuses a '%' in CNI_IFNAME, which the
 * kernel reads as a name template ("net%d" becomes "net0"), so no
 * interface can have it (DEL accepts it: nothing of it can exist). Errors
 * are code 4 and name every bad variable.
 * Strings borrow from the environment.
 */
#ifndef PLUGIN_ENV_H
#define PLUGIN_ENV_H

#include <veilnet/err.h>

enum cni_cmd { CMD_ADD, CMD_DEL, CMD_CHECK, CMD_VERSION, CMD_STATUS, CMD_GC };

struct cni_env {
	enum cni_cmd cmd;
	const char *command;
	const char *container_id;
	const char *netns;
	const char *ifname;
	const char *args;
	const char *path;
};

/* Looks up one variable; getenv fits. */
typedef const char *(*cni_getenv_fn)(const char *name);

/* Fills env from get and validates it for its command. Returns 0, or -1
 * with e set (code 4). */
int cni_env_load(struct cni_env *env, cni_getenv_fn get, struct vn_err *e);

/* True if s is a valid container ID: an alphanumeric first character, then
 * alphanumerics, '_', '.' or '-'. */
int cni_valid_container_id(const char *s);

/* True if s is a valid Linux interface name (1..15 bytes, not "." or "..",
 * no '/', ':' or whitespace): ASCII whitespace, Unicode whitespace in
 * UTF-8 (as libcni's ValidateInterfaceName) and the byte 0xa0, which the
 * kernel's isspace() counts (it refuses "eà" too). */
int cni_valid_ifname(const char *s);

#endif
