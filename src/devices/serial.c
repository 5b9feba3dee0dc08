// SPDX-License-Identifier: Apache-2.0
/*
 * A 16550A UART at COM1, wired to the host console. Transmission is instant
 * while the console has room: THR is empty again right after a write. When
 * the host's stdout does not keep up, THR stays full (LSR's THRE and TEMT
 * clear) until the console has room again, and then the THR-empty interrupt
 * fires: the guest waits, as on a real line, instead of a vCPU blocking on
 * the host. Reception has a 16-byte FIFO fed from the console. The IRQ line
 * follows the interrupt-pending state, which the edge-triggered ISA IRQ
 * turns into one interrupt per new cause.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "boot/aml.h"
#include "console.h"
#include "device.h"
#include "io_bus.h"
#include "log.h"
#include "state.h"

#define COM1_PORT 0x3f8
#define COM1_IRQ 4
#define SERIAL_FIFO 16

enum { REG_DATA, REG_IER, REG_IIR_FCR, REG_LCR, REG_MCR, REG_LSR, REG_MSR, REG_SCR };

#define IER_RDI 0x01  /* received data available */
#define IER_THRI 0x02 /* transmit holding register empty */
#define IIR_NONE 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO_ON 0xc0
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define LCR_DLAB 0x80
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

struct serial {
	const struct device_host *host;
	pthread_mutex_t lock;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thri_pending;
	bool irq_level;
	uint8_t rx[SERIAL_FIFO];
	unsigned rx_head, rx_count;
};

static uint8_t serial_iir(const struct serial *s)
{
	uint8_t fifo = (s->fcr & FCR_ENABLE) ? IIR_FIFO_ON : 0;

	if ((s->ier & IER_RDI) && s->rx_count)
		return fifo | IIR_RDI;
	if ((s->ier & IER_THRI) && s->thri_pending)
		return fifo | IIR_THRI;
	return fifo | IIR_NONE;
}

static void serial_update_irq(struct serial *s)
{
	bool level = !(serial_iir(s) & IIR_NONE);

	if (level != s->irq_level) {
		s->irq_level = level;
		host_irq_line(s->host, COM1_IRQ, level);
	}
}

static unsigned rx_space(const struct serial *s)
{
	return SERIAL_FIFO - s->rx_count;
}

static void rx_push(struct serial *s, uint8_t byte)
{
	s->rx[(s->rx_head + s->rx_count) % SERIAL_FIFO] = byte;
	s->rx_count++;
}

static uint8_t rx_pop(struct serial *s)
{
	uint8_t byte = s->rx[s->rx_head];

	s->rx_head = (s->rx_head + 1) % SERIAL_FIFO;
	s->rx_count--;
	return byte;
}

/* In loopback mode the modem inputs mirror the modem outputs (drivers test the UART this way). */
static uint8_t serial_msr(const struct serial *s)
{
	if (!(s->mcr & MCR_LOOP))
		return MSR_DCD | MSR_DSR | MSR_CTS;
	return ((s->mcr & MCR_RTS) ? MSR_CTS : 0) | ((s->mcr & MCR_DTR) ? MSR_DSR : 0) |
	       ((s->mcr & MCR_OUT1) ? MSR_RI : 0) | ((s->mcr & MCR_OUT2) ? MSR_DCD : 0);
}

static void serial_write(struct serial *s, unsigned reg, uint8_t v)
{
	switch (reg) {
	case REG_DATA:
		if (s->lcr & LCR_DLAB) {
			s->dll = v;
		} else if (s->mcr & MCR_LOOP) {
			if (rx_space(s))
				rx_push(s, v);
			s->thri_pending = true;
		} else {
			console_write(s->host->console, &v, 1);
			/* Without room, serial_on_room raises it once there is. */
			s->thri_pending = console_has_room(s->host->console);
		}
		break;
	case REG_IER:
		if (s->lcr & LCR_DLAB) {
			s->dlm = v;
			break;
		}
		/* Enabling the THR interrupt while THR is empty raises it at once, as on the real part. */
		if ((v & IER_THRI) && !(s->ier & IER_THRI))
			s->thri_pending = console_has_room(s->host->console);
		s->ier = v & 0x0f;
		break;
	case REG_IIR_FCR:
		s->fcr = v & (FCR_ENABLE | 0xc0);
		if (v & FCR_CLEAR_RX)
			s->rx_head = s->rx_count = 0;
		break;
	case REG_LCR:
		s->lcr = v;
		break;
	case REG_MCR:
		s->mcr = v & 0x1f;
		break;
	case REG_SCR:
		s->scr = v;
		break;
	default: /* LSR and MSR are read-only */
		break;
	}
}

