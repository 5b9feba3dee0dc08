/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-net (src/virtio/net.c): one device per --net, joined to a host tap interface. */
#ifndef KVMINI_VIRTIO_NET_H
#define KVMINI_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "errmsg.h"
#include "rate_limiter.h"
#include "virtio/vnet_hdr.h"
#include "vm_config.h"

/* Interfaces one VM may have (--net, PUT /network-interfaces/{id}). */
#define NET_MAX_INTERFACES 4
#define NET_ID_MAX 64
/* Queue pairs one interface may have (queues=): with the control queue, 2 * 4 + 1 fit VIRTIO_QUEUES_MAX. */
#define NET_QUEUE_PAIRS_MAX 4

/* --net tap=NAME[,mac=52:54:00:12:34:56][,queues=N] */
struct net_config {
	char tap[16]; /* IFNAMSIZ */
	uint8_t mac[6];
	bool mac_set; /* else one is generated */
	uint8_t queues; /* queue pairs, each its own tap queue (IFF_MULTI_QUEUE) when over 1; 0 is 1 */
	char id[NET_ID_MAX]; /* the API's iface_id; "netN" from the command line */
	uint16_t mtu; /* the API's mtu, offered with VIRTIO_NET_F_MTU; 0: not offered (the guest's default) */
	struct rate_limiter_config rx_rate_limiter, tx_rate_limiter; /* the API's: none unless active */
};

/* virtio-net's configuration: its part of struct vm_config. */
struct net_configs {
	unsigned nr;
	struct net_config nets[NET_MAX_INTERFACES];
};

struct net_configs *net_config_of(struct vm_config *cfg);
/*
 * One --net value (tap=NAME[,mac=...]) into *n, checked but not opened
 * (pure: the API reads its fields this way too); -EINVAL with a message
 * quoting the value.
 */
int net_config_parse(const char *arg, struct net_config *n, struct errmsg *e);
const struct net_configs *net_config_of_const(const struct vm_config *cfg);

/*
 * Opens the tap interface `tap` (one more of its queues with multi_queue,
 * IFF_MULTI_QUEUE), non-blocking, for frames with a virtio_net_hdr_v1 in
 * front where it takes one (IFF_VNET_HDR), with its offloads off: returns its fd and in *caps what it accepts, or a negative
 * errno with the reason in *e. The unit tests and fuzz targets replace it
 * and virtio_net_tap_offload (weak symbols: tests/common/fake_host.c).
 */
int virtio_net_open_tap(const char *tap, bool multi_queue, struct vnet_tap_caps *caps, struct errmsg *e);
/* Sets the TUN_F_* offloads the tap may hand over (TUNSETOFFLOAD): 0 or a negative errno. */
int virtio_net_tap_offload(int fd, unsigned offloads);

#endif
