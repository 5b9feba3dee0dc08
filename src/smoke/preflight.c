// SPDX-License-Identifier: Apache-2.0
#include "smoke/preflight.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot/bzimage.h"

struct kconfig_entry {
	char *name;
	enum kconfig_state state;
	size_t line; /* the last assignment wins */
};

struct kconfig {
	struct kconfig_entry *e;
	size_t n, cap;
};

static bool is_name_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
}

/* The length of the option name after "CONFIG_" at s (0: none). */
static size_t name_len(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && is_name_char(s[i]))
		i++;
	return i;
}

static bool is_number(const char *s, size_t len)
{
	size_t i = 0;
	bool hex = len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');

	if (hex)
		i = 2;
	else if (len && s[0] == '-')
		i = 1;
	if (i == len)
		return false;
	for (; i < len; i++) {
		char ch = s[i];

		if (!(ch >= '0' && ch <= '9') &&
		    !(hex && ((ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F'))))
			return false;
	}
	return true;
}

/* A whole `"..."` with only \" and \\ escapes and no bare quote inside. */
static bool is_string(const char *s, size_t len)
{
	size_t i;

	if (len < 2 || s[0] != '"' || s[len - 1] != '"')
		return false;
	for (i = 1; i < len - 1; i++) {
		if (s[i] == '\\') {
			if (i + 1 >= len - 1)
				return false;
			i++;
		} else if (s[i] == '"') {
			return false;
		}
	}
	return true;
}

static int add(struct kconfig *c, const char *name, size_t nlen, enum kconfig_state st, size_t line)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		struct kconfig_entry *e = realloc(c->e, cap * sizeof(*e));

		if (!e)
			return -ENOMEM;
		c->e = e;
		c->cap = cap;
	}
	c->e[c->n].name = strndup(name, nlen);
	if (!c->e[c->n].name)
		return -ENOMEM;
	c->e[c->n].state = st;
	c->e[c->n].line = line;
	c->n++;
	return 0;
}

static int parse_line(struct kconfig *c, const char *s, size_t len, size_t line, struct errmsg *err)
{
	static const char not_set[] = " is not set";
	size_t nl;

	if (len && s[len - 1] == '\r')
		len--;
	while (len && (s[0] == ' ' || s[0] == '\t'))
		s++, len--;
	if (!len)
		return 0;
	if (s[0] == '#') {
		/* `# CONFIG_X is not set` says X is off; any other comment says nothing. */
		if (len > 9 && !memcmp(s, "# CONFIG_", 9)) {
			nl = name_len(s + 9, len - 9);
			if (nl && len - 9 - nl == sizeof(not_set) - 1 && !memcmp(s + 9 + nl, not_set, sizeof(not_set) - 1))
				return add(c, s + 9, nl, KCONFIG_ABSENT, line);
		}
		return 0;
	}
	if (len < 7 || memcmp(s, "CONFIG_", 7))
		return errmsg_set(err, EINVAL, "line %zu: neither CONFIG_NAME=value nor a # comment", line);
	nl = name_len(s + 7, len - 7);
	if (!nl || 7 + nl == len || s[7 + nl] != '=')
		return errmsg_set(err, EINVAL, "line %zu: CONFIG_ must be followed by NAME=value", line);
	{
		const char *v = s + 8 + nl;
		size_t vlen = len - 8 - nl;
		enum kconfig_state st;

		if (vlen == 1 && v[0] == 'y')
			st = KCONFIG_Y;
		else if (vlen == 1 && v[0] == 'm')
			st = KCONFIG_M;
		else if (vlen == 1 && v[0] == 'n')
			st = KCONFIG_ABSENT;
		else if (is_string(v, vlen) || is_number(v, vlen))
			st = KCONFIG_VALUE;
		else
			return errmsg_set(err, EINVAL, "line %zu: CONFIG_%.*s: the value is not y, m, n, a number or a quoted string",
					  line, (int)(nl > 64 ? 64 : nl), s + 7);
		return add(c, s + 7, nl, st, line);
	}
}

static int by_name_then_line(const void *a, const void *b)
{
	const struct kconfig_entry *x = a, *y = b;
	int r = strcmp(x->name, y->name);

	return r ? r : (x->line > y->line) - (x->line < y->line);
}

int kconfig_parse(const char *text, size_t len, struct kconfig **out, struct errmsg *err)
{
	struct kconfig *c = calloc(1, sizeof(*c));
	size_t at = 0, line = 0, i, kept = 0;
	int rc = 0;

	if (!c)
		return -ENOMEM;
	while (at < len && !rc) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t end = nl ? (size_t)(nl - text) : len;

		if (++line > KCONFIG_LINES_MAX)
			rc = errmsg_set(err, E2BIG, "more than %d lines: not a kernel .config", KCONFIG_LINES_MAX);
		else if (end - at > KCONFIG_LINE_MAX)
			rc = errmsg_set(err, EINVAL, "line %zu: longer than %d bytes", line, KCONFIG_LINE_MAX);
		else if (memchr(text + at, 0, end - at))
			rc = errmsg_set(err, EINVAL, "line %zu: a NUL byte: not a text file", line);
		else
			rc = parse_line(c, text + at, end - at, line, err);
		at = end + 1;
	}
	if (rc) {
		if (rc == -ENOMEM)
			errmsg_set(err, ENOMEM, "out of memory");
		kconfig_free(c);
		return rc;
	}
	/* Sorted for lookup; of duplicates only the last assignment stays. */
	if (c->n)
		qsort(c->e, c->n, sizeof(*c->e), by_name_then_line);
	for (i = 0; i < c->n; i++) {
		if (i + 1 < c->n && !strcmp(c->e[i].name, c->e[i + 1].name)) {
			free(c->e[i].name);
			continue;
		}
		c->e[kept++] = c->e[i];
	}
	c->n = kept;
	*out = c;
	return 0;
}

void kconfig_free(struct kconfig *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n; i++)
		free(c->e[i].name);
	free(c->e);
	free(c);
}

