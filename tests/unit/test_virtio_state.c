// SPDX-License-Identifier: Apache-2.0
/*
 * Save and restore of a virtio device on a fake VM, on each transport: a
 * driver sets virtio-rng up and has a request served, the VM's devices are
 * saved (devices_save), a fresh VM over the same guest RAM (as a snapshot
 * keeps it) restores them, saves the same bytes again, and the queue
 * carries on at the next index. virtio-net, saved with a receive buffer
 * taken and waiting for a frame, gets its frame after the restore. Then
 * corrupt blobs of the device's own record, each refused with its field
 * named.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <cmocka.h>
#include <linux/pci_regs.h>
#include <linux/virtio_net.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>
#include <linux/virtio_vsock.h>

#include "devices/pci.h"
#include "fake_host.h"
#include "state.h"
#include "virtio/blk.h"
#include "virtio/console.h"
#include "virtio/mmio.h"
#include "virtio/net.h"
#include "virtio/virtio.h"
#include "virtio/rng.h"
#include "virtio/vsock.h"

#define RAM_SIZE (1u << 20)
#define QUEUE_SIZE 8
/* Queue 0's rings; queue q's are 0x3000 * q further on. */
#define DESC_GPA 0x10000
#define AVAIL_GPA 0x11000
#define USED_GPA 0x12000
#define QUEUE_RINGS 0x3000
#define BUF_GPA 0x20000
/* A lost kick would leave fake_host_run_io with nothing to do, not hang; the alarm bounds the rest. */
#define TEST_TIMEOUT 20

/* virtio-pci: the first function's BAR, where the bus places it, and its regions. */
#define SLOT 1
#define BAR PCI_MMIO_WINDOW
#define COMMON(f) (BAR + offsetof(struct virtio_pci_common_cfg, f))
#define ISR (BAR + 0x1000)
#define MSIX_TABLE (BAR + 0x4000)

static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));
static struct fake_host f;
static const struct device_instance *rng;
static enum virtio_transport_kind transport;
static const char *kind; /* the virtio device the test makes */
static uint16_t net_mtu; /* virtio-net's mtu (the API's); 0: none */


static char drive_path[] = "/tmp/kvmini-state-drive-XXXXXX";
static char vsock_dir[] = "/tmp/kvmini-state-vsock-XXXXXX";
static uint32_t vsock_cid = 3;

static void start_vm(void)
{
	struct vsock_config *vsock = vsock_config_of(&f.cfg);

	memset(&f.cfg, 0, sizeof(f.cfg));
	f.cfg.transport = transport;
	rng_config_of(&f.cfg)->enabled = !strcmp(kind, "virtio-rng");
	net_config_of(&f.cfg)->nr = !strcmp(kind, "virtio-net");
	strcpy(net_config_of(&f.cfg)->nets[0].tap, "tap0");
	net_config_of(&f.cfg)->nets[0].mtu = net_mtu;
	blk_config_of(&f.cfg)->nr_drives = !strcmp(kind, "virtio-blk");
	strcpy(blk_config_of(&f.cfg)->drives[0].path, drive_path);
	strcpy(blk_config_of(&f.cfg)->drives[0].id, "drive0");
	if (!strcmp(kind, "virtio-vsock"))
		vsock->cid = vsock_cid;
	snprintf(vsock->uds, sizeof(vsock->uds), "%s/v.sock", vsock_dir);
	vcon_config_of(&f.cfg)->enabled = !strcmp(kind, "virtio-console");
	assert_int_equal(fake_host_init(&f, ram, sizeof(ram)), 0);
	assert_int_equal(fake_host_add(&f, transport == VIRTIO_TRANSPORT_MMIO ? "virtio-mmio" : "pci"), 0);
	assert_int_equal(fake_host_add(&f, kind), 0);
	rng = &f.devices.devices[f.devices.nr - 1];
}

static void stop_vm(void)
{
	fake_host_exit(&f);
	if (fake_host_tap_peer >= 0)
		close(fake_host_tap_peer);
	fake_host_tap_peer = -1;
}