static uint8_t serial_read(struct serial *s, unsigned reg)
{
	uint8_t v;

	switch (reg) {
	case REG_DATA:
		if (s->lcr & LCR_DLAB)
			return s->dll;
		return s->rx_count ? rx_pop(s) : 0;
	case REG_IER:
		return (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
	case REG_IIR_FCR:
		v = serial_iir(s);
		/* Reading IIR acknowledges a THR-empty interrupt. */
		if ((v & 0x0f) == IIR_THRI)
			s->thri_pending = false;
		return v;
	case REG_LCR:
		return s->lcr;
	case REG_MCR:
		return s->mcr;
	case REG_LSR:
		return (console_has_room(s->host->console) ? LSR_THRE | LSR_TEMT : 0) | (s->rx_count ? LSR_DR : 0);
	case REG_MSR:
		return serial_msr(s);
	default:
		return s->scr;
	}
}

static void serial_io(void *opaque, uint64_t offset, uint8_t *data, unsigned size, bool is_write)
{
	struct serial *s = opaque;

	pthread_mutex_lock(&s->lock);
	if (is_write)
		serial_write(s, offset, data[0]);
	else
		data[0] = serial_read(s, offset);
	for (unsigned i = 1; !is_write && i < size; i++)
		data[i] = 0xff;
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

/* The console has room again after turning the guest away: THR is empty now. */
static void serial_on_room(void *ctx)
{
	struct serial *s = ctx;

	pthread_mutex_lock(&s->lock);
	s->thri_pending = true;
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

/* Console input: as much as the FIFO has room for; the console holds the rest back. */
static size_t serial_receive(void *ctx, const uint8_t *buf, size_t len)
{
	struct serial *s = ctx;
	size_t n = 0;

	pthread_mutex_lock(&s->lock);
	if (!(s->mcr & MCR_LOOP))
		for (; n < len && rx_space(s); n++)
			rx_push(s, buf[n]);
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}

static int serial_init(const struct device_host *host, const void *config, void **data, struct errmsg *e)
{
	struct serial *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return errmsg_set(e, ENOMEM, "serial: out of memory");
	(void)config;
	s->host = host;
	pthread_mutex_init(&s->lock, NULL);
	err = io_bus_register(host->pio, COM1_PORT, 8, "COM1", serial_io, s);
	if (err) {
		free(s);
		return errmsg_set(e, -err, "serial: port %#x is taken", COM1_PORT);
	}
	/* Only THR writes are batched: every other access needs an answer or has side effects. */
	err = host_coalesce_pio(host, COM1_PORT, 1);
	if (err && err != -ENOTSUP)
		log_debug("serial: cannot batch writes to %#x: %s", COM1_PORT, strerror(-err));
	console_set_input(host->console, serial_receive, s);
	console_set_room_callback(host->console, serial_on_room, s);
	*data = s;
	return 0;
}

/* The line's level is not saved: it follows from the registers and the FIFO, as serial_update_irq derives it. */
static int serial_save(void *data, struct state_writer *w)
{
	struct serial *s = data;

	pthread_mutex_lock(&s->lock);
	state_put_u8(w, s->ier);
	state_put_u8(w, s->lcr);
	state_put_u8(w, s->mcr);
	state_put_u8(w, s->scr);
	state_put_u8(w, s->fcr);
	state_put_u8(w, s->dll);
	state_put_u8(w, s->dlm);
	state_put_bool(w, s->thri_pending);
	state_put_u8(w, (uint8_t)s->rx_count);
	for (unsigned i = 0; i < s->rx_count; i++)
		state_put_u8(w, s->rx[(s->rx_head + i) % SERIAL_FIFO]);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static int serial_restore(void *data, struct state_reader *r, struct errmsg *e)
{
	struct serial *s = data;
	uint8_t ier = state_get_u8(r, "ier"), lcr = state_get_u8(r, "lcr"), mcr = state_get_u8(r, "mcr");
	uint8_t scr = state_get_u8(r, "scr"), fcr = state_get_u8(r, "fcr");
	uint8_t dll = state_get_u8(r, "dll"), dlm = state_get_u8(r, "dlm");
	bool thri_pending = state_get_bool(r, "thri_pending");
	uint8_t rx[SERIAL_FIFO];
	unsigned rx_count = state_get_counted(r, "rx_count", "rx", rx, SERIAL_FIFO, "the FIFO");

	/* What serial_write would never store. */
	if (ier & ~0x0f)
		state_invalid(r, "ier", "%#x sets reserved bits", ier);
	if (mcr & ~0x1f)
		state_invalid(r, "mcr", "%#x sets reserved bits", mcr);
	if (fcr & ~(FCR_ENABLE | 0xc0))
		state_invalid(r, "fcr", "%#x sets bits that do not stay set", fcr);
	if (state_reader_done(r, e))
		return -EINVAL;

	pthread_mutex_lock(&s->lock);
	s->ier = ier;
	s->lcr = lcr;
	s->mcr = mcr;
	s->scr = scr;
	s->fcr = fcr;
	s->dll = dll;
	s->dlm = dlm;
	s->thri_pending = thri_pending;
	memcpy(s->rx, rx, rx_count);
	s->rx_head = 0;
	s->rx_count = rx_count;
	/* The guest expects the line where the saved registers put it: raised when an interrupt was pending. */
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static void serial_exit(void *data)
{
	struct serial *s = data;

	console_set_input(s->host->console, NULL, NULL);
	console_set_room_callback(s->host->console, NULL, NULL);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/*
 * A 16550 (PNP0501) with its ports and IRQ: in a hardware-reduced guest Linux
 * maps no ISA IRQ unless a device's _CRS names it, so the serial console needs
 * this to get its interrupt.
 */
static int serial_describe(void *data, struct aml *aml)
{
	(void)data;
	aml_device(aml, "COM1");
	aml_name_eisaid(aml, "_HID", "PNP0501");
	aml_name_int(aml, "_UID", 0);
	aml_resource_template(aml, "_CRS");
	aml_res_io(aml, COM1_PORT, 8);
	aml_res_irq(aml, COM1_IRQ);
	aml_end(aml);
	return aml_end(aml);
}

static const struct device_ops serial_device = {
	.name = "serial",
	.level = DEVICE_LEVEL_CONSOLE,
	.init = serial_init,
	.exit = serial_exit,
	.describe_acpi = serial_describe,
	.save = serial_save,
	.restore = serial_restore,
	.state_version = 1,
};
DEVICE_REGISTER(serial_device);