enum kconfig_state kconfig_get(const struct kconfig *c, const char *name)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(name, c->e[mid].name);

		if (!r)
			return c->e[mid].state;
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return KCONFIG_ABSENT;
}

int preflight_initrd_format(const uint8_t *d, size_t len, enum preflight_initrd *out, struct errmsg *err)
{
	/* The magics the kernel's decompress_method() tries (lib/decompress.c), and cpio "newc" (with or without CRC). */
	static const struct {
		const char *magic;
		size_t len;
		enum preflight_initrd fmt;
	} magics[] = {
		{ "070701", 6, PREFLIGHT_INITRD_CPIO },
		{ "070702", 6, PREFLIGHT_INITRD_CPIO },
		{ "\x1f\x8b", 2, PREFLIGHT_INITRD_GZIP },
		{ "\x1f\x9e", 2, PREFLIGHT_INITRD_GZIP },
		{ "BZh", 3, PREFLIGHT_INITRD_BZIP2 },
		{ "\x5d\x00", 2, PREFLIGHT_INITRD_LZMA },
		{ "\xfd" "7zXZ\x00", 6, PREFLIGHT_INITRD_XZ },
		{ "\x89LZO", 4, PREFLIGHT_INITRD_LZO },
		{ "\x02\x21", 2, PREFLIGHT_INITRD_LZ4 },
		{ "\x28\xb5\x2f\xfd", 4, PREFLIGHT_INITRD_ZSTD },
	};
	size_t i;

	for (i = 0; i < sizeof(magics) / sizeof(magics[0]); i++) {
		if (len >= magics[i].len && !memcmp(d, magics[i].magic, magics[i].len)) {
			*out = magics[i].fmt;
			return 0;
		}
	}
	return errmsg_set(err, EINVAL, "neither a cpio archive nor compressed in a format Linux unpacks");
}

