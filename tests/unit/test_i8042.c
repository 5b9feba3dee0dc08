// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>

#include "device_aml.h"
#include "devices/i8042.h"
#include "errmsg.h"
#include "fake_host.h"
#include "state.h"

/* Writes to 0x64/0x60 and reads from 0x60, summing up the actions the device would carry out. */
static unsigned cmd(struct i8042_state *s, uint8_t c)
{
	return i8042_write_cmd(s, c);
}

static unsigned data(struct i8042_state *s, uint8_t b)
{
	return i8042_write_data(s, b);
}

/* Reads one byte, which must be waiting. */
static uint8_t read_byte(struct i8042_state *s, unsigned *irqs)
{
	unsigned actions;
	uint8_t b;

	assert_true(i8042_read_status(s) & I8042_STATUS_OBF);
	b = i8042_read_data(s, &actions);
	if (irqs && (actions & I8042_ACT_IRQ))
		(*irqs)++;
	return b;
}

static void expect_bytes(struct i8042_state *s, const uint8_t *want, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(read_byte(s, NULL), want[i]);
	assert_false(i8042_read_status(s) & I8042_STATUS_OBF);
}

static void test_controller_tests(void **state)
{
	struct i8042_state s;

	(void)state;
	i8042_state_init(&s);
	assert_int_equal(i8042_read_status(&s) & I8042_STATUS_OBF, 0);
	assert_true(i8042_read_status(&s) & I8042_STATUS_SYSFLAG);
	cmd(&s, 0xaa);
	assert_true(i8042_read_status(&s) & I8042_STATUS_CMD);
	expect_bytes(&s, (const uint8_t[]){ 0x55 }, 1);
	cmd(&s, 0xab);
	expect_bytes(&s, (const uint8_t[]){ 0x00 }, 1);
	/* No AUX port: its test reports a stuck clock line. */
	cmd(&s, 0xa9);
	expect_bytes(&s, (const uint8_t[]){ 0x01 }, 1);
}

static void test_ctr_read_write(void **state)
{
	struct i8042_state s;

	(void)state;
	i8042_state_init(&s);
	cmd(&s, 0x20);
	assert_int_equal(read_byte(&s, NULL),
			 I8042_CTR_KBDINT | I8042_CTR_SYSFLAG | I8042_CTR_XLATE | I8042_CTR_AUXDIS);
	assert_int_equal(cmd(&s, 0x60), 0);
	data(&s, 0x30);
	assert_false(i8042_read_status(&s) & I8042_STATUS_CMD);
	cmd(&s, 0x20);
	expect_bytes(&s, (const uint8_t[]){ 0x30 }, 1);
	/* Keyboard interface enable and disable are CTR bit 4. */
	cmd(&s, 0xae);
	cmd(&s, 0x20);
	expect_bytes(&s, (const uint8_t[]){ 0x20 }, 1);
	cmd(&s, 0xad);
	cmd(&s, 0x20);
	expect_bytes(&s, (const uint8_t[]){ 0x30 }, 1);
}

static void test_reset_line(void **state)
{
	struct i8042_state s;

	(void)state;
	i8042_state_init(&s);
	assert_int_equal(cmd(&s, 0xfe), I8042_ACT_RESET);
	assert_int_equal(cmd(&s, 0xff), 0);
	cmd(&s, 0xd1);
	assert_int_equal(data(&s, 0x03), 0);
	cmd(&s, 0xd1);
	assert_int_equal(data(&s, 0x02), I8042_ACT_RESET);
}

static void test_interrupt_only_when_enabled(void **state)
{
	struct i8042_state s;
	unsigned irqs = 0;

	(void)state;
	i8042_state_init(&s);
	assert_int_equal(cmd(&s, 0xaa), I8042_ACT_IRQ);
	read_byte(&s, NULL);
	cmd(&s, 0x60);
	data(&s, I8042_CTR_XLATE);
	assert_int_equal(cmd(&s, 0xaa), 0);
	/* Enabling the interrupt with a byte waiting raises it. */
	cmd(&s, 0x60);
	assert_int_equal(data(&s, I8042_CTR_XLATE | I8042_CTR_KBDINT), I8042_ACT_IRQ);
	read_byte(&s, &irqs);
	assert_int_equal(irqs, 0);
}

