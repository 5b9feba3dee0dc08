// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-balloon (--balloon, PUT /balloon): the host asks the guest to give
 * back memory by setting a target (num_pages in the configuration space);
 * the guest's driver allocates that many pages and lists their frame
 * numbers on the inflate queue, and kvmini hands those pages back to the
 * host kernel (host_discard_ram: MADV_DONTNEED), which lowers kvmini's
 * resident memory. Pages listed on the deflate queue are the guest's again:
 * nothing to do, as a discarded page reads as zeros on its next touch (as
 * the memory file had it, after a restore: guest_mem_discard).
 *
 * With statistics (stats_polling_interval_s > 0) a third queue carries the
 * guest's memory statistics: the driver posts one buffer of them, kvmini
 * keeps it, and every interval hands it back empty (a timerfd on the I/O
 * thread), which the driver answers with a fresh buffer.
 */
#include <assert.h>
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <linux/virtio_balloon.h>

#include "api/json.h"
#include "api/section.h"
#include "io_thread.h"
#include "kv.h"
#include "options.h"
#include "parse.h"
#include "state.h"
#include "virtio/balloon.h"
#include "virtio/virtio.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

enum { BALLOON_INFLATE, BALLOON_DEFLATE, BALLOON_STATS };

#define BALLOON_PAGE (1ULL << VIRTIO_BALLOON_PFN_SHIFT)
#define PAGES_PER_MIB ((1u << 20) >> VIRTIO_BALLOON_PFN_SHIFT)
/*
 * Linux lists at most 256 frames in one buffer (VIRTIO_BALLOON_ARRAY_PFNS_MAX),
 * and Firecracker takes no more: a larger buffer is ignored, so one turn of
 * a queue (at most 256 chains) is at most 65,536 pages given back.
 */
#define BALLOON_PFNS_MAX 256
#define BALLOON_REQUEST_MAX (BALLOON_PFNS_MAX * sizeof(uint32_t))
/* Statistics entries read from one buffer: Linux sends one per tag it knows (16 so far). */
#define BALLOON_STATS_READ 64
/* Log lines about the guest's page lists before they go quiet. */
#define BALLOON_LOG_BURST 5

/* Firecracker's name of each statistics tag (VIRTIO_BALLOON_S_*), in tag order. */
static const char *const stat_names[] = {
	"swap_in", "swap_out", "major_faults", "minor_faults", "free_memory", "total_memory",
	"available_memory", "disk_caches", "hugetlb_allocations", "hugetlb_failures", "oom_kill",
	"alloc_stall", "async_scan", "direct_scan", "async_reclaim", "direct_reclaim",
};

struct virtio_balloon {
	struct virtio_dev dev;
	struct virtio_balloon_config config; /* num_pages and actual only: config_size stops before the rest */
	uint32_t target_pages;               /* num_pages as kvmini set it; the guest writes only actual */
	uint64_t ram_mib;                    /* the most a target may be */
	bool deflate_on_oom;
	uint16_t interval_s;                 /* 0: no statistics queue */
	int timer_fd;                        /* the statistics' timerfd, -1 without */
	bool stats_held;                     /* the driver's statistics buffer is ours to give back */
	uint16_t stats_head;
	uint32_t stats_seen;                 /* bit per tag the guest ever reported */
	uint64_t stats[ARRAY_SIZE(stat_names)];
	struct log_limit page_log;
	char page_what[48];
};

static_assert(ARRAY_SIZE(stat_names) <= 32, "a bit per statistics tag");

/* Gives pages [gpa, gpa+len) back to the host; a failure is the host's (huge pages), logged. */
static void balloon_discard(struct virtio_balloon *b, uint64_t gpa, uint64_t len)
{
	int err;

	if (!len)
		return;
	if ((err = host_discard_ram(b->dev.host, gpa, len)))
		log_limited(&b->page_log, "%s: cannot give back guest memory %#llx-%#llx: %s", b->dev.name,
			    (unsigned long long)gpa, (unsigned long long)(gpa + len - 1), strerror(-err));
}

