// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "smoke/cell.h"
#include "virtio/console.h"

static struct vm_config base, cfg; /* too large for the stack */
#define K "/src/linux/arch/x86/boot/bzImage"

static void setup_base(void)
{
	memset(&base, 0, sizeof(base));
	vm_config_init(&base);
	strcpy(base.kernel_path, "/elsewhere/bzImage"); /* the kernel argument decides */
}

static void test_vmlinux_beside(void **state)
{
	char out[64];
	(void)state;

	assert_int_equal(cell_vmlinux_beside("/src/linux/arch/x86/boot/bzImage", out, sizeof(out)), 0);
	assert_string_equal(out, "/src/linux/vmlinux");
	assert_int_equal(cell_vmlinux_beside("arch/x86/boot/bzImage", out, sizeof(out)), 0);
	assert_string_equal(out, "vmlinux");
	assert_int_equal(cell_vmlinux_beside("/boot/vmlinuz-6.1.0", out, sizeof(out)), -ENOENT);
	assert_int_equal(cell_vmlinux_beside("/src/xarch/x86/boot/bzImage", out, sizeof(out)), -ENOENT);
	assert_int_equal(cell_vmlinux_beside("/a/very/long/path/to/a/kernel/tree/arch/x86/boot/bzImage", out, 16),
			 -ENAMETOOLONG);
}

static void test_defaults_are_run_defaults(void **state)
{
	struct matrix_cell c = { .cpus = 2, .mem = 256 << 20 };
	struct errmsg e;
	(void)state;

	setup_base();
	assert_int_equal(cell_config(&base, &c, K, NULL, &cfg, &e), 0);
	assert_int_equal(cfg.nr_cpus, 2);
	assert_int_equal(cfg.mem_size, 256 << 20);
	assert_int_equal(cfg.transport, VIRTIO_TRANSPORT_PCI);
	assert_true(cfg.acpi);
	assert_string_equal(cfg.kernel_path, K);
	assert_string_equal(cfg.cmdline, "");
	assert_false(vcon_config_of_const(&cfg)->enabled);
}

static void test_axes(void **state)
{
	struct matrix_cell c = { .cpus = 1, .mem = 512 << 20 };
	struct errmsg e;
	(void)state;

	setup_base();
	c.axis[MATRIX_TRANSPORT] = 1;
	c.axis[MATRIX_ACPI] = 1;
	c.axis[MATRIX_BOOT] = 1;
	c.axis[MATRIX_CONSOLE] = 1;
	assert_int_equal(cell_config(&base, &c, K, "/src/linux/vmlinux", &cfg, &e), 0);
	assert_int_equal(cfg.transport, VIRTIO_TRANSPORT_MMIO);
	assert_false(cfg.acpi);
	assert_string_equal(cfg.kernel_path, "/src/linux/vmlinux");
	assert_true(vcon_config_of_const(&cfg)->enabled);
	assert_string_equal(cfg.cmdline, "console=hvc0");
	/* The base is untouched: every cell starts from it. */
	assert_string_equal(base.kernel_path, "/elsewhere/bzImage");
	assert_false(vcon_config_of_const(&base)->enabled);
}

static void test_pvh_without_vmlinux(void **state)
{
	struct matrix_cell c = { .cpus = 1, .mem = 512 << 20 };
	struct errmsg e;
	(void)state;

	setup_base();
	c.axis[MATRIX_BOOT] = 1;
	assert_int_equal(cell_config(&base, &c, K, NULL, &cfg, &e), -EINVAL);
	assert_non_null(strstr(e.text, "--vmlinux"));
	assert_int_equal(cell_config(&base, &c, K, "", &cfg, &e), -EINVAL);
}

static void test_virtio_console_cmdline(void **state)
{
	struct matrix_cell c = { .cpus = 1, .mem = 512 << 20, .axis[MATRIX_CONSOLE] = 1 };
	struct errmsg e;
	(void)state;

	setup_base();
	strcpy(base.cmdline, "quiet");
	assert_int_equal(cell_config(&base, &c, K, NULL, &cfg, &e), 0);
	assert_string_equal(cfg.cmdline, "quiet console=hvc0");
	/* The user's own console= wins. */
	strcpy(base.cmdline, "console=ttyS0 console=hvc0,115200");
	assert_int_equal(cell_config(&base, &c, K, NULL, &cfg, &e), 0);
	assert_string_equal(cfg.cmdline, base.cmdline);
	/* earlyconsole= is not console=. */
	strcpy(base.cmdline, "earlyconsole=x");
	assert_int_equal(cell_config(&base, &c, K, NULL, &cfg, &e), 0);
	assert_string_equal(cfg.cmdline, "earlyconsole=x console=hvc0");
	/* No room: refused, not cut. */
	memset(base.cmdline, 'a', sizeof(base.cmdline) - 1);
	base.cmdline[sizeof(base.cmdline) - 1] = 0;
	assert_int_equal(cell_config(&base, &c, K, NULL, &cfg, &e), -E2BIG);
	assert_non_null(strstr(e.text, "console=hvc0"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vmlinux_beside),
		cmocka_unit_test(test_defaults_are_run_defaults),
		cmocka_unit_test(test_axes),
		cmocka_unit_test(test_pvh_without_vmlinux),
		cmocka_unit_test(test_virtio_console_cmdline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
