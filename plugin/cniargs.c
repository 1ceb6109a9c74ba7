#include <stdlib.h>
#include <string.h>
#include "cniargs.h"

#define ARGS_ERR(e, ...) vn_errf(e, VN_E_ENV, "invalid environment variables", __VA_ARGS__)

static const char *code_msg(int code)
{
	return code == VN_E_ENV ? "invalid environment variables" : "invalid configuration";
}

int cni_ip_list_add(const char *text, struct vn_addr *out, size_t max, size_t *n,
		    int code, const char *where, struct vn_err *e)
{
	struct vn_prefix p;

	if (vn_prefix_parse(text, &p))
		return vn_errf(e, code, code_msg(code), "%s: \"%s\" is not an IP address",
			       where, text);
	for (size_t i = 0; i < *n; i++)
		if (out[i].family == p.addr.family)
			return vn_errf(e, code, code_msg(code), "%s: more than one IPv%d address requested", where,
				       p.addr.family == AF_INET ? 4 : 6);
	if (*n >= max)
		return vn_errf(e, code, code_msg(code), "%s: too many addresses", where);
	out[(*n)++] = p.addr;
	return 0;
}

int cni_parse_ip_list(char *s, struct vn_addr *out, size_t max, size_t *n,
		      int code, const char *where, struct vn_err *e)
{
	char *save = NULL;

	for (char *tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (cni_ip_list_add(tok, out, max, n, code, where, e))
			return -1;
	return 0;
}

/* Stores value into *slot unless the key was seen before. */
static int set_once(const char **slot, const char *key, const char *value, struct vn_err *e)
{
	if (*slot)
		return ARGS_ERR(e, "CNI_ARGS: key %s given twice", key);
	*slot = value;
	return 0;
}

static int one_pair(struct cni_args *a, char *pair, int *seen_ip, struct vn_err *e)
{
	char *eq = strchr(pair, '=');
	const char *key = pair, *value;

	if (!eq)
		return ARGS_ERR(e, "CNI_ARGS: \"%s\" is not KEY=VALUE", pair);
	*eq = '\0';
	value = eq + 1;
	if (!*key)
		return ARGS_ERR(e, "CNI_ARGS: empty key in \"=%s\"", value);
	if (strcmp(key, "K8S_POD_NAMESPACE") == 0)
		return set_once(&a->pod_namespace, key, value, e);
	if (strcmp(key, "K8S_POD_NAME") == 0)
		return set_once(&a->pod_name, key, value, e);
	if (strcmp(key, "K8S_POD_UID") == 0)
		return set_once(&a->pod_uid, key, value, e);
	if (strcmp(key, "K8S_POD_INFRA_CONTAINER_ID") == 0)
		return set_once(&a->infra_container_id, key, value, e);
	if (strcmp(key, "IP") != 0)
		return 0;
	if ((*seen_ip)++)
		return ARGS_ERR(e, "CNI_ARGS: key IP given twice");
	return cni_parse_ip_list((char *)value, a->ips, CNI_ARGS_MAX_IPS, &a->n_ips,
				 VN_E_ENV, "CNI_ARGS IP", e);
}

int cni_args_parse(const char *s, struct cni_args *out, struct vn_err *e)
{
	char *save = NULL;
	int seen_ip = 0;

	memset(out, 0, sizeof(*out));
	if (!s || !*s)
		return 0;
	out->buf = strdup(s);
	if (!out->buf)
		return vn_errf(e, VN_E_IO, "I/O error", "out of memory");
	for (char *pair = strtok_r(out->buf, ";", &save); pair;
	     pair = strtok_r(NULL, ";", &save))
		if (one_pair(out, pair, &seen_ip, e))
			return -1;
	return 0;
}

void cni_args_free(struct cni_args *a)
{
	free(a->buf);
	memset(a, 0, sizeof(*a));
}
