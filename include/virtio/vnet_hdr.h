/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-net's offloads, the pure part (docs/devices.md, "virtio-net
 * offloads (planned)"): which feature bits a tap lets the device offer and
 * which tap offloads the driver's choice turns on; whether a transmitted
 * virtio_net_hdr_v1 may go to the tap; how a received frame is spread over
 * the guest's receive chains with VIRTIO_NET_F_MRG_RXBUF. No I/O, no state:
 * virtio-net (src/virtio/net.c) does the ioctls and the queues.
 */
#ifndef KVMINI_VIRTIO_VNET_HDR_H
#define KVMINI_VIRTIO_VNET_HDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/virtio_net.h>

/* What the tap was found to accept when it was opened. */
struct vnet_tap_caps {
	bool vnet_hdr;		/* IFF_VNET_HDR: frames carry a virtio-net header both ways */
	bool hdr_size_v1;	/* TUNSETVNETHDRSZ accepted sizeof(struct virtio_net_hdr_v1) */
	unsigned offloads;	/* the TUN_F_* flags TUNSETOFFLOAD accepts */
};

/* The offload and MRG_RXBUF feature bits to offer for a tap with these capabilities. */
uint64_t vnet_offered_features(const struct vnet_tap_caps *caps);
/*
 * Whether the features the driver accepted respect the spec's dependencies
 * among offloads (GUEST_TSO4 needs GUEST_CSUM, ...): 0 or -EINVAL, for
 * FEATURES_OK.
 */
int vnet_check_features(uint64_t accepted);
/* The TUN_F_* flags to give TUNSETOFFLOAD for the features the driver accepted. */
unsigned vnet_tap_offloads(uint64_t accepted);

/* Why a transmitted header was refused: each has its drop counter. */
enum vnet_tx_verdict {
	VNET_TX_OK,
	VNET_TX_BAD_FLAGS,		/* a flag other than NEEDS_CSUM (DATA_VALID and RSC_INFO are receive-only) */
	VNET_TX_CSUM_NOT_NEGOTIATED,	/* NEEDS_CSUM without VIRTIO_NET_F_CSUM */
	VNET_TX_CSUM_OUTSIDE_FRAME,	/* csum_start + csum_offset + 2 beyond the frame */
	VNET_TX_GSO_UNKNOWN,		/* a gso_type the spec does not define, or ECN without a type */
	VNET_TX_GSO_NOT_NEGOTIATED,	/* a gso_type (or its ECN bit) whose HOST_ feature was not negotiated */
	VNET_TX_GSO_WITHOUT_CSUM,	/* GSO needs NEEDS_CSUM */
	VNET_TX_GSO_SIZE,		/* gso_size 0, or not smaller than the frame */
	VNET_TX_HDR_LEN,		/* hdr_len beyond the frame */
	VNET_TX_NUM_BUFFERS,		/* num_buffers not 0 */
	VNET_TX_VERDICTS
};

/* Its name for counters and messages ("csum_outside_frame"). */
const char *vnet_tx_verdict_name(enum vnet_tx_verdict v);
/*
 * Whether the header may go to the tap in front of a frame of frame_len
 * bytes (the header not counted), given the negotiated features. The
 * header is read as the guest wrote it (little-endian), once: the caller
 * passes its own copy, not guest memory.
 */
enum vnet_tx_verdict vnet_tx_check(const struct virtio_net_hdr_v1 *h, size_t frame_len, uint64_t features);

/*
 * How a received frame of frame_len bytes, header included, goes into the
 * receive chains the guest has made available, of sizes chain_size[0..n):
 * fills fill[i] for the chains used, in order, and returns how many (the
 * header's num_buffers). At most max_chains are used (1 without
 * MRG_RXBUF). -ENOBUFS: the n chains are not enough but more may come (wait
 * for the guest); -EMSGSIZE: max_chains of these sizes cannot hold it (drop
 * the frame); -EINVAL: the first chain cannot hold the header.
 */
int vnet_rx_plan(size_t frame_len, const uint32_t *chain_size, unsigned n, unsigned max_chains, uint32_t *fill);
/* Writes num_buffers into a received frame's header, little-endian. */
void vnet_set_num_buffers(struct virtio_net_hdr_v1 *h, unsigned chains);

#endif
