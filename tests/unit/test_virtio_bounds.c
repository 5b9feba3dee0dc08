// SPDX-License-Identifier: Apache-2.0
/*
 * What a hostile ring costs the host per kick (docs/devices.md, "Work
 * bounds"), and what a rate limiter lets through: real devices
 * (virtio-console, virtio-rng, virtio-blk) on the fake host
 * (tests/common/fake_host.h), driven through the core as the I/O thread
 * drives them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <linux/virtio_blk.h>

#include "api/section.h"
#include "fake_host.h"
#include "virtio/virtio.h"
#include "virtio/blk.h"
#include "virtio/console.h"
#include "virtio/net.h"
#include "virtio/rng.h"

extern const struct virtio_kind virtio_kind_vcon_create;
extern const struct virtio_kind virtio_kind_rng_create;
extern const struct virtio_kind virtio_kind_blk_create;

/* Each test is killed (SIGALRM) if it runs longer: an unbounded kick would mean hours. */
#define TEST_TIMEOUT_S 20
#define RAM_SIZE (2u << 20)
#define DESC_GPA 0x1000
#define AVAIL_GPA 0x3000
#define USED_GPA 0x4000
#define DATA_GPA 0x10000
#define QSIZE VIRTQ_SIZE_MAX
/* virtio-console's queues */
#define CONSOLE_TX 1
/* virtio-net's */
#define NET_RXQ 0
#define NET_TXQ 1

static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));
static struct fake_host f;
static struct virtio_dev *dev;
static unsigned interrupts;

static void fake_interrupt(struct virtio_dev *d, int queue)
{
	(void)d;
	(void)queue;
	interrupts++;
}

static const struct virtio_transport_ops fake_transport = { .name = "test", .interrupt = fake_interrupt };

static int setup(void **state)
{
	(void)state;
	alarm(TEST_TIMEOUT_S);
	memset(ram, 0, sizeof(ram));
	memset(&f.cfg, 0, sizeof(f.cfg));
	vcon_config_of(&f.cfg)->enabled = true;
	rng_config_of(&f.cfg)->enabled = true;
	if (fake_host_init(&f, ram, sizeof(ram)))
		return -1;
	dev = NULL;
	interrupts = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	/* A device fake_host_add made is the fake host's to remove. */
	if (dev && !fake_host_last(&f))
		virtio_dev_remove(dev);
	fake_host_exit(&f);
	alarm(0);
	return 0;
}

static uint64_t take_kicks(unsigned q)
{
	uint64_t count = 0;

	if (read(dev->kick_fd[q], &count, sizeof(count)) != sizeof(count))
		return 0;
	return count;
}

