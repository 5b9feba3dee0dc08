/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-rng (src/virtio/rng.c): --rng. */
#ifndef KVMINI_VIRTIO_RNG_H
#define KVMINI_VIRTIO_RNG_H

#include <stdbool.h>

#include "rate_limiter.h"
#include "vm_config.h"

/* virtio-rng's configuration: its part of struct vm_config. */
struct rng_config {
	bool enabled;
	struct rate_limiter_config rate_limiter; /* PUT /entropy's: none unless active */
};

struct rng_config *rng_config_of(struct vm_config *cfg);
const struct rng_config *rng_config_of_const(const struct vm_config *cfg);

#endif
