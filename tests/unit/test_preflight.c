// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "smoke/preflight.h"

static struct kconfig *parse_ok(const char *text)
{
	struct errmsg err = { "" };
	struct kconfig *c = NULL;
	int rc = kconfig_parse(text, strlen(text), &c, &err);

	if (rc)
		fail_msg("kconfig_parse: %d %s", rc, err.text);
	return c;
}

static void parse_fails(const char *text, size_t len, int want, const char *msg)
{
	struct errmsg err = { "" };
	struct kconfig *c = NULL;

	assert_int_equal(kconfig_parse(text, len, &c, &err), want);
	assert_null(c);
	if (!strstr(err.text, msg))
		fail_msg("error '%s' lacks '%s'", err.text, msg);
}

static void test_line_forms(void **state)
{
	struct kconfig *c = parse_ok("#\n# Automatically generated file; DO NOT EDIT.\n\n"
				     "CONFIG_A=y\nCONFIG_B=m\nCONFIG_C=n\n# CONFIG_D is not set\n"
				     "CONFIG_E=\"a \\\"quoted\\\" \\\\ string\"\nCONFIG_F=42\nCONFIG_G=-1\n"
				     "CONFIG_H=0x1000\nCONFIG_I=y\r\n  CONFIG_J=y\nCONFIG_K=\"\"\n"
				     "# CONFIG_L is not set, really\nCONFIG_LAST=y");

	(void)state;
	assert_int_equal(kconfig_get(c, "A"), KCONFIG_Y);
	assert_int_equal(kconfig_get(c, "B"), KCONFIG_M);
	assert_int_equal(kconfig_get(c, "C"), KCONFIG_ABSENT);
	assert_int_equal(kconfig_get(c, "D"), KCONFIG_ABSENT);
	assert_int_equal(kconfig_get(c, "E"), KCONFIG_VALUE);
	assert_int_equal(kconfig_get(c, "F"), KCONFIG_VALUE);
	assert_int_equal(kconfig_get(c, "G"), KCONFIG_VALUE);
	assert_int_equal(kconfig_get(c, "H"), KCONFIG_VALUE);
	assert_int_equal(kconfig_get(c, "I"), KCONFIG_Y);
	assert_int_equal(kconfig_get(c, "J"), KCONFIG_Y);
	assert_int_equal(kconfig_get(c, "K"), KCONFIG_VALUE);
	assert_int_equal(kconfig_get(c, "L"), KCONFIG_ABSENT);
	assert_int_equal(kconfig_get(c, "LAST"), KCONFIG_Y);
	assert_int_equal(kconfig_get(c, "NOWHERE"), KCONFIG_ABSENT);
	kconfig_free(c);
}

/* Fragments merged by hand may set an option twice: the last one wins, as in kconfig. */
static void test_last_wins(void **state)
{
	struct kconfig *c = parse_ok("CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_A=m\nCONFIG_B=y\nCONFIG_C=m\nCONFIG_C=n\n");

	(void)state;
	assert_int_equal(kconfig_get(c, "A"), KCONFIG_M);
	assert_int_equal(kconfig_get(c, "B"), KCONFIG_Y);
	assert_int_equal(kconfig_get(c, "C"), KCONFIG_ABSENT);
	kconfig_free(c);
}

