// SPDX-License-Identifier: Apache-2.0
/* The 8042 keyboard controller and its PS/2 keyboard: see include/devices/i8042.h. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "boot/aml.h"
#include "device.h"
#include "devices/i8042.h"
#include "io_bus.h"
#include "state.h"

/* Controller commands (written to 0x64). */
#define CMD_READ_RAM_FIRST 0x20 /* 0x20 reads the CTR, 0x21-0x3f the rest of the controller's RAM */
#define CMD_READ_RAM_LAST 0x3f
#define CMD_WRITE_RAM_FIRST 0x60 /* 0x60 writes the CTR */
#define CMD_WRITE_RAM_LAST 0x7f
#define CMD_AUX_DISABLE 0xa7
#define CMD_AUX_ENABLE 0xa8
#define CMD_AUX_TEST 0xa9
#define CMD_SELF_TEST 0xaa
#define CMD_KBD_TEST 0xab
#define CMD_KBD_DISABLE 0xad
#define CMD_KBD_ENABLE 0xae
#define CMD_READ_OUTPUT 0xd0
#define CMD_WRITE_OUTPUT 0xd1
#define CMD_WRITE_KBD_OUT 0xd2 /* the next data byte comes back as if the keyboard sent it */
#define CMD_WRITE_AUX_OUT 0xd3
#define CMD_WRITE_AUX 0xd4
#define CMD_PULSE_FIRST 0xf0 /* 0xf0-0xff pulse output lines; bit 0 clear pulses reset */

#define SELF_TEST_OK 0x55
#define KBD_TEST_OK 0x00
#define AUX_TEST_CLOCK_STUCK 0x01 /* there is no AUX port: Linux then leaves it alone */
#define OUTPUT_RESET_LINE 0x01
#define OUTPUT_A20 0x02

/* Keyboard commands (written to 0x60 with no controller command pending) and its answers. */
#define KBD_SET_LEDS 0xed
#define KBD_ECHO 0xee
#define KBD_SCANCODE_SET 0xf0
#define KBD_GET_ID 0xf2
#define KBD_SET_TYPEMATIC 0xf3
#define KBD_ENABLE 0xf4
#define KBD_DISABLE 0xf5
#define KBD_RESEND 0xfe
#define KBD_RESET 0xff
#define KBD_ACK 0xfa
#define KBD_NAK 0xfe
#define KBD_BAT_OK 0xaa
#define KBD_ID_1 0xab /* an MF2 keyboard */
#define KBD_ID_2 0x83

/* Scancode set 2 prefixes. */
#define SET2_EXTENDED 0xe0
#define SET2_BREAK 0xf0

/*
 * The 8042's set 2 -> set 1 translation for codes below 0x80 (a fact of the
 * hardware, the same in every PC). Codes from 0x80 up pass unchanged, except
 * 0x83 (F7) and 0x84 (SysRq); a 0xF0 break prefix sets bit 7 of the next code.
 */
static const uint8_t set2_to_set1[0x80] = {
	0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58, 0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59,
	0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a, 0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b,
	0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c, 0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d,
	0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e, 0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f,
	0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60, 0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61,
	0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e, 0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76,
	0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b, 0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f,
	0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45, 0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54,
};

/* The keys kvmini presses, in set 2; set 1 is their translation. */
#define KEY_LEFT_CTRL 0x14
#define KEY_LEFT_ALT 0x11
#define KEY_DELETE 0x71 /* after SET2_EXTENDED */

static const uint8_t ctrl_alt_del_set2[] = {
	KEY_LEFT_CTRL, KEY_LEFT_ALT, SET2_EXTENDED, KEY_DELETE,
	SET2_EXTENDED, SET2_BREAK, KEY_DELETE, SET2_BREAK, KEY_LEFT_ALT, SET2_BREAK, KEY_LEFT_CTRL,
};

/* One byte through the translation; false when it only prefixes the next one (0xF0). */
static bool translate(bool *break_seen, uint8_t in, uint8_t *out)
{
	if (in == SET2_BREAK) {
		*break_seen = true;
		return false;
	}
	if (in < 0x80)
		*out = set2_to_set1[in];
	else if (in == 0x83)
		*out = 0x41;
	else if (in == 0x84)
		*out = 0x54;
	else
		*out = in;
	if (*break_seen && in != SET2_EXTENDED) {
		*out |= 0x80;
		*break_seen = false;
	}
	return true;
}

