/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Opening the files a VM is made of (kernel, initrd, drive images) so that
 * nothing at the path can make kvmini block or read what it should not: the
 * kind of file is checked before anything is read from it, and a path an API
 * client named may not end in a symbolic link.
 */
#ifndef KVMINI_OPEN_FILE_H
#define KVMINI_OPEN_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errmsg.h"

/* The kinds of file a caller takes (a mask). */
#define OPEN_REGULAR 1u
#define OPEN_BLOCK_DEV 2u

/*
 * Opens path with access (O_RDONLY or O_RDWR) and returns the descriptor,
 * close-on-exec and blocking. A FIFO cannot hold up the open, and a file of
 * a kind not in `kinds` is refused with -EINVAL before anything reads it.
 * no_follow: a symbolic link as the last component is refused (-ELOOP);
 * for paths that come from an API client, which may not reach further than
 * the path it gave. Messages start with what and the path: "kernel '/x': ...".
 */
int open_file(const char *what, const char *path, int access, unsigned kinds, bool no_follow, struct errmsg *e);

/*
 * Opens or creates a regular file to write kvmini's output into (a
 * snapshot's files): flags is O_WRONLY or O_RDWR, with O_CREAT and O_TRUNC
 * as wanted; a new file gets mode 0600. As open_file with no_follow: a
 * symbolic link as the last component is refused (-ELOOP), and so is an
 * existing file of another kind (-EINVAL), before it is opened or truncated.
 */
int create_file(const char *what, const char *path, int flags, struct errmsg *e);

/*
 * open_file's checks of path without opening it (kvmini's user need not be
 * able to read it yet): it exists, is of a kind in `kinds`, and with
 * no_follow is not a symbolic link. Messages as open_file's.
 */
int check_file(const char *what, const char *path, unsigned kinds, bool no_follow, struct errmsg *e);

/*
 * A whole regular file of at most max bytes into a buffer from malloc, with
 * a NUL after its last byte (so text can be read as a string), which the
 * caller frees. -EFBIG for a larger file; messages as open_file's.
 */
int read_file(const char *what, const char *path, size_t max, uint8_t **data, size_t *len, struct errmsg *e);

#endif
