// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-balloon (src/virtio/balloon.c) on the fake host, driven as Linux's
 * driver drives it over virtio-mmio: the device it presents (ID, queues,
 * features, num_pages and actual), inflation giving pages back through the
 * host's discard op (recorded by the fake host), deflation, frame numbers
 * outside RAM and oversized lists, the statistics buffer and its polls, the
 * API's PATCH and GET on the running device, save and restore, and
 * --balloon's parsing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <endian.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <linux/virtio_balloon.h>
#include <linux/virtio_ring.h>

#include "api/json.h"
#include "api/section.h"
#include "fake_host.h"
#include "options.h"
#include "state.h"
#include "virtio/balloon.h"
#include "virtio/mmio.h"
#include "virtio/virtio.h"

#define TEST_TIMEOUT 20
#define RAM_MIB 16
#define RAM_SIZE (RAM_MIB << 20)
#define QUEUE_SIZE 16
/* Queue q's rings at DESC_GPA + QUEUE_RINGS * q ...; buffers (the frame lists, the statistics) at BUF_GPA. */
#define DESC_GPA 0x10000
#define AVAIL_GPA 0x11000
#define USED_GPA 0x12000
#define QUEUE_RINGS 0x3000
#define BUF_GPA 0x40000
#define PAGE 4096
#define INFLATE 0
#define DEFLATE 1
#define STATS 2

static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));
static struct fake_host f;
static void *data; /* the balloon's instance data, for its API hooks */
static struct virtio_dev *dev;
static uint16_t next_avail[3];

static const struct device_ops *balloon_record(void)
{
	return device_find("virtio-balloon");
}

static void mmio_wr(unsigned reg, uint32_t v)
{
	assert_true(io_bus_access(&f.mmio, VIRTIO_MMIO_BASE + reg, (uint8_t *)&v, 4, true));
}

static uint32_t mmio_rd(unsigned reg)
{
	uint32_t v = 0;

	assert_true(io_bus_access(&f.mmio, VIRTIO_MMIO_BASE + reg, (uint8_t *)&v, 4, false));
	return v;
}

/* The VM with a balloon of cfg; the driver set up as Linux does, with every queue the device has. */
static void start(struct balloon_config cfg)
{
	uint8_t s = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;
	unsigned nr_queues = cfg.stats_polling_interval_s ? 3 : 2;

	alarm(TEST_TIMEOUT);
	memset(ram, 0, DESC_GPA + 0x100000);
	memset(&f.cfg, 0, sizeof(f.cfg));
	memset(next_avail, 0, sizeof(next_avail));
	f.cfg.transport = VIRTIO_TRANSPORT_MMIO;
	*balloon_config_of(&f.cfg) = cfg;
	assert_int_equal(fake_host_init(&f, ram, sizeof(ram)), 0);
	assert_int_equal(fake_host_add(&f, "virtio-mmio"), 0);
	assert_int_equal(fake_host_add(&f, "virtio-balloon"), 0);
	data = fake_host_last(&f);
	dev = virtio_kind_device(data, 0);
	assert_non_null(dev);

	assert_int_equal(mmio_rd(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BALLOON);
	mmio_wr(VIRTIO_MMIO_STATUS, s);
	mmio_wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	mmio_wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mmio_wr(VIRTIO_MMIO_DRIVER_FEATURES, mmio_rd(VIRTIO_MMIO_DEVICE_FEATURES) & 0xff);
	mmio_wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mmio_wr(VIRTIO_MMIO_DRIVER_FEATURES, 1); /* VERSION_1 */
	mmio_wr(VIRTIO_MMIO_STATUS, s | VIRTIO_CONFIG_S_FEATURES_OK);
	for (unsigned q = 0; q < nr_queues; q++) {
		mmio_wr(VIRTIO_MMIO_QUEUE_SEL, q);
		mmio_wr(VIRTIO_MMIO_QUEUE_NUM, QUEUE_SIZE);
		mmio_wr(VIRTIO_MMIO_QUEUE_DESC_LOW, DESC_GPA + QUEUE_RINGS * q);
		mmio_wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, AVAIL_GPA + QUEUE_RINGS * q);
		mmio_wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, USED_GPA + QUEUE_RINGS * q);
		mmio_wr(VIRTIO_MMIO_QUEUE_READY, 1);
	}
	mmio_wr(VIRTIO_MMIO_STATUS, s | VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	assert_true(virtio_device_live(dev));
	fake_host_run_io(&f, 10); /* the kicks of the queues' start */
}

