// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/virtio_pci.h>

#include "boot/aml.h"
#include "devices/pci.h"
#include "fake_host.h"
#include "irq.h"
#include "virtio/transport.h"
#include "virtio/virtio.h"

#define SLOT1 1
#define LINE_A 16
#define LINE_B 17

/* --- The bus alone, with a fake function --- */

static struct pci_bus bus;
static struct io_bus bus_pio, bus_mmio;
/* The buses the helpers below use: bus_pio/bus_mmio, or the VM's in the transport tests. */
static struct io_bus *pio = &bus_pio, *mmio = &bus_mmio;

struct fake_fn {
	struct pci_function fn;
	unsigned accesses;
	unsigned bar;
	uint64_t offset;
	unsigned moves;
	uint64_t moved_from, moved_to;
	unsigned config_writes;
	bool released;
};

/* Static: the bus's teardown calls their release hooks after the test returned. */
static struct fake_fn fakes[PCI_SLOTS];

static void fake_bar_access(struct pci_function *fn, unsigned bar, uint64_t offset, uint8_t *data, unsigned size,
			    bool is_write)
{
	struct fake_fn *f = fn->opaque;

	f->accesses++;
	f->bar = bar;
	f->offset = offset;
	if (!is_write)
		memset(data, 0x5a, size);
}

static void fake_bar_moved(struct pci_function *fn, unsigned bar, uint64_t old_addr, uint64_t new_addr)
{
	struct fake_fn *f = fn->opaque;

	(void)bar;
	f->moves++;
	f->moved_from = old_addr;
	f->moved_to = new_addr;
}

static void fake_config_written(struct pci_function *fn, unsigned offset, unsigned size)
{
	struct fake_fn *f = fn->opaque;

	(void)offset;
	(void)size;
	f->config_writes++;
}

static void fake_release(struct pci_function *fn)
{
	((struct fake_fn *)fn->opaque)->released = true;
}

static const struct pci_function_ops fake_ops = {
	.bar_access = fake_bar_access,
	.bar_moved = fake_bar_moved,
	.config_written = fake_config_written,
	.release = fake_release,
};

static int bus_setup(void **state)
{
	static const unsigned lines[] = { LINE_A, LINE_B };
	struct errmsg e;

	(void)state;
	pio = &bus_pio;
	mmio = &bus_mmio;
	io_bus_init(pio, "port");
	io_bus_init(mmio, "MMIO");
	pci_bus_init(&bus, lines, 2);
	assert_int_equal(pci_bus_register(&bus, pio, mmio, &e), 0);
	return 0;
}

static int bus_teardown(void **state)
{
	(void)state;
	pci_bus_exit(&bus);
	return 0;
}