static void mem_wr(uint64_t addr, unsigned size, uint64_t v)
{
	assert_true(io_bus_access(&f.mmio, addr, (uint8_t *)&v, size, true));
}

static uint64_t mem_rd(uint64_t addr, unsigned size)
{
	uint64_t v = 0;

	assert_true(io_bus_access(&f.mmio, addr, (uint8_t *)&v, size, false));
	return v;
}

static void cfg_wr(unsigned reg, unsigned size, uint32_t v)
{
	uint32_t addr = 0x80000000u | SLOT << 11 | (reg & 0xFC);

	assert_true(io_bus_access(&f.pio, 0xCF8, (uint8_t *)&addr, 4, true));
	assert_true(io_bus_access(&f.pio, 0xCFC + (reg & 3), (uint8_t *)&v, size, true));
}

static uint32_t cfg_rd(unsigned reg, unsigned size)
{
	uint32_t addr = 0x80000000u | SLOT << 11 | (reg & 0xFC), v = 0;

	assert_true(io_bus_access(&f.pio, 0xCF8, (uint8_t *)&addr, 4, true));
	assert_true(io_bus_access(&f.pio, 0xCFC + (reg & 3), (uint8_t *)&v, size, false));
	return v;
}

static unsigned msix_cap(void)
{
	unsigned cap = cfg_rd(PCI_CAPABILITY_LIST, 1);

	while (cap && cfg_rd(cap, 1) != PCI_CAP_ID_MSIX)
		cap = cfg_rd(cap + PCI_CAP_LIST_NEXT, 1);
	assert_true(cap);
	return cap;
}

static const uint8_t status_ready = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
				    VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK;

