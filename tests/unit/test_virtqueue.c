// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "guest_mem.h"
#include "virtio/virtqueue.h"

#define MEM_SIZE (1u << 20)
#define DESC_GPA 0x1000
#define AVAIL_GPA 0x2000
#define USED_GPA 0x3000
#define TABLE_GPA 0x8000 /* indirect tables */
#define DATA_GPA 0x10000 /* buffers */

/* A driver's view of guest memory, and the device's queue over it. */
struct fx {
	uint8_t *ram;
	struct guest_mem mem;
	struct virtqueue vq;
	struct vq_chain chain;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->ram = calloc(1, MEM_SIZE);
	assert_non_null(f->ram);
	guest_mem_wrap(&f->mem, f->ram, MEM_SIZE);
	vq_reset(&f->vq);
	f->vq.desc_gpa = DESC_GPA;
	f->vq.avail_gpa = AVAIL_GPA;
	f->vq.used_gpa = USED_GPA;
	f->desc = (struct vring_desc *)(f->ram + DESC_GPA);
	f->avail = (struct vring_avail *)(f->ram + AVAIL_GPA);
	f->used = (struct vring_used *)(f->ram + USED_GPA);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	guest_mem_free(&f->mem); /* the record of written pages; the RAM is ours */
	free(f->ram);
	free(f);
	return 0;
}

static void start(struct fx *f, uint16_t size, bool event_idx, bool indirect)
{
	f->vq.size = size;
	assert_int_equal(vq_start(&f->vq, &f->mem, event_idx, indirect), 0);
	assert_true(f->vq.started);
}

/* The device's avail_event, after the used ring's `size` entries. */
static uint16_t *avail_event_of(struct fx *f)
{
	return (uint16_t *)(f->ram + USED_GPA + 4 + 8 * f->vq.size);
}

static void set_desc(struct vring_desc *table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	table[i] = (struct vring_desc){ .addr = addr, .len = len, .flags = flags, .next = next };
}

/* The driver makes chain `head` available. */
static void offer(struct fx *f, uint16_t head)
{
	f->avail->ring[f->avail->idx % f->vq.size] = head;
	f->avail->idx++;
}

static void expect_broken(struct fx *f)
{
	assert_int_equal(vq_pop(&f->vq, &f->chain), -EIO);
	assert_true(f->vq.broken);
	assert_int_equal(vq_pop(&f->vq, &f->chain), -EIO);
	assert_false(vq_arm_notify(&f->vq));
}

static void test_reset(void **state)
{
	struct fx *f = *state;

	start(f, 16, true, true);
	vq_reset(&f->vq);
	assert_false(f->vq.started);
	assert_false(f->vq.enabled);
	assert_int_equal(f->vq.size, VIRTQ_SIZE_MAX);
	assert_int_equal(f->vq.desc_gpa, 0);
	assert_int_equal(f->vq.avail_gpa, 0);
	assert_int_equal(f->vq.used_gpa, 0);
	assert_int_equal(f->vq.msix_vector, 0xffff);
	assert_int_equal(vq_pop(&f->vq, &f->chain), 0);
}

static void expect_start_fails(struct fx *f, uint16_t size, uint64_t desc, uint64_t avail, uint64_t used)
{
	f->vq.size = size;
	f->vq.desc_gpa = desc;
	f->vq.avail_gpa = avail;
	f->vq.used_gpa = used;
	assert_int_equal(vq_start(&f->vq, &f->mem, false, false), -EINVAL);
	assert_false(f->vq.started);
}

