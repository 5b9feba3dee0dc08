/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-console (src/virtio/console.c): --console virtio, and the exec channel. */
#ifndef KVMINI_VIRTIO_CONSOLE_H
#define KVMINI_VIRTIO_CONSOLE_H

#include <stdbool.h>

#include "vm_config.h"

/* virtio-console's configuration: its part of struct vm_config. */
struct vcon_config {
	bool enabled; /* --console virtio: the host console on hvc0 as well */
	/*
	 * Set by `kvmini exec`, never an option: hvc0 is a stream socket
	 * instead of the host console (the device keeps a copy of channel_fd;
	 * the caller still owns its own).
	 */
	bool channel;
	int channel_fd;
};

struct vcon_config *vcon_config_of(struct vm_config *cfg);
const struct vcon_config *vcon_config_of_const(const struct vm_config *cfg);

#endif
