// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-rng (--rng): the guest's hwrng, filled from the host kernel's
 * getrandom(). One queue; each chain is a request for as many bytes as its
 * writable part holds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "virtio/rng.h"
#include "virtio/virtio.h"
#include "vm.h"

/*
 * The largest request served; Linux asks for at most a page. There is no
 * error answer (an empty one makes the driver ask again), so the core makes
 * a larger request a device error.
 */
#define RNG_REQUEST_MAX (64 * 1024)

struct virtio_rng {
	struct virtio_dev dev;
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
	/* The core refused a chain over dev->request_max, so in_len fits rng->buf. */
	*written = (uint32_t)vq_chain_write(chain, 0, rng->buf, rng_fill(rng, chain->in_len));
	return 0;
}

static void rng_queue_notify(struct virtio_dev *dev, unsigned q)
{
	virtio_queue_serve(dev, q, rng_serve);
}

static void rng_destroy(struct virtio_dev *dev)
{
	free(dev->priv);
}

static const struct virtio_dev_ops rng_ops = {
	.queue_notify = rng_queue_notify,
	.destroy = rng_destroy,
};

static unsigned rng_count(const struct vm_config *cfg)
{
	return rng_config_of_const(cfg)->enabled ? 1 : 0;
}

static int rng_create(struct vm *vm, unsigned index, struct virtio_dev **dev, struct errmsg *e)
{
	struct virtio_rng *rng = calloc(1, sizeof(*rng));

	(void)vm;
	if (!rng)
		return errmsg_set(e, ENOMEM, "virtio-rng: out of memory");
	rng->dev.ops = &rng_ops;
	rng->dev.priv = rng;
	rng->dev.device_id = VIRTIO_ID_RNG;
	snprintf(rng->dev.name, sizeof(rng->dev.name), "virtio-rng%u", index);
	rng->dev.nr_queues = 1;
	rng->dev.request_max = RNG_REQUEST_MAX;
	*dev = &rng->dev;
	return 0;
}

VIRTIO_DEVICE_REGISTER("virtio-rng", struct rng_config, rng_count, rng_create);
DEVICE_CONFIG_OF(struct rng_config, rng_config_of, virtio_device_rng_create)
