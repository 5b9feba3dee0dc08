// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "boot/aml.h"

#define BYTES(...) ((const uint8_t[]){ __VA_ARGS__ }), sizeof((const uint8_t[]){ __VA_ARGS__ })

static uint8_t out[256];

static void expect_bytes(const uint8_t *got, const uint8_t *want, size_t want_len)
{
	assert_memory_equal(got, want, want_len);
}

static void expect_output(struct aml *a, const uint8_t *want, size_t want_len)
{
	assert_int_equal(aml_finish(a), want_len);
	expect_bytes(a->buf, want, want_len);
}

static void test_integer_encodings(void **state)
{
	static const struct {
		uint64_t value;
		uint8_t enc[9];
		size_t len;
	} cases[] = {
		{ 0, { 0x00 }, 1 },
		{ 1, { 0x01 }, 1 },
		{ 2, { 0x0A, 0x02 }, 2 },
		{ 0xFF, { 0x0A, 0xFF }, 2 },
		{ 0x100, { 0x0B, 0x00, 0x01 }, 3 },
		{ 0xFFFF, { 0x0B, 0xFF, 0xFF }, 3 },
		{ 0x10000, { 0x0C, 0x00, 0x00, 0x01, 0x00 }, 5 },
		{ 0xFFFFFFFF, { 0x0C, 0xFF, 0xFF, 0xFF, 0xFF }, 5 },
		{ 0x100000000, { 0x0E, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00 }, 9 },
		{ 0x0123456789ABCDEF, { 0x0E, 0xEF, 0xCD, 0xAB, 0x89, 0x67, 0x45, 0x23, 0x01 }, 9 },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct aml a;
		uint8_t want[14] = { 0x08, '_', 'U', 'I', 'D' };

		memcpy(want + 5, cases[i].enc, cases[i].len);
		aml_init(&a, out, sizeof(out));
		assert_int_equal(aml_name_int(&a, "_UID", cases[i].value), 0);
		expect_output(&a, want, 5 + cases[i].len);
	}
}

static void test_eisaid(void **state)
{
	static const char *const bad[] = { "pnp0501", "PNP050", "PNP05011", "PNP050G", "PNP050a", "1NP0501", "", NULL };
	uint32_t v;
	struct aml a;
	(void)state;

	assert_int_equal(aml_eisaid("PNP0501", &v), 0);
	assert_int_equal(v, 0x0105D041);
	assert_int_equal(aml_eisaid("PNP0A03", &v), 0);
	assert_int_equal(v, 0x030AD041);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(aml_eisaid(bad[i], &v), -EINVAL);

	aml_init(&a, out, sizeof(out));
	assert_int_equal(aml_name_eisaid(&a, "_HID", "PNP0501"), 0);
	expect_output(&a, BYTES(0x08, '_', 'H', 'I', 'D', 0x0C, 0x41, 0xD0, 0x05, 0x01));

	aml_init(&a, out, sizeof(out));
	assert_int_equal(aml_name_eisaid(&a, "_HID", "PNPX501"), -EINVAL);
	assert_int_equal(a.len, 0);
}

static void test_string(void **state)
{
	struct aml a;
	(void)state;

	aml_init(&a, out, sizeof(out));
	assert_int_equal(aml_name_string(&a, "_HID", "QEMU0001"), 0);
	expect_output(&a, BYTES(0x08, '_', 'H', 'I', 'D', 0x0D, 'Q', 'E', 'M', 'U', '0', '0', '0', '1', 0x00));

	aml_init(&a, out, sizeof(out));
	assert_int_equal(aml_name_string(&a, "_STR", "caf\xc3\xa9"), -EINVAL);
	assert_int_equal(a.len, 0);
}

