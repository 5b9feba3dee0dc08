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
#define MP_NR_ISA_IRQS 16
#define MP_ALL_LAPICS 0xFF
/* The spec numbers a PCI bus as PCI does, before other buses (appendix D.2); Linux looks it up by that number. */
#define MP_PCI_BUS 0
#define MP_PCI_BUS_TYPE "PCI   "
#define MP_ISA_BUS_TYPE "ISA   "

/* I/O interrupt entry flags, section 4.3.4: polarity in bits 1:0, trigger mode in bits 3:2; 0 conforms to the bus. */
#define MP_CONFORMING 0
#define MP_ACTIVE_HIGH 0x1
#define MP_ACTIVE_LOW 0x3
#define MP_LEVEL (0x3 << 2)

_Static_assert(MP_NR_ISA_IRQS == MPTABLE_FIRST_DEVICE_PIN, "device lines start after the ISA IRQs");
#define DEVICE_PINS (((1u << MPTABLE_IOAPIC_PINS) - 1) & ~((1u << MPTABLE_FIRST_DEVICE_PIN) - 1))

/* ISA takes the first id after the PCI bus. */
static uint8_t isa_bus(const struct mptable_config *cfg)
{
	return cfg->pci_bus ? MP_PCI_BUS + 1 : 0;
}

static unsigned nr_buses(const struct mptable_config *cfg)
{
	return cfg->pci_bus ? 2 : 1;
}

static unsigned nr_pci_intx(const struct mptable_config *cfg)
{
	unsigned n = 0;

	for (unsigned slot = 0; slot < MPTABLE_PCI_SLOTS; slot++)
		for (unsigned pin = 0; pin < MPTABLE_PCI_PINS; pin++)
			n += cfg->pci_intx[slot][pin] != 0;
	return n;
}

/* I/O interrupt entries: the ISA IRQs, then the device lines. */
static unsigned nr_io_interrupts(const struct mptable_config *cfg)
{
	return MP_NR_ISA_IRQS + (unsigned)__builtin_popcount(cfg->level_high_pins) + nr_pci_intx(cfg);
}

static bool device_lines_valid(const struct mptable_config *cfg)
{
	if (cfg->level_high_pins & ~DEVICE_PINS)
		return false;
	for (unsigned slot = 0; slot < MPTABLE_PCI_SLOTS; slot++)
		for (unsigned pin = 0; pin < MPTABLE_PCI_PINS; pin++) {
			unsigned ioapic_pin = cfg->pci_intx[slot][pin];

			if (!ioapic_pin)
				continue;
			if (!cfg->pci_bus || ioapic_pin >= MPTABLE_IOAPIC_PINS || !(DEVICE_PINS & 1u << ioapic_pin) ||
			    cfg->level_high_pins & 1u << ioapic_pin)
				return false;
		}
	return true;
}

static size_t config_len(const struct mptable_config *cfg)
{
	return sizeof(struct mpc_table) + cfg->nr_cpus * sizeof(struct mpc_cpu) +
	       nr_buses(cfg) * sizeof(struct mpc_bus) + sizeof(struct mpc_ioapic) +
	       (nr_io_interrupts(cfg) + 2) * sizeof(struct mpc_intsrc);
}

static void put(uint8_t **pos, const void *entry, size_t len)
{
	memcpy(*pos, entry, len);
	*pos += len;
}

static void put_intsrc(uint8_t **pos, struct mpc_intsrc e)
{
	put(pos, &e, sizeof(e));
}

static void put_bus(uint8_t **pos, uint8_t id, const char *type)
{
	struct mpc_bus bus = { .type = MP_BUS, .bus_id = id };

	memcpy(bus.bus_type, type, sizeof(bus.bus_type));
	put(pos, &bus, sizeof(bus));
}

/* An I/O interrupt entry (type INT) for IOAPIC pin dst_pin. */
static void put_io_interrupt(uint8_t **pos, const struct mptable_config *cfg, uint16_t flags, uint8_t src_bus,
			     uint8_t src_irq, uint8_t dst_pin)
{
	put_intsrc(pos, (struct mpc_intsrc){ .type = MP_INTSRC, .irq_type = MP_INT, .flags = flags, .src_bus = src_bus,
					     .src_irq = src_irq, .dst_apic = cfg->ioapic_id, .dst_pin = dst_pin });
}

