// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "api/snapshot_files.h"
#include "open_file.h"

/* Two descriptors or none: the first is closed when the second cannot be had. */
static int both(int state_fd, int mem_fd, int *state_out, int *mem_out)
{
	if (state_fd < 0 || mem_fd < 0) {
		if (state_fd >= 0)
			close(state_fd);
		if (mem_fd >= 0)
			close(mem_fd);
		return -EINVAL;
	}
	*state_out = state_fd;
	*mem_out = mem_fd;
	return 0;
}

int api_snapshot_open_create(const struct api_snapshot_create *p, int *state_fd, int *mem_fd, struct errmsg *e)
{
	bool diff = p->type == SNAPSHOT_DIFF;
	int state, mem;

	/* The memory file first: a Diff without its Full snapshot must not truncate the state file on its way out. */
	mem = create_file("mem_file_path", p->mem_path, O_RDWR | (diff ? 0 : O_CREAT | O_TRUNC), e);
	if (mem == -ENOENT && diff)
		errmsg_set(e, ENOENT, "mem_file_path '%s' does not exist: a Diff snapshot is written over a Full one's "
				      "memory file", p->mem_path);
	state = mem < 0 ? -1 : create_file("snapshot_path", p->state_path, O_WRONLY | O_CREAT | O_TRUNC, e);
	return both(state, mem, state_fd, mem_fd);
}

int api_snapshot_open_load(const struct api_snapshot_load *p, int *state_fd, int *mem_fd, struct errmsg *e)
{
	int state = open_file("snapshot_path", p->state_path, O_RDONLY, OPEN_REGULAR, true, e);
	int mem = state < 0 ? -1 : open_file("memory file", p->mem_path, O_RDONLY, OPEN_REGULAR, true, e);

	return both(state, mem, state_fd, mem_fd);
}