void i8042_state_init(struct i8042_state *s)
{
	*s = (struct i8042_state){
		/* What a PC BIOS leaves: keyboard interrupt on, translation on, POST passed, no AUX. */
		.ctr = I8042_CTR_KBDINT | I8042_CTR_SYSFLAG | I8042_CTR_XLATE | I8042_CTR_AUXDIS,
		.output_port = OUTPUT_RESET_LINE | OUTPUT_A20,
		.kbd_set = 2,
		.kbd_scanning = true,
	};
}

static unsigned kbd_free(const struct i8042_state *s)
{
	return I8042_KBD_QUEUE - s->kbd_len;
}

static void kbd_put(struct i8042_state *s, uint8_t byte)
{
	if (!kbd_free(s))
		return; /* a real keyboard's buffer overruns too; the guest was not reading */
	s->kbd_q[(s->kbd_head + s->kbd_len++) % I8042_KBD_QUEUE] = byte;
	s->kbd_last = byte;
}

/* Fills the output buffer when it is empty: controller replies first, then the keyboard's bytes. */
static unsigned refill(struct i8042_state *s)
{
	while (!s->out_full) {
		uint8_t byte;

		if (s->ctl_len) {
			s->out = s->ctl_q[0];
			for (unsigned i = 1; i < s->ctl_len; i++)
				s->ctl_q[i - 1] = s->ctl_q[i];
			s->ctl_len--;
		} else if (s->kbd_len && !(s->ctr & I8042_CTR_KBDDIS)) {
			byte = s->kbd_q[s->kbd_head];
			s->kbd_head = (s->kbd_head + 1) % I8042_KBD_QUEUE;
			s->kbd_len--;
			if (!(s->ctr & I8042_CTR_XLATE))
				s->out = byte;
			else if (!translate(&s->xlate_break, byte, &s->out))
				continue;
		} else {
			return 0;
		}
		s->out_full = true;
		return (s->ctr & I8042_CTR_KBDINT) ? I8042_ACT_IRQ : 0;
	}
	return 0;
}

static unsigned ctl_reply(struct i8042_state *s, uint8_t byte)
{
	if (s->ctl_len < I8042_CTL_QUEUE)
		s->ctl_q[s->ctl_len++] = byte;
	return refill(s);
}

static unsigned set_ctr(struct i8042_state *s, uint8_t ctr)
{
	bool irq_enabled = !(s->ctr & I8042_CTR_KBDINT) && (ctr & I8042_CTR_KBDINT);

	s->ctr = ctr;
	/* The interrupt follows "output full and enabled": enabling it with a byte waiting raises it. */
	if (irq_enabled && s->out_full)
		return I8042_ACT_IRQ;
	return refill(s);
}

/* A byte for the keyboard itself. */
static void kbd_command(struct i8042_state *s, uint8_t byte)
{
	uint8_t cmd = s->kbd_pending;

	s->kbd_pending = 0;
	if (cmd == KBD_SET_LEDS) {
		s->kbd_leds = byte;
		kbd_put(s, KBD_ACK);
		return;
	}
	if (cmd == KBD_SET_TYPEMATIC) {
		kbd_put(s, KBD_ACK);
		return;
	}
	if (cmd == KBD_SCANCODE_SET) {
		if (byte == 0) {
			kbd_put(s, KBD_ACK);
			kbd_put(s, s->kbd_set);
		} else if (byte == 1 || byte == 2) {
			s->kbd_set = byte;
			kbd_put(s, KBD_ACK);
		} else {
			kbd_put(s, KBD_NAK); /* set 3 is not offered */
		}
		return;
	}
	switch (byte) {
	case KBD_SET_LEDS:
	case KBD_SET_TYPEMATIC:
	case KBD_SCANCODE_SET:
		s->kbd_pending = byte;
		kbd_put(s, KBD_ACK);
		break;
	case KBD_ECHO:
		kbd_put(s, KBD_ECHO);
		break;
	case KBD_GET_ID:
		kbd_put(s, KBD_ACK);
		kbd_put(s, KBD_ID_1);
		kbd_put(s, KBD_ID_2);
		break;
	case KBD_ENABLE:
		s->kbd_scanning = true;
		kbd_put(s, KBD_ACK);
		break;
	case KBD_DISABLE:
		s->kbd_scanning = false;
		kbd_put(s, KBD_ACK);
		break;
	case KBD_RESEND:
		kbd_put(s, s->kbd_last);
		break;
	case KBD_RESET:
		/* Its buffer is cleared, its settings back to defaults, and it reports a passed self test. */
		s->kbd_len = 0;
		s->kbd_set = 2;
		s->kbd_leds = 0;
		s->kbd_scanning = true;
		kbd_put(s, KBD_ACK);
		kbd_put(s, KBD_BAT_OK);
		break;
	default:
		/* 0xF6-0xFD (defaults, set-3 key types) need no state here; anything else is not a command. */
		kbd_put(s, byte >= 0xf6 && byte <= 0xfd ? KBD_ACK : KBD_NAK);
		break;
	}
}