static void test_keyboard_probe_translated(void **state)
{
	struct i8042_state s;
	unsigned irqs = 0;

	(void)state;
	i8042_state_init(&s);
	/* Reset: ACK then self test passed; get ID: ACK, AB, 83 translated to 41 (what atkbd sees on a PC). */
	assert_int_equal(data(&s, 0xff), I8042_ACT_IRQ);
	expect_bytes(&s, (const uint8_t[]){ 0xfa, 0xaa }, 2);
	data(&s, 0xf2);
	assert_int_equal(read_byte(&s, &irqs), 0xfa);
	assert_int_equal(read_byte(&s, &irqs), 0xab);
	assert_int_equal(read_byte(&s, &irqs), 0x41);
	/* One interrupt per byte: the first with the write, one after each read that leaves another. */
	assert_int_equal(irqs, 2);
	/* LEDs and typematic: ACK the command and its parameter. */
	data(&s, 0xed);
	data(&s, 0x07);
	data(&s, 0xf3);
	data(&s, 0x00);
	expect_bytes(&s, (const uint8_t[]){ 0xfa, 0xfa, 0xfa, 0xfa }, 4);
	data(&s, 0xf5);
	data(&s, 0xf4);
	data(&s, 0xee);
	expect_bytes(&s, (const uint8_t[]){ 0xfa, 0xfa, 0xee }, 3);
	data(&s, 0x42);
	expect_bytes(&s, (const uint8_t[]){ 0xfe }, 1);
}

static void test_keyboard_untranslated(void **state)
{
	struct i8042_state s;

	(void)state;
	i8042_state_init(&s);
	cmd(&s, 0x60);
	data(&s, I8042_CTR_KBDINT | I8042_CTR_SYSFLAG);
	data(&s, 0xf2);
	expect_bytes(&s, (const uint8_t[]){ 0xfa, 0xab, 0x83 }, 3);
	data(&s, 0xf0);
	data(&s, 0x00);
	expect_bytes(&s, (const uint8_t[]){ 0xfa, 0xfa, 0x02 }, 3);
	data(&s, 0xf0);
	data(&s, 0x03);
	expect_bytes(&s, (const uint8_t[]){ 0xfa, 0xfe }, 2);
}

static const uint8_t cad_set1[] = { 0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d };
static const uint8_t cad_set2[] = { 0x14, 0x11, 0xe0, 0x71, 0xe0, 0xf0, 0x71, 0xf0, 0x11, 0xf0, 0x14 };

static void test_ctrl_alt_del_translated(void **state)
{
	struct i8042_state s;
	unsigned actions, irqs = 0;

	(void)state;
	i8042_state_init(&s);
	assert_int_equal(i8042_queue_ctrl_alt_del(&s, &actions), 0);
	assert_int_equal(actions, I8042_ACT_IRQ);
	for (unsigned i = 0; i < sizeof(cad_set1); i++)
		assert_int_equal(read_byte(&s, &irqs), cad_set1[i]);
	assert_false(i8042_read_status(&s) & I8042_STATUS_OBF);
	assert_int_equal(irqs, sizeof(cad_set1) - 1);
}

static void test_ctrl_alt_del_untranslated_and_set1(void **state)
{
	struct i8042_state s;
	unsigned actions;

	(void)state;
	i8042_state_init(&s);
	cmd(&s, 0x60);
	data(&s, I8042_CTR_KBDINT);
	assert_int_equal(i8042_queue_ctrl_alt_del(&s, &actions), 0);
	expect_bytes(&s, cad_set2, sizeof(cad_set2));
	/* A keyboard told to use set 1 sends set 1 itself. */
	data(&s, 0xf0);
	data(&s, 0x01);
	expect_bytes(&s, (const uint8_t[]){ 0xfa, 0xfa }, 2);
	assert_int_equal(i8042_queue_ctrl_alt_del(&s, &actions), 0);
	expect_bytes(&s, cad_set1, sizeof(cad_set1));
}

static void test_keyboard_disabled_holds_bytes(void **state)
{
	struct i8042_state s;
	unsigned actions;

	(void)state;
	i8042_state_init(&s);
	cmd(&s, 0xad);
	assert_int_equal(i8042_queue_ctrl_alt_del(&s, &actions), 0);
	assert_int_equal(actions, 0);
	assert_false(i8042_read_status(&s) & I8042_STATUS_OBF);
	/* Controller replies still come through, ahead of the keyboard. */
	cmd(&s, 0xaa);
	expect_bytes(&s, (const uint8_t[]){ 0x55 }, 1);
	assert_int_equal(cmd(&s, 0xae), I8042_ACT_IRQ);
	expect_bytes(&s, cad_set1, sizeof(cad_set1));
}

