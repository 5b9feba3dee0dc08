/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The built-in init's configuration, EXEC_CONF_PATH (include/exec/proto.h):
 * "key=value" entries, each ended by a NUL, that `kvmini exec` and
 * `kvmini run --rootfs` put into the initramfs. docs/sharing.md lists the
 * keys. Pure code: it also compiles as ordinary C for its unit test.
 */
#ifndef KVMINI_INIT_CONF_H
#define KVMINI_INIT_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bounds on what the init takes; a file past one of them is refused, not cut short. */
#define CONF_SIZE_MAX (1u << 20)
#define CONF_MODULES_MAX 64
#define CONF_MOUNTS_MAX 64
#define CONF_TMPFS_MAX 16
#define CONF_GROUPS_MAX 1024
#define CONF_ARGS_MAX 16384
#define CONF_ENV_MAX 16384

#define CONF_DEFAULT_INIT "/sbin/init"

enum conf_mode {
	CONF_MODE_NONE,
	CONF_MODE_EXEC,
	CONF_MODE_ROOTFS,
};

struct conf_mount {
	const char *tag;
	const char *path;
	bool readonly;
};

/* Strings point into the text conf_parse was given. */
struct init_conf {
	enum conf_mode mode;
	const char *modules[CONF_MODULES_MAX];
	size_t n_modules;
	const char *root; /* a virtio-fs tag, or NULL: stay in the initramfs */
	bool root_readonly;
	const char *tmpfs[CONF_TMPFS_MAX];
	size_t n_tmpfs;
	struct conf_mount mounts[CONF_MOUNTS_MAX];
	size_t n_mounts;
	/* mode=rootfs */
	const char *init;
	/* mode=exec */
	uint32_t uid, gid;
	uint32_t groups[CONF_GROUPS_MAX];
	size_t n_groups;
	const char *cwd;
	const char *args[CONF_ARGS_MAX + 1]; /* NULL-terminated, for execve */
	size_t n_args;
	const char *env[CONF_ENV_MAX + 1]; /* NULL-terminated */
	size_t n_env;
	bool tty;
};

/* What was wrong: a fixed phrase, and the entry it was found in (counted from 1; 0: the file as a whole). */
struct conf_error {
	const char *what;
	size_t entry;
};

/*
 * Parses len bytes of text into c (writing NULs into it where a value has
 * parts, as mount='s). 0, or -EINVAL with *err saying why; a file too big is
 * the caller's to refuse, before reading it all.
 */
int conf_parse(char *text, size_t len, struct init_conf *c, struct conf_error *err);

#endif
