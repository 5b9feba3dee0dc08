// SPDX-License-Identifier: Apache-2.0
/* virtio-net's offloads, the pure part: negotiation tables, the transmit header check, the receive planner. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <endian.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_tun.h>

#include "virtio/vnet_hdr.h"

#define TEST_TIMEOUT 10
#define BIT(f) (1ULL << (f))
#define F_CSUM BIT(VIRTIO_NET_F_CSUM)
#define F_GCSUM BIT(VIRTIO_NET_F_GUEST_CSUM)
#define F_GTSO4 BIT(VIRTIO_NET_F_GUEST_TSO4)
#define F_GTSO6 BIT(VIRTIO_NET_F_GUEST_TSO6)
#define F_GECN BIT(VIRTIO_NET_F_GUEST_ECN)
#define F_GUFO BIT(VIRTIO_NET_F_GUEST_UFO)
#define F_HTSO4 BIT(VIRTIO_NET_F_HOST_TSO4)
#define F_HTSO6 BIT(VIRTIO_NET_F_HOST_TSO6)
#define F_HECN BIT(VIRTIO_NET_F_HOST_ECN)
#define F_HUFO BIT(VIRTIO_NET_F_HOST_UFO)
#define F_MRG BIT(VIRTIO_NET_F_MRG_RXBUF)
#define HOST_SIDE (F_CSUM | F_HTSO4 | F_HTSO6 | F_MRG)
#define ALL_TUN (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN | TUN_F_UFO)
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static void test_offered(void **state)
{
	static const struct {
		struct vnet_tap_caps caps;
		uint64_t offered;
	} rows[] = {
		{ { false, false, ALL_TUN }, 0 },
		{ { true, false, ALL_TUN }, 0 },
		{ { false, true, ALL_TUN }, 0 },
		{ { true, true, 0 }, HOST_SIDE },
		/* TSO without TUN_F_CSUM is ignored by the kernel: not offered. */
		{ { true, true, TUN_F_TSO4 | TUN_F_TSO6 }, HOST_SIDE },
		{ { true, true, TUN_F_CSUM }, HOST_SIDE | F_GCSUM },
		{ { true, true, TUN_F_CSUM | TUN_F_TSO4 }, HOST_SIDE | F_GCSUM | F_GTSO4 },
		{ { true, true, TUN_F_CSUM | TUN_F_TSO6 }, HOST_SIDE | F_GCSUM | F_GTSO6 },
		/* ECN and UFO stay off either way. */
		{ { true, true, ALL_TUN }, HOST_SIDE | F_GCSUM | F_GTSO4 | F_GTSO6 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		uint64_t f = vnet_offered_features(&rows[i].caps);

		assert_int_equal(f, rows[i].offered);
		/* What is offered is consistent, and the whole offer maps back to what the tap accepts. */
		assert_int_equal(vnet_check_features(f), 0);
		assert_int_equal(vnet_tap_offloads(f) & ~rows[i].caps.offloads, 0);
	}
}