static void test_name_strings(void **state)
{
	struct aml a;
	(void)state;

	aml_init(&a, out, sizeof(out));
	aml_name_int(&a, "\\_SB_", 0);
	aml_name_int(&a, "\\_SB_.COM1", 0);
	aml_name_int(&a, "\\_SB_.PCI0.S08_", 0);
	aml_name_int(&a, "^^C0_9", 0);
	expect_output(&a, BYTES(0x08, '\\', '_', 'S', 'B', '_', 0x00,
				0x08, '\\', 0x2E, '_', 'S', 'B', '_', 'C', 'O', 'M', '1', 0x00,
				0x08, '\\', 0x2F, 0x03, '_', 'S', 'B', '_', 'P', 'C', 'I', '0', 'S', '0', '8', '_', 0x00,
				0x08, '^', '^', 'C', '0', '_', '9', 0x00));

	/* Scope (\) uses the NullName after the root prefix. */
	aml_init(&a, out, sizeof(out));
	aml_scope(&a, "\\");
	aml_end(&a);
	expect_output(&a, BYTES(0x10, 0x03, '\\', 0x00));
}

static void test_bad_names(void **state)
{
	static const char *const bad[] = {
		"", "ABC", "ABCDE", "abcd", "1ABC", "AB-D", "ABCD.", ".ABCD", "ABCD..EFGH", "\\^ABC", "\\\\ABCD", NULL,
	};
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct aml a;

		aml_init(&a, out, sizeof(out));
		assert_int_equal(aml_name_int(&a, bad[i], 1), -EINVAL);
		assert_int_equal(aml_device(&a, "GOOD"), -EINVAL); /* the error sticks */
		assert_int_equal(aml_finish(&a), -EINVAL);
	}
}

static void test_scope_and_device_nesting(void **state)
{
	struct aml a;
	(void)state;

	aml_init(&a, out, sizeof(out));
	aml_scope(&a, "\\_SB_");
	aml_device(&a, "COM1");
	aml_end(&a);
	aml_device(&a, "COM2");
	aml_name_int(&a, "_UID", 1);
	aml_end(&a);
	assert_int_equal(aml_end(&a), 0);
	expect_output(&a, BYTES(0x10, 0x1A, '\\', '_', 'S', 'B', '_',
				0x5B, 0x82, 0x05, 'C', 'O', 'M', '1',
				0x5B, 0x82, 0x0B, 'C', 'O', 'M', '2', 0x08, '_', 'U', 'I', 'D', 0x01));
}

/* Package (){ Zero x count } has a body of 1 + count bytes, which pins the PkgLength form. */
static void test_pkglength_one_and_two_bytes(void **state)
{
	static const uint64_t zeros[255];
	struct aml a;
	(void)state;

	aml_init(&a, out, sizeof(out));
	aml_name_package(&a, "PKGA", zeros, 61);  /* body 62: PkgLength 63 fits one byte */
	assert_int_equal(aml_finish(&a), 5 + 1 + 1 + 62);
	expect_bytes(out + 5, BYTES(0x12, 0x3F, 61, 0x00));

	aml_init(&a, out, sizeof(out));
	aml_name_package(&a, "PKGA", zeros, 62);  /* body 63: PkgLength 65 = 0x041 needs two */
	assert_int_equal(aml_finish(&a), 5 + 1 + 2 + 63);
	expect_bytes(out + 5, BYTES(0x12, 0x41, 0x04, 62, 0x00));
}

/* Scope (SCOP) { Name (ABCD, Zero) x n } has a body of 4 + 6n bytes. */
static void scope_of_names(uint8_t *buf, size_t cap, unsigned n, const uint8_t *want_head, size_t head_len)
{
	struct aml a;

	aml_init(&a, buf, cap);
	aml_scope(&a, "SCOP");
	for (unsigned i = 0; i < n; i++)
		aml_name_int(&a, "ABCD", 0);
	aml_end(&a);
	assert_int_equal(aml_finish(&a), head_len + 4 + 6 * n);
	expect_bytes(buf, want_head, head_len);
	expect_bytes(buf + head_len, BYTES('S', 'C', 'O', 'P'));
	expect_bytes(buf + head_len + 4 + 6 * (n - 1), BYTES(0x08, 'A', 'B', 'C', 'D', 0x00));
}

