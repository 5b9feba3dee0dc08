// SPDX-License-Identifier: Apache-2.0
#include "boot/mptable.h"

#include <errno.h>
#include <string.h>

#include "boot/acpi.h"  /* acpi_checksum: the MP spec uses the same zero-sum rule */

/* Tables are laid out with packed structs, which match the MP spec only on a little-endian host (x86 KVM). */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "MP tables are little-endian");

/* MP floating pointer structure, MP spec 1.4 section 4.1. */
struct __attribute__((packed)) mpf_intel {
	char signature[4];
	uint32_t physptr;        /* the configuration table */
	uint8_t length;          /* in 16-byte units */
	uint8_t spec_rev;
	uint8_t checksum;
	/* Feature byte 1 zero: a configuration table is present, not a default configuration.
	   Feature byte 2 bit 7 (IMCRP) clear: virtual-wire mode, the 8259 reaches the BSP via LINT0. */
	uint8_t feature[5];
};

/* Configuration table header, section 4.2. */
struct __attribute__((packed)) mpc_table {
	char signature[4];
	uint16_t length;         /* base table: header and entries */
	uint8_t spec_rev;
	uint8_t checksum;
	char oem_id[8];
	char product_id[12];
	uint32_t oem_table;
	uint16_t oem_table_size;
	uint16_t entry_count;
	uint32_t lapic_addr;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
};

/* Entries, section 4.3. */
struct __attribute__((packed)) mpc_cpu {
	uint8_t type;
	uint8_t apic_id;
	uint8_t apic_ver;
	uint8_t flags;
	uint32_t signature;      /* CPUID.1 EAX: stepping, model, family */
	uint32_t features;       /* CPUID.1 EDX */
	uint32_t reserved[2];
};

struct __attribute__((packed)) mpc_bus {
	uint8_t type;
	uint8_t bus_id;
	char bus_type[6];
};

struct __attribute__((packed)) mpc_ioapic {
	uint8_t type;
	uint8_t id;
	uint8_t version;
	uint8_t flags;
	uint32_t addr;
};

/* I/O interrupt and local interrupt assignment entries share this layout. */
struct __attribute__((packed)) mpc_intsrc {
	uint8_t type;
	uint8_t irq_type;
	uint16_t flags;          /* polarity and trigger; 0 conforms to the source bus */
	uint8_t src_bus;
	uint8_t src_irq;
	uint8_t dst_apic;
	uint8_t dst_pin;         /* IOAPIC INTIN# or LAPIC LINTIN# */
};

_Static_assert(sizeof(struct mpf_intel) == 16, "MP floating pointer layout");
_Static_assert(sizeof(struct mpc_table) == 44, "MP configuration table layout");
_Static_assert(sizeof(struct mpc_cpu) == 20, "MP processor entry layout");

#define MP_SPEC_REV 4          /* 1.4 */
#define MP_LAPIC_ADDR 0xFEE00000u

enum { MP_PROCESSOR, MP_BUS, MP_IOAPIC, MP_INTSRC, MP_LINTSRC };
enum { MP_INT = 0, MP_NMI = 1, MP_EXTINT = 3 };

#define MP_CPU_ENABLED (1u << 0)
#define MP_CPU_BSP (1u << 1)
#define MP_IOAPIC_ENABLED (1u << 0)
#define MP_LAPIC_VERSION 0x14  /* integrated APIC, as KVM's */
#define MP_IOAPIC_VERSION 0x11 /* as KVM's IOAPIC reports */
#define MP_CPU_SIGNATURE 0x600 /* family 6 */
#define MP_CPU_FEATURES ((1u << 0) | (1u << 9))  /* FPU, APIC */
#define MP_ISA_BUS 0
#define MP_NR_ISA_IRQS 16
#define MP_ALL_LAPICS 0xFF
#define MP_CONFORMING 0

static size_t config_len(unsigned nr_cpus)
{
	return sizeof(struct mpc_table) + nr_cpus * sizeof(struct mpc_cpu) + sizeof(struct mpc_bus) +
	       sizeof(struct mpc_ioapic) + (MP_NR_ISA_IRQS + 2) * sizeof(struct mpc_intsrc);
}

static void put(uint8_t **pos, const void *entry, size_t len)
{
	memcpy(*pos, entry, len);
	*pos += len;
}