static bool serial_console(const struct preflight_needs *n) { return !n->console_virtio; }
static bool virtio_console(const struct preflight_needs *n) { return n->console_virtio; }
static bool any_virtio(const struct preflight_needs *n) { return n->console_virtio || n->devices; }
static bool over_pci(const struct preflight_needs *n) { return any_virtio(n) && !n->transport_mmio; }
static bool over_mmio(const struct preflight_needs *n) { return any_virtio(n) && n->transport_mmio; }
static bool mmio_without_acpi(const struct preflight_needs *n) { return over_mmio(n) && !n->acpi; }
static bool blk(const struct preflight_needs *n) { return n->devices & PREFLIGHT_DEV_BLK; }
static bool net(const struct preflight_needs *n) { return n->devices & PREFLIGHT_DEV_NET; }
static bool rng(const struct preflight_needs *n) { return n->devices & PREFLIGHT_DEV_RNG; }
static bool fs(const struct preflight_needs *n) { return n->devices & PREFLIGHT_DEV_FS; }
static bool vsock(const struct preflight_needs *n) { return n->devices & PREFLIGHT_DEV_VSOCK; }
static bool balloon(const struct preflight_needs *n) { return n->devices & PREFLIGHT_DEV_BALLOON; }
static bool pvh(const struct preflight_needs *n) { return n->pvh; }
static bool mptable_smp(const struct preflight_needs *n) { return !n->acpi && n->cpus > 1; }
static bool acpi(const struct preflight_needs *n) { return n->acpi; }
static bool initrd(const struct preflight_needs *n) { return n->initrd != PREFLIGHT_INITRD_NONE; }
static bool gzip(const struct preflight_needs *n) { return n->initrd == PREFLIGHT_INITRD_GZIP; }
static bool bzip2(const struct preflight_needs *n) { return n->initrd == PREFLIGHT_INITRD_BZIP2; }
static bool lzma(const struct preflight_needs *n) { return n->initrd == PREFLIGHT_INITRD_LZMA; }
static bool xz(const struct preflight_needs *n) { return n->initrd == PREFLIGHT_INITRD_XZ; }
static bool lzo(const struct preflight_needs *n) { return n->initrd == PREFLIGHT_INITRD_LZO; }
static bool lz4(const struct preflight_needs *n) { return n->initrd == PREFLIGHT_INITRD_LZ4; }
static bool zstd(const struct preflight_needs *n) { return n->initrd == PREFLIGHT_INITRD_ZSTD; }
static bool builtin_init(const struct preflight_needs *n) { return n->builtin_init; }
static bool modules(const struct preflight_needs *n) { return n->n_modules > 0; }

static const struct preflight_rule rules[] = {
	{ "SERIAL_8250", NULL, serial_console, "serial console", "the console is ttyS0, a 16550 UART" },
	{ "SERIAL_8250_CONSOLE", NULL, serial_console, "serial console", "the console is ttyS0" },
	{ "VIRTIO_CONSOLE", "virtio_console", virtio_console, "virtio console", "the console is hvc0 on virtio-console" },
	{ "HVC_DRIVER", NULL, virtio_console, "virtio console", "hvc0 is an hvc console" },
	{ "VIRTIO_PCI", "virtio_pci", over_pci, "a virtio device over PCI", "the virtio devices are on PCI" },
	{ "VIRTIO_MMIO", "virtio_mmio", over_mmio, "a virtio device over MMIO", "the virtio devices are virtio-mmio" },
	{ "VIRTIO_MMIO_CMDLINE_DEVICES", NULL, mmio_without_acpi, "MMIO without ACPI",
	  "without ACPI the MMIO devices are announced on the command line (virtio_mmio.device=)" },
	{ "VIRTIO_BLK", "virtio_blk", blk, "a disk", "a disk is attached (virtio-blk)" },
	{ "VIRTIO_NET", "virtio_net", net, "a network interface", "a network interface is attached (virtio-net)" },
	{ "HW_RANDOM", "rng_core", rng, "an entropy device", "virtio-rng is a hw_random driver" },
	{ "HW_RANDOM_VIRTIO", "virtio_rng", rng, "an entropy device", "an entropy device is attached (virtio-rng)" },
	{ "VIRTIO_FS", "virtiofs", fs, "a shared directory", "a directory is shared (virtio-fs)" },
	{ "FUSE_FS", "fuse", fs, "a shared directory", "virtio-fs is a FUSE transport" },
	{ "VSOCKETS", "vsock", vsock, "a vsock device", "virtio-vsock is an AF_VSOCK transport" },
	{ "VIRTIO_VSOCKETS", "vmw_vsock_virtio_transport", vsock, "a vsock device", "a vsock device is attached (virtio-vsock)" },
	{ "VIRTIO_BALLOON", "virtio_balloon", balloon, "a balloon", "a balloon device is attached (virtio-balloon)" },
	{ "PVH", NULL, pvh, "an ELF kernel", "an ELF vmlinux is entered through its PVH entry point" },
	{ "X86_MPPARSE", NULL, mptable_smp, "no ACPI, more than 1 vCPU",
	  "without ACPI the other vCPUs are described only by the MP table; without it the guest sees one CPU" },
	{ "ACPI", NULL, acpi, "ACPI on", "the guest powers off through ACPI; without it poweroff halts and the run times out" },
	{ "BLK_DEV_INITRD", NULL, initrd, "an initrd", "an initramfs is loaded" },
	{ "RD_GZIP", NULL, gzip, "a gzip initrd", "the initrd is gzip-compressed" },
	{ "RD_BZIP2", NULL, bzip2, "a bzip2 initrd", "the initrd is bzip2-compressed" },
	{ "RD_LZMA", NULL, lzma, "an lzma initrd", "the initrd is lzma-compressed" },
	{ "RD_XZ", NULL, xz, "an xz initrd", "the initrd is xz-compressed" },
	{ "RD_LZO", NULL, lzo, "an lzo initrd", "the initrd is lzo-compressed" },
	{ "RD_LZ4", NULL, lz4, "an lz4 initrd", "the initrd is lz4-compressed" },
	{ "RD_ZSTD", NULL, zstd, "a zstd initrd", "the initrd is zstd-compressed" },
	{ "BINFMT_ELF", NULL, builtin_init, "the built-in init", "the built-in init is a static ELF program" },
	{ "DEVTMPFS", NULL, builtin_init, "the built-in init", "the built-in init mounts devtmpfs on /dev" },
	{ "PROC_FS", NULL, builtin_init, "the built-in init", "the built-in init mounts /proc and reads /proc/meminfo" },
	{ "SYSFS", NULL, builtin_init, "the built-in init", "the built-in init mounts /sys" },
	{ "MODULES", NULL, modules, "modules supplied", "modules are supplied to be loaded" },
};

