// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-net's offloads, the pure part: feature negotiation against the
 * tap, the transmit header check, the receive buffer planner. The rules
 * follow the virtio 1.2 spec's network device sections and what the host
 * kernel's tap does with a header (include/virtio/vnet_hdr.h).
 */
#include <endian.h>
#include <errno.h>
#include <linux/if_tun.h>

#include "virtio/vnet_hdr.h"

#define BIT(f) (1ULL << (f))

uint64_t vnet_offered_features(const struct vnet_tap_caps *caps)
{
	uint64_t f;

	/* Every offload and num_buffers travel in the 12-byte header. */
	if (!caps->vnet_hdr || !caps->hdr_size_v1)
		return 0;
	/*
	 * A tap takes partial checksums and TSO frames written to it whatever
	 * TUNSETOFFLOAD says: that ioctl is about what it may hand us.
	 */
	f = BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_HOST_TSO4) | BIT(VIRTIO_NET_F_HOST_TSO6) |
	    BIT(VIRTIO_NET_F_MRG_RXBUF);
	if (caps->offloads & TUN_F_CSUM) {
		f |= BIT(VIRTIO_NET_F_GUEST_CSUM);
		/* The kernel ignores TSO flags without TUN_F_CSUM. */
		if (caps->offloads & TUN_F_TSO4)
			f |= BIT(VIRTIO_NET_F_GUEST_TSO4);
		if (caps->offloads & TUN_F_TSO6)
			f |= BIT(VIRTIO_NET_F_GUEST_TSO6);
	}
	return f;
}

/* A feature and the features of which it needs at least one (virtio 1.2, 5.1.3.1). */
static const struct {
	unsigned feature;
	uint64_t needs_any;
} feature_deps[] = {
	{ VIRTIO_NET_F_GUEST_TSO4, BIT(VIRTIO_NET_F_GUEST_CSUM) },
	{ VIRTIO_NET_F_GUEST_TSO6, BIT(VIRTIO_NET_F_GUEST_CSUM) },
	{ VIRTIO_NET_F_GUEST_ECN, BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VIRTIO_NET_F_GUEST_TSO6) },
	{ VIRTIO_NET_F_GUEST_UFO, BIT(VIRTIO_NET_F_GUEST_CSUM) },
	{ VIRTIO_NET_F_HOST_TSO4, BIT(VIRTIO_NET_F_CSUM) },
	{ VIRTIO_NET_F_HOST_TSO6, BIT(VIRTIO_NET_F_CSUM) },
	{ VIRTIO_NET_F_HOST_ECN, BIT(VIRTIO_NET_F_HOST_TSO4) | BIT(VIRTIO_NET_F_HOST_TSO6) },
	{ VIRTIO_NET_F_HOST_UFO, BIT(VIRTIO_NET_F_CSUM) },
};

int vnet_check_features(uint64_t accepted)
{
	for (size_t i = 0; i < sizeof(feature_deps) / sizeof(feature_deps[0]); i++)
		if ((accepted & BIT(feature_deps[i].feature)) && !(accepted & feature_deps[i].needs_any))
			return -EINVAL;
	return 0;
}

unsigned vnet_tap_offloads(uint64_t accepted)
{
	unsigned flags = 0;

	/* What the guest can take on receive is what the tap may hand us. */
	if (!(accepted & BIT(VIRTIO_NET_F_GUEST_CSUM)))
		return 0;
	flags |= TUN_F_CSUM;
	if (accepted & BIT(VIRTIO_NET_F_GUEST_TSO4))
		flags |= TUN_F_TSO4;
	if (accepted & BIT(VIRTIO_NET_F_GUEST_TSO6))
		flags |= TUN_F_TSO6;
	return flags;
}

static const char *const tx_verdict_names[VNET_TX_VERDICTS] = {
	[VNET_TX_OK] = "ok",
	[VNET_TX_BAD_FLAGS] = "bad_flags",
	[VNET_TX_CSUM_NOT_NEGOTIATED] = "csum_not_negotiated",
	[VNET_TX_CSUM_OUTSIDE_FRAME] = "csum_outside_frame",
	[VNET_TX_GSO_UNKNOWN] = "gso_unknown",
	[VNET_TX_GSO_NOT_NEGOTIATED] = "gso_not_negotiated",
	[VNET_TX_GSO_WITHOUT_CSUM] = "gso_without_csum",
	[VNET_TX_GSO_SIZE] = "gso_size",
	[VNET_TX_HDR_LEN] = "hdr_len",
	[VNET_TX_NUM_BUFFERS] = "num_buffers",
};

