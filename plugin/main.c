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

/* stdout is written with write(2), not stdio: one invocation prints one
 * document, and leaving stdio out spares every start its pages. */
static void print_text(char *text)
{
	if (text) {
		size_t n = strlen(text);

		text[n] = '\n';	/* over the NUL, which the write does not need */
		vn_write_all(STDOUT_FILENO, text, n + 1);
	}
	free(text);
}

static void print_json(json_t *o)
{
	print_text(json_dumps(o, JSON_PRESERVE_ORDER | JSON_INDENT(2)));
}

static int print_error(const char *version, const struct vn_err *e)
{
	print_text(result_error_json(version, e));
	return 1;
}

/* VERSION: echoes the input's cniVersion, whatever its text (the latest
 * without one), and lists the versions the plugin accepts. */
static int cmd_version(const char *input, size_t len)
{
	json_t *in = len ? json_loadb(input, len, 0, NULL) : NULL;
	json_t *v = in ? json_object_get(in, "cniVersion") : NULL;
	char *text = result_version_json(json_is_string(v) ? json_string_value(v) : NULL);
	struct vn_err e;

	if (in)
		json_decref(in);
	if (!text) {
		vn_errf(&e, VN_E_IO, "I/O error", "out of memory");
		return print_error(CNI_LATEST, &e);
	}
	print_text(text);
	return 0;
}

/* A verb the configuration's version does not have is error 1: CHECK
 * came with 0.4.0, STATUS and GC with 1.1.0. */
static int verb_in_version(const struct plugin *p, struct vn_err *e)
{
	int need = cni_version_of_verb(p->env.command);

	if (p->cfg.ver >= need)
		return 0;
	return vn_errf(e, VN_E_INCOMPATIBLE, "incompatible CNI version",
		       "config: cniVersion %s does not allow %s (it came with %s)",
		       p->cfg.cni_version, p->env.command, cni_version_str(need));
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

	if (config_parse(input, len, &p->cfg, e) || verb_in_version(p, e) ||
	    cni_args_parse(p->env.args, &p->args, e))
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
		rc = cmd_version(input, len);
		free(input);
		return rc;
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
