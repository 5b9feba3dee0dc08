// SPDX-License-Identifier: Apache-2.0
/*
 * A configured boot's setup (init.conf, docs/sharing.md): the kernel
 * modules, then the new root from virtio-fs with its tmpfs and share mounts,
 * /proc, /sys, /dev and /dev/pts, then into it as switch_root does.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <linux/errno.h>
#include <linux/fcntl.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/time_types.h>

#include "init.h"
#include "sys.h"

/* Where the new root is mounted in the initramfs before it becomes /. */
#define NEW_ROOT "/kvmini/root"
/* How long a virtio-fs mount waits for its device to finish probing after its module loaded. */
#define MOUNT_WAIT_MS 5000
#define MOUNT_RETRY_MS 20

void sleep_ms(long ms)
{
	struct __kernel_timespec ts = { .tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000 };

	syscall5(__NR_nanosleep, (long)&ts, 0, 0, 0, 0);
}

/*
 * Distributions ship compressed modules too (xz, zstd, gzip), under any
 * name: told so, a kernel with CONFIG_MODULE_DECOMPRESS unpacks them.
 */
static int module_flags(int fd)
{
	static const struct {
		uint8_t len, magic[6];
	} compressed[] = {
		{ 6, { 0xfd, '7', 'z', 'X', 'Z', 0 } },
		{ 4, { 0x28, 0xb5, 0x2f, 0xfd } },
		{ 2, { 0x1f, 0x8b } },
	};
	uint8_t head[6] = { 0 };

	syscall5(__NR_pread64, fd, (long)head, sizeof(head), 0, 0);
	for (size_t i = 0; i < sizeof(compressed) / sizeof(compressed[0]); i++)
		if (!memcmp(head, compressed[i].magic, compressed[i].len))
			return MODULE_INIT_COMPRESSED_FILE;
	return 0;
}

int setup_modules(const struct init_conf *c, struct line *err)
{
	for (size_t i = 0; i < c->n_modules; i++) {
		const char *m = c->modules[i];
		long fd = sys_open(m, O_RDONLY | O_CLOEXEC), rc = fd;

		if (fd >= 0) {
			rc = syscall5(__NR_finit_module, fd, (long)"", module_flags((int)fd), 0, 0);
			sys_close((int)fd);
		}
		/* EEXIST: built into this kernel after all, or loaded already. */
		if (rc < 0 && rc != -EEXIST) {
			line_error(err, "load module", m, rc);
			return (int)rc;
		}
	}
	return 0;
}

static int mount_or_say(const char *source, const char *target, const char *type, unsigned long flags,
			const char *data, struct line *err)
{
	long rc = sys_mount(source, target, type, flags, data);

	if (rc) {
		line_error(err, "mount", target, rc);
		line_add(err, " (");
		line_add(err, type);
		line_add(err, " ");
		line_add(err, source);
		line_add(err, ")");
	}
	return (int)rc;
}

/* Mounts virtio-fs tag at target, waiting while the tag's device may still be probing. */
static int mount_share(const char *tag, const char *target, bool readonly, struct line *err)
{
	unsigned long flags = readonly ? MS_RDONLY : 0;
	long rc = 0;

	for (int waited = 0; waited <= MOUNT_WAIT_MS; waited += MOUNT_RETRY_MS) {
		rc = sys_mount(tag, target, "virtiofs", flags, NULL);
		if (rc != -ENODEV && rc != -ENOENT && rc != -ENXIO)
			break;
		sleep_ms(MOUNT_RETRY_MS);
	}
	return rc ? mount_or_say(tag, target, "virtiofs", flags, NULL, err) : 0;
}

/* path with the new root's prefix, into out: 0, or -ENAMETOOLONG. */
static int in_root(const struct init_conf *c, const char *path, char *out, size_t size, struct line *err)
{
	const char *prefix = c->root ? NEW_ROOT : "";
	size_t p = strlen(prefix), n = strlen(path);

	if (p + n + 1 > size) {
		line_error(err, "mount", path, -ENAMETOOLONG);
		return -ENAMETOOLONG;
	}
	memcpy(out, prefix, p);
	memcpy(out + p, path, n + 1);
	return 0;
}

/* Whether path lies strictly under dir. */
static bool is_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	return strncmp(path, dir, n) == 0 && path[n] == '/' && path[n + 1];
}