static void test_pkglength_large_forms(void **state)
{
	size_t cap = 2 << 20;
	uint8_t *buf = malloc(cap);
	(void)state;

	assert_non_null(buf);
	/* body 4090: PkgLength 4092 = 0xFFC, the top of the two-byte form */
	scope_of_names(buf, cap, 681, BYTES(0x10, 0x4C, 0xFF));
	/* body 4096: PkgLength 4099 = 0x1003 */
	scope_of_names(buf, cap, 682, BYTES(0x10, 0x83, 0x00, 0x01));
	/* body 0x100000: PkgLength 0x100004 */
	scope_of_names(buf, cap, 174762, BYTES(0x10, 0xC4, 0x00, 0x00, 0x01));
	free(buf);
}

#include "aml_refs.h"


static int build_com1(struct aml *a)
{
	aml_device(a, "COM1");
	aml_name_eisaid(a, "_HID", "PNP0501");
	aml_name_int(a, "_UID", 1);
	aml_resource_template(a, "_CRS");
	aml_res_io(a, 0x3F8, 8);
	aml_res_irq(a, 4);
	aml_end(a);
	aml_end(a);
	return aml_finish(a);
}

static void test_resource_template_io_irq(void **state)
{
	struct aml a;
	(void)state;

	aml_init(&a, out, sizeof(out));
	assert_int_equal(build_com1(&a), sizeof(com1_ref));
	assert_memory_equal(out, com1_ref, sizeof(com1_ref));
}

static void test_resource_template_mem_and_ext_irq(void **state)
{
	struct aml a;
	(void)state;

	/* Memory32Fixed (ReadWrite, 0xD0000000, 0x200), Interrupt (ResourceConsumer, Edge, ActiveHigh,
	   Exclusive) {5} and the same with Level {33}, as iasl compiles them. */
	aml_init(&a, out, sizeof(out));
	aml_resource_template(&a, "_CRS");
	aml_res_mem32_fixed(&a, 0xD0000000, 0x200, true);
	aml_res_ext_irq(&a, 5, false);
	aml_res_ext_irq(&a, 33, true);
	aml_end(&a);
	expect_output(&a, BYTES(0x08, '_', 'C', 'R', 'S', 0x11, 0x23, 0x0A, 0x20,
				0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xD0, 0x00, 0x02, 0x00, 0x00,
				0x89, 0x06, 0x00, 0x03, 0x01, 0x05, 0x00, 0x00, 0x00,
				0x89, 0x06, 0x00, 0x01, 0x01, 0x21, 0x00, 0x00, 0x00,
				0x79, 0x00));

	aml_init(&a, out, sizeof(out));
	aml_resource_template(&a, "_CRS");
	aml_res_mem32_fixed(&a, 0xFEC00000, 0x1000, false);
	aml_end(&a);
	expect_output(&a, BYTES(0x08, '_', 'C', 'R', 'S', 0x11, 0x11, 0x0A, 0x0E,
				0x86, 0x09, 0x00, 0x00, 0x00, 0x00, 0xC0, 0xFE, 0x00, 0x10, 0x00, 0x00,
				0x79, 0x00));
}

