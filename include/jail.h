/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --uid, --gid and --chroot: the part of Firecracker's jailer one process
 * can do itself, once every file and device is open (docs/security.md).
 *
 * Linux keeps credentials per thread (glibc's setuid() makes them
 * process-wide by signalling every thread, which the seccomp filters would
 * refuse), so each thread drops its own, where it installs its seccomp
 * filter (include/seccomp.h): the API and vCPU threads first thing, the main
 * thread once the VM runs, the I/O thread when it starts (again). The main
 * thread also changes the root, for all threads, before dropping its own.
 */
#ifndef KVMINI_JAIL_H
#define KVMINI_JAIL_H

#include <stdint.h>

#include "errmsg.h"
#include "seccomp.h"

#define JAIL_KEEP_ID UINT32_MAX /* no --uid/--gid: credentials stay as they are */

/* --uid or --gid (opt) N: a number below JAIL_KEEP_ID; -EINVAL with the message a user sees. */
int jail_parse_id(const char *opt, const char *arg, uint32_t *id, struct errmsg *e);
/* The three together make sense: --uid and --gid both or neither, and --chroot only with them (root can leave a chroot). */
int jail_check(uint32_t uid, uint32_t gid, const char *chroot_dir, struct errmsg *e);

/* Once, before any thread starts; uid and gid both JAIL_KEEP_ID or both set; chroot_dir may be NULL. */
void jail_configure(uint32_t uid, uint32_t gid, const char *chroot_dir);

/*
 * The calling thread drops its credentials (and the main thread changes the
 * root), then installs its kind's seccomp filter; it names the thread for the
 * log file (include/log.h) first. 0 or a negative errno;
 * *what names the step that failed, for the caller's message.
 */
int jail_enter(enum seccomp_kind kind, const char **what);

#endif