/* An inflate buffer: its frame numbers, each checked to be guest RAM, given back in runs of adjacent pages. */
static int balloon_inflate(struct virtio_dev *dev, const struct vq_chain *chain, uint32_t *written)
{
	struct virtio_balloon *b = dev->priv;
	uint32_t pfns[BALLOON_PFNS_MAX];
	size_t n = vq_chain_read(chain, 0, pfns, sizeof(pfns)) / sizeof(pfns[0]);
	uint64_t start = 0, len = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t gpa = (uint64_t)le32toh(pfns[i]) << VIRTIO_BALLOON_PFN_SHIFT;

		if (!guest_ptr(dev->host->mem, gpa, BALLOON_PAGE)) {
			log_limited(&b->page_log, "%s: page frame %#x is not guest RAM; ignored", dev->name,
				    le32toh(pfns[i]));
			continue;
		}
		/* Adjacent valid pages lie in one RAM region: the page between two regions is not RAM. */
		if (len && gpa == start + len) {
			len += BALLOON_PAGE;
			continue;
		}
		balloon_discard(b, start, len);
		start = gpa;
		len = BALLOON_PAGE;
	}
	balloon_discard(b, start, len);
	*written = 0;
	return 0;
}

/* A deflate buffer: the pages are the guest's again, whatever they read until it writes them. */
static int balloon_deflate(struct virtio_dev *dev, const struct vq_chain *chain, uint32_t *written)
{
	(void)dev;
	(void)chain;
	*written = 0;
	return 0;
}

/* A buffer of more frames than Linux ever sends: handed back untouched. */
static int balloon_refuse(struct virtio_dev *dev, const struct vq_chain *chain, uint32_t *written)
{
	struct virtio_balloon *b = dev->priv;

	log_limited(&b->page_log, "%s: a buffer of %zu bytes of page frames, over %zu; ignored", dev->name,
		    chain->out_len, BALLOON_REQUEST_MAX);
	*written = 0;
	return 0;
}

static void balloon_read_stats(struct virtio_balloon *b, const struct vq_chain *chain)
{
	size_t n = chain->out_len / sizeof(struct virtio_balloon_stat);

	for (size_t i = 0; i < n && i < BALLOON_STATS_READ; i++) {
		struct virtio_balloon_stat st;
		uint16_t tag;

		vq_chain_read(chain, i * sizeof(st), &st, sizeof(st));
		tag = le16toh(st.tag);
		/* Tags from a newer guest than kvmini knows are left out. */
		if (tag < ARRAY_SIZE(stat_names)) {
			b->stats[tag] = le64toh(st.val);
			b->stats_seen |= 1u << tag;
		}
	}
}

/*
 * The statistics queue: each buffer the driver posts is read and kept until
 * the next poll; a second one while kvmini holds one gives the older back.
 */
static void balloon_stats_notify(struct virtio_balloon *b)
{
	struct virtio_dev *dev = &b->dev;
	struct virtqueue *vq = &dev->vqs[BALLOON_STATS];
	struct virtio_turn turn = { 0 };
	struct vq_chain chain;
	bool pushed = false, yielded;
	int got = 0;

	do {
		while (!(yielded = virtio_turn_over(dev, BALLOON_STATS, &turn)) && (got = vq_pop(vq, &chain)) > 0) {
			turn.chains++;
			if (b->stats_held) {
				vq_push(vq, b->stats_head, 0);
				pushed = true;
			}
			balloon_read_stats(b, &chain);
			dev->bytes_from_guest += chain.out_len;
			b->stats_held = true;
			b->stats_head = chain.head;
		}
		if (got < 0)
			virtio_device_error(dev, "queue %u: malformed descriptor chain", BALLOON_STATS);
	} while (!yielded && got == 0 && vq_arm_notify(vq));
	if (pushed)
		virtio_queue_done(dev, BALLOON_STATS);
}

static void balloon_queue_notify(struct virtio_dev *dev, unsigned q)
{
	if (q == BALLOON_INFLATE)
		virtio_queue_serve(dev, q, balloon_inflate);
	else if (q == BALLOON_DEFLATE)
		virtio_queue_serve(dev, q, balloon_deflate);
	else
		balloon_stats_notify(dev->priv);
}

/* A poll: the buffer kvmini holds goes back, and the driver refills it. */
static void balloon_poll_stats(struct virtio_balloon *b)
{
	if (!b->stats_held || !virtio_device_live(&b->dev) || !b->dev.vqs[BALLOON_STATS].started)
		return;
	vq_push(&b->dev.vqs[BALLOON_STATS], b->stats_head, 0);
	b->stats_held = false;
	virtio_queue_done(&b->dev, BALLOON_STATS);
}

