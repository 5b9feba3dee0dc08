// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-net's data path over plain rings in a RAM buffer and a fake tap (a
 * SOCK_SEQPACKET socketpair, tests/common/fake_host.c): the offloads offered
 * and set on the tap; transmit headers refused by each rule dropped, counted
 * and never written to the tap, a good one sent with its header; received
 * frames spread over several chains with VIRTIO_NET_F_MRG_RXBUF, and a frame
 * waiting in the tap while the guest has too few buffers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <assert.h>
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#include "fake_host.h"
#include "state.h"
#include "virtio/net.h"
#include "virtio/virtio.h"
#include "virtio/vnet_hdr.h"

/* Each test is killed (SIGALRM) if it runs longer. */
#define TEST_TIMEOUT_S 20
#define RAM_SIZE (1u << 20)
#define QSIZE 256
#define NET_RXQ 0
#define NET_TXQ 1
/* Each queue's rings, then the buffers. */
#define DESC_GPA(q) (0x1000u + (q) * 0x4000u)
#define AVAIL_GPA(q) (DESC_GPA(q) + 0x1000u)
#define USED_GPA(q) (DESC_GPA(q) + 0x2000u)
#define DATA_GPA 0x30000u /* after the rings of 2 * 4 + 1 queues */
#define HDR sizeof(struct virtio_net_hdr_v1)
#define BIT(f) (1ULL << (f))
/* Every offload the fake tap allows, and merged receive buffers. */
#define ALL_FEATURES                                                                                        \
	(BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_GUEST_CSUM) |                   \
	 BIT(VIRTIO_NET_F_HOST_TSO4) | BIT(VIRTIO_NET_F_HOST_TSO6) | BIT(VIRTIO_NET_F_GUEST_TSO4) |          \
	 BIT(VIRTIO_NET_F_GUEST_TSO6) | BIT(VIRTIO_NET_F_MRG_RXBUF))

static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));
static struct fake_host f;
static struct virtio_dev *dev;

/* The machine: virtio-mmio and one virtio-net interface on the fake tap with `queues` pairs, over ram as it is. */
static int make_vm_queues(unsigned queues)
{
	memset(&f.cfg, 0, sizeof(f.cfg));
	if (fake_host_init(&f, ram, sizeof(ram)))
		return -1;
	f.cfg.transport = VIRTIO_TRANSPORT_MMIO;
	fake_host_tap_opened = 0;
	net_config_of(&f.cfg)->nets[0].queues = (uint8_t)queues;
	net_config_of(&f.cfg)->nr = 1;
	snprintf(net_config_of(&f.cfg)->nets[0].tap, sizeof(net_config_of(&f.cfg)->nets[0].tap), "tap0");
	snprintf(net_config_of(&f.cfg)->nets[0].id, sizeof(net_config_of(&f.cfg)->nets[0].id), "eth0");
	if (fake_host_add(&f, "virtio-mmio") || fake_host_add(&f, "virtio-net"))
		return -1;
	dev = virtio_kind_device(fake_host_last(&f), 0);
	return dev ? 0 : -1;
}

static int make_vm(void)
{
	return make_vm_queues(1);
}

static int setup(void **state)
{
	(void)state;
	alarm(TEST_TIMEOUT_S);
	memset(ram, 0, sizeof(ram));
	return make_vm();
}

static int teardown(void **state)
{
	(void)state;
	fake_host_exit(&f);
	alarm(0);
	return 0;
}

static void set_status(uint8_t status)
{
	pthread_mutex_lock(&dev->lock);
	virtio_set_status(dev, status);
	pthread_mutex_unlock(&dev->lock);
}