static void test_scanning_off_and_full_buffer(void **state)
{
	struct i8042_state s;
	unsigned actions, pressed = 0;

	(void)state;
	i8042_state_init(&s);
	data(&s, 0xf5);
	read_byte(&s, NULL);
	assert_int_equal(i8042_queue_ctrl_alt_del(&s, &actions), -EAGAIN);
	assert_false(i8042_read_status(&s) & I8042_STATUS_OBF);
	data(&s, 0xf4);
	read_byte(&s, NULL);
	/* A guest that never reads: whole sequences fit until the buffer is full (one byte is in the output buffer). */
	while (i8042_queue_ctrl_alt_del(&s, &actions) == 0)
		pressed++;
	assert_int_equal(pressed, 3);
	assert_int_equal(i8042_queue_ctrl_alt_del(&s, &actions), -EBUSY);
	for (unsigned n = 0; n < pressed; n++)
		for (unsigned i = 0; i < sizeof(cad_set1); i++)
			assert_int_equal(read_byte(&s, NULL), cad_set1[i]);
	assert_false(i8042_read_status(&s) & I8042_STATUS_OBF);
	/* Reading with nothing new returns the last byte again. */
	assert_int_equal(i8042_read_data(&s, &actions), cad_set1[sizeof(cad_set1) - 1]);
	assert_int_equal(actions, 0);
}

static void test_keyboard_reset_clears(void **state)
{
	struct i8042_state s;
	unsigned actions;

	(void)state;
	i8042_state_init(&s);
	data(&s, 0xf0);
	data(&s, 0x01);
	expect_bytes(&s, (const uint8_t[]){ 0xfa, 0xfa }, 2);
	cmd(&s, 0xad);
	assert_int_equal(i8042_queue_ctrl_alt_del(&s, &actions), 0);
	/* Writing to the keyboard enables its interface; the reset drops what it held and goes back to set 2. */
	data(&s, 0xff);
	expect_bytes(&s, (const uint8_t[]){ 0xfa, 0xaa }, 2);
	data(&s, 0xf0);
	data(&s, 0x00);
	expect_bytes(&s, (const uint8_t[]){ 0xfa, 0xfa, 0x41 }, 3); /* set 2, translated */
}

#define T(f) cmocka_unit_test(f)

/* Saved mid-conversation: a byte waiting, keyboard bytes queued, a keyboard and a controller command open. */
static void busy_state(struct i8042_state *s)
{
	i8042_state_init(s);
	data(s, 0xf2); /* ID: ACK in the output buffer, the two ID bytes queued */
	data(s, 0xed); /* LEDs: ACK queued, the keyboard waits for the parameter */
	cmd(s, 0xaa);  /* a controller reply, which goes out before the keyboard's */
	cmd(s, 0x60);  /* the controller waits for a CTR byte */
}

static void save(const struct i8042_state *s, struct state_writer *w)
{
	state_writer_init(w);
	i8042_state_save(s, w);
	assert_int_equal(w->err, 0);
}

static void test_save_restore_round_trip(void **state)
{
	struct i8042_state a, b;
	struct state_writer w, again;
	struct state_reader r;
	struct errmsg e = { "" };

	(void)state;
	busy_state(&a);
	save(&a, &w);
	i8042_state_init(&b);
	state_reader_init(&r, w.buf, w.len, "i8042");
	assert_int_equal(i8042_state_restore(&b, &r, &e), 0);
	save(&b, &again);
	assert_int_equal(again.len, w.len);
	assert_memory_equal(again.buf, w.buf, w.len);

	/* Both carry on alike: the CTR write completes, the LED parameter is taken, the bytes come out in order. */
	assert_int_equal(i8042_read_status(&b), i8042_read_status(&a));
	assert_int_equal(data(&a, 0x61), data(&b, 0x61));
	assert_int_equal(data(&a, 0x07), data(&b, 0x07));
	assert_int_equal(b.kbd_leds, 0x07);
	for (unsigned n = 0; i8042_read_status(&a) & I8042_STATUS_OBF; n++) {
		unsigned irqs_a = 0, irqs_b = 0;

		assert_true(n < 8);
		assert_int_equal(read_byte(&b, &irqs_b), read_byte(&a, &irqs_a));
		assert_int_equal(irqs_b, irqs_a);
	}
	assert_false(i8042_read_status(&b) & I8042_STATUS_OBF);
	state_writer_free(&w);
	state_writer_free(&again);
}

