// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "boot/acpi.h"

#define TABLES_GPA 0xE0000ULL
#define TABLES_SIZE 0x10000
#define SLEEP_CTL 0x600
#define SLEEP_STS 0x601

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* AML as iasl 20200925 compiles it from the equivalent ASL. */

static const uint8_t cpu0_ref[] = {
	0x5B, 0x82, 0x1A, 'C', '0', '0', '0',
	0x08, '_', 'H', 'I', 'D', 0x0D, 'A', 'C', 'P', 'I', '0', '0', '0', '7', 0x00,
	0x08, '_', 'U', 'I', 'D', 0x00,
};

/* Name (_S5, Package () { 5, 5, 0, 0 }) */
static const uint8_t s5_ref[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04, 0x0A, 0x05, 0x0A, 0x05, 0x00, 0x00 };

/* Device (TST0) { Name (_UID, 1) }: what a device's describe_acpi hook adds (theirs are tested with them). */
static const uint8_t test_device_ref[] = { 0x5B, 0x82, 0x0B, 'T', 'S', 'T', '0', 0x08, '_', 'U', 'I', 'D', 0x01 };

static int describe_calls;

static int describe_devices(struct aml *aml, void *ctx)
{
	(void)ctx;
	describe_calls++;
	aml_device(aml, "TST0");
	aml_name_int(aml, "_UID", 1);
	return aml_end(aml);
}

static struct acpi_platform platform(unsigned nr_cpus)
{
	return (struct acpi_platform){
		.nr_cpus = nr_cpus,
		.ioapic_addr = 0xFEC00000,
		.ioapic_id = (uint8_t)nr_cpus,
		.sleep_ctl_port = SLEEP_CTL,
		.sleep_sts_port = SLEEP_STS,
		.describe_devices = describe_devices,
	};
}

struct tables {
	uint8_t *buf;
	size_t len;
	uint64_t gpa;
	const uint8_t *rsdp, *xsdt, *fadt, *madt, *dsdt;
};

/* Maps a guest address from the tables to buf, checking the whole object lies inside buf. */
static const uint8_t *at(const struct tables *t, uint64_t gpa, size_t len)
{
	assert_true(gpa >= t->gpa && gpa - t->gpa <= t->len && len <= t->len - (gpa - t->gpa));
	return t->buf + (gpa - t->gpa);
}

/* A table with the common header: signature, revision, OEM id, length inside buf, checksum,
   and a 16-byte aligned guest address. */
static const uint8_t *table(const struct tables *t, uint64_t gpa, const char *sig, uint8_t revision)
{
	const uint8_t *p = at(t, gpa, 36);
	uint32_t len = rd32(p + 4);

	assert_memory_equal(p, sig, 4);
	assert_int_equal(p[8], revision);
	assert_memory_equal(p + 10, "KVMINI", 6);
	assert_int_equal(gpa % 16, 0);
	at(t, gpa, len);
	assert_int_equal(acpi_checksum(p, len), 0);
	return p;
}

static void build(struct tables *t, const struct acpi_platform *p, uint64_t gpa)
{
	uint64_t rsdp_gpa = 0;

	t->len = TABLES_SIZE;
	t->gpa = gpa;
	t->buf = malloc(t->len);
	assert_non_null(t->buf);
	assert_int_equal(acpi_build(p, t->buf, t->len, gpa, &rsdp_gpa), 0);

	assert_int_equal(rsdp_gpa % 16, 0);
	t->rsdp = at(t, rsdp_gpa, 36);
	assert_memory_equal(t->rsdp, "RSD PTR ", 8);
	assert_int_equal(acpi_checksum(t->rsdp, 20), 0);
	assert_int_equal(acpi_checksum(t->rsdp, 36), 0);
	assert_memory_equal(t->rsdp + 9, "KVMINI", 6);
	assert_int_equal(t->rsdp[15], 2);        /* revision */
	assert_int_equal(rd32(t->rsdp + 16), 0); /* no RSDT */
	assert_int_equal(rd32(t->rsdp + 20), 36);

	t->xsdt = table(t, rd64(t->rsdp + 24), "XSDT", 1);
	assert_int_equal(rd32(t->xsdt + 4), 36 + 2 * 8);
	t->fadt = table(t, rd64(t->xsdt + 36), "FACP", 6);
	t->madt = table(t, rd64(t->xsdt + 44), "APIC", 5);
	t->dsdt = table(t, rd64(t->fadt + 140), "DSDT", 2);
}