static void balloon_on_timer(void *ctx, uint32_t events)
{
	struct virtio_balloon *b = ctx;
	uint64_t expirations;

	(void)events;
	if (read(b->timer_fd, &expirations, sizeof(expirations)) != sizeof(expirations))
		return;
	pthread_mutex_lock(&b->dev.lock);
	balloon_poll_stats(b);
	pthread_mutex_unlock(&b->dev.lock);
}

/* Polls every interval_s, the first time after one interval, or at once when `now`. */
static int balloon_arm_timer(struct virtio_balloon *b, bool now)
{
	struct itimerspec when = { .it_interval = { .tv_sec = b->interval_s },
				   .it_value = { .tv_sec = b->interval_s } };

	if (now)
		when.it_value = (struct timespec){ .tv_nsec = 1 };
	return timerfd_settime(b->timer_fd, 0, &when, NULL) ? -errno : 0;
}

/* The guest writes actual; num_pages is kvmini's alone. */
static void balloon_config_write(struct virtio_dev *dev, uint32_t offset, unsigned size)
{
	struct virtio_balloon *b = dev->priv;

	(void)offset;
	(void)size;
	b->config.num_pages = htole32(b->target_pages);
}

/* A reset driver holds no pages in the balloon and gave up its statistics buffer. */
static void balloon_reset(struct virtio_dev *dev)
{
	struct virtio_balloon *b = dev->priv;

	b->config.actual = 0;
	b->stats_held = false;
}

static void balloon_destroy(struct virtio_dev *dev)
{
	struct virtio_balloon *b = dev->priv;

	if (b->timer_fd >= 0) {
		event_loop_remove(&b->dev.host->io->loop, b->timer_fd);
		close(b->timer_fd);
	}
	free(b);
}

static void balloon_save(struct virtio_dev *dev, struct state_writer *w)
{
	struct virtio_balloon *b = dev->priv;

	state_put_u32(w, b->target_pages);
	state_put_u32(w, le32toh(b->config.actual));
	state_put_bool(w, b->stats_held);
	state_put_u16(w, b->stats_head);
}

static int balloon_restore(struct virtio_dev *dev, struct state_reader *r)
{
	struct virtio_balloon *b = dev->priv;
	uint32_t target = state_get_u32(r, "target_pages");
	uint32_t actual = state_get_u32(r, "actual");
	bool held = state_get_bool(r, "stats_held");
	uint16_t head = state_get_u16(r, "stats_head");

	if (!state_ok(r))
		return r->err;
	if (target > b->ram_mib * PAGES_PER_MIB)
		return state_invalid(r, "target_pages", "%s: %u pages, the guest has %llu MiB", dev->name, target,
				     (unsigned long long)b->ram_mib);
	if (held && (!b->interval_s || head >= dev->vqs[BALLOON_STATS].size))
		return state_invalid(r, "stats_head", "%s: buffer %u held, the statistics queue has %u", dev->name,
				     head, b->interval_s ? dev->vqs[BALLOON_STATS].size : 0);
	/* A buffer handed back that the driver did not see taken would be a used entry it never made. */
	if (held && (!dev->vqs[BALLOON_STATS].started ||
		     dev->vqs[BALLOON_STATS].last_avail == dev->vqs[BALLOON_STATS].used_idx))
		return state_invalid(r, "stats_held", "%s: a statistics buffer held, but none is taken from the queue",
				     dev->name);
	b->target_pages = target;
	b->config.num_pages = htole32(target);
	b->config.actual = htole32(actual);
	b->stats_held = held;
	b->stats_head = head;
	return 0;
}

static const struct virtio_dev_ops balloon_ops = {
	.queue_notify = balloon_queue_notify,
	.config_write = balloon_config_write,
	.refuse = balloon_refuse,
	.reset = balloon_reset,
	.destroy = balloon_destroy,
	.save = balloon_save,
	.restore = balloon_restore,
};

static unsigned balloon_count(const void *config)
{
	const struct balloon_config *cfg = config;

	return cfg->enabled ? 1 : 0;
}

static int balloon_create(const struct device_host *host, const void *config, unsigned index,
			  struct virtio_dev **dev, struct errmsg *e)
{
	const struct balloon_config *cfg = config;
	uint64_t ram_mib = host->mem->size >> 20;
	struct virtio_balloon *b;
	int err;