unsigned i8042_write_cmd(struct i8042_state *s, uint8_t cmd)
{
	s->last_write_cmd = true;
	s->pending_cmd = 0;
	if (cmd == CMD_READ_RAM_FIRST)
		return ctl_reply(s, s->ctr);
	if (cmd > CMD_READ_RAM_FIRST && cmd <= CMD_READ_RAM_LAST)
		return ctl_reply(s, 0);
	if ((cmd >= CMD_WRITE_RAM_FIRST && cmd <= CMD_WRITE_RAM_LAST) ||
	    (cmd >= CMD_WRITE_OUTPUT && cmd <= CMD_WRITE_AUX)) {
		s->pending_cmd = cmd;
		return 0;
	}
	switch (cmd) {
	case CMD_AUX_DISABLE:
		return set_ctr(s, s->ctr | I8042_CTR_AUXDIS);
	case CMD_AUX_ENABLE:
		return set_ctr(s, s->ctr & ~I8042_CTR_AUXDIS);
	case CMD_AUX_TEST:
		return ctl_reply(s, AUX_TEST_CLOCK_STUCK);
	case CMD_SELF_TEST:
		return ctl_reply(s, SELF_TEST_OK);
	case CMD_KBD_TEST:
		return ctl_reply(s, KBD_TEST_OK);
	case CMD_KBD_DISABLE:
		return set_ctr(s, s->ctr | I8042_CTR_KBDDIS);
	case CMD_KBD_ENABLE:
		return set_ctr(s, s->ctr & ~I8042_CTR_KBDDIS);
	case CMD_READ_OUTPUT:
		return ctl_reply(s, s->output_port);
	default:
		if (cmd >= CMD_PULSE_FIRST && !(cmd & OUTPUT_RESET_LINE))
			return I8042_ACT_RESET;
		return 0; /* not a command this controller has */
	}
}

unsigned i8042_write_data(struct i8042_state *s, uint8_t byte)
{
	uint8_t cmd = s->pending_cmd;

	s->last_write_cmd = false;
	s->pending_cmd = 0;
	if (cmd == CMD_WRITE_RAM_FIRST)
		return set_ctr(s, byte);
	if (cmd == CMD_WRITE_OUTPUT) {
		s->output_port = byte | OUTPUT_RESET_LINE;
		return (byte & OUTPUT_RESET_LINE) ? 0 : I8042_ACT_RESET;
	}
	if (cmd == CMD_WRITE_KBD_OUT)
		return ctl_reply(s, byte);
	if (cmd)
		return 0; /* controller RAM, or for the AUX port it does not have (CMD_WRITE_AUX_OUT, CMD_WRITE_AUX) */
	/* Sending to the keyboard re-enables its interface, as on a PC. */
	s->ctr &= ~I8042_CTR_KBDDIS;
	kbd_command(s, byte);
	return refill(s);
}

uint8_t i8042_read_status(const struct i8042_state *s)
{
	return I8042_STATUS_SYSFLAG | I8042_STATUS_UNLOCKED | (s->last_write_cmd ? I8042_STATUS_CMD : 0) |
	       (s->out_full ? I8042_STATUS_OBF : 0);
}

uint8_t i8042_read_data(struct i8042_state *s, unsigned *actions)
{
	uint8_t byte = s->out; /* with nothing new, the last byte again, as the hardware does */

	s->out_full = false;
	*actions = refill(s);
	return byte;
}

int i8042_queue_ctrl_alt_del(struct i8042_state *s, unsigned *actions)
{
	bool break_seen = false;

	*actions = 0;
	if (!s->kbd_scanning)
		return -EAGAIN;
	if (kbd_free(s) < sizeof(ctrl_alt_del_set2))
		return -EBUSY;
	for (unsigned i = 0; i < sizeof(ctrl_alt_del_set2); i++) {
		uint8_t byte = ctrl_alt_del_set2[i];

		/* A keyboard switched to set 1 sends the translated codes itself. */
		if (s->kbd_set == 1 && !translate(&break_seen, byte, &byte))
			continue;
		kbd_put(s, byte);
	}
	*actions = refill(s);
	return 0;
}

