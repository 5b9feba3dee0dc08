// SPDX-License-Identifier: Apache-2.0
/* PCI bus 0 and its host bridge; see include/devices/pci.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/pci_regs.h>

#include "boot/aml.h"
#include "device.h"
#include "devices/pci.h"
#include "io_bus.h"
#include "irq.h"
#include "state.h"

/* The 0xCF8 register: enable, (AMD) extended register bits 27:24, bus, device, function, dword. */
#define CONF1_ENABLE 0x80000000u
#define CONF1_WRITABLE 0x8FFFFFFCu
#define CONF1_EXT_REG(a) (((a) >> 24) & 0xF)
#define CONF1_BUS(a) (((a) >> 16) & 0xFF)
#define CONF1_SLOT(a) (((a) >> 11) & 0x1F)
#define CONF1_FUNC(a) (((a) >> 8) & 0x7)
#define CONF1_REG(a) ((a) & 0xFC)

/* A virtual host bridge: Red Hat's id for QEMU's generic one; Linux only needs the class. */
#define HOST_BRIDGE_VENDOR 0x1B36
#define HOST_BRIDGE_DEVICE 0x0008
#define CLASS_HOST_BRIDGE 0x060000

#define BAR_MEM_FLAGS_MASK 0xFu
#define PCI_INTA 1

uint32_t pci_cfg_read(const struct pci_function *fn, unsigned offset, unsigned size)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < size && offset + i < PCI_CONFIG_SPACE; i++)
		v |= (uint32_t)fn->cfg[offset + i] << (8 * i);
	return v;
}

void pci_cfg_set(struct pci_function *fn, unsigned offset, unsigned size, uint32_t value)
{
	for (unsigned i = 0; i < size && offset + i < PCI_CONFIG_SPACE; i++)
		fn->cfg[offset + i] = (uint8_t)(value >> (8 * i));
}

void pci_cfg_set_wmask(struct pci_function *fn, unsigned offset, unsigned size, uint32_t mask)
{
	for (unsigned i = 0; i < size && offset + i < PCI_CONFIG_SPACE; i++)
		fn->wmask[offset + i] = (uint8_t)(mask >> (8 * i));
}

