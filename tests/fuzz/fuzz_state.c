// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for saved device state (src/state.c and the devices'
 * restore hooks). The first byte picks what the rest is:
 *
 * 0: a whole VM's saved state, restored into three stand-in devices that
 *    read every kind of field, one of them a list whose length comes from
 *    the blob. A restore that succeeds must save back to the very bytes it
 *    read: nothing read is lost or invented.
 * 1, 2: patches to the real devices' saved state (the UART, the i8042,
 *    pvpanic, ACPI sleep, and virtio-console, -rng, -blk, -net, -vsock and
 *    -balloon on virtio-pci (1), or on virtio-mmio (2) with their queues
 *    set up and running), as
 *    3-byte ops: a little-endian offset into the blob and the byte to put
 *    there; an offset `at` past the end cuts the blob to at - its length
 *    bytes instead. The result is
 *    restored into a fresh fake VM, whose I/O thread then serves whatever
 *    the restored queues hold, as after a resume.
 * 3, 4: the same patches to a saved vCPU's (3) or VM's (4) KVM state
 *    (src/snapshot/kvm_state.c): a record that reads well must write back
 *    to the very bytes it was read from.
 * 5: a snapshot's configuration section (src/snapshot/config.c), read into
 *    a daemon's fresh configuration: one that reads well must write a
 *    section that reads well again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "device.h"
#include "fake_host.h"
#include "snapshot/kvm_state.h"
#include "snapshot/snapshot.h"
#include "state.h"
#include "virtio/balloon.h"
#include "virtio/blk.h"
#include "virtio/console.h"
#include "virtio/mmio.h"
#include "virtio/net.h"
#include "virtio/rng.h"
#include "virtio/virtio.h"
#include "virtio/vsock.h"

#define LIST_MAX 8

struct fields {
	uint8_t a;
	uint16_t b;
	uint32_t c;
	uint64_t d;
	bool e;
	uint8_t bytes[5];
};

struct list {
	uint8_t n;
	uint16_t items[LIST_MAX];
};

static int fields_save(void *data, struct state_writer *w)
{
	const struct fields *f = data;

	state_put_u8(w, f->a);
	state_put_u16(w, f->b);
	state_put_u32(w, f->c);
	state_put_u64(w, f->d);
	state_put_bool(w, f->e);
	state_put_bytes(w, f->bytes, sizeof(f->bytes));
	return 0;
}

static int fields_restore(void *data, struct state_reader *r, struct errmsg *e)
{
	struct fields f;

	f.a = state_get_u8(r, "a");
	f.b = state_get_u16(r, "b");
	f.c = state_get_u32(r, "c");
	f.d = state_get_u64(r, "d");
	f.e = state_get_bool(r, "e");
	state_get_bytes(r, "bytes", f.bytes, sizeof(f.bytes));
	if (f.b & 1)
		state_invalid(r, "b", "%u is odd", f.b);
	if (state_reader_done(r, e))
		return -EINVAL;
	*(struct fields *)data = f;
	return 0;
}

static int list_save(void *data, struct state_writer *w)
{
	const struct list *l = data;

	state_put_u8(w, l->n);
	for (unsigned i = 0; i < l->n; i++)
		state_put_u16(w, l->items[i]);
	return 0;
}

static int list_restore(void *data, struct state_reader *r, struct errmsg *e)
{
	struct list l = { .n = state_get_u8(r, "n") };

	if (l.n > LIST_MAX)
		state_invalid(r, "n", "%u items, at most %d", l.n, LIST_MAX);
	for (unsigned i = 0; i < l.n && state_ok(r); i++)
		l.items[i] = state_get_u16(r, "item");
	if (state_reader_done(r, e))
		return -EINVAL;
	*(struct list *)data = l;
	return 0;
}

static const struct device_ops fields_ops = {
	.name = "fields", .save = fields_save, .restore = fields_restore, .state_version = 1,
};
static const struct device_ops none_ops = { .name = "none" };
static const struct device_ops list_ops = {
	.name = "list", .save = list_save, .restore = list_restore, .state_version = 2,
};

static void stand_ins(const uint8_t *data, size_t size)
{
	struct fields f = { 0 };
	struct list l = { 0 };
	const struct device_instance set[] = { { &fields_ops, &f }, { &none_ops, NULL }, { &list_ops, &l } };
	struct state_reader r;
	struct state_writer w;
	struct errmsg e;

	state_reader_init(&r, data, size, "snapshot");
	if (devices_restore(set, 3, &r, &e))
		return;
	state_writer_init(&w);
	if (devices_save(set, 3, &w) || w.len != size || memcmp(w.buf, data, size))
		abort();
	state_writer_free(&w);
}

/* --- The real devices --- */

