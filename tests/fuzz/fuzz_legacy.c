// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the legacy PC devices a guest reaches through ports:
 * the UART (COM1, src/devices/serial.c) and the i8042 keyboard controller
 * (src/devices/i8042.c), as devices_init makes them. The input is a program
 * of 3-byte ops: an op byte (bits 0-1: 0 port write, 1 port read, 2 console
 * input, 3 Ctrl-Alt-Del from the API; bit 2: i8042 rather than the UART),
 * a port byte (the UART's register 0-7; the i8042's data or command port by
 * bit 0) and a value byte (console input: the byte count, the bytes follow).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/i8042.h"
#include "fake_host.h"

#define COM1_PORT 0x3f8

enum op { OP_WRITE, OP_READ, OP_CONSOLE_INPUT, OP_CTRL_ALT_DEL };

static struct fake_host f;
/* Neither device touches guest RAM; the VM has a page of it all the same. */
static uint8_t ram[4096];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	memset(&f.cfg, 0, sizeof(f.cfg));
	if (fake_host_init(&f, ram, sizeof(ram)) || fake_host_add(&f, "serial") || fake_host_add(&f, "i8042"))
		abort();
	while (size >= 3) {
		uint8_t op = data[0], value = data[2];
		uint16_t port = op & 4 ? (data[1] & 1 ? I8042_CMD_PORT : I8042_DATA_PORT) : COM1_PORT + data[1] % 8;

		data += 3;
		size -= 3;
		switch (op & 3) {
		case OP_WRITE:
		case OP_READ:
			io_bus_access(&f.pio, port, &value, 1, (op & 3) == OP_WRITE);
			break;
		case OP_CONSOLE_INPUT:
			value = value < size ? value : (uint8_t)size;
			fake_host_console_input(&f, data, value);
			data += value;
			size -= value;
			break;
		case OP_CTRL_ALT_DEL:
			devices_ctrl_alt_del(&f.devices);
			break;
		}
	}
	fake_host_exit(&f);
	return 0;
}