/* The driver's set-up, from a reset: every queue, the features given; whether FEATURES_OK held. */
static bool start_net(uint64_t features)
{
	const uint8_t base = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;

	set_status(0);
	memset(ram, 0, DATA_GPA);
	for (unsigned q = 0; q < dev->nr_queues; q++)
		dev->vqs[q] = (struct virtqueue){ .size = QSIZE, .desc_gpa = DESC_GPA(q), .avail_gpa = AVAIL_GPA(q),
						  .used_gpa = USED_GPA(q), .enabled = true,
						  .msix_vector = 0xffff };
	set_status(base);
	pthread_mutex_lock(&dev->lock);
	virtio_set_driver_features(dev, 0, (uint32_t)features);
	virtio_set_driver_features(dev, 1, (uint32_t)(features >> 32));
	pthread_mutex_unlock(&dev->lock);
	set_status(base | VIRTIO_CONFIG_S_FEATURES_OK);
	if (!(dev->status & VIRTIO_CONFIG_S_FEATURES_OK))
		return false;
	set_status(base | VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	assert_true(virtio_device_live(dev));
	return true;
}

static void set_desc(unsigned q, unsigned i, uint64_t gpa, uint32_t len, bool writable)
{
	struct vring_desc *desc = (struct vring_desc *)(ram + DESC_GPA(q));

	desc[i] = (struct vring_desc){ .addr = htole64(gpa), .len = htole32(len),
				       .flags = htole16(writable ? VRING_DESC_F_WRITE : 0) };
}

/* Makes descriptor i available on queue q as a chain of its own. */
static void offer(unsigned q, unsigned i)
{
	struct vring_avail *avail = (struct vring_avail *)(ram + AVAIL_GPA(q));
	uint16_t idx = le16toh(avail->idx);

	avail->ring[idx % QSIZE] = htole16((uint16_t)i);
	avail->idx = htole16((uint16_t)(idx + 1));
}

static struct vring_used *used(unsigned q)
{
	return (struct vring_used *)(ram + USED_GPA(q));
}

static void notify(unsigned q)
{
	pthread_mutex_lock(&dev->lock);
	dev->ops->queue_notify(dev, q);
	pthread_mutex_unlock(&dev->lock);
}

/* The device's drop counter named `reason`, through its stats row. */
static uint64_t dropped(const char *reason)
{
	struct device_stats row;

	assert_int_equal(virtio_kind_stats(fake_host_last(&f), &row, 1), 1);
	for (unsigned i = 0; i < row.nr_drops; i++)
		if (!strcmp(row.drops[i].reason, reason))
			return row.drops[i].count;
	fail_msg("no drop counter '%s'", reason);
	return 0;
}

static void test_offloads_negotiated(void **state)
{
	(void)state;
	/* The fake tap takes every TUN_F_ offload: every one the device knows is offered. */
	assert_true((dev->device_features & ALL_FEATURES) == ALL_FEATURES);
	assert_true(start_net(ALL_FEATURES));
	assert_int_equal(fake_host_tap_offloads, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6);
	/* Receive checksums only: the tap may hand over partial checksums, no TSO frames. */
	assert_true(start_net(BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_GUEST_CSUM)));
	assert_int_equal(fake_host_tap_offloads, TUN_F_CSUM);
	/* A reset turns them off until the next driver chooses. */
	set_status(0);
	assert_int_equal(fake_host_tap_offloads, 0);
	/* TSO without the checksum offload it needs: FEATURES_OK is refused. */
	assert_false(start_net(BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_HOST_TSO4)));
	assert_false(start_net(BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_GUEST_TSO4)));
}

/* A header as the guest writes it (little-endian). */
static struct virtio_net_hdr_v1 hdr(uint8_t flags, uint8_t gso_type, uint16_t gso_size, uint16_t hdr_len,
				    uint16_t csum_start, uint16_t csum_offset)
{
	return (struct virtio_net_hdr_v1){ .flags = flags, .gso_type = gso_type, .hdr_len = htole16(hdr_len),
					   .gso_size = htole16(gso_size), .csum_start = htole16(csum_start),
					   .csum_offset = htole16(csum_offset) };
}

/* Offers one frame of frame_len bytes (a pattern) behind h on transmit queue q, from descriptor i. */
static void offer_tx(unsigned q, unsigned i, const struct virtio_net_hdr_v1 *h, size_t frame_len)
{
	uint64_t gpa = DATA_GPA + i * 0x1000u;

	memcpy(ram + gpa, h, HDR);
	for (size_t k = 0; k < frame_len; k++)
		ram[gpa + HDR + k] = (uint8_t)(k * 7 + i);
	set_desc(q, i, gpa, (uint32_t)(HDR + frame_len), false);
	offer(q, i);
}

/* Sends one frame on the transmit queue, from descriptor i. */
static void transmit(unsigned i, const struct virtio_net_hdr_v1 *h, size_t frame_len)
{
	offer_tx(NET_TXQ, i, h, frame_len);
	notify(NET_TXQ);
}