/* Bytes the tables occupy in buf, from its start to the end of the last table (the DSDT). */
static size_t used(const struct tables *t)
{
	return (size_t)(t->dsdt - t->buf) + rd32(t->dsdt + 4);
}

static const uint8_t *dsdt_find(const struct tables *t, const void *bytes, size_t len)
{
	return memmem(t->dsdt + 36, rd32(t->dsdt + 4) - 36, bytes, len);
}

static void test_checksum(void **state)
{
	(void)state;
	assert_int_equal(acpi_checksum((const uint8_t[]){ 1, 2, 3 }, 3), 0xFA);
	assert_int_equal(acpi_checksum((const uint8_t[]){ 0x80, 0x80 }, 2), 0);
	assert_int_equal(acpi_checksum(NULL, 0), 0);
}

static void test_rsdp_and_xsdt(void **state)
{
	struct acpi_platform p = platform(2);
	struct tables t;
	(void)state;

	build(&t, &p, TABLES_GPA);
	assert_ptr_equal(t.rsdp, t.buf); /* TABLES_GPA is aligned, so the RSDP comes first */
	free(t.buf);
}

static void test_fadt(void **state)
{
	struct acpi_platform p = platform(2);
	struct tables t;
	const uint8_t *f;
	(void)state;

	build(&t, &p, TABLES_GPA);
	f = t.fadt;
	assert_int_equal(rd32(f + 4), 276);
	assert_int_equal(f[131], 3);                      /* FADT minor revision: 6.3 */
	assert_int_equal(rd32(f + 112), (1u << 20) | (1u << 5) | (1u << 4)); /* HW_REDUCED_ACPI, SLP/PWR_BUTTON */
	assert_int_equal(rd16(f + 46), 0);                /* SCI_INT */
	assert_int_equal(rd32(f + 36), 0);                /* FIRMWARE_CTRL: no FACS */
	assert_int_equal(rd32(f + 40), 0);                /* DSDT: X_DSDT is used */
	assert_int_equal(rd64(f + 132), 0);               /* X_FIRMWARE_CTRL */
	/* IAPC_BOOT_ARCH: no legacy devices, no 8042, VGA not present, CMOS RTC not present */
	assert_int_equal(rd16(f + 109), (1u << 2) | (1u << 5));
	/* SLEEP_CONTROL_REG and SLEEP_STATUS_REG: System I/O, 8 bits wide, offset 0, byte access */
	assert_memory_equal(f + 244, ((const uint8_t[]){ 1, 8, 0, 1 }), 4);
	assert_int_equal(rd64(f + 248), SLEEP_CTL);
	assert_memory_equal(f + 256, ((const uint8_t[]){ 1, 8, 0, 1 }), 4);
	assert_int_equal(rd64(f + 260), SLEEP_STS);
	assert_memory_equal(f + 268, "KVMINI\0\0", 8);   /* hypervisor vendor identity */
	/* no legacy PM blocks, 32- or 64-bit */
	for (size_t off = 48; off < 109; off++)
		assert_int_equal(f[off], 0);
	for (size_t off = 148; off < 244; off++)
		assert_int_equal(f[off], 0);
	assert_int_equal(ACPI_SLEEP_CTL_S5, 0x34);
	free(t.buf);
}

