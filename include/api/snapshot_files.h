/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The files of PUT /snapshot/create and /snapshot/load, opened on the API
 * thread from the paths a client gave (so the VM's thread gets descriptors
 * and never a client's path): no symbolic link as the last component,
 * regular files only. Any failure is the client's: -EINVAL (a 400) with a
 * message naming the field and the path.
 */
#ifndef KVMINI_API_SNAPSHOT_FILES_H
#define KVMINI_API_SNAPSHOT_FILES_H

#include "api/router.h"

/*
 * The state file created or truncated (0600 when new); the memory file
 * likewise for Full, and for Diff opened as it is (it must exist: it holds
 * the Full snapshot the Diff goes on top of). Both opened for writing.
 */
int api_snapshot_open_create(const struct api_snapshot_create *p, int *state_fd, int *mem_fd, struct errmsg *e);
/* Both files read-only. */
int api_snapshot_open_load(const struct api_snapshot_load *p, int *state_fd, int *mem_fd, struct errmsg *e);

#endif