const struct preflight_rule *preflight_rules(size_t *n)
{
	*n = sizeof(rules) / sizeof(rules[0]);
	return rules;
}

/* Module names treat '-' and '_' alike, as modprobe does. */
static bool same_module(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a == '-' ? '_' : *a, y = *b == '-' ? '_' : *b;

		if (x != y)
			return false;
	}
	return !*a && !*b;
}

static bool module_supplied(const struct preflight_needs *n, const char *module)
{
	size_t i;

	for (i = 0; module && i < n->n_modules; i++)
		if (same_module(n->modules[i], module))
			return true;
	return false;
}

size_t preflight_check(const struct kconfig *c, const struct preflight_needs *n, struct preflight_missing *out,
		       size_t max)
{
	size_t i, count = 0, n_rules;
	const struct preflight_rule *r = preflight_rules(&n_rules);

	for (i = 0; i < n_rules; i++) {
		enum kconfig_state st;

		if (!r[i].applies(n))
			continue;
		st = kconfig_get(c, r[i].option);
		if (st == KCONFIG_Y || (st == KCONFIG_M && module_supplied(n, r[i].module)))
			continue;
		if (count < max) {
			out[count].rule = &r[i];
			out[count].state = st == KCONFIG_M ? KCONFIG_M : KCONFIG_ABSENT;
		}
		count++;
	}
	return count;
}

int preflight_format(const struct preflight_missing *m, char *buf, size_t size)
{
	const struct preflight_rule *r = m->rule;

	if (m->state == KCONFIG_M && r->module)
		return snprintf(buf, size, "CONFIG_%s=m but no %s module supplied: %s", r->option, r->module, r->reason);
	if (m->state == KCONFIG_M)
		return snprintf(buf, size, "CONFIG_%s=m, must be =y: %s", r->option, r->reason);
	return snprintf(buf, size, "CONFIG_%s: %s", r->option, r->reason);
}

static bool ends_with(const char *s, size_t len, const char *suffix)
{
	size_t sl = strlen(suffix);

	return len >= sl && !memcmp(s + len - sl, suffix, sl) && (len == sl || s[len - sl - 1] == '/');
}

