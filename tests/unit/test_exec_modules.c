// SPDX-License-Identifier: Apache-2.0
/* The guest's modules from modules.dep and modules.builtin (src/exec/modules.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "exec/modules.h"

/* As Debian 6.1's modules.dep has them. */
static const char dep[] =
	"kernel/fs/fuse/fuse.ko:\n"
	"kernel/fs/fuse/cuse.ko: kernel/fs/fuse/fuse.ko\n"
	"kernel/fs/fuse/virtiofs.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko "
	"kernel/fs/fuse/fuse.ko\n"
	"kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_legacy_dev.ko "
	"kernel/drivers/virtio/virtio_pci_modern_dev.ko kernel/drivers/virtio/virtio.ko "
	"kernel/drivers/virtio/virtio_ring.ko\n"
	"kernel/drivers/virtio/virtio_pci_legacy_dev.ko:\n"
	"kernel/drivers/virtio/virtio_pci_modern_dev.ko:\n"
	"kernel/drivers/virtio/virtio.ko:\n"
	"kernel/drivers/virtio/virtio_ring.ko:\n"
	"kernel/drivers/char/virtio_console.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko\n";

static const char *const wanted[] = { "virtio_pci", "virtio_console", "fuse", "virtiofs" };

static int position(const struct exec_modules *m, const char *name)
{
	for (unsigned i = 0; i < m->nr; i++)
		if (!strcmp(m->list[i].name, name))
			return (int)i;
	return -1;
}

static void test_dependencies_first(void **state)
{
	struct exec_modules m;
	struct errmsg e;

	(void)state;
	assert_int_equal(exec_modules_resolve(dep, "", wanted, 4, &m, &e), 0);
	assert_int_equal(m.nr, 8);
	assert_true(position(&m, "virtio") < position(&m, "virtio_pci"));
	assert_true(position(&m, "virtio_ring") < position(&m, "virtio_pci"));
	assert_true(position(&m, "virtio_pci_modern_dev") < position(&m, "virtio_pci"));
	assert_true(position(&m, "fuse") < position(&m, "virtiofs"));
	assert_true(position(&m, "virtio_ring") < position(&m, "virtio_console"));
	assert_int_equal(position(&m, "cuse"), -1);
	assert_string_equal(m.list[position(&m, "virtiofs")].path, "kernel/fs/fuse/virtiofs.ko");
}

static void test_builtin_skipped(void **state)
{
	const char builtin[] = "kernel/drivers/virtio/virtio.ko\nkernel/drivers/virtio/virtio_ring.ko\n"
			       "kernel/drivers/virtio/virtio_pci.ko\nkernel/fs/fuse/fuse.ko\n";
	struct exec_modules m;
	struct errmsg e;

	(void)state;
	assert_int_equal(exec_modules_resolve(dep, builtin, wanted, 4, &m, &e), 0);
	assert_int_equal(m.nr, 2);
	assert_string_equal(m.list[0].name, "virtio_console");
	assert_string_equal(m.list[1].name, "virtiofs");
}

static void test_missing_module(void **state)
{
	const char *const more[] = { "virtio-mmio" };
	struct exec_modules m;
	struct errmsg e;

	(void)state;
	assert_int_equal(exec_modules_resolve(dep, "", more, 1, &m, &e), -ENOENT);
	assert_non_null(strstr(e.text, "module virtio-mmio is neither"));
}

static void test_hostile_files(void **state)
{
	const char *const one[] = { "a" };
	struct exec_modules m;
	struct errmsg e;

	(void)state;
	assert_int_equal(exec_modules_resolve("x/a.ko: x/b.ko\nx/b.ko: x/a.ko\n", "", one, 1, &m, &e), -ELOOP);
	assert_int_equal(exec_modules_resolve("x/a.ko: x/a.ko\n", "", one, 1, &m, &e), -ELOOP);
	/* A compressed module is taken as it is, under its own name. */
	assert_int_equal(exec_modules_resolve("x/a.ko.xz:\n", "", one, 1, &m, &e), 0);
	assert_string_equal(m.list[0].name, "a");
	assert_string_equal(m.list[0].path, "x/a.ko.xz");
	assert_int_equal(exec_modules_resolve("x/a.ko\n", "", one, 1, &m, &e), -EINVAL);
	assert_int_equal(exec_modules_resolve("x/a.ko: x/zz.ko\n", "", one, 1, &m, &e), -ENOENT);
	assert_int_equal(exec_modules_resolve("", "", one, 1, &m, &e), -ENOENT);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* DIR itself, or DIR/lib/modules/VERSION as make modules_install INSTALL_MOD_PATH=DIR lays it out. */
static void test_dir_layouts(void **state)
{
	char root[] = "/tmp/kvmini-modules-XXXXXX", path[PATH_MAX], found[PATH_MAX];
	struct exec_modules m;
	struct errmsg e;

	(void)state;
	assert_non_null(mkdtemp(root));
	assert_int_equal(exec_modules_dir(root, "6.1.0-x", found, sizeof(found), &e), -ENOENT);
	snprintf(path, sizeof(path), "%s/lib", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/lib/modules", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/lib/modules/6.1.0-x", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/lib/modules/6.1.0-x/modules.dep", root);
	write_text(path, dep);
	assert_int_equal(exec_modules_dir(root, "6.1.0-x", found, sizeof(found), &e), 0);
	snprintf(path, sizeof(path), "%s/lib/modules/6.1.0-x", root);
	assert_string_equal(found, path);
	assert_int_equal(exec_modules_dir(path, "other", found, sizeof(found), &e), 0);
	assert_string_equal(found, path);
	assert_int_equal(exec_modules_find(found, wanted, 4, &m, &e), 0);
	assert_int_equal(m.nr, 8);
	assert_int_equal(exec_modules_dir(NULL, "no-such-kernel-version", found, sizeof(found), &e), 1);
	snprintf(path, sizeof(path), "rm -r '%s'", root);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dependencies_first),
		cmocka_unit_test(test_builtin_skipped),
		cmocka_unit_test(test_missing_module),
		cmocka_unit_test(test_hostile_files),
		cmocka_unit_test(test_dir_layouts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