/* Queues go out in order from their head, so the same state always saves to the same bytes. */
void i8042_state_save(const struct i8042_state *s, struct state_writer *w)
{
	state_put_u8(w, s->ctr);
	state_put_u8(w, s->output_port);
	state_put_u8(w, s->pending_cmd);
	state_put_bool(w, s->last_write_cmd);
	state_put_u8(w, s->out);
	state_put_bool(w, s->out_full);
	state_put_u8(w, (uint8_t)s->ctl_len);
	state_put_bytes(w, s->ctl_q, s->ctl_len);
	state_put_u8(w, (uint8_t)s->kbd_len);
	for (unsigned i = 0; i < s->kbd_len; i++)
		state_put_u8(w, s->kbd_q[(s->kbd_head + i) % I8042_KBD_QUEUE]);
	state_put_u8(w, s->kbd_pending);
	state_put_u8(w, s->kbd_set);
	state_put_u8(w, s->kbd_leds);
	state_put_u8(w, s->kbd_last);
	state_put_bool(w, s->kbd_scanning);
	state_put_bool(w, s->xlate_break);
}

static bool controller_takes_data(uint8_t cmd)
{
	return (cmd >= CMD_WRITE_RAM_FIRST && cmd <= CMD_WRITE_RAM_LAST) ||
	       (cmd >= CMD_WRITE_OUTPUT && cmd <= CMD_WRITE_AUX);
}

int i8042_state_restore(struct i8042_state *s, struct state_reader *r, struct errmsg *e)
{
	struct i8042_state n = { 0 };

	n.ctr = state_get_u8(r, "ctr");
	n.output_port = state_get_u8(r, "output_port");
	n.pending_cmd = state_get_u8(r, "pending_cmd");
	n.last_write_cmd = state_get_bool(r, "last_write_cmd");
	n.out = state_get_u8(r, "out");
	n.out_full = state_get_bool(r, "out_full");
	n.ctl_len = state_get_counted(r, "ctl_q", "ctl_q", n.ctl_q, I8042_CTL_QUEUE, "the queue");
	n.kbd_len = state_get_counted(r, "kbd_q", "kbd_q", n.kbd_q, I8042_KBD_QUEUE, "the queue");
	n.kbd_pending = state_get_u8(r, "kbd_pending");
	n.kbd_set = state_get_u8(r, "kbd_set");
	n.kbd_leds = state_get_u8(r, "kbd_leds");
	n.kbd_last = state_get_u8(r, "kbd_last");
	n.kbd_scanning = state_get_bool(r, "kbd_scanning");
	n.xlate_break = state_get_bool(r, "xlate_break");
	if (!(n.output_port & OUTPUT_RESET_LINE))
		state_invalid(r, "output_port", "%#x holds the CPU in reset", n.output_port);
	if (n.pending_cmd && !controller_takes_data(n.pending_cmd))
		state_invalid(r, "pending_cmd", "%#x takes no data byte", n.pending_cmd);
	if (n.kbd_pending && n.kbd_pending != KBD_SET_LEDS && n.kbd_pending != KBD_SET_TYPEMATIC &&
	    n.kbd_pending != KBD_SCANCODE_SET)
		state_invalid(r, "kbd_pending", "%#x takes no parameter", n.kbd_pending);
	if (n.kbd_set != 1 && n.kbd_set != 2)
		state_invalid(r, "kbd_set", "scancode set %u, the keyboard has 1 and 2", n.kbd_set);
	if (state_reader_done(r, e))
		return -EINVAL;
	*s = n;
	return 0;
}

/* --- The device: the state machine behind the two ports, under a lock. --- */

struct i8042 {
	const struct device_host *host;
	pthread_mutex_t lock;
	struct i8042_state s;
};

static void i8042_act(struct i8042 *k, unsigned actions)
{
	if (actions & I8042_ACT_IRQ) {
		/* IRQ 1 is edge-triggered: one pulse per byte. */
		host_irq_line(k->host, I8042_IRQ, true);
		host_irq_line(k->host, I8042_IRQ, false);
	}
	if (actions & I8042_ACT_RESET)
		host_event(k->host, DEVICE_EVENT_REBOOT, "i8042 reset line");
}