static void test_start_rejects(void **state)
{
	struct fx *f = *state;
	const uint64_t n = 256;

	expect_start_fails(f, 0, DESC_GPA, AVAIL_GPA, USED_GPA);
	expect_start_fails(f, 3, DESC_GPA, AVAIL_GPA, USED_GPA);
	expect_start_fails(f, 512, DESC_GPA, AVAIL_GPA, USED_GPA);
	expect_start_fails(f, 257, DESC_GPA, AVAIL_GPA, USED_GPA);
	/* Misaligned rings. */
	expect_start_fails(f, 8, DESC_GPA + 8, AVAIL_GPA, USED_GPA);
	expect_start_fails(f, 8, DESC_GPA, AVAIL_GPA + 1, USED_GPA);
	expect_start_fails(f, 8, DESC_GPA, AVAIL_GPA, USED_GPA + 2);
	/* Outside RAM, or running past its end (avail and used include used_event and avail_event). */
	expect_start_fails(f, n, MEM_SIZE, AVAIL_GPA, USED_GPA);
	expect_start_fails(f, n, MEM_SIZE - 16 * n + 16, AVAIL_GPA, USED_GPA);
	expect_start_fails(f, n, DESC_GPA, MEM_SIZE - (4 + 2 * n), USED_GPA);
	expect_start_fails(f, n, DESC_GPA, AVAIL_GPA, MEM_SIZE - (4 + 8 * n));
	expect_start_fails(f, n, DESC_GPA, AVAIL_GPA, UINT64_MAX - 3);

	/* Each ring ending exactly at the end of RAM is fine. */
	f->vq.desc_gpa = MEM_SIZE - 16 * n;
	f->vq.avail_gpa = MEM_SIZE - (6 + 2 * n);
	f->vq.used_gpa = MEM_SIZE - (8 + 8 * n);
	start(f, n, false, false);
	f->vq.desc_gpa = DESC_GPA;
	f->vq.avail_gpa = AVAIL_GPA;
	f->vq.used_gpa = USED_GPA;
	start(f, 1, false, false);
}

static void test_not_started(void **state)
{
	struct fx *f = *state;

	assert_int_equal(vq_pop(&f->vq, &f->chain), 0);
	assert_false(vq_arm_notify(&f->vq));
	assert_false(vq_should_interrupt(&f->vq));
	vq_push(&f->vq, 0, 0);
	assert_int_equal(f->used->idx, 0);
}

static void test_simple_chain(void **state)
{
	struct fx *f = *state;

	start(f, 8, false, false);
	assert_int_equal(vq_pop(&f->vq, &f->chain), 0);
	set_desc(f->desc, 3, DATA_GPA, 16, VRING_DESC_F_NEXT, 6);
	set_desc(f->desc, 6, DATA_GPA + 0x1000, 64, VRING_DESC_F_WRITE, 0);
	offer(f, 3);

	assert_int_equal(vq_pop(&f->vq, &f->chain), 1);
	assert_int_equal(f->chain.head, 3);
	assert_int_equal(f->chain.nr_out, 1);
	assert_int_equal(f->chain.nr_in, 1);
	assert_int_equal(f->chain.out_len, 16);
	assert_int_equal(f->chain.in_len, 64);
	assert_ptr_equal(f->chain.iov[0].iov_base, f->ram + DATA_GPA);
	assert_int_equal(f->chain.iov[0].iov_len, 16);
	assert_ptr_equal(f->chain.iov[1].iov_base, f->ram + DATA_GPA + 0x1000);
	assert_int_equal(f->chain.iov[1].iov_len, 64);
	assert_int_equal(f->vq.last_avail, 1);
	assert_int_equal(vq_pop(&f->vq, &f->chain), 0);
	assert_false(f->vq.broken);
}

