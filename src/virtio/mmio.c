// SPDX-License-Identifier: Apache-2.0
/*
 * The virtio-mmio transport, version 2. A bus-level device owns the windows;
 * virtio_mmio_attach (called by the core for each virtio device) hands out
 * the next window and IRQ line. Queue notifications are KVM ioeventfds, so a
 * kick costs the guest no exit to kvmini.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/aml.h"
#include "device.h"
#include "irq.h"
#include "state.h"
#include "virtio/mmio.h"
#include "virtio/transport.h"
#include "virtio/virtio.h"
#include "io_bus.h"

/* Reads of a shared-memory region's length and base: -1 says the region does not exist. */
#define SHM_NONE 0xffffffffu
#define MMIO_LOG_BURST 5

struct virtio_mmio_bus {
	unsigned own_lines; /* windows that got a line of their own; the rest share these */
	struct virtio_mmio_lines lines;
	unsigned count;
	struct virtio_mmio windows[VIRTIO_MMIO_MAX_DEVICES];
};

static const struct device_ops virtio_mmio_bus_device;

/* The core set dev->isr already. */
static void mmio_interrupt(struct virtio_dev *dev, int queue)
{
	(void)queue;
	virtio_mmio_update_line(dev->transport_data);
}

/* The selectors; the line's level follows from the ISR the core restored. Any selector value is harmless. */
static void mmio_save(struct virtio_dev *dev, struct state_writer *w)
{
	struct virtio_mmio *m = dev->transport_data;

	state_put_u32(w, m->device_features_sel);
	state_put_u32(w, m->driver_features_sel);
	state_put_u32(w, m->queue_sel);
}

static int mmio_restore(struct virtio_dev *dev, struct state_reader *r)
{
	struct virtio_mmio *m = dev->transport_data;
	uint32_t device_features_sel = state_get_u32(r, "device_features_sel");
	uint32_t driver_features_sel = state_get_u32(r, "driver_features_sel");
	uint32_t queue_sel = state_get_u32(r, "queue_sel");

	if (!state_ok(r))
		return r->err;
	pthread_mutex_lock(&dev->lock);
	m->device_features_sel = device_features_sel;
	m->driver_features_sel = driver_features_sel;
	m->queue_sel = queue_sel;
	virtio_mmio_update_line(m);
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

static const struct virtio_transport_ops mmio_transport = {
	.name = "mmio",
	.interrupt = mmio_interrupt,
	.save = mmio_save,
	.restore = mmio_restore,
};

void virtio_mmio_setup(struct virtio_mmio *m, const struct device_host *host, struct virtio_dev *dev, unsigned index,
		       uint32_t base, unsigned gsi)
{
	memset(m, 0, sizeof(*m));
	m->host = host;
	m->dev = dev;
	m->index = index;
	m->base = base;
	m->gsi = gsi;
	m->log = (struct log_limit)LOG_LIMIT("virtio-mmio register errors", MMIO_LOG_BURST);
	dev->transport = &mmio_transport;
	dev->transport_data = m;
}

void virtio_mmio_update_line(struct virtio_mmio *m)
{
	bool level = m->dev->isr != 0;
	unsigned *raised;

	if (level == m->line)
		return;
	m->line = level;
	if (!m->lines) {
		host_irq_line(m->host, m->gsi, level);
		return;
	}
	/* Under the lock, so a raise and the last lower of one line reach KVM in the order they were counted. */
	pthread_mutex_lock(&m->lines->lock);
	raised = &m->lines->raised[m->gsi];
	*raised = level ? *raised + 1 : *raised - 1;
	if (*raised == (level ? 1u : 0u))
		host_irq_line(m->host, m->gsi, level);
	pthread_mutex_unlock(&m->lines->lock);
}

/* The selected queue, if the driver may still set it up (the spec ignores writes to an enabled one). */
static struct virtqueue *writable_queue(struct virtio_mmio *m)
{
	struct virtio_dev *dev = m->dev;

	if (m->queue_sel >= dev->nr_queues || dev->vqs[m->queue_sel].enabled)
		return NULL;
	return &dev->vqs[m->queue_sel];
}

static void set_low(uint64_t *gpa, uint32_t v)
{
	*gpa = (*gpa & ~0xffffffffULL) | v;
}

static void set_high(uint64_t *gpa, uint32_t v)
{
	*gpa = (*gpa & 0xffffffffULL) | (uint64_t)v << 32;
}

/* Returns false for an offset that is no readable register. */
static bool register_read(struct virtio_mmio *m, uint64_t offset, uint32_t *v)
{
	struct virtio_dev *dev = m->dev;
	bool have_queue = m->queue_sel < dev->nr_queues;

	switch (offset) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		*v = VIRTIO_MMIO_MAGIC;
		return true;
	case VIRTIO_MMIO_VERSION:
		*v = 2;
		return true;
	case VIRTIO_MMIO_DEVICE_ID:
		*v = dev->device_id;
		return true;
	case VIRTIO_MMIO_VENDOR_ID:
		*v = VIRTIO_MMIO_VENDOR;
		return true;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		*v = virtio_device_features(dev, m->device_features_sel);
		return true;
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		*v = have_queue ? VIRTQ_SIZE_MAX : 0;
		return true;
	case VIRTIO_MMIO_QUEUE_READY:
		*v = have_queue && dev->vqs[m->queue_sel].enabled;
		return true;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		*v = dev->isr;
		return true;
	case VIRTIO_MMIO_STATUS:
		*v = dev->status;
		return true;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		*v = SHM_NONE;
		return true;
	case VIRTIO_MMIO_CONFIG_GENERATION:
		*v = dev->config_generation;
		return true;
	default:
		return false;
	}
}