static void test_tx_bad_headers_dropped(void **state)
{
	const uint8_t csum = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	const struct {
		uint64_t features;
		struct virtio_net_hdr_v1 h;
		enum vnet_tx_verdict verdict;
	} cases[] = {
		{ ALL_FEATURES, hdr(VIRTIO_NET_HDR_F_DATA_VALID, 0, 0, 0, 0, 0), VNET_TX_BAD_FLAGS },
		{ BIT(VIRTIO_F_VERSION_1), hdr(csum, 0, 0, 0, 34, 16), VNET_TX_CSUM_NOT_NEGOTIATED },
		{ ALL_FEATURES, hdr(csum, 0, 0, 0, 90, 16), VNET_TX_CSUM_OUTSIDE_FRAME },
		{ ALL_FEATURES, hdr(csum, 2, 40, 54, 34, 16), VNET_TX_GSO_UNKNOWN },
		{ ALL_FEATURES, hdr(csum, VIRTIO_NET_HDR_GSO_UDP, 40, 42, 34, 6), VNET_TX_GSO_NOT_NEGOTIATED },
		{ ALL_FEATURES, hdr(0, VIRTIO_NET_HDR_GSO_TCPV4, 40, 54, 0, 0), VNET_TX_GSO_WITHOUT_CSUM },
		{ ALL_FEATURES, hdr(csum, VIRTIO_NET_HDR_GSO_TCPV4, 0, 54, 34, 16), VNET_TX_GSO_SIZE },
		{ ALL_FEATURES, hdr(0, 0, 0, 200, 0, 0), VNET_TX_HDR_LEN },
		{ ALL_FEATURES, { .num_buffers = htole16(1) }, VNET_TX_NUM_BUFFERS },
	};
	const struct virtio_net_hdr_v1 good = hdr(csum, VIRTIO_NET_HDR_GSO_TCPV4, 40, 54, 34, 16);
	uint8_t got[HDR + 200];

	(void)state;
	static_assert(sizeof(cases) / sizeof(cases[0]) == VNET_TX_VERDICTS - 1, "a case per refusal");
	for (unsigned c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const char *reason = vnet_tx_verdict_name(cases[c].verdict);

		assert_true(start_net(cases[c].features));
		assert_int_equal(dropped(reason), 0);
		transmit(0, &cases[c].h, 100);
		/* Handed back, counted under its reason, and nothing reached the tap. */
		assert_int_equal(le16toh(used(NET_TXQ)->idx), 1);
		assert_int_equal(dropped(reason), 1);
		assert_int_equal(recv(fake_host_tap_peer, got, sizeof(got), MSG_DONTWAIT), -1);
		assert_int_equal(errno, EAGAIN);
	}

	/* A TSO frame with a partial checksum goes, its header as the guest wrote it in front. */
	assert_true(start_net(ALL_FEATURES));
	transmit(1, &good, 200);
	assert_int_equal(le16toh(used(NET_TXQ)->idx), 1);
	assert_int_equal(recv(fake_host_tap_peer, got, sizeof(got), MSG_DONTWAIT), HDR + 200);
	assert_memory_equal(got, &good, HDR);
	assert_memory_equal(got + HDR, ram + DATA_GPA + 0x1000 + HDR, 200);
	assert_int_equal(dropped("bad_flags"), 1); /* a reset keeps the device's counters */
	assert_int_equal(dropped("tx_too_big"), 0);
	assert_int_equal(dropped("rx_too_big"), 0);
}

/* Offers n receive chains of `size` bytes each, descriptors first.. on. */
static void offer_rx(unsigned first, unsigned n, uint32_t size)
{
	for (unsigned i = first; i < first + n; i++) {
		set_desc(NET_RXQ, i, DATA_GPA + i * 2048u, size, true);
		offer(NET_RXQ, i);
	}
}

/* A frame of len bytes with a zero header, its data a pattern seeded by seed, into the tap. */
static void tap_send(size_t len, uint8_t seed, uint8_t *frame)
{
	memset(frame, 0, HDR);
	for (size_t k = HDR; k < len; k++)
		frame[k] = (uint8_t)(k * 13 + seed);
	assert_int_equal(send(fake_host_tap_peer, frame, len, 0), (ssize_t)len);
}