static void test_split_chain_copy(void **state)
{
	struct fx *f = *state;
	uint8_t *data = f->ram + DATA_GPA;
	uint8_t out[32], in[32];

	start(f, 16, false, false);
	/* Readable 3 + 5 + 8 bytes, then writable 4 + (nothing) + 10, in scattered slots. */
	set_desc(f->desc, 5, DATA_GPA + 0x000, 3, VRING_DESC_F_NEXT, 2);
	set_desc(f->desc, 2, DATA_GPA + 0x100, 5, VRING_DESC_F_NEXT, 15);
	set_desc(f->desc, 15, DATA_GPA + 0x200, 8, VRING_DESC_F_NEXT, 0);
	set_desc(f->desc, 0, DATA_GPA + 0x300, 4, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 9);
	set_desc(f->desc, 9, MEM_SIZE + 0x1000, 0, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 7);
	set_desc(f->desc, 7, DATA_GPA + 0x400, 10, VRING_DESC_F_WRITE, 0);
	for (unsigned i = 0; i < 16; i++)
		data[(i < 3 ? 0x000 : i < 8 ? 0x100 - 3 : 0x200 - 8) + i] = (uint8_t)(0x40 + i);
	offer(f, 5);

	assert_int_equal(vq_pop(&f->vq, &f->chain), 1);
	assert_int_equal(f->chain.head, 5);
	assert_int_equal(f->chain.nr_out, 3);
	assert_int_equal(f->chain.nr_in, 2);
	assert_int_equal(f->chain.out_len, 16);
	assert_int_equal(f->chain.in_len, 14);
	assert_ptr_equal(f->chain.iov[3].iov_base, data + 0x300);
	assert_ptr_equal(f->chain.iov[4].iov_base, data + 0x400);

	/* Reads cross descriptor boundaries and stop at the end of the readable part. */
	memset(out, 0, sizeof(out));
	assert_int_equal(vq_chain_read(&f->chain, 2, out, 10), 10);
	for (unsigned i = 0; i < 10; i++)
		assert_int_equal(out[i], 0x42 + i);
	assert_int_equal(vq_chain_read(&f->chain, 0, out, sizeof(out)), 16);
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(out[i], 0x40 + i);
	assert_int_equal(vq_chain_read(&f->chain, 14, out, sizeof(out)), 2);
	assert_int_equal(out[0], 0x4e);
	assert_int_equal(vq_chain_read(&f->chain, 16, out, sizeof(out)), 0);

	/* Writes likewise, bounded by the writable part, never touching the readable one. */
	for (unsigned i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(0x80 + i);
	assert_int_equal(vq_chain_write(&f->chain, 2, in, 5), 5);
	assert_memory_equal(data + 0x302, in, 2);
	assert_memory_equal(data + 0x400, in + 2, 3);
	assert_int_equal(data[0x403], 0);
	assert_int_equal(vq_chain_write(&f->chain, 10, in, sizeof(in)), 4);
	assert_memory_equal(data + 0x406, in, 4);
	assert_int_equal(data[0x40a], 0);
	assert_int_equal(vq_chain_write(&f->chain, 14, in, sizeof(in)), 0);
	assert_int_equal(data[0], 0x40);
}

static void test_indirect(void **state)
{
	struct fx *f = *state;
	struct vring_desc *table = (struct vring_desc *)(f->ram + TABLE_GPA);

	start(f, 4, false, true);
	set_desc(table, 0, DATA_GPA, 12, VRING_DESC_F_NEXT, 2);
	set_desc(table, 2, DATA_GPA + 0x100, 512, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	set_desc(table, 1, DATA_GPA + 0x400, 1, VRING_DESC_F_WRITE, 0);
	/* The WRITE flag of the descriptor that refers to the table means nothing. */
	set_desc(f->desc, 1, TABLE_GPA, 3 * 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_WRITE, 0);
	offer(f, 1);

	assert_int_equal(vq_pop(&f->vq, &f->chain), 1);
	assert_int_equal(f->chain.head, 1);
	assert_int_equal(f->chain.nr_out, 1);
	assert_int_equal(f->chain.nr_in, 2);
	assert_int_equal(f->chain.out_len, 12);
	assert_int_equal(f->chain.in_len, 513);
	assert_ptr_equal(f->chain.iov[0].iov_base, f->ram + DATA_GPA);
	assert_ptr_equal(f->chain.iov[2].iov_base, f->ram + DATA_GPA + 0x400);

	/* A ring descriptor may lead to the indirect one, and a table need not be aligned. */
	memmove((uint8_t *)table + 8, table, 3 * 16);
	set_desc(f->desc, 0, DATA_GPA + 0x800, 4, VRING_DESC_F_NEXT, 3);
	set_desc(f->desc, 3, TABLE_GPA + 8, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	offer(f, 0);
	assert_int_equal(vq_pop(&f->vq, &f->chain), 1);
	assert_int_equal(f->chain.nr_out, 2);
	assert_int_equal(f->chain.nr_in, 2);
	assert_int_equal(f->chain.out_len, 16);
}

/* Offers one chain whose head is an INDIRECT descriptor for `len` bytes at gpa, and expects it refused. */
static void expect_indirect_refused(struct fx *f, bool negotiated, uint64_t gpa, uint32_t len, uint16_t extra_flags)
{
	start(f, 4, false, negotiated);
	set_desc(f->desc, 0, gpa, len, VRING_DESC_F_INDIRECT | extra_flags, 1);
	set_desc(f->desc, 1, DATA_GPA, 8, 0, 0);
	offer(f, 0);
	expect_broken(f);
	f->avail->idx = 0;
}

static void test_indirect_refused(void **state)
{
	struct fx *f = *state;
	struct vring_desc *table = (struct vring_desc *)(f->ram + TABLE_GPA);

	set_desc(table, 0, DATA_GPA, 8, VRING_DESC_F_NEXT, 1);
	set_desc(table, 1, DATA_GPA, 8, 0, 0);
	expect_indirect_refused(f, false, TABLE_GPA, 32, 0);
	expect_indirect_refused(f, true, TABLE_GPA, 0, 0);
	expect_indirect_refused(f, true, TABLE_GPA, 40, 0);
	expect_indirect_refused(f, true, TABLE_GPA, 8, 0);
	expect_indirect_refused(f, true, MEM_SIZE - 16, 32, 0);
	expect_indirect_refused(f, true, UINT64_MAX - 15, 32, 0);
	/* INDIRECT with NEXT is forbidden. */
	expect_indirect_refused(f, true, TABLE_GPA, 32, VRING_DESC_F_NEXT);

	/* An index inside the table beyond its entries. */
	set_desc(table, 1, DATA_GPA, 8, VRING_DESC_F_NEXT, 2);
	expect_indirect_refused(f, true, TABLE_GPA, 32, 0);

	/* A table inside a table (a good one, so only the nesting is wrong). */
	set_desc(table, 8, DATA_GPA, 8, 0, 0);
	set_desc(table, 1, TABLE_GPA + 8 * 16, 16, VRING_DESC_F_INDIRECT, 0);
	expect_indirect_refused(f, true, TABLE_GPA, 32, 0);

	/* A loop inside a table. */
	set_desc(table, 1, DATA_GPA, 8, VRING_DESC_F_NEXT, 0);
	expect_indirect_refused(f, true, TABLE_GPA, 32, 0);

	/* Sanity: the same ring with a good table works. */
	set_desc(table, 1, DATA_GPA, 8, 0, 0);
	start(f, 4, false, true);
	set_desc(f->desc, 0, TABLE_GPA, 32, VRING_DESC_F_INDIRECT, 0);
	offer(f, 0);
	assert_int_equal(vq_pop(&f->vq, &f->chain), 1);
	assert_int_equal(f->chain.nr_out, 2);
}

/* An indirect table may be longer than the queue, up to VQ_CHAIN_MAX buffers, but not more. */
static void test_indirect_chain_max(void **state)
{
	struct fx *f = *state;
	struct vring_desc *table = (struct vring_desc *)(f->ram + TABLE_GPA);

	for (unsigned i = 0; i <= VQ_CHAIN_MAX; i++)
		set_desc(table, i, DATA_GPA + i, 1, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, (uint16_t)(i + 1));
	table[VQ_CHAIN_MAX - 1].flags = VRING_DESC_F_WRITE;
	start(f, 2, false, true);
	set_desc(f->desc, 0, TABLE_GPA, (VQ_CHAIN_MAX + 1) * 16, VRING_DESC_F_INDIRECT, 0);
	offer(f, 0);
	assert_int_equal(vq_pop(&f->vq, &f->chain), 1);
	assert_int_equal(f->chain.nr_in, VQ_CHAIN_MAX);
	assert_int_equal(f->chain.in_len, VQ_CHAIN_MAX);
	assert_ptr_equal(f->chain.iov[VQ_CHAIN_MAX - 1].iov_base, f->ram + DATA_GPA + VQ_CHAIN_MAX - 1);

	table[VQ_CHAIN_MAX - 1].flags = VRING_DESC_F_WRITE | VRING_DESC_F_NEXT;
	offer(f, 0);
	expect_broken(f);
}

static void test_avail_wraps(void **state)
{
	struct fx *f = *state;

	start(f, 4, false, false);
	/* As if 65534 chains had gone through already. */
	f->vq.last_avail = 0xfffe;
	f->vq.used_idx = 0xfffe;
	f->avail->idx = 0xfffe;
	f->used->idx = 0xfffe;
	set_desc(f->desc, 0, DATA_GPA, 8, 0, 0);
	set_desc(f->desc, 1, DATA_GPA, 8, VRING_DESC_F_WRITE, 0);
	set_desc(f->desc, 2, DATA_GPA, 8, 0, 0);
	offer(f, 1);
	offer(f, 0);
	offer(f, 2);
	assert_int_equal(f->avail->idx, 1);
	assert_int_equal(f->avail->ring[2], 1);
	assert_int_equal(f->avail->ring[3], 0);
	assert_int_equal(f->avail->ring[0], 2);

	assert_int_equal(vq_pop(&f->vq, &f->chain), 1);
	assert_int_equal(f->chain.head, 1);
	vq_push(&f->vq, 1, 8);
	assert_int_equal(vq_pop(&f->vq, &f->chain), 1);
	assert_int_equal(f->chain.head, 0);
	vq_push(&f->vq, 0, 0);
	assert_int_equal(f->used->idx, 0);
	assert_int_equal(vq_pop(&f->vq, &f->chain), 1);
	assert_int_equal(f->chain.head, 2);
	vq_push(&f->vq, 2, 0);
	assert_int_equal(vq_pop(&f->vq, &f->chain), 0);
	assert_int_equal(f->vq.last_avail, 1);
	assert_int_equal(f->used->idx, 1);
	assert_int_equal(f->used->ring[2].id, 1);
	assert_int_equal(f->used->ring[2].len, 8);
	assert_int_equal(f->used->ring[3].id, 0);
	assert_int_equal(f->used->ring[0].id, 2);
}

static void test_next_loop(void **state)
{
	struct fx *f = *state;

	start(f, 256, false, false);
	set_desc(f->desc, 0, DATA_GPA, 8, VRING_DESC_F_NEXT, 1);
	set_desc(f->desc, 1, DATA_GPA, 8, VRING_DESC_F_NEXT, 0);
	set_desc(f->desc, 2, DATA_GPA, 8, 0, 0);
	offer(f, 0);
	offer(f, 2);
	expect_broken(f);
	assert_int_equal(f->vq.last_avail, 0);
	/* Even once the driver repairs the chain. */
	f->desc[1].flags = 0;
	assert_int_equal(vq_pop(&f->vq, &f->chain), -EIO);

	/* Only a reset and a new start bring it back. */
	start(f, 256, false, false);
	f->avail->idx = 0;
	offer(f, 2);
	assert_int_equal(vq_pop(&f->vq, &f->chain), 1);
}

static void test_index_out_of_range(void **state)
{
	struct fx *f = *state;

	start(f, 8, false, false);
	set_desc(f->desc, 0, DATA_GPA, 8, VRING_DESC_F_NEXT, 8);
	offer(f, 0);
	expect_broken(f);

	/* The head itself. */
	start(f, 8, false, false);
	f->avail->idx = 0;
	offer(f, 8);
	expect_broken(f);
}

static void test_chain_longer_than_queue(void **state)
{
	struct fx *f = *state;

	/* Exactly the queue size is fine. */
	start(f, 4, false, false);
	for (unsigned i = 0; i < 4; i++)
		set_desc(f->desc, i, DATA_GPA, 8, VRING_DESC_F_NEXT, (uint16_t)(i + 1));
	f->desc[3].flags = 0;
	offer(f, 0);
	assert_int_equal(vq_pop(&f->vq, &f->chain), 1);
	assert_int_equal(f->chain.nr_out, 4);

	/* One more must revisit a descriptor. */
	f->desc[3] = (struct vring_desc){ .addr = DATA_GPA, .len = 8, .flags = VRING_DESC_F_NEXT, .next = 0 };
	offer(f, 0);
	expect_broken(f);
}

static void expect_buffer_refused(struct fx *f, uint64_t addr, uint32_t len)
{
	start(f, 4, false, false);
	f->avail->idx = 0;
	set_desc(f->desc, 0, DATA_GPA, 8, VRING_DESC_F_NEXT, 1);
	set_desc(f->desc, 1, addr, len, VRING_DESC_F_WRITE, 0);
	offer(f, 0);
	expect_broken(f);
}

static void test_buffer_outside_ram(void **state)
{
	struct fx *f = *state;

	expect_buffer_refused(f, MEM_SIZE, 1);
	expect_buffer_refused(f, MEM_SIZE - 8, 16);
	expect_buffer_refused(f, UINT64_MAX - 7, 16);
	expect_buffer_refused(f, 0, UINT32_MAX);

	/* Up to the last byte is fine. */
	start(f, 4, false, false);
	f->avail->idx = 0;
	set_desc(f->desc, 0, MEM_SIZE - 16, 16, VRING_DESC_F_WRITE, 0);
	offer(f, 0);
	assert_int_equal(vq_pop(&f->vq, &f->chain), 1);
	assert_ptr_equal(f->chain.iov[0].iov_base, f->ram + MEM_SIZE - 16);
}

static void test_readable_after_writable(void **state)
{
	struct fx *f = *state;

	start(f, 4, false, false);
	set_desc(f->desc, 0, DATA_GPA, 8, VRING_DESC_F_NEXT, 1);
	set_desc(f->desc, 1, DATA_GPA, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
	set_desc(f->desc, 2, DATA_GPA, 8, 0, 0);
	offer(f, 0);
	expect_broken(f);
}

static void test_avail_idx_too_far(void **state)
{
	struct fx *f = *state;

	start(f, 8, false, false);
	for (unsigned i = 0; i < 8; i++)
		set_desc(f->desc, i, DATA_GPA, 8, 0, 0);
	/* A full ring is fine ... */
	f->avail->idx = 8;
	for (unsigned i = 0; i < 8; i++) {
		assert_int_equal(vq_pop(&f->vq, &f->chain), 1);
		vq_push(&f->vq, f->chain.head, 0);
	}
	assert_int_equal(vq_pop(&f->vq, &f->chain), 0);
	/* ... more than a ring's worth ahead is not. */
	f->avail->idx = 17;
	expect_broken(f);
	assert_int_equal(f->vq.last_avail, 8);
}

static void test_push(void **state)
{
	struct fx *f = *state;

	start(f, 4, false, false);
	vq_push(&f->vq, 3, 123);
	vq_push(&f->vq, 1, 0);
	assert_int_equal(f->used->idx, 2);
	assert_int_equal(f->vq.used_idx, 2);
	assert_int_equal(f->used->ring[0].id, 3);
	assert_int_equal(f->used->ring[0].len, 123);
	assert_int_equal(f->used->ring[1].id, 1);
	assert_int_equal(f->used->ring[1].len, 0);
	for (unsigned i = 0; i < 3; i++)
		vq_push(&f->vq, (uint16_t)i, 7 + i);
	assert_int_equal(f->used->idx, 5);
	assert_int_equal(f->used->ring[0].id, 2);
	assert_int_equal(f->used->ring[0].len, 9);
	assert_int_equal(f->used->ring[3].id, 1);
	/* Nothing beyond the ring (avail_event aside) is touched. */
	assert_int_equal(*avail_event_of(f), 0);
}

static void test_no_interrupt_flag(void **state)
{
	struct fx *f = *state;

	start(f, 4, false, false);
	vq_push(&f->vq, 0, 0);
	assert_true(vq_should_interrupt(&f->vq));
	f->avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	vq_push(&f->vq, 0, 0);
	assert_false(vq_should_interrupt(&f->vq));
	f->avail->flags = 0;
	vq_push(&f->vq, 0, 0);
	assert_true(vq_should_interrupt(&f->vq));
}

static void test_event_idx_interrupt(void **state)
{
	struct fx *f = *state;
	uint16_t *used_event;

	start(f, 8, true, false);
	used_event = &f->avail->ring[8];
	/* NO_INTERRUPT means nothing with EVENT_IDX. */
	f->avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	*used_event = 100;

	/* The first batch always interrupts. */
	vq_push(&f->vq, 0, 0);
	assert_true(vq_should_interrupt(&f->vq));
	/* Nothing new: no interrupt. */
	assert_false(vq_should_interrupt(&f->vq));

	/* The driver wants one once entry 1 is used (used idx goes past 1). */
	*used_event = 1;
	vq_push(&f->vq, 0, 0);
	assert_true(vq_should_interrupt(&f->vq));

	/* It wants one after entry 5: pushes up to idx 5 stay quiet, the one that passes 5 interrupts. */
	*used_event = 5;
	vq_push(&f->vq, 0, 0);
	vq_push(&f->vq, 0, 0);
	assert_false(vq_should_interrupt(&f->vq));
	vq_push(&f->vq, 0, 0);
	assert_false(vq_should_interrupt(&f->vq));
	vq_push(&f->vq, 0, 0);
	vq_push(&f->vq, 0, 0);
	assert_int_equal(f->vq.used_idx, 7);
	assert_true(vq_should_interrupt(&f->vq));

	/* An event index already passed in an earlier batch does not interrupt again. */
	vq_push(&f->vq, 0, 0);
	assert_false(vq_should_interrupt(&f->vq));

	/* Across the 16-bit wrap. */
	f->vq.used_idx = 0xfffe;
	f->vq.signalled_used = 0xfffe;
	*used_event = 0xffff;
	vq_push(&f->vq, 0, 0);
	assert_false(vq_should_interrupt(&f->vq));
	vq_push(&f->vq, 0, 0);
	assert_int_equal(f->vq.used_idx, 0);
	assert_true(vq_should_interrupt(&f->vq));
}

static void test_arm_notify_event_idx(void **state)
{
	struct fx *f = *state;
	uint16_t *avail_event;

	start(f, 8, true, false);
	avail_event = avail_event_of(f);
	*avail_event = 0xaaaa;
	set_desc(f->desc, 0, DATA_GPA, 8, 0, 0);
	offer(f, 0);
	offer(f, 0);
	assert_int_equal(vq_pop(&f->vq, &f->chain), 1);
	assert_int_equal(*avail_event, 0xaaaa);
	assert_int_equal(vq_pop(&f->vq, &f->chain), 1);
	assert_false(vq_arm_notify(&f->vq));
	assert_int_equal(*avail_event, 2);

	/* A buffer made available after the last pop: the caller must pop again, not sleep. */
	offer(f, 0);
	assert_true(vq_arm_notify(&f->vq));
	assert_int_equal(*avail_event, 2);
	assert_int_equal(vq_pop(&f->vq, &f->chain), 1);
	assert_false(vq_arm_notify(&f->vq));
	assert_int_equal(*avail_event, 3);
	assert_int_equal(f->used->flags, 0);
}

static void test_arm_notify_flags(void **state)
{
	struct fx *f = *state;

	start(f, 8, false, false);
	f->used->flags = VRING_USED_F_NO_NOTIFY;
	assert_false(vq_arm_notify(&f->vq));
	assert_int_equal(f->used->flags, 0);
	assert_int_equal(*avail_event_of(f), 0);
	set_desc(f->desc, 0, DATA_GPA, 8, 0, 0);
	offer(f, 0);
	assert_true(vq_arm_notify(&f->vq));
}

/* The pages of the first 256 KiB set in the record of what the VMM wrote, taken (and so cleared). */
static uint64_t take_written(struct fx *f)
{
	uint64_t out[MEM_SIZE / 4096 / 64] = { 0 };

	guest_mem_take_written(&f->mem, out);
	/* The pages of the test below are all in the first 64: nothing beyond. */
	for (unsigned i = 1; i < sizeof(out) / sizeof(out[0]); i++)
		assert_int_equal(out[i], 0);
	return out[0];
}

/*
 * For diff snapshots, what the VMM writes in guest RAM is marked: a popped
 * chain's writable buffers (not its readable ones), again when it is
 * pushed, with the element and the used ring's idx, and the avail_event of
 * vq_arm_notify.
 */
static void test_writes_marked(void **state)
{
	struct fx *f = *state;
	const uint64_t used_page = 1ULL << (USED_GPA / 4096);

	assert_int_equal(guest_mem_track_writes(&f->mem), 0);
	start(f, 4, true, false);
	set_desc(f->desc, 0, DATA_GPA, 4096, VRING_DESC_F_NEXT, 1);
	/* Across a page boundary: both pages. */
	set_desc(f->desc, 1, DATA_GPA + 0x3000 - 8, 16, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
	set_desc(f->desc, 2, DATA_GPA + 0x9000, 0, VRING_DESC_F_WRITE, 0);
	offer(f, 0);
	assert_int_equal(vq_pop(&f->vq, &f->chain), 1);
	assert_int_equal(take_written(f), 3ULL << ((DATA_GPA + 0x2000) / 4096));

	/* The push marks the chain's writable pages again: a device may have held it across a snapshot. */
	vq_push(&f->vq, 0, 16);
	assert_int_equal(take_written(f), used_page | 3ULL << ((DATA_GPA + 0x2000) / 4096));
	assert_false(vq_arm_notify(&f->vq));
	assert_int_equal(take_written(f), used_page);
	/* Without EVENT_IDX, arming clears NO_NOTIFY in the used ring's flags: written too. */
	start(f, 4, false, false);
	assert_true(vq_arm_notify(&f->vq)); /* started afresh: the chain offered above is there again */
	assert_int_equal(take_written(f), used_page);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_reset),
		T(test_start_rejects),
		T(test_not_started),
		T(test_simple_chain),
		T(test_split_chain_copy),
		T(test_indirect),
		T(test_indirect_refused),
		T(test_indirect_chain_max),
		T(test_avail_wraps),
		T(test_next_loop),
		T(test_index_out_of_range),
		T(test_chain_longer_than_queue),
		T(test_buffer_outside_ram),
		T(test_readable_after_writable),
		T(test_avail_idx_too_far),
		T(test_push),
		T(test_no_interrupt_flag),
		T(test_event_idx_interrupt),
		T(test_arm_notify_event_idx),
		T(test_arm_notify_flags),
		T(test_writes_marked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