/* Starts dev's queue q as a driver would. */
static void start_queue(unsigned q)
{
	struct virtqueue *vq = &dev->vqs[q];

	vq->size = QSIZE;
	vq->desc_gpa = DESC_GPA;
	vq->avail_gpa = AVAIL_GPA;
	vq->used_gpa = USED_GPA;
	vq->enabled = true;
	virtio_set_status(dev, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	virtio_set_driver_features(dev, 1, 1u << (VIRTIO_F_VERSION_1 - 32));
	virtio_set_status(dev, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK |
				       VIRTIO_CONFIG_S_DRIVER_OK);
	assert_true(virtio_device_live(dev));
	assert_true(vq->started);
	take_kicks(q); /* the one the core made when the queue started */
}

/* Makes the device as the VM would (without a transport) and starts queue q. */
static void make_device(const struct virtio_kind *kind, unsigned q)
{
	struct errmsg e;

	assert_int_equal(kind->create(&f.host, device_config_const(&f.cfg, device_find(kind->name)), 0, &dev, &e), 0);
	assert_int_equal(virtio_dev_setup(&f.host, dev, &e), 0);
	dev->transport = &fake_transport;
	start_queue(q);
}

/*
 * One chain of n descriptors from index 0, each `len` bytes at `gpa`, and
 * its head offered in every slot of the available ring.
 */
static void offer_same_chain(unsigned n, uint64_t gpa, uint32_t len, bool writable)
{
	struct vring_desc *desc = (struct vring_desc *)(ram + DESC_GPA);
	struct vring_avail *avail = (struct vring_avail *)(ram + AVAIL_GPA);

	for (unsigned i = 0; i < n; i++) {
		uint16_t flags = (writable ? VRING_DESC_F_WRITE : 0) | (i + 1 < n ? VRING_DESC_F_NEXT : 0);

		desc[i] = (struct vring_desc){ .addr = htole64(gpa), .len = htole32(len), .flags = htole16(flags),
					       .next = htole16((uint16_t)(i + 1)) };
	}
	for (unsigned slot = 0; slot < QSIZE; slot++)
		avail->ring[slot] = htole16(0);
	avail->idx = htole16(QSIZE);
}

static uint16_t used_idx(void)
{
	return le16toh(((struct vring_used *)(ram + USED_GPA))->idx);
}

/* One notification of queue q, as the I/O thread delivers it. */
static void notify(unsigned q)
{
	pthread_mutex_lock(&dev->lock);
	dev->ops->queue_notify(dev, q);
	pthread_mutex_unlock(&dev->lock);
}

static uint64_t bytes_moved(void)
{
	return dev->bytes_from_guest + dev->bytes_to_guest;
}

/*
 * The ring that made one kick mean terabytes: head 0 in all 256 slots, a
 * 256-descriptor chain, every descriptor all of RAM. Each chain is far over
 * the device's request limit, so the first one is refused and nothing is
 * read or written.
 */
static void amplification_refused(const struct virtio_kind *kind, unsigned q, bool writable)
{
	uint8_t before[64];

	make_device(kind, q);
	memcpy(before, ram + DATA_GPA, sizeof(before));
	offer_same_chain(QSIZE, 0, RAM_SIZE, writable);
	notify(q);
	assert_int_equal(bytes_moved(), 0);
	assert_int_equal(used_idx(), 0);
	assert_true(dev->status & VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_memory_equal(ram + DATA_GPA, before, sizeof(before));
	/* A device that needs a reset does nothing more, so nothing is left to come back for. */
	assert_int_equal(take_kicks(q), 0);
}

static void test_console_amplification_refused(void **state)
{
	(void)state;
	amplification_refused(&virtio_kind_vcon_create, CONSOLE_TX, false);
}

static void test_rng_amplification_refused(void **state)
{
	(void)state;
	amplification_refused(&virtio_kind_rng_create, 0, true);
}

/*
 * The same ring with every chain just within the limit: 256 chains of
 * request_max bytes each are more than one turn may do. Each notification
 * moves at most VIRTIO_TURN_BYTES plus one request, then the device kicks
 * itself; the turns that follow finish the ring.
 */
static void amplification_budgeted(const struct virtio_kind *kind, unsigned q, bool writable)
{
	uint64_t chain_len, total, per_turn_max, before;
	unsigned turns = 0;

	make_device(kind, q);
	chain_len = dev->request_max;
	assert_true(chain_len % QSIZE == 0 && DATA_GPA + chain_len / QSIZE <= RAM_SIZE);
	offer_same_chain(QSIZE, DATA_GPA, (uint32_t)(chain_len / QSIZE), writable);
	total = QSIZE * chain_len;
	per_turn_max = VIRTIO_TURN_BYTES + chain_len;
	assert_true(total > per_turn_max); /* or the test proves nothing */

	notify(q);
	assert_true(bytes_moved() > 0);
	assert_true(bytes_moved() <= per_turn_max);
	assert_true(used_idx() < QSIZE);
	assert_true(interrupts > 0); /* what was done is handed back before the yield */
	assert_int_equal(take_kicks(q), 1);
	turns++;

	do {
		before = bytes_moved();
		notify(q);
		assert_true(bytes_moved() - before <= per_turn_max);
		turns++;
	} while (take_kicks(q));
	assert_int_equal(used_idx(), QSIZE);
	assert_int_equal(bytes_moved(), total);
	assert_true(turns <= total / VIRTIO_TURN_BYTES + 1);
	assert_true(virtio_device_live(dev));
}

static void test_console_output_budgeted(void **state)
{
	(void)state;
	amplification_budgeted(&virtio_kind_vcon_create, CONSOLE_TX, false);
}

static void test_rng_answers_budgeted(void **state)
{
	(void)state;
	amplification_budgeted(&virtio_kind_rng_create, 0, true);
}

/*
 * The real I/O thread, kicked once, finishes a ring that takes several
 * turns: it comes back to the queue by itself, and counts one notification
 * (the driver's), not its own kicks.
 */
static void test_io_thread_comes_back(void **state)
{
	const uint64_t one = 1;

	(void)state;
	make_device(&virtio_kind_vcon_create, CONSOLE_TX);
	offer_same_chain(QSIZE, DATA_GPA, (uint32_t)(dev->request_max / QSIZE), false);
	assert_int_equal(io_thread_start(&f.io), 0);
	assert_int_equal(write(dev->kick_fd[CONSOLE_TX], &one, sizeof(one)), sizeof(one));
	while (__atomic_load_n(&((struct vring_used *)(ram + USED_GPA))->idx, __ATOMIC_ACQUIRE) != htole16(QSIZE))
		usleep(1000);
	io_thread_stop(&f.io);
	assert_int_equal(bytes_moved(), QSIZE * dev->request_max);
	assert_int_equal(dev->notifications, 1);
}

/* Sets descriptor i; next is i + 1 when `more`. */
static void set_desc(unsigned i, uint64_t gpa, uint32_t len, bool writable, bool more)
{
	struct vring_desc *desc = (struct vring_desc *)(ram + DESC_GPA);

	desc[i] = (struct vring_desc){ .addr = htole64(gpa), .len = htole32(len),
				       .flags = htole16((writable ? VRING_DESC_F_WRITE : 0) |
							(more ? VRING_DESC_F_NEXT : 0)),
				       .next = htole16((uint16_t)(i + 1)) };
}

/* Offers a virtio-blk read of `len` bytes from sector 0 into RAM at DATA_GPA + 4096 and notifies the queue. */
static void blk_offer_read(uint32_t len)
{
	struct vring_avail *avail = (struct vring_avail *)(ram + AVAIL_GPA);
	struct virtio_blk_outhdr hdr = { .type = htole32(VIRTIO_BLK_T_IN), .sector = 0 };
	uint16_t idx = le16toh(avail->idx);

	memcpy(ram + DATA_GPA, &hdr, sizeof(hdr));
	ram[DATA_GPA + 512] = 0xff;
	set_desc(0, DATA_GPA, sizeof(hdr), false, true);
	set_desc(1, DATA_GPA + 4096, len, true, true);
	set_desc(2, DATA_GPA + 512, 1, true, false);
	avail->ring[idx % QSIZE] = 0;
	avail->idx = htole16((uint16_t)(idx + 1));
	notify(0);
}

/* virtio-blk hands a chain back when the I/O loop reaps its completion: at most 5 s. */
static void wait_used(uint16_t want)
{
	for (unsigned i = 0; i < 50 && used_idx() != want; i++)
		event_loop_dispatch(&f.io.loop, 100);
	assert_int_equal(used_idx(), want);
}

/* The read served; returns its status byte. */
static uint8_t blk_read(uint32_t len)
{
	uint16_t idx = le16toh(((struct vring_avail *)(ram + AVAIL_GPA))->idx);

	blk_offer_read(len);
	wait_used((uint16_t)(idx + 1));
	return ram[DATA_GPA + 512];
}

/*
 * A virtio-blk device on a sparse 4 MiB image, with the drive's rate
 * limiter rl, queue 0 started: alone, or made as the VM makes it (on
 * virtio-mmio) when its API hooks are to be called.
 */
static void make_blk(const struct rate_limiter_config *rl, bool as_the_vm)
{
	struct drive_config *d = &blk_config_of(&f.cfg)->drives[0];
	char image[64];
	int fd;

	snprintf(image, sizeof(image), "%s/kvmini-bounds-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	fd = mkstemp(image);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4u << 20), 0);
	close(fd);
	blk_config_of(&f.cfg)->nr_drives = 1;
	snprintf(d->path, sizeof(d->path), "%s", image);
	snprintf(d->id, sizeof(d->id), "bounds");
	d->rate_limiter = *rl;
	if (as_the_vm) {
		f.cfg.transport = VIRTIO_TRANSPORT_MMIO;
		assert_int_equal(fake_host_add(&f, "virtio-mmio"), 0);
		assert_int_equal(fake_host_add(&f, "virtio-blk"), 0);
		dev = virtio_kind_device(fake_host_last(&f), 0);
		start_queue(0);
	} else {
		make_device(&virtio_kind_blk_create, 0);
	}
	unlink(image);
}

/*
 * virtio-blk tells the driver how large a request may be (SEG_MAX x
 * SIZE_MAX) and answers a larger one with an I/O error, the disk and the
 * guest's buffers untouched; one at the limit is served.
 */
static void test_blk_request_limit(void **state)
{
	const struct virtio_blk_config *config;
	const struct rate_limiter_config unlimited = { .ops.size = 0 };
	size_t data_max;

	(void)state;
	make_blk(&unlimited, false);

	config = (const struct virtio_blk_config *)dev->config;
	assert_true(dev->device_features & (1ULL << VIRTIO_BLK_F_SIZE_MAX));
	assert_true(dev->device_features & (1ULL << VIRTIO_BLK_F_SEG_MAX));
	data_max = (size_t)le32toh(config->size_max) * le32toh(config->seg_max);
	assert_int_equal(dev->request_max, sizeof(struct virtio_blk_outhdr) + data_max + 1);
	assert_true(DATA_GPA + 4096 + data_max + 512 <= RAM_SIZE);

	memset(ram + DATA_GPA + 4096, 0xaa, data_max + 512);
	assert_int_equal(blk_read((uint32_t)data_max + 512), VIRTIO_BLK_S_IOERR);
	assert_int_equal(ram[DATA_GPA + 4096], 0xaa);
	assert_int_equal(ram[DATA_GPA + 4096 + data_max], 0xaa);
	assert_true(virtio_device_live(dev));

	assert_int_equal(blk_read((uint32_t)data_max), VIRTIO_BLK_S_OK);
	assert_int_equal(ram[DATA_GPA + 4096], 0); /* the image is sparse */
	assert_int_equal(ram[DATA_GPA + 4096 + data_max - 1], 0);
}

static unsigned served;

/* Serves a chain as the console would, and on the first one asks the I/O thread to stop (a pause). */
static int serve_then_pause(struct virtio_dev *d, const struct vq_chain *chain, uint32_t *written)
{
	(void)d;
	(void)chain;
	if (!served++)
		__atomic_store_n(&f.io.stop_wanted, true, __ATOMIC_RELAXED);
	*written = 0;
	return 0;
}

/* A stop asked for mid-kick ends the work after the chain in hand; the kick waits in the eventfd. */
static void test_stop_mid_kick(void **state)
{
	(void)state;
	make_device(&virtio_kind_vcon_create, CONSOLE_TX);
	offer_same_chain(1, DATA_GPA, 16, false);
	served = 0;
	pthread_mutex_lock(&dev->lock);
	virtio_queue_serve(dev, CONSOLE_TX, serve_then_pause);
	pthread_mutex_unlock(&dev->lock);
	assert_int_equal(served, 1);
	assert_int_equal(used_idx(), 1);
	assert_int_equal(take_kicks(CONSOLE_TX), 1);

	/* Still stopping: the next turn does nothing but kick itself again. */
	notify(CONSOLE_TX);
	assert_int_equal(used_idx(), 1);
	assert_int_equal(take_kicks(CONSOLE_TX), 1);

	/* After the resume the real device does the rest. */
	__atomic_store_n(&f.io.stop_wanted, false, __ATOMIC_RELAXED);
	notify(CONSOLE_TX);
	assert_int_equal(used_idx(), QSIZE);
	assert_int_equal(bytes_moved(), QSIZE * 16);
	assert_int_equal(take_kicks(CONSOLE_TX), 0);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * The I/O thread's loop until the limiter's timer resumes the queue and it
 * hands back chain `want`: returns how long that took, in ms.
 */
static uint64_t wait_for_timer(uint16_t want)
{
	uint64_t start = now_ms();

	while (used_idx() < want)
		event_loop_dispatch(&f.io.loop, 1000);
	return now_ms() - start;
}

/* An ops limit of one request per 100 ms: one read served, the next left in the ring until the timer fires. */
static void test_blk_throttled(void **state)
{
	const struct rate_limiter_config one_per_100ms = { .ops = { .size = 1, .refill_time_ms = 100 } };
	uint64_t waited;

	(void)state;
	make_blk(&one_per_100ms, false);
	assert_int_equal(blk_read(4096), VIRTIO_BLK_S_OK);
	blk_offer_read(4096);
	assert_int_equal(used_idx(), 1);
	assert_int_equal(dev->throttled, 1);
	assert_int_equal(take_kicks(0), 0); /* waits for its timer, not a kick of its own */
	/* The driver kicking again changes nothing, and costs no new wait. */
	notify(0);
	assert_int_equal(used_idx(), 1);
	assert_int_equal(dev->throttled, 1);
	waited = wait_for_timer(2);
	assert_in_range(waited, 50, 1000);
	assert_int_equal(ram[DATA_GPA + 512], VIRTIO_BLK_S_OK);
	assert_int_equal(bytes_moved(), 2 * (4096 + 1) + 2 * sizeof(struct virtio_blk_outhdr));
}

/* PATCH /drives/{id} with a new rate_limiter: the read waiting for the old one goes at once. */
static void test_blk_limit_patched(void **state)
{
	const struct rate_limiter_config one_per_10s = { .ops = { .size = 1, .refill_time_ms = 10000 } };
	const struct device_ops *blk_ops = device_find("virtio-blk");
	const char *faster = "{\"drive_id\": \"bounds\", \"rate_limiter\": {\"ops\": {\"size\": 100, \"refill_time\": 1000}}}";
	struct api_config_change change = { .section = blk_ops->api };
	struct errmsg e = { "" };

	(void)state;
	make_blk(&one_per_10s, true);
	assert_int_equal(blk_read(4096), VIRTIO_BLK_S_OK);
	blk_offer_read(4096);
	assert_int_equal(used_idx(), 1);
	assert_int_equal(blk_ops->api->parse_patch(faster, strlen(faster), &change, &e), 0);
	assert_int_equal(blk_ops->api_patch(fake_host_last(&f), &change, &e), 0);
	assert_int_equal(take_kicks(0), 1);
	notify(0);
	wait_used(2);
	assert_int_equal(ram[DATA_GPA + 512], VIRTIO_BLK_S_OK);
	assert_int_equal(dev->throttled, 1);
}

/*
 * One queue per vCPU (VIRTIO_BLK_F_MQ, num_queues), up to the core's
 * limit; the stats name the engine and count the requests; a reset with a
 * read in flight waits for it and hands nothing back to the old ring, and a
 * pause hands back what is in flight without the I/O loop.
 */
static void test_blk_queues_stats_reset_pause(void **state)
{
	const struct rate_limiter_config unlimited = { 0 };
	struct device_stats row;

	(void)state;
	f.host.nr_cpus = 8;
	make_blk(&unlimited, false);
	assert_int_equal(dev->nr_queues, 4);
	assert_int_equal(le16toh(((const struct virtio_blk_config *)dev->config)->num_queues), 4);
	assert_true(dev->device_features & (1ULL << VIRTIO_BLK_F_MQ));
	assert_int_equal(blk_read(4096), VIRTIO_BLK_S_OK);
	row.engine = NULL;
	dev->ops->stats(dev, &row);
	assert_non_null(row.engine);
	assert_true(!strcmp(row.engine, "io_uring") || !strcmp(row.engine, "threads"));
	assert_int_equal(row.completed, 1);
	assert_int_equal(row.in_flight, 0);

	/* Paused with a read in flight: it is back in the ring when the pause hook returns. */
	blk_offer_read(4096);
	pthread_mutex_lock(&dev->lock);
	dev->ops->pause(dev);
	pthread_mutex_unlock(&dev->lock);
	assert_int_equal(used_idx(), 2);
	assert_int_equal(ram[DATA_GPA + 512], VIRTIO_BLK_S_OK);

	/* Reset with one in flight: waited for, and not pushed. */
	blk_offer_read(4096);
	pthread_mutex_lock(&dev->lock);
	virtio_set_status(dev, 0);
	pthread_mutex_unlock(&dev->lock);
	assert_int_equal(used_idx(), 2);
	dev->ops->stats(dev, &row);
	assert_int_equal(row.in_flight, 0);
	assert_int_equal(row.completed, 3);
}

/* One vCPU, one queue: no VIRTIO_BLK_F_MQ. */
static void test_blk_one_queue(void **state)
{
	const struct rate_limiter_config unlimited = { 0 };

	(void)state;
	make_blk(&unlimited, false);
	assert_int_equal(dev->nr_queues, 1);
	assert_false(dev->device_features & (1ULL << VIRTIO_BLK_F_MQ));
}

/* A bandwidth limit on virtio-rng: 64 bytes per 100 ms; a 64-byte request goes, the next waits for the timer. */
static void test_rng_throttled(void **state)
{
	struct vring_avail *avail = (struct vring_avail *)(ram + AVAIL_GPA);

	(void)state;
	rng_config_of(&f.cfg)->rate_limiter.bandwidth = (struct token_bucket_config){ .size = 64,
										    .refill_time_ms = 100 };
	make_device(&virtio_kind_rng_create, 0);
	set_desc(0, DATA_GPA, 64, true, false);
	avail->ring[0] = avail->ring[1] = 0;
	avail->idx = htole16(2);
	notify(0);
	assert_int_equal(used_idx(), 1);
	assert_int_equal(dev->throttled, 1);
	notify(0);
	assert_int_equal(used_idx(), 1);
	assert_in_range(wait_for_timer(2), 50, 1000);
	assert_int_equal(dev->bytes_to_guest, 128);
}

/* A virtio-net interface "eth0" (one frame per 10 s each way where asked), made as the VM makes it, queue q started. */
static void make_net(bool limit_rx, bool limit_tx, unsigned q)
{
	const struct token_bucket_config one_per_10s = { .size = 1, .refill_time_ms = 10000 };
	struct net_config *n = &net_config_of(&f.cfg)->nets[0];

	f.cfg.transport = VIRTIO_TRANSPORT_MMIO;
	net_config_of(&f.cfg)->nr = 1;
	snprintf(n->tap, sizeof(n->tap), "tap0");
	snprintf(n->id, sizeof(n->id), "eth0");
	if (limit_rx)
		n->rx_rate_limiter.ops = one_per_10s;
	if (limit_tx)
		n->tx_rate_limiter.ops = one_per_10s;
	assert_int_equal(fake_host_add(&f, "virtio-mmio"), 0);
	assert_int_equal(fake_host_add(&f, "virtio-net"), 0);
	dev = virtio_kind_device(fake_host_last(&f), 0);
	start_queue(q);
}

/* The interface's limits turned off by a PATCH of both directions. */
static void patch_net_limits_off(void)
{
	const struct device_ops *net_ops = device_find("virtio-net");
	const char *off = "{\"iface_id\": \"eth0\", \"rx_rate_limiter\": {\"ops\": {\"size\": 0, \"refill_time\": 0}}, "
			  "\"tx_rate_limiter\": {\"ops\": {\"size\": 0, \"refill_time\": 0}}}";
	struct api_config_change change = { .section = net_ops->api };
	struct errmsg e = { "" };

	assert_int_equal(net_ops->api->parse_patch(off, strlen(off), &change, &e), 0);
	assert_int_equal(net_ops->api_patch(fake_host_last(&f), &change, &e), 0);
	snprintf(change.id, sizeof(change.id), "eth1");
	assert_int_equal(net_ops->api_patch(fake_host_last(&f), &change, &e), -EINVAL);
	assert_string_equal(e.text, "no network interface 'eth1'");
}

/*
 * virtio-net's transmit queue at one frame per 10 s: the second frame
 * waits, until PATCH /network-interfaces/{id} turns the limit off, which
 * takes effect at once: the queue is kicked and sends it.
 */
static void test_net_tx_limit_patched(void **state)
{
	struct vring_avail *avail = (struct vring_avail *)(ram + AVAIL_GPA);
	uint8_t frame[128];

	(void)state;
	make_net(false, true, NET_TXQ);
	set_desc(0, DATA_GPA, 12 + 60, false, false); /* the virtio-net header and a minimal frame */
	avail->ring[0] = avail->ring[1] = 0;
	avail->idx = htole16(2);
	notify(NET_TXQ);
	assert_int_equal(used_idx(), 1);
	assert_int_equal(dev->throttled, 1);
	assert_int_equal(recv(fake_host_tap_peer, frame, sizeof(frame), MSG_DONTWAIT), 72);
	assert_int_equal(recv(fake_host_tap_peer, frame, sizeof(frame), MSG_DONTWAIT), -1);

	patch_net_limits_off();
	assert_int_equal(take_kicks(NET_TXQ), 1);
	notify(NET_TXQ);
	assert_int_equal(used_idx(), 2);
	assert_int_equal(recv(fake_host_tap_peer, frame, sizeof(frame), MSG_DONTWAIT), 72);
}

/*
 * The receive side at one frame per 10 s: of two frames in the tap one
 * reaches the guest; the other stays in the tap, which the I/O thread no
 * longer watches (the loop finds nothing ready), until the PATCH.
 */
static void test_net_rx_limit_patched(void **state)
{
	struct vring_avail *avail = (struct vring_avail *)(ram + AVAIL_GPA);
	uint8_t frame[72] = { 0 };

	(void)state;
	make_net(true, false, NET_RXQ);
	set_desc(0, DATA_GPA, 2048, true, false);
	avail->ring[0] = avail->ring[1] = 0;
	avail->idx = htole16(2);
	assert_int_equal(send(fake_host_tap_peer, frame, sizeof(frame), 0), sizeof(frame));
	assert_int_equal(send(fake_host_tap_peer, frame, sizeof(frame), 0), sizeof(frame));
	fake_host_run_io(&f, 8);
	assert_int_equal(used_idx(), 1);
	assert_int_equal(dev->throttled, 1);
	assert_int_equal(epoll_wait(f.io.loop.epfd, &(struct epoll_event){ 0 }, 1, 0), 0);
	patch_net_limits_off();
	fake_host_run_io(&f, 8);
	assert_int_equal(used_idx(), 2);
	assert_int_equal(dev->bytes_to_guest, 2 * sizeof(frame));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_console_amplification_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rng_amplification_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_console_output_budgeted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rng_answers_budgeted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_io_thread_comes_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blk_request_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_mid_kick, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blk_throttled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blk_limit_patched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blk_queues_stats_reset_pause, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blk_one_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rng_throttled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_net_tx_limit_patched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_net_rx_limit_patched, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
