/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The exec channel: how `kvmini exec` (src/cmd/exec.c) and the built-in init
 * in the guest (guests/init/init.c) talk over the guest's hvc0, a
 * virtio-console port the host backs with a socket. Everything is a frame:
 * a header, then len bytes. Both ends are x86-64, so fields are in host
 * order. This header is also compiled freestanding into the init: fixed-size
 * types and constants only.
 *
 * The init's own configuration is a file in its initramfs, EXEC_CONF_PATH:
 * "key=value" entries, each ended by a NUL byte, read in order (keys that
 * repeat build a list). docs/sharing.md lists the keys.
 */
#ifndef KVMINI_EXEC_PROTO_H
#define KVMINI_EXEC_PROTO_H

#include <stdint.h>

#define EXEC_CONF_PATH "/kvmini/init.conf"
/* The most a frame carries after its header; a larger len is a broken peer. */
#define EXEC_FRAME_MAX 65536

struct exec_frame {
	uint32_t type; /* enum exec_frame_type */
	uint32_t len;  /* bytes that follow, at most EXEC_FRAME_MAX */
};

enum exec_frame_type {
	/* guest to host */
	EXEC_STARTED = 1, /* the command's process exists (boot is over); no payload */
	EXEC_STDOUT = 2,  /* bytes the command wrote to its standard output (or its terminal) */
	EXEC_STDERR = 3,  /* bytes the command wrote to its standard error */
	EXEC_EXIT = 4,    /* struct exec_exit; the last frame, the guest powers off after it */
	EXEC_FAILED = 5,  /* the init could not set up or start the command: one line of text, no newline */
	/* host to guest */
	EXEC_STDIN = 16,     /* bytes for the command's standard input */
	EXEC_STDIN_EOF = 17, /* the host's standard input ended; no payload */
	EXEC_WINSIZE = 18,   /* struct exec_winsize: the host terminal's size (only with tty=1) */
};

enum exec_exit_how {
	EXEC_EXITED = 0, /* value: the exit status */
	EXEC_KILLED = 1, /* value: the signal's number */
};

struct exec_exit {
	uint32_t how;   /* enum exec_exit_how */
	uint32_t value;
};

struct exec_winsize {
	uint16_t rows;
	uint16_t cols;
};

#endif