static void test_check_features(void **state)
{
	static const struct {
		uint64_t accepted;
		int ret;
	} rows[] = {
		{ 0, 0 },
		{ F_CSUM | F_GCSUM | F_MRG, 0 },
		{ F_GCSUM | F_GTSO4 | F_GTSO6 | F_GECN | F_GUFO, 0 },
		{ F_CSUM | F_HTSO4 | F_HTSO6 | F_HECN | F_HUFO, 0 },
		{ F_GTSO4, -EINVAL },
		{ F_GTSO6 | F_CSUM, -EINVAL },
		{ F_GCSUM | F_GECN, -EINVAL },
		{ F_GUFO, -EINVAL },
		{ F_HTSO4 | F_GCSUM, -EINVAL },
		{ F_HTSO6, -EINVAL },
		{ F_CSUM | F_HECN, -EINVAL },
		{ F_HUFO | F_GCSUM, -EINVAL },
		{ F_CSUM | F_HTSO6 | F_HECN, 0 },
		{ F_GCSUM | F_GTSO4 | F_GECN, 0 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(rows); i++)
		assert_int_equal(vnet_check_features(rows[i].accepted), rows[i].ret);
}

static void test_tap_offloads(void **state)
{
	static const struct {
		uint64_t accepted;
		unsigned flags;
	} rows[] = {
		{ 0, 0 },
		{ HOST_SIDE, 0 },
		{ F_GCSUM, TUN_F_CSUM },
		{ F_GCSUM | F_GTSO4, TUN_F_CSUM | TUN_F_TSO4 },
		{ F_GCSUM | F_GTSO6, TUN_F_CSUM | TUN_F_TSO6 },
		{ HOST_SIDE | F_GCSUM | F_GTSO4 | F_GTSO6, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 },
		/* Never TSO without the checksum it needs. */
		{ F_GTSO4 | F_GTSO6, 0 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(rows); i++)
		assert_int_equal(vnet_tap_offloads(rows[i].accepted), rows[i].flags);
}

static struct virtio_net_hdr_v1 hdr(uint8_t flags, uint8_t gso_type, uint16_t hdr_len, uint16_t gso_size,
				    uint16_t csum_start, uint16_t csum_offset, uint16_t num_buffers)
{
	struct virtio_net_hdr_v1 h;

	memset(&h, 0, sizeof(h));
	h.flags = flags;
	h.gso_type = gso_type;
	h.hdr_len = htole16(hdr_len);
	h.gso_size = htole16(gso_size);
	h.csum_start = htole16(csum_start);
	h.csum_offset = htole16(csum_offset);
	h.num_buffers = htole16(num_buffers);
	return h;
}

#define NC VIRTIO_NET_HDR_F_NEEDS_CSUM
#define T4 VIRTIO_NET_HDR_GSO_TCPV4
#define T6 VIRTIO_NET_HDR_GSO_TCPV6
#define ECN VIRTIO_NET_HDR_GSO_ECN
#define ALL_HOST (F_CSUM | F_HTSO4 | F_HTSO6 | F_HECN | F_HUFO)

static void test_tx_check(void **state)
{
	/* A TCP/IPv4 frame: Ethernet 14 + IP 20, the TCP checksum at 34 + 16. (hdr() is not constant: not static.) */
	const struct {
		struct virtio_net_hdr_v1 h;
		size_t len;
		uint64_t features;
		enum vnet_tx_verdict v;
	} rows[] = {
		/* No offload: anything in the unused fields but num_buffers and hdr_len is ignored. */
		{ { 0 }, 0, 0, VNET_TX_OK },
		{ { 0 }, 60, 0, VNET_TX_OK },
		{ hdr(0, 0, 0, 0xffff, 0xffff, 0xffff, 0), 60, 0, VNET_TX_OK },
		/* flags */
		{ { .flags = VIRTIO_NET_HDR_F_DATA_VALID }, 60, ALL_HOST, VNET_TX_BAD_FLAGS },
		{ { .flags = VIRTIO_NET_HDR_F_RSC_INFO }, 60, ALL_HOST, VNET_TX_BAD_FLAGS },
		{ { .flags = 0x80 | NC }, 60, ALL_HOST, VNET_TX_BAD_FLAGS },
		{ { .flags = 0xff }, 60, ALL_HOST, VNET_TX_BAD_FLAGS },
		/* the partial checksum */
		{ hdr(NC, 0, 0, 0, 34, 16, 0), 60, 0, VNET_TX_CSUM_NOT_NEGOTIATED },
		{ hdr(NC, 0, 0, 0, 34, 16, 0), 60, F_HTSO4, VNET_TX_CSUM_NOT_NEGOTIATED },
		{ hdr(NC, 0, 0, 0, 34, 16, 0), 60, F_CSUM, VNET_TX_OK },
		{ hdr(NC, 0, 0, 0, 34, 16, 0), 52, F_CSUM, VNET_TX_OK },
		{ hdr(NC, 0, 0, 0, 34, 16, 0), 51, F_CSUM, VNET_TX_CSUM_OUTSIDE_FRAME },
		{ hdr(NC, 0, 0, 0, 60, 0, 0), 60, F_CSUM, VNET_TX_CSUM_OUTSIDE_FRAME },
		{ hdr(NC, 0, 0, 0, 58, 0, 0), 60, F_CSUM, VNET_TX_OK },
		{ hdr(NC, 0, 0, 0, 0, 58, 0), 60, F_CSUM, VNET_TX_OK },
		{ hdr(NC, 0, 0, 0, 0, 59, 0), 60, F_CSUM, VNET_TX_CSUM_OUTSIDE_FRAME },
		{ hdr(NC, 0, 0, 0, 0xffff, 0xffff, 0), 65535, F_CSUM, VNET_TX_CSUM_OUTSIDE_FRAME },
		{ hdr(NC, 0, 0, 0, 0xffff, 0xffff, 0), 131072, F_CSUM, VNET_TX_OK },
		{ hdr(NC, 0, 0, 0, 0, 0, 0), 1, F_CSUM, VNET_TX_CSUM_OUTSIDE_FRAME },
		/* GSO types */
		{ hdr(NC, T4, 54, 1448, 34, 16, 0), 65000, ALL_HOST, VNET_TX_OK },
		{ hdr(NC, T6, 74, 1428, 54, 16, 0), 65000, ALL_HOST, VNET_TX_OK },
		{ hdr(NC, T4 | ECN, 54, 1448, 34, 16, 0), 65000, ALL_HOST, VNET_TX_OK },
		{ hdr(NC, T6 | ECN, 74, 1428, 54, 16, 0), 65000, ALL_HOST, VNET_TX_OK },
		{ hdr(NC, VIRTIO_NET_HDR_GSO_UDP, 42, 1472, 34, 6, 0), 65000, ALL_HOST, VNET_TX_OK },
		{ hdr(NC, T4, 54, 1448, 34, 16, 0), 65000, F_CSUM | F_HTSO6, VNET_TX_GSO_NOT_NEGOTIATED },
		{ hdr(NC, T6, 74, 1428, 54, 16, 0), 65000, F_CSUM | F_HTSO4, VNET_TX_GSO_NOT_NEGOTIATED },
		{ hdr(NC, VIRTIO_NET_HDR_GSO_UDP, 42, 1472, 34, 6, 0), 65000, F_CSUM | F_HTSO4 | F_HTSO6,
		  VNET_TX_GSO_NOT_NEGOTIATED },
		{ hdr(NC, T4 | ECN, 54, 1448, 34, 16, 0), 65000, F_CSUM | F_HTSO4, VNET_TX_GSO_NOT_NEGOTIATED },
		{ hdr(NC, ECN, 54, 1448, 34, 16, 0), 65000, ALL_HOST, VNET_TX_GSO_UNKNOWN },
		{ hdr(NC, 2, 54, 1448, 34, 16, 0), 65000, ALL_HOST, VNET_TX_GSO_UNKNOWN },
		{ hdr(NC, 5, 54, 1448, 34, 16, 0), 65000, ALL_HOST, VNET_TX_GSO_UNKNOWN },
		{ hdr(NC, 0x7f, 54, 1448, 34, 16, 0), 65000, ALL_HOST, VNET_TX_GSO_UNKNOWN },
		{ hdr(NC, 0xff, 54, 1448, 34, 16, 0), 65000, ALL_HOST, VNET_TX_GSO_UNKNOWN },
		{ hdr(0, T4, 54, 1448, 0, 0, 0), 65000, ALL_HOST, VNET_TX_GSO_WITHOUT_CSUM },
		/* gso_size */
		{ hdr(NC, T4, 54, 0, 34, 16, 0), 65000, ALL_HOST, VNET_TX_GSO_SIZE },
		{ hdr(NC, T4, 54, 1448, 34, 16, 0), 1448, ALL_HOST, VNET_TX_GSO_SIZE },
		{ hdr(NC, T4, 54, 1448, 34, 16, 0), 1449, ALL_HOST, VNET_TX_OK },
		{ hdr(NC, T4, 54, 0xffff, 34, 16, 0), 65000, ALL_HOST, VNET_TX_GSO_SIZE },
		/* hdr_len */
		{ hdr(0, 0, 61, 0, 0, 0, 0), 60, 0, VNET_TX_HDR_LEN },
		{ hdr(0, 0, 60, 0, 0, 0, 0), 60, 0, VNET_TX_OK },
		{ hdr(NC, T4, 0xffff, 1448, 34, 16, 0), 65000, ALL_HOST, VNET_TX_HDR_LEN },
		/* num_buffers */
		{ hdr(0, 0, 0, 0, 0, 0, 1), 60, 0, VNET_TX_NUM_BUFFERS },
		{ hdr(0, 0, 0, 0, 0, 0, 0x100), 60, F_MRG, VNET_TX_NUM_BUFFERS },
		{ hdr(NC, T4, 54, 1448, 34, 16, 0xffff), 65000, ALL_HOST | F_MRG, VNET_TX_NUM_BUFFERS },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		enum vnet_tx_verdict v = vnet_tx_check(&rows[i].h, rows[i].len, rows[i].features);

		if (v != rows[i].v)
			fail_msg("row %zu: %s, expected %s", i, vnet_tx_verdict_name(v),
				 vnet_tx_verdict_name(rows[i].v));
	}
}

/* Every 16-bit field's extremes and every flags and gso_type byte, on a small frame with every feature. */
static void test_tx_garbage(void **state)
{
	static const uint16_t values[] = { 0, 1, 2, 13, 14, 15, 0x7fff, 0x8000, 0xfffe, 0xffff };
	static const size_t lens[] = { 0, 1, 14, 60, 1514, 65535, 65550 };
	size_t nv = ARRAY_LEN(values), accepted = 0, accepted_gso = 0;

	(void)state;
	for (unsigned fl = 0; fl < 256; fl++)
		for (unsigned gt = 0; gt < 256; gt++)
			for (size_t l = 0; l < ARRAY_LEN(lens); l++)
				for (size_t k = 0; k < nv * nv; k++) {
					struct virtio_net_hdr_v1 h = hdr(fl, gt, values[k % nv], values[k / nv],
									 values[(k + 3) % nv], values[k / nv], 0);
					size_t len = lens[l];

					if (vnet_tx_check(&h, len, ALL_HOST | F_MRG) != VNET_TX_OK)
						continue;
					accepted++;
					accepted_gso += gt != 0;
					assert_true(fl == 0 || fl == NC);
					assert_true(le16toh(h.hdr_len) <= len);
					if (fl == NC)
						assert_true((size_t)le16toh(h.csum_start) + le16toh(h.csum_offset) + 2 <=
							    len);
					if (gt) {
						assert_int_equal(fl, NC);
						assert_true(le16toh(h.gso_size) > 0 && le16toh(h.gso_size) < len);
					}
				}
	/* The checks above ran on accepted headers, GSO ones among them. */
	assert_true(accepted > 0 && accepted_gso > 0);
}

static void test_verdict_names(void **state)
{
	(void)state;
	for (int v = 0; v < VNET_TX_VERDICTS; v++) {
		const char *name = vnet_tx_verdict_name((enum vnet_tx_verdict)v);

		assert_non_null(name);
		assert_string_not_equal(name, "unknown");
		for (int w = 0; w < v; w++)
			assert_string_not_equal(name, vnet_tx_verdict_name((enum vnet_tx_verdict)w));
	}
	assert_string_equal(vnet_tx_verdict_name(VNET_TX_VERDICTS), "unknown");
	assert_string_equal(vnet_tx_verdict_name((enum vnet_tx_verdict)-1), "unknown");
}

#define MAX_CHAINS 8

static void test_rx_plan(void **state)
{
	static const struct {
		size_t len;
		unsigned n;
		uint32_t size[MAX_CHAINS];
		unsigned max;
		int ret;
		uint32_t fill[MAX_CHAINS];
	} rows[] = {
		/* Without MRG_RXBUF: one chain. */
		{ 1526, 1, { 1526 }, 1, 1, { 1526 } },
		{ 1526, 1, { 65562 }, 1, 1, { 1526 } },
		{ 1527, 2, { 1526, 4096 }, 1, -EMSGSIZE, { 0 } },
		/* Merged: 4 KiB pages, the last one partly filled. */
		{ 65550, 8, { 4096, 4096, 4096, 4096, 4096, 4096, 4096, 4096 }, 8, -EMSGSIZE, { 0 } },
		{ 65550, 8, { 4096, 4096, 4096, 4096, 4096, 4096, 4096, 4096 }, 64, -ENOBUFS, { 0 } },
		{ 10000, 8, { 4096, 4096, 4096, 4096 }, 64, 3, { 4096, 4096, 1808 } },
		{ 8192, 2, { 4096, 4096 }, 2, 2, { 4096, 4096 } },
		{ 8193, 2, { 4096, 4096 }, 2, -EMSGSIZE, { 0 } },
		{ 8193, 2, { 4096, 4096 }, 3, -ENOBUFS, { 0 } },
		/* Uneven chains, used in order. */
		{ 3000, 4, { 100, 2000, 50, 5000 }, 4, 4, { 100, 2000, 50, 850 } },
		/* An empty chain in the middle holds nothing but still counts. */
		{ 200, 3, { 100, 0, 100 }, 3, 3, { 100, 0, 100 } },
		/* The header must fit in the first buffer. */
		{ 60, 2, { 11, 4096 }, 2, -EINVAL, { 0 } },
		{ 12, 1, { 12 }, 1, 1, { 12 } },
		{ 13, 2, { 12, 1 }, 2, 2, { 12, 1 } },
		/* Nothing available, or no chain allowed. */
		{ 60, 0, { 0 }, 4, -ENOBUFS, { 0 } },
		{ 60, 1, { 4096 }, 0, -EMSGSIZE, { 0 } },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		uint32_t fill[MAX_CHAINS] = { 0 };
		int ret = vnet_rx_plan(rows[i].len, rows[i].size, rows[i].n, rows[i].max, fill);

		if (ret != rows[i].ret)
			fail_msg("row %zu: %d, expected %d", i, ret, rows[i].ret);
		for (int c = 0; c < ret; c++)
			assert_int_equal(fill[c], rows[i].fill[c]);
	}
}

/* A frame over many one-byte chains: the cap stays at what num_buffers can say. */
static void test_rx_plan_cap(void **state)
{
	static uint32_t size[70000], fill[70000];

	(void)state;
	size[0] = sizeof(struct virtio_net_hdr_v1);
	for (size_t i = 1; i < ARRAY_LEN(size); i++)
		size[i] = 1;
	assert_int_equal(vnet_rx_plan(12 + 65534, size, ARRAY_LEN(size), UINT32_MAX, fill), 65535);
	assert_int_equal(vnet_rx_plan(12 + 65535, size, ARRAY_LEN(size), UINT32_MAX, fill), -EMSGSIZE);
}

static void test_num_buffers(void **state)
{
	struct virtio_net_hdr_v1 h;

	(void)state;
	memset(&h, 0xaa, sizeof(h));
	vnet_set_num_buffers(&h, 0x1234);
	assert_int_equal(le16toh(h.num_buffers), 0x1234);
	/* The rest of the header is left alone. */
	assert_int_equal(h.flags, 0xaa);
	assert_int_equal(h.csum_offset, 0xaaaa);
}

static int set_alarm(void **state)
{
	(void)state;
	alarm(TEST_TIMEOUT);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_offered, set_alarm),
		cmocka_unit_test_setup(test_check_features, set_alarm),
		cmocka_unit_test_setup(test_tap_offloads, set_alarm),
		cmocka_unit_test_setup(test_tx_check, set_alarm),
		cmocka_unit_test_setup(test_tx_garbage, set_alarm),
		cmocka_unit_test_setup(test_verdict_names, set_alarm),
		cmocka_unit_test_setup(test_rx_plan, set_alarm),
		cmocka_unit_test_setup(test_rx_plan_cap, set_alarm),
		cmocka_unit_test_setup(test_num_buffers, set_alarm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