/* Byte offsets in the saved state of busy_state (ctl_len 1, kbd_len 3). */
#define AT_OUTPUT_PORT 1
#define AT_PENDING_CMD 2
#define AT_CTL_LEN 6
#define AT_KBD_LEN 8
#define AT_KBD_PENDING 12
#define AT_KBD_SET 13

static void expect_rejected(size_t at, uint8_t value, const char *want)
{
	struct i8042_state a, b, fresh;
	struct state_writer w;
	struct state_reader r;
	struct errmsg e = { "" };

	busy_state(&a);
	save(&a, &w);
	w.buf[at] = value;
	i8042_state_init(&b);
	fresh = b;
	state_reader_init(&r, w.buf, w.len, "i8042");
	assert_int_equal(i8042_state_restore(&b, &r, &e), -EINVAL);
	assert_string_equal(e.text, want);
	assert_memory_equal(&b, &fresh, sizeof(b));
	state_writer_free(&w);
}

static void test_restore_rejects_corrupt_state(void **state)
{
	struct i8042_state a, b;
	struct state_writer w;

	(void)state;
	expect_rejected(AT_OUTPUT_PORT, 0x02, "i8042 state: output_port: 0x2 holds the CPU in reset");
	expect_rejected(AT_PENDING_CMD, 0xaa, "i8042 state: pending_cmd: 0xaa takes no data byte");
	expect_rejected(AT_CTL_LEN, 5, "i8042 state: ctl_q: 5 bytes, the queue holds 4");
	expect_rejected(AT_KBD_LEN, 33, "i8042 state: kbd_q: 33 bytes, the queue holds 32");
	expect_rejected(AT_KBD_PENDING, 0xf2, "i8042 state: kbd_pending: 0xf2 takes no parameter");
	expect_rejected(AT_KBD_SET, 3, "i8042 state: kbd_set: scancode set 3, the keyboard has 1 and 2");

	busy_state(&a);
	save(&a, &w);
	for (size_t len = 0; len < w.len; len++) {
		struct state_reader r;
		struct errmsg e = { "" };

		i8042_state_init(&b);
		state_reader_init(&r, w.buf, len, "i8042");
		assert_int_equal(i8042_state_restore(&b, &r, &e), -EINVAL);
		assert_non_null(strstr(e.text, "truncated"));
	}
	state_writer_free(&w);
}

/*
 * Device (PS2K) { Name (_HID, EisaId ("PNP0303")) Name (_CRS, ResourceTemplate () {
 * IO (Decode16, 0x60, 0x60, 1, 1) IO (Decode16, 0x64, 0x64, 1, 1) IRQNoFlags () {1} }) },
 * assembled by hand the way iasl lays out COM1 in aml_refs.h.
 */
static const uint8_t ps2k_ref[] = {
	0x5B, 0x82, 0x2D, 'P', 'S', '2', 'K',
	0x08, '_', 'H', 'I', 'D', 0x0C, 0x41, 0xD0, 0x03, 0x03,
	0x08, '_', 'C', 'R', 'S', 0x11, 0x18, 0x0A, 0x15,
	0x47, 0x01, 0x60, 0x00, 0x60, 0x00, 0x01, 0x01,
	0x47, 0x01, 0x64, 0x00, 0x64, 0x00, 0x01, 0x01,
	0x22, 0x02, 0x00,
	0x79, 0x00,
};

/* The device as the DSDT declares it, through its record on a fake VM. */
static void test_describe_acpi(void **state)
{
	static uint8_t ram[4096];
	static struct fake_host f;
	(void)state;

	assert_int_equal(fake_host_init(&f, ram, sizeof(ram)), 0);
	assert_int_equal(fake_host_add(&f, "i8042"), 0);
	expect_device_aml(&f.devices.devices[f.devices.nr - 1], ps2k_ref, sizeof(ps2k_ref));
	fake_host_exit(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_controller_tests),
		T(test_ctr_read_write),
		T(test_reset_line),
		T(test_interrupt_only_when_enabled),
		T(test_keyboard_probe_translated),
		T(test_keyboard_untranslated),
		T(test_ctrl_alt_del_translated),
		T(test_ctrl_alt_del_untranslated_and_set1),
		T(test_keyboard_disabled_holds_bytes),
		T(test_scanning_off_and_full_buffer),
		T(test_keyboard_reset_clears),
		T(test_save_restore_round_trip),
		T(test_restore_rejects_corrupt_state),
		T(test_describe_acpi),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
