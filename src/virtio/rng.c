// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-rng (--rng): the guest's hwrng, filled from the host kernel's
 * getrandom(). One queue; each chain is a request for as many bytes as its
 * writable part holds.
 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "api/json.h"
#include "api/section.h"
#include "options.h"
#include "virtio/rng.h"
#include "virtio/throttle.h"
#include "virtio/virtio.h"

/*
 * The largest request served; Linux asks for at most a page. There is no
 * error answer (an empty one makes the driver ask again), so the core makes
 * a larger request a device error.
 */
#define RNG_REQUEST_MAX (64 * 1024)

struct virtio_rng {
	struct virtio_dev dev;
	struct virtio_throttle throttle; /* /entropy's rate_limiter */
	uint8_t buf[RNG_REQUEST_MAX];
};

/* Fills up to len bytes of rng->buf; returns how many (fewer only if getrandom fails). */
static size_t rng_fill(struct virtio_rng *rng, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = getrandom(rng->buf + got, len - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_limited(&rng->dev.error_log, "%s: getrandom: %s", rng->dev.name,
				    n ? strerror(errno) : "no bytes");
			break;
		}
		got += (size_t)n;
	}
	return got;
}

static int rng_serve(struct virtio_dev *dev, const struct vq_chain *chain, uint32_t *written)
{
	struct virtio_rng *rng = dev->priv;

	if (!chain->in_len) {
		virtio_device_error(dev, "a request with no room for the answer");
		return -EIO;
	}
	if (!virtio_throttle_take(&rng->throttle, 1, chain->in_len))
		return -EAGAIN;
	/* The core refused a chain over dev->request_max, so in_len fits rng->buf. */
	*written = (uint32_t)vq_chain_write(chain, 0, rng->buf, rng_fill(rng, chain->in_len));
	return 0;
}

static void rng_queue_notify(struct virtio_dev *dev, unsigned q)
{
	struct virtio_rng *rng = dev->priv;

	/* Kicks while the rate limiter waits change nothing: its timer resumes the queue. */
	if (!virtio_throttle_waiting(&rng->throttle))
		virtio_queue_serve(dev, q, rng_serve);
}

static void rng_destroy(struct virtio_dev *dev)
{
	struct virtio_rng *rng = dev->priv;

	virtio_throttle_close(&rng->throttle);
	free(rng);
}

static const struct virtio_dev_ops rng_ops = {
	.queue_notify = rng_queue_notify,
	.destroy = rng_destroy,
};

static unsigned rng_count(const void *config)
{
	const struct rng_config *cfg = config;

	return cfg->enabled ? 1 : 0;
}

static int rng_create(const struct device_host *host, const void *config, unsigned index, struct virtio_dev **dev,
		      struct errmsg *e)
{
	struct virtio_rng *rng = calloc(1, sizeof(*rng));

	(void)host;
	if (!rng)
		return errmsg_set(e, ENOMEM, "virtio-rng: out of memory");
	rng->dev.ops = &rng_ops;
	rng->dev.priv = rng;
	rng->dev.device_id = VIRTIO_ID_RNG;
	snprintf(rng->dev.name, sizeof(rng->dev.name), "virtio-rng%u", index);
	rng->dev.nr_queues = 1;
	rng->dev.request_max = RNG_REQUEST_MAX;
	virtio_throttle_init(&rng->throttle, &rng->dev, 0, &((const struct rng_config *)config)->rate_limiter);
	*dev = &rng->dev;
	return 0;
}

static const struct option_spec rng_options[] = {
	{ "rng", 0, NULL, "a virtio-rng device fed from the host's getrandom()", option_set,
	  offsetof(struct rng_config, enabled) },
	{ .name = NULL },
};

/* ---- its section of the API and the config file: PUT /entropy, "entropy": {...} ---- */

static_assert(sizeof(struct rng_config) <= API_ITEM_MAX, "an entropy device fits a configuration change");

/* Firecracker's EntropyDeviceConfig: the device, with an optional rate limiter. */
static int entropy_parse(const char *json, size_t len, struct api_config_change *c, struct errmsg *e)
{
	struct rng_config *rng = (struct rng_config *)c->item;
	const char *limiter = NULL;
	size_t limiter_len = 0;
	const struct json_field f[] = {
		{ .name = "rate_limiter", .type = JSON_OBJECT, .object = &limiter, .object_len = &limiter_len },
	};
	int err;

	if ((err = json_read_object(json, len, f, sizeof(f) / sizeof(f[0]), e)))
		return err;
	if ((err = rate_limiter_config_parse("rate_limiter", limiter, limiter_len, &rng->rate_limiter, e)))
		return err;
	rng->enabled = true;
	return 0;
}

/* A second PUT replaces the first, as in Firecracker. */
static int entropy_put(void *config, const struct api_config_change *c, struct errmsg *e)
{
	(void)e;
	memcpy(config, c->item, sizeof(struct rng_config));
	return 0;
}

static void entropy_format(const void *config, struct json_out *j)
{
	rate_limiter_config_format(j, "rate_limiter", &((const struct rng_config *)config)->rate_limiter);
}

static bool entropy_configured(const void *config)
{
	return ((const struct rng_config *)config)->enabled;
}

static const struct device_api entropy_api = {
	.name = "entropy",
	.parse = entropy_parse,
	.put = entropy_put,
	.format = entropy_format,
	.configured = entropy_configured,
};

VIRTIO_DEVICE_REGISTER("virtio-rng", struct rng_config, rng_count, rng_create, .options = rng_options,
		       .api = &entropy_api);
DEVICE_CONFIG_OF(struct rng_config, rng_config_of, virtio_device_rng_create)
