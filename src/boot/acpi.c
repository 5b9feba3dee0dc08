// SPDX-License-Identifier: Apache-2.0
#include "boot/acpi.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

/* Tables are laid out with packed structs, which match ACPI only on a little-endian host (x86 KVM). */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "ACPI tables are little-endian");

#define OEM_ID "KVMINI"
#define OEM_TABLE_ID "KVMINI  "
#define CREATOR_ID "KVMI"

/* Linux scans for the RSDP on 16-byte boundaries; the other tables only need 8. */
#define TABLE_ALIGN 16

struct __attribute__((packed)) acpi_rsdp {
	char signature[8];
	uint8_t checksum;        /* over the first 20 bytes (the ACPI 1.0 part) */
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_addr;      /* zero: there is no RSDT, revision 2 points at the XSDT */
	uint32_t length;
	uint64_t xsdt_addr;
	uint8_t ext_checksum;    /* over the whole structure */
	uint8_t reserved[3];
};

struct __attribute__((packed)) acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
};

/* Generic Address Structure, ACPI 6.x 5.2.3.2. */
struct __attribute__((packed)) acpi_gas {
	uint8_t space_id;
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
};

/* FADT revision 6, ACPI 6.x 5.2.9. Everything not set stays zero: a hardware-reduced platform has no
   SCI, SMI command port, PM1/PM2/GPE blocks, PM timer or FACS. */
struct __attribute__((packed)) acpi_fadt {
	struct acpi_header hdr;
	uint32_t firmware_ctrl;
	uint32_t dsdt;                /* zero: X_DSDT is used */
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint8_t legacy_pm[61];        /* SMI_CMD through CENTURY */
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_legacy_pm[8]; /* X_PM1a_EVT_BLK through X_GPE1_BLK */
	struct acpi_gas sleep_control;
	struct acpi_gas sleep_status;
	char hypervisor_vendor[8];
};

struct __attribute__((packed)) acpi_madt {
	struct acpi_header hdr;
	uint32_t lapic_addr;
	uint32_t flags;
};

struct __attribute__((packed)) acpi_madt_lapic {
	uint8_t type;
	uint8_t length;
	uint8_t uid;
	uint8_t apic_id;
	uint32_t flags;
};

struct __attribute__((packed)) acpi_madt_ioapic {
	uint8_t type;
	uint8_t length;
	uint8_t id;
	uint8_t reserved;
	uint32_t addr;
	uint32_t gsi_base;
};

_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP layout");
_Static_assert(sizeof(struct acpi_header) == 36, "table header layout");
_Static_assert(offsetof(struct acpi_fadt, iapc_boot_arch) == 109, "FADT layout");
_Static_assert(offsetof(struct acpi_fadt, x_dsdt) == 140, "FADT layout");
_Static_assert(offsetof(struct acpi_fadt, sleep_control) == 244, "FADT layout");
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT layout");
_Static_assert(sizeof(struct acpi_madt) == 44, "MADT layout");

/* The tables claim ACPI 6.3: FADT 6.3, MADT revision 5. */
#define FADT_REVISION 6
#define FADT_MINOR_REVISION 3
#define MADT_REVISION 5
#define XSDT_REVISION 1
#define DSDT_REVISION 2        /* 2 and up: AML integers are 64-bit */

#define GAS_SYSTEM_IO 1
#define GAS_ACCESS_BYTE 1

/* FADT flags: no fixed-hardware buttons (Linux would otherwise fabricate them) and hardware-reduced
   ACPI, which also keeps Linux from configuring SCI_INT 0 as a level-low interrupt (see acpi_build). */
#define FADT_PWR_BUTTON (1u << 4)
#define FADT_SLP_BUTTON (1u << 5)
#define FADT_HW_REDUCED_ACPI (1u << 20)

/* IAPC_BOOT_ARCH: LEGACY_DEVICES (bit 0) and 8042 (bit 1) stay clear, so Linux probes no PS/2
   controller; it also skips VGA probing and the CMOS RTC platform device when these are set. */
#define BOOT_ARCH_NO_VGA (1u << 2)
#define BOOT_ARCH_NO_CMOS_RTC (1u << 5)

#define MADT_LAPIC_ADDR 0xFEE00000u
#define MADT_PCAT_COMPAT (1u << 0)
#define MADT_TYPE_LAPIC 0
#define MADT_TYPE_IOAPIC 1
#define MADT_LAPIC_ENABLED (1u << 0)

#define XSDT_ENTRIES 2         /* FADT, MADT; the DSDT hangs off the FADT */

uint8_t acpi_checksum(const uint8_t *bytes, size_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum = (uint8_t)(sum + *bytes++);
	return (uint8_t)-sum;
}

