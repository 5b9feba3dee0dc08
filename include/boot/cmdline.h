/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KVMINI_BOOT_CMDLINE_H
#define KVMINI_BOOT_CMDLINE_H

#include <stddef.h>

/* What kvmini asks of every guest kernel unless --cmdline overrides it (see docs/architecture.md). */
#define CMDLINE_DEFAULTS "console=ttyS0 reboot=k panic=-1"

/*
 * Joins the defaults and the user's command line into out. A default is left
 * out when the user's line sets the same parameter name (the part before '='),
 * so "--cmdline panic=0" overrides panic=-1 rather than appending a second value.
 * Returns the length, -ENOSPC if out (or max_len, the kernel's limit) is too small,
 * or -EINVAL for an unterminated quote.
 */
int cmdline_build(const char *defaults, const char *user, char *out, size_t out_size, size_t max_len);

#endif
