/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Raw mode for the exec channel's terminal (hvc0): every byte passes as it
 * is, both ways, with no echo, no line editing, no signals and no newline
 * translation. Pure code: it also compiles as ordinary C for its unit test.
 */
#ifndef KVMINI_INIT_RAW_TTY_H
#define KVMINI_INIT_RAW_TTY_H

#include <asm/termbits.h>

void raw_tty_flags(struct termios *t);

#endif