	if (cfg->amount_mib > ram_mib)
		return errmsg_set(e, EINVAL, "virtio-balloon: amount_mib %u is more than the guest's %llu MiB",
				  cfg->amount_mib, (unsigned long long)ram_mib);
	if (!(b = calloc(1, sizeof(*b))))
		return errmsg_set(e, ENOMEM, "virtio-balloon: out of memory");
	b->ram_mib = ram_mib;
	b->deflate_on_oom = cfg->deflate_on_oom;
	b->interval_s = cfg->stats_polling_interval_s;
	b->target_pages = cfg->amount_mib * PAGES_PER_MIB;
	b->config.num_pages = htole32(b->target_pages);
	b->timer_fd = -1;
	b->dev.ops = &balloon_ops;
	b->dev.priv = b;
	b->dev.device_id = VIRTIO_ID_BALLOON;
	snprintf(b->dev.name, sizeof(b->dev.name), "virtio-balloon%u", index);
	snprintf(b->page_what, sizeof(b->page_what), "further %s page errors", b->dev.name);
	b->page_log = (struct log_limit)LOG_LIMIT(b->page_what, BALLOON_LOG_BURST);
	b->dev.nr_queues = b->interval_s ? 3 : 2;
	b->dev.request_max = BALLOON_REQUEST_MAX;
	b->dev.device_features = (b->interval_s ? 1ULL << VIRTIO_BALLOON_F_STATS_VQ : 0) |
				 (cfg->deflate_on_oom ? 1ULL << VIRTIO_BALLOON_F_DEFLATE_ON_OOM : 0);
	b->dev.config = (uint8_t *)&b->config;
	b->dev.config_size = offsetof(struct virtio_balloon_config, free_page_hint_cmd_id);
	if (b->interval_s) {
		b->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (b->timer_fd < 0) {
			err = errmsg_set(e, errno, "%s: timerfd: %s", b->dev.name, strerror(errno));
			free(b);
			return err;
		}
		if ((err = balloon_arm_timer(b, false)) ||
		    (err = io_thread_add(host->io, b->timer_fd, EPOLLIN, balloon_on_timer, b))) {
			errmsg_set(e, -err, "%s: cannot start the statistics timer: %s", b->dev.name, strerror(-err));
			close(b->timer_fd);
			free(b);
			return err;
		}
	}
	*dev = &b->dev;
	return 0;
}

/* --balloon amount_mib=N[,deflate_on_oom=on|off][,stats=SECONDS] */
enum { BALLOON_AMOUNT, BALLOON_DEFLATE_ON_OOM, BALLOON_STATS_S, BALLOON_KEYS };
static const char *const balloon_keys[BALLOON_KEYS] = { "amount_mib", "deflate_on_oom", "stats" };

/* A key's value as a whole number up to max. */
static int kv_uint(const struct kv_item *it, uint64_t max, uint64_t *out, struct errmsg *e)
{
	char text[24] = "";

	if (it->value_len < sizeof(text))
		memcpy(text, it->value, it->value_len);
	if (it->value_len >= sizeof(text) || parse_uint(text, 0, max, out))
		return errmsg_set(e, EINVAL, "%.*s '%.*s': must be a whole number from 0 to %llu", (int)it->key_len,
				  it->key, (int)it->value_len, it->value, (unsigned long long)max);
	return 0;
}

static int parse_balloon(void *balloon_config, const char *arg, struct errmsg *e)
{
	struct balloon_config *cfg = balloon_config, b = { .enabled = true };
	unsigned seen = 0;
	uint64_t v = 0;
	int key, err = 0;

	for (const char *pos = *arg ? arg : NULL; pos && !err;) {
		struct kv_item it;

		if ((err = kv_next(&pos, &it, e)) || (key = kv_key(&it, balloon_keys, BALLOON_KEYS, &seen, e)) < 0) {
			err = err ? err : key;
			break;
		}
		switch (key) {
		case BALLOON_AMOUNT:
			if (!(err = kv_uint(&it, UINT32_MAX / PAGES_PER_MIB, &v, e)))
				b.amount_mib = (uint32_t)v;
			break;
		case BALLOON_DEFLATE_ON_OOM:
			err = kv_choice(&it, "off", "on", &b.deflate_on_oom, e);
			break;
		case BALLOON_STATS_S:
			if (!(err = kv_uint(&it, UINT16_MAX, &v, e)))
				b.stats_polling_interval_s = (uint16_t)v;
			break;
		}
	}
	if (!err && !(seen & (1u << BALLOON_AMOUNT)))
		err = errmsg_set(e, EINVAL, "missing amount_mib= (e.g. --balloon amount_mib=0)");
	if (err)
		return kv_option_error(e, "--balloon", arg);
	*cfg = b;
	return 0;
}

