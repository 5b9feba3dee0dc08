/* SPDX-License-Identifier: Apache-2.0 */
/* kvmini's process exit codes (docs/architecture.md). */
#ifndef KVMINI_EXIT_CODES_H
#define KVMINI_EXIT_CODES_H

#define EXIT_GUEST_OK 0      /* the guest powered off or rebooted */
#define EXIT_RUNTIME_ERROR 1 /* bad kernel, no KVM, triple fault, KVM internal error, ... */
#define EXIT_USAGE 2         /* the command line was wrong */
#define EXIT_GUEST_PANIC 4   /* the guest kernel panicked */
/*
 * kvmini exec (docs/sharing.md) exits with the command's own status (128 + N
 * when signal N killed it), or one of these, each said in one line on stderr.
 * The guest's init reports 126 (not executable) and 127 (not found) itself.
 */
#define EXIT_EXEC_BOOT_FAILED 122 /* the command never started: the init failed, or the guest ended first */
#define EXIT_EXEC_PANIC 123       /* the guest kernel panicked */
#define EXIT_EXEC_TIMEOUT 124     /* --timeout expired */
#define EXIT_EXEC_ERROR 125       /* kvmini's own: usage, kernel file, no KVM, modules not found */
/* kvmini started as Firecracker (src/cmd/firecracker.c): Firecracker's codes for a bad command line. */
#define EXIT_FC_BAD_CONFIGURATION 152 /* --level names no level */
#define EXIT_FC_ARG_PARSING 153       /* any other bad option */
/* Stopped by a signal: 128 + its number, as shells report it. */
#define EXIT_SIGNAL_BASE 128

#endif
