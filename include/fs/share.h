/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A host directory shared with a guest, served one FUSE request at a time as
 * the virtio-fs driver sends them (docs/sharing.md). Nothing the guest sends
 * reaches outside the directory: the server works from O_PATH handles, takes
 * one name component at a time and never follows a symbolic link. One thread
 * serves a share at a time.
 */
#ifndef KVMINI_FS_SHARE_H
#define KVMINI_FS_SHARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errmsg.h"

struct fs_share;

struct fs_share_limits {
	uint32_t max_inodes;	/* node ids the guest holds at once, the root's included */
	uint32_t max_handles;	/* files and directories the guest has open at once */
	uint32_t max_request;	/* the largest request, and reply, the transport carries: bounds WRITE, and READ through max_pages */
};

/* Dups dirfd (a directory the caller opened); a read-only share answers every change with EROFS. */
int fs_share_open(struct fs_share **s, int dirfd, bool readonly, const struct fs_share_limits *limits,
		  struct errmsg *e);
/*
 * Serves one request (struct fuse_in_header and its arguments): the reply
 * (struct fuse_out_header, then the answer or a negative errno in its error
 * field) goes to reply, *reply_len its length, 0 for a request that gets no
 * reply (FORGET). req and reply are 8-byte aligned, as the kernel's structures
 * are. Returns -EINVAL when no reply can be made at all: a request
 * shorter than its header, or reply_cap shorter than the reply's header.
 */
int fs_share_serve(struct fs_share *s, const void *req, size_t req_len, void *reply, size_t reply_cap,
		   size_t *reply_len);
/*
 * Lets go of every node id and handle the guest held, as its DESTROY does
 * (a driver reset): the next request must be INIT.
 */
void fs_share_reset(struct fs_share *s);
/* Whether a request of this opcode gets no reply at all (FORGET, BATCH_FORGET), so needs no room for one. */
bool fs_share_no_reply(uint32_t opcode);
void fs_share_close(struct fs_share *s);

#endif
