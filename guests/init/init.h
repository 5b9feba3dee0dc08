/* SPDX-License-Identifier: Apache-2.0 */
/* What the built-in init's parts share: its console output, failing, powering off. */
#ifndef KVMINI_INIT_INIT_H
#define KVMINI_INIT_INIT_H

#include "conf.h"
#include "text.h"

/* Writes l and a newline to the console in one write, so kernel messages cannot split it. */
void line_print(struct line *l);
/* Starts l with "WHAT OBJECT: errno N (NAME)", the form of every setup error. */
void line_error(struct line *l, const char *what, const char *object, long err);
/* Syncs and powers the guest off. */
_Noreturn void power_off(void);
/* Prints "kvmini-init: error: <l>" on the console, sends it as EXEC_FAILED once the channel is open, powers off. */
_Noreturn void fail(struct line *l);

/* The exec channel (exec.c): open at most once; -1 before. */
extern int channel_fd;
/* Opens hvc0 in raw mode (waiting for its device to appear): 0, or a negative errno with err saying why. */
int channel_open(struct line *err);
/* Sends l as an EXEC_FAILED frame and waits until it has gone. */
void channel_send_failed(const struct line *l);
/* mode=exec from the root on: runs the command, relays, sends EXEC_EXIT, powers off. */
_Noreturn void exec_command(const struct init_conf *c);

/* setup.c: each 0, or a negative errno with err saying what failed. */
int setup_modules(const struct init_conf *c, struct line *err);
int setup_root(const struct init_conf *c, struct line *err);
/* Sleeps ms milliseconds. */
void sleep_ms(long ms);

#endif