static void i8042_access(struct i8042 *k, bool is_cmd_port, uint8_t *data, unsigned size, bool is_write)
{
	unsigned actions = 0;

	pthread_mutex_lock(&k->lock);
	if (is_write && is_cmd_port)
		actions = i8042_write_cmd(&k->s, data[0]);
	else if (is_write)
		actions = i8042_write_data(&k->s, data[0]);
	else if (is_cmd_port)
		data[0] = i8042_read_status(&k->s);
	else
		data[0] = i8042_read_data(&k->s, &actions);
	for (unsigned i = 1; !is_write && i < size; i++)
		data[i] = 0xff;
	i8042_act(k, actions);
	pthread_mutex_unlock(&k->lock);
}

static void i8042_data_io(void *opaque, uint64_t offset, uint8_t *data, unsigned size, bool is_write)
{
	(void)offset;
	i8042_access(opaque, false, data, size, is_write);
}

static void i8042_cmd_io(void *opaque, uint64_t offset, uint8_t *data, unsigned size, bool is_write)
{
	(void)offset;
	i8042_access(opaque, true, data, size, is_write);
}

static int i8042_init(const struct device_host *host, const void *config, void **data, struct errmsg *e)
{
	struct i8042 *k = calloc(1, sizeof(*k));
	int err;

	if (!k)
		return errmsg_set(e, ENOMEM, "i8042: out of memory");
	(void)config;
	k->host = host;
	pthread_mutex_init(&k->lock, NULL);
	i8042_state_init(&k->s);
	err = io_bus_register(host->pio, I8042_DATA_PORT, 1, "i8042", i8042_data_io, k);
	err = err ?: io_bus_register(host->pio, I8042_CMD_PORT, 1, "i8042", i8042_cmd_io, k);
	if (err) {
		free(k);
		return errmsg_set(e, -err, "i8042: ports 0x60/0x64 are taken");
	}
	*data = k;
	return 0;
}

static int i8042_save(void *data, struct state_writer *w)
{
	struct i8042 *k = data;

	pthread_mutex_lock(&k->lock);
	i8042_state_save(&k->s, w);
	pthread_mutex_unlock(&k->lock);
	return 0;
}

/* IRQ 1 is a pulse per byte, so there is no line level to put back: a pending interrupt is the irqchip's state. */
static int i8042_restore(void *data, struct state_reader *r, struct errmsg *e)
{
	struct i8042 *k = data;
	int err;

	pthread_mutex_lock(&k->lock);
	err = i8042_state_restore(&k->s, r, e);
	pthread_mutex_unlock(&k->lock);
	return err;
}

static void i8042_exit(void *data)
{
	struct i8042 *k = data;

	pthread_mutex_destroy(&k->lock);
	free(k);
}

/*
 * PNP0303 with its two ports and IRQ, as Linux's i8042 driver looks for it:
 * under hardware-reduced ACPI (no 8042 flag in the FADT) it probes no
 * controller it is not shown.
 */
static int i8042_describe(void *data, struct aml *aml)
{
	(void)data;
	aml_device(aml, "PS2K");
	aml_name_eisaid(aml, "_HID", "PNP0303");
	aml_resource_template(aml, "_CRS");
	aml_res_io(aml, I8042_DATA_PORT, 1);
	aml_res_io(aml, I8042_CMD_PORT, 1);
	aml_res_irq(aml, I8042_IRQ);
	aml_end(aml);
	return aml_end(aml);
}

/* Presses and releases Ctrl-Alt-Del: the keys wait in the keyboard's buffer while the guest is paused. */
static int i8042_ctrl_alt_del(void *data)
{
	struct i8042 *k = data;
	unsigned actions;
	int err;

	pthread_mutex_lock(&k->lock);
	err = i8042_queue_ctrl_alt_del(&k->s, &actions);
	i8042_act(k, actions);
	pthread_mutex_unlock(&k->lock);
	return err;
}

static const struct device_ops i8042_device = {
	.name = "i8042",
	.level = DEVICE_LEVEL_PLATFORM,
	.init = i8042_init,
	.exit = i8042_exit,
	.describe_acpi = i8042_describe,
	.ctrl_alt_del = i8042_ctrl_alt_del,
	.save = i8042_save,
	.restore = i8042_restore,
	.state_version = 1,
};
DEVICE_REGISTER(i8042_device);
