/* SPDX-License-Identifier: Apache-2.0 */
/* kvmini's process exit codes (docs/architecture.md). */
#ifndef KVMINI_EXIT_CODES_H
#define KVMINI_EXIT_CODES_H

#define EXIT_GUEST_OK 0      /* the guest powered off or rebooted */
#define EXIT_RUNTIME_ERROR 1 /* bad kernel, no KVM, triple fault, KVM internal error, ... */
#define EXIT_USAGE 2         /* the command line was wrong */
#define EXIT_GUEST_PANIC 4   /* the guest kernel panicked */
/* Stopped by a signal: 128 + its number, as shells report it. */
#define EXIT_SIGNAL_BASE 128

#endif