int preflight_config_candidates(const char *kernel, const char *release, char (*paths)[4096], size_t max)
{
	const char *slash = strrchr(kernel, '/');
	const char *base = slash ? slash + 1 : kernel;
	/* The kernel's directory, "." for a bare name. */
	int dlen = slash ? (int)(slash - kernel) : 1;
	const char *dir = slash ? kernel : ".";
	size_t n = 0;
	int w;

	if (slash && !dlen)
		dir = "/", dlen = 1;
	if (!strcmp(base, "bzImage") && ends_with(dir, (size_t)dlen, "arch/x86/boot") && n < max) {
		/* The tree root is three levels up: textual, so a relative path stays relative. */
		size_t root = (size_t)dlen - strlen("arch/x86/boot");

		w = snprintf(paths[n++], 4096, "%.*s.config", (int)root, dir);
		if (w < 0 || w >= 4096)
			return -ENAMETOOLONG;
	}
	if (!strcmp(base, "vmlinux") && n < max) {
		w = snprintf(paths[n++], 4096, "%.*s/.config", dlen, dir);
		if (w < 0 || w >= 4096)
			return -ENAMETOOLONG;
	}
	if (release && *release && !strchr(release, '/') && n < max) {
		w = snprintf(paths[n++], 4096, "%.*s/config-%s", dlen, dir, release);
		if (w < 0 || w >= 4096)
			return -ENAMETOOLONG;
	}
	return (int)n;
}

/* Up to max bytes of path into a new buffer; -EFBIG when it is longer. */
static int read_prefix(const char *path, size_t max, bool whole, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf;
	size_t n = 0;
	int rc = 0;

	if (fd < 0)
		return -errno;
	buf = malloc(max + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t r = read(fd, buf + n, max + 1 - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			break;
		}
		if (!r)
			break;
		n += (size_t)r;
		if (n > max) {
			n = max;
			if (whole)
				rc = -EFBIG;
			break;
		}
	}
	close(fd);
	if (rc) {
		free(buf);
		return rc;
	}
	*out = buf;
	*len = n;
	return 0;
}

int preflight_find_config(const char *kernel, const char *explicit_config, char *out, size_t size,
			  struct errmsg *err)
{
	/* The release string sits in the setup code, within the first 32 KiB of a bzImage. */
	char release[128] = "", paths[3][4096], *img;
	size_t len, i;
	int n;

	if (explicit_config) {
		if (strlen(explicit_config) >= size)
			return errmsg_set(err, ENAMETOOLONG, "config '%s': path too long", explicit_config);
		strcpy(out, explicit_config);
		return 0;
	}
	if (!read_prefix(kernel, 64 * 1024, false, &img, &len)) {
		if (bzimage_kernel_version((const uint8_t *)img, len, release, sizeof(release)))
			release[0] = 0;
		free(img);
	}
	n = preflight_config_candidates(kernel, release, paths, 3);
	if (n < 0)
		return errmsg_set(err, -n, "kernel '%s': path too long to look for its config", kernel);
	for (i = 0; i < (size_t)n; i++) {
		if (access(paths[i], R_OK))
			continue;
		if (strlen(paths[i]) >= size)
			return errmsg_set(err, ENAMETOOLONG, "config '%s': path too long", paths[i]);
		strcpy(out, paths[i]);
		return 0;
	}
	if (!n)
		return errmsg_set(err, ENOENT, "no config found for kernel '%s' (not in a build tree, no release in its header): give --config", kernel);
	return errmsg_set(err, ENOENT, "no config found for kernel '%s' (tried %s%s%s): give --config", kernel, paths[0],
			  n > 1 ? ", " : "", n > 1 ? paths[1] : "");
}

int preflight_read_config(const char *path, struct kconfig **out, struct errmsg *err)
{
	char *text;
	size_t len;
	int rc = read_prefix(path, KCONFIG_FILE_MAX, true, &text, &len);

	if (rc == -EFBIG)
		return errmsg_set(err, EFBIG, "config '%s': larger than %u bytes: not a kernel .config", path, KCONFIG_FILE_MAX);
	if (rc)
		return errmsg_set(err, -rc, "config '%s': %s", path, strerror(-rc));
	rc = kconfig_parse(text, len, out, err);
	free(text);
	if (rc)
		return errmsg_prefix(err, -rc, "config '%s': ", path);
	return 0;
}