/* The offset at or after off whose guest-physical address is TABLE_ALIGN-aligned. */
static size_t align_up(uint64_t buf_gpa, size_t off)
{
	return off + (size_t)(-(buf_gpa + off) & (TABLE_ALIGN - 1));
}

static struct acpi_header header(const char sig[4], size_t len, uint8_t revision)
{
	struct acpi_header h = {
		.length = (uint32_t)len,
		.revision = revision,
		.oem_revision = 1,
		.creator_revision = 1,
	};

	memcpy(h.signature, sig, sizeof(h.signature));
	memcpy(h.oem_id, OEM_ID, sizeof(h.oem_id));
	memcpy(h.oem_table_id, OEM_TABLE_ID, sizeof(h.oem_table_id));
	memcpy(h.creator_id, CREATOR_ID, sizeof(h.creator_id));
	return h;
}

/* Sets the checksum of a complete table whose checksum byte is still zero. */
static void seal(uint8_t *table, size_t len)
{
	table[offsetof(struct acpi_header, checksum)] = acpi_checksum(table, len);
}

static struct acpi_gas io_port8(uint16_t port)
{
	return (struct acpi_gas){
		.space_id = GAS_SYSTEM_IO,
		.bit_width = 8,
		.access_size = GAS_ACCESS_BYTE,
		.address = port,
	};
}

/* ACPI 6 declares processors as ACPI0007 devices; Linux pairs each with its MADT entry by _UID. */
static void describe_cpu(struct aml *aml, unsigned uid)
{
	static const char hex[] = "0123456789ABCDEF";
	const char name[] = { 'C', hex[(uid >> 8) & 0xF], hex[(uid >> 4) & 0xF], hex[uid & 0xF], '\0' };

	aml_device(aml, name);
	aml_name_string(aml, "_HID", "ACPI0007");
	aml_name_int(aml, "_UID", uid);
	aml_end(aml);
}

/* Returns the DSDT's length or a negative errno. */
static int build_dsdt(const struct acpi_platform *p, uint8_t *out, size_t cap)
{
	/* \_S5 = { SLP_TYPa, SLP_TYPb, reserved, reserved }; a hardware-reduced OS uses only SLP_TYPa. */
	static const uint64_t s5[] = { ACPI_SLEEP_TYP_S5, ACPI_SLEEP_TYP_S5, 0, 0 };
	struct acpi_header h;
	struct aml aml;
	int n;

	aml_init(&aml, out + sizeof(h), cap - sizeof(h));
	aml_scope(&aml, "\\_SB_");
	for (unsigned i = 0; i < p->nr_cpus; i++)
		describe_cpu(&aml, i);
	if (p->describe_devices) {
		n = p->describe_devices(&aml, p->ctx);
		if (n < 0)
			return n;
	}
	aml_end(&aml);
	aml_name_package(&aml, "_S5_", s5, sizeof(s5) / sizeof(s5[0]));
	n = aml_finish(&aml);
	if (n < 0)
		return n;

	n += (int)sizeof(h);
	h = header("DSDT", (size_t)n, DSDT_REVISION);
	memcpy(out, &h, sizeof(h));
	seal(out, (size_t)n);
	return n;
}

static void build_fadt(const struct acpi_platform *p, uint8_t *out, uint64_t dsdt_gpa)
{
	struct acpi_fadt f = {
		.hdr = header("FACP", sizeof(f), FADT_REVISION),
		.iapc_boot_arch = BOOT_ARCH_NO_VGA | BOOT_ARCH_NO_CMOS_RTC,
		.flags = FADT_PWR_BUTTON | FADT_SLP_BUTTON | FADT_HW_REDUCED_ACPI,
		.minor_version = FADT_MINOR_REVISION,
		.x_dsdt = dsdt_gpa,
		.sleep_control = io_port8(p->sleep_ctl_port),
		.sleep_status = io_port8(p->sleep_sts_port),
	};

	memcpy(f.hypervisor_vendor, OEM_ID, strlen(OEM_ID));
	memcpy(out, &f, sizeof(f));
	seal(out, sizeof(f));
}

static size_t madt_len(unsigned nr_cpus)
{
	return sizeof(struct acpi_madt) + nr_cpus * sizeof(struct acpi_madt_lapic) + sizeof(struct acpi_madt_ioapic);
}

/*
 * One enabled LAPIC per vCPU and the IOAPIC at GSI base 0, and no interrupt source overrides:
 * KVM routes GSI n to IOAPIC pin n (and PIC input n below 16) and its PIT raises GSI 0, so ISA
 * IRQs map to GSIs one to one, which is what Linux assumes when no override is present.
 */
