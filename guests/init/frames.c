// SPDX-License-Identifier: Apache-2.0
#include <string.h>
#include <linux/errno.h>

#include "frames.h"

#define HEADER_SIZE sizeof(struct exec_frame)

struct exec_frame frame_reader_header(const struct frame_reader *r)
{
	struct exec_frame h;

	memcpy(&h, r->buf, sizeof(h));
	return h;
}

size_t frame_reader_want(const struct frame_reader *r)
{
	if (r->have < HEADER_SIZE)
		return HEADER_SIZE - r->have;
	return HEADER_SIZE + frame_reader_header(r).len - r->have;
}

uint8_t *frame_reader_space(struct frame_reader *r)
{
	return r->buf + r->have;
}

int frame_reader_got(struct frame_reader *r, size_t n)
{
	r->have += n;
	if (r->have < HEADER_SIZE)
		return 0;
	if (frame_reader_header(r).len > EXEC_FRAME_MAX)
		return -EPROTO;
	return frame_reader_want(r) == 0;
}

const uint8_t *frame_reader_payload(const struct frame_reader *r)
{
	return r->buf + HEADER_SIZE;
}

void frame_reader_next(struct frame_reader *r)
{
	r->have = 0;
}

size_t frame_queue_room(struct frame_queue *q)
{
	size_t room;

	if (q->head == q->tail)
		q->head = q->tail = 0;
	/* Move what waits to the front only when the end is short of room, not on every frame. */
	if (q->head && sizeof(q->buf) - q->tail < sizeof(q->buf) / 2) {
		memmove(q->buf, q->buf + q->head, q->tail - q->head);
		q->tail -= q->head;
		q->head = 0;
	}
	room = sizeof(q->buf) - q->tail;
	if (room <= HEADER_SIZE)
		return 0;
	room -= HEADER_SIZE;
	return room < EXEC_FRAME_MAX ? room : EXEC_FRAME_MAX;
}

uint8_t *frame_queue_payload(struct frame_queue *q)
{
	return q->buf + q->tail + HEADER_SIZE;
}

void frame_queue_commit(struct frame_queue *q, uint32_t type, size_t len)
{
	struct exec_frame h = { .type = type, .len = (uint32_t)len };

	memcpy(q->buf + q->tail, &h, sizeof(h));
	q->tail += HEADER_SIZE + len;
}

int frame_queue_add(struct frame_queue *q, uint32_t type, const void *payload, size_t len)
{
	if (frame_queue_room(q) < len || (len == 0 && sizeof(q->buf) - q->tail < HEADER_SIZE))
		return -ENOSPC;
	if (len)
		memcpy(frame_queue_payload(q), payload, len);
	frame_queue_commit(q, type, len);
	return 0;
}

const uint8_t *frame_queue_pending(const struct frame_queue *q, size_t *len)
{
	*len = q->tail - q->head;
	return q->buf + q->head;
}

void frame_queue_sent(struct frame_queue *q, size_t n)
{
	q->head += n;
}

struct exec_exit frame_exit_from_status(int status)
{
	/* The wait status's layout, as <sys/wait.h>'s macros read it (the init has no libc). */
	if ((status & 0x7f) == 0)
		return (struct exec_exit){ .how = EXEC_EXITED, .value = (uint32_t)(status >> 8) & 0xff };
	return (struct exec_exit){ .how = EXEC_KILLED, .value = (uint32_t)status & 0x7f };
}