/*
 * A mount point under a tmpfs the init mounted is the init's to make
 * (mkdir -p below the tmpfs); anywhere else it must be there already,
 * except a tmpfs's own in a writable root.
 */
static int make_mount_point(const struct init_conf *c, size_t tmpfs_done, const char *path, char *full,
			    bool for_tmpfs, struct line *err)
{
	size_t skip = strlen(full) - strlen(path);
	bool ours = false;

	for (size_t i = 0; i < tmpfs_done && !ours; i++)
		ours = is_under(path, c->tmpfs[i]);
	if (!ours) {
		/* A read-only root answers EROFS for a missing one, and the mount then says ENOENT. */
		if (for_tmpfs)
			sys_mkdir(full, 0755);
		return 0;
	}
	for (char *s = full + skip + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char end = *s;
		long rc;

		*s = '\0';
		rc = sys_mkdir(full, 0755);
		*s = end;
		if (rc && rc != -EEXIST) {
			line_error(err, "mkdir", path, rc);
			return (int)rc;
		}
		if (!end)
			return 0;
	}
}

/* Mounts source on path in the new root, made first if the root lacks it and can have it. */
static int mount_in_root(const struct init_conf *c, const char *path, const char *source, const char *type,
			 unsigned long flags, const char *data, struct line *err)
{
	char at[64];
	int rc = in_root(c, path, at, sizeof(at), err);

	if (rc)
		return rc;
	sys_mkdir(at, 0755); /* EEXIST, or EROFS in a read-only root: the mount says what is wrong */
	return mount_or_say(source, at, type, flags, data, err);
}

/* proc, sysfs, the initramfs's devtmpfs and a devpts of the guest's own, in the new root. */
static int mount_system(const struct init_conf *c, struct line *err)
{
	/* newinstance: ptys of its own; ptmxmode: /dev/ptmx (which opens the ptmx of the devpts beside it) for all. */
	return mount_in_root(c, "/proc", "proc", "proc", 0, NULL, err) ?:
	       mount_in_root(c, "/sys", "sysfs", "sysfs", 0, NULL, err) ?:
	       (c->root ? mount_in_root(c, "/dev", "/dev", "devtmpfs", MS_MOVE, NULL, err) : 0) ?:
	       mount_in_root(c, "/dev/pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC,
			     "newinstance,ptmxmode=0666,mode=0620", err);
}

/* switch_root's way: the new root's mount moves onto /, and the init chroots into it. */
static int enter_root(struct line *err)
{
	long rc = syscall5(__NR_chdir, (long)NEW_ROOT, 0, 0, 0, 0);

	if (rc) {
		line_error(err, "chdir", NEW_ROOT, rc);
		return (int)rc;
	}
	rc = sys_mount(".", "/", NULL, MS_MOVE, NULL);
	if (rc) {
		line_error(err, "move the new root onto", "/", rc);
		return (int)rc;
	}
	rc = syscall5(__NR_chroot, (long)".", 0, 0, 0, 0) ?: syscall5(__NR_chdir, (long)"/", 0, 0, 0, 0);
	if (rc)
		line_error(err, "chroot", NEW_ROOT, rc);
	return (int)rc;
}

int setup_root(const struct init_conf *c, struct line *err)
{
	static char target[4096];
	int rc;

	if (c->root) {
		rc = (int)sys_mkdir(NEW_ROOT, 0755);
		if (rc && rc != -EEXIST) {
			line_error(err, "mkdir", NEW_ROOT, rc);
			return rc;
		}
		rc = mount_share(c->root, NEW_ROOT, c->root_readonly, err);
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < c->n_tmpfs; i++) {
		rc = in_root(c, c->tmpfs[i], target, sizeof(target), err) ?:
		     make_mount_point(c, i, c->tmpfs[i], target, true, err) ?:
		     mount_or_say("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", err);
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < c->n_mounts; i++) {
		const struct conf_mount *m = &c->mounts[i];

		rc = in_root(c, m->path, target, sizeof(target), err) ?:
		     make_mount_point(c, c->n_tmpfs, m->path, target, false, err) ?:
		     mount_share(m->tag, target, m->readonly, err);
		if (rc)
			return rc;
	}
	rc = mount_system(c, err);
	if (rc)
		return rc;
	return c->root ? enter_root(err) : 0;
}