static void test_misuse(void **state)
{
	static const uint64_t zeros[256];
	struct aml a;
	(void)state;

	/* resource descriptors only inside a template, named objects never inside one */
	aml_init(&a, out, sizeof(out));
	assert_int_equal(aml_res_io(&a, 0x3F8, 8), -EINVAL);
	aml_init(&a, out, sizeof(out));
	aml_device(&a, "DEV0");
	assert_int_equal(aml_res_irq(&a, 4), -EINVAL);
	aml_init(&a, out, sizeof(out));
	aml_resource_template(&a, "_CRS");
	assert_int_equal(aml_name_int(&a, "_UID", 0), -EINVAL);
	aml_init(&a, out, sizeof(out));
	aml_resource_template(&a, "_CRS");
	assert_int_equal(aml_device(&a, "DEV0"), -EINVAL);

	/* out-of-range resources */
	aml_init(&a, out, sizeof(out));
	aml_resource_template(&a, "_CRS");
	assert_int_equal(aml_res_irq(&a, 16), -EINVAL);
	aml_init(&a, out, sizeof(out));
	aml_resource_template(&a, "_CRS");
	assert_int_equal(aml_res_io(&a, 0x3F8, 0), -EINVAL);
	aml_init(&a, out, sizeof(out));
	aml_resource_template(&a, "_CRS");
	assert_int_equal(aml_res_io(&a, 0xFFFC, 8), -EINVAL);
	aml_init(&a, out, sizeof(out));
	aml_resource_template(&a, "_CRS");
	assert_int_equal(aml_res_io(&a, 0xFFF8, 8), 0);

	/* packages hold at most 255 elements */
	aml_init(&a, out, sizeof(out));
	assert_int_equal(aml_name_package(&a, "PKGA", zeros, 256), -EINVAL);
	assert_int_equal(aml_name_package(&a, "PKGA", NULL, 1), -EINVAL);

	/* unbalanced or too deep */
	aml_init(&a, out, sizeof(out));
	assert_int_equal(aml_end(&a), -EINVAL);
	aml_init(&a, out, sizeof(out));
	aml_device(&a, "DEV0");
	assert_int_equal(aml_finish(&a), -EINVAL);
	aml_init(&a, out, sizeof(out));
	for (int i = 0; i < AML_MAX_DEPTH; i++)
		assert_int_equal(aml_device(&a, "DEV0"), 0);
	assert_int_equal(aml_device(&a, "DEV0"), -EINVAL);
}

static void test_bridge_ranges(void **state)
{
	struct aml a;
	(void)state;

	/* WordBusNumber 0-0xFF, WordIO 0xD00-0xFFFF (EntireRange), DWordMemory 0xC0000000-0xCFFFFFFF
	   (NonCacheable, ReadWrite), all producers with fixed bounds, as iasl compiles them. */
	aml_init(&a, out, sizeof(out));
	aml_resource_template(&a, "_CRS");
	aml_res_word_bus(&a, 0, 0xFF);
	aml_res_word_io(&a, 0xD00, 0xFFFF);
	aml_res_dword_mem(&a, 0xC0000000, 0xCFFFFFFF);
	aml_end(&a);
	expect_output(&a, BYTES(0x08, '_', 'C', 'R', 'S', 0x11, 0x3F, 0x0A, 0x3C,
				0x88, 0x0D, 0x00, 0x02, 0x0C, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0x00,
				0x00, 0x00, 0x00, 0x01,
				0x88, 0x0D, 0x00, 0x01, 0x0C, 0x03, 0x00, 0x00, 0x00, 0x0D, 0xFF, 0xFF,
				0x00, 0x00, 0x00, 0xF3,
				0x87, 0x17, 0x00, 0x00, 0x0C, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC0,
				0xFF, 0xFF, 0xFF, 0xCF, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
				0x79, 0x00));

	/* Empty or inverted ranges, lengths that do not fit, and use outside a template. */
	aml_init(&a, out, sizeof(out));
	aml_resource_template(&a, "_CRS");
	assert_int_equal(aml_res_word_io(&a, 0x100, 0xFF), -EINVAL);
	aml_init(&a, out, sizeof(out));
	aml_resource_template(&a, "_CRS");
	assert_int_equal(aml_res_word_io(&a, 0, 0xFFFF), -EINVAL);
	aml_init(&a, out, sizeof(out));
	aml_resource_template(&a, "_CRS");
	assert_int_equal(aml_res_dword_mem(&a, 0, 0xFFFFFFFF), -EINVAL);
	aml_init(&a, out, sizeof(out));
	aml_resource_template(&a, "_CRS");
	assert_int_equal(aml_res_dword_mem(&a, 2, 1), -EINVAL);
	aml_init(&a, out, sizeof(out));
	assert_int_equal(aml_res_word_bus(&a, 0, 0), -EINVAL);
}

