// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for virtio-net's offload logic (src/virtio/vnet_hdr.c).
 * The input: a 12-byte virtio_net_hdr_v1 as a guest would write it, 8
 * bytes of negotiated features, 4 of frame length (all little-endian), then
 * receive chain sizes, 4 bytes each. A header accepted must keep every
 * offset inside the frame and use only negotiated offloads; a receive plan
 * must place the whole frame, within the chains and the cap, and nothing
 * more.
 */
#include <endian.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/vnet_hdr.h"

#define BIT(f) (1ULL << (f))
#define CHAINS_MAX 256

static void check_tx(const struct virtio_net_hdr_v1 *h, size_t len, uint64_t features)
{
	enum vnet_tx_verdict v = vnet_tx_check(h, len, features);
	unsigned type = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;

	if (v >= VNET_TX_VERDICTS || !vnet_tx_verdict_name(v))
		abort();
	if (v != VNET_TX_OK)
		return;
	if ((h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM) || h->num_buffers || le16toh(h->hdr_len) > len)
		abort();
	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    (!(features & BIT(VIRTIO_NET_F_CSUM)) ||
	     (size_t)le16toh(h->csum_start) + le16toh(h->csum_offset) + 2 > len))
		abort();
	if (h->gso_type == VIRTIO_NET_HDR_GSO_NONE)
		return;
	if (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) || !h->gso_size || le16toh(h->gso_size) >= len)
		abort();
	if ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) && !(features & BIT(VIRTIO_NET_F_HOST_ECN)))
		abort();
	if (!(type == VIRTIO_NET_HDR_GSO_TCPV4 && (features & BIT(VIRTIO_NET_F_HOST_TSO4))) &&
	    !(type == VIRTIO_NET_HDR_GSO_TCPV6 && (features & BIT(VIRTIO_NET_F_HOST_TSO6))) &&
	    !(type == VIRTIO_NET_HDR_GSO_UDP && (features & BIT(VIRTIO_NET_F_HOST_UFO))))
		abort();
}

static void check_rx(size_t len, const uint32_t *size, unsigned n, unsigned max_chains)
{
	uint32_t fill[CHAINS_MAX];
	size_t placed = 0;
	int ret = vnet_rx_plan(len, size, n, max_chains, fill);

	if (ret < 0)
		return;
	if ((unsigned)ret > n || (unsigned)ret > max_chains || (ret == 0 && len))
		abort();
	for (int i = 0; i < ret; i++) {
		if (fill[i] > size[i])
			abort();
		placed += fill[i];
	}
	if (placed != len)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct virtio_net_hdr_v1 h;
	uint32_t chain[CHAINS_MAX], len32;
	uint64_t features;
	unsigned n;

	if (size < sizeof(h) + sizeof(features) + sizeof(len32))
		return 0;
	memcpy(&h, data, sizeof(h));
	memcpy(&features, data + sizeof(h), sizeof(features));
	memcpy(&len32, data + sizeof(h) + sizeof(features), sizeof(len32));
	data += sizeof(h) + sizeof(features) + sizeof(len32);
	size -= sizeof(h) + sizeof(features) + sizeof(len32);
	features = le64toh(features);
	/* Frames up to 128 KiB: past any 16-bit offset, so both sides of every bound are reached. */
	len32 = le32toh(len32) % (128 * 1024 + 1);
	check_tx(&h, len32, features);

	for (n = 0; n < CHAINS_MAX && size >= sizeof(uint32_t); n++, data += 4, size -= 4) {
		memcpy(&chain[n], data, sizeof(chain[n]));
		/* Small chains, so that frames span many. */
		chain[n] = le32toh(chain[n]) % 8192;
	}
	/* The cap from the features' top byte: 1 (no MRG_RXBUF) up to more than the chains there are. */
	check_rx(len32, chain, n, 1 + (unsigned)(features >> 56));
	return 0;
}
