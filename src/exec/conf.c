// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/conf.h"

/*
 * Names whose value points at something of the host's the guest cannot
 * reach: its display server, session bus and runtime directory, its SSH and
 * GPG agents, the SSH login and terminal multiplexer the caller sits in.
 * docs/sharing.md lists them; a trailing '*' matches any name with that
 * prefix.
 */
static const char *const host_only[] = {
	"DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY", "DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "XDG_SESSION_*",
	"SSH_AUTH_SOCK", "SSH_AGENT_PID", "SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY", "GPG_AGENT_INFO", "TMUX",
	"TMUX_PANE", "STY", "WINDOWID",
};

bool exec_env_host_only(const char *entry)
{
	size_t name_len = strcspn(entry, "=");

	for (size_t i = 0; i < sizeof(host_only) / sizeof(host_only[0]); i++) {
		size_t len = strlen(host_only[i]);

		if (host_only[i][len - 1] == '*' ? name_len >= len - 1 && !strncmp(entry, host_only[i], len - 1)
						 : name_len == len && !strncmp(entry, host_only[i], len))
			return true;
	}
	return false;
}

void exec_module_file(const struct exec_modules *m, unsigned i, char *buf, size_t size)
{
	snprintf(buf, size, "kvmini/modules/%02u-%s.ko", i + 1, m->list[i].name);
}

/* One entry: key, '=', the formatted value, NUL. */
static void put(FILE *f, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void put(FILE *f, const char *key, const char *fmt, ...)
{
	va_list ap;

	fprintf(f, "%s=", key);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc(0, f);
}

static void put_exec(FILE *f, const struct exec_plan *p)
{
	put(f, "uid", "%u", (unsigned)p->uid);
	put(f, "gid", "%u", (unsigned)p->gid);
	fputs("groups=", f);
	for (size_t i = 0; i < p->nr_groups; i++)
		fprintf(f, "%s%u", i ? "," : "", (unsigned)p->groups[i]);
	fputc(0, f);
	put(f, "cwd", "%s", p->cwd);
	for (char *const *a = p->argv; *a; a++)
		put(f, "arg", "%s", *a);
	for (char *const *v = p->envp; v && *v; v++)
		if (strchr(*v, '=') && !exec_env_host_only(*v))
			put(f, "env", "%s", *v);
	if (p->tty)
		put(f, "tty", "1");
}

int exec_conf_build(const struct exec_plan *p, char **out, size_t *len, struct errmsg *e)
{
	char file[EXEC_MODULE_NAME_MAX + 32];
	FILE *f;

	if (p->mode == EXEC_MODE_EXEC && (!p->argv || !p->argv[0] || !p->cwd))
		return errmsg_set(e, EINVAL, "exec: no command to run");
	f = open_memstream(out, len);
	if (!f)
		return errmsg_set(e, errno, "init.conf: %s", strerror(errno));
	put(f, "mode", "%s", p->mode == EXEC_MODE_EXEC ? "exec" : "rootfs");
	for (unsigned i = 0; p->modules && i < p->modules->nr; i++) {
		exec_module_file(p->modules, i, file, sizeof(file));
		put(f, "module", "/%s", file);
	}
	put(f, "root", "%s", p->root_tag);
	if (p->root_readonly)
		put(f, "root_readonly", "1");
	for (size_t i = 0; i < p->nr_tmpfs; i++)
		put(f, "tmpfs", "%s", p->tmpfs[i]);
	for (size_t i = 0; i < p->nr_mounts; i++)
		put(f, "mount", "%s:%s:%s", p->mounts[i].tag, p->mounts[i].path, p->mounts[i].rw ? "rw" : "ro");
	if (p->mode == EXEC_MODE_ROOTFS && p->init)
		put(f, "init", "%s", p->init);
	if (p->mode == EXEC_MODE_EXEC)
		put_exec(f, p);
	if (fclose(f)) {
		free(*out);
		return errmsg_set(e, ENOMEM, "init.conf: out of memory");
	}
	return 0;
}
