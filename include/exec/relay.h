/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kvmini exec's side of the channel (include/exec/proto.h): frames from the
 * guest's init to stdout and stderr, stdin and the terminal's size to it
 * (src/exec/relay.c). It runs on a thread of its own while the VM runs, and
 * never drops a byte: while stdout is full it stops reading the channel, so
 * the guest's output waits in the device; while the channel is full it stops
 * reading stdin.
 */
#ifndef KVMINI_EXEC_RELAY_H
#define KVMINI_EXEC_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exec/proto.h"

/*
 * The frame at the start of buf[0..len): 1 with its header in *f when all
 * of it is there, 0 when more bytes are needed, -EPROTO when its length is
 * past EXEC_FRAME_MAX. Pure.
 */
int exec_frame_parse(const uint8_t *buf, size_t len, struct exec_frame *f);

struct exec_relay {
	/* Set by the caller. */
	int sock;     /* the channel, non-blocking */
	int in_fd;    /* the command's input (exec's stdin) */
	int out_fd, err_fd;
	int winch_fd; /* a signalfd for SIGWINCH, with tty; else -1 */
	int done_fd;  /* an eventfd the caller writes once the VM has ended */
	bool tty;     /* in_fd is the terminal: its size goes to the guest, and its end is not an EOF */
	/* Results, read after exec_relay_run returns. */
	bool started;           /* EXEC_STARTED came */
	bool exited;            /* EXEC_EXIT came: exit holds it */
	struct exec_exit exit;
	bool failed;            /* EXEC_FAILED came: failure holds its text */
	char failure[256];
	bool broken;            /* the guest broke the protocol: problem says how */
	bool cut_short;         /* the VM ended and stdout or stderr stopped taking output: the rest was left */
	char problem[128];
	/* The relay's own state. */
	uint8_t in[sizeof(struct exec_frame) + EXEC_FRAME_MAX]; /* from the guest, not yet handled */
	size_t in_len, written;                                  /* written: of the frame at in's start */
	uint8_t out[sizeof(struct exec_frame) + 4096];           /* a frame to the guest, being sent */
	size_t out_len, out_off;
};

/* Relays until the channel ends (the VM is gone and all its output handled), or output stalls after that. */
void exec_relay_run(struct exec_relay *r);

#endif
