/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The built-in init's configuration (EXEC_CONF_PATH, keys in
 * docs/sharing.md) for `kvmini exec` and `kvmini run --rootfs`, written from
 * a plan of what the guest should do (src/exec/conf.c). Pure.
 */
#ifndef KVMINI_EXEC_CONF_H
#define KVMINI_EXEC_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "errmsg.h"
#include "exec/modules.h"

enum exec_mode {
	EXEC_MODE_EXEC,   /* run one command as the caller and report how it ended */
	EXEC_MODE_ROOTFS, /* switch to the shared root and start its init */
};

/* A share the init mounts after the root, at path inside it. */
struct exec_mount {
	const char *tag;
	const char *path;
	bool rw;
};

struct exec_plan {
	enum exec_mode mode;
	const struct exec_modules *modules; /* loaded in this order; NULL: none */
	const char *root_tag;
	bool root_readonly;
	const char *const *tmpfs; /* fresh tmpfs mounts in the new root */
	size_t nr_tmpfs;
	const struct exec_mount *mounts;
	size_t nr_mounts;
	const char *init; /* rootfs: the program to start, NULL for the init's default (/sbin/init) */
	/* exec only */
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	size_t nr_groups;
	const char *cwd;
	char *const *argv; /* NULL-terminated, at least one */
	char *const *envp; /* NULL-terminated: the caller's environment; what only the host can use is left out */
	bool tty;
};

/* Module i's file in the initramfs, without the leading '/': "kvmini/modules/01-virtio.ko". */
void exec_module_file(const struct exec_modules *m, unsigned i, char *buf, size_t size);

/* The plan as init.conf ("key=value" entries each ended by a NUL) in a buffer from malloc. */
int exec_conf_build(const struct exec_plan *plan, char **out, size_t *len, struct errmsg *e);

/*
 * Whether an environment entry ("NAME=VALUE") only makes sense on the host
 * (a display, a session bus, an agent socket, a terminal multiplexer, the
 * login session): exec leaves it out of the command's environment.
 */
bool exec_env_host_only(const char *entry);

#endif
