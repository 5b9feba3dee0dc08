// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for what a guest driver can do to a virtio device: the
 * first byte picks the device (blk, net, console, rng, fs, balloon, vsock), the transport
 * (virtio-pci or virtio-mmio) and a rate limiter; the rest is a program of register accesses
 * (PCI configuration space, the BAR or the MMIO window), writes of ring
 * contents into guest RAM, queue kicks, host input (console bytes, frames
 * from the "tap", or its hang-up; the API's GET and PATCH of the balloon;
 * for vsock a host client's bytes on the device's Unix socket, or its close)
 * and a shortcut that negotiates features and sets up every queue the way a
 * driver does. The device's work runs synchronously on the
 * fuzzer's thread (tests/common/fake_host.h). Backends are harmless: the disk is
 * a memfd, the tap a SOCK_SEQPACKET socketpair, the console a pipe, the share
 * a read-only one of a temporary directory holding one file (what a guest
 * can change through a share is the `share` target's), vsock's sockets live
 * in a temporary directory, with a host listener on port 5 that accepts
 * nothing (connections wait in its backlog until the run ends).
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <linux/pci_regs.h>
#include <linux/virtio_pci.h>

#include "devices/pci.h"
#include "fake_host.h"
#include "api/json.h"
#include "api/section.h"
#include "virtio/balloon.h"
#include "virtio/mmio.h"
#include "virtio/net.h"
#include "virtio/virtio.h"
#include "virtio/blk.h"
#include "virtio/rng.h"
#include "virtio/console.h"
#include "virtio/fs.h"
#include "virtio/vsock.h"

/* Small, so that addresses drawn from the input land in it often. */
#define RAM_SIZE (64u << 10)
#define DISK_SIZE (64u << 10)
/* Where the pci host bridge puts the first device, and the BAR's size (src/virtio/pci.c). */
#define PCI_SLOT 1
#define PCI_BAR_SIZE 0x8000
#define PCI_NOTIFY 0x3000
#define PCI_NOTIFY_MULTIPLIER 4
/* Work the harness lets queued events do after each kick: enough to drain any ring. */
#define IO_ROUNDS 8

/* The first four by the selector's bits 0-1; by its bits 4-5: 01 virtio-fs, 10 virtio-balloon, 11 virtio-vsock. */
enum device_kind { DEV_BLK, DEV_NET, DEV_CONSOLE, DEV_RNG, DEV_FS, DEV_BALLOON, DEV_VSOCK };
static const char *const device_names[] = { "virtio-blk", "virtio-net", "virtio-console", "virtio-rng", "virtio-fs",
					    "virtio-balloon", "virtio-vsock" };
/* The guest's CID (the seeds' packets carry it) and the port of the host's listener. */
#define VSOCK_CID 3
#define VSOCK_HOST_PORT 5

/*
 * The input: a selector byte (bits 0-1 the device, bit 2 MMIO rather than
 * PCI, bit 3 a read-only disk, a 4-pair net or a balloon without statistics, bits 4-5 virtio-fs (01),
 * virtio-balloon (10) or virtio-vsock (11) instead, bits 6-7 a rate limiter on blk, net's first pair's two
 * queues and rng: one of `limiters`), then ops, each an op byte (modulo OP_COUNT),
 * a size byte (1 << (byte & 3) bytes) and its arguments, little-endian:
 *   REG_WRITE offset:2 value:size    REG_READ offset:2    (in the BAR or window)
 *   CFG_WRITE offset:1 value:size    CFG_READ offset:1    (PCI configuration space)
 *   MEM_WRITE gpa:2 len:1 bytes      KICK queue:1         HOST_INPUT len:1 bytes
 *     (the balloon's: len % 3 picks GET /balloon, GET /balloon/statistics or PATCH /balloon)
 *   DRIVER_SETUP features:4, then per queue size:2 desc:2 avail:2 used:2
 * Missing bytes read as 0.
 */
enum op { OP_REG_WRITE, OP_REG_READ, OP_CFG_WRITE, OP_CFG_READ, OP_MEM_WRITE, OP_KICK, OP_HOST_INPUT, OP_DRIVER_SETUP,
	  OP_COUNT };

/*
 * Millisecond refills, so that the limiter's timer fires between ops now
 * and then: an ops limit, a bandwidth limit smaller than most requests
 * (served into debt), and both with a one-time burst.
 */
static const struct rate_limiter_config limiters[4] = {
	[1] = { .ops = { .size = 1, .refill_time_ms = 1 } },
	[2] = { .bandwidth = { .size = 512, .refill_time_ms = 1 } },
	[3] = { .bandwidth = { .size = 4096, .one_time_burst = 65536, .refill_time_ms = 2 },
		.ops = { .size = 4, .refill_time_ms = 1 } },
};

static uint8_t ram[RAM_SIZE];
static struct fake_host f;
static int disk_fd = -1;
static char share_dir[64], share_file[80];
static char vsock_dir[48], vsock_uds[64], vsock_port_path[80];
static int vsock_client = -1, vsock_listener = -1;

static void remove_share(void)
{
	unlink(share_file);
	rmdir(share_dir);
}

static void remove_vsock_dir(void)
{
	rmdir(vsock_dir);
}

/* vsock's directory, made once; the device makes and removes its socket there every run. */
static int make_vsock_dir(void)
{
	if (vsock_dir[0])
		return 0;
	snprintf(vsock_dir, sizeof(vsock_dir), "/tmp/kvmini-fuzz-vsock-XXXXXX");
	if (!mkdtemp(vsock_dir))
		return -1;
	atexit(remove_vsock_dir);
	snprintf(vsock_uds, sizeof(vsock_uds), "%s/v.sock", vsock_dir);
	snprintf(vsock_port_path, sizeof(vsock_port_path), "%s_%u", vsock_uds, VSOCK_HOST_PORT);
	return 0;
}

static int unix_socket_at(const char *path, bool listener)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd >= 0 && (listener ? bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 128)
				 : connect(fd, (struct sockaddr *)&sa, sizeof(sa)))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A host client's bytes on the device's socket (connecting first), or its close (no bytes). */