static void test_garbage(void **state)
{
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{ "CONFIG_A=y\nhello\n", "line 2: neither" },
		{ "CONFIG_=y\n", "line 1: CONFIG_ must be followed" },
		{ "CONFIG_A\n", "line 1: CONFIG_ must be followed" },
		{ "CONFIG_A y\n", "line 1: CONFIG_ must be followed" },
		{ "\n\nCONFIG_A=yes\n", "line 3: CONFIG_A: the value" },
		{ "CONFIG_A=\n", "line 1: CONFIG_A: the value" },
		{ "CONFIG_A=\"open\n", "line 1: CONFIG_A" },
		{ "CONFIG_A=\"a\"b\"\n", "line 1: CONFIG_A" },
		{ "CONFIG_A=\"a\\\"\n", "line 1: CONFIG_A" },
		{ "CONFIG_A=0x\n", "line 1: CONFIG_A" },
		{ "CONFIG_A=12a\n", "line 1: CONFIG_A" },
		{ "CONFIG_A=-\n", "line 1: CONFIG_A" },
		{ "CONFIG_A=y # comment\n", "line 1: CONFIG_A" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		parse_fails(bad[i].text, strlen(bad[i].text), -EINVAL, bad[i].msg);
	parse_fails("CONFIG_A=y\nCONFIG_B=y\0\n", 23, -EINVAL, "line 2: a NUL byte");
}

static void test_bounds(void **state)
{
	size_t len = KCONFIG_LINE_MAX + 1, i;
	char *text = malloc((size_t)KCONFIG_LINES_MAX * 2 + 2);
	struct kconfig *c;

	(void)state;
	assert_non_null(text);
	/* A comment of exactly KCONFIG_LINE_MAX bytes is fine; one more is not. */
	memset(text, '#', len);
	text[len] = 0;
	parse_fails(text, len, -EINVAL, "line 1: longer than 4096 bytes");
	c = parse_ok(text + 1);
	kconfig_free(c);
	/* KCONFIG_LINES_MAX lines parse; one more is too many. */
	for (i = 0; i < KCONFIG_LINES_MAX; i++)
		text[2 * i] = '#', text[2 * i + 1] = '\n';
	text[2 * i] = 0;
	c = parse_ok(text);
	kconfig_free(c);
	text[2 * i] = '#', text[2 * i + 1] = 0;
	parse_fails(text, strlen(text), -E2BIG, "more than 65536 lines");
	free(text);
}

static void test_initrd_magic(void **state)
{
	static const struct {
		const char *bytes;
		size_t len;
		enum preflight_initrd want;
	} cases[] = {
		{ "070701000000", 12, PREFLIGHT_INITRD_CPIO },
		{ "070702000000", 12, PREFLIGHT_INITRD_CPIO },
		{ "\x1f\x8b\x08\x00", 4, PREFLIGHT_INITRD_GZIP },
		{ "BZh91AY", 7, PREFLIGHT_INITRD_BZIP2 },
		{ "\x5d\x00\x00\x80\x00", 5, PREFLIGHT_INITRD_LZMA },
		{ "\xfd" "7zXZ\x00\x00", 7, PREFLIGHT_INITRD_XZ },
		{ "\x89LZO\x00\r\n\x1a\n", 9, PREFLIGHT_INITRD_LZO },
		{ "\x02\x21\x4c\x18", 4, PREFLIGHT_INITRD_LZ4 },
		{ "\x28\xb5\x2f\xfd\x00", 5, PREFLIGHT_INITRD_ZSTD },
	};
	struct errmsg err = { "" };
	enum preflight_initrd got;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = PREFLIGHT_INITRD_NONE;
		assert_int_equal(preflight_initrd_format((const uint8_t *)cases[i].bytes, cases[i].len, &got, &err), 0);
		assert_int_equal(got, cases[i].want);
	}
	/* The old odc cpio format is not what the kernel unpacks; a truncated magic is no magic. */
	assert_int_equal(preflight_initrd_format((const uint8_t *)"070707", 6, &got, &err), -EINVAL);
	assert_non_null(strstr(err.text, "neither a cpio archive"));
	assert_int_equal(preflight_initrd_format((const uint8_t *)"\x28\xb5\x2f", 3, &got, &err), -EINVAL);
	assert_int_equal(preflight_initrd_format((const uint8_t *)"", 0, &got, &err), -EINVAL);
}

/* Checks needs against config text; the missing options' formatted lines joined by '|'. */
static char *missing(const char *config, const struct preflight_needs *n)
{
	static char out[4096];
	struct preflight_missing m[64];
	struct kconfig *c = parse_ok(config);
	size_t count = preflight_check(c, n, m, 64), i;

	out[0] = 0;
	assert_true(count <= 64);
	for (i = 0; i < count; i++) {
		char line[512];

		preflight_format(&m[i], line, sizeof(line));
		if (i)
			strcat(out, "|");
		strcat(out, line);
	}
	kconfig_free(c);
	return out;
}