static void queue_ready_write(struct virtio_mmio *m, uint32_t v)
{
	struct virtio_dev *dev = m->dev;

	if (m->queue_sel >= dev->nr_queues)
		return;
	if (!(v & 1)) {
		/* The driver stops using the queue: it forgets the queue's set-up, as a reset would. */
		vq_reset(&dev->vqs[m->queue_sel]);
		return;
	}
	if (!dev->vqs[m->queue_sel].enabled)
		virtio_enable_queue(dev, m->queue_sel);
}

/* Returns false for an offset that is no writable register. */
static bool register_write(struct virtio_mmio *m, uint64_t offset, uint32_t v)
{
	struct virtio_dev *dev = m->dev;
	struct virtqueue *vq = NULL;

	switch (offset) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		m->device_features_sel = v;
		return true;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		virtio_set_driver_features(dev, m->driver_features_sel, v);
		return true;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		m->driver_features_sel = v;
		return true;
	case VIRTIO_MMIO_QUEUE_SEL:
		m->queue_sel = v;
		return true;
	case VIRTIO_MMIO_QUEUE_READY:
		queue_ready_write(m, v);
		return true;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		/* Reached only when KVM could not take the kick through an ioeventfd. */
		virtio_exit_notify(dev, v);
		return true;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		dev->isr &= ~v;
		virtio_mmio_update_line(m);
		return true;
	case VIRTIO_MMIO_STATUS:
		virtio_set_status(dev, (uint8_t)v);
		if (!v)
			m->device_features_sel = m->driver_features_sel = m->queue_sel = 0;
		virtio_mmio_update_line(m); /* a reset clears the ISR */
		return true;
	case VIRTIO_MMIO_SHM_SEL: /* there are no shared-memory regions to select */
		return true;
	case VIRTIO_MMIO_QUEUE_NUM:
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		vq = writable_queue(m);
		break;
	default:
		return false;
	}

	if (!vq)
		return true;
	switch (offset) {
	case VIRTIO_MMIO_QUEUE_NUM:
		/* An impossible size is kept as 0, which starting the queue refuses. */
		vq->size = v <= VIRTQ_SIZE_MAX ? (uint16_t)v : 0;
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
		set_low(&vq->desc_gpa, v);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		set_high(&vq->desc_gpa, v);
		break;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
		set_low(&vq->avail_gpa, v);
		break;
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
		set_high(&vq->avail_gpa, v);
		break;
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
		set_low(&vq->used_gpa, v);
		break;
	default:
		set_high(&vq->used_gpa, v);
		break;
	}
	return true;
}

void virtio_mmio_access(struct virtio_mmio *m, uint64_t offset, uint8_t *data, unsigned size, bool is_write)
{
	uint32_t v = 0;
	bool ok;

	if (offset >= VIRTIO_MMIO_CONFIG) {
		if (is_write)
			virtio_config_write(m->dev, offset - VIRTIO_MMIO_CONFIG, data, size);
		else
			virtio_config_read(m->dev, offset - VIRTIO_MMIO_CONFIG, data, size);
		return;
	}
	if (size != 4 || offset % 4) {
		if (!is_write)
			memset(data, 0, size);
		log_limited(&m->log, "%s: %u-byte %s at register %#llx: only aligned 32-bit accesses are allowed",
			    m->dev->name, size, is_write ? "write" : "read", (unsigned long long)offset);
		return;
	}
	if (is_write) {
		memcpy(&v, data, 4);
		ok = register_write(m, offset, v);
	} else {
		ok = register_read(m, offset, &v);
		memcpy(data, &v, 4);
	}
	if (!ok)
		log_limited(&m->log, "%s: %s of register %#llx, which does not exist or cannot be %s", m->dev->name,
			    is_write ? "write" : "read", (unsigned long long)offset, is_write ? "written" : "read");
}

int virtio_mmio_cmdline_param(char *buf, size_t size, uint32_t base, unsigned gsi)
{
	return snprintf(buf, size, "virtio_mmio.device=%u@%#x:%u", VIRTIO_MMIO_WINDOW, base, gsi);
}

