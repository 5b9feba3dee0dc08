// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-console (--console virtio): the host console as the guest's hvc0.
 * One port, no MULTIPORT: queue 0 carries host input to the guest, queue 1
 * the guest's output. Once this device exists it takes the console's input
 * over from the UART; the UART keeps printing what the guest writes to it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/virtio_console.h>

#include "console.h"
#include "virtio/console.h"
#include "virtio/virtio.h"
#include "vm.h"

enum { CONSOLE_RECEIVEQ, CONSOLE_TRANSMITQ, CONSOLE_QUEUES };

/* Guest output is copied to the console in pieces of this size. */
#define CONSOLE_CHUNK 4096
/*
 * The most output one chain may carry. Linux's hvc writes at most a page at
 * a time (and a port's write or splice 64 KiB); the console has no error
 * answer, so a larger chain is a device error.
 */
#define CONSOLE_OUTPUT_MAX (64 * 1024)

struct virtio_console {
	struct virtio_dev dev;
	struct vm *vm;
	struct virtio_console_config config; /* no F_SIZE: cols and rows stay 0 */
};

/* Guest output: every readable byte of the chain goes to the console. */
static int vcon_transmit(struct virtio_dev *dev, const struct vq_chain *chain, uint32_t *written)
{
	struct virtio_console *vc = dev->priv;
	uint8_t buf[CONSOLE_CHUNK];

	for (size_t off = 0, n; (n = vq_chain_read(chain, off, buf, sizeof(buf))); off += n)
		console_write(vc->vm->console, buf, n);
	*written = 0;
	return 0;
}

/* Receive buffers are filled when input arrives (vcon_receive), not when the driver adds them. */
static void vcon_queue_notify(struct virtio_dev *dev, unsigned q)
{
	if (q == CONSOLE_TRANSMITQ)
		virtio_queue_serve(dev, q, vcon_transmit);
}

/*
 * Host input, on the main thread: as much as the driver's receive buffers
 * hold; the console keeps the rest. Each chain takes at least a byte, so len
 * bounds the work without a turn budget.
 */
static size_t vcon_receive(void *ctx, const uint8_t *buf, size_t len)
{
	struct virtio_console *vc = ctx;
	struct virtio_dev *dev = &vc->dev;
	struct virtqueue *vq = &dev->vqs[CONSOLE_RECEIVEQ];
	struct vq_chain chain;
	size_t taken = 0;

	pthread_mutex_lock(&dev->lock);
	/* A paused guest's memory stays as it was: the console holds the input until the resume. */
	while (taken < len && virtio_device_live(dev) && vq->started && !vm_pause_requested(vc->vm)) {
		int r = vq_pop(vq, &chain);

		if (r < 0) {
			virtio_device_error(dev, "malformed receive chain");
			break;
		}
		if (r == 0 && !vq_arm_notify(vq))
			break;
		if (r == 0)
			continue;
		if (!chain.in_len) {
			virtio_device_error(dev, "a receive buffer the device cannot write");
			break;
		}
		size_t n = vq_chain_write(&chain, 0, buf + taken, len - taken);

		vq_push(vq, chain.head, (uint32_t)n);
		dev->bytes_to_guest += n;
		taken += n;
	}
	if (taken)
		virtio_queue_done(dev, CONSOLE_RECEIVEQ);
	pthread_mutex_unlock(&dev->lock);
	return taken;
}

static void vcon_destroy(struct virtio_dev *dev)
{
	struct virtio_console *vc = dev->priv;

	console_set_input(vc->vm->console, NULL, NULL);
	free(vc);
}

static const struct virtio_dev_ops vcon_ops = {
	.queue_notify = vcon_queue_notify,
	.destroy = vcon_destroy,
};

static unsigned vcon_count(const struct vm_config *cfg)
{
	return vcon_config_of_const(cfg)->enabled ? 1 : 0;
}

static int vcon_create(struct vm *vm, unsigned index, struct virtio_dev **dev, struct errmsg *e)
{
	struct virtio_console *vc = calloc(1, sizeof(*vc));

	if (!vc)
		return errmsg_set(e, ENOMEM, "virtio-console: out of memory");
	vc->vm = vm;
	vc->dev.ops = &vcon_ops;
	vc->dev.priv = vc;
	vc->dev.device_id = VIRTIO_ID_CONSOLE;
	snprintf(vc->dev.name, sizeof(vc->dev.name), "virtio-console%u", index);
	vc->dev.nr_queues = CONSOLE_QUEUES;
	vc->dev.config = (uint8_t *)&vc->config;
	vc->dev.config_size = sizeof(vc->config);
	vc->dev.request_max = CONSOLE_OUTPUT_MAX;
	/* Input from here on goes to hvc0 instead of the UART (registered at a lower level). */
	console_set_input(vm->console, vcon_receive, vc);
	*dev = &vc->dev;
	return 0;
}

VIRTIO_DEVICE_REGISTER("virtio-console", struct vcon_config, vcon_count, vcon_create);
DEVICE_CONFIG_OF(struct vcon_config, vcon_config_of, virtio_device_vcon_create)