static void test_rx_merged_buffers(void **state)
{
	static uint8_t frame[4000], back[4000];
	struct virtio_net_hdr_v1 h;
	size_t at = 0;

	(void)state;
	assert_true(start_net(ALL_FEATURES));
	/* 40 chains of 1500 bytes: too few for the largest frame, so a frame waits in the tap. */
	offer_rx(0, 40, 1500);
	tap_send(sizeof(frame), 1, frame);
	fake_host_run_io(&f, 8);
	assert_int_equal(le16toh(used(NET_RXQ)->idx), 0);
	/* The guest adds buffers and kicks: the frame spans three of them. */
	offer_rx(40, 10, 1500);
	notify(NET_RXQ);
	assert_int_equal(le16toh(used(NET_RXQ)->idx), 1 * 3);
	for (unsigned i = 0; i < 3; i++) {
		uint32_t len = le32toh(used(NET_RXQ)->ring[i].len);

		assert_int_equal(le32toh(used(NET_RXQ)->ring[i].id), i);
		assert_int_equal(len, i < 2 ? 1500 : 1000);
		memcpy(back + at, ram + DATA_GPA + i * 2048u, len);
		at += len;
	}
	memcpy(&h, back, HDR);
	assert_int_equal(le16toh(h.num_buffers), 3);
	assert_memory_equal(back + HDR, frame + HDR, sizeof(frame) - HDR);
	assert_int_equal(dev->bytes_to_guest, sizeof(frame));

	/* The next frame starts in the next chain, alone. */
	tap_send(100, 2, frame);
	fake_host_run_io(&f, 8);
	assert_int_equal(le16toh(used(NET_RXQ)->idx), 4);
	assert_int_equal(le32toh(used(NET_RXQ)->ring[3].id), 3);
	assert_int_equal(le32toh(used(NET_RXQ)->ring[3].len), 100);
	memcpy(&h, ram + DATA_GPA + 3 * 2048u, HDR);
	assert_int_equal(le16toh(h.num_buffers), 1);
	assert_memory_equal(ram + DATA_GPA + 3 * 2048u + HDR, frame + HDR, 100 - HDR);
	assert_int_equal(dropped("rx_too_big"), 0);
}

/*
 * Saved while it holds receive chains (too few for the largest frame), the
 * device restored in a new process hands them all back to the ring, sets
 * the negotiated offloads on its new tap, and takes the chains again in
 * order for the next frame.
 */
static void test_snapshot_held_chains(void **state)
{
	static uint8_t frame[4000];
	struct state_writer w;
	struct state_reader r;
	struct errmsg e = { "" };
	struct virtio_net_hdr_v1 h;

	(void)state;
	assert_true(start_net(ALL_FEATURES));
	offer_rx(0, 40, 1500);
	fake_host_run_io(&f, 8);
	assert_int_equal(le16toh(used(NET_RXQ)->idx), 0);
	state_writer_init(&w);
	assert_int_equal(devices_save(f.devices.devices, f.devices.nr, &w), 0);
	fake_host_exit(&f);

	assert_int_equal(make_vm(), 0);
	fake_host_tap_offloads = 0; /* a new tap, as opened: its offloads off */
	state_reader_init(&r, w.buf, w.len, "VM");
	assert_int_equal(devices_restore(f.devices.devices, f.devices.nr, &r, &e), 0);
	assert_int_equal(fake_host_tap_offloads, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6);
	offer_rx(40, 10, 1500);
	tap_send(sizeof(frame), 5, frame);
	fake_host_run_io(&f, 8);
	assert_int_equal(le16toh(used(NET_RXQ)->idx), 3);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(le32toh(used(NET_RXQ)->ring[i].id), i);
	memcpy(&h, ram + DATA_GPA, HDR);
	assert_int_equal(le16toh(h.num_buffers), 3);
	assert_memory_equal(ram + DATA_GPA + HDR, frame + HDR, 1500 - HDR);
	state_writer_free(&w);
}

