/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The two ways a virtio device reaches the guest. virtio_dev_add calls the
 * one the host names (host->transport); each finds its bus through the host, each fills dev->transport and makes
 * dev->kick_fd[] KVM ioeventfds on its notification addresses.
 */
#ifndef KVMINI_VIRTIO_TRANSPORT_H
#define KVMINI_VIRTIO_TRANSPORT_H

#include "errmsg.h"

struct device_host;
struct virtio_dev;

/* virtio-pci, modern (src/virtio/pci.c): one PCI function on bus 0 per device. */
int virtio_pci_attach(const struct device_host *host, struct virtio_dev *dev, struct errmsg *e);
/* virtio-mmio version 2 (src/virtio/mmio.c): one 512-byte window and one IRQ line per device. */
int virtio_mmio_attach(const struct device_host *host, struct virtio_dev *dev, struct errmsg *e);

#endif