/* A rule's option set =y in otherwise empty config text. */
static void test_each_rule(void **state)
{
	static const char *const mods[] = { "virtio_blk" };
	const struct {
		struct preflight_needs needs;
		const char *options; /* every option the needs ask for */
	} cases[] = {
		{ { .acpi = false, .cpus = 1 }, "SERIAL_8250 SERIAL_8250_CONSOLE" },
		{ { .console_virtio = true, .acpi = false, .cpus = 1 },
		  "VIRTIO_CONSOLE HVC_DRIVER VIRTIO_PCI" },
		{ { .console_virtio = true, .transport_mmio = true, .acpi = true, .cpus = 1 },
		  "VIRTIO_CONSOLE HVC_DRIVER VIRTIO_MMIO ACPI" },
		{ { .transport_mmio = true, .cpus = 1, .devices = PREFLIGHT_DEV_BLK },
		  "SERIAL_8250 SERIAL_8250_CONSOLE VIRTIO_MMIO VIRTIO_MMIO_CMDLINE_DEVICES VIRTIO_BLK" },
		{ { .acpi = true, .cpus = 1, .devices = PREFLIGHT_DEV_NET | PREFLIGHT_DEV_RNG },
		  "SERIAL_8250 SERIAL_8250_CONSOLE VIRTIO_PCI VIRTIO_NET HW_RANDOM HW_RANDOM_VIRTIO ACPI" },
		{ { .acpi = true, .cpus = 1, .devices = PREFLIGHT_DEV_FS | PREFLIGHT_DEV_VSOCK | PREFLIGHT_DEV_BALLOON },
		  "SERIAL_8250 SERIAL_8250_CONSOLE VIRTIO_PCI VIRTIO_FS FUSE_FS VSOCKETS VIRTIO_VSOCKETS VIRTIO_BALLOON ACPI" },
		{ { .acpi = false, .cpus = 2, .pvh = true }, "SERIAL_8250 SERIAL_8250_CONSOLE PVH X86_MPPARSE" },
		{ { .acpi = true, .cpus = 2 }, "SERIAL_8250 SERIAL_8250_CONSOLE ACPI" },
		{ { .cpus = 1, .initrd = PREFLIGHT_INITRD_CPIO, .builtin_init = true },
		  "SERIAL_8250 SERIAL_8250_CONSOLE BLK_DEV_INITRD BINFMT_ELF DEVTMPFS PROC_FS SYSFS" },
		{ { .cpus = 1, .initrd = PREFLIGHT_INITRD_GZIP }, "SERIAL_8250 SERIAL_8250_CONSOLE BLK_DEV_INITRD RD_GZIP" },
		{ { .cpus = 1, .initrd = PREFLIGHT_INITRD_BZIP2 }, "SERIAL_8250 SERIAL_8250_CONSOLE BLK_DEV_INITRD RD_BZIP2" },
		{ { .cpus = 1, .initrd = PREFLIGHT_INITRD_LZMA }, "SERIAL_8250 SERIAL_8250_CONSOLE BLK_DEV_INITRD RD_LZMA" },
		{ { .cpus = 1, .initrd = PREFLIGHT_INITRD_XZ }, "SERIAL_8250 SERIAL_8250_CONSOLE BLK_DEV_INITRD RD_XZ" },
		{ { .cpus = 1, .initrd = PREFLIGHT_INITRD_LZO }, "SERIAL_8250 SERIAL_8250_CONSOLE BLK_DEV_INITRD RD_LZO" },
		{ { .cpus = 1, .initrd = PREFLIGHT_INITRD_LZ4 }, "SERIAL_8250 SERIAL_8250_CONSOLE BLK_DEV_INITRD RD_LZ4" },
		{ { .cpus = 1, .initrd = PREFLIGHT_INITRD_ZSTD }, "SERIAL_8250 SERIAL_8250_CONSOLE BLK_DEV_INITRD RD_ZSTD" },
		{ { .cpus = 1, .modules = mods, .n_modules = 1 }, "SERIAL_8250 SERIAL_8250_CONSOLE MODULES" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char all[1024] = "", want[2048] = "", opts[256], *tok, *save;

		/* Nothing set: each option is reported, in table order. */
		snprintf(opts, sizeof(opts), "%s", cases[i].options);
		for (tok = strtok_r(opts, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
			strcat(all, "CONFIG_");
			strcat(all, tok);
			strcat(all, "=y\n");
			if (want[0])
				strcat(want, "|");
			strcat(want, "CONFIG_");
			strcat(want, tok);
			strcat(want, ":");
		}
		{
			char *got = missing("", &cases[i].needs), *g = got, *w = want;

			/* Compare the option part of each line (up to ':'). */
			for (;;) {
				size_t wl = strcspn(w, "|"), gl;

				assert_true(strncmp(g, w, wl) == 0);
				w += wl;
				gl = strcspn(g, "|");
				g += gl;
				if (!*w) {
					assert_true(!*g);
					break;
				}
				assert_true(*g == '|');
				w++, g++;
			}
		}
		/* Everything set: nothing missing. */
		assert_string_equal(missing(all, &cases[i].needs), "");
	}
}

static void test_reasons(void **state)
{
	struct preflight_needs n = { .acpi = false, .cpus = 4 };

	(void)state;
	assert_string_equal(missing("CONFIG_SERIAL_8250=y\n# CONFIG_SERIAL_8250_CONSOLE is not set\nCONFIG_X86_MPPARSE=y\n", &n),
			    "CONFIG_SERIAL_8250_CONSOLE: the console is ttyS0");
	assert_non_null(strstr(missing("CONFIG_SERIAL_8250=y\nCONFIG_SERIAL_8250_CONSOLE=y\n", &n),
			       "CONFIG_X86_MPPARSE: without ACPI the other vCPUs are described only by the MP table"));
}

static void test_modules(void **state)
{
	static const char *const with_blk[] = { "virtio-blk", "virtio_pci" };
	static const char *const other[] = { "virtio_net" };
	static const char base[] = "CONFIG_SERIAL_8250=y\nCONFIG_SERIAL_8250_CONSOLE=y\nCONFIG_MODULES=y\n"
				   "CONFIG_VIRTIO_PCI=m\nCONFIG_VIRTIO_BLK=m\nCONFIG_SERIAL_8250=y\nCONFIG_ACPI=m\n";
	struct preflight_needs n = { .acpi = true, .cpus = 1, .devices = PREFLIGHT_DEV_BLK };

	(void)state;
	/* =m without modules: each reported as such; ACPI has no module, so =m is never enough. */
	assert_string_equal(missing(base, &n),
			    "CONFIG_VIRTIO_PCI=m but no virtio_pci module supplied: the virtio devices are on PCI|"
			    "CONFIG_VIRTIO_BLK=m but no virtio_blk module supplied: a disk is attached (virtio-blk)|"
			    "CONFIG_ACPI=m, must be =y: the guest powers off through ACPI; without it poweroff halts and the run times out");
	/* Supplied, with '-' for '_': satisfied. */
	n.modules = with_blk;
	n.n_modules = 2;
	assert_string_equal(missing(base, &n),
			    "CONFIG_ACPI=m, must be =y: the guest powers off through ACPI; without it poweroff halts and the run times out");
	/* Other modules supplied: still missing. */
	n.modules = other;
	n.n_modules = 1;
	assert_non_null(strstr(missing(base, &n), "CONFIG_VIRTIO_BLK=m but no virtio_blk module"));
}

static void test_check_counts_past_max(void **state)
{
	struct preflight_needs n = { .cpus = 1, .builtin_init = true, .initrd = PREFLIGHT_INITRD_CPIO };
	struct preflight_missing m[2];
	struct kconfig *c = parse_ok("");

	(void)state;
	assert_int_equal(preflight_check(c, &n, m, 2), 7);
	assert_string_equal(m[0].rule->option, "SERIAL_8250");
	assert_string_equal(m[1].rule->option, "SERIAL_8250_CONSOLE");
	assert_int_equal(preflight_check(c, &n, NULL, 0), 7);
	kconfig_free(c);
}

/* Every rule has what docs/smoke.md lists, and no option appears under two different module names. */
static void test_rule_table(void **state)
{
	size_t n, i;
	const struct preflight_rule *r = preflight_rules(&n);

	(void)state;
	assert_true(n >= 30);
	for (i = 0; i < n; i++) {
		assert_non_null(r[i].option);
		assert_non_null(r[i].applies);
		assert_non_null(r[i].when);
		assert_non_null(r[i].reason);
		assert_null(strstr(r[i].option, "CONFIG_"));
	}
}

static void test_candidates(void **state)
{
	char p[3][4096];

	(void)state;
	assert_int_equal(preflight_config_candidates("/src/linux/arch/x86/boot/bzImage", NULL, p, 3), 1);
	assert_string_equal(p[0], "/src/linux/.config");
	assert_int_equal(preflight_config_candidates("arch/x86/boot/bzImage", "6.13.0-rc1", p, 3), 2);
	assert_string_equal(p[0], ".config");
	assert_string_equal(p[1], "arch/x86/boot/config-6.13.0-rc1");
	assert_int_equal(preflight_config_candidates("/src/linux/vmlinux", NULL, p, 3), 1);
	assert_string_equal(p[0], "/src/linux/.config");
	assert_int_equal(preflight_config_candidates("/boot/vmlinuz-6.1.0-57-amd64", "6.1.0-57-amd64", p, 3), 1);
	assert_string_equal(p[0], "/boot/config-6.1.0-57-amd64");
	assert_int_equal(preflight_config_candidates("bzImage", "6.1.0", p, 3), 1);
	assert_string_equal(p[0], "./config-6.1.0");
	/* Not a tree (myarch/x86/boot is not arch/x86/boot), no release: nothing to guess. */
	assert_int_equal(preflight_config_candidates("/x/myarch/x86/boot/bzImage", NULL, p, 3), 0);
	/* A release is a file name, never a path. */
	assert_int_equal(preflight_config_candidates("/boot/vmlinuz", "../../etc/x", p, 3), 0);
	assert_int_equal(preflight_config_candidates("/src/linux/arch/x86/boot/bzImage", "6.1", p, 1), 1);
}

/* A temp tree: DIR/arch/x86/boot/bzImage and DIR/.config, read back through the finder and the reader. */
static void test_find_and_read(void **state)
{
	char dir[] = "/tmp/kvmini-preflight-XXXXXX", path[4096], kernel[4096], found[4096];
	struct errmsg err = { "" };
	struct kconfig *c = NULL;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/arch", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/arch/x86", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/arch/x86/boot", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(kernel, sizeof(kernel), "%s/arch/x86/boot/bzImage", dir);
	f = fopen(kernel, "w");
	assert_non_null(f);
	fputs("not really a kernel", f);
	fclose(f);

	/* No .config yet: ENOENT naming where it looked. */
	assert_int_equal(preflight_find_config(kernel, NULL, found, sizeof(found), &err), -ENOENT);
	assert_non_null(strstr(err.text, "/.config"));
	assert_non_null(strstr(err.text, "give --config"));

	snprintf(path, sizeof(path), "%s/.config", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("CONFIG_PVH=y\nCONFIG_ACPI=m\n", f);
	fclose(f);
	assert_int_equal(preflight_find_config(kernel, NULL, found, sizeof(found), &err), 0);
	assert_string_equal(found, path);
	assert_int_equal(preflight_read_config(found, &c, &err), 0);
	assert_int_equal(kconfig_get(c, "PVH"), KCONFIG_Y);
	assert_int_equal(kconfig_get(c, "ACPI"), KCONFIG_M);
	kconfig_free(c);

	/* An explicit --config wins and is taken as given. */
	assert_int_equal(preflight_find_config(kernel, "/some/where", found, sizeof(found), &err), 0);
	assert_string_equal(found, "/some/where");

	/* A bad file: the error names the file and the line. */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("CONFIG_PVH=y\nnonsense\n", f);
	fclose(f);
	assert_int_equal(preflight_read_config(path, &c, &err), -EINVAL);
	assert_non_null(strstr(err.text, ".config': line 2: neither"));
	unlink(path);
	assert_int_equal(preflight_read_config(path, &c, &err), -ENOENT);
	assert_non_null(strstr(err.text, "No such file"));

	unlink(kernel);
	snprintf(path, sizeof(path), "%s/arch/x86/boot", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/arch/x86", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/arch", dir);
	rmdir(path);
	assert_int_equal(rmdir(dir), 0);
}

/* Each test is over in microseconds: 20 s means a hang. */
static int arm_alarm(void **state)
{
	(void)state;
	alarm(20);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_line_forms, arm_alarm),
		cmocka_unit_test_setup(test_last_wins, arm_alarm),
		cmocka_unit_test_setup(test_garbage, arm_alarm),
		cmocka_unit_test_setup(test_bounds, arm_alarm),
		cmocka_unit_test_setup(test_initrd_magic, arm_alarm),
		cmocka_unit_test_setup(test_each_rule, arm_alarm),
		cmocka_unit_test_setup(test_reasons, arm_alarm),
		cmocka_unit_test_setup(test_modules, arm_alarm),
		cmocka_unit_test_setup(test_check_counts_past_max, arm_alarm),
		cmocka_unit_test_setup(test_rule_table, arm_alarm),
		cmocka_unit_test_setup(test_candidates, arm_alarm),
		cmocka_unit_test_setup(test_find_and_read, arm_alarm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
