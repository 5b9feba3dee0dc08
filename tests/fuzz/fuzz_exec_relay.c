// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for what a guest's init sends kvmini exec over the
 * channel (src/exec/relay.c): the input is the byte stream of frames, as
 * the guest would write it, then its end. The command's stdin, stdout and
 * stderr are /dev/null; the relay must take or refuse every frame and
 * return once the stream has ended.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "exec/relay.h"

static struct exec_relay relay;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int null_fd = -1;
	uint64_t one = 1;
	int sv[2];

	if (null_fd < 0) {
		signal(SIGPIPE, SIG_IGN);
		if ((null_fd = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
			abort();
	}
	/* -max_len keeps the input within the socket's buffer, so the whole stream is written before the relay runs. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv))
		abort();
	memset(&relay, 0, sizeof(relay));
	relay.sock = sv[0];
	relay.in_fd = null_fd;
	relay.out_fd = relay.err_fd = null_fd;
	relay.winch_fd = -1;
	if ((relay.done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
		abort();
	if (size && write(sv[1], data, size) != (ssize_t)size)
		abort();
	shutdown(sv[1], SHUT_WR);
	if (write(relay.done_fd, &one, sizeof(one)) != sizeof(one))
		abort();
	exec_relay_run(&relay);
	close(relay.done_fd);
	close(sv[0]);
	close(sv[1]);
	return 0;
}
