/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The init's two ends of the exec channel (include/exec/proto.h): a reader
 * that collects one frame at a time from the host, and a bounded queue of
 * frames for the host. Both only move bytes the caller read or will write,
 * so back-pressure is the caller's: it stops reading the host while a frame
 * is held, and stops reading a source while the queue has no room. Pure
 * code: it also compiles as ordinary C for its unit test.
 */
#ifndef KVMINI_INIT_FRAMES_H
#define KVMINI_INIT_FRAMES_H

#include <stddef.h>
#include <stdint.h>

#include "exec/proto.h"

struct frame_reader {
	size_t have; /* bytes of the current frame so far, its header first */
	uint8_t buf[sizeof(struct exec_frame) + EXEC_FRAME_MAX];
};

/* How many more bytes the current frame needs (read at most that many to frame_reader_space); 0: it is whole. */
size_t frame_reader_want(const struct frame_reader *r);
uint8_t *frame_reader_space(struct frame_reader *r);
/* Takes n bytes read to the space: 1 when the frame is whole, 0 if not yet, -EPROTO for a len past EXEC_FRAME_MAX. */
int frame_reader_got(struct frame_reader *r, size_t n);
/* The whole frame's header and payload; then frame_reader_next starts the next one. */
struct exec_frame frame_reader_header(const struct frame_reader *r);
const uint8_t *frame_reader_payload(const struct frame_reader *r);
void frame_reader_next(struct frame_reader *r);

/* Room for one full frame at least, so the last frames (EXIT, FAILED) always fit once the queue has drained. */
#define FRAME_QUEUE_SIZE (sizeof(struct exec_frame) + EXEC_FRAME_MAX)

struct frame_queue {
	size_t head, tail; /* bytes [head, tail) wait to be written */
	uint8_t buf[FRAME_QUEUE_SIZE];
};

/* The most payload a frame added now can carry (0: none until some is sent). */
size_t frame_queue_room(struct frame_queue *q);
/* Where that payload goes, to read it straight in; frame_queue_commit then adds the frame's header for len bytes. */
uint8_t *frame_queue_payload(struct frame_queue *q);
void frame_queue_commit(struct frame_queue *q, uint32_t type, size_t len);
/* Adds a whole frame: 0, or -ENOSPC if it does not fit now. */
int frame_queue_add(struct frame_queue *q, uint32_t type, const void *payload, size_t len);
/* The bytes to write next (len 0: none), and how many of them were written. */
const uint8_t *frame_queue_pending(const struct frame_queue *q, size_t *len);
void frame_queue_sent(struct frame_queue *q, size_t n);

/* The EXEC_EXIT payload for a wait status. */
struct exec_exit frame_exit_from_status(int status);

#endif