static const struct option_spec balloon_options[] = {
	{ "balloon", 0, "amount_mib=N[,deflate_on_oom=on|off][,stats=SECONDS]",
	  "a virtio-balloon device asking the guest for N MiB back (PATCH /balloon\n"
	  "changes it); stats: poll the guest's memory statistics every SECONDS",
	  parse_balloon, 0 },
	{ .name = NULL },
};

/* ---- its section of the API and the config file: PUT, PATCH and GET /balloon, /balloon/statistics ---- */

static_assert(sizeof(struct balloon_config) <= API_ITEM_MAX, "a balloon fits a configuration change");

static int balloon_parse(const char *json, size_t len, struct api_config_change *c, struct errmsg *e)
{
	struct balloon_config *b = (struct balloon_config *)c->item;
	uint64_t amount = 0, interval = 0;
	bool hinting = false, reporting = false;
	const struct json_field f[] = {
		{ .name = "amount_mib", .type = JSON_UINT, .required = true, .uint = &amount,
		  .max = UINT32_MAX / PAGES_PER_MIB },
		{ .name = "deflate_on_oom", .type = JSON_BOOL, .required = true, .boolean = &b->deflate_on_oom },
		{ .name = "stats_polling_interval_s", .type = JSON_UINT, .uint = &interval, .max = UINT16_MAX },
		{ .name = "free_page_hinting", .type = JSON_BOOL, .boolean = &hinting },
		{ .name = "free_page_reporting", .type = JSON_BOOL, .boolean = &reporting },
	};
	int err;

	if ((err = json_read_object(json, len, f, ARRAY_SIZE(f), e)))
		return err;
	if (hinting || reporting)
		return errmsg_set(e, EINVAL, "'%s' is not supported by kvmini",
				  hinting ? "free_page_hinting" : "free_page_reporting");
	b->enabled = true;
	b->amount_mib = (uint32_t)amount;
	b->stats_polling_interval_s = (uint16_t)interval;
	return 0;
}

static int balloon_put(void *config, const struct api_config_change *c, struct errmsg *e)
{
	(void)e;
	memcpy(config, c->item, sizeof(struct balloon_config));
	return 0;
}

static bool balloon_configured(const void *config)
{
	return ((const struct balloon_config *)config)->enabled;
}

static void balloon_format(const void *config, struct json_out *j)
{
	const struct balloon_config *b = config;

	json_put_uint(j, "amount_mib", b->amount_mib);
	json_put_bool(j, "deflate_on_oom", b->deflate_on_oom);
	json_put_uint(j, "stats_polling_interval_s", b->stats_polling_interval_s);
}

/* PATCH /balloon {"amount_mib"} or PATCH /balloon/statistics {"stats_polling_interval_s"}, into the item. */
static int balloon_parse_patch(const char *json, size_t len, struct api_config_change *c, struct errmsg *e)
{
	struct balloon_config *b = (struct balloon_config *)c->item;
	uint64_t v = 0;
	const struct json_field amount = { .name = "amount_mib", .type = JSON_UINT, .required = true, .uint = &v,
					   .max = UINT32_MAX / PAGES_PER_MIB };
	const struct json_field interval = { .name = "stats_polling_interval_s", .type = JSON_UINT, .required = true,
					     .uint = &v, .max = UINT16_MAX };
	int err;

	if ((err = json_read_object(json, len, c->sub[0] ? &interval : &amount, 1, e)))
		return err;
	if (c->sub[0])
		b->stats_polling_interval_s = (uint16_t)v;
	else
		b->amount_mib = (uint32_t)v;
	return 0;
}

static int balloon_patch_config(void *config, const struct api_config_change *c, struct errmsg *e)
{
	struct balloon_config *cfg = config;
	const struct balloon_config *b = (const struct balloon_config *)c->item;

	(void)e;
	if (c->sub[0])
		cfg->stats_polling_interval_s = b->stats_polling_interval_s;
	else
		cfg->amount_mib = b->amount_mib;
	return 0;
}