int virtio_mmio_describe_acpi(struct aml *aml, unsigned index, uint32_t base, unsigned gsi)
{
	char name[5];

	if (index > 99)
		return -EINVAL;
	snprintf(name, sizeof(name), "VR%02u", index);
	aml_device(aml, name);
	/* The id Linux's virtio_mmio driver matches in ACPI. */
	aml_name_string(aml, "_HID", "LNRO0005");
	aml_name_int(aml, "_UID", index);
	aml_resource_template(aml, "_CRS");
	aml_res_mem32_fixed(aml, base, VIRTIO_MMIO_WINDOW, true);
	aml_res_ext_irq(aml, gsi, true);
	aml_end(aml);
	return aml_end(aml);
}

/* --- The bus device and attaching devices to it --- */

static void mmio_io(void *opaque, uint64_t offset, uint8_t *data, unsigned size, bool is_write)
{
	struct virtio_mmio *m = opaque;

	pthread_mutex_lock(&m->dev->lock);
	virtio_mmio_access(m, offset, data, size, is_write);
	pthread_mutex_unlock(&m->dev->lock);
}

/* Queue q's kicks: a 32-bit write of q to QueueNotify signals kick_fd[q] inside KVM. */
static int register_kick(const struct virtio_mmio *m, unsigned q)
{
	return host_ioeventfd(m->host, m->base + VIRTIO_MMIO_QUEUE_NOTIFY, 4, false, true, q, m->dev->kick_fd[q], true);
}

int virtio_mmio_attach(const struct device_host *host, struct virtio_dev *dev, struct errmsg *e)
{
	struct virtio_mmio_bus *bus = host_find(host, &virtio_mmio_bus_device);
	struct virtio_mmio *m;
	uint32_t base;
	char param[64];
	int gsi, err;

	if (!bus)
		return errmsg_set(e, ENODEV, "%s: no virtio-mmio bus", dev->name);
	if (bus->count == VIRTIO_MMIO_MAX_DEVICES)
		return errmsg_set(e, ENOSPC, "%s: at most %d virtio-mmio devices", dev->name,
				  VIRTIO_MMIO_MAX_DEVICES);
	gsi = host_irq_alloc_line(host);
	if (gsi == -ENOSPC && bus->own_lines)
		gsi = (int)bus->windows[bus->count % bus->own_lines].gsi;
	else if (gsi >= 0)
		bus->own_lines++;
	if (gsi < 0)
		return errmsg_set(e, -gsi, "%s: no free interrupt line for virtio-mmio", dev->name);
	base = VIRTIO_MMIO_BASE + bus->count * VIRTIO_MMIO_WINDOW;
	m = &bus->windows[bus->count];
	virtio_mmio_setup(m, host, dev, bus->count, base, (unsigned)gsi);
	m->lines = &bus->lines;

	err = io_bus_register(host->mmio, base, VIRTIO_MMIO_WINDOW, dev->name, mmio_io, m);
	if (err)
		return errmsg_set(e, -err, "%s: MMIO window %#x is taken", dev->name, base);
	if (!host->acpi || host->mmio_cmdline) {
		virtio_mmio_cmdline_param(param, sizeof(param), base, (unsigned)gsi);
		if ((err = host_append_cmdline(host, param)))
			return errmsg_set(e, -err, "%s: no room on the kernel command line for %s", dev->name, param);
	}
	for (unsigned q = 0; q < dev->nr_queues; q++) {
		err = register_kick(m, q);
		if (err)
			log_debug("%s: queue %u kicks go through kvmini (KVM_IOEVENTFD: %s)", dev->name, q,
				  strerror(-err));
	}
	bus->count++;
	log_debug("%s: virtio-mmio at %#x, IRQ %d", dev->name, base, gsi);
	return 0;
}

static int mmio_bus_init(const struct device_host *host, const void *config, void **data, struct errmsg *e)
{
	struct virtio_mmio_bus *bus;

	(void)config;
	if (host->transport != VIRTIO_TRANSPORT_MMIO)
		return 0;
	bus = calloc(1, sizeof(*bus));
	if (!bus)
		return errmsg_set(e, ENOMEM, "virtio-mmio: out of memory");
	pthread_mutex_init(&bus->lines.lock, NULL);
	*data = bus;
	return 0;
}

/* The devices on the bus went first (their level is higher); KVM drops the ioeventfds with the VM. */
static void mmio_bus_exit(void *data)
{
	free(data);
}

static int mmio_bus_describe(void *data, struct aml *aml)
{
	const struct virtio_mmio_bus *bus = data;

	for (unsigned i = 0; bus && i < bus->count; i++) {
		const struct virtio_mmio *m = &bus->windows[i];
		int err = virtio_mmio_describe_acpi(aml, m->index, m->base, m->gsi);

		if (err)
			return err;
	}
	return 0;
}

static const struct device_ops virtio_mmio_bus_device = {
	.name = "virtio-mmio",
	.level = DEVICE_LEVEL_BUS,
	.init = mmio_bus_init,
	.exit = mmio_bus_exit,
	.describe_acpi = mmio_bus_describe,
};
DEVICE_REGISTER(virtio_mmio_bus_device);