void pci_function_init(struct pci_function *fn, uint16_t vendor, uint16_t device, uint32_t class_code,
		       uint8_t revision)
{
	memset(fn->cfg, 0, sizeof(fn->cfg));
	memset(fn->wmask, 0, sizeof(fn->wmask));
	memset(fn->bar_size, 0, sizeof(fn->bar_size));
	memset(fn->bar_addr, 0, sizeof(fn->bar_addr));
	pci_cfg_set(fn, PCI_VENDOR_ID, 2, vendor);
	pci_cfg_set(fn, PCI_DEVICE_ID, 2, device);
	pci_cfg_set(fn, PCI_REVISION_ID, 1, revision);
	pci_cfg_set(fn, PCI_CLASS_PROG, 3, class_code);
	pci_cfg_set(fn, PCI_HEADER_TYPE, 1, PCI_HEADER_TYPE_NORMAL);
	pci_cfg_set(fn, PCI_INTERRUPT_PIN, 1, PCI_INTA);
	pci_cfg_set_wmask(fn, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
	pci_cfg_set_wmask(fn, PCI_INTERRUPT_LINE, 1, 0xFF);
	fn->cap_end = PCI_STD_HEADER_SIZEOF;
}

int pci_function_add_bar(struct pci_function *fn, unsigned bar, uint32_t size)
{
	if (bar >= PCI_BAR_COUNT || size < 16 || (size & (size - 1)))
		return -EINVAL;
	fn->bar_size[bar] = size;
	/* The low bits read as 0 whatever is written: sizing reads back ~(size - 1), flags 0 (32-bit memory). */
	pci_cfg_set_wmask(fn, PCI_BASE_ADDRESS_0 + 4 * bar, 4, ~(size - 1));
	return 0;
}

int pci_function_add_cap(struct pci_function *fn, uint8_t id, unsigned len)
{
	unsigned at = fn->cap_end, link = PCI_CAPABILITY_LIST;

	if (len < 2 || at + len > PCI_CONFIG_SPACE)
		return -ENOSPC;
	/* Append: follow the chain to its last entry. */
	while (fn->cfg[link])
		link = fn->cfg[link] + PCI_CAP_LIST_NEXT;
	fn->cfg[link] = (uint8_t)at;
	fn->cfg[at + PCI_CAP_LIST_ID] = id;
	fn->cfg[at + PCI_CAP_LIST_NEXT] = 0;
	fn->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	fn->cap_end = (at + len + 3) & ~3u;
	return (int)at;
}

void pci_bus_init(struct pci_bus *bus, const unsigned *lines, unsigned nr_lines)
{
	memset(bus, 0, sizeof(*bus));
	pthread_mutex_init(&bus->lock, NULL);
	bus->next_bar = PCI_MMIO_WINDOW;
	bus->nr_lines = nr_lines < PCI_INTX_LINES ? nr_lines : PCI_INTX_LINES;
	memcpy(bus->lines, lines, bus->nr_lines * sizeof(*lines));
	bus->log = (struct log_limit)LOG_LIMIT("PCI accesses", 8);
	pci_function_init(&bus->host_bridge, HOST_BRIDGE_VENDOR, HOST_BRIDGE_DEVICE, CLASS_HOST_BRIDGE, 0);
	pci_cfg_set(&bus->host_bridge, PCI_INTERRUPT_PIN, 1, 0);
	pci_cfg_set_wmask(&bus->host_bridge, PCI_COMMAND, 2, 0);
	bus->slots[0] = &bus->host_bridge;
}

void pci_bus_exit(struct pci_bus *bus)
{
	for (unsigned s = 1; s < PCI_SLOTS; s++) {
		struct pci_function *fn = bus->slots[s];

		bus->slots[s] = NULL;
		if (fn && fn->ops && fn->ops->release)
			fn->ops->release(fn);
	}
	pthread_mutex_destroy(&bus->lock);
}

/* With the bus lock: recomputes where each BAR decodes after a command or BAR write. */
static void pci_update_bars(struct pci_function *fn)
{
	bool memory_on = pci_cfg_read(fn, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY;

	for (unsigned b = 0; b < PCI_BAR_COUNT; b++) {
		uint64_t addr = pci_cfg_read(fn, PCI_BASE_ADDRESS_0 + 4 * b, 4) & ~BAR_MEM_FLAGS_MASK;
		uint64_t size = fn->bar_size[b], old = fn->bar_addr[b];

		if (!size)
			continue;
		/* Outside the window nothing routes the accesses here, so such a BAR does not decode. */
		if (!memory_on || addr < PCI_MMIO_WINDOW || addr + size > PCI_MMIO_WINDOW + PCI_MMIO_WINDOW_SIZE)
			addr = 0;
		if (addr == old)
			continue;
		fn->bar_addr[b] = addr;
		if (fn->ops && fn->ops->bar_moved)
			fn->ops->bar_moved(fn, b, old, addr);
	}
}

static void pci_config_write(struct pci_function *fn, unsigned reg, uint32_t value, unsigned size)
{
	for (unsigned i = 0; i < size; i++) {
		uint8_t m = fn->wmask[reg + i];

		fn->cfg[reg + i] = (uint8_t)((fn->cfg[reg + i] & ~m) | ((value >> (8 * i)) & m));
	}
	if (reg < PCI_COMMAND + 2 && reg + size > PCI_COMMAND)
		pci_update_bars(fn);
	else if (reg < PCI_BASE_ADDRESS_5 + 4 && reg + size > PCI_BASE_ADDRESS_0)
		pci_update_bars(fn);
	if (fn->ops && fn->ops->config_written)
		fn->ops->config_written(fn, reg, size);
}

int pci_function_config_mismatch(const struct pci_function *fn, const uint8_t *cfg)
{
	for (unsigned i = 0; i < PCI_CONFIG_SPACE; i++)
		if ((fn->cfg[i] ^ cfg[i]) & ~fn->wmask[i])
			return (int)i;
	return -1;
}

void pci_function_restore(struct pci_bus *bus, struct pci_function *fn, const uint8_t *cfg)
{
	pthread_mutex_lock(&bus->lock);
	memcpy(fn->cfg, cfg, PCI_CONFIG_SPACE);
	pci_update_bars(fn);
	if (fn->ops && fn->ops->config_written)
		fn->ops->config_written(fn, 0, PCI_CONFIG_SPACE);
	pthread_mutex_unlock(&bus->lock);
}

/* Ports 0xCF8-0xCFF. Absent functions read as all ones, which is how the guest finds the empty slots. */
static void pci_config_io(void *opaque, uint64_t offset, uint8_t *data, unsigned size, bool is_write)
{
	struct pci_bus *bus = opaque;
	uint32_t value = 0;

	for (unsigned i = 0; i < size; i++)
		value |= (uint32_t)data[i] << (8 * i);
	pthread_mutex_lock(&bus->lock);
	if (offset < 4) {
		/* Only whole-register accesses reach the address register (the type-2 probe writes a byte). */
		if (offset == 0 && size == 4) {
			if (is_write)
				bus->config_address = value & CONF1_WRITABLE;
			else
				value = bus->config_address;
		} else {
			value = UINT32_MAX;
		}
	} else {
		uint32_t a = bus->config_address;
		unsigned reg = CONF1_REG(a) + (unsigned)(offset - 4);
		struct pci_function *fn = NULL;

		if ((a & CONF1_ENABLE) && !CONF1_EXT_REG(a) && !CONF1_BUS(a) && !CONF1_FUNC(a) &&
		    CONF1_SLOT(a) < PCI_SLOTS && offset - 4 + size <= 4)
			fn = bus->slots[CONF1_SLOT(a)];
		if (!fn)
			value = UINT32_MAX;
		else if (is_write)
			pci_config_write(fn, reg, value, size);
		else
			value = pci_cfg_read(fn, reg, size);
	}
	pthread_mutex_unlock(&bus->lock);
	if (!is_write)
		for (unsigned i = 0; i < size; i++)
			data[i] = (uint8_t)(value >> (8 * i));
}

/* The BAR window: finds the BAR decoding at this address now, then calls its function without the bus lock. */
static void pci_window_io(void *opaque, uint64_t offset, uint8_t *data, unsigned size, bool is_write)
{
	struct pci_bus *bus = opaque;
	uint64_t addr = PCI_MMIO_WINDOW + offset;
	struct pci_function *hit = NULL;
	unsigned hit_bar = 0;
	uint64_t hit_offset = 0;

	pthread_mutex_lock(&bus->lock);
	for (unsigned s = 1; s < PCI_SLOTS && !hit; s++) {
		struct pci_function *fn = bus->slots[s];

		for (unsigned b = 0; fn && b < PCI_BAR_COUNT; b++) {
			uint64_t base = fn->bar_addr[b];

			if (base && addr >= base && addr + size <= base + fn->bar_size[b]) {
				hit = fn;
				hit_bar = b;
				hit_offset = addr - base;
				break;
			}
		}
	}
	pthread_mutex_unlock(&bus->lock);
	if (hit) {
		hit->ops->bar_access(hit, hit_bar, hit_offset, data, size, is_write);
		return;
	}
	if (!is_write)
		memset(data, 0xff, size);
	log_limited(&bus->log, "PCI %s at %#llx (%u bytes) hits no BAR", is_write ? "write" : "read",
		    (unsigned long long)addr, size);
}

int pci_bus_register(struct pci_bus *bus, struct io_bus *pio, struct io_bus *mmio, struct errmsg *e)
{
	int err = io_bus_register(pio, PCI_CONFIG_PORT, PCI_CONFIG_PORT_LEN, "pci-config", pci_config_io, bus);

	if (err)
		return errmsg_set(e, -err, "PCI: cannot claim ports %#x-%#x: %s", PCI_CONFIG_PORT,
				  PCI_CONFIG_PORT + PCI_CONFIG_PORT_LEN - 1, strerror(-err));
	err = io_bus_register(mmio, PCI_MMIO_WINDOW, PCI_MMIO_WINDOW_SIZE, "pci-window", pci_window_io, bus);
	if (err)
		return errmsg_set(e, -err, "PCI: cannot claim the memory window at %#llx: %s",
				  (unsigned long long)PCI_MMIO_WINDOW, strerror(-err));
	return 0;
}

unsigned pci_bus_intx_gsi(const struct pci_bus *bus, unsigned slot, unsigned pin)
{
	return bus->lines[(slot + pin) % bus->nr_lines];
}

int pci_bus_add(struct pci_bus *bus, struct pci_function *fn, struct errmsg *e)
{
	uint64_t next = bus->next_bar;
	unsigned slot = 1;

	while (slot < PCI_SLOTS && bus->slots[slot])
		slot++;
	if (slot == PCI_SLOTS)
		return errmsg_set(e, ENOSPC, "PCI: all %d slots are taken", PCI_SLOTS - 1);
	for (unsigned b = 0; b < PCI_BAR_COUNT; b++) {
		uint64_t size = fn->bar_size[b];

		if (!size)
			continue;
		next = (next + size - 1) & ~(size - 1);
		if (next + size > PCI_MMIO_WINDOW + PCI_MMIO_WINDOW_SIZE)
			return errmsg_set(e, ENOSPC, "PCI: no room left for a %llu-byte BAR", (unsigned long long)size);
		pci_cfg_set(fn, PCI_BASE_ADDRESS_0 + 4 * b, 4, (uint32_t)next);
		next += size;
	}
	pthread_mutex_lock(&bus->lock);
	bus->next_bar = next;
	fn->slot = slot;
	fn->gsi = pci_bus_intx_gsi(bus, slot, 0);
	pci_cfg_set(fn, PCI_INTERRUPT_LINE, 1, fn->gsi);
	bus->slots[slot] = fn;
	pthread_mutex_unlock(&bus->lock);
	return 0;
}

int pci_bus_describe(const struct pci_bus *bus, struct aml *aml)
{
	/* _PRT rows: { address 0xSSSSFFFF (any function of slot S), pin 0-3 (INTA-D), source 0 (a GSI), GSI } */
	uint64_t prt[(PCI_SLOTS - 1) * 4][4];
	unsigned rows = 0;

	for (unsigned slot = 1; slot < PCI_SLOTS; slot++)
		for (unsigned pin = 0; pin < 4; pin++, rows++) {
			prt[rows][0] = (uint64_t)slot << 16 | 0xFFFF;
			prt[rows][1] = pin;
			prt[rows][2] = 0;
			prt[rows][3] = pci_bus_intx_gsi(bus, slot, pin);
		}
	aml_device(aml, "PCI0");
	aml_name_eisaid(aml, "_HID", "PNP0A03");
	aml_name_int(aml, "_SEG", 0);
	aml_name_int(aml, "_BBN", 0);
	aml_name_int(aml, "_UID", 0);
	aml_resource_template(aml, "_CRS");
	aml_res_word_bus(aml, 0, 0);
	aml_res_word_io(aml, 0, PCI_CONFIG_PORT - 1);
	aml_res_io(aml, PCI_CONFIG_PORT, PCI_CONFIG_PORT_LEN);
	aml_res_word_io(aml, PCI_CONFIG_PORT + PCI_CONFIG_PORT_LEN, UINT16_MAX);
	aml_res_dword_mem(aml, PCI_MMIO_WINDOW, PCI_MMIO_WINDOW + PCI_MMIO_WINDOW_SIZE - 1);
	aml_end(aml);
	aml_name_package_rows(aml, "_PRT", &prt[0][0], rows, 4);
	return aml_end(aml);
}

static int pci_host_init(const struct device_host *host, const void *config, void **data, struct errmsg *e)
{
	unsigned lines[PCI_INTX_LINES], n = 0;
	struct pci_bus *bus;
	int err;

	(void)config;
	*data = NULL;
	if (host->transport != VIRTIO_TRANSPORT_PCI)
		return 0;
	for (; n < PCI_INTX_LINES; n++) {
		int line = host_irq_alloc_line(host);

		if (line < 0)
			break;
		lines[n] = (unsigned)line;
	}
	if (!n)
		return errmsg_set(e, ENOSPC, "PCI: no interrupt line left for INTx");
	bus = malloc(sizeof(*bus));
	if (!bus)
		return errmsg_set(e, ENOMEM, "PCI: out of memory");
	pci_bus_init(bus, lines, n);
	err = pci_bus_register(bus, host->pio, host->mmio, e);
	if (err) {
		pci_bus_exit(bus);
		free(bus);
		return err;
	}
	*data = bus;
	return 0;
}

static void pci_host_exit(void *data)
{
	if (data) {
		pci_bus_exit(data);
		free(data);
	}
}

static int pci_host_describe(void *data, struct aml *aml)
{
	return data ? pci_bus_describe(data, aml) : 0;
}

/* The 0xCF8 register and the host bridge's configuration space; each function saves its own with its device. */
static int pci_host_save(void *data, struct state_writer *w)
{
	struct pci_bus *bus = data;

	if (!bus)
		return 0;
	pthread_mutex_lock(&bus->lock);
	state_put_u32(w, bus->config_address);
	state_put_bytes(w, bus->host_bridge.cfg, PCI_CONFIG_SPACE);
	pthread_mutex_unlock(&bus->lock);
	return 0;
}

static int pci_host_restore(void *data, struct state_reader *r, struct errmsg *e)
{
	struct pci_bus *bus = data;
	uint8_t cfg[PCI_CONFIG_SPACE];
	uint32_t config_address;
	int bad;

	if (!bus)
		return state_reader_done(r, e);
	config_address = state_get_u32(r, "config_address");
	state_get_bytes(r, "host bridge config", cfg, sizeof(cfg));
	if (config_address & ~CONF1_WRITABLE)
		state_invalid(r, "config_address", "%#x sets bits the register does not have", config_address);
	bad = state_ok(r) ? pci_function_config_mismatch(&bus->host_bridge, cfg) : -1;
	if (bad >= 0)
		state_invalid(r, "host bridge config", "byte %#x is %#x, the bridge has %#x there and it is read-only",
			      (unsigned)bad, cfg[bad], bus->host_bridge.cfg[bad]);
	if (state_reader_done(r, e))
		return -EINVAL;
	pthread_mutex_lock(&bus->lock);
	bus->config_address = config_address;
	pthread_mutex_unlock(&bus->lock);
	pci_function_restore(bus, &bus->host_bridge, cfg);
	return 0;
}

const struct device_ops pci_host_device = {
	.name = "pci",
	.level = DEVICE_LEVEL_BUS,
	.init = pci_host_init,
	.exit = pci_host_exit,
	.describe_acpi = pci_host_describe,
	.save = pci_host_save,
	.restore = pci_host_restore,
	.state_version = 1,
};
DEVICE_REGISTER(pci_host_device);

struct pci_bus *pci_bus_of(const struct device_host *host)
{
	return host_find(host, &pci_host_device);
}
