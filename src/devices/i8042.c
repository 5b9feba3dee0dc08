// SPDX-License-Identifier: Apache-2.0
/*
 * Just enough of a PC keyboard controller for a guest to reset the machine
 * (Linux's reboot=k pulses the reset line with command 0xFE) and for a probing
 * driver to see a controller that passes its self test. No keyboard is attached.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "device.h"
#include "exit_codes.h"
#include "vm.h"

#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT 0x64

#define STATUS_OBF 0x01
#define STATUS_SYSFLAG 0x04

#define CMD_READ_CTR 0x20
#define CMD_WRITE_CTR 0x60
#define CMD_SELF_TEST 0xaa
#define CMD_KBD_TEST 0xab
#define CMD_WRITE_OUTPUT 0xd1
#define CMD_PULSE_FIRST 0xf0 /* 0xf0-0xff pulse output lines; bit 0 clear pulses reset */

#define SELF_TEST_OK 0x55
#define OUTPUT_RESET_LINE 0x01

struct i8042 {
	struct vm *vm;
	pthread_mutex_t lock;
	uint8_t ctr;
	uint8_t out;
	bool out_full;
	uint8_t pending; /* a command waiting for its data byte */
};

static void i8042_reply(struct i8042 *k, uint8_t byte)
{
	k->out = byte;
	k->out_full = true;
}

static void i8042_reset(struct i8042 *k)
{
	vm_request_stop(k->vm, VM_STOP_REBOOT, EXIT_GUEST_OK, "guest rebooted");
}

static void i8042_command(struct i8042 *k, uint8_t cmd)
{
	switch (cmd) {
	case CMD_READ_CTR:
		i8042_reply(k, k->ctr);
		break;
	case CMD_WRITE_CTR:
	case CMD_WRITE_OUTPUT:
		k->pending = cmd;
		break;
	case CMD_SELF_TEST:
		i8042_reply(k, SELF_TEST_OK);
		break;
	case CMD_KBD_TEST:
		i8042_reply(k, 0);
		break;
	default:
		if (cmd >= CMD_PULSE_FIRST && !(cmd & OUTPUT_RESET_LINE))
			i8042_reset(k);
		break;
	}
}

static void i8042_data(struct i8042 *k, uint8_t byte)
{
	uint8_t cmd = k->pending;

	k->pending = 0;
	if (cmd == CMD_WRITE_CTR)
		k->ctr = byte;
	else if (cmd == CMD_WRITE_OUTPUT && !(byte & OUTPUT_RESET_LINE))
		i8042_reset(k);
}

static void i8042_access(struct i8042 *k, bool is_cmd_port, uint8_t *data, unsigned size, bool is_write)
{
	pthread_mutex_lock(&k->lock);
	if (is_write && is_cmd_port)
		i8042_command(k, data[0]);
	else if (is_write)
		i8042_data(k, data[0]);
	else if (is_cmd_port)
		data[0] = STATUS_SYSFLAG | (k->out_full ? STATUS_OBF : 0);
	else {
		data[0] = k->out;
		k->out_full = false;
	}
	for (unsigned i = 1; !is_write && i < size; i++)
		data[i] = 0xff;
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

static int i8042_init(struct vm *vm, void **data, struct errmsg *e)
{
	struct i8042 *k = calloc(1, sizeof(*k));
	int err;

	if (!k)
		return errmsg_set(e, ENOMEM, "i8042: out of memory");
	k->vm = vm;
	pthread_mutex_init(&k->lock, NULL);
	err = io_bus_register(&vm->pio, I8042_DATA_PORT, 1, "i8042", i8042_data_io, k);
	err = err ?: io_bus_register(&vm->pio, I8042_CMD_PORT, 1, "i8042", i8042_cmd_io, k);
	if (err) {
		free(k);
		return errmsg_set(e, -err, "i8042: ports 0x60/0x64 are taken");
	}
	*data = k;
	return 0;
}

static void i8042_exit(struct vm *vm, void *data)
{
	struct i8042 *k = data;

	(void)vm;
	pthread_mutex_destroy(&k->lock);
	free(k);
}

static const struct device_ops i8042_device = {
	.name = "i8042",
	.level = DEVICE_LEVEL_PLATFORM,
	.init = i8042_init,
	.exit = i8042_exit,
};
DEVICE_REGISTER(i8042_device);