static struct fake_host f;
static uint8_t ram[1 << 19] __attribute__((aligned(4096)));
static const char *const platform[] = { "acpi-sleep", "pvpanic", "i8042", "serial" };
/* The virtio devices in the order they are added (and their MMIO windows), with their queue counts. */
static const struct {
	const char *name;
	unsigned queues;
} virtio[] = {
	{ "virtio-console", 2 }, { "virtio-rng", 1 }, { "virtio-blk", 1 },
	{ "virtio-net", 2 },     { "virtio-vsock", 3 }, { "virtio-balloon", 3 },
};
#define NR_VIRTIO (sizeof(virtio) / sizeof(virtio[0]))
/* The drive (a memory file, by its /proc path) and the vsock socket's directory, made once. */
static char drive[64], vsock_dir[] = "/tmp/kvmini-fuzz-state-XXXXXX";

static void remove_vsock_dir(void)
{
	rmdir(vsock_dir);
}

static void make_backing(void)
{
	int fd = memfd_create("drive", 0);

	if (fd < 0 || ftruncate(fd, 1 << 20) || !mkdtemp(vsock_dir))
		abort();
	snprintf(drive, sizeof(drive), "/proc/self/fd/%d", fd);
	atexit(remove_vsock_dir);
}

static void start_vm(enum virtio_transport_kind transport)
{
	struct vsock_config *vsock = vsock_config_of(&f.cfg);

	if (!drive[0])
		make_backing();
	memset(&f.cfg, 0, sizeof(f.cfg));
	f.cfg.transport = transport;
	rng_config_of(&f.cfg)->enabled = true;
	vcon_config_of(&f.cfg)->enabled = true;
	blk_config_of(&f.cfg)->nr_drives = 1;
	strcpy(blk_config_of(&f.cfg)->drives[0].path, drive);
	net_config_of(&f.cfg)->nr = 1;
	strcpy(net_config_of(&f.cfg)->nets[0].tap, "tap0");
	/* A fixed MAC: the base state must be the same bytes in every run, for the seeds' patches. */
	net_config_of(&f.cfg)->nets[0].mac_set = true;
	memcpy(net_config_of(&f.cfg)->nets[0].mac, (const uint8_t[6]){ 0x52, 0x54, 0, 0x12, 0x34, 0x56 }, 6);
	vsock->cid = 3;
	snprintf(vsock->uds, sizeof(vsock->uds), "%s/v.sock", vsock_dir);
	*balloon_config_of(&f.cfg) = (struct balloon_config){ .enabled = true, .stats_polling_interval_s = 1 };
	if (fake_host_init(&f, ram, sizeof(ram)))
		abort();
	for (unsigned i = 0; i < sizeof(platform) / sizeof(platform[0]); i++)
		if (fake_host_add(&f, platform[i]))
			abort();
	if (fake_host_add(&f, transport == VIRTIO_TRANSPORT_MMIO ? "virtio-mmio" : "pci"))
		abort();
	for (unsigned i = 0; i < NR_VIRTIO; i++)
		if (fake_host_add(&f, virtio[i].name))
			abort();
}

static void stop_vm(void)
{
	fake_host_exit(&f);
	close(fake_host_tap_peer);
	fake_host_tap_peer = -1;
}

static void mmio_write(uint64_t addr, uint32_t v)
{
	io_bus_access(&f.mmio, addr, (uint8_t *)&v, 4, true);
}

/* Ring pages set aside per window: the most queues a device above has, so every ring lies in ram. */
#define WINDOW_QUEUES 3