static void stop(void)
{
	fake_host_exit(&f);
	alarm(0);
}

static uint16_t used_idx(unsigned q)
{
	return le16toh(((struct vring_used *)(ram + USED_GPA + QUEUE_RINGS * q))->idx);
}

/*
 * Offers `len` readable bytes at BUF_GPA + `at` on queue q as one chain
 * (descriptor next_avail % QUEUE_SIZE), kicks it and lets the I/O loop serve it.
 */
static void offer(unsigned q, const void *buf, size_t at, size_t len)
{
	struct vring_desc *desc = (void *)(ram + DESC_GPA + QUEUE_RINGS * q);
	struct vring_avail *avail = (void *)(ram + AVAIL_GPA + QUEUE_RINGS * q);
	unsigned d = next_avail[q] % QUEUE_SIZE;

	memcpy(ram + BUF_GPA + at, buf, len);
	desc[d] = (struct vring_desc){ .addr = htole64(BUF_GPA + at), .len = htole32((uint32_t)len) };
	avail->ring[d] = htole16((uint16_t)d);
	avail->idx = htole16(++next_avail[q]);
	mmio_wr(VIRTIO_MMIO_QUEUE_NOTIFY, q);
	fake_host_run_io(&f, 10);
}

static uint32_t config_rd(unsigned offset)
{
	return mmio_rd(VIRTIO_MMIO_CONFIG + offset);
}