static void build_madt(const struct acpi_platform *p, uint8_t *out)
{
	size_t len = madt_len(p->nr_cpus);
	struct acpi_madt m = {
		.hdr = header("APIC", len, MADT_REVISION),
		.lapic_addr = MADT_LAPIC_ADDR,
		.flags = MADT_PCAT_COMPAT,  /* KVM's in-kernel irqchip does have the two 8259s */
	};
	struct acpi_madt_ioapic io = {
		.type = MADT_TYPE_IOAPIC,
		.length = sizeof(io),
		.id = p->ioapic_id,
		.addr = p->ioapic_addr,
		.gsi_base = 0,
	};
	uint8_t *pos = out;

	memcpy(pos, &m, sizeof(m));
	pos += sizeof(m);
	for (unsigned i = 0; i < p->nr_cpus; i++) {
		struct acpi_madt_lapic lapic = {
			.type = MADT_TYPE_LAPIC,
			.length = sizeof(lapic),
			.uid = (uint8_t)i,
			.apic_id = (uint8_t)i,
			.flags = MADT_LAPIC_ENABLED,
		};

		memcpy(pos, &lapic, sizeof(lapic));
		pos += sizeof(lapic);
	}
	memcpy(pos, &io, sizeof(io));
	seal(out, len);
}

static void build_xsdt(uint8_t *out, const uint64_t entries[XSDT_ENTRIES])
{
	size_t len = sizeof(struct acpi_header) + XSDT_ENTRIES * sizeof(uint64_t);
	struct acpi_header h = header("XSDT", len, XSDT_REVISION);

	memcpy(out, &h, sizeof(h));
	memcpy(out + sizeof(h), entries, XSDT_ENTRIES * sizeof(uint64_t));
	seal(out, len);
}

static void build_rsdp(uint8_t *out, uint64_t xsdt_gpa)
{
	struct acpi_rsdp r = {
		.revision = 2,
		.length = sizeof(r),
		.xsdt_addr = xsdt_gpa,
	};

	memcpy(r.signature, "RSD PTR ", sizeof(r.signature));
	memcpy(r.oem_id, OEM_ID, sizeof(r.oem_id));
	r.checksum = acpi_checksum((const uint8_t *)&r, offsetof(struct acpi_rsdp, length));
	r.ext_checksum = acpi_checksum((const uint8_t *)&r, sizeof(r));
	memcpy(out, &r, sizeof(r));
}

/*
 * About interrupts: with SCI_INT 0 and no override for it, a full-hardware FADT would make Linux
 * (acpi_parse_madt_ioapic_entries -> acpi_sci_ioapic_setup) set IRQ 0 up as the SCI, level-triggered
 * and active-low, breaking the PIT timer. Linux skips that when the FADT is hardware-reduced, so no
 * override is needed. A hardware-reduced guest also installs no legacy PIC and no PIT timer
 * (acpi_generic_reduced_hw_init), and maps an ISA IRQ only when a device's _CRS names it.
 */
int acpi_build(const struct acpi_platform *p, uint8_t *buf, size_t len, uint64_t buf_gpa, uint64_t *rsdp_gpa)
{
	size_t rsdp, xsdt, fadt, madt, dsdt;
	uint64_t entries[XSDT_ENTRIES];
	int dsdt_len;

	/* APIC ids 0..nr_cpus-1 must stay below the IOAPIC's id, which also keeps them below 0xFF. */
	if (!p || !rsdp_gpa || (!buf && len) || !p->nr_cpus || p->nr_cpus > p->ioapic_id || !p->ioapic_addr ||
		!p->sleep_ctl_port || !p->sleep_sts_port || len > UINT64_MAX - buf_gpa)
		return -EINVAL;

	rsdp = align_up(buf_gpa, 0);
	xsdt = align_up(buf_gpa, rsdp + sizeof(struct acpi_rsdp));
	fadt = align_up(buf_gpa, xsdt + sizeof(struct acpi_header) + sizeof(entries));
	madt = align_up(buf_gpa, fadt + sizeof(struct acpi_fadt));
	dsdt = align_up(buf_gpa, madt + madt_len(p->nr_cpus));
	if (len < dsdt + sizeof(struct acpi_header))
		return -ENOSPC;

	memset(buf, 0, dsdt);
	dsdt_len = build_dsdt(p, buf + dsdt, len - dsdt);
	if (dsdt_len < 0)
		return dsdt_len;
	build_fadt(p, buf + fadt, buf_gpa + dsdt);
	build_madt(p, buf + madt);
	entries[0] = buf_gpa + fadt;
	entries[1] = buf_gpa + madt;
	build_xsdt(buf + xsdt, entries);
	build_rsdp(buf + rsdp, buf_gpa + xsdt);
	*rsdp_gpa = buf_gpa + rsdp;
	return 0;
}