const char *vnet_tx_verdict_name(enum vnet_tx_verdict v)
{
	return (unsigned)v < VNET_TX_VERDICTS ? tx_verdict_names[v] : "unknown";
}

/* The HOST_ feature a transmitted gso_type needs, or -1 for a type the spec does not define. */
static int gso_type_feature(unsigned type)
{
	switch (type) {
	case VIRTIO_NET_HDR_GSO_TCPV4:
		return VIRTIO_NET_F_HOST_TSO4;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		return VIRTIO_NET_F_HOST_TSO6;
	case VIRTIO_NET_HDR_GSO_UDP:
		return VIRTIO_NET_F_HOST_UFO;
	default:
		return -1;
	}
}

static enum vnet_tx_verdict check_gso(const struct virtio_net_hdr_v1 *h, size_t frame_len, uint64_t features)
{
	unsigned type = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
	int needs = gso_type_feature(type);
	size_t gso_size = le16toh(h->gso_size);

	if (needs < 0)
		return VNET_TX_GSO_UNKNOWN;
	if (!(features & BIT(needs)))
		return VNET_TX_GSO_NOT_NEGOTIATED;
	if ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) && !(features & BIT(VIRTIO_NET_F_HOST_ECN)))
		return VNET_TX_GSO_NOT_NEGOTIATED;
	/* The spec asks the driver for a partial checksum with every GSO frame. */
	if (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return VNET_TX_GSO_WITHOUT_CSUM;
	/* A frame that fits in one segment is not sent as GSO (Linux clears gso_type then). */
	if (!gso_size || gso_size >= frame_len)
		return VNET_TX_GSO_SIZE;
	return VNET_TX_OK;
}

enum vnet_tx_verdict vnet_tx_check(const struct virtio_net_hdr_v1 *h, size_t frame_len, uint64_t features)
{
	enum vnet_tx_verdict v;

	if (h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		return VNET_TX_BAD_FLAGS;
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (!(features & BIT(VIRTIO_NET_F_CSUM)))
			return VNET_TX_CSUM_NOT_NEGOTIATED;
		/* size_t sums of 16-bit fields: no overflow. */
		if ((size_t)le16toh(h->csum_start) + le16toh(h->csum_offset) + 2 > frame_len)
			return VNET_TX_CSUM_OUTSIDE_FRAME;
	}
	if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		v = check_gso(h, frame_len, features);
		if (v != VNET_TX_OK)
			return v;
	}
	/* The tap refuses a hdr_len beyond the frame too, but as a write error, not counted. */
	if (le16toh(h->hdr_len) > frame_len)
		return VNET_TX_HDR_LEN;
	if (h->num_buffers)
		return VNET_TX_NUM_BUFFERS;
	return VNET_TX_OK;
}

int vnet_rx_plan(size_t frame_len, const uint32_t *chain_size, unsigned n, unsigned max_chains, uint32_t *fill)
{
	size_t left = frame_len;
	unsigned i;

	/* num_buffers is 16 bits. */
	if (max_chains > UINT16_MAX)
		max_chains = UINT16_MAX;
	if (!max_chains)
		return -EMSGSIZE;
	if (!n)
		return -ENOBUFS;
	/* The driver finds the header, and num_buffers in it, in the first buffer. */
	if (chain_size[0] < sizeof(struct virtio_net_hdr_v1))
		return -EINVAL;
	for (i = 0; i < n && i < max_chains && left; i++) {
		fill[i] = left < chain_size[i] ? (uint32_t)left : chain_size[i];
		left -= fill[i];
	}
	if (!left)
		return (int)i;
	return i == max_chains ? -EMSGSIZE : -ENOBUFS;
}

void vnet_set_num_buffers(struct virtio_net_hdr_v1 *h, unsigned chains)
{
	h->num_buffers = htole16((uint16_t)chains);
}
