/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-balloon (src/virtio/balloon.c): --balloon, PUT/PATCH/GET /balloon and /balloon/statistics. */
#ifndef KVMINI_VIRTIO_BALLOON_H
#define KVMINI_VIRTIO_BALLOON_H

#include <stdbool.h>
#include <stdint.h>

#include "vm_config.h"

/* virtio-balloon's configuration: its part of struct vm_config, in Firecracker's terms. */
struct balloon_config {
	bool enabled;
	uint32_t amount_mib;               /* the balloon's target: guest memory the guest should give back */
	bool deflate_on_oom;               /* the guest may take pages back from the balloon when it runs out */
	uint16_t stats_polling_interval_s; /* 0: no statistics; else how often the guest is asked for them */
};

struct balloon_config *balloon_config_of(struct vm_config *cfg);
const struct balloon_config *balloon_config_of_const(const struct vm_config *cfg);

#endif
