/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kernel-config preflight for `kvmini smoke`: before booting, check that the
 * kernel's .config has what the run needs, so that a kernel built without a
 * console or a transport fails at once with the option's name instead of
 * timing out (or passing with less than it should) after a long boot.
 *
 * Three parts: a parser of .config text (untrusted: bounded, one-line errors
 * naming the line), the rules (one table, option / when / why, listed in
 * docs/smoke.md), and where the config is found beside the kernel.
 * Pure except preflight_find_config and preflight_read_config, thin readers.
 */
#ifndef KVMINI_SMOKE_PREFLIGHT_H
#define KVMINI_SMOKE_PREFLIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errmsg.h"

/* A line longer than this is garbage, not a .config (the longest real ones are CONFIG_CMDLINE strings). */
#define KCONFIG_LINE_MAX 4096
/* A distribution kernel's .config has about 12000 lines. */
#define KCONFIG_LINES_MAX 65536
/* preflight_read_config reads no more than this. */
#define KCONFIG_FILE_MAX (4u << 20)

enum kconfig_state {
	KCONFIG_ABSENT, /* not in the file, `# CONFIG_X is not set`, or `=n` */
	KCONFIG_Y,
	KCONFIG_M,
	KCONFIG_VALUE, /* a string or a number */
};

struct kconfig;

/*
 * Parses .config text: `CONFIG_X=y`, `=m`, `=n`, `="string"` (with \" and \\
 * escapes), a decimal or 0x number, `# CONFIG_X is not set`, other `#`
 * comments and blank lines; a trailing CR is ignored. When an option is set
 * twice the last one wins, as in kconfig. -EINVAL with err naming the line
 * ("line 12: ...") for anything else; -E2BIG past KCONFIG_LINES_MAX; -ENOMEM.
 */
int kconfig_parse(const char *text, size_t len, struct kconfig **out, struct errmsg *err);
void kconfig_free(struct kconfig *c);
/* name without the CONFIG_ prefix. */
enum kconfig_state kconfig_get(const struct kconfig *c, const char *name);

/* An initrd's format, from its first bytes (what the kernel's decompressors look for). */
enum preflight_initrd {
	PREFLIGHT_INITRD_NONE, /* no initrd */
	PREFLIGHT_INITRD_CPIO, /* uncompressed cpio "newc", as the built-in init's */
	PREFLIGHT_INITRD_GZIP,
	PREFLIGHT_INITRD_BZIP2,
	PREFLIGHT_INITRD_LZMA,
	PREFLIGHT_INITRD_XZ,
	PREFLIGHT_INITRD_LZO,
	PREFLIGHT_INITRD_LZ4,
	PREFLIGHT_INITRD_ZSTD,
};

/* 0 and *out; -EINVAL with err when no known magic starts the data. */
int preflight_initrd_format(const uint8_t *data, size_t len, enum preflight_initrd *out, struct errmsg *err);

#define PREFLIGHT_DEV_BLK (1u << 0)
#define PREFLIGHT_DEV_NET (1u << 1)
#define PREFLIGHT_DEV_RNG (1u << 2)
#define PREFLIGHT_DEV_FS (1u << 3)
#define PREFLIGHT_DEV_VSOCK (1u << 4)
#define PREFLIGHT_DEV_BALLOON (1u << 5)

/* What one run needs. */
struct preflight_needs {
	bool console_virtio;  /* hvc0, else ttyS0 */
	bool transport_mmio;  /* virtio-mmio, else virtio-pci */
	bool acpi;
	unsigned cpus;
	unsigned devices;     /* PREFLIGHT_DEV_* */
	bool pvh;             /* an ELF kernel entered through PVH, else a bzImage */
	enum preflight_initrd initrd;
	bool builtin_init;    /* the built-in smoke init is PID 1 */
	const char *const *modules; /* module names supplied ('-' and '_' alike); NULL when none */
	size_t n_modules;
};

struct preflight_rule {
	const char *option;  /* without CONFIG_ */
	const char *module;  /* the module =m builds, or NULL when it must be =y */
	bool (*applies)(const struct preflight_needs *n);
	const char *when;    /* the condition, for docs and tests */
	const char *reason;  /* why the run needs it */
};

/* The rules, in the order they are checked. */
const struct preflight_rule *preflight_rules(size_t *n);

struct preflight_missing {
	const struct preflight_rule *rule;
	enum kconfig_state state; /* KCONFIG_ABSENT, or KCONFIG_M without the module supplied */
};

/*
 * Every rule that applies to n and that c does not satisfy, into out[max]
 * (the rest are counted, not stored). Returns how many are missing.
 */
size_t preflight_check(const struct kconfig *c, const struct preflight_needs *n, struct preflight_missing *out,
		       size_t max);

/* One line for a missing option: "CONFIG_SERIAL_8250_CONSOLE: the console is ttyS0". Returns snprintf's count. */
int preflight_format(const struct preflight_missing *m, char *buf, size_t size);

/*
 * Where the kernel's config is likely to be, best first, into paths[max][size]:
 * the build tree a bzImage sits in (DIR/arch/x86/boot/bzImage: DIR/.config),
 * the tree root a vmlinux sits in (DIR/vmlinux: DIR/.config), then, when the
 * release is known, a distribution's config beside its kernel
 * (/boot/vmlinuz-R: /boot/config-R). Pure. Returns how many, or -ENAMETOOLONG.
 */
int preflight_config_candidates(const char *kernel, const char *release, char (*paths)[4096], size_t max);

/*
 * The config to check: explicit (--config) when not NULL, else the first
 * candidate that exists, the release read from the bzImage's header.
 * 0 with the path in out; -ENOENT with err listing where it looked.
 */
int preflight_find_config(const char *kernel, const char *explicit_config, char *out, size_t size,
			  struct errmsg *err);

/* Reads and parses a config file (at most KCONFIG_FILE_MAX bytes); errors name the file. */
int preflight_read_config(const char *path, struct kconfig **out, struct errmsg *err);

#endif
