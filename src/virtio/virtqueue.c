// SPDX-License-Identifier: Apache-2.0
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "virtio/virtqueue.h"

/*
 * The rings are little-endian (virtio 1.x). x86 is too, so the le*toh calls
 * compile to nothing, but they keep every guest value's encoding explicit.
 * Ring fields are 2- or 4-byte aligned (vq_start checks), so they are read
 * and written with single atomic accesses: the guest writes them concurrently.
 */
static uint16_t load16(const __virtio16 *p, int order)
{
	return le16toh(__atomic_load_n(p, order));
}

static void store16(__virtio16 *p, uint16_t v, int order)
{
	__atomic_store_n(p, htole16(v), order);
}

/* used_event sits after the available ring's entries, avail_event after the used ring's. */
static __virtio16 *used_event(const struct virtqueue *vq)
{
	return &vq->avail->ring[vq->size];
}

static __virtio16 *avail_event(const struct virtqueue *vq)
{
	return (__virtio16 *)((uint8_t *)vq->used + offsetof(struct vring_used, ring) +
			      sizeof(struct vring_used_elem) * vq->size);
}

void vq_reset(struct virtqueue *vq)
{
	memset(vq, 0, sizeof(*vq));
	vq->size = VIRTQ_SIZE_MAX;
	vq->msix_vector = 0xffff;
}

static void *ring_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t align, uint64_t len)
{
	if (gpa % align)
		return NULL;
	return guest_ptr(mem, gpa, len);
}

int vq_start(struct virtqueue *vq, const struct guest_mem *mem, bool event_idx, bool indirect)
{
	uint64_t n = vq->size;
	void *desc, *avail, *used;

	if (n == 0 || n > VIRTQ_SIZE_MAX || (n & (n - 1)))
		return -EINVAL;
	/* The avail and used rings include used_event and avail_event, whether or not EVENT_IDX is negotiated. */
	desc = ring_ptr(mem, vq->desc_gpa, VRING_DESC_ALIGN_SIZE, sizeof(struct vring_desc) * n);
	avail = ring_ptr(mem, vq->avail_gpa, VRING_AVAIL_ALIGN_SIZE, 6 + 2 * n);
	used = ring_ptr(mem, vq->used_gpa, VRING_USED_ALIGN_SIZE, 6 + sizeof(struct vring_used_elem) * n);
	if (!desc || !avail || !used)
		return -EINVAL;

	vq->mem = mem;
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	vq->event_idx = event_idx;
	vq->indirect = indirect;
	vq->broken = false;
	vq->last_avail = 0;
	vq->used_idx = 0;
	vq->signalled_used = 0;
	vq->signalled_valid = false;
	vq->started = true;
	return 0;
}

/*
 * One snapshot of a descriptor. The guest may rewrite it while we check it,
 * so it is copied once and the compiler barrier stops the checked fields from
 * being fetched again. memcpy because an indirect table need not be aligned.
 */
static struct vring_desc read_desc(const uint8_t *table, uint32_t i)
{
	struct vring_desc d;

	memcpy(&d, table + (size_t)i * sizeof(d), sizeof(d));
	__asm__ __volatile__("" ::: "memory");
	return d;
}

/*
 * Follows the chain from `head` into chain->iov. A descriptor that refers to
 * an indirect table must end the ring's chain (INDIRECT with NEXT is
 * forbidden by the spec), so the walk never returns from a table to the ring.
 */
static int walk_chain(const struct virtqueue *vq, uint16_t head, struct vq_chain *chain)
{
	const uint8_t *table = (const uint8_t *)vq->desc;
	uint32_t entries = vq->size, i = head;
	unsigned visited = 0;
	bool in_indirect = false, seen_writable = false;

	chain->head = head;
	chain->nr_out = chain->nr_in = 0;
	chain->out_len = chain->in_len = 0;
	for (;;) {
		struct vring_desc d;
		uint16_t flags;
		uint64_t addr;
		uint32_t len;

		if (i >= entries)
			return -EIO;
		d = read_desc(table, i);
		flags = le16toh(d.flags);
		addr = le64toh(d.addr);
		len = le32toh(d.len);

		if (flags & VRING_DESC_F_INDIRECT) {
			if (!vq->indirect || in_indirect || (flags & VRING_DESC_F_NEXT))
				return -EIO;
			if (len == 0 || len % sizeof(struct vring_desc))
				return -EIO;
			table = guest_ptr(vq->mem, addr, len);
			if (!table)
				return -EIO;
			entries = len / sizeof(struct vring_desc);
			in_indirect = true;
			i = 0;
			continue;
		}

		/*
		 * Every buffer descriptor counts, so a loop ends here. Within the
		 * ring a chain longer than the queue must repeat an index; an
		 * indirect table may be longer than the queue, but not than iov[].
		 */
		if (++visited > (in_indirect ? VQ_CHAIN_MAX : vq->size))
			return -EIO;
		if (flags & VRING_DESC_F_WRITE)
			seen_writable = true;
		else if (seen_writable)
			return -EIO;

		/* Zero-length buffers carry nothing: no iovec, and no address to check. */
		if (len) {
			void *host = guest_ptr(vq->mem, addr, len);

			if (!host)
				return -EIO;
			/* Readable buffers all come before writable ones, so appending keeps out before in. */
			chain->iov[chain->nr_out + chain->nr_in] = (struct iovec){ .iov_base = host, .iov_len = len };
			if (flags & VRING_DESC_F_WRITE) {
				chain->nr_in++;
				chain->in_len += len;
			} else {
				chain->nr_out++;
				chain->out_len += len;
			}
		}

		if (!(flags & VRING_DESC_F_NEXT))
			return 0;
		i = le16toh(d.next);
	}
}