static void test_device(void **state)
{
	(void)state;
	start((struct balloon_config){ .enabled = true, .amount_mib = 3 });
	assert_int_equal(dev->nr_queues, 2);
	assert_false(dev->device_features & (1ULL << VIRTIO_BALLOON_F_STATS_VQ));
	assert_false(dev->device_features & (1ULL << VIRTIO_BALLOON_F_DEFLATE_ON_OOM));
	assert_false(dev->device_features & (1ULL << VIRTIO_BALLOON_F_MUST_TELL_HOST));
	assert_int_equal(config_rd(offsetof(struct virtio_balloon_config, num_pages)), 3 * 256);
	assert_int_equal(config_rd(offsetof(struct virtio_balloon_config, actual)), 0);
	/* The driver reports what it holds; num_pages is the device's alone. */
	mmio_wr(VIRTIO_MMIO_CONFIG + offsetof(struct virtio_balloon_config, actual), 700);
	mmio_wr(VIRTIO_MMIO_CONFIG + offsetof(struct virtio_balloon_config, num_pages), 5);
	assert_int_equal(config_rd(offsetof(struct virtio_balloon_config, num_pages)), 3 * 256);
	assert_int_equal(config_rd(offsetof(struct virtio_balloon_config, actual)), 700);
	/* Past num_pages and actual there is nothing (no free page hinting, no poisoning). */
	assert_int_equal(config_rd(8), 0);
	/* A reset driver holds nothing. */
	mmio_wr(VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(config_rd(offsetof(struct virtio_balloon_config, actual)), 0);
	stop();

	start((struct balloon_config){ .enabled = true, .deflate_on_oom = true, .stats_polling_interval_s = 5 });
	assert_int_equal(dev->nr_queues, 3);
	assert_true(dev->device_features & (1ULL << VIRTIO_BALLOON_F_STATS_VQ));
	assert_true(dev->device_features & (1ULL << VIRTIO_BALLOON_F_DEFLATE_ON_OOM));
	stop();
}

static void test_more_than_ram(void **state)
{
	struct vm_config cfg = { 0 };
	struct errmsg e;
	(void)state;

	alarm(TEST_TIMEOUT);
	*balloon_config_of(&cfg) = (struct balloon_config){ .enabled = true, .amount_mib = RAM_MIB + 1 };
	f.cfg = cfg;
	assert_int_equal(fake_host_init(&f, ram, sizeof(ram)), 0);
	assert_int_equal(fake_host_add(&f, "virtio-mmio"), 0);
	assert_int_equal(devices_add(&f.devices, balloon_record(), &f.host, balloon_config_of_const(&f.cfg), &e),
			 -EINVAL);
	assert_non_null(strstr(e.text, "more than the guest's 16 MiB"));
	stop();
}

static void test_inflate_gives_pages_back(void **state)
{
	/* Three adjacent pages, one alone, then one adjacent to the first run again: three ranges. */
	uint32_t pfns[] = { htole32(0x100), htole32(0x101), htole32(0x102), htole32(0x200), htole32(0x103) };
	(void)state;

	start((struct balloon_config){ .enabled = true, .amount_mib = 1 });
	memset(ram + 0x100 * PAGE, 0xaa, 4 * PAGE);
	memset(ram + 0x200 * PAGE, 0xaa, PAGE);
	offer(INFLATE, pfns, 0, sizeof(pfns));
	assert_int_equal(used_idx(INFLATE), 1);
	assert_int_equal(f.nr_discards, 3);
	assert_int_equal(f.discards[0].gpa, 0x100 * PAGE);
	assert_int_equal(f.discards[0].len, 3 * PAGE);
	assert_int_equal(f.discards[1].gpa, 0x200 * PAGE);
	assert_int_equal(f.discards[1].len, PAGE);
	assert_int_equal(f.discards[2].gpa, 0x103 * PAGE);
	assert_int_equal(f.discarded, 5 * PAGE);
	assert_int_equal(ram[0x100 * PAGE], 0);
	assert_int_equal(ram[0x200 * PAGE + PAGE - 1], 0);
	assert_int_equal(ram[0x104 * PAGE], 0); /* untouched: it was never 0xaa */
	assert_int_equal(ram[0x0ff * PAGE], 0);

	/* Deflating gives nothing back and touches nothing: the guest uses the pages again. */
	memset(ram + 0x100 * PAGE, 0x55, PAGE);
	offer(DEFLATE, pfns, 0, sizeof(pfns));
	assert_int_equal(used_idx(DEFLATE), 1);
	assert_int_equal(f.nr_discards, 3);
	assert_int_equal(ram[0x100 * PAGE], 0x55);
	assert_true(virtio_device_live(dev));
	stop();
}

static void test_bad_frames_ignored(void **state)
{
	/* Past RAM, the last 32-bit frame, and the balloon's own list page: only the last is RAM. */
	uint32_t pfns[] = { htole32(RAM_SIZE / PAGE), htole32(0xffffffff), htole32(RAM_SIZE / PAGE - 1),
			    htole32(0x300) };
	uint8_t odd[6] = { 0 };
	(void)state;

	start((struct balloon_config){ .enabled = true });
	offer(INFLATE, pfns, 0, sizeof(pfns));
	assert_int_equal(used_idx(INFLATE), 1);
	assert_int_equal(f.nr_discards, 2);
	assert_int_equal(f.discards[0].gpa, RAM_SIZE - PAGE);
	assert_int_equal(f.discards[1].gpa, 0x300 * PAGE);
	/* A list that is not whole frames: its last bytes are no frame. Empty: nothing. */
	offer(INFLATE, odd, 0, sizeof(odd));
	offer(INFLATE, odd, 0, 0);
	assert_int_equal(used_idx(INFLATE), 3);
	assert_int_equal(f.nr_discards, 3);
	assert_int_equal(f.discards[2].gpa, 0);
	assert_true(virtio_device_live(dev));
	stop();
}

/* A list longer than Linux's 256 frames is handed back untouched; the device goes on. */
static void test_huge_list_bounded(void **state)
{
	static uint32_t pfns[4096];
	uint32_t one = htole32(0x10);
	(void)state;

	start((struct balloon_config){ .enabled = true });
	for (unsigned i = 0; i < 4096; i++)
		pfns[i] = htole32(0x400 + i);
	offer(INFLATE, pfns, 0, sizeof(pfns));
	assert_int_equal(used_idx(INFLATE), 1);
	assert_int_equal(f.nr_discards, 0);
	/* Exactly 256 is served. */
	offer(INFLATE, pfns, 0, 256 * sizeof(pfns[0]));
	assert_int_equal(used_idx(INFLATE), 2);
	assert_int_equal(f.nr_discards, 1);
	assert_int_equal(f.discarded, 256 * PAGE);
	offer(INFLATE, &one, 0, sizeof(one));
	assert_int_equal(f.nr_discards, 2);
	assert_true(virtio_device_live(dev));
	stop();
}

struct stat_entry {
	uint16_t tag;
	uint64_t val;
} __attribute__((packed));

/* Runs the balloon's API hook: the members of GET /balloon[/SUB] into out. */
static int api_get(const char *sub, char *out, size_t cap, struct errmsg *e)
{
	struct json_out j;
	int err;

	json_out_init(&j, out, cap);
	json_object_begin(&j, NULL);
	err = balloon_record()->api_get(data, sub, &j, e);
	json_object_end(&j);
	assert_true(json_out_finish(&j) >= 0);
	return err;
}

static int api_patch(const char *sub, const char *body, struct errmsg *e)
{
	struct api_config_change c;
	int err;

	memset(&c, 0, sizeof(c));
	c.section = balloon_record()->api;
	snprintf(c.sub, sizeof(c.sub), "%s", sub);
	if ((err = c.section->parse_patch(body, strlen(body), &c, e)))
		return err;
	return balloon_record()->api_patch(data, &c, e);
}

static void test_statistics(void **state)
{
	struct stat_entry stats[] = {
		{ htole16(VIRTIO_BALLOON_S_MEMFREE), htole64(111 << 20) },
		{ htole16(VIRTIO_BALLOON_S_MEMTOT), htole64(250 << 20) },
		{ htole16(VIRTIO_BALLOON_S_MAJFLT), htole64(7) },
		{ htole16(99), htole64(1) }, /* a tag from a newer guest */
	};
	char out[1024];
	struct errmsg e = { "" };
	(void)state;

	start((struct balloon_config){ .enabled = true, .amount_mib = 2, .stats_polling_interval_s = 60 });
	mmio_wr(VIRTIO_MMIO_CONFIG + offsetof(struct virtio_balloon_config, actual), 256);
	assert_int_equal(api_get("statistics", out, sizeof(out), &e), 0);
	assert_string_equal(out, "{\"target_pages\":512,\"actual_pages\":256,\"target_mib\":2,\"actual_mib\":1}");

	/* The driver's first buffer: read, and kept. */
	offer(STATS, stats, 0, sizeof(stats));
	assert_int_equal(used_idx(STATS), 0);
	assert_int_equal(api_get("statistics", out, sizeof(out), &e), 0);
	assert_string_equal(out, "{\"target_pages\":512,\"actual_pages\":256,\"target_mib\":2,\"actual_mib\":1,"
				 "\"major_faults\":7,\"free_memory\":116391936,\"total_memory\":262144000}");

	/* A new interval polls at once: the buffer goes back, and the driver answers with a new one. */
	assert_int_equal(api_patch("statistics", "{\"stats_polling_interval_s\": 1}", &e), 0);
	usleep(2000);
	fake_host_run_io(&f, 10);
	assert_int_equal(used_idx(STATS), 1);
	assert_int_equal(le32toh(((struct vring_used *)(ram + USED_GPA + QUEUE_RINGS * STATS))->ring[0].len), 0);
	stats[0].val = htole64(99 << 20);
	offer(STATS, stats, 0x1000, sizeof(stats));
	assert_int_equal(api_get("statistics", out, sizeof(out), &e), 0);
	assert_non_null(strstr(out, "\"free_memory\":103809024"));
	/* A second buffer while one is held gives the older back. */
	offer(STATS, stats, 0x2000, sizeof(stats));
	assert_int_equal(used_idx(STATS), 2);
	/* And the timer polls every second from now on. */
	alarm(TEST_TIMEOUT);
	for (int i = 0; i < 300 && used_idx(STATS) == 2; i++) {
		usleep(10000);
		fake_host_run_io(&f, 10);
	}
	assert_int_equal(used_idx(STATS), 3);

	/* Statistics stay on: not off, and a balloon without them cannot start them. */
	assert_int_equal(api_patch("statistics", "{\"stats_polling_interval_s\": 0}", &e), -EINVAL);
	assert_non_null(strstr(e.text, "cannot be turned off"));
	assert_int_equal(api_patch("statistics", "{\"stats_polling_interval_s\": 1}", &e), 0);
	stop();

	start((struct balloon_config){ .enabled = true });
	assert_int_equal(api_get("statistics", out, sizeof(out), &e), -EINVAL);
	assert_non_null(strstr(e.text, "not enabled"));
	assert_int_equal(api_patch("statistics", "{\"stats_polling_interval_s\": 3}", &e), -EINVAL);
	assert_non_null(strstr(e.text, "cannot be turned on"));
	stop();
}

static void test_patch_target(void **state)
{
	char out[256];
	struct errmsg e = { "" };
	uint32_t generation;
	(void)state;

	start((struct balloon_config){ .enabled = true, .amount_mib = 1, .deflate_on_oom = true });
	assert_int_equal(api_get("", out, sizeof(out), &e), 0);
	assert_string_equal(out, "{\"amount_mib\":1,\"deflate_on_oom\":true,\"stats_polling_interval_s\":0}");
	generation = mmio_rd(VIRTIO_MMIO_CONFIG_GENERATION);
	mmio_wr(VIRTIO_MMIO_INTERRUPT_ACK, mmio_rd(VIRTIO_MMIO_INTERRUPT_STATUS));

	/* A new target: in num_pages, with a configuration-change interrupt. */
	assert_int_equal(api_patch("", "{\"amount_mib\": 12}", &e), 0);
	assert_int_equal(config_rd(offsetof(struct virtio_balloon_config, num_pages)), 12 * 256);
	assert_int_not_equal(mmio_rd(VIRTIO_MMIO_CONFIG_GENERATION), generation);
	assert_true(mmio_rd(VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_ISR_CONFIG);
	assert_int_equal(api_get("", out, sizeof(out), &e), 0);
	assert_string_equal(out, "{\"amount_mib\":12,\"deflate_on_oom\":true,\"stats_polling_interval_s\":0}");

	/* More than the guest has, or not a target: refused, nothing changes. */
	assert_int_equal(api_patch("", "{\"amount_mib\": 17}", &e), -EINVAL);
	assert_non_null(strstr(e.text, "more than the guest's 16 MiB"));
	assert_int_equal(api_patch("", "{}", &e), -EINVAL);
	assert_int_equal(api_patch("", "{\"amount_mib\": 1, \"deflate_on_oom\": false}", &e), -EINVAL);
	assert_int_equal(config_rd(offsetof(struct virtio_balloon_config, num_pages)), 12 * 256);
	stop();
}

/* A VM without a balloon: its record is there with no device; the API's hooks say so (a 400). */
static void test_no_balloon(void **state)
{
	char out[64];
	struct errmsg e = { "" };
	(void)state;

	alarm(TEST_TIMEOUT);
	memset(&f.cfg, 0, sizeof(f.cfg));
	assert_int_equal(fake_host_init(&f, ram, sizeof(ram)), 0);
	assert_int_equal(fake_host_add(&f, "virtio-balloon"), 0);
	data = fake_host_last(&f);
	assert_null(data);
	assert_int_equal(api_get("", out, sizeof(out), &e), -EINVAL);
	assert_non_null(strstr(e.text, "no balloon device"));
	assert_int_equal(api_patch("", "{\"amount_mib\": 1}", &e), -EINVAL);
	stop();
}

static void test_save_restore(void **state)
{
	static uint8_t saved_rings[3 * QUEUE_RINGS];
	struct stat_entry stat = { htole16(VIRTIO_BALLOON_S_MEMFREE), htole64(5) };
	const struct device_instance *inst;
	struct state_writer w;
	struct state_reader r;
	struct errmsg e = { "" };
	(void)state;

	start((struct balloon_config){ .enabled = true, .amount_mib = 4, .stats_polling_interval_s = 60 });
	offer(STATS, &stat, 0, sizeof(stat));
	assert_int_equal(api_patch("", "{\"amount_mib\": 6}", &e), 0);
	mmio_wr(VIRTIO_MMIO_CONFIG + offsetof(struct virtio_balloon_config, actual), 1000);
	inst = &f.devices.devices[f.devices.nr - 1];
	state_writer_init(&w);
	assert_int_equal(inst->ops->save(inst->data, &w), 0);
	memcpy(saved_rings, ram + DESC_GPA, sizeof(saved_rings));
	stop();

	/* Restored into a fresh device of the configured target, with the guest's RAM: the running one's is back. */
	start((struct balloon_config){ .enabled = true, .amount_mib = 4, .stats_polling_interval_s = 60 });
	memcpy(ram + DESC_GPA, saved_rings, sizeof(saved_rings));
	inst = &f.devices.devices[f.devices.nr - 1];
	state_reader_init(&r, w.buf, w.len, "virtio-balloon");
	assert_int_equal(inst->ops->restore(inst->data, &r, &e), 0);
	assert_int_equal(config_rd(offsetof(struct virtio_balloon_config, num_pages)), 6 * 256);
	assert_int_equal(config_rd(offsetof(struct virtio_balloon_config, actual)), 1000);
	/* The statistics buffer held at the save is given back at the next poll. */
	assert_int_equal(api_patch("statistics", "{\"stats_polling_interval_s\": 2}", &e), 0);
	usleep(2000);
	fake_host_run_io(&f, 10);
	assert_int_equal(used_idx(STATS), 1);
	stop();
	state_writer_free(&w);

	/* Saved with no statistics buffer taken, then said to hold one (its own record ends stats_held, head). */
	start((struct balloon_config){ .enabled = true, .amount_mib = 4, .stats_polling_interval_s = 60 });
	inst = &f.devices.devices[f.devices.nr - 1];
	state_writer_init(&w);
	assert_int_equal(inst->ops->save(inst->data, &w), 0);
	stop();
	w.buf[w.len - 3] = 1;
	start((struct balloon_config){ .enabled = true, .amount_mib = 4, .stats_polling_interval_s = 60 });
	inst = &f.devices.devices[f.devices.nr - 1];
	state_reader_init(&r, w.buf, w.len, "virtio-balloon");
	assert_int_equal(inst->ops->restore(inst->data, &r, &e), -EINVAL);
	assert_string_equal(e.text, "virtio-balloon state: stats_held: virtio-balloon0: a statistics buffer held, but "
				    "none is taken from the queue");
	stop();
	state_writer_free(&w);
}

static int parse_option(const char *value, struct balloon_config *out, struct errmsg *e)
{
	const struct option_spec *spec = balloon_record()->options;

	memset(out, 0, sizeof(*out));
	return spec->parse((uint8_t *)out + spec->offset, value, e);
}

static void test_option(void **state)
{
	struct balloon_config b;
	struct errmsg e = { "" };
	(void)state;

	assert_int_equal(parse_option("amount_mib=64", &b, &e), 0);
	assert_true(b.enabled);
	assert_int_equal(b.amount_mib, 64);
	assert_false(b.deflate_on_oom);
	assert_int_equal(b.stats_polling_interval_s, 0);
	assert_int_equal(parse_option("stats=5,deflate_on_oom=on,amount_mib=0", &b, &e), 0);
	assert_true(b.deflate_on_oom);
	assert_int_equal(b.stats_polling_interval_s, 5);
	assert_int_equal(parse_option("stats=5", &b, &e), -EINVAL);
	assert_non_null(strstr(e.text, "missing amount_mib="));
	assert_int_equal(parse_option("amount_mib=-1", &b, &e), -EINVAL);
	assert_non_null(strstr(e.text, "--balloon 'amount_mib=-1'"));
	assert_int_equal(parse_option("amount_mib=1,stats=65536", &b, &e), -EINVAL);
	assert_int_equal(parse_option("amount_mib=1,stats=99999999999999999999999999", &b, &e), -EINVAL);
	assert_int_equal(parse_option("amount_mib=1,amount_mib=2", &b, &e), -EINVAL);
	assert_int_equal(parse_option("amount_mib=1,deflate_on_oom=yes", &b, &e), -EINVAL);
	assert_int_equal(parse_option("amount_mib=16777216", &b, &e), -EINVAL);
	assert_int_equal(parse_option("", &b, &e), -EINVAL);
}

/* PUT /balloon's body, as the API and the config file read it. */
static void test_put_body(void **state)
{
	const struct device_api *api = balloon_record()->api;
	struct api_config_change c;
	struct balloon_config cfg = { 0 };
	struct errmsg e = { "" };
	char out[256];
	struct json_out j;
	(void)state;

#define PARSE(body) api->parse(body, strlen(body), &c, &e)
	assert_int_equal(PARSE("{\"amount_mib\": 5, \"deflate_on_oom\": true, \"stats_polling_interval_s\": 1}"), 0);
	assert_int_equal(api->put(&cfg, &c, &e), 0);
	assert_true(cfg.enabled);
	assert_int_equal(cfg.amount_mib, 5);
	json_out_init(&j, out, sizeof(out));
	json_object_begin(&j, NULL);
	api->format(&cfg, &j);
	json_object_end(&j);
	assert_true(json_out_finish(&j) > 0);
	assert_string_equal(out, "{\"amount_mib\":5,\"deflate_on_oom\":true,\"stats_polling_interval_s\":1}");
	assert_int_equal(PARSE("{\"amount_mib\": 5, \"deflate_on_oom\": false, \"stats_polling_interval_s\": null, "
			       "\"free_page_hinting\": false}"),
			 0);
	assert_int_equal(PARSE("{\"amount_mib\": 5}"), -EINVAL);
	assert_non_null(strstr(e.text, "deflate_on_oom"));
	assert_int_equal(PARSE("{\"amount_mib\": 5, \"deflate_on_oom\": false, \"stats_polling_interval_s\": 65536}"),
			 -EINVAL);
	assert_int_equal(PARSE("{\"amount_mib\": 5, \"deflate_on_oom\": false, \"free_page_reporting\": true}"),
			 -EINVAL);
	assert_non_null(strstr(e.text, "free_page_reporting"));
	assert_int_equal(PARSE("{\"amount_mib\": 5, \"deflate_on_oom\": false, \"x\": 1}"), -EINVAL);
#undef PARSE
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_device),
		cmocka_unit_test(test_more_than_ram),
		cmocka_unit_test(test_inflate_gives_pages_back),
		cmocka_unit_test(test_bad_frames_ignored),
		cmocka_unit_test(test_huge_list_bounded),
		cmocka_unit_test(test_statistics),
		cmocka_unit_test(test_patch_target),
		cmocka_unit_test(test_no_balloon),
		cmocka_unit_test(test_save_restore),
		cmocka_unit_test(test_option),
		cmocka_unit_test(test_put_body),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
