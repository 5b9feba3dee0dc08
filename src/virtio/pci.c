// SPDX-License-Identifier: Apache-2.0
/*
 * The virtio-pci transport, modern only (virtio 1.x "Virtio Over PCI Bus"):
 * one PCI function per device with one 32-bit memory BAR that holds the
 * common configuration, the ISR byte, the device configuration, the
 * notification addresses and the MSI-X table and pending bits.
 *
 * Queue notifications are KVM ioeventfds on the notification addresses,
 * moved whenever the BAR moves, so a kick costs the guest no exit to kvmini.
 * Interrupts are MSI-X messages, each vector an MSI route plus an irqfd; with
 * MSI-X off, the ISR byte and the slot's level-triggered INTx line.
 *
 * Locking: register accesses and interrupts take dev->lock; configuration
 * space hooks run with the bus lock held and take dev->lock after it.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <linux/pci_regs.h>
#include <linux/virtio_pci.h>

#include "device.h"
#include "devices/pci.h"
#include "irq.h"
#include "state.h"
#include "virtio/transport.h"
#include "virtio/virtio.h"

#define VIRTIO_PCI_VENDOR 0x1AF4
#define VIRTIO_PCI_MODERN_DEVICE 0x1040 /* + the virtio device id */
#define VIRTIO_PCI_REVISION 1           /* modern-only devices have revision 1 or more */
#define VIRTIO_PCI_SUBSYSTEM 0x1100     /* what QEMU uses; Linux does not look at it for modern devices */
#define CLASS_NETWORK_ETHERNET 0x020000
#define CLASS_STORAGE_OTHER 0x018000
#define CLASS_COMMUNICATION_OTHER 0x078000
#define CLASS_OTHER 0xFF0000

/* The BAR's layout: each structure on its own page. */
#define VP_BAR 0
#define VP_BAR_SIZE 0x8000
#define VP_COMMON 0x0000
#define VP_COMMON_LEN sizeof(struct virtio_pci_common_cfg)
#define VP_ISR 0x1000
#define VP_ISR_LEN 4
#define VP_DEVICE 0x2000
#define VP_DEVICE_MAX 0x1000
#define VP_NOTIFY 0x3000
/* Each queue's notification address is its own 4-byte slot: queue_notify_off = queue index. */
#define VP_NOTIFY_MULTIPLIER 4
#define VP_MSIX_TABLE 0x4000
#define VP_MSIX_PBA 0x5000
#define VP_PBA_LEN 8

/* One vector per queue and one for configuration changes. */
#define VP_VECTORS (VIRTIO_QUEUES_MAX + 1)

#define VP_LOG_BURST 5

struct msix_entry {
	uint32_t addr_lo, addr_hi, data, ctrl;
};

/* The MSI route and irqfd behind one vector, made when the guest first unmasks it. */
struct msix_route {
	int fd;        /* irqfd eventfd, -1 before */
	int gsi;       /* -1 before */
	uint64_t addr;
	uint32_t data;
};

struct virtio_pci {
	struct pci_function fn;
	struct virtio_dev *dev;
	const struct device_host *host;
	unsigned msix_cap;      /* offset of the MSI-X capability in configuration space */
	unsigned nr_vectors;

	/* Under dev->lock. */
	uint32_t device_feature_select, driver_feature_select;
	uint16_t queue_select;
	bool msix_enabled, msix_function_masked;
	bool intx_disabled;     /* command register bit */
	bool intx_level;        /* what the line is driven to */
	struct msix_entry table[VP_VECTORS];
	uint64_t pba;
	struct msix_route routes[VP_VECTORS];
	struct log_limit log;

	/* Under the bus lock: where the notification ioeventfds are. */
	uint64_t notify_base;
	bool kick_registered[VIRTIO_QUEUES_MAX];
};

static uint32_t le_value(const uint8_t *data, unsigned size)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < size && i < 4; i++)
		v |= (uint32_t)data[i] << (8 * i);
	return v;
}

/* --- Interrupts --- */

static void intx_update(struct virtio_pci *vp)
{
	bool level = !vp->msix_enabled && !vp->intx_disabled && vp->dev->isr;

	if (level == vp->intx_level)
		return;
	vp->intx_level = level;
	host_irq_line(vp->host, vp->fn.gsi, level);
}