static uint32_t port_in(uint16_t port, unsigned size)
{
	uint8_t d[4] = { 0 };

	io_bus_access(pio, port, d, size, false);
	return (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
}

static void port_out(uint16_t port, unsigned size, uint32_t v)
{
	uint8_t d[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	io_bus_access(pio, port, d, size, true);
}

static uint32_t conf1(unsigned busno, unsigned slot, unsigned reg)
{
	return 0x80000000u | busno << 16 | slot << 11 | (reg & 0xFC);
}

/* A configuration read as Linux's pci_conf1_read does it: address, then the data port at reg & 3. */
static uint32_t cfg_rd(unsigned slot, unsigned reg, unsigned size)
{
	port_out(0xCF8, 4, conf1(0, slot, reg));
	return port_in((uint16_t)(0xCFC + (reg & 3)), size);
}

static void cfg_wr(unsigned slot, unsigned reg, unsigned size, uint32_t v)
{
	port_out(0xCF8, 4, conf1(0, slot, reg));
	port_out((uint16_t)(0xCFC + (reg & 3)), size, v);
}

static uint32_t mem_rd(uint64_t addr, unsigned size)
{
	uint8_t d[8] = { 0 };
	uint32_t v;

	io_bus_access(mmio, addr, d, size, false);
	memcpy(&v, d, sizeof(v));
	return size == 1 ? d[0] : size == 2 ? (v & 0xFFFF) : v;
}

static void mem_wr(uint64_t addr, unsigned size, uint64_t v)
{
	io_bus_access(mmio, addr, (uint8_t *)&v, size, true);
}

static void add_fake(struct fake_fn *f, uint32_t bar_size)
{
	struct errmsg e;

	memset(f, 0, sizeof(*f));
	pci_function_init(&f->fn, 0x1234, 0x5678, 0xFF0000, 3);
	f->fn.ops = &fake_ops;
	f->fn.opaque = f;
	assert_int_equal(pci_function_add_bar(&f->fn, 0, bar_size), 0);
	assert_int_equal(pci_bus_add(&bus, &f->fn, &e), 0);
}

static void test_config_mechanism(void **state)
{
	(void)state;
	/* Linux's pci_check_type1: a byte to 0xCFB, then 0x80000000 must read back from 0xCF8. */
	port_out(0xCFB, 1, 0x01);
	port_out(0xCF8, 4, 0x80000000);
	assert_int_equal(port_in(0xCF8, 4), 0x80000000);
	port_out(0xCF8, 4, 0x80000003);
	assert_int_equal(port_in(0xCF8, 4), 0x80000000);

	/* The host bridge, read whole and in pieces (pci_sanity_check reads the class as a word). */
	assert_int_equal(cfg_rd(0, PCI_VENDOR_ID, 4), 0x00081B36);
	assert_int_equal(cfg_rd(0, PCI_VENDOR_ID, 2), 0x1B36);
	assert_int_equal(cfg_rd(0, PCI_DEVICE_ID, 2), 0x0008);
	assert_int_equal(cfg_rd(0, PCI_CLASS_DEVICE, 2), 0x0600);
	assert_int_equal(cfg_rd(0, PCI_CLASS_PROG, 1), 0);
	assert_int_equal(cfg_rd(0, PCI_HEADER_TYPE, 1), 0);

	/* Empty slots, other buses and functions, disabled or extended addresses read as all ones. */
	assert_int_equal(cfg_rd(SLOT1, PCI_VENDOR_ID, 4), 0xFFFFFFFF);
	assert_int_equal(cfg_rd(31, PCI_VENDOR_ID, 2), 0xFFFF);
	port_out(0xCF8, 4, conf1(1, 0, 0));
	assert_int_equal(port_in(0xCFC, 4), 0xFFFFFFFF);
	port_out(0xCF8, 4, conf1(0, 0, 0) | 1 << 8);
	assert_int_equal(port_in(0xCFC, 4), 0xFFFFFFFF);
	port_out(0xCF8, 4, conf1(0, 0, 0) & ~0x80000000u);
	assert_int_equal(port_in(0xCFC, 4), 0xFFFFFFFF);
	port_out(0xCF8, 4, conf1(0, 0, 0) | 1 << 24);
	assert_int_equal(port_in(0xCFC, 4), 0xFFFFFFFF);
	/* A dword read that would run past 0xCFF. */
	port_out(0xCF8, 4, conf1(0, 0, 0));
	assert_int_equal(port_in(0xCFE, 4), 0xFFFFFFFF);

	/* The host bridge ignores writes. */
	cfg_wr(0, PCI_VENDOR_ID, 4, 0);
	cfg_wr(0, PCI_COMMAND, 2, 0xFFFF);
	assert_int_equal(cfg_rd(0, PCI_VENDOR_ID, 4), 0x00081B36);
	assert_int_equal(cfg_rd(0, PCI_COMMAND, 2), 0);
}

static void test_function_header(void **state)
{
	struct fake_fn *f = &fakes[1];
	(void)state;

	add_fake(f, 0x1000);
	assert_int_equal(f->fn.slot, SLOT1);
	assert_int_equal(f->fn.gsi, LINE_B);  /* lines[slot % 2] */
	assert_int_equal(cfg_rd(SLOT1, PCI_VENDOR_ID, 4), 0x56781234);
	assert_int_equal(cfg_rd(SLOT1, PCI_REVISION_ID, 4), 0xFF000003);
	assert_int_equal(cfg_rd(SLOT1, PCI_INTERRUPT_LINE, 2), 0x0100 | LINE_B);
	assert_int_equal(cfg_rd(SLOT1, PCI_STATUS, 2), 0);

	/* Only the writable bits change; the guest may write the interrupt line. */
	cfg_wr(SLOT1, PCI_COMMAND, 2, 0xFFFF);
	assert_int_equal(cfg_rd(SLOT1, PCI_COMMAND, 2),
			 PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
	cfg_wr(SLOT1, PCI_INTERRUPT_LINE, 1, 0x0B);
	assert_int_equal(cfg_rd(SLOT1, PCI_INTERRUPT_LINE, 2), 0x010B);
	cfg_wr(SLOT1, PCI_VENDOR_ID, 4, 0);
	assert_int_equal(cfg_rd(SLOT1, PCI_VENDOR_ID, 4), 0x56781234);
	assert_true(f->config_writes >= 3);

	pci_bus_exit(&bus);
	assert_true(f->released);
	bus_setup(state);
}

static void test_bar_sizing_and_decoding(void **state)
{
	struct fake_fn *a = &fakes[1], *b = &fakes[2];
	(void)state;

	add_fake(a, 0x8000);
	add_fake(b, 0x1000);
	/* Placed in the window, aligned, before anything decodes. */
	assert_int_equal(cfg_rd(1, PCI_BASE_ADDRESS_0, 4), 0xC0000000);
	assert_int_equal(cfg_rd(2, PCI_BASE_ADDRESS_0, 4), 0xC0008000);
	assert_int_equal(cfg_rd(1, PCI_BASE_ADDRESS_1, 4), 0);
	assert_int_equal(a->moves, 0);
	assert_int_equal(mem_rd(0xC0000010, 4), 0xFFFFFFFF);
	assert_int_equal(a->accesses, 0);

	/* Sizing: all ones reads back the size mask (32-bit, non-prefetchable memory: low bits 0). */
	cfg_wr(1, PCI_BASE_ADDRESS_0, 4, 0xFFFFFFFF);
	assert_int_equal(cfg_rd(1, PCI_BASE_ADDRESS_0, 4), 0xFFFF8000);
	cfg_wr(1, PCI_BASE_ADDRESS_1, 4, 0xFFFFFFFF);
	assert_int_equal(cfg_rd(1, PCI_BASE_ADDRESS_1, 4), 0);
	cfg_wr(1, PCI_BASE_ADDRESS_0, 4, 0xC0000000);
	assert_int_equal(a->moves, 0);

	/* Memory space on: the BAR decodes, and its function learns where. */
	cfg_wr(1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	assert_int_equal(a->moves, 1);
	assert_int_equal(a->moved_from, 0);
	assert_int_equal(a->moved_to, 0xC0000000);
	assert_int_equal(mem_rd(0xC0000010, 4), 0x5a5a5a5a);
	assert_int_equal(a->accesses, 1);
	assert_int_equal(a->offset, 0x10);
	mem_wr(0xC0007FFE, 2, 0);
	assert_int_equal(a->accesses, 2);
	assert_int_equal(a->offset, 0x7FFE);
	/* b has memory space off: its range is still dead. */
	assert_int_equal(mem_rd(0xC0008000, 4), 0xFFFFFFFF);
	assert_int_equal(b->accesses, 0);

	/* A move inside the window follows; the old address goes dead. */
	cfg_wr(1, PCI_BASE_ADDRESS_0, 4, 0xC0100000);
	assert_int_equal(a->moves, 2);
	assert_int_equal(a->moved_from, 0xC0000000);
	assert_int_equal(a->moved_to, 0xC0100000);
	assert_int_equal(mem_rd(0xC0000010, 4), 0xFFFFFFFF);
	assert_int_equal(mem_rd(0xC0100020, 2), 0x5a5a);
	assert_int_equal(a->offset, 0x20);

	/* Outside the window (or during sizing) the BAR does not decode at all. */
	cfg_wr(1, PCI_BASE_ADDRESS_0, 4, 0xE0000000);
	assert_int_equal(a->moved_to, 0);
	cfg_wr(1, PCI_BASE_ADDRESS_0, 4, 0xFFFFFFFF);
	assert_int_equal(a->moves, 3);
	cfg_wr(1, PCI_BASE_ADDRESS_0, 4, 0xCFFF8000);
	assert_int_equal(a->moved_to, 0xCFFF8000);
	cfg_wr(1, PCI_COMMAND, 2, 0);
	assert_int_equal(a->moved_to, 0);
	assert_int_equal(mem_rd(0xCFFF8000, 4), 0xFFFFFFFF);
}

static void test_bus_full(void **state)
{
	struct fake_fn *f = fakes;
	struct errmsg e;
	(void)state;

	for (unsigned i = 1; i < PCI_SLOTS; i++)
		add_fake(&f[i], 0x1000);
	memset(&f[0], 0, sizeof(f[0]));
	pci_function_init(&f[0].fn, 1, 2, 0, 0);
	assert_int_equal(pci_bus_add(&bus, &f[0].fn, &e), -ENOSPC);
	assert_int_equal(cfg_rd(PCI_SLOTS - 1, PCI_VENDOR_ID, 2), 0x1234);
	assert_int_equal(cfg_rd(PCI_SLOTS, PCI_VENDOR_ID, 2), 0xFFFF);
	/* INTA of slot s is lines[s % 2]. */
	assert_int_equal(f[2].fn.gsi, LINE_A);
	assert_int_equal(f[3].fn.gsi, LINE_B);
}

static void test_bad_bars_and_caps(void **state)
{
	struct pci_function fn;
	(void)state;

	pci_function_init(&fn, 1, 2, 0, 0);
	assert_int_equal(pci_function_add_bar(&fn, 6, 0x1000), -EINVAL);
	assert_int_equal(pci_function_add_bar(&fn, 0, 0x1800), -EINVAL);
	assert_int_equal(pci_function_add_bar(&fn, 0, 8), -EINVAL);
	assert_int_equal(pci_function_add_cap(&fn, 0x09, 0x83), 0x40);
	assert_int_equal(pci_function_add_cap(&fn, 0x09, 0x40), -ENOSPC);
	assert_int_equal(pci_function_add_cap(&fn, 0x11, 0x3C), 0xC4);  /* dword-aligned after the first */
	assert_int_equal(pci_function_add_cap(&fn, 0x09, 2), -ENOSPC);
	assert_int_equal(pci_cfg_read(&fn, PCI_CAPABILITY_LIST, 1), 0x40);
	assert_int_equal(pci_cfg_read(&fn, 0x40, 2), 0xC409);
	assert_int_equal(pci_cfg_read(&fn, 0xC4, 2), 0x0011);
}

static void test_acpi_description(void **state)
{
	static uint8_t out[4096];
	/* Name (_CRS, ResourceTemplate () { WordBusNumber 0-0, WordIO 0-0xCF7, IO 0xCF8 x8, WordIO 0xD00-0xFFFF,
	   DWordMemory 0xC0000000-0xCFFFFFFF }), per ACPI 6.x 6.4.3.5 (84 bytes of descriptors). */
	static const uint8_t crs[] = {
		0x08, '_', 'C', 'R', 'S', 0x11, 0x48, 0x05, 0x0A, 0x54,
		0x88, 0x0D, 0x00, 0x02, 0x0C, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
		0x88, 0x0D, 0x00, 0x01, 0x0C, 0x03, 0x00, 0x00, 0x00, 0x00, 0xF7, 0x0C, 0x00, 0x00, 0xF8, 0x0C,
		0x47, 0x01, 0xF8, 0x0C, 0xF8, 0x0C, 0x01, 0x08,
		0x88, 0x0D, 0x00, 0x01, 0x0C, 0x03, 0x00, 0x00, 0x00, 0x0D, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0xF3,
		0x87, 0x17, 0x00, 0x00, 0x0C, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC0,
		0xFF, 0xFF, 0xFF, 0xCF, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
		0x79, 0x00,
	};
	/* The first _PRT row: Package () { 0x0001FFFF, Zero, Zero, 17 } (slot 1 INTA: lines[1]). */
	static const uint8_t prt_row0[] = { 0x12, 0x0B, 0x04, 0x0C, 0xFF, 0xFF, 0x01, 0x00, 0x00, 0x00, 0x0A, LINE_B };
	struct aml a;
	int n;
	(void)state;

	aml_init(&a, out, sizeof(out));
	assert_int_equal(pci_bus_describe(&bus, &a), 0);
	n = aml_finish(&a);
	assert_true(n > 0);
	assert_non_null(memmem(out, (size_t)n, "PCI0", 4));
	assert_non_null(memmem(out, (size_t)n, "\x08_HID\x0C\x41\xD0\x0A\x03", 10));
	assert_non_null(memmem(out, (size_t)n, crs, sizeof(crs)));
	assert_non_null(memmem(out, (size_t)n, "\x08_PRT\x12", 6));
	assert_non_null(memmem(out, (size_t)n, prt_row0, sizeof(prt_row0)));
}

/* --- The virtio-pci transport over a bus made by the registered host bridge --- */

#define NR_QUEUES 2
#define VP_BAR_ADDR 0xC0000000u
#define COMMON(f) (VP_BAR_ADDR + offsetof(struct virtio_pci_common_cfg, f))
#define ISR_ADDR (VP_BAR_ADDR + 0x1000)
#define DEVCFG_ADDR (VP_BAR_ADDR + 0x2000)
#define NOTIFY_ADDR (VP_BAR_ADDR + 0x3000)
#define MSIX_TABLE (VP_BAR_ADDR + 0x4000)
#define MSIX_PBA (VP_BAR_ADDR + 0x5000)

/* The PCI host bridge on the fake host, and a device with the core's state on it (no I/O thread runs). */
static struct fake_host f;
static uint8_t ram[4096];
static struct virtio_dev dev;
static uint8_t config[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
static const struct virtio_dev_ops dev_ops;

static int vp_setup(void **state)
{
	struct errmsg e;

	(void)state;
	memset(&f.cfg, 0, sizeof(f.cfg));
	f.cfg.transport = VIRTIO_TRANSPORT_PCI;
	if (fake_host_init(&f, ram, sizeof(ram)) || fake_host_add(&f, "pci") ||
	    fake_host_virtio_dev(&f, &dev, &dev_ops, VIRTIO_ID_BLOCK, NR_QUEUES, config, sizeof(config)))
		return -1;
	assert_int_equal(virtio_pci_attach(&f.host, &dev, &e), 0);
	pio = &f.pio;
	mmio = &f.mmio;
	return 0;
}

static int vp_teardown(void **state)
{
	(void)state;
	/* The bus releases the function (which uses dev) before dev goes. */
	devices_exit(&f.devices);
	virtio_dev_remove(&dev);
	pthread_mutex_destroy(&dev.lock);
	fake_host_exit(&f);
	return 0;
}

static void memory_on(void)
{
	cfg_wr(SLOT1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

static void test_vp_identity_and_caps(void **state)
{
	static const uint8_t want_types[] = { VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_CAP_ISR_CFG,
					      VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_CAP_NOTIFY_CFG };
	unsigned cap, n = 0;
	bool msix = false;
	(void)state;

	assert_string_equal(dev.transport->name, "pci");
	assert_ptr_equal(pci_bus_of(&f.host), f.devices.devices[0].data);
	assert_int_equal(cfg_rd(SLOT1, PCI_VENDOR_ID, 4), (0x1040 + VIRTIO_ID_BLOCK) << 16 | 0x1AF4);
	assert_int_equal(cfg_rd(SLOT1, PCI_REVISION_ID, 4), 0x01800001);
	assert_int_equal(cfg_rd(SLOT1, PCI_SUBSYSTEM_VENDOR_ID, 2), 0x1AF4);
	assert_int_equal(cfg_rd(SLOT1, PCI_BASE_ADDRESS_0, 4), VP_BAR_ADDR);
	assert_true(cfg_rd(SLOT1, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	assert_int_equal(cfg_rd(SLOT1, PCI_INTERRUPT_PIN, 1), 1);

	/* Walk the chain as the driver does. */
	for (cap = cfg_rd(SLOT1, PCI_CAPABILITY_LIST, 1); cap; cap = cfg_rd(SLOT1, cap + PCI_CAP_LIST_NEXT, 1)) {
		assert_true(cap >= 0x40 && cap < 0x100 && cap % 4 == 0);
		if (cfg_rd(SLOT1, cap, 1) == PCI_CAP_ID_MSIX) {
			msix = true;
			assert_int_equal(cfg_rd(SLOT1, cap + PCI_MSIX_FLAGS, 2), NR_QUEUES);  /* table size - 1 */
			assert_int_equal(cfg_rd(SLOT1, cap + PCI_MSIX_TABLE, 4), 0x4000);
			assert_int_equal(cfg_rd(SLOT1, cap + PCI_MSIX_PBA, 4), 0x5000);
			continue;
		}
		assert_int_equal(cfg_rd(SLOT1, cap, 1), PCI_CAP_ID_VNDR);
		assert_true(n < sizeof(want_types));
		assert_int_equal(cfg_rd(SLOT1, cap + VIRTIO_PCI_CAP_CFG_TYPE, 1), want_types[n]);
		assert_int_equal(cfg_rd(SLOT1, cap + VIRTIO_PCI_CAP_BAR, 1), 0);
		switch (want_types[n]) {
		case VIRTIO_PCI_CAP_COMMON_CFG:
			assert_int_equal(cfg_rd(SLOT1, cap + VIRTIO_PCI_CAP_OFFSET, 4), 0);
			assert_int_equal(cfg_rd(SLOT1, cap + VIRTIO_PCI_CAP_LENGTH, 4),
					 sizeof(struct virtio_pci_common_cfg));
			break;
		case VIRTIO_PCI_CAP_DEVICE_CFG:
			assert_int_equal(cfg_rd(SLOT1, cap + VIRTIO_PCI_CAP_LENGTH, 4), sizeof(config));
			break;
		case VIRTIO_PCI_CAP_NOTIFY_CFG:
			assert_int_equal(cfg_rd(SLOT1, cap + VIRTIO_PCI_CAP_LEN, 1), sizeof(struct virtio_pci_notify_cap));
			assert_int_equal(cfg_rd(SLOT1, cap + VIRTIO_PCI_CAP_OFFSET, 4), 0x3000);
			assert_int_equal(cfg_rd(SLOT1, cap + offsetof(struct virtio_pci_notify_cap,
								       notify_off_multiplier), 4), 4);
			break;
		}
		n++;
	}
	assert_int_equal(n, sizeof(want_types));
	assert_true(msix);
}

static void test_vp_common_config(void **state)
{
	(void)state;
	memory_on();
	mem_wr(COMMON(device_feature_select), 4, 0);
	assert_int_equal(mem_rd(COMMON(device_feature), 4), 0x30000005);
	mem_wr(COMMON(device_feature_select), 4, 1);
	assert_int_equal(mem_rd(COMMON(device_feature), 4), 1);  /* VERSION_1 is bit 32 */
	assert_int_equal(mem_rd(COMMON(num_queues), 2), NR_QUEUES);

	mem_wr(COMMON(device_status), 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	mem_wr(COMMON(guest_feature_select), 4, 0);
	mem_wr(COMMON(guest_feature), 4, 0x4);
	mem_wr(COMMON(guest_feature_select), 4, 1);
	mem_wr(COMMON(guest_feature), 4, 1);
	assert_int_equal(mem_rd(COMMON(guest_feature), 4), 1);
	assert_int_equal(dev.driver_features, (1ULL << 32) | 0x4);
	mem_wr(COMMON(device_status), 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
					 VIRTIO_CONFIG_S_FEATURES_OK);
	assert_int_equal(mem_rd(COMMON(device_status), 1), 0xB);

	/* Queue 1's set-up, field by field; 64-bit addresses in halves. */
	mem_wr(COMMON(queue_select), 2, 1);
	assert_int_equal(mem_rd(COMMON(queue_size), 2), VIRTQ_SIZE_MAX);
	assert_int_equal(mem_rd(COMMON(queue_notify_off), 2), 1);
	mem_wr(COMMON(queue_size), 2, 64);
	mem_wr(COMMON(queue_size), 2, VIRTQ_SIZE_MAX + 1);
	assert_int_equal(mem_rd(COMMON(queue_size), 2), 64);
	mem_wr(COMMON(queue_msix_vector), 2, 2);
	assert_int_equal(mem_rd(COMMON(queue_msix_vector), 2), 2);
	mem_wr(COMMON(queue_msix_vector), 2, NR_QUEUES + 1);  /* past the table: refused */
	assert_int_equal(mem_rd(COMMON(queue_msix_vector), 2), VIRTIO_NO_VECTOR);
	mem_wr(COMMON(queue_msix_vector), 2, 1);
	mem_wr(COMMON(queue_desc_lo), 4, 0x1000);
	mem_wr(COMMON(queue_desc_hi), 4, 0x2);
	mem_wr(COMMON(queue_avail_lo), 8, 0x300004000ULL);
	mem_wr(COMMON(queue_used_lo), 4, 0x5000);
	assert_int_equal(dev.vqs[1].desc_gpa, 0x200001000ULL);
	assert_int_equal(dev.vqs[1].avail_gpa, 0x300004000ULL);
	assert_int_equal(dev.vqs[1].used_gpa, 0x5000);
	assert_int_equal(mem_rd(COMMON(queue_desc_hi), 4), 2);
	assert_int_equal(mem_rd(COMMON(queue_avail_lo), 4), 0x4000);
	mem_wr(COMMON(queue_enable), 2, 1);
	assert_int_equal(mem_rd(COMMON(queue_enable), 2), 1);
	assert_true(dev.vqs[1].enabled);
	/* Enabled: set-up writes are ignored. */
	mem_wr(COMMON(queue_size), 2, 16);
	mem_wr(COMMON(queue_desc_lo), 4, 0);
	assert_int_equal(dev.vqs[1].size, 64);
	assert_int_equal(dev.vqs[1].desc_gpa, 0x200001000ULL);
	assert_int_equal(dev.vqs[0].size, VIRTQ_SIZE_MAX);

	/* A queue that does not exist reads as size 0. */
	mem_wr(COMMON(queue_select), 2, NR_QUEUES);
	assert_int_equal(mem_rd(COMMON(queue_size), 2), 0);
	mem_wr(COMMON(queue_enable), 2, 1);

	mem_wr(COMMON(msix_config), 2, 0);
	assert_int_equal(mem_rd(COMMON(msix_config), 2), 0);
	dev.config_generation = 7;
	assert_int_equal(mem_rd(COMMON(config_generation), 1), 7);

	/* Reset: status reads back 0 at once, queues and vectors are back to their defaults. */
	mem_wr(COMMON(device_status), 1, 0);
	assert_int_equal(mem_rd(COMMON(device_status), 1), 0);
	assert_int_equal(mem_rd(COMMON(msix_config), 2), VIRTIO_NO_VECTOR);
	assert_int_equal(mem_rd(COMMON(queue_select), 2), 0);
	mem_wr(COMMON(queue_select), 2, 1);
	assert_int_equal(mem_rd(COMMON(queue_size), 2), VIRTQ_SIZE_MAX);
	assert_int_equal(mem_rd(COMMON(queue_enable), 2), 0);
	assert_int_equal(mem_rd(COMMON(queue_msix_vector), 2), VIRTIO_NO_VECTOR);
}

static void test_vp_device_config_isr_notify(void **state)
{
	uint64_t count = 0;
	(void)state;

	memory_on();
	assert_int_equal(mem_rd(DEVCFG_ADDR, 4), 0x04030201);
	assert_int_equal(mem_rd(DEVCFG_ADDR + 6, 2), 0x0807);
	assert_int_equal(mem_rd(DEVCFG_ADDR + 6, 4), 0);  /* past the end */

	/* Without KVM the ioeventfd is missing, so the kick reaches the handler, which signals the same eventfd. */
	mem_wr(NOTIFY_ADDR + 4, 2, 1);
	assert_int_equal(read(dev.kick_fd[1], &count, sizeof(count)), sizeof(count));
	assert_int_equal(count, 1);
	assert_int_equal(read(dev.kick_fd[0], &count, sizeof(count)), -1);

	/* INTx (MSI-X off): the ISR byte is read-to-clear. */
	pthread_mutex_lock(&dev.lock);
	dev.isr |= VIRTIO_ISR_QUEUE;
	dev.transport->interrupt(&dev, 0);
	pthread_mutex_unlock(&dev.lock);
	assert_int_equal(mem_rd(ISR_ADDR, 1), VIRTIO_ISR_QUEUE);
	assert_int_equal(mem_rd(ISR_ADDR, 1), 0);
	/* Outside every structure: reads 0. */
	assert_int_equal(mem_rd(VP_BAR_ADDR + 0x7000, 4), 0);
}

static void test_vp_msix(void **state)
{
	uint64_t signals;
	unsigned cap;
	(void)state;

	memory_on();
	for (cap = cfg_rd(SLOT1, PCI_CAPABILITY_LIST, 1); cfg_rd(SLOT1, cap, 1) != PCI_CAP_ID_MSIX;
	     cap = cfg_rd(SLOT1, cap + PCI_CAP_LIST_NEXT, 1))
		assert_true(cap);

	/* Every entry starts masked; the table reads back what was written, reserved control bits stay 0. */
	for (unsigned v = 0; v <= NR_QUEUES; v++)
		assert_int_equal(mem_rd(MSIX_TABLE + 16 * v + PCI_MSIX_ENTRY_VECTOR_CTRL, 4), 1);
	mem_wr(MSIX_TABLE + 16 + PCI_MSIX_ENTRY_LOWER_ADDR, 4, 0xFEE00000);
	mem_wr(MSIX_TABLE + 16 + PCI_MSIX_ENTRY_UPPER_ADDR, 4, 0);
	mem_wr(MSIX_TABLE + 16 + PCI_MSIX_ENTRY_DATA, 4, 0x4031);
	mem_wr(MSIX_TABLE + 16 + PCI_MSIX_ENTRY_VECTOR_CTRL, 4, 0xFFFFFFFF);
	assert_int_equal(mem_rd(MSIX_TABLE + 16 + PCI_MSIX_ENTRY_LOWER_ADDR, 4), 0xFEE00000);
	assert_int_equal(mem_rd(MSIX_TABLE + 16 + PCI_MSIX_ENTRY_DATA, 4), 0x4031);
	assert_int_equal(mem_rd(MSIX_TABLE + 16 + PCI_MSIX_ENTRY_VECTOR_CTRL, 4), 1);

	/* Enable MSI-X with the function masked, as Linux does first. */
	cfg_wr(SLOT1, cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL | 0x7FF);
	assert_int_equal(cfg_rd(SLOT1, cap + PCI_MSIX_FLAGS, 2),
			 PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL | NR_QUEUES);
	cfg_wr(SLOT1, cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);

	/* A masked vector's interrupt waits in the pending bits. */
	mem_wr(COMMON(queue_select), 2, 0);
	mem_wr(COMMON(queue_msix_vector), 2, 1);
	pthread_mutex_lock(&dev.lock);
	dev.isr |= VIRTIO_ISR_QUEUE;
	dev.transport->interrupt(&dev, 0);
	dev.transport->interrupt(&dev, VIRTIO_CONFIG_IRQ);  /* msix_config: no vector, nothing pending */
	pthread_mutex_unlock(&dev.lock);
	assert_int_equal(mem_rd(MSIX_PBA, 4), 0x2);
	mem_wr(MSIX_PBA, 4, 0);
	assert_int_equal(mem_rd(MSIX_PBA, 4), 0x2);

	/* Unmasking sends it: the host got the route as programmed and an irqfd on its GSI, signalled once. */
	mem_wr(MSIX_TABLE + 16 + PCI_MSIX_ENTRY_VECTOR_CTRL, 4, 0);
	assert_int_equal(mem_rd(MSIX_PBA, 4), 0);
	assert_int_equal(f.nr_msi, 1);
	assert_int_equal(f.msi[0].address, 0xFEE00000);
	assert_int_equal(f.msi[0].data, 0x4031);
	assert_int_equal(f.nr_irqfds, 1);
	assert_int_equal(f.irqfds[0].gsi, IRQ_MSI_FIRST);
	assert_true(f.irqfds[0].assign);
	assert_int_equal(read(f.irqfds[0].fd, &signals, sizeof(signals)), sizeof(signals));
	assert_int_equal(signals, 1);

	/* The function mask holds interrupts back as well. */
	cfg_wr(SLOT1, cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	pthread_mutex_lock(&dev.lock);
	dev.transport->interrupt(&dev, 0);
	pthread_mutex_unlock(&dev.lock);
	assert_int_equal(mem_rd(MSIX_PBA, 4), 0x2);
	cfg_wr(SLOT1, cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(mem_rd(MSIX_PBA, 4), 0);

	/* With MSI-X on, the ISR is not where interrupts go. */
	assert_int_equal(mem_rd(ISR_ADDR, 1), VIRTIO_ISR_QUEUE);
}

static void test_vp_no_bus(void **state)
{
	static struct fake_host bare;
	struct errmsg e;
	(void)state;

	memset(&bare.cfg, 0, sizeof(bare.cfg));
	assert_int_equal(fake_host_init(&bare, ram, sizeof(ram)), 0);
	assert_null(pci_bus_of(&bare.host));
	assert_int_equal(virtio_pci_attach(&bare.host, &dev, &e), -ENODEV);
	fake_host_exit(&bare);
}

/* --- Interrupt routing bookkeeping (no KVM: route changes fail and roll back) --- */

static void test_irq_lines_and_msi(void **state)
{
	struct irq_routing *r = NULL;
	struct errmsg e;
	(void)state;

	assert_int_equal(irq_alloc_line(NULL), -ENODEV);
	assert_int_equal(irq_irqfd(NULL, 0, IRQ_MSI_FIRST, true), -ENODEV);
	assert_int_equal(irq_init(&r, -1, &e), 0);
	for (int line = IRQ_LINE_FIRST; line <= IRQ_LINE_LAST; line++)
		assert_int_equal(irq_alloc_line(r), line);
	assert_int_equal(irq_alloc_line(r), -ENOSPC);
	assert_int_equal(irq_alloc_msi(r, 0xFEE00000, 0x31), -EBADF);
	assert_int_equal(irq_set_msi(r, IRQ_MSI_FIRST, 0xFEE00000, 0x31), -EINVAL);
	assert_int_equal(irq_set_msi(r, 5, 0xFEE00000, 0x31), -EINVAL);
	assert_int_equal(irq_irqfd(r, 0, IRQ_MSI_FIRST, true), -EBADF);
	irq_exit(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config_mechanism, bus_setup, bus_teardown),
		cmocka_unit_test_setup_teardown(test_function_header, bus_setup, bus_teardown),
		cmocka_unit_test_setup_teardown(test_bar_sizing_and_decoding, bus_setup, bus_teardown),
		cmocka_unit_test_setup_teardown(test_bus_full, bus_setup, bus_teardown),
		cmocka_unit_test(test_bad_bars_and_caps),
		cmocka_unit_test_setup_teardown(test_acpi_description, bus_setup, bus_teardown),
		cmocka_unit_test_setup_teardown(test_vp_identity_and_caps, vp_setup, vp_teardown),
		cmocka_unit_test_setup_teardown(test_vp_common_config, vp_setup, vp_teardown),
		cmocka_unit_test_setup_teardown(test_vp_device_config_isr_notify, vp_setup, vp_teardown),
		cmocka_unit_test_setup_teardown(test_vp_msix, vp_setup, vp_teardown),
		cmocka_unit_test_setup_teardown(test_vp_no_bus, vp_setup, vp_teardown),
		cmocka_unit_test(test_irq_lines_and_msi),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
