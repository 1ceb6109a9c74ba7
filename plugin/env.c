#include <stdio.h>
#include <string.h>
#include "env.h"

/* ASCII classes, whatever the locale: the spec's character sets are ASCII. */
static int ascii_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int ascii_space(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static const char *get_set(cni_getenv_fn get, const char *name)
{
	const char *v = get(name);

	return v && *v ? v : NULL;
}

int cni_valid_container_id(const char *s)
{
	if (!s || !ascii_alnum(*s))
		return 0;
	for (s++; *s; s++)
		if (!ascii_alnum(*s) && !strchr("_.-", *s))
			return 0;
	return 1;
}

/* Length of the UTF-8 encoding of a Unicode White_Space character other
 * than ASCII at s (U+0085, U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029,
 * U+202F, U+205F, U+3000: what Go's unicode.IsSpace, and so libcni's
 * ValidateInterfaceName, refuses), or 0. */
static size_t utf8_space(const unsigned char *s)
{
	if (s[0] == 0xc2 && (s[1] == 0x85 || s[1] == 0xa0))
		return 2;
	if (s[0] == 0xe1 && s[1] == 0x9a && s[2] == 0x80)
		return 3;
	if (s[0] == 0xe2 && s[1] == 0x80 && ((s[2] >= 0x80 && s[2] <= 0x8a) || s[2] == 0xa8 ||
					      s[2] == 0xa9 || s[2] == 0xaf))
		return 3;
	if ((s[0] == 0xe2 && s[1] == 0x81 && s[2] == 0x9f) ||
	    (s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80))
		return 3;
	return 0;
}

int cni_valid_ifname(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 15 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return 0;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || ascii_space(*s) || (unsigned char)*s == 0xa0 ||
		    utf8_space((const unsigned char *)s))
			return 0;
	return 1;
}

static int parse_command(const char *s, enum cni_cmd *out)
{
	static const char *const names[] = { "ADD", "DEL", "CHECK", "VERSION", "STATUS", "GC" };

	for (unsigned int i = 0; s && i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum cni_cmd)i;
			return 0;
		}
	}
	return -1;
}

/* Appends "NAME (why)" to a comma-separated list. */
static void note(char *list, size_t size, const char *name, const char *why)
{
	size_t n = strlen(list);

	snprintf(list + n, size - n, "%s%s %s", n ? ", " : "", name, why);
}

int cni_env_load(struct cni_env *env, cni_getenv_fn get, struct vn_err *e)
{
	char bad[512] = "";
	int need_netns;

	memset(env, 0, sizeof(*env));
	env->command = get_set(get, "CNI_COMMAND");
	env->container_id = get_set(get, "CNI_CONTAINERID");
	env->netns = get_set(get, "CNI_NETNS");
	env->ifname = get_set(get, "CNI_IFNAME");
	env->args = get_set(get, "CNI_ARGS");
	env->path = get_set(get, "CNI_PATH");
	if (!env->command)
		return vn_errf(e, VN_E_ENV, "invalid environment variables",
			       "CNI_COMMAND is not set");
	if (parse_command(env->command, &env->cmd))
		return vn_errf(e, VN_E_ENV, "invalid environment variables",
			       "CNI_COMMAND: unknown command \"%s\"", env->command);
	if (env->cmd != CMD_ADD && env->cmd != CMD_DEL && env->cmd != CMD_CHECK) {
		/* no attachment: whatever else a runtime set is not read */
		env->container_id = env->netns = env->ifname = env->args = NULL;
		return 0;
	}
	need_netns = env->cmd != CMD_DEL;
	if (!env->container_id)
		note(bad, sizeof(bad), "CNI_CONTAINERID", "is not set");
	else if (!cni_valid_container_id(env->container_id))
		note(bad, sizeof(bad), "CNI_CONTAINERID", "is not a valid container ID");
	if (need_netns && !env->netns)
		note(bad, sizeof(bad), "CNI_NETNS", "is not set");
	else if (need_netns && env->netns[0] != '/')
		note(bad, sizeof(bad), "CNI_NETNS", "is not an absolute path");
	if (!env->ifname)
		note(bad, sizeof(bad), "CNI_IFNAME", "is not set");
	else if (!cni_valid_ifname(env->ifname))
		note(bad, sizeof(bad), "CNI_IFNAME", "is not a valid interface name");
	else if (env->cmd == CMD_ADD && strchr(env->ifname, '%'))
		note(bad, sizeof(bad), "CNI_IFNAME",
		     "has a '%': the kernel would name the interface after that template");
	if (bad[0])
		return vn_errf(e, VN_E_ENV, "invalid environment variables", "%s", bad);
	return 0;
}
