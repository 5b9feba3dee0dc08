/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-net (src/virtio/net.c): one device per --net, joined to a host tap interface. */
#ifndef KVMINI_VIRTIO_NET_H
#define KVMINI_VIRTIO_NET_H

#include "errmsg.h"

/*
 * Opens the tap interface `tap` for frames with a virtio_net_hdr_v1 in front
 * and no offloads, non-blocking: returns its fd, or a negative errno with the
 * reason in *e. The fuzz target replaces it (a weak symbol).
 */
int virtio_net_open_tap(const char *tap, struct errmsg *e);

#endif
