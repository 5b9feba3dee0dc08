// SPDX-License-Identifier: Apache-2.0
/* Interrupt routing: the VM's whole GSI table, kept here because KVM_SET_GSI_ROUTING replaces it at once. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "irq.h"

#define LEGACY_GSIS 16
#define IOAPIC_PINS 24
/* KVM's own defaults for an in-kernel irqchip: GSIs 0-15 reach both the PICs and the IOAPIC, 16-23 the IOAPIC. */
#define DEFAULT_ROUTES (LEGACY_GSIS * 2 + (IOAPIC_PINS - LEGACY_GSIS))
#define MSI_ROUTES_MAX (IRQ_GSI_MAX - IRQ_MSI_FIRST)
/* Room for MSI routes grows by doubling from this: a full table is 50 KiB, a VM uses a few dozen. */
#define MSI_ROUTES_FIRST 4

struct irq_routing {
	int vm_fd;
	pthread_mutex_t lock;
	unsigned next_line;
	unsigned nr_msi;
	unsigned msi_room; /* MSI routes the table has room for */
	/* The table as KVM takes it: the default routes, then MSI route i for GSI IRQ_MSI_FIRST + i. */
	struct kvm_irq_routing *table;
};

static size_t table_bytes(unsigned msi_routes)
{
	return sizeof(struct kvm_irq_routing) + (DEFAULT_ROUTES + msi_routes) * sizeof(struct kvm_irq_routing_entry);
}

static struct kvm_irq_routing_entry irqchip_route(unsigned gsi, unsigned chip, unsigned pin)
{
	return (struct kvm_irq_routing_entry){
		.gsi = gsi,
		.type = KVM_IRQ_ROUTING_IRQCHIP,
		.u.irqchip = { .irqchip = chip, .pin = pin },
	};
}

static struct kvm_irq_routing_entry msi_route(unsigned gsi, uint64_t address, uint32_t data)
{
	return (struct kvm_irq_routing_entry){
		.gsi = gsi,
		.type = KVM_IRQ_ROUTING_MSI,
		.u.msi = { .address_lo = (uint32_t)address, .address_hi = (uint32_t)(address >> 32), .data = data },
	};
}

int irq_init(struct irq_routing **out, int vm_fd, struct errmsg *e)
{
	struct irq_routing *r = calloc(1, sizeof(*r));
	unsigned n = 0;

	if (r)
		r->table = calloc(1, table_bytes(MSI_ROUTES_FIRST));
	if (!r || !r->table) {
		free(r);
		return errmsg_set(e, ENOMEM, "out of memory for the interrupt routing table");
	}
	for (unsigned gsi = 0; gsi < IOAPIC_PINS; gsi++) {
		r->table->entries[n++] = irqchip_route(gsi, KVM_IRQCHIP_IOAPIC, gsi);
		if (gsi < LEGACY_GSIS)
			r->table->entries[n++] = irqchip_route(gsi, gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE,
							       gsi % 8);
	}
	r->table->nr = n;
	r->msi_room = MSI_ROUTES_FIRST;
	pthread_mutex_init(&r->lock, NULL);
	r->next_line = IRQ_LINE_FIRST;
	r->vm_fd = vm_fd;
	*out = r;
	return 0;
}

void irq_exit(struct irq_routing *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r->table);
	free(r);
}

int irq_alloc_line(struct irq_routing *r)
{
	int line = -ENOSPC;

	if (!r)
		return -ENODEV;
	pthread_mutex_lock(&r->lock);
	if (r->next_line <= IRQ_LINE_LAST)
		line = (int)r->next_line++;
	pthread_mutex_unlock(&r->lock);
	return line;
}

/* Doubles the room for MSI routes, up to MSI_ROUTES_MAX; called with the lock held. */
static int grow_table(struct irq_routing *r)
{
	unsigned room = r->msi_room * 2 < MSI_ROUTES_MAX ? r->msi_room * 2 : MSI_ROUTES_MAX;
	struct kvm_irq_routing *table = realloc(r->table, table_bytes(room));

	if (!table)
		return -ENOMEM;
	r->table = table;
	r->msi_room = room;
	return 0;
}

static int irq_commit(struct irq_routing *r)
{
	return ioctl(r->vm_fd, KVM_SET_GSI_ROUTING, r->table) ? -errno : 0;
}

int irq_alloc_msi(struct irq_routing *r, uint64_t address, uint32_t data)
{
	unsigned gsi;
	int err;

	if (!r)
		return -ENODEV;
	pthread_mutex_lock(&r->lock);
	if (r->nr_msi == MSI_ROUTES_MAX) {
		pthread_mutex_unlock(&r->lock);
		return -ENOSPC;
	}
	if (r->nr_msi == r->msi_room && (err = grow_table(r))) {
		pthread_mutex_unlock(&r->lock);
		return err;
	}
	gsi = IRQ_MSI_FIRST + r->nr_msi;
	r->table->entries[r->table->nr++] = msi_route(gsi, address, data);
	err = irq_commit(r);
	if (err)
		r->table->nr--;
	else
		r->nr_msi++;
	pthread_mutex_unlock(&r->lock);
	return err ? err : (int)gsi;
}

int irq_set_msi(struct irq_routing *r, unsigned gsi, uint64_t address, uint32_t data)
{
	struct kvm_irq_routing_entry *entry, old;
	int err;

	if (!r)
		return -ENODEV;
	pthread_mutex_lock(&r->lock);
	if (gsi < IRQ_MSI_FIRST || gsi - IRQ_MSI_FIRST >= r->nr_msi) {
		pthread_mutex_unlock(&r->lock);
		return -EINVAL;
	}
	entry = &r->table->entries[DEFAULT_ROUTES + gsi - IRQ_MSI_FIRST];
	old = *entry;
	*entry = msi_route(gsi, address, data);
	err = irq_commit(r);
	if (err)
		*entry = old;
	pthread_mutex_unlock(&r->lock);
	return err;
}

int irq_irqfd(struct irq_routing *r, int fd, unsigned gsi, bool assign)
{
	struct kvm_irqfd irqfd = { .fd = (uint32_t)fd, .gsi = gsi, .flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN };

	if (!r)
		return -ENODEV;
	return ioctl(r->vm_fd, KVM_IRQFD, &irqfd) ? -errno : 0;
}