/* Without MRG_RXBUF every frame takes one chain, and num_buffers says 1. */
static void test_rx_one_chain_each(void **state)
{
	static uint8_t frame[1000];
	struct virtio_net_hdr_v1 h;

	(void)state;
	assert_true(start_net(BIT(VIRTIO_F_VERSION_1)));
	offer_rx(0, 2, 1500);
	tap_send(sizeof(frame), 3, frame);
	tap_send(60, 4, frame);
	fake_host_run_io(&f, 8);
	assert_int_equal(le16toh(used(NET_RXQ)->idx), 2);
	assert_int_equal(le32toh(used(NET_RXQ)->ring[0].len), sizeof(frame));
	assert_int_equal(le32toh(used(NET_RXQ)->ring[1].len), 60);
	memcpy(&h, ram + DATA_GPA, HDR);
	assert_int_equal(le16toh(h.num_buffers), 1);
}

/* The control queue of a 2-pair device, and where its commands and answers go. */
#define CTRLQ 4
#define CMD_GPA 0x20000u
#define ACK_GPA 0x21000u
#define MQ_FEATURES (ALL_FEATURES | BIT(VIRTIO_NET_F_MQ) | BIT(VIRTIO_NET_F_CTRL_VQ))

/* Sends a command of len bytes (class, command, data) as descriptor i and returns the device's answer. */
static uint8_t ctrl(unsigned i, const uint8_t *cmd, uint32_t len)
{
	struct vring_desc *desc = (struct vring_desc *)(ram + DESC_GPA(CTRLQ));
	uint16_t before = le16toh(used(CTRLQ)->idx);

	memcpy(ram + CMD_GPA + i * 16, cmd, len);
	ram[ACK_GPA + i] = 0xa5;
	desc[2 * i] = (struct vring_desc){ .addr = htole64(CMD_GPA + i * 16), .len = htole32(len),
					   .flags = htole16(VRING_DESC_F_NEXT), .next = htole16((uint16_t)(2 * i + 1)) };
	desc[2 * i + 1] = (struct vring_desc){ .addr = htole64(ACK_GPA + i), .len = htole32(1),
					       .flags = htole16(VRING_DESC_F_WRITE) };
	offer(CTRLQ, 2 * i);
	notify(CTRLQ);
	assert_int_equal(le16toh(used(CTRLQ)->idx), before + 1);
	assert_int_equal(le32toh(used(CTRLQ)->ring[before % QSIZE].len), 1);
	return ram[ACK_GPA + i];
}

static uint8_t set_pairs(unsigned i, uint16_t pairs)
{
	const uint8_t cmd[4] = { VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, (uint8_t)pairs,
				 (uint8_t)(pairs >> 8) };

	return ctrl(i, cmd, sizeof(cmd));
}

/* queues=2: two tap queues, MQ and the control queue offered; the control queue's answers to good and bad commands. */
static void test_mq_ctrl_commands(void **state)
{
	const uint8_t unknown_class[4] = { VIRTIO_NET_CTRL_MQ + 1, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 1, 0 };
	const uint8_t unknown_cmd[4] = { VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_RSS_CONFIG, 1, 0 };
	const uint8_t short_cmd[3] = { VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 1 };
	const uint8_t long_cmd[5] = { VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 1, 0, 0 };
	const uint8_t class_only[1] = { VIRTIO_NET_CTRL_MQ };

	(void)state;
	fake_host_exit(&f);
	assert_int_equal(make_vm_queues(2), 0);
	assert_int_equal(fake_host_tap_opened, 2);
	assert_int_equal(dev->nr_queues, 5);
	assert_true((dev->device_features & MQ_FEATURES) == MQ_FEATURES);
	assert_int_equal(le16toh(((const struct virtio_net_config *)dev->config)->max_virtqueue_pairs), 2);
	/* The spec: MQ needs the control queue. */
	assert_false(start_net(ALL_FEATURES | BIT(VIRTIO_NET_F_MQ)));
	assert_true(start_net(MQ_FEATURES));
	assert_int_equal(set_pairs(0, 2), VIRTIO_NET_OK);
	assert_int_equal(set_pairs(1, 1), VIRTIO_NET_OK);
	assert_int_equal(set_pairs(2, 0), VIRTIO_NET_ERR);
	assert_int_equal(set_pairs(3, 3), VIRTIO_NET_ERR);
	assert_int_equal(ctrl(4, unknown_class, sizeof(unknown_class)), VIRTIO_NET_ERR);
	assert_int_equal(ctrl(5, unknown_cmd, sizeof(unknown_cmd)), VIRTIO_NET_ERR);
	assert_int_equal(ctrl(6, short_cmd, sizeof(short_cmd)), VIRTIO_NET_ERR);
	assert_int_equal(ctrl(7, long_cmd, sizeof(long_cmd)), VIRTIO_NET_ERR);
	assert_int_equal(ctrl(8, class_only, sizeof(class_only)), VIRTIO_NET_ERR);
	/* None of those broke the device. */
	assert_true(virtio_device_live(dev));
	assert_int_equal(set_pairs(9, 2), VIRTIO_NET_OK);
}