/* Every queue of the device in window w set up (size 8, rings in their own page each) and running. */
static void mmio_driver_setup(unsigned w, unsigned nr_queues)
{
	uint64_t m = VIRTIO_MMIO_BASE + (uint64_t)w * VIRTIO_MMIO_WINDOW;
	uint32_t s = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;

	mmio_write(m + VIRTIO_MMIO_STATUS, s);
	mmio_write(m + VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mmio_write(m + VIRTIO_MMIO_DRIVER_FEATURES, 1);
	mmio_write(m + VIRTIO_MMIO_STATUS, s | VIRTIO_CONFIG_S_FEATURES_OK);
	for (unsigned q = 0; q < nr_queues; q++) {
		uint32_t ring = 0x1000 * (1 + 3 * (WINDOW_QUEUES * w + q));

		mmio_write(m + VIRTIO_MMIO_QUEUE_SEL, q);
		mmio_write(m + VIRTIO_MMIO_QUEUE_NUM, 8);
		mmio_write(m + VIRTIO_MMIO_QUEUE_DESC_LOW, ring);
		mmio_write(m + VIRTIO_MMIO_QUEUE_DRIVER_LOW, ring + 0x1000);
		mmio_write(m + VIRTIO_MMIO_QUEUE_DEVICE_LOW, ring + 0x2000);
		mmio_write(m + VIRTIO_MMIO_QUEUE_READY, 1);
	}
	mmio_write(m + VIRTIO_MMIO_STATUS, s | VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
}

/* The VM's saved state to patch: made once per transport. */
static const struct state_writer *base_state(enum virtio_transport_kind transport)
{
	static struct state_writer saved[2];
	static bool made[2];
	unsigned i = transport == VIRTIO_TRANSPORT_MMIO;

	if (made[i])
		return &saved[i];
	memset(ram, 0, sizeof(ram));
	start_vm(transport);
	if (i)
		for (unsigned w = 0; w < NR_VIRTIO; w++)
			mmio_driver_setup(w, virtio[w].queues);
	state_writer_init(&saved[i]);
	if (devices_save(f.devices.devices, f.devices.nr, &saved[i]))
		abort();
	stop_vm();
	made[i] = true;
	return &saved[i];
}

/* A copy of base with the 3-byte ops of data applied (see the top); its length in *len. */
static uint8_t *patched(const struct state_writer *base, const uint8_t *data, size_t size, size_t *len)
{
	uint8_t *blob = malloc(base->len);

	if (!blob)
		abort();
	memcpy(blob, base->buf, base->len);
	*len = base->len;
	for (; size >= 3; data += 3, size -= 3) {
		size_t at = (size_t)data[0] | (size_t)data[1] << 8;

		if (at < *len)
			blob[at] = data[2];
		else
			*len = at - base->len < *len ? at - base->len : *len;
	}
	return blob;
}

static void real_devices(enum virtio_transport_kind transport, const uint8_t *data, size_t size)
{
	size_t len;
	uint8_t *blob = patched(base_state(transport), data, size, &len);
	struct state_reader r;
	struct errmsg e;

	memset(ram, 0, sizeof(ram));
	start_vm(transport);
	state_reader_init(&r, blob, len, "VM");
	if (!devices_restore(f.devices.devices, f.devices.nr, &r, &e))
		fake_host_run_io(&f, 8);
	stop_vm();
	free(blob);
}

/* Saved KVM state to patch: a vCPU's (XSAVE of 4096 bytes, a few MSRs) and a VM's, made once. */
static const struct state_writer *kvm_base(bool vcpu)
{
	static struct state_writer saved[2];
	static bool made[2];
	static struct vcpu_state s;
	struct vm_kvm_state vm = { 0 };

	if (made[vcpu])
		return &saved[vcpu];
	state_writer_init(&saved[vcpu]);
	if (vcpu) {
		s.xsave_size = sizeof(struct kvm_xsave);
		s.nr_msrs = 3;
		for (unsigned i = 0; i < s.nr_msrs; i++)
			s.msrs[i] = (struct kvm_msr_entry){ .index = 0x10 + i, .data = i };
		vcpu_state_write(&s, &saved[vcpu]);
	} else {
		vm.pic_slave.chip_id = KVM_IRQCHIP_PIC_SLAVE;
		vm.ioapic.chip_id = KVM_IRQCHIP_IOAPIC;
		vm_kvm_state_write(&vm, &saved[vcpu]);
	}
	if (saved[vcpu].err)
		abort();
	made[vcpu] = true;
	return &saved[vcpu];
}

/* A record that reads well writes back to the very bytes it was read from. */
static void kvm_records(bool vcpu, const uint8_t *data, size_t size)
{
	static struct vcpu_state s;
	struct vm_kvm_state vm;
	struct state_writer w;
	struct state_reader r;
	struct errmsg e;
	size_t len;
	uint8_t *blob = patched(kvm_base(vcpu), data, size, &len);

	state_reader_init(&r, blob, len, vcpu ? "vcpu" : "vm");
	if (vcpu)
		vcpu_state_read(&r, sizeof(struct kvm_xsave), &s);
	else
		vm_kvm_state_read(&r, &vm);
	if (!state_reader_done(&r, &e)) {
		state_writer_init(&w);
		if (vcpu)
			vcpu_state_write(&s, &w);
		else
			vm_kvm_state_write(&vm, &w);
		if (w.err || w.len != len || memcmp(w.buf, blob, len))
			abort();
		state_writer_free(&w);
	}
	free(blob);
}

static void config_section(const uint8_t *data, size_t size)
{
	/* Static: a vm_config is large, and zeroed before vm_config_init. */
	static struct vm_config cfg;
	struct state_writer w;
	struct errmsg e;

	memset(&cfg, 0, sizeof(cfg));
	vm_config_init(&cfg);
	if (snapshot_config_read(data, size, SNAPSHOT_CONFIG_VERSION, &cfg, &e))
		return;
	state_writer_init(&w);
	snapshot_config_write(&cfg, &w);
	if (w.err || snapshot_config_read(w.buf, w.len, SNAPSHOT_CONFIG_VERSION, &cfg, &e))
		abort();
	state_writer_free(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	switch (data[0]) {
	case 0:
		stand_ins(data + 1, size - 1);
		break;
	case 1:
		real_devices(VIRTIO_TRANSPORT_PCI, data + 1, size - 1);
		break;
	case 2:
		real_devices(VIRTIO_TRANSPORT_MMIO, data + 1, size - 1);
		break;
	case 3:
	case 4:
		kvm_records(data[0] == 3, data + 1, size - 1);
		break;
	case 5:
		config_section(data + 1, size - 1);
		break;
	}
	return 0;
}
