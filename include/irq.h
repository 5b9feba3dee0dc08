/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Interrupt wiring for devices: level-triggered IOAPIC lines (virtio-mmio,
 * PCI INTx), and MSI routes (virtio-pci MSI-X) delivered through KVM irqfds.
 *
 * KVM_SET_GSI_ROUTING replaces the whole table, so this module keeps it: the
 * default PIC and IOAPIC routes for GSIs 0-23, then one MSI route per
 * allocated GSI from 24 up. Thread-safe (vCPU threads update MSI routes when
 * the guest programs an MSI-X table entry).
 */
#ifndef KVMINI_IRQ_H
#define KVMINI_IRQ_H

#include <stdbool.h>
#include <stdint.h>

#include "errmsg.h"

/* IOAPIC pins 16-23 carry device lines: level-triggered, active high. */
#define IRQ_LINE_FIRST 16
#define IRQ_LINE_LAST 23
/* MSI routes: GSIs from 24 up to IRQ_GSI_MAX - 1. */
#define IRQ_MSI_FIRST 24
#define IRQ_GSI_MAX 1024

struct irq_routing; /* private to src/irq.c */

/* The routing table of the KVM VM vm_fd, with its default routes (not yet sent: KVM has the same). */
int irq_init(struct irq_routing **out, int vm_fd, struct errmsg *e);
void irq_exit(struct irq_routing *r);
/* The next free device line (16..23), or -ENOSPC. */
int irq_alloc_line(struct irq_routing *r);
/* A new GSI with an MSI route (address/data as the guest programmed them), or a negative errno. */
int irq_alloc_msi(struct irq_routing *r, uint64_t address, uint32_t data);
/* Reprograms the MSI route of gsi (the guest rewrote its MSI-X table entry). */
int irq_set_msi(struct irq_routing *r, unsigned gsi, uint64_t address, uint32_t data);
/* Makes a write to eventfd `fd` inject gsi (KVM_IRQFD); deassign undoes it. */
int irq_irqfd(struct irq_routing *r, int fd, unsigned gsi, bool assign);

#endif