/*
 * Pair 1 is served only once the driver sets 2 pairs: then its transmit
 * queue's frame reaches tap queue 1 (and not 0), and a frame on tap queue 1
 * reaches its receive queue; saved and restored, the pairs stay set.
 */
static void test_mq_pair1_frames(void **state)
{
	static uint8_t frame[300], got[HDR + 300];
	const struct virtio_net_hdr_v1 h = { 0 };
	struct state_writer w;
	struct state_reader r;
	struct errmsg e = { "" };

	(void)state;
	fake_host_exit(&f);
	assert_int_equal(make_vm_queues(2), 0);
	assert_true(start_net(MQ_FEATURES));
	offer_tx(3, 0, &h, 200);
	notify(3);
	assert_int_equal(le16toh(used(3)->idx), 0);
	assert_int_equal(set_pairs(0, 2), VIRTIO_NET_OK);
	fake_host_run_io(&f, 8);
	assert_int_equal(le16toh(used(3)->idx), 1);
	assert_int_equal(recv(fake_host_tap_peers[1], got, sizeof(got), MSG_DONTWAIT), HDR + 200);
	assert_memory_equal(got + HDR, ram + DATA_GPA + HDR, 200);
	assert_int_equal(recv(fake_host_tap_peers[0], got, sizeof(got), MSG_DONTWAIT), -1);

	/* Enough merged buffers for the largest frame, so the next one goes at once. */
	for (unsigned i = 0; i < 50; i++) {
		set_desc(2, i, DATA_GPA + 0x8000u + i * 2048u, 1500, true);
		offer(2, i);
	}
	notify(2);
	memset(frame, 0, HDR);
	for (size_t k = HDR; k < sizeof(frame); k++)
		frame[k] = (uint8_t)(k * 3);
	assert_int_equal(send(fake_host_tap_peers[1], frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
	fake_host_run_io(&f, 8);
	assert_int_equal(le16toh(used(2)->idx), 1);
	assert_int_equal(le16toh(used(NET_RXQ)->idx), 0);
	assert_memory_equal(ram + DATA_GPA + 0x8000u + HDR, frame + HDR, sizeof(frame) - HDR);

	/* Restored, the device serves pair 1 without a new VQ_PAIRS_SET. */
	state_writer_init(&w);
	assert_int_equal(devices_save(f.devices.devices, f.devices.nr, &w), 0);
	fake_host_exit(&f);
	assert_int_equal(make_vm_queues(2), 0);
	state_reader_init(&r, w.buf, w.len, "VM");
	assert_int_equal(devices_restore(f.devices.devices, f.devices.nr, &r, &e), 0);
	state_writer_free(&w);
	offer_tx(3, 1, &h, 100);
	notify(3);
	assert_int_equal(le16toh(used(3)->idx), 2);
	assert_int_equal(recv(fake_host_tap_peers[1], got, sizeof(got), MSG_DONTWAIT), HDR + 100);
}

/* queues= takes 1 to 4, with a one-line error naming the value otherwise. */
static void test_queues_option(void **state)
{
	struct net_config n;
	struct errmsg e = { "" };

	(void)state;
	assert_int_equal(net_config_parse("tap=tap0,queues=2", &n, &e), 0);
	assert_int_equal(n.queues, 2);
	assert_int_equal(net_config_parse("tap=tap0", &n, &e), 0);
	assert_int_equal(n.queues, 0);
	assert_int_equal(net_config_parse("tap=tap0,queues=9", &n, &e), -EINVAL);
	assert_non_null(strstr(e.text, "queues '9': 1 to 4"));
	assert_int_equal(net_config_parse("tap=tap0,queues=0", &n, &e), -EINVAL);
	assert_int_equal(net_config_parse("tap=tap0,queues=12", &n, &e), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_offloads_negotiated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_bad_headers_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_merged_buffers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_one_chain_each, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_held_chains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mq_ctrl_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mq_pair1_frames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queues_option, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