static bool msix_masked(const struct virtio_pci *vp, unsigned v)
{
	return vp->msix_function_masked || (vp->table[v].ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

/* Makes vector v's MSI route match its table entry, creating route and irqfd the first time. */
static void msix_sync_route(struct virtio_pci *vp, unsigned v)
{
	struct msix_route *r = &vp->routes[v];
	uint64_t addr = (uint64_t)vp->table[v].addr_hi << 32 | vp->table[v].addr_lo;
	uint32_t data = vp->table[v].data;
	int err;

	if (r->gsi < 0) {
		int gsi = host_irq_alloc_msi(vp->host, addr, data);

		if (gsi < 0) {
			log_limited(&vp->log, "%s: no MSI route for vector %u: %s", vp->dev->name, v, strerror(-gsi));
			return;
		}
		r->gsi = gsi;
		log_debug("%s: MSI-X vector %u is GSI %d", vp->dev->name, v, gsi);
	} else if (r->addr != addr || r->data != data) {
		if ((err = host_irq_set_msi(vp->host, (unsigned)r->gsi, addr, data))) {
			log_limited(&vp->log, "%s: cannot reroute vector %u: %s", vp->dev->name, v, strerror(-err));
			return;
		}
	}
	r->addr = addr;
	r->data = data;
	if (r->fd >= 0)
		return;
	r->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->fd < 0) {
		log_limited(&vp->log, "%s: eventfd for vector %u: %s", vp->dev->name, v, strerror(errno));
		return;
	}
	if ((err = host_irqfd(vp->host, r->fd, (unsigned)r->gsi, true))) {
		log_limited(&vp->log, "%s: irqfd for vector %u: %s", vp->dev->name, v, strerror(-err));
		close(r->fd);
		r->fd = -1;
	}
}

static void msix_send(struct virtio_pci *vp, unsigned v)
{
	uint64_t one = 1;

	msix_sync_route(vp, v);
	/* Fails only if the counter would overflow, and then an interrupt is pending anyway. */
	if (vp->routes[v].fd >= 0)
		(void)!write(vp->routes[v].fd, &one, sizeof(one));
}

/* After an unmask or enable: programs the routes of live vectors and sends what was held back. */
static void msix_unmasked(struct virtio_pci *vp)
{
	if (!vp->msix_enabled)
		return;
	for (unsigned v = 0; v < vp->nr_vectors; v++) {
		if (msix_masked(vp, v))
			continue;
		if (vp->pba & (1ULL << v)) {
			vp->pba &= ~(1ULL << v);
			msix_send(vp, v);
		} else {
			msix_sync_route(vp, v);
		}
	}
}

/* transport->interrupt, dev->lock held, dev->isr already set. */
static void vp_interrupt(struct virtio_dev *dev, int queue)
{
	struct virtio_pci *vp = dev->transport_data;
	uint16_t v;

	if (!vp->msix_enabled) {
		intx_update(vp);
		return;
	}
	v = queue == VIRTIO_CONFIG_IRQ ? dev->msix_config : dev->vqs[queue].msix_vector;
	if (v >= vp->nr_vectors)
		return;  /* VIRTIO_MSI_NO_VECTOR: the driver asked for no interrupt */
	if (msix_masked(vp, v))
		vp->pba |= 1ULL << v;
	else
		msix_send(vp, v);
}

/* --- Save and restore --- */

/*
 * The function's configuration space (command, BAR, MSI-X control), the
 * selectors, the vectors, the MSI-X table and pending bits. MSI routes,
 * irqfds and the INTx level are not saved: they follow from these.
 */
static void vp_save(struct virtio_dev *dev, struct state_writer *w)
{
	struct virtio_pci *vp = dev->transport_data;

	state_put_bytes(w, vp->fn.cfg, PCI_CONFIG_SPACE);
	state_put_u32(w, vp->device_feature_select);
	state_put_u32(w, vp->driver_feature_select);
	state_put_u16(w, vp->queue_select);
	state_put_u16(w, dev->msix_config);
	for (unsigned q = 0; q < dev->nr_queues; q++)
		state_put_u16(w, dev->vqs[q].msix_vector);
	for (unsigned v = 0; v < vp->nr_vectors; v++) {
		state_put_u32(w, vp->table[v].addr_lo);
		state_put_u32(w, vp->table[v].addr_hi);
		state_put_u32(w, vp->table[v].data);
		state_put_u32(w, vp->table[v].ctrl);
	}
	state_put_u64(w, vp->pba);
}

/* A vector as the driver may have set it: one the function has, or none. */
static uint16_t restore_vector(const struct virtio_pci *vp, struct state_reader *r, const char *field)
{
	uint16_t v = state_get_u16(r, field);

	if (state_ok(r) && v >= vp->nr_vectors && v != VIRTIO_NO_VECTOR)
		state_invalid(r, field, "%s: vector %u, the function has %u", vp->dev->name, v, vp->nr_vectors);
	return v;
}

static int vp_restore(struct virtio_dev *dev, struct state_reader *r)
{
	struct virtio_pci *vp = dev->transport_data;
	uint8_t cfg[PCI_CONFIG_SPACE];
	struct msix_entry table[VP_VECTORS];
	uint16_t msix_config, vectors[VIRTIO_QUEUES_MAX];
	uint32_t device_feature_select, driver_feature_select;
	uint16_t queue_select;
	uint64_t pba;
	int bad;

	state_get_bytes(r, "pci config", cfg, sizeof(cfg));
	device_feature_select = state_get_u32(r, "device_feature_select");
	driver_feature_select = state_get_u32(r, "driver_feature_select");
	queue_select = state_get_u16(r, "queue_select");
	msix_config = restore_vector(vp, r, "msix_config");
	for (unsigned q = 0; q < dev->nr_queues; q++)
		vectors[q] = restore_vector(vp, r, "queue msix_vector");
	for (unsigned v = 0; v < vp->nr_vectors; v++) {
		table[v].addr_lo = state_get_u32(r, "msix addr_lo");
		table[v].addr_hi = state_get_u32(r, "msix addr_hi");
		table[v].data = state_get_u32(r, "msix data");
		table[v].ctrl = state_get_u32(r, "msix ctrl");
		if (state_ok(r) && (table[v].ctrl & ~PCI_MSIX_ENTRY_CTRL_MASKBIT))
			state_invalid(r, "msix ctrl", "%s: vector %u: %#x sets reserved bits", dev->name, v,
				      table[v].ctrl);
	}
	pba = state_get_u64(r, "msix pba");
	if (state_ok(r) && (pba >> vp->nr_vectors))
		state_invalid(r, "msix pba", "%s: %#llx has bits past vector %u", dev->name, (unsigned long long)pba,
			      vp->nr_vectors - 1);
	bad = state_ok(r) ? pci_function_config_mismatch(&vp->fn, cfg) : -1;
	if (bad >= 0)
		state_invalid(r, "pci config", "%s: byte %#x is %#x, the function has %#x there and it is read-only",
			      dev->name, (unsigned)bad, cfg[bad], vp->fn.cfg[bad]);
	if (!state_ok(r))
		return r->err;

	pthread_mutex_lock(&dev->lock);
	vp->device_feature_select = device_feature_select;
	vp->driver_feature_select = driver_feature_select;
	vp->queue_select = queue_select;
	dev->msix_config = msix_config;
	for (unsigned q = 0; q < dev->nr_queues; q++)
		dev->vqs[q].msix_vector = vectors[q];
	memcpy(vp->table, table, vp->nr_vectors * sizeof(table[0]));
	vp->pba = pba;
	pthread_mutex_unlock(&dev->lock);
	/*
	 * As the guest's own configuration writes would: the BAR decodes (and the
	 * notification ioeventfds follow it), MSI-X comes on with a route for each
	 * live vector, and the INTx line goes to the level the restored ISR says.
	 */
	pci_function_restore(pci_bus_of(vp->host), &vp->fn, cfg);
	return 0;
}

static const struct virtio_transport_ops pci_transport = {
	.name = "pci",
	.interrupt = vp_interrupt,
	.save = vp_save,
	.restore = vp_restore,
};

/* --- The BAR --- */

static uint16_t vector_or_none(const struct virtio_pci *vp, uint32_t v)
{
	return v < vp->nr_vectors ? (uint16_t)v : VIRTIO_NO_VECTOR;
}

static void common_read(struct virtio_pci *vp, uint64_t offset, uint8_t *data, unsigned size)
{
	struct virtio_dev *dev = vp->dev;
	struct virtio_pci_common_cfg c = {
		.device_feature_select = vp->device_feature_select,
		.device_feature = virtio_device_features(dev, vp->device_feature_select),
		.guest_feature_select = vp->driver_feature_select,
		.guest_feature = vp->driver_feature_select < 2
			? (uint32_t)(dev->driver_features >> (32 * vp->driver_feature_select)) : 0,
		.msix_config = dev->msix_config,
		.num_queues = (uint16_t)dev->nr_queues,
		.device_status = dev->status,
		.config_generation = (uint8_t)dev->config_generation,
		.queue_select = vp->queue_select,
	};

	if (vp->queue_select < dev->nr_queues) {
		const struct virtqueue *vq = &dev->vqs[vp->queue_select];

		c.queue_size = vq->size;
		c.queue_msix_vector = vq->msix_vector;
		c.queue_enable = vq->enabled;
		c.queue_notify_off = vp->queue_select;
		c.queue_desc_lo = (uint32_t)vq->desc_gpa;
		c.queue_desc_hi = (uint32_t)(vq->desc_gpa >> 32);
		c.queue_avail_lo = (uint32_t)vq->avail_gpa;
		c.queue_avail_hi = (uint32_t)(vq->avail_gpa >> 32);
		c.queue_used_lo = (uint32_t)vq->used_gpa;
		c.queue_used_hi = (uint32_t)(vq->used_gpa >> 32);
	}
	memcpy(data, (const uint8_t *)&c + offset, size);
}

/* Writes one half (or, with an 8-byte access, all) of a 64-bit ring address. */
static void set_address(uint64_t *gpa, uint64_t field_offset, uint64_t offset, const uint8_t *data, unsigned size)
{
	if (size == 8 && offset == field_offset) {
		memcpy(gpa, data, 8);
	} else if (size == 4) {
		unsigned shift = offset == field_offset ? 0 : 32;

		*gpa = (*gpa & ~(0xffffffffULL << shift)) | (uint64_t)le_value(data, 4) << shift;
	}
}

static void common_write(struct virtio_pci *vp, uint64_t offset, const uint8_t *data, unsigned size)
{
	struct virtio_dev *dev = vp->dev;
	struct virtqueue *vq = vp->queue_select < dev->nr_queues ? &dev->vqs[vp->queue_select] : NULL;
	/* The spec ignores set-up writes to a queue the driver enabled already. */
	struct virtqueue *setup = vq && !vq->enabled ? vq : NULL;
	uint32_t v = le_value(data, size);

#define FIELD(f) offsetof(struct virtio_pci_common_cfg, f)
#define IS(f) (offset == FIELD(f) && size == sizeof(((struct virtio_pci_common_cfg *)0)->f))
	if (IS(device_feature_select)) {
		vp->device_feature_select = v;
	} else if (IS(guest_feature_select)) {
		vp->driver_feature_select = v;
	} else if (IS(guest_feature)) {
		virtio_set_driver_features(dev, vp->driver_feature_select, v);
	} else if (IS(msix_config)) {
		dev->msix_config = vector_or_none(vp, v);
	} else if (IS(device_status)) {
		virtio_set_status(dev, (uint8_t)v);
		if (!v) {
			vp->device_feature_select = vp->driver_feature_select = 0;
			vp->queue_select = 0;
			vp->pba = 0;
			intx_update(vp);
		}
	} else if (IS(queue_select)) {
		vp->queue_select = (uint16_t)v;
	} else if (IS(queue_size)) {
		if (setup && v >= 1 && v <= VIRTQ_SIZE_MAX)
			setup->size = (uint16_t)v;
	} else if (IS(queue_msix_vector)) {
		if (vq)
			vq->msix_vector = vector_or_none(vp, v);
	} else if (IS(queue_enable)) {
		if (setup && v == 1)
			virtio_enable_queue(dev, vp->queue_select);
	} else if (offset >= FIELD(queue_desc_lo) && offset < VP_COMMON_LEN && (size == 4 || size == 8) &&
		   offset % size == 0) {
		if (!setup)
			return;
		if (offset < FIELD(queue_avail_lo))
			set_address(&setup->desc_gpa, FIELD(queue_desc_lo), offset, data, size);
		else if (offset < FIELD(queue_used_lo))
			set_address(&setup->avail_gpa, FIELD(queue_avail_lo), offset, data, size);
		else
			set_address(&setup->used_gpa, FIELD(queue_used_lo), offset, data, size);
	} else {
		log_limited(&vp->log, "%s: %u-byte write to common configuration offset %#llx ignored", dev->name, size,
			    (unsigned long long)offset);
	}
#undef IS
#undef FIELD
}

static void msix_table_access(struct virtio_pci *vp, uint64_t offset, uint8_t *data, unsigned size, bool is_write)
{
	unsigned v = (unsigned)(offset / PCI_MSIX_ENTRY_SIZE);
	uint8_t *entry = (uint8_t *)&vp->table[v];
	unsigned at = (unsigned)(offset % PCI_MSIX_ENTRY_SIZE);
	bool was_masked;

	if (at + size > PCI_MSIX_ENTRY_SIZE) {
		if (!is_write)
			memset(data, 0, size);
		return;
	}
	if (!is_write) {
		memcpy(data, entry + at, size);
		return;
	}
	was_masked = msix_masked(vp, v);
	memcpy(entry + at, data, size);
	vp->table[v].ctrl &= PCI_MSIX_ENTRY_CTRL_MASKBIT;  /* the other control bits are reserved */
	/* Linux masks an entry while it rewrites it; a live entry's route follows each write. */
	if (was_masked && !msix_masked(vp, v))
		msix_unmasked(vp);
	else if (vp->msix_enabled && !msix_masked(vp, v))
		msix_sync_route(vp, v);
}

static void vp_bar_access(struct pci_function *fn, unsigned bar, uint64_t offset, uint8_t *data, unsigned size,
			  bool is_write)
{
	struct virtio_pci *vp = fn->opaque;
	struct virtio_dev *dev = vp->dev;
	bool handled = true;

	(void)bar;
	pthread_mutex_lock(&dev->lock);
	if (offset + size <= VP_COMMON + VP_COMMON_LEN) {  /* VP_COMMON is 0 */
		if (is_write)
			common_write(vp, offset - VP_COMMON, data, size);
		else
			common_read(vp, offset - VP_COMMON, data, size);
	} else if (offset >= VP_ISR && offset + size <= VP_ISR + VP_ISR_LEN) {
		if (!is_write) {
			memset(data, 0, size);
			if (offset == VP_ISR)
				data[0] = virtio_read_isr(dev);
			intx_update(vp);
		}
	} else if (offset >= VP_DEVICE && offset + size <= VP_DEVICE + VP_DEVICE_MAX) {
		if (is_write)
			virtio_config_write(dev, (uint32_t)(offset - VP_DEVICE), data, size);
		else
			virtio_config_read(dev, (uint32_t)(offset - VP_DEVICE), data, size);
	} else if (offset >= VP_NOTIFY && offset + size <= VP_NOTIFY + VP_NOTIFY_MULTIPLIER * dev->nr_queues) {
		/* Only when the ioeventfd could not be registered does a kick come this way. */
		if (is_write)
			virtio_exit_notify(dev, (unsigned)((offset - VP_NOTIFY) / VP_NOTIFY_MULTIPLIER));
		else
			memset(data, 0, size);
	} else if (offset >= VP_MSIX_TABLE && offset + size <= VP_MSIX_TABLE + PCI_MSIX_ENTRY_SIZE * vp->nr_vectors) {
		msix_table_access(vp, offset - VP_MSIX_TABLE, data, size, is_write);
	} else if (offset >= VP_MSIX_PBA && offset + size <= VP_MSIX_PBA + VP_PBA_LEN) {
		if (!is_write)
			for (unsigned i = 0; i < size; i++)
				data[i] = (uint8_t)(vp->pba >> (8 * (offset - VP_MSIX_PBA + i)));
	} else {
		handled = false;
	}
	if (!handled) {
		if (!is_write)
			memset(data, 0, size);
		log_limited(&vp->log, "%s: %u-byte %s at BAR offset %#llx ignored", dev->name, size,
			    is_write ? "write" : "read", (unsigned long long)offset);
	}
	pthread_mutex_unlock(&dev->lock);
}

/* --- PCI function hooks --- */

static int set_ioeventfd(struct virtio_pci *vp, unsigned q, uint64_t base, bool assign)
{
	/* The driver writes the queue index as 16 bits. */
	return host_ioeventfd(vp->host, base + VP_NOTIFY + (uint64_t)q * VP_NOTIFY_MULTIPLIER, 2, false, false, 0,
			      vp->dev->kick_fd[q], assign);
}

/* The notification ioeventfds follow the BAR. */
static void vp_bar_moved(struct pci_function *fn, unsigned bar, uint64_t old_addr, uint64_t new_addr)
{
	struct virtio_pci *vp = fn->opaque;

	(void)bar;
	(void)old_addr;
	for (unsigned q = 0; q < vp->dev->nr_queues; q++) {
		int err;

		if (vp->kick_registered[q])
			set_ioeventfd(vp, q, vp->notify_base, false);
		vp->kick_registered[q] = false;
		if (!new_addr)
			continue;
		err = set_ioeventfd(vp, q, new_addr, true);
		if (err)
			log_limited(&vp->log, "%s: queue %u notifications go through kvmini: KVM_IOEVENTFD: %s",
				    vp->dev->name, q, strerror(-err));
		vp->kick_registered[q] = !err;
	}
	vp->notify_base = new_addr;
}

static bool touches(unsigned offset, unsigned size, unsigned field, unsigned field_size)
{
	return offset < field + field_size && field < offset + size;
}

static void vp_config_written(struct pci_function *fn, unsigned offset, unsigned size)
{
	struct virtio_pci *vp = fn->opaque;
	uint16_t control = (uint16_t)pci_cfg_read(fn, vp->msix_cap + PCI_MSIX_FLAGS, 2);
	bool was_enabled, was_masked;

	pthread_mutex_lock(&vp->dev->lock);
	if (touches(offset, size, PCI_COMMAND, 2))
		vp->intx_disabled = pci_cfg_read(fn, PCI_COMMAND, 2) & PCI_COMMAND_INTX_DISABLE;
	if (touches(offset, size, vp->msix_cap + PCI_MSIX_FLAGS, 2)) {
		was_enabled = vp->msix_enabled;
		was_masked = vp->msix_function_masked;
		vp->msix_enabled = control & PCI_MSIX_FLAGS_ENABLE;
		vp->msix_function_masked = control & PCI_MSIX_FLAGS_MASKALL;
		if ((vp->msix_enabled && !was_enabled) || (was_masked && !vp->msix_function_masked))
			msix_unmasked(vp);
	}
	intx_update(vp);
	pthread_mutex_unlock(&vp->dev->lock);
}

static void vp_release(struct pci_function *fn)
{
	struct virtio_pci *vp = fn->opaque;

	for (unsigned v = 0; v < VP_VECTORS; v++)
		if (vp->routes[v].fd >= 0)
			close(vp->routes[v].fd);
	free(vp);
}

static const struct pci_function_ops vp_function_ops = {
	.bar_access = vp_bar_access,
	.bar_moved = vp_bar_moved,
	.config_written = vp_config_written,
	.release = vp_release,
};

/* --- Set-up --- */

static uint32_t class_of(uint16_t device_id)
{
	switch (device_id) {
	case VIRTIO_ID_NET:
		return CLASS_NETWORK_ETHERNET;
	case VIRTIO_ID_BLOCK:
		return CLASS_STORAGE_OTHER;
	case VIRTIO_ID_CONSOLE:
		return CLASS_COMMUNICATION_OTHER;
	default:
		return CLASS_OTHER;
	}
}

static int add_virtio_cap(struct pci_function *fn, uint8_t type, uint32_t offset, uint32_t length, unsigned cap_len)
{
	int at = pci_function_add_cap(fn, PCI_CAP_ID_VNDR, cap_len);

	if (at < 0)
		return at;
	pci_cfg_set(fn, (unsigned)at + offsetof(struct virtio_pci_cap, cap_len), 1, cap_len);
	pci_cfg_set(fn, (unsigned)at + offsetof(struct virtio_pci_cap, cfg_type), 1, type);
	pci_cfg_set(fn, (unsigned)at + offsetof(struct virtio_pci_cap, bar), 1, VP_BAR);
	pci_cfg_set(fn, (unsigned)at + offsetof(struct virtio_pci_cap, offset), 4, offset);
	pci_cfg_set(fn, (unsigned)at + offsetof(struct virtio_pci_cap, length), 4, length);
	return at;
}

/* The function's configuration space: ids, the BAR, the virtio capabilities and MSI-X. */
static int build_function(struct virtio_pci *vp)
{
	struct pci_function *fn = &vp->fn;
	struct virtio_dev *dev = vp->dev;
	int notify, msix, err = 0;

	pci_function_init(fn, VIRTIO_PCI_VENDOR, VIRTIO_PCI_MODERN_DEVICE + dev->device_id, class_of(dev->device_id),
			  VIRTIO_PCI_REVISION);
	pci_cfg_set(fn, PCI_SUBSYSTEM_VENDOR_ID, 2, VIRTIO_PCI_VENDOR);
	pci_cfg_set(fn, PCI_SUBSYSTEM_ID, 2, VIRTIO_PCI_SUBSYSTEM);
	fn->ops = &vp_function_ops;
	fn->opaque = vp;
	err = pci_function_add_bar(fn, VP_BAR, VP_BAR_SIZE);
	if (!err)
		err = add_virtio_cap(fn, VIRTIO_PCI_CAP_COMMON_CFG, VP_COMMON, VP_COMMON_LEN, sizeof(struct virtio_pci_cap));
	if (err >= 0)
		err = add_virtio_cap(fn, VIRTIO_PCI_CAP_ISR_CFG, VP_ISR, 1, sizeof(struct virtio_pci_cap));
	/* A device without configuration (rng) has no device capability. */
	if (err >= 0 && dev->config_size)
		err = add_virtio_cap(fn, VIRTIO_PCI_CAP_DEVICE_CFG, VP_DEVICE, dev->config_size,
				     sizeof(struct virtio_pci_cap));
	if (err < 0)
		return err;
	notify = add_virtio_cap(fn, VIRTIO_PCI_CAP_NOTIFY_CFG, VP_NOTIFY, VP_NOTIFY_MULTIPLIER * dev->nr_queues,
				sizeof(struct virtio_pci_notify_cap));
	if (notify < 0)
		return notify;
	pci_cfg_set(fn, (unsigned)notify + offsetof(struct virtio_pci_notify_cap, notify_off_multiplier), 4,
		    VP_NOTIFY_MULTIPLIER);
	msix = pci_function_add_cap(fn, PCI_CAP_ID_MSIX, PCI_CAP_MSIX_SIZEOF);
	if (msix < 0)
		return msix;
	vp->msix_cap = (unsigned)msix;
	pci_cfg_set(fn, vp->msix_cap + PCI_MSIX_FLAGS, 2, vp->nr_vectors - 1);
	pci_cfg_set_wmask(fn, vp->msix_cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	pci_cfg_set(fn, vp->msix_cap + PCI_MSIX_TABLE, 4, VP_MSIX_TABLE | VP_BAR);
	pci_cfg_set(fn, vp->msix_cap + PCI_MSIX_PBA, 4, VP_MSIX_PBA | VP_BAR);
	return 0;
}

int virtio_pci_attach(const struct device_host *host, struct virtio_dev *dev, struct errmsg *e)
{
	struct pci_bus *bus = pci_bus_of(host);
	struct virtio_pci *vp;
	int err;

	if (!bus)
		return errmsg_set(e, ENODEV, "%s: the VM has no PCI bus", dev->name);
	if (dev->config_size > VP_DEVICE_MAX)
		return errmsg_set(e, EINVAL, "%s: %u bytes of configuration, at most %d fit", dev->name,
				  dev->config_size, VP_DEVICE_MAX);
	vp = calloc(1, sizeof(*vp));
	if (!vp)
		return errmsg_set(e, ENOMEM, "%s: out of memory", dev->name);
	vp->dev = dev;
	vp->host = host;
	vp->nr_vectors = dev->nr_queues + 1;
	vp->log = (struct log_limit)LOG_LIMIT("virtio-pci register errors", VP_LOG_BURST);
	for (unsigned v = 0; v < VP_VECTORS; v++) {
		vp->routes[v] = (struct msix_route){ .fd = -1, .gsi = -1 };
		vp->table[v].ctrl = PCI_MSIX_ENTRY_CTRL_MASKBIT;  /* every vector starts masked */
	}
	err = build_function(vp);
	if (err) {
		free(vp);
		return errmsg_set(e, -err, "%s: cannot lay out its PCI configuration space", dev->name);
	}
	err = pci_bus_add(bus, &vp->fn, e);
	if (err) {
		free(vp);
		return errmsg_prefix(e, -err, "%s: ", dev->name);
	}
	dev->transport = &pci_transport;
	dev->transport_data = vp;
	log_debug("%s: PCI 00:%02x.0, BAR at %#x, INTx GSI %u", dev->name, vp->fn.slot,
		  pci_cfg_read(&vp->fn, PCI_BASE_ADDRESS_0, 4), vp->fn.gsi);
	return 0;
}