static void check_madt(unsigned nr_cpus)
{
	struct acpi_platform p = platform(nr_cpus);
	struct tables t;
	unsigned lapics = 0, ioapics = 0;
	const uint8_t *m, *e, *end;

	build(&t, &p, TABLES_GPA);
	m = t.madt;
	end = m + rd32(m + 4);
	assert_int_equal(rd32(m + 36), 0xFEE00000);
	assert_int_equal(rd32(m + 40), 1); /* PCAT_COMPAT */
	for (e = m + 44; e < end; e += e[1]) {
		assert_true(e[1] >= 2 && e + e[1] <= end);
		switch (e[0]) {
		case 0: /* Processor Local APIC: UID = APIC id = index, enabled */
			assert_int_equal(e[1], 8);
			assert_int_equal(e[2], lapics);
			assert_int_equal(e[3], lapics);
			assert_int_equal(rd32(e + 4), 1);
			lapics++;
			break;
		case 1: /* I/O APIC at GSI base 0 */
			assert_int_equal(e[1], 12);
			assert_int_equal(e[2], nr_cpus);
			assert_int_equal(rd32(e + 4), 0xFEC00000);
			assert_int_equal(rd32(e + 8), 0);
			ioapics++;
			break;
		default: /* in particular no interrupt source override (type 2) */
			fail_msg("unexpected MADT entry type %u", e[0]);
		}
	}
	assert_ptr_equal(e, end);
	assert_int_equal(lapics, nr_cpus);
	assert_int_equal(ioapics, 1);
	free(t.buf);
}

static void test_madt(void **state)
{
	(void)state;
	check_madt(1);
	check_madt(64);
	check_madt(255);
}

static unsigned count_occurrences(const struct tables *t, const char *s)
{
	const uint8_t *p = t->dsdt + 36, *end = t->dsdt + rd32(t->dsdt + 4);
	size_t n = strlen(s);
	unsigned count = 0;

	while ((p = memmem(p, (size_t)(end - p), s, n))) {
		count++;
		p += n;
	}
	return count;
}

static void test_dsdt(void **state)
{
	struct acpi_platform p = platform(4);
	struct tables t;
	size_t len;
	(void)state;

	describe_calls = 0;
	build(&t, &p, TABLES_GPA);
	len = rd32(t.dsdt + 4);
	assert_int_equal(describe_calls, 1);
	/* Scope (\_SB) { processors, devices } first, with a multi-byte PkgLength here */
	assert_int_equal(t.dsdt[36], 0x10);
	assert_memory_equal(t.dsdt + 38 + (t.dsdt[37] >> 6), "\\_SB_", 5);
	assert_non_null(dsdt_find(&t, cpu0_ref, sizeof(cpu0_ref)));
	assert_int_equal(count_occurrences(&t, "ACPI0007"), 4);
	assert_non_null(dsdt_find(&t, "C003", 4));
	assert_null(dsdt_find(&t, "C004", 4));
	assert_non_null(dsdt_find(&t, test_device_ref, sizeof(test_device_ref)));
	/* then \_S5 at the root, closing the table */
	assert_memory_equal(t.dsdt + len - sizeof(s5_ref), s5_ref, sizeof(s5_ref));
	free(t.buf);
}

static void test_unaligned_gpa(void **state)
{
	struct acpi_platform p = platform(3);
	struct tables t;
	(void)state;

	/* build() checks every table's guest address is 16-byte aligned */
	build(&t, &p, TABLES_GPA + 4);
	assert_ptr_equal(t.rsdp, t.buf + 12);
	free(t.buf);
}

/* Every buffer shorter than needed fails with -ENOSPC, inside its bounds (run under ASan). */
static void check_enospc(unsigned nr_cpus)
{
	struct acpi_platform p = platform(nr_cpus);
	struct tables t;
	size_t need;

	build(&t, &p, TABLES_GPA);
	need = used(&t);
	for (size_t len = 0; len <= need; len++) {
		uint8_t *buf = malloc(len);
		uint64_t rsdp_gpa = 0;

		assert_true(buf || !len);
		assert_int_equal(acpi_build(&p, buf, len, TABLES_GPA, &rsdp_gpa), len < need ? -ENOSPC : 0);
		if (len == need)
			assert_memory_equal(buf, t.buf, need);
		free(buf);
	}
	free(t.buf);
}

static void test_enospc_every_size(void **state)
{
	(void)state;
	check_enospc(1);
	check_enospc(64);
}