static void vsock_host_input(const uint8_t *buf, size_t len)
{
	if (!len) {
		if (vsock_client >= 0)
			close(vsock_client);
		vsock_client = -1;
		return;
	}
	if (vsock_client < 0)
		vsock_client = unix_socket_at(vsock_uds, false);
	if (vsock_client >= 0)
		(void)!send(vsock_client, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* The shared directory, made once: the share is read-only, so every run finds it as it was. */
static int make_share(void)
{
	FILE *file;

	if (share_dir[0])
		return 0;
	snprintf(share_dir, sizeof(share_dir), "/tmp/kvmini-fuzz-virtio-fs-XXXXXX");
	if (!mkdtemp(share_dir))
		return -1;
	atexit(remove_share);
	snprintf(share_file, sizeof(share_file), "%s/file", share_dir);
	file = fopen(share_file, "w");
	if (!file)
		return -1;
	fputs("hello", file);
	return fclose(file);
}

struct input {
	const uint8_t *p;
	size_t left;
};

static uint64_t take(struct input *in, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes && in->left; i++, in->left--)
		v |= (uint64_t)*in->p++ << (8 * i);
	return v;
}


/* The transport's registers a driver uses to set a device up, by what they do. */
enum reg { R_STATUS, R_DEV_FEAT_SEL, R_DRV_FEAT_SEL, R_DRV_FEAT, R_QSEL, R_QNUM, R_QDESC, R_QAVAIL, R_QUSED, R_QREADY };
static const struct {
	uint16_t pci, pci_size, mmio;
} regs[] = {
	[R_STATUS] = { offsetof(struct virtio_pci_common_cfg, device_status), 1, VIRTIO_MMIO_STATUS },
	[R_DEV_FEAT_SEL] = { offsetof(struct virtio_pci_common_cfg, device_feature_select), 4,
			     VIRTIO_MMIO_DEVICE_FEATURES_SEL },
	[R_DRV_FEAT_SEL] = { offsetof(struct virtio_pci_common_cfg, guest_feature_select), 4,
			     VIRTIO_MMIO_DRIVER_FEATURES_SEL },
	[R_DRV_FEAT] = { offsetof(struct virtio_pci_common_cfg, guest_feature), 4, VIRTIO_MMIO_DRIVER_FEATURES },
	[R_QSEL] = { offsetof(struct virtio_pci_common_cfg, queue_select), 2, VIRTIO_MMIO_QUEUE_SEL },
	[R_QNUM] = { offsetof(struct virtio_pci_common_cfg, queue_size), 2, VIRTIO_MMIO_QUEUE_NUM },
	[R_QDESC] = { offsetof(struct virtio_pci_common_cfg, queue_desc_lo), 4, VIRTIO_MMIO_QUEUE_DESC_LOW },
	[R_QAVAIL] = { offsetof(struct virtio_pci_common_cfg, queue_avail_lo), 4, VIRTIO_MMIO_QUEUE_DRIVER_LOW },
	[R_QUSED] = { offsetof(struct virtio_pci_common_cfg, queue_used_lo), 4, VIRTIO_MMIO_QUEUE_DEVICE_LOW },
	[R_QREADY] = { offsetof(struct virtio_pci_common_cfg, queue_enable), 2, VIRTIO_MMIO_QUEUE_READY },
};

struct target {
	bool mmio;
	uint64_t base; /* of the BAR or the MMIO window */
	unsigned nr_queues;
};

static void window_access(const struct target *t, uint64_t offset, uint64_t *value, unsigned size, bool is_write)
{
	offset %= t->mmio ? VIRTIO_MMIO_WINDOW : PCI_BAR_SIZE;
	io_bus_access(&f.mmio, t->base + offset, (uint8_t *)value, size, is_write);
}

static void reg_write(const struct target *t, enum reg r, uint64_t v)
{
	if (t->mmio)
		window_access(t, regs[r].mmio, &v, 4, true);
	else
		window_access(t, regs[r].pci, &v, regs[r].pci_size, true);
}

static uint32_t reg_read(const struct target *t, uint16_t mmio_offset, uint16_t pci_offset)
{
	uint64_t v = 0;

	window_access(t, t->mmio ? mmio_offset : pci_offset, &v, 4, false);
	return (uint32_t)v;
}

/* Configuration mechanism #1, as a guest uses it: the address at 0xCF8, the data at 0xCFC-0xCFF. */
static void pci_cfg_access(unsigned offset, uint64_t *value, unsigned size, bool is_write)
{
	uint32_t address = 0x80000000u | PCI_SLOT << 11 | (offset & 0xfc);

	io_bus_access(&f.pio, 0xcf8, (uint8_t *)&address, 4, true);
	io_bus_access(&f.pio, 0xcfc + (offset & 3), (uint8_t *)value, size, is_write);
}

static void kick(const struct target *t, unsigned q)
{
	uint64_t v = q;

	if (t->mmio)
		window_access(t, VIRTIO_MMIO_QUEUE_NOTIFY, &v, 4, true);
	else
		window_access(t, PCI_NOTIFY + q * PCI_NOTIFY_MULTIPLIER, &v, 2, true);
	fake_host_run_io(&f, IO_ROUNDS);
}

/* What a driver does at probe: reset, negotiate (the input picks among the offered bits), set up each queue. */
static void driver_setup(const struct target *t, struct input *in)
{
	uint32_t offered[2], want = (uint32_t)take(in, 4);

	reg_write(t, R_STATUS, 0);
	reg_write(t, R_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	for (unsigned word = 0; word < 2; word++) {
		reg_write(t, R_DEV_FEAT_SEL, word);
		offered[word] = reg_read(t, VIRTIO_MMIO_DEVICE_FEATURES,
					 offsetof(struct virtio_pci_common_cfg, device_feature));
		reg_write(t, R_DRV_FEAT_SEL, word);
		reg_write(t, R_DRV_FEAT, word ? offered[1] : offered[0] & want);
	}
	reg_write(t, R_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
	for (unsigned q = 0; q < t->nr_queues; q++) {
		reg_write(t, R_QSEL, q);
		reg_write(t, R_QNUM, take(in, 2));
		reg_write(t, R_QDESC, take(in, 2));
		reg_write(t, R_QAVAIL, take(in, 2));
		reg_write(t, R_QUSED, take(in, 2));
		reg_write(t, R_QREADY, 1);
	}
	reg_write(t, R_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK |
				       VIRTIO_CONFIG_S_DRIVER_OK);
}

/* What the API asks of a running balloon, through its record's hooks, as the I/O thread runs them. */
static void balloon_api(unsigned what)
{
	const struct device_ops *ops = device_find("virtio-balloon");
	static const char patch[] = "{\"amount_mib\": 0}";
	struct api_config_change c = { .section = ops->api };
	struct errmsg e;
	struct json_out j;
	char out[1024];

	json_out_init(&j, out, sizeof(out));
	json_object_begin(&j, NULL);
	if (what == 2 && !ops->api->parse_patch(patch, sizeof(patch) - 1, &c, &e))
		ops->api_patch(fake_host_last(&f), &c, &e);
	else if (what < 2)
		ops->api_get(fake_host_last(&f), what ? "statistics" : "", &j, &e);
}

static void host_input(enum device_kind kind, struct input *in)
{
	uint8_t buf[256];
	size_t len = take(in, 1);

	len = len < in->left ? len : in->left;
	memcpy(buf, in->p, len);
	in->p += len;
	in->left -= len;
	if (kind == DEV_BALLOON) {
		balloon_api(len % 3);
	} else if (kind == DEV_CONSOLE) {
		fake_host_console_input(&f, buf, len);
	} else if (kind == DEV_VSOCK) {
		vsock_host_input(buf, len);
	} else if (kind == DEV_NET && !len && fake_host_tap_peer >= 0) {
		/* An empty frame stands for the tap's interface going away. */
		close(fake_host_tap_peer);
		fake_host_tap_peer = -1;
	} else if (kind == DEV_NET && fake_host_tap_peer >= 0 &&
		   send(fake_host_tap_peer, buf, len, MSG_DONTWAIT) < 0) {
		return;
	}
	fake_host_run_io(&f, IO_ROUNDS);
}

/* Frames the guest sent pile up in the socket; a tap's reader would take them. */
static void drain_tap(void)
{
	uint8_t frame[2048];

	while (fake_host_tap_peer >= 0 && recv(fake_host_tap_peer, frame, sizeof(frame), MSG_DONTWAIT) >= 0)
		;
}

static void run(const struct target *t, enum device_kind kind, struct input *in)
{
	while (in->left) {
		unsigned op = take(in, 1) % OP_COUNT, size = 1u << (take(in, 1) & 3);
		uint64_t offset, v;

		switch (op) {
		case OP_REG_WRITE:
			offset = take(in, 2);
			v = take(in, size);
			window_access(t, offset, &v, size, true);
			break;
		case OP_REG_READ:
			window_access(t, take(in, 2), &v, size, false);
			break;
		case OP_CFG_WRITE:
		case OP_CFG_READ:
			if (t->mmio || size > 4)
				break;
			offset = take(in, 1);
			v = op == OP_CFG_WRITE ? take(in, size) : 0;
			pci_cfg_access((unsigned)offset, &v, size, op == OP_CFG_WRITE);
			break;
		case OP_MEM_WRITE:
			offset = take(in, 2) % RAM_SIZE;
			v = take(in, 1);
			v = v < in->left ? v : in->left;
			v = v < RAM_SIZE - offset ? v : RAM_SIZE - offset;
			memcpy(ram + offset, in->p, v);
			in->p += v;
			in->left -= v;
			break;
		case OP_KICK:
			kick(t, (unsigned)take(in, 1) % t->nr_queues);
			break;
		case OP_HOST_INPUT:
			host_input(kind, in);
			break;
		case OP_DRIVER_SETUP:
			driver_setup(t, in);
			break;
		}
		drain_tap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	uint8_t selector = (uint8_t)take(&in, 1);
	static const enum device_kind by_bits_4_5[] = { DEV_BLK, DEV_FS, DEV_BALLOON, DEV_VSOCK };
	enum device_kind kind = (selector & 48) ? by_bits_4_5[(selector >> 4) & 3] : (enum device_kind)(selector % 4);
	struct target t = { .mmio = selector & 4 };
	struct virtio_dev *dev;
	uint64_t command = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, bar = 0;

	if (disk_fd < 0)
		disk_fd = memfd_create("fuzz-disk", MFD_CLOEXEC);
	/* A fresh, zeroed disk every run: runs must not depend on one another. */
	if (disk_fd < 0 || ftruncate(disk_fd, 0) || ftruncate(disk_fd, DISK_SIZE) || make_share() || make_vsock_dir())
		return 0;
	memset(ram, 0, sizeof(ram));
	memset(&f.cfg, 0, sizeof(f.cfg));
	f.cfg.acpi = true;
	f.cfg.transport = t.mmio ? VIRTIO_TRANSPORT_MMIO : VIRTIO_TRANSPORT_PCI;
	blk_config_of(&f.cfg)->nr_drives = kind == DEV_BLK;
	snprintf(blk_config_of(&f.cfg)->drives[0].path, sizeof(blk_config_of(&f.cfg)->drives[0].path), "/proc/self/fd/%d", disk_fd);
	snprintf(blk_config_of(&f.cfg)->drives[0].id, sizeof(blk_config_of(&f.cfg)->drives[0].id), "fuzz");
	blk_config_of(&f.cfg)->drives[0].readonly = selector & 8;
	blk_config_of(&f.cfg)->drives[0].rate_limiter = limiters[selector >> 6];
	net_config_of(&f.cfg)->nets[0].rx_rate_limiter = limiters[selector >> 6];
	net_config_of(&f.cfg)->nets[0].tx_rate_limiter = limiters[selector >> 6];
	rng_config_of(&f.cfg)->rate_limiter = limiters[selector >> 6];
	net_config_of(&f.cfg)->nr = kind == DEV_NET;
	/* Bit 3 also makes the interface multiqueue: 4 pairs and the control queue; host frames reach the last pair. */
	net_config_of(&f.cfg)->nets[0].queues = selector & 8 ? 4 : 0;
	snprintf(net_config_of(&f.cfg)->nets[0].tap, sizeof(net_config_of(&f.cfg)->nets[0].tap), "fuzz0");
	vcon_config_of(&f.cfg)->enabled = kind == DEV_CONSOLE;
	rng_config_of(&f.cfg)->enabled = kind == DEV_RNG;
	/* RAM is under 1 MiB: the only target is 0, and PATCH /balloon asks for it again. */
	*balloon_config_of(&f.cfg) = (struct balloon_config){ .enabled = kind == DEV_BALLOON, .deflate_on_oom = true,
							      .stats_polling_interval_s = selector & 8 ? 0 : 1 };
	if (kind == DEV_VSOCK) {
		vsock_config_of(&f.cfg)->cid = VSOCK_CID;
		snprintf(vsock_config_of(&f.cfg)->uds, sizeof(vsock_config_of(&f.cfg)->uds), "%s", vsock_uds);
		vsock_listener = unix_socket_at(vsock_port_path, true);
	}
	if (kind == DEV_FS && fs_config_add_share(fs_config_of(&f.cfg), share_dir, "fuzz", true, &(struct errmsg){ 0 }))
		abort();
	fake_host_tap_peer = -1;

	if (fake_host_init(&f, ram, sizeof(ram)) || fake_host_add(&f, t.mmio ? "virtio-mmio" : "pci") ||
	    fake_host_add(&f, device_names[kind]))
		abort();
	dev = virtio_kind_device(fake_host_last(&f), 0);
	t.nr_queues = dev->nr_queues;
	if (t.mmio) {
		t.base = VIRTIO_MMIO_BASE;
	} else {
		pci_cfg_access(PCI_COMMAND, &command, 2, true);
		pci_cfg_access(PCI_BASE_ADDRESS_0, &bar, 4, false);
		t.base = bar & PCI_BASE_ADDRESS_MEM_MASK;
	}
	run(&t, kind, &in);
	fake_host_run_io(&f, IO_ROUNDS);
	fake_host_exit(&f);
	if (fake_host_tap_peer >= 0)
		close(fake_host_tap_peer);
	if (vsock_client >= 0)
		close(vsock_client);
	if (vsock_listener >= 0) {
		close(vsock_listener);
		unlink(vsock_port_path);
	}
	vsock_client = vsock_listener = -1;
	return 0;
}
