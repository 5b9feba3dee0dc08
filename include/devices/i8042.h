/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The PC keyboard controller (8042) at ports 0x60/0x64 with a PS/2 keyboard
 * on its first port, raising ISA IRQ 1. It does what Linux's i8042 and atkbd
 * drivers probe (controller self test, CTR, keyboard reset and ID, LEDs),
 * pulses the reset line (reboot=k), and lets kvmini press Ctrl-Alt-Del. The
 * keyboard speaks scancode set 2; the controller translates it to set 1 when
 * the guest sets XLATE in the command byte, as a PC does. There is no AUX
 * (mouse) port. Declared in the DSDT as PNP0303, which is how Linux finds it
 * under hardware-reduced ACPI.
 *
 * The state machine below is pure, for the unit tests: every call returns
 * I8042_ACT_* bits the device then carries out.
 */
#ifndef KVMINI_DEVICES_I8042_H
#define KVMINI_DEVICES_I8042_H

#include <stdbool.h>
#include <stdint.h>

struct errmsg;
struct state_reader;
struct state_writer;

#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT 0x64
#define I8042_IRQ 1

/* Status register (read at 0x64). */
#define I8042_STATUS_OBF 0x01     /* a byte waits at 0x60 */
#define I8042_STATUS_SYSFLAG 0x04 /* passed its self test */
#define I8042_STATUS_CMD 0x08     /* the last write went to 0x64 */
#define I8042_STATUS_UNLOCKED 0x10

/* Controller command byte (CTR). */
#define I8042_CTR_KBDINT 0x01
#define I8042_CTR_SYSFLAG 0x04
#define I8042_CTR_KBDDIS 0x10
#define I8042_CTR_AUXDIS 0x20
#define I8042_CTR_XLATE 0x40

/* What the caller must do after a call. */
#define I8042_ACT_IRQ 0x1   /* pulse IRQ 1: a byte is now in the output buffer */
#define I8042_ACT_RESET 0x2 /* the guest pulsed the CPU reset line */

#define I8042_KBD_QUEUE 32 /* bytes the keyboard holds while the guest has not read them */
#define I8042_CTL_QUEUE 4  /* controller replies waiting for the output buffer */

struct i8042_state {
	uint8_t ctr;
	uint8_t output_port; /* bit 0: reset line (active low) */
	uint8_t pending_cmd; /* a controller command waiting for its data byte, or 0 */
	bool last_write_cmd;
	/* The one-byte output buffer the guest reads at 0x60. */
	uint8_t out;
	bool out_full;
	/* Controller replies go out before keyboard bytes. */
	uint8_t ctl_q[I8042_CTL_QUEUE];
	unsigned ctl_len;
	/* The keyboard: bytes in its own scancode set, not yet handed to the controller. */
	uint8_t kbd_q[I8042_KBD_QUEUE];
	unsigned kbd_head, kbd_len;
	uint8_t kbd_pending;  /* a keyboard command waiting for its parameter, or 0 */
	uint8_t kbd_set;      /* 1 or 2 */
	uint8_t kbd_leds;
	uint8_t kbd_last;     /* for the resend command */
	bool kbd_scanning;    /* keys are reported (0xF4), or not (0xF5) */
	bool xlate_break;     /* translating: a 0xF0 break prefix was seen, the next code gets bit 7 */
};

void i8042_state_init(struct i8042_state *s);
unsigned i8042_write_cmd(struct i8042_state *s, uint8_t cmd);
unsigned i8042_write_data(struct i8042_state *s, uint8_t byte);
uint8_t i8042_read_status(const struct i8042_state *s);
uint8_t i8042_read_data(struct i8042_state *s, unsigned *actions);
/*
 * The keyboard reports Ctrl, Alt and Delete pressed, then released. -EBUSY
 * when its buffer has no room for the whole sequence (the guest is not
 * reading), -EAGAIN when the guest turned scanning off.
 */
int i8042_queue_ctrl_alt_del(struct i8042_state *s, unsigned *actions);
/* The device's save/restore hooks' work (include/state.h); a blob that fails leaves *s alone. */
void i8042_state_save(const struct i8042_state *s, struct state_writer *w);
int i8042_state_restore(struct i8042_state *s, struct state_reader *r, struct errmsg *e);

#endif
