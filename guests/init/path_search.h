/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Finding a command the way a shell does: a name with no '/' is tried in
 * each directory of the command's own PATH in turn. Pure code: it also
 * compiles as ordinary C for its unit test.
 */
#ifndef KVMINI_INIT_PATH_SEARCH_H
#define KVMINI_INIT_PATH_SEARCH_H

#include <stddef.h>

/* The PATH a command gets when its environment has none (and the one mode=rootfs gives its init). */
#define PATH_SEARCH_DEFAULT "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* The value of NAME in a NULL-terminated NAME=VALUE list, or NULL. */
const char *env_value(const char *const *env, const char *name);

/*
 * Writes the next file to try for cmd into out: the directory of path (a
 * colon-separated list) at *pos, a '/', cmd; an empty directory is the
 * current one. 1 with *pos moved on, 0 when the list is done, or
 * -ENAMETOOLONG when this one does not fit size (*pos moved on: skip it).
 */
int path_search_next(const char *path, size_t *pos, const char *cmd, char *out, size_t size);

#endif
