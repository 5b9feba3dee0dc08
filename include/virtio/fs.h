/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-fs (src/virtio/fs.c): one device per --share, each serving a host
 * directory with the FUSE server of include/fs/share.h (docs/sharing.md).
 */
#ifndef KVMINI_VIRTIO_FS_H
#define KVMINI_VIRTIO_FS_H

#include <stdbool.h>

#include "errmsg.h"
#include "vm_config.h"

/* Shares one VM may have (--share). */
#define FS_MAX_SHARES 8
/* The tag the guest mounts (virtio_fs_config.tag): 1 to 36 bytes. */
#define FS_TAG_MAX 36

/* --share path=DIR,tag=NAME[,readonly=on] */
struct share_config {
	char path[4096];
	char tag[FS_TAG_MAX + 1];
	bool readonly;
};

/* virtio-fs's configuration: its part of struct vm_config. */
struct fs_config {
	unsigned nr_shares;
	struct share_config shares[FS_MAX_SHARES];
};

struct fs_config *fs_config_of(struct vm_config *cfg);
const struct fs_config *fs_config_of_const(const struct vm_config *cfg);

/*
 * Adds a share of the host directory path (opened, following a symbolic
 * link the caller named, when the device is made) under tag: what --share
 * does with its value. -EINVAL with a one-line reason in e for an empty or
 * too long path, a tag that is empty, longer than FS_TAG_MAX bytes or
 * already taken, or more than FS_MAX_SHARES shares.
 */
int fs_config_add_share(struct fs_config *cfg, const char *path, const char *tag, bool readonly, struct errmsg *e);

#endif