/* The running balloon; NULL with e set (EINVAL: a 400, as Firecracker answers) when the VM has none. */
static struct virtio_balloon *running_balloon(void *data, struct errmsg *e)
{
	struct virtio_dev *dev = virtio_kind_device(data, 0);

	if (!dev)
		errmsg_set(e, EINVAL, "this microVM has no balloon device (PUT /balloon before the start)");
	return dev ? dev->priv : NULL;
}

static int balloon_set_target(struct virtio_balloon *b, uint32_t amount_mib, struct errmsg *e)
{
	if (amount_mib > b->ram_mib)
		return errmsg_set(e, EINVAL, "'amount_mib' %u is more than the guest's %llu MiB", amount_mib,
				  (unsigned long long)b->ram_mib);
	b->target_pages = amount_mib * PAGES_PER_MIB;
	b->config.num_pages = htole32(b->target_pages);
	virtio_config_changed(&b->dev);
	return 0;
}

/* As Firecracker: statistics can be polled more or less often after the start, not turned on or off. */
static int balloon_set_interval(struct virtio_balloon *b, uint16_t interval_s, struct errmsg *e)
{
	uint16_t was = b->interval_s;
	int err;

	if (interval_s == was)
		return 0;
	if (!was || !interval_s)
		return errmsg_set(e, EINVAL, "the balloon's statistics cannot be turned %s after the start",
				  was ? "off" : "on");
	b->interval_s = interval_s;
	if ((err = balloon_arm_timer(b, true))) {
		b->interval_s = was;
		return errmsg_set(e, -err, "the balloon's statistics timer: %s", strerror(-err));
	}
	return 0;
}

static int balloon_api_patch(void *data, const struct api_config_change *c, struct errmsg *e)
{
	const struct balloon_config *item = (const struct balloon_config *)c->item;
	struct virtio_balloon *b = running_balloon(data, e);
	int err;

	if (!b)
		return -EINVAL;
	pthread_mutex_lock(&b->dev.lock);
	if (c->sub[0])
		err = balloon_set_interval(b, item->stats_polling_interval_s, e);
	else
		err = balloon_set_target(b, item->amount_mib, e);
	pthread_mutex_unlock(&b->dev.lock);
	return err;
}

/* GET /balloon: the configuration with the current target; GET /balloon/statistics: the guest's last report. */
static int balloon_api_get(void *data, const char *sub, struct json_out *j, struct errmsg *e)
{
	struct virtio_balloon *b = running_balloon(data, e);
	uint32_t actual;
	int err = 0;

	if (!b)
		return -EINVAL;
	pthread_mutex_lock(&b->dev.lock);
	actual = le32toh(b->config.actual);
	if (!sub[0]) {
		json_put_uint(j, "amount_mib", b->target_pages / PAGES_PER_MIB);
		json_put_bool(j, "deflate_on_oom", b->deflate_on_oom);
		json_put_uint(j, "stats_polling_interval_s", b->interval_s);
	} else if (!b->interval_s) {
		err = errmsg_set(e, EINVAL, "the balloon's statistics are not enabled (stats_polling_interval_s 0)");
	} else {
		json_put_uint(j, "target_pages", b->target_pages);
		json_put_uint(j, "actual_pages", actual);
		json_put_uint(j, "target_mib", b->target_pages / PAGES_PER_MIB);
		json_put_uint(j, "actual_mib", actual / PAGES_PER_MIB);
		for (unsigned tag = 0; tag < ARRAY_SIZE(stat_names); tag++)
			if (b->stats_seen & (1u << tag))
				json_put_uint(j, stat_names[tag], b->stats[tag]);
	}
	pthread_mutex_unlock(&b->dev.lock);
	return err;
}

static const struct device_api balloon_api = {
	.name = "balloon",
	.parse = balloon_parse,
	.put = balloon_put,
	.format = balloon_format,
	.configured = balloon_configured,
	.parse_patch = balloon_parse_patch,
	.patch_config = balloon_patch_config,
	.gettable = true,
	.sub = "statistics",
};

VIRTIO_DEVICE_REGISTER("virtio-balloon", struct balloon_config, balloon_count, balloon_create,
		       .options = balloon_options, .api = &balloon_api, .api_patch = balloon_api_patch,
		       .api_get = balloon_api_get);
DEVICE_CONFIG_OF(struct balloon_config, balloon_config_of, virtio_device_balloon_create)
