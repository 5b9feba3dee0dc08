/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-vsock (src/virtio/vsock.c) in Firecracker's hybrid design: the
 * guest's AF_VSOCK streams meet Unix sockets on the host (docs/vsock.md).
 */
#ifndef KVMINI_VIRTIO_VSOCK_H
#define KVMINI_VIRTIO_VSOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "errmsg.h"
#include "vm_config.h"

/*
 * The longest uds path: sun_path holds 108 bytes with the NUL, and a guest's
 * connection to host port P goes to "<uds>_<P>", up to 11 bytes more.
 */
#define VSOCK_UDS_MAX (108 - 12)
#define VSOCK_ID_MAX 64

/* --vsock cid=N,uds=PATH, or PUT /vsock: one device per VM; cid 0 means none. */
struct vsock_config {
	uint32_t cid;
	char uds[VSOCK_UDS_MAX + 1];
	char id[VSOCK_ID_MAX];    /* the API's vsock_id (deprecated in Firecracker): kept and shown, not used */
};

struct vsock_config *vsock_config_of(struct vm_config *cfg);
const struct vsock_config *vsock_config_of_const(const struct vm_config *cfg);

#endif