static void test_invalid_platforms(void **state)
{
	static uint8_t buf[TABLES_SIZE];
	struct acpi_platform p;
	uint64_t rsdp_gpa;
	(void)state;

	p = platform(0);
	assert_int_equal(acpi_build(&p, buf, sizeof(buf), TABLES_GPA, &rsdp_gpa), -EINVAL);
	p = platform(4);
	p.ioapic_id = 3; /* would clash with APIC id 3 */
	assert_int_equal(acpi_build(&p, buf, sizeof(buf), TABLES_GPA, &rsdp_gpa), -EINVAL);
	p = platform(255);
	p.ioapic_id = 254;
	assert_int_equal(acpi_build(&p, buf, sizeof(buf), TABLES_GPA, &rsdp_gpa), -EINVAL);
	p = platform(256); /* ioapic_id wraps to 0 */
	assert_int_equal(acpi_build(&p, buf, sizeof(buf), TABLES_GPA, &rsdp_gpa), -EINVAL);
	p = platform(2);
	p.ioapic_addr = 0;
	assert_int_equal(acpi_build(&p, buf, sizeof(buf), TABLES_GPA, &rsdp_gpa), -EINVAL);
	p = platform(2);
	p.sleep_ctl_port = 0;
	assert_int_equal(acpi_build(&p, buf, sizeof(buf), TABLES_GPA, &rsdp_gpa), -EINVAL);
	p = platform(2);
	p.sleep_sts_port = 0;
	assert_int_equal(acpi_build(&p, buf, sizeof(buf), TABLES_GPA, &rsdp_gpa), -EINVAL);
	p = platform(2);
	assert_int_equal(acpi_build(NULL, buf, sizeof(buf), TABLES_GPA, &rsdp_gpa), -EINVAL);
	assert_int_equal(acpi_build(&p, buf, sizeof(buf), TABLES_GPA, NULL), -EINVAL);
	assert_int_equal(acpi_build(&p, NULL, sizeof(buf), TABLES_GPA, &rsdp_gpa), -EINVAL);
	assert_int_equal(acpi_build(&p, buf, sizeof(buf), UINT64_MAX - 0x100, &rsdp_gpa), -EINVAL);
}

static int describe_fails(struct aml *aml, void *ctx)
{
	(void)aml;
	(void)ctx;
	return -EIO;
}

static int describe_leaves_open(struct aml *aml, void *ctx)
{
	(void)ctx;
	return aml_device(aml, "OPEN");
}

static int describe_closes_scope(struct aml *aml, void *ctx)
{
	(void)ctx;
	return aml_end(aml);
}

static void test_describe_devices_errors(void **state)
{
	static uint8_t buf[TABLES_SIZE];
	struct acpi_platform p = platform(1);
	uint64_t rsdp_gpa;
	struct tables t;
	(void)state;

	p.describe_devices = describe_fails;
	assert_int_equal(acpi_build(&p, buf, sizeof(buf), TABLES_GPA, &rsdp_gpa), -EIO);
	p.describe_devices = describe_leaves_open;
	assert_int_equal(acpi_build(&p, buf, sizeof(buf), TABLES_GPA, &rsdp_gpa), -EINVAL);
	p.describe_devices = describe_closes_scope;
	assert_int_equal(acpi_build(&p, buf, sizeof(buf), TABLES_GPA, &rsdp_gpa), -EINVAL);

	p.describe_devices = NULL;
	build(&t, &p, TABLES_GPA);
	assert_null(dsdt_find(&t, "TST0", 4));
	assert_memory_equal(t.dsdt + rd32(t.dsdt + 4) - sizeof(s5_ref), s5_ref, sizeof(s5_ref));
	free(t.buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checksum),
		cmocka_unit_test(test_rsdp_and_xsdt),
		cmocka_unit_test(test_fadt),
		cmocka_unit_test(test_madt),
		cmocka_unit_test(test_dsdt),
		cmocka_unit_test(test_unaligned_gpa),
		cmocka_unit_test(test_enospc_every_size),
		cmocka_unit_test(test_invalid_platforms),
		cmocka_unit_test(test_describe_devices_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