static void put_device_lines(uint8_t **pos, const struct mptable_config *cfg)
{
	/*
	 * Without ACPI, Linux takes a pin's trigger mode and polarity from the
	 * first MP entry for that pin. Lines with no bus of their own
	 * (virtio-mmio) are ISA IRQs numbered as their pin, with flags that
	 * override ISA's default of edge-triggered.
	 */
	for (uint8_t pin = MPTABLE_FIRST_DEVICE_PIN; pin < MPTABLE_IOAPIC_PINS; pin++)
		if (cfg->level_high_pins & 1u << pin)
			put_io_interrupt(pos, cfg, MP_LEVEL | MP_ACTIVE_HIGH, isa_bus(cfg), pin, pin);
	/* PCI source IRQ (appendix D.3): device number in bits 6:2, INTA#-INTD# as 0-3 in bits 1:0. */
	for (uint8_t slot = 0; slot < MPTABLE_PCI_SLOTS; slot++)
		for (uint8_t pin = 0; pin < MPTABLE_PCI_PINS; pin++)
			if (cfg->pci_intx[slot][pin])
				put_io_interrupt(pos, cfg, MP_LEVEL | MP_ACTIVE_LOW, MP_PCI_BUS,
						 (uint8_t)(slot << 2 | pin), cfg->pci_intx[slot][pin]);
}

static void build_config(uint8_t *out, size_t len, const struct mptable_config *cfg)
{
	struct mpc_table t = {
		.length = (uint16_t)len,
		.spec_rev = MP_SPEC_REV,
		.entry_count = (uint16_t)(cfg->nr_cpus + nr_buses(cfg) + 1 + nr_io_interrupts(cfg) + 2),
		.lapic_addr = MP_LAPIC_ADDR,
	};
	struct mpc_ioapic ioapic = {
		.type = MP_IOAPIC,
		.id = cfg->ioapic_id,
		.version = MP_IOAPIC_VERSION,
		.flags = MP_IOAPIC_ENABLED,
		.addr = cfg->ioapic_addr,
	};
	uint8_t *pos = out;

	memcpy(t.signature, "PCMP", sizeof(t.signature));
	memcpy(t.oem_id, "KVMINI  ", sizeof(t.oem_id));
	memcpy(t.product_id, "KVMINI      ", sizeof(t.product_id));
	put(&pos, &t, sizeof(t));

	for (unsigned i = 0; i < cfg->nr_cpus; i++) {
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
	/* Buses in ascending order of id. */
	if (cfg->pci_bus)
		put_bus(&pos, MP_PCI_BUS, MP_PCI_BUS_TYPE);
	put_bus(&pos, isa_bus(cfg), MP_ISA_BUS_TYPE);
	put(&pos, &ioapic, sizeof(ioapic));
	/* ISA IRQ n -> IOAPIC pin n: KVM's default GSI routing, where its PIT raises GSI 0. */
	for (uint8_t irq = 0; irq < MP_NR_ISA_IRQS; irq++)
		put_io_interrupt(&pos, cfg, MP_CONFORMING, isa_bus(cfg), irq, irq);
	put_device_lines(&pos, cfg);
	put_intsrc(&pos, (struct mpc_intsrc){ .type = MP_LINTSRC, .irq_type = MP_EXTINT, .src_bus = isa_bus(cfg),
					      .dst_apic = MP_ALL_LAPICS, .dst_pin = 0 });
	put_intsrc(&pos, (struct mpc_intsrc){ .type = MP_LINTSRC, .irq_type = MP_NMI, .src_bus = isa_bus(cfg),
					      .dst_apic = MP_ALL_LAPICS, .dst_pin = 1 });

	out[offsetof(struct mpc_table, checksum)] = acpi_checksum(out, len);
}

int mptable_build(uint8_t *buf, size_t len, uint64_t buf_gpa, const struct mptable_config *cfg)
{
	/* Linux scans for the floating pointer on 16-byte boundaries. */
	size_t mpf = (size_t)(-buf_gpa & 15);
	size_t mpc = mpf + sizeof(struct mpf_intel);
	size_t mpc_len, used;
	struct mpf_intel f = { .length = 1, .spec_rev = MP_SPEC_REV };

	/* APIC ids 0..nr_cpus-1 must stay below the IOAPIC's id, which also keeps them below 0xFF. */
	if ((!buf && len) || !cfg || !cfg->nr_cpus || cfg->nr_cpus > cfg->ioapic_id || !cfg->ioapic_addr ||
	    !device_lines_valid(cfg))
		return -EINVAL;
	mpc_len = config_len(cfg);
	used = mpc + mpc_len;
	/* physptr is 32 bits. */
	if (buf_gpa > UINT32_MAX || used > (uint64_t)UINT32_MAX + 1 - buf_gpa)
		return -EINVAL;
	if (len < used)
		return -ENOSPC;

	memset(buf, 0, used);
	build_config(buf + mpc, mpc_len, cfg);
	memcpy(f.signature, "_MP_", sizeof(f.signature));
	f.physptr = (uint32_t)(buf_gpa + mpc);
	f.checksum = acpi_checksum((const uint8_t *)&f, sizeof(f));
	memcpy(buf + mpf, &f, sizeof(f));
	return (int)used;
}