/*
 * The device may fill every writable buffer of a chain, by copy or by I/O
 * straight into it: marked for diff snapshots, whose record of written pages
 * KVM's dirty log (the guest's writes only) does not give.
 */
static void mark_writable(const struct virtqueue *vq, const struct vq_chain *chain)
{
	for (unsigned i = chain->nr_out; i < chain->nr_out + chain->nr_in; i++)
		guest_mem_mark_written(vq->mem, chain->iov[i].iov_base, chain->iov[i].iov_len);
}

int vq_pop(struct virtqueue *vq, struct vq_chain *chain)
{
	uint16_t avail_idx, head;

	if (vq->broken)
		return -EIO;
	if (!vq->started)
		return 0;
	/* Acquire: the ring entry and descriptors the driver wrote before bumping idx are visible below. */
	avail_idx = load16(&vq->avail->idx, __ATOMIC_ACQUIRE);
	if (avail_idx == vq->last_avail)
		return 0;
	if ((uint16_t)(avail_idx - vq->last_avail) > vq->size)
		goto broken;
	head = load16(&vq->avail->ring[vq->last_avail & (vq->size - 1)], __ATOMIC_RELAXED);
	if (walk_chain(vq, head, chain) < 0)
		goto broken;
	mark_writable(vq, chain);
	vq->last_avail++;
	return 1;

broken:
	vq->broken = true;
	return -EIO;
}

void vq_unpop(struct virtqueue *vq)
{
	vq->last_avail--;
}

void vq_push(struct virtqueue *vq, uint16_t head, uint32_t written)
{
	struct vring_used_elem *elem;

	/* A request that completes after a device reset has no ring to go to. */
	if (!vq->started)
		return;
	elem = &vq->used->ring[vq->used_idx & (vq->size - 1)];
	__atomic_store_n(&elem->id, htole32(head), __ATOMIC_RELAXED);
	__atomic_store_n(&elem->len, htole32(written), __ATOMIC_RELAXED);
	/* Release: the driver that sees the new idx also sees the element. */
	store16(&vq->used->idx, ++vq->used_idx, __ATOMIC_RELEASE);
	guest_mem_mark_written(vq->mem, elem, sizeof(*elem));
	guest_mem_mark_written(vq->mem, &vq->used->idx, sizeof(vq->used->idx));
	/*
	 * Marked at pop too, but a chain a device held across a snapshot (net's
	 * receive buffer) is written after that record was taken: walked again
	 * when pages are tracked, so the next diff has what it got.
	 */
	if (vq->mem->written) {
		static __thread struct vq_chain again;

		if (!walk_chain(vq, head, &again))
			mark_writable(vq, &again);
	}
}

bool vq_should_interrupt(struct virtqueue *vq)
{
	uint16_t old = vq->signalled_used;
	bool valid = vq->signalled_valid;

	if (!vq->started)
		return false;
	/*
	 * The used idx store must be visible before we read the driver's
	 * suppression state, or the driver may re-enable interrupts after
	 * checking an idx we had not yet published, and miss this batch.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!vq->event_idx)
		return !(load16(&vq->avail->flags, __ATOMIC_RELAXED) & VRING_AVAIL_F_NO_INTERRUPT);

	vq->signalled_used = vq->used_idx;
	vq->signalled_valid = true;
	if (!valid)
		return true;
	return vring_need_event(load16(used_event(vq), __ATOMIC_RELAXED), vq->used_idx, old);
}

bool vq_arm_notify(struct virtqueue *vq)
{
	if (!vq->started || vq->broken)
		return false;
	if (vq->event_idx) {
		store16(avail_event(vq), vq->last_avail, __ATOMIC_RELAXED);
		guest_mem_mark_written(vq->mem, avail_event(vq), sizeof(__virtio16));
	} else {
		store16(&vq->used->flags, load16(&vq->used->flags, __ATOMIC_RELAXED) & ~VRING_USED_F_NO_NOTIFY,
			__ATOMIC_RELAXED);
		guest_mem_mark_written(vq->mem, &vq->used->flags, sizeof(vq->used->flags));
	}
	/* The request must be visible before we look for buffers, or one made available meanwhile goes unseen. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return load16(&vq->avail->idx, __ATOMIC_ACQUIRE) != vq->last_avail;
}

/* Copies between flat and iov[0, n), starting `offset` bytes into the iovecs; to_iov picks the direction. */
static size_t iov_copy(const struct iovec *iov, unsigned n, size_t offset, uint8_t *flat, size_t len, bool to_iov)
{
	size_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		size_t step;

		if (offset >= iov[i].iov_len) {
			offset -= iov[i].iov_len;
			continue;
		}
		step = iov[i].iov_len - offset;
		if (step > len - done)
			step = len - done;
		if (to_iov)
			memcpy((uint8_t *)iov[i].iov_base + offset, flat + done, step);
		else
			memcpy(flat + done, (const uint8_t *)iov[i].iov_base + offset, step);
		done += step;
		offset = 0;
	}
	return done;
}

size_t vq_chain_read(const struct vq_chain *chain, size_t offset, void *dst, size_t len)
{
	return iov_copy(chain->iov, chain->nr_out, offset, dst, len, false);
}

size_t vq_iov_write(const struct iovec *iov, unsigned n, size_t offset, const void *src, size_t len)
{
	/* The cast only lets one helper serve both directions: with to_iov, flat is only read. */
	return iov_copy(iov, n, offset, (uint8_t *)src, len, true);
}

size_t vq_chain_write(const struct vq_chain *chain, size_t offset, const void *src, size_t len)
{
	return vq_iov_write(chain->iov + chain->nr_out, chain->nr_in, offset, src, len);
}