static void put_intsrc(uint8_t **pos, uint8_t type, uint8_t irq_type, uint8_t src_irq, uint8_t dst_apic,
		       uint8_t dst_pin)
{
	struct mpc_intsrc e = {
		.type = type,
		.irq_type = irq_type,
		.flags = MP_CONFORMING,
		.src_bus = MP_ISA_BUS,
		.src_irq = src_irq,
		.dst_apic = dst_apic,
		.dst_pin = dst_pin,
	};

	put(pos, &e, sizeof(e));
}

static void build_config(uint8_t *out, size_t len, unsigned nr_cpus, uint32_t ioapic_addr, uint8_t ioapic_id)
{
	struct mpc_table t = {
		.length = (uint16_t)len,
		.spec_rev = MP_SPEC_REV,
		.entry_count = (uint16_t)(nr_cpus + 1 + 1 + MP_NR_ISA_IRQS + 2),
		.lapic_addr = MP_LAPIC_ADDR,
	};
	struct mpc_bus bus = { .type = MP_BUS, .bus_id = MP_ISA_BUS };
	struct mpc_ioapic ioapic = {
		.type = MP_IOAPIC,
		.id = ioapic_id,
		.version = MP_IOAPIC_VERSION,
		.flags = MP_IOAPIC_ENABLED,
		.addr = ioapic_addr,
	};
	uint8_t *pos = out;

	memcpy(t.signature, "PCMP", sizeof(t.signature));
	memcpy(t.oem_id, "KVMINI  ", sizeof(t.oem_id));
	memcpy(t.product_id, "KVMINI      ", sizeof(t.product_id));
	memcpy(bus.bus_type, "ISA   ", sizeof(bus.bus_type));
	put(&pos, &t, sizeof(t));

	for (unsigned i = 0; i < nr_cpus; i++) {
		struct mpc_cpu cpu = {
			.type = MP_PROCESSOR,
			.apic_id = (uint8_t)i,
			.apic_ver = MP_LAPIC_VERSION,
			.flags = MP_CPU_ENABLED | (i == 0 ? MP_CPU_BSP : 0),
			.signature = MP_CPU_SIGNATURE,
			.features = MP_CPU_FEATURES,
		};

		put(&pos, &cpu, sizeof(cpu));
	}
	put(&pos, &bus, sizeof(bus));
	put(&pos, &ioapic, sizeof(ioapic));
	/* ISA IRQ n -> IOAPIC pin n: KVM's default GSI routing, where its PIT raises GSI 0. */
	for (uint8_t irq = 0; irq < MP_NR_ISA_IRQS; irq++)
		put_intsrc(&pos, MP_INTSRC, MP_INT, irq, ioapic_id, irq);
	put_intsrc(&pos, MP_LINTSRC, MP_EXTINT, 0, MP_ALL_LAPICS, 0);
	put_intsrc(&pos, MP_LINTSRC, MP_NMI, 0, MP_ALL_LAPICS, 1);

	out[offsetof(struct mpc_table, checksum)] = acpi_checksum(out, len);
}

int mptable_build(uint8_t *buf, size_t len, uint64_t buf_gpa, unsigned nr_cpus, uint32_t ioapic_addr,
		 uint8_t ioapic_id)
{
	/* Linux scans for the floating pointer on 16-byte boundaries. */
	size_t mpf = (size_t)(-buf_gpa & 15);
	size_t mpc = mpf + sizeof(struct mpf_intel);
	size_t mpc_len, used;
	struct mpf_intel f = { .length = 1, .spec_rev = MP_SPEC_REV };

	/* APIC ids 0..nr_cpus-1 must stay below the IOAPIC's id, which also keeps them below 0xFF. */
	if ((!buf && len) || !nr_cpus || nr_cpus > ioapic_id || !ioapic_addr)
		return -EINVAL;
	mpc_len = config_len(nr_cpus);
	used = mpc + mpc_len;
	/* physptr is 32 bits. */
	if (buf_gpa > UINT32_MAX || used > (uint64_t)UINT32_MAX + 1 - buf_gpa)
		return -EINVAL;
	if (len < used)
		return -ENOSPC;

	memset(buf, 0, used);
	build_config(buf + mpc, mpc_len, nr_cpus, ioapic_addr, ioapic_id);
	memcpy(f.signature, "_MP_", sizeof(f.signature));
	f.physptr = (uint32_t)(buf_gpa + mpc);
	f.checksum = acpi_checksum((const uint8_t *)&f, sizeof(f));
	memcpy(buf + mpf, &f, sizeof(f));
	return (int)used;
}
