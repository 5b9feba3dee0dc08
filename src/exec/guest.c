// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot/bzimage.h"
#include "boot/initramfs.h"
#include "exec/guest.h"
#include "exec/modules.h"
#include "log.h"
#include "open_file.h"

/* The setup header and the version string it points at lie in the first sectors of a bzImage. */
#define KERNEL_HEAD 65536
/* A module larger than this is not one the guest needs (the largest of Debian's are a few MiB). */
#define MODULE_MAX (64u << 20)

/* The kernel's release, or "" when it has none (not a bzImage, or no version string). */
static int kernel_release(const char *path, char *release, size_t size, struct errmsg *e)
{
	static uint8_t head[KERNEL_HEAD];
	int fd = open_file("kernel", path, O_RDONLY, OPEN_REGULAR, false, e);
	ssize_t n;

	if (fd < 0)
		return fd;
	n = pread(fd, head, sizeof(head), 0);
	close(fd);
	if (n < 0)
		return errmsg_set(e, errno, "kernel '%s': %s", path, strerror(errno));
	if (bzimage_kernel_version(head, (size_t)n, release, size))
		release[0] = 0;
	return 0;
}

/* The modules the plan needs, from the given tree or the default one; none when there is no tree at all. */
static int find_modules(const struct vm_config *cfg, const struct exec_plan *plan, const char *dir,
			struct exec_modules *mods, char *mod_dir, size_t size, struct errmsg *e)
{
	const char *wanted[4];
	char release[128];
	size_t n = 0;
	int err;

	mods->nr = 0;
	if ((err = kernel_release(cfg->kernel_path, release, sizeof(release), e)))
		return err;
	if (!release[0] && dir)
		return errmsg_set(e, EINVAL, "--modules %s: cannot tell the release of kernel '%s' (not a bzImage?)", dir,
				  cfg->kernel_path);
	if (!release[0])
		return 0;
	err = exec_modules_dir(dir, release, mod_dir, size, e);
	if (err == 1) {
		log_debug("no %s: taking the kernel to have virtio, fuse and virtiofs built in", mod_dir);
		return 0;
	}
	if (err)
		return err;
	wanted[n++] = cfg->transport == VIRTIO_TRANSPORT_MMIO ? "virtio_mmio" : "virtio_pci";
	if (plan->mode == EXEC_MODE_EXEC)
		wanted[n++] = "virtio_console";
	wanted[n++] = "fuse";
	wanted[n++] = "virtiofs";
	if ((err = exec_modules_find(mod_dir, wanted, n, mods, e)))
		return errmsg_prefix(e, -err, "kernel %s, modules in %s: ", release, mod_dir);
	log_debug("kernel %s: %u modules to load from %s", release, mods->nr, mod_dir);
	return 0;
}

/* Entries of the initramfs beyond the init: two directories, init.conf and each module. */
#define ENTRIES_MAX (3 + EXEC_MODULES_MAX)

int guest_build(struct vm_config *cfg, struct exec_plan *plan, const char *modules_dir, uint8_t **initramfs,
		struct errmsg *e)
{
	static struct exec_modules mods;
	struct initramfs_entry entries[ENTRIES_MAX];
	char names[EXEC_MODULES_MAX][EXEC_MODULE_NAME_MAX + 32];
	uint8_t *data[EXEC_MODULES_MAX] = { NULL };
	char mod_dir[PATH_MAX], path[PATH_MAX * 2];
	char *conf = NULL;
	size_t conf_len, n = 0;
	int err;

	err = find_modules(cfg, plan, modules_dir, &mods, mod_dir, sizeof(mod_dir), e);
	plan->modules = &mods;
	err = err ?: exec_conf_build(plan, &conf, &conf_len, e);
	if (!err) {
		entries[n++] = (struct initramfs_entry){ "kvmini", NULL, 0 };
		entries[n++] = (struct initramfs_entry){ "kvmini/init.conf", conf, conf_len };
		if (mods.nr)
			entries[n++] = (struct initramfs_entry){ "kvmini/modules", NULL, 0 };
	}
	for (unsigned i = 0; !err && i < mods.nr; i++) {
		size_t len;

		snprintf(path, sizeof(path), "%s/%s", mod_dir, mods.list[i].path);
		err = read_file("module", path, MODULE_MAX, &data[i], &len, e);
		exec_module_file(&mods, i, names[i], sizeof(names[i]));
		entries[n++] = (struct initramfs_entry){ names[i], data[i], len };
	}
	if (!err && (err = builtin_initramfs(entries, n, initramfs, &cfg->initrd_size)))
		errmsg_set(e, -err, "cannot build the initramfs: %s", strerror(-err));
	if (!err)
		cfg->initrd_data = *initramfs;
	for (unsigned i = 0; i < mods.nr; i++)
		free(data[i]);
	free(conf);
	return err;
}
