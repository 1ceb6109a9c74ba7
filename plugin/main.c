/* veilnet - the CNI plugin binary: reads the CNI environment and the
 * configuration, runs the verb of CNI_COMMAND, prints a result or a CNI
 * error object on stdout. Nothing else goes to stdout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <veilnet/file.h>
#include "name.h"
#include "plugin.h"
#include "result.h"
#include "version.h"

static void print_json(json_t *o)
{
	char *text = json_dumps(o, JSON_PRESERVE_ORDER | JSON_INDENT(2));

	if (text) {
		fputs(text, stdout);
		fputc('\n', stdout);
	}
	free(text);
}

static int print_error(const char *version, const struct vn_err *e)
{
	char *text = result_error_json(version, e);

	if (text) {
		fputs(text, stdout);
		fputc('\n', stdout);
	}
	free(text);
	return 1;
}

static int cmd_version(const char *input, size_t len)
{
	static const char *const versions[] = CNI_SUPPORTED_VERSIONS;
	char ver[32];

	config_peek_version(input, len, ver, sizeof(ver));
	printf("{\"cniVersion\": \"%s\", \"supportedVersions\": [", ver[0] ? ver : CNI_LATEST);
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		printf("%s\"%s\"", i ? ", " : "", versions[i]);
	printf("]}\n");
	return 0;
}

static const char *env_get(const char *name)
{
	return getenv(name);
}

static int dispatch(struct plugin *p, struct vn_err *e)
{
	switch (p->env.cmd) {
	case CMD_ADD:
		return cmd_add(p, e);
	case CMD_DEL:
		return cmd_del(p, e);
	case CMD_CHECK:
		return cmd_check(p, e);
	case CMD_GC:
		return cmd_gc(p, e);
	case CMD_STATUS:
		return cmd_status(p, e);
	case CMD_VERSION:
		break;
	}
	return 0;
}

static int run(struct plugin *p, char *input, size_t len, struct vn_err *e)
{
	const char *tag = p->env.container_id ? p->env.container_id : "veilnet";

	if (config_parse(input, len, &p->cfg, e) || cni_args_parse(p->env.args, &p->args, e))
		return -1;
	if (p->cfg.log_file)
		vn_log_open(&p->log, p->cfg.log_file, p->cfg.log_level, tag);
	if (p->env.container_id && p->env.ifname) {
		name_host_ifname(p->env.container_id, p->env.ifname, p->host_ifname);
		store_recname(p->host_ifname, p->recname);
	}
	vn_logf(&p->log, VN_LOG_INFO, "%s ifname=%s netns=%s", p->env.command,
		p->env.ifname ? p->env.ifname : "-", p->env.netns ? p->env.netns : "-");
	if (dispatch(p, e)) {
		vn_logf(&p->log, VN_LOG_ERROR, "%s failed: code %d: %s: %s", p->env.command,
			e->code, e->msg, e->details);
		return -1;
	}
	return 0;
}

int main(void)
{
	struct plugin p;
	struct vn_err e;
	char ver[32];
	size_t len = 0;
	char *input;
	int rc = 0;

	memset(&p, 0, sizeof(p));
	vn_err_clear(&e);
	json_object_seed(1);	/* no /dev/urandom read: inputs are trusted and tiny */
	input = vn_read_fd(STDIN_FILENO, &len, &e);
	if (!input)
		return print_error(CNI_LATEST, &e);
	if (cni_env_load(&p.env, env_get, &e) == 0 && p.env.cmd == CMD_VERSION) {
		cmd_version(input, len);
		free(input);
		return 0;
	}
	p.input = input;
	p.input_len = len;
	if (e.code || run(&p, input, len, &e)) {
		config_peek_version(input, len, ver, sizeof(ver));
		rc = print_error(ver, &e);
	} else if (p.out) {
		print_json(p.out);
	}
	if (p.out)
		json_decref(p.out);
	vn_log_close(&p.log);
	cni_args_free(&p.args);
	config_free(&p.cfg);
	free(input);
	return rc;
}
