// SPDX-License-Identifier: Apache-2.0
/* The UART (src/devices/serial.c) on a fake VM: its ACPI description, and its saved state restored into a fresh one. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "aml_refs.h"
#include "device.h"
#include "device_aml.h"
#include "fake_host.h"
#include "state.h"

#define COM1 0x3f8
enum { DATA, IER, IIR, LCR, MCR, LSR, MSR, SCR };
#define LSR_DR 0x01
#define IIR_RDI_FIFO 0xc4
/* The fake VM's console is a pipe: a test that waits on it fails rather than hangs. */
#define TEST_TIMEOUT 20

static struct fake_host f;
static uint8_t ram[4096];
static const struct device_instance *uart;

static void start_vm(void)
{
	memset(&f.cfg, 0, sizeof(f.cfg));
	assert_int_equal(fake_host_init(&f, ram, sizeof(ram)), 0);
	assert_int_equal(fake_host_add(&f, "serial"), 0);
	uart = &f.devices.devices[f.devices.nr - 1];
}

static void outb(unsigned reg, uint8_t v)
{
	assert_true(io_bus_access(&f.pio, COM1 + reg, &v, 1, true));
}

static uint8_t inb(unsigned reg)
{
	uint8_t v = 0;

	assert_true(io_bus_access(&f.pio, COM1 + reg, &v, 1, false));
	return v;
}

static void save(struct state_writer *w)
{
	state_writer_init(w);
	assert_int_equal(uart->ops->save(uart->data, w), 0);
	assert_int_equal(w->err, 0);
}

static int restore(const struct state_writer *w, struct errmsg *e)
{
	struct state_reader r;

	state_reader_init(&r, w->buf, w->len, "serial");
	return uart->ops->restore(uart->data, &r, e);
}

/* COM1 as the DSDT declares it: com1_ref (iasl's output) with _UID 0. */
static void test_describe_acpi(void **state)
{
	uint8_t want[sizeof(com1_ref)];
	(void)state;

	memcpy(want, com1_ref, sizeof(want));
	want[22] = 0x00; /* ZeroOp where com1_ref has OneOp */
	start_vm();
	expect_device_aml(uart, want, sizeof(want));
	fake_host_exit(&f);
}

/* As a driver leaves it: divisor, 8N1, FIFO on, modem lines up, received-data interrupt on, bytes waiting. */
static void program_uart(void)
{
	outb(LCR, 0x83);
	outb(DATA, 0x01); /* 115200 baud */
	outb(IER, 0x00);
	outb(LCR, 0x03);
	outb(IIR, 0x07); /* FIFO on, cleared */
	outb(MCR, 0x0b);
	outb(SCR, 0x5a);
	outb(IER, 0x01);
	fake_host_console_input(&f, (const uint8_t *)"xyz", 3);
	assert_int_equal(inb(DATA), 'x');
}

static void test_round_trip(void **state)
{
	struct state_writer w, again;
	struct errmsg e = { "" };
	(void)state;

	start_vm();
	program_uart();
	save(&w);
	fake_host_exit(&f);

	start_vm();
	assert_int_equal(restore(&w, &e), 0);
	save(&again);
	assert_int_equal(again.len, w.len);
	assert_memory_equal(again.buf, w.buf, w.len);

	/* The guest finds what it left: its interrupt pending for the two bytes still waiting, its settings. */
	assert_int_equal(inb(IIR), IIR_RDI_FIFO);
	assert_int_equal(inb(LCR), 0x03);
	assert_int_equal(inb(MCR), 0x0b);
	assert_int_equal(inb(SCR), 0x5a);
	assert_true(inb(LSR) & LSR_DR);
	assert_int_equal(inb(DATA), 'y');
	assert_int_equal(inb(DATA), 'z');
	assert_false(inb(LSR) & LSR_DR);
	assert_int_equal(inb(IIR) & 0x0f, 0x01); /* nothing pending once read */
	outb(LCR, 0x83);
	assert_int_equal(inb(DATA), 0x01);
	assert_int_equal(inb(IER), 0x00);
	fake_host_exit(&f);
	state_writer_free(&w);
	state_writer_free(&again);
}

/* Offsets in the saved state: ier, lcr, mcr, scr, fcr, dll, dlm, thri_pending, rx_count, rx. */
static void expect_rejected(size_t at, uint8_t value, const char *want)
{
	struct state_writer w, fresh, after;
	struct errmsg e = { "" };

	start_vm();
	save(&fresh);
	program_uart();
	save(&w);
	w.buf[at] = value;
	fake_host_exit(&f);

	start_vm();
	assert_int_equal(restore(&w, &e), -EINVAL);
	assert_string_equal(e.text, want);
	/* The device is as init made it. */
	save(&after);
	assert_int_equal(after.len, fresh.len);
	assert_memory_equal(after.buf, fresh.buf, fresh.len);
	fake_host_exit(&f);
	state_writer_free(&w);
	state_writer_free(&fresh);
	state_writer_free(&after);
}

static void test_corrupt_state(void **state)
{
	struct state_writer w;
	(void)state;

	expect_rejected(0, 0x10, "serial state: ier: 0x10 sets reserved bits");
	expect_rejected(2, 0x20, "serial state: mcr: 0x20 sets reserved bits");
	expect_rejected(4, 0x02, "serial state: fcr: 0x2 sets bits that do not stay set");
	expect_rejected(7, 2, "serial state: thri_pending: 2 is not a boolean");
	expect_rejected(8, 17, "serial state: rx_count: 17 bytes, the FIFO holds 16");
	expect_rejected(8, 3, "serial state: rx: truncated: 3 bytes at offset 9, 2 left");
	expect_rejected(8, 1, "serial state: end: 1 bytes left over");

	start_vm();
	program_uart();
	save(&w);
	for (size_t len = 0; len < w.len; len++) {
		struct state_writer cut = w;
		struct errmsg e = { "" };

		cut.len = len;
		assert_int_equal(restore(&cut, &e), -EINVAL);
		assert_non_null(strstr(e.text, "truncated"));
	}
	fake_host_exit(&f);
	state_writer_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_describe_acpi),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_corrupt_state),
	};

	alarm(TEST_TIMEOUT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