/* What Linux's drivers do, on the VM's transport: VERSION_1, nr_queues of QUEUE_SIZE, DRIVER_OK. */
static void driver_setup(unsigned nr_queues)
{
	uint8_t s = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;
	uint64_t m = VIRTIO_MMIO_BASE;

	if (transport == VIRTIO_TRANSPORT_MMIO) {
		mem_wr(m + VIRTIO_MMIO_STATUS, 4, s);
		mem_wr(m + VIRTIO_MMIO_DRIVER_FEATURES_SEL, 4, 1);
		mem_wr(m + VIRTIO_MMIO_DRIVER_FEATURES, 4, 1); /* VERSION_1 */
		mem_wr(m + VIRTIO_MMIO_STATUS, 4, s | VIRTIO_CONFIG_S_FEATURES_OK);
		for (unsigned q = 0; q < nr_queues; q++) {
			mem_wr(m + VIRTIO_MMIO_QUEUE_SEL, 4, q);
			mem_wr(m + VIRTIO_MMIO_QUEUE_NUM, 4, QUEUE_SIZE);
			mem_wr(m + VIRTIO_MMIO_QUEUE_DESC_LOW, 4, DESC_GPA + QUEUE_RINGS * q);
			mem_wr(m + VIRTIO_MMIO_QUEUE_DRIVER_LOW, 4, AVAIL_GPA + QUEUE_RINGS * q);
			mem_wr(m + VIRTIO_MMIO_QUEUE_DEVICE_LOW, 4, USED_GPA + QUEUE_RINGS * q);
			mem_wr(m + VIRTIO_MMIO_QUEUE_READY, 4, 1);
		}
		mem_wr(m + VIRTIO_MMIO_STATUS, 4, status_ready);
		mem_wr(m + VIRTIO_MMIO_QUEUE_SEL, 4, 3); /* a selector left pointing elsewhere */
		return;
	}
	cfg_wr(PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	cfg_wr(msix_cap() + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	for (unsigned v = 0; v < 2; v++) {
		mem_wr(MSIX_TABLE + 16 * v + PCI_MSIX_ENTRY_LOWER_ADDR, 4, 0xFEE00000);
		mem_wr(MSIX_TABLE + 16 * v + PCI_MSIX_ENTRY_DATA, 4, 0x40 + v);
		mem_wr(MSIX_TABLE + 16 * v + PCI_MSIX_ENTRY_VECTOR_CTRL, 4, 0);
	}
	mem_wr(COMMON(device_status), 1, s);
	mem_wr(COMMON(guest_feature_select), 4, 1);
	mem_wr(COMMON(guest_feature), 4, 1);
	mem_wr(COMMON(device_status), 1, s | VIRTIO_CONFIG_S_FEATURES_OK);
	mem_wr(COMMON(msix_config), 2, 0);
	for (unsigned q = 0; q < nr_queues; q++) {
		mem_wr(COMMON(queue_select), 2, q);
		mem_wr(COMMON(queue_size), 2, QUEUE_SIZE);
		mem_wr(COMMON(queue_msix_vector), 2, 1 + q);
		mem_wr(COMMON(queue_desc_lo), 4, DESC_GPA + QUEUE_RINGS * q);
		mem_wr(COMMON(queue_avail_lo), 4, AVAIL_GPA + QUEUE_RINGS * q);
		mem_wr(COMMON(queue_used_lo), 4, USED_GPA + QUEUE_RINGS * q);
		mem_wr(COMMON(queue_enable), 2, 1);
	}
	mem_wr(COMMON(queue_select), 2, 0);
	mem_wr(COMMON(device_status), 1, status_ready);
}

static uint8_t read_status(void)
{
	if (transport == VIRTIO_TRANSPORT_MMIO)
		return (uint8_t)mem_rd(VIRTIO_MMIO_BASE + VIRTIO_MMIO_STATUS, 4);
	return (uint8_t)mem_rd(COMMON(device_status), 1);
}

/*
 * Offers request n (from 1) on queue q: a 16-byte writable buffer in
 * descriptor n % QUEUE_SIZE (at BUF_GPA + QUEUE_RINGS * q), and kicks.
 */
static void offer_on(unsigned q, uint16_t n)
{
	struct vring_desc *desc = (void *)(ram + DESC_GPA + QUEUE_RINGS * q);
	struct vring_avail *avail = (void *)(ram + AVAIL_GPA + QUEUE_RINGS * q);
	unsigned d = n % QUEUE_SIZE;

	desc[d] = (struct vring_desc){ .addr = BUF_GPA + QUEUE_RINGS * q + 16 * d, .len = 16,
				       .flags = VRING_DESC_F_WRITE };
	avail->ring[(n - 1) % QUEUE_SIZE] = (uint16_t)d;
	__atomic_store_n(&avail->idx, n, __ATOMIC_RELEASE);
	if (transport == VIRTIO_TRANSPORT_MMIO)
		mem_wr(VIRTIO_MMIO_BASE + VIRTIO_MMIO_QUEUE_NOTIFY, 4, q);
	else
		mem_wr(BAR + 0x3000 + 4 * q, 2, (uint16_t)q); /* its notification address (no ioeventfd here) */
}

static void offer(uint16_t n)
{
	offer_on(0, n);
}

static uint16_t used_idx_on(unsigned q)
{
	return __atomic_load_n(&((struct vring_used *)(ram + USED_GPA + QUEUE_RINGS * q))->idx, __ATOMIC_ACQUIRE);
}

static uint16_t used_idx(void)
{
	return used_idx_on(0);
}

static void save_vm(struct state_writer *w)
{
	state_writer_init(w);
	assert_int_equal(devices_save(f.devices.devices, f.devices.nr, w), 0);
}

static void save(struct state_writer *w)
{
	state_writer_init(w);
	assert_int_equal(rng->ops->save(rng->data, w), 0);
	assert_int_equal(w->err, 0);
}

static int restore(const uint8_t *blob, size_t len, struct errmsg *e)
{
	struct state_reader r;

	state_reader_init(&r, blob, len, rng->ops->name);
	return rng->ops->restore(rng->data, &r, e);
}

/* A driver that had one request served: the saved state of the device (save) or of the whole VM (save_vm). */
static void busy_device_state(struct state_writer *w, void (*save_fn)(struct state_writer *))
{
	memset(ram, 0, sizeof(ram));
	start_vm();
	driver_setup(1);
	offer(1);
	fake_host_run_io(&f, 4);
	assert_int_equal(used_idx(), 1);
	save_fn(w);
	stop_vm();
}

static void round_trip(void)
{
	struct state_writer w, again;
	struct state_reader r;
	struct errmsg e = { "" };
	struct vring_used *used = (void *)(ram + USED_GPA);

	busy_device_state(&w, save_vm);
	start_vm();
	state_reader_init(&r, w.buf, w.len, "VM");
	assert_int_equal(devices_restore(f.devices.devices, f.devices.nr, &r, &e), 0);
	save_vm(&again);
	assert_int_equal(again.len, w.len);
	assert_memory_equal(again.buf, w.buf, w.len);

	/* The driver finds its device as it left it, and the queue carries on at request 2. */
	assert_int_equal(read_status(), status_ready);
	offer(2);
	fake_host_run_io(&f, 4);
	assert_int_equal(used_idx(), 2);
	assert_int_equal(used->ring[1].id, 2);
	assert_int_equal(used->ring[1].len, 16);
	if (transport == VIRTIO_TRANSPORT_MMIO) {
		assert_int_equal(mem_rd(VIRTIO_MMIO_BASE + VIRTIO_MMIO_INTERRUPT_STATUS, 4), VIRTIO_ISR_QUEUE);
		mem_wr(VIRTIO_MMIO_BASE + VIRTIO_MMIO_QUEUE_SEL, 4, 0);
		assert_int_equal(mem_rd(VIRTIO_MMIO_BASE + VIRTIO_MMIO_QUEUE_READY, 4), 1);
	} else {
		uint32_t address;

		/* The bus's address register is as the last configuration access left it. */
		assert_true(io_bus_access(&f.pio, 0xCF8, (uint8_t *)&address, 4, false));
		assert_int_equal(address, 0x80000000u | SLOT << 11 | ((msix_cap() + PCI_MSIX_FLAGS) & 0xFC));
		/* The BAR decodes where the driver had it, MSI-X is on, the vectors and the table are back. */
		assert_int_equal(cfg_rd(PCI_COMMAND, 2) & PCI_COMMAND_MEMORY, PCI_COMMAND_MEMORY);
		assert_int_equal(cfg_rd(msix_cap() + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_ENABLE, PCI_MSIX_FLAGS_ENABLE);
		assert_int_equal(mem_rd(COMMON(msix_config), 2), 0);
		assert_int_equal(mem_rd(COMMON(queue_msix_vector), 2), 1);
		assert_int_equal(mem_rd(COMMON(queue_enable), 2), 1);
		assert_int_equal(mem_rd(MSIX_TABLE + 16 + PCI_MSIX_ENTRY_DATA, 4), 0x41);
		assert_int_equal(mem_rd(MSIX_TABLE + 16 + PCI_MSIX_ENTRY_VECTOR_CTRL, 4), 0);
		assert_int_equal(mem_rd(ISR, 1), VIRTIO_ISR_QUEUE);
	}
	stop_vm();
	state_writer_free(&w);
	state_writer_free(&again);
}

static void test_mmio_round_trip(void **state)
{
	(void)state;
	transport = VIRTIO_TRANSPORT_MMIO;
	kind = "virtio-rng";
	round_trip();
}

static void test_pci_round_trip(void **state)
{
	(void)state;
	transport = VIRTIO_TRANSPORT_PCI;
	kind = "virtio-rng";
	round_trip();
}

/* The API's mtu is offered with VIRTIO_NET_F_MTU and read from the configuration space; none, neither. */
static void test_net_mtu(void **state)
{
	struct virtio_dev *dev;
	struct virtio_net_config c;
	(void)state;

	transport = VIRTIO_TRANSPORT_MMIO;
	kind = "virtio-net";
	net_mtu = 9000;
	start_vm();
	net_mtu = 0;
	dev = virtio_kind_device(rng->data, 0);
	assert_true(dev->device_features & 1ULL << VIRTIO_NET_F_MTU);
	virtio_config_read(dev, offsetof(struct virtio_net_config, mtu), (uint8_t *)&c.mtu, sizeof(c.mtu));
	assert_int_equal(le16toh(c.mtu), 9000);
	stop_vm();

	start_vm();
	dev = virtio_kind_device(rng->data, 0);
	assert_false(dev->device_features & 1ULL << VIRTIO_NET_F_MTU);
	stop_vm();
}

/* Where fields lie in the saved record of one virtio-rng (one queue). */
enum {
	AT_DEVICES = 0,
	AT_FEATURES = 1,
	AT_STATUS = 9,
	AT_ISR = 10,
	AT_QUEUES = 15,
	AT_QUEUE_SIZE = 16,
	AT_QUEUE_DESC = 18,
	AT_LAST_AVAIL = 45,
	AT_TRANSPORT = 52,
};
/* virtio-pci's part: configuration space, selectors (10 bytes), msix_config, the queue's vector, the table. */
#define AT_MSIX_CONFIG (AT_TRANSPORT + PCI_CONFIG_SPACE + 10)
#define AT_QUEUE_VECTOR (AT_MSIX_CONFIG + 2)
#define AT_TABLE (AT_QUEUE_VECTOR + 2)
#define AT_PBA (AT_TABLE + 2 * 16)

static void put_le(uint8_t *at, uint64_t v, unsigned size)
{
	for (unsigned i = 0; i < size; i++)
		at[i] = (uint8_t)(v >> (8 * i));
}

/*
 * The busy state with one field changed is refused with want; kept: the
 * device must be as init made it (a fault in the core's part, checked before
 * anything changes).
 */
static void expect_rejected(size_t at, uint64_t value, unsigned size, bool kept, const char *want)
{
	struct state_writer w, fresh, after;
	struct errmsg e = { "" };

	busy_device_state(&w, save);
	put_le(w.buf + at, value, size);
	start_vm();
	save(&fresh);
	assert_int_equal(restore(w.buf, w.len, &e), -EINVAL);
	assert_string_equal(e.text, want);
	if (kept) {
		save(&after);
		assert_int_equal(after.len, fresh.len);
		assert_memory_equal(after.buf, fresh.buf, fresh.len);
		state_writer_free(&after);
	}
	stop_vm();
	state_writer_free(&w);
	state_writer_free(&fresh);
}

static void every_cut_refused(void)
{
	struct state_writer w;

	busy_device_state(&w, save);
	start_vm();
	for (size_t len = 0; len < w.len; len++) {
		struct errmsg e = { "" };

		assert_int_equal(restore(w.buf, len, &e), -EINVAL);
		assert_non_null(strstr(e.text, "truncated"));
	}
	stop_vm();
	state_writer_free(&w);
}

static void test_core_corrupt(void **state)
{
	(void)state;
	transport = VIRTIO_TRANSPORT_MMIO;
	kind = "virtio-rng";
	expect_rejected(AT_DEVICES, 2, 1, true, "virtio-rng state: devices: 2 saved, this VM has 1");
	expect_rejected(AT_STATUS, 0x1f, 1, true,
			"virtio-rng state: status: virtio-rng0: 0x1f has bits virtio does not define");
	expect_rejected(AT_FEATURES + 7, 0x80, 1, true,
			"virtio-rng state: driver_features: virtio-rng0: 0x8000000100000000 accepted, "
			"0x130000000 offered (with VERSION_1)");
	expect_rejected(AT_ISR, 4, 1, true, "virtio-rng state: isr: virtio-rng0: 0x4 has bits virtio does not define");
	expect_rejected(AT_QUEUES, 2, 1, true, "virtio-rng state: queues: virtio-rng0: 2 saved, the device has 1");
	expect_rejected(AT_QUEUE_SIZE, 512, 2, true,
			"virtio-rng state: queue size: virtio-rng0 queue 0: 512, at most 256");
	expect_rejected(AT_STATUS, 0x0b, 1, true,
			"virtio-rng state: queue started: virtio-rng0 queue 0 ran, but it is not enabled or the driver "
			"not ready");
	expect_rejected(AT_QUEUE_DESC, RAM_SIZE, 8, true,
			"virtio-rng state: queue rings: virtio-rng0 queue 0: size 8 or rings at 0x100000, 0x11000, "
			"0x12000 not usable");
	expect_rejected(AT_QUEUE_SIZE, 6, 2, true,
			"virtio-rng state: queue rings: virtio-rng0 queue 0: size 6 or rings at 0x10000, 0x11000, "
			"0x12000 not usable");
	expect_rejected(AT_LAST_AVAIL, 10, 2, true,
			"virtio-rng state: queue last_avail: virtio-rng0 queue 0: 9 chains in flight, "
			"the ring holds 8");
	every_cut_refused();
}

static void test_pci_corrupt(void **state)
{
	(void)state;
	transport = VIRTIO_TRANSPORT_PCI;
	kind = "virtio-rng";
	expect_rejected(AT_TRANSPORT + PCI_VENDOR_ID, 0x8086, 2, false,
			"virtio-rng state: pci config: virtio-rng0: byte 0 is 0x86, the function has 0xf4 there and "
			"it is read-only");
	expect_rejected(AT_MSIX_CONFIG, 2, 2, false,
			"virtio-rng state: msix_config: virtio-rng0: vector 2, the function has 2");
	expect_rejected(AT_QUEUE_VECTOR, 0x8000, 2, false,
			"virtio-rng state: queue msix_vector: virtio-rng0: vector 32768, the function has 2");
	expect_rejected(AT_TABLE + 16 + PCI_MSIX_ENTRY_VECTOR_CTRL, 2, 4, false,
			"virtio-rng state: msix ctrl: virtio-rng0: vector 1: 0x2 sets reserved bits");
	expect_rejected(AT_PBA, 4, 8, false, "virtio-rng state: msix pba: virtio-rng0: 0x4 has bits past vector 1");
	every_cut_refused();
}

/* A driver set up nr_queues and went quiet: the device's state (save) or the VM's (save_vm). */
static void ready_state(unsigned nr_queues, struct state_writer *w, void (*save_fn)(struct state_writer *))
{
	memset(ram, 0, sizeof(ram));
	start_vm();
	driver_setup(nr_queues);
	fake_host_run_io(&f, 4);
	save_fn(w);
	stop_vm();
}

/* The VM's blob w restored into a fresh VM, which saves the same bytes again; the VM is left running. */
static void restore_same(const struct state_writer *w)
{
	struct state_writer again;
	struct state_reader r;
	struct errmsg e = { "" };

	start_vm();
	state_reader_init(&r, w->buf, w->len, "VM");
	assert_int_equal(devices_restore(f.devices.devices, f.devices.nr, &r, &e), 0);
	save_vm(&again);
	assert_int_equal(again.len, w->len);
	assert_memory_equal(again.buf, w->buf, w->len);
	state_writer_free(&again);
}

/* The device's own state ends its record: the field `from_end` bytes before the end set to value is refused. */
static void own_field_rejected(unsigned nr_queues, size_t from_end, uint64_t value, unsigned size, const char *want)
{
	struct state_writer w;
	struct errmsg e = { "" };

	ready_state(nr_queues, &w, save);
	put_le(w.buf + w.len - from_end, value, size);
	start_vm();
	assert_int_equal(restore(w.buf, w.len, &e), -EINVAL);
	assert_string_equal(e.text, want);
	stop_vm();
	state_writer_free(&w);
}

/*
 * virtio-net takes a receive buffer and holds it until a frame comes. Saved
 * then, the restored device must take that buffer again for the next frame:
 * its chain's host addresses belonged to the old process.
 */
static void test_net_held_buffer(void **state)
{
	static const uint8_t frame[16] = "0123456789abcdef"; /* a 12-byte virtio-net header and 4 bytes */
	struct state_writer w;
	struct state_reader r;
	struct errmsg e = { "" };
	uint8_t mac[6], restored_mac[6];
	(void)state;

	transport = VIRTIO_TRANSPORT_MMIO;
	kind = "virtio-net";
	memset(ram, 0, sizeof(ram));
	start_vm();
	driver_setup(2);
	offer(1); /* on the receive queue: no frame yet, so the device holds the buffer */
	fake_host_run_io(&f, 4);
	assert_int_equal(used_idx(), 0);
	virtio_config_read(virtio_kind_device(rng->data, 0), 0, mac, sizeof(mac));
	save_vm(&w);
	stop_vm();

	start_vm();
	state_reader_init(&r, w.buf, w.len, "VM");
	assert_int_equal(devices_restore(f.devices.devices, f.devices.nr, &r, &e), 0);
	/* The random MAC the guest read is its MAC still. */
	virtio_config_read(virtio_kind_device(rng->data, 0), 0, restored_mac, sizeof(restored_mac));
	assert_memory_equal(restored_mac, mac, sizeof(mac));
	assert_int_equal(send(fake_host_tap_peer, frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
	fake_host_run_io(&f, 4);
	assert_int_equal(used_idx(), 1);
	/* The frame, with the header's num_buffers (bytes 10-11) set to 1 by the device. */
	assert_memory_equal(ram + BUF_GPA + 16 * 1, frame, 10);
	assert_int_equal(ram[BUF_GPA + 16 + 10], 1);
	assert_int_equal(ram[BUF_GPA + 16 + 11], 0);
	assert_memory_equal(ram + BUF_GPA + 16 + 12, frame + 12, 4);
	stop_vm();
	state_writer_free(&w);

	/* Its own record: the MAC, then rx_held. */
	own_field_rejected(2, 7, 0x665544332211, 6,
			   "virtio-net state: mac: virtio-net0: 11:22:33:44:55:66 is a multicast address");
	own_field_rejected(2, 1, 1, 1,
			   "virtio-net state: rx_held: virtio-net0: a receive buffer held, but none is taken from the "
			   "queue");
}

static void set_drive_size(off_t size)
{
	int fd = open(drive_path, O_RDWR);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, size), 0);
	close(fd);
}

/* virtio-blk: its capacity is what it saves; a file that changed size since is refused. */
static void test_blk_state(void **state)
{
	struct state_writer w;
	struct state_reader r;
	struct errmsg e = { "" };
	char want[256];
	(void)state;

	transport = VIRTIO_TRANSPORT_MMIO;
	kind = "virtio-blk";
	set_drive_size(1 << 20);
	ready_state(1, &w, save_vm);
	restore_same(&w);
	stop_vm();

	set_drive_size(2 << 20);
	start_vm();
	state_reader_init(&r, w.buf, w.len, "VM");
	assert_int_equal(devices_restore(f.devices.devices, f.devices.nr, &r, &e), -EINVAL);
	snprintf(want, sizeof(want), "virtio-blk state: capacity: drive '%s': 4096 sectors, the guest saw 2048 (the "
		 "file changed since the snapshot)", drive_path);
	assert_string_equal(e.text, want);
	stop_vm();
	state_writer_free(&w);

	set_drive_size(1 << 20);
	snprintf(want, sizeof(want), "virtio-blk state: capacity: drive '%s': 2048 sectors, the guest saw 7 (the "
		 "file changed since the snapshot)", drive_path);
	own_field_rejected(1, 8, 7, 8, want);
}

/* The event queue's used index and the id of the event in its first buffer. */
static uint32_t vsock_event(uint16_t *used)
{
	uint32_t id;

	*used = used_idx_on(2);
	memcpy(&id, ram + BUF_GPA + QUEUE_RINGS * 2 + 16 * 1, sizeof(id));
	return le32toh(id);
}

/*
 * virtio-vsock: the guest CID is saved; a restored device owes the guest
 * TRANSPORT_RESET, sent into an event buffer posted before the snapshot, or
 * into the next one the driver posts.
 */
static void test_vsock_state(void **state)
{
	struct state_writer w;
	uint16_t used;
	(void)state;

	transport = VIRTIO_TRANSPORT_MMIO;
	kind = "virtio-vsock";
	memset(ram, 0, sizeof(ram));
	start_vm();
	driver_setup(3);
	offer_on(2, 1);
	fake_host_run_io(&f, 4);
	assert_int_equal(used_idx_on(2), 0); /* no event without a restore */
	memset(ram + BUF_GPA + QUEUE_RINGS * 2 + 16, 0xff, 16);
	save_vm(&w);
	stop_vm();
	restore_same(&w);
	fake_host_run_io(&f, 4);
	assert_int_equal(vsock_event(&used), VIRTIO_VSOCK_EVENT_TRANSPORT_RESET);
	assert_int_equal(used, 1);
	assert_int_equal(((struct vring_used *)(ram + USED_GPA + QUEUE_RINGS * 2))->ring[0].len, 4);
	stop_vm();
	state_writer_free(&w);

	/* No event buffer yet: the reset waits for the first one. */
	ready_state(3, &w, save_vm);
	memset(ram + BUF_GPA + QUEUE_RINGS * 2 + 16, 0xff, 16);
	restore_same(&w);
	fake_host_run_io(&f, 4);
	assert_int_equal(used_idx_on(2), 0);
	offer_on(2, 1);
	fake_host_run_io(&f, 4);
	assert_int_equal(vsock_event(&used), VIRTIO_VSOCK_EVENT_TRANSPORT_RESET);
	assert_int_equal(used, 1);
	stop_vm();
	state_writer_free(&w);

	own_field_rejected(3, 4, 4, 4, "virtio-vsock state: guest_cid: virtio-vsock0: 4 saved, this device has 3");
}

/* virtio-console on the host console holds nothing of its own; on the exec channel it cannot be saved. */
static void test_console_state(void **state)
{
	struct state_writer w;
	int sv[2];
	(void)state;

	transport = VIRTIO_TRANSPORT_PCI;
	kind = "virtio-console";
	ready_state(2, &w, save_vm);
	restore_same(&w);
	stop_vm();
	state_writer_free(&w);

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	memset(&f.cfg, 0, sizeof(f.cfg));
	vcon_config_of(&f.cfg)->channel = true;
	vcon_config_of(&f.cfg)->channel_fd = sv[0];
	assert_int_equal(fake_host_init(&f, ram, sizeof(ram)), 0);
	assert_int_equal(fake_host_add(&f, "pci"), 0);
	assert_int_equal(fake_host_add(&f, "virtio-console"), 0);
	state_writer_init(&w);
	assert_int_equal(devices_save(f.devices.devices, f.devices.nr, &w), -EOPNOTSUPP);
	state_writer_free(&w);
	stop_vm();
	close(sv[0]);
	close(sv[1]);
}

static int make_files(void **state)
{
	int fd = mkstemp(drive_path);

	(void)state;
	if (fd < 0 || !mkdtemp(vsock_dir))
		return -1;
	close(fd);
	return 0;
}

static int remove_files(void **state)
{
	(void)state;
	unlink(drive_path);
	rmdir(vsock_dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mmio_round_trip),
		cmocka_unit_test(test_pci_round_trip),
		cmocka_unit_test(test_net_held_buffer),
		cmocka_unit_test(test_net_mtu),
		cmocka_unit_test(test_core_corrupt),
		cmocka_unit_test(test_pci_corrupt),
		cmocka_unit_test(test_blk_state),
		cmocka_unit_test(test_vsock_state),
		cmocka_unit_test(test_console_state),
	};

	alarm(TEST_TIMEOUT);
	return cmocka_run_group_tests(tests, make_files, remove_files);
}