static void test_package_rows(void **state)
{
	static const uint64_t prt[2][4] = { { 0x1FFFF, 0, 0, 16 }, { 0x1FFFF, 1, 0, 17 } };
	static const uint64_t zeros[256];
	struct aml a;
	(void)state;

	/* Name (_PRT, Package () { Package () { 0x1FFFF, Zero, Zero, 0x10 }, Package () { 0x1FFFF, One, Zero, 0x11 } }) */
	aml_init(&a, out, sizeof(out));
	assert_int_equal(aml_name_package_rows(&a, "_PRT", &prt[0][0], 2, 4), 0);
	expect_output(&a, BYTES(0x08, '_', 'P', 'R', 'T', 0x12, 0x1A, 0x02,
				0x12, 0x0B, 0x04, 0x0C, 0xFF, 0xFF, 0x01, 0x00, 0x00, 0x00, 0x0A, 0x10,
				0x12, 0x0B, 0x04, 0x0C, 0xFF, 0xFF, 0x01, 0x00, 0x01, 0x00, 0x0A, 0x11));

	aml_init(&a, out, sizeof(out));
	assert_int_equal(aml_name_package_rows(&a, "PKGA", zeros, 0, 4), 0);
	expect_output(&a, BYTES(0x08, 'P', 'K', 'G', 'A', 0x12, 0x02, 0x00));

	aml_init(&a, out, sizeof(out));
	assert_int_equal(aml_name_package_rows(&a, "PKGA", zeros, 256, 1), -EINVAL);
	aml_init(&a, out, sizeof(out));
	assert_int_equal(aml_name_package_rows(&a, "PKGA", zeros, 1, 256), -EINVAL);
	aml_init(&a, out, sizeof(out));
	assert_int_equal(aml_name_package_rows(&a, "PKGA", NULL, 1, 1), -EINVAL);
	aml_init(&a, out, sizeof(out));
	aml_resource_template(&a, "_CRS");
	assert_int_equal(aml_name_package_rows(&a, "PKGA", zeros, 1, 1), -EINVAL);
}

/* Every buffer shorter than the output fails with -ENOSPC, inside its bounds (run under ASan). */
static void test_enospc_every_size(void **state)
{
	(void)state;

	for (size_t cap = 0; cap <= sizeof(com1_ref); cap++) {
		uint8_t *buf = malloc(cap);
		struct aml a;

		assert_true(buf || !cap);
		aml_init(&a, buf, cap);
		if (cap < sizeof(com1_ref)) {
			assert_int_equal(build_com1(&a), -ENOSPC);
			assert_int_equal(aml_name_int(&a, "_UID", 0), -ENOSPC);
		} else {
			assert_int_equal(build_com1(&a), sizeof(com1_ref));
			assert_memory_equal(buf, com1_ref, sizeof(com1_ref));
		}
		free(buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_integer_encodings),
		cmocka_unit_test(test_eisaid),
		cmocka_unit_test(test_string),
		cmocka_unit_test(test_name_strings),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_scope_and_device_nesting),
		cmocka_unit_test(test_pkglength_one_and_two_bytes),
		cmocka_unit_test(test_pkglength_large_forms),
		cmocka_unit_test(test_resource_template_io_irq),
		cmocka_unit_test(test_resource_template_mem_and_ext_irq),
		cmocka_unit_test(test_misuse),
		cmocka_unit_test(test_bridge_ranges),
		cmocka_unit_test(test_package_rows),
		cmocka_unit_test(test_enospc_every_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
