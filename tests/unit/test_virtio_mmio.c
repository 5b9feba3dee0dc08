// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "boot/aml.h"
#include "fake_host.h"
#include "virtio/console.h"
#include "virtio/mmio.h"
#include "virtio/virtio.h"

#define BASE 0xd0000200u
#define GSI 17
#define NR_QUEUES 2
#define RAM_SIZE (1u << 20)
/* Where the test driver puts queue 0's rings in guest RAM. */
#define DESC_GPA 0x10000
#define AVAIL_GPA 0x11000
#define USED_GPA 0x12000

static struct fake_host f;
static uint8_t ram[RAM_SIZE];
static struct virtio_dev dev;
static struct virtio_mmio m;
static uint8_t config[8] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 };
static unsigned notified[NR_QUEUES];
static uint32_t config_written_at;
static unsigned config_written_size;

static void fake_notify(struct virtio_dev *d, unsigned q)
{
	(void)d;
	notified[q]++;
}

static void fake_config_write(struct virtio_dev *d, uint32_t offset, unsigned size)
{
	(void)d;
	config_written_at = offset;
	config_written_size = size;
}

static const struct virtio_dev_ops fake_ops = {
	.queue_notify = fake_notify,
	.config_write = fake_config_write,
};

/* The state virtio_dev_add leaves on the fake host, with the window set up by hand (no I/O thread runs). */
static int setup(void **state)
{
	(void)state;
	memset(&f.cfg, 0, sizeof(f.cfg));
	if (fake_host_init(&f, ram, sizeof(ram)) ||
	    fake_host_virtio_dev(&f, &dev, &fake_ops, VIRTIO_ID_RNG, NR_QUEUES, config, sizeof(config)))
		return -1;
	memset(notified, 0, sizeof(notified));
	config_written_at = config_written_size = 0;
	virtio_mmio_setup(&m, &f.host, &dev, 1, BASE, GSI);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	virtio_dev_remove(&dev);
	pthread_mutex_destroy(&dev.lock);
	fake_host_exit(&f);
	return 0;
}

static uint32_t rd(uint64_t offset)
{
	uint32_t v;

	virtio_mmio_access(&m, offset, (uint8_t *)&v, 4, false);
	return v;
}

static void wr(uint64_t offset, uint32_t v)
{
	virtio_mmio_access(&m, offset, (uint8_t *)&v, 4, true);
}

static uint64_t kicks(unsigned q)
{
	uint64_t count = 0;

	if (read(dev.kick_fd[q], &count, sizeof(count)) != sizeof(count))
		return 0;
	return count;
}

static void test_identity(void **state)
{
	(void)state;
	assert_ptr_equal(dev.transport_data, &m);
	assert_string_equal(dev.transport->name, "mmio");
	assert_int_equal(rd(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	assert_int_equal(rd(VIRTIO_MMIO_VERSION), 2);
	assert_int_equal(rd(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_RNG);
	assert_int_equal(rd(VIRTIO_MMIO_VENDOR_ID), VIRTIO_MMIO_VENDOR);
	dev.config_generation = 3;
	assert_int_equal(rd(VIRTIO_MMIO_CONFIG_GENERATION), 3);
	/* No shared-memory regions: their length reads as -1. */
	wr(VIRTIO_MMIO_SHM_SEL, 0);
	assert_int_equal(rd(VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffff);
	assert_int_equal(rd(VIRTIO_MMIO_SHM_LEN_HIGH), 0xffffffff);
}

static void test_features(void **state)
{
	(void)state;
	assert_int_equal(rd(VIRTIO_MMIO_DEVICE_FEATURES), 0x30000005);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	assert_int_equal(rd(VIRTIO_MMIO_DEVICE_FEATURES), 1); /* VERSION_1 is bit 32 */
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	assert_int_equal(rd(VIRTIO_MMIO_DEVICE_FEATURES), 0);

	/* Before DRIVER, feature writes are ignored. */
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 0x1);
	assert_int_equal(dev.driver_features, 0);

	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 0x20000001);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1);
	assert_int_equal(dev.driver_features, (1ULL << VIRTIO_F_VERSION_1) | 0x20000001);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
	assert_true(rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK);

	/* After FEATURES_OK the accepted set is fixed. */
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 0x4);
	assert_int_equal(dev.driver_features, (1ULL << VIRTIO_F_VERSION_1) | 0x20000001);
}

static void test_features_refused(void **state)
{
	(void)state;
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 0x2); /* not offered, and no VERSION_1 */
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
	assert_false(rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK);
}

static void set_up_queue0(void)
{
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(VIRTIO_MMIO_QUEUE_NUM, 64);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, DESC_GPA);
	wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
	wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, AVAIL_GPA);
	wr(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0);
	wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, USED_GPA);
	wr(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
}

static void driver_ok(void)
{
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
	set_up_queue0();
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK |
				       VIRTIO_CONFIG_S_DRIVER_OK);
}

static void test_queue_setup(void **state)
{
	struct virtqueue *vq = &dev.vqs[0];
	(void)state;

	assert_int_equal(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), VIRTQ_SIZE_MAX);
	assert_int_equal(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000);
	wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0x2);
	assert_int_equal(vq->desc_gpa, 0x200001000ULL);

	set_up_queue0();
	assert_int_equal(vq->size, 64);
	assert_int_equal(vq->desc_gpa, DESC_GPA);
	assert_int_equal(vq->avail_gpa, AVAIL_GPA);
	assert_int_equal(vq->used_gpa, USED_GPA);
	assert_true(vq->enabled);
	assert_int_equal(rd(VIRTIO_MMIO_QUEUE_READY), 1);

	/* An enabled queue's set-up cannot change. */
	wr(VIRTIO_MMIO_QUEUE_NUM, 128);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, 0x20000);
	wr(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 1);
	assert_int_equal(vq->size, 64);
	assert_int_equal(vq->desc_gpa, DESC_GPA);
	assert_int_equal(vq->used_gpa, USED_GPA);

	/* Queue 1 is separate; queue 2 does not exist. */
	wr(VIRTIO_MMIO_QUEUE_SEL, 1);
	assert_int_equal(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	wr(VIRTIO_MMIO_QUEUE_NUM, 16);
	assert_int_equal(dev.vqs[1].size, 16);
	wr(VIRTIO_MMIO_QUEUE_SEL, 2);
	assert_int_equal(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	wr(VIRTIO_MMIO_QUEUE_NUM, 16);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	assert_false(dev.vqs[2].enabled);

	/* QueueReady 0: the queue is released and may be set up again. */
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(VIRTIO_MMIO_QUEUE_READY, 0);
	assert_int_equal(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	wr(VIRTIO_MMIO_QUEUE_NUM, 128);
	assert_int_equal(vq->size, 128);

	/* A size beyond the maximum is kept as 0, which the queue start refuses. */
	wr(VIRTIO_MMIO_QUEUE_NUM, 0x10004);
	assert_int_equal(vq->size, 0);
}

static void test_driver_ok_starts_queues(void **state)
{
	(void)state;
	driver_ok();
	assert_true(dev.vqs[0].started);
	assert_false(dev.vqs[1].started);
	assert_int_equal(rd(VIRTIO_MMIO_STATUS), VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
							 VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	/* Starting a queue looks for buffers already made available. */
	assert_int_equal(kicks(0), 1);
}

static void test_bad_ring_needs_reset(void **state)
{
	(void)state;
	wr(VIRTIO_MMIO_QUEUE_SEL, 1);
	wr(VIRTIO_MMIO_QUEUE_NUM, 16);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, 0xfff00000); /* outside RAM */
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	driver_ok();
	assert_true(rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	/* The configuration interrupt raised the line. */
	assert_int_equal(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_ISR_CONFIG);
	assert_true(m.line && f.line[GSI]);
}

/* Two windows on one line (more devices than lines): it stays high until neither wants it. */
static void test_shared_line(void **state)
{
	static struct virtio_dev other_dev;
	struct virtio_mmio other;
	struct virtio_mmio_lines lines = { .lock = PTHREAD_MUTEX_INITIALIZER };

	(void)state;
	other_dev = dev;
	virtio_mmio_setup(&other, &f.host, &other_dev, 2, BASE + VIRTIO_MMIO_WINDOW, GSI);
	m.lines = other.lines = &lines;
	dev.isr = VIRTIO_ISR_QUEUE;
	virtio_mmio_update_line(&m);
	other_dev.isr = VIRTIO_ISR_CONFIG;
	virtio_mmio_update_line(&other);
	assert_true(f.line[GSI]);
	dev.isr = 0;
	virtio_mmio_update_line(&m);
	assert_true(f.line[GSI]);
	assert_int_equal(lines.raised[GSI], 1);
	other_dev.isr = 0;
	virtio_mmio_update_line(&other);
	assert_false(f.line[GSI]);
	assert_int_equal(lines.raised[GSI], 0);
	m.lines = NULL;
}

static void test_interrupt_ack(void **state)
{
	(void)state;
	driver_ok();
	dev.isr |= VIRTIO_ISR_QUEUE;
	dev.transport->interrupt(&dev, 0);
	assert_true(m.line && f.line[GSI]);
	dev.isr |= VIRTIO_ISR_CONFIG;
	dev.transport->interrupt(&dev, VIRTIO_CONFIG_IRQ);
	assert_int_equal(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_ISR_QUEUE | VIRTIO_ISR_CONFIG);
	/* Reading the status does not clear it (unlike the PCI ISR). */
	assert_int_equal(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_ISR_QUEUE | VIRTIO_ISR_CONFIG);

	wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_ISR_QUEUE);
	assert_int_equal(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_ISR_CONFIG);
	assert_true(m.line && f.line[GSI]);
	wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_ISR_CONFIG);
	assert_int_equal(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_false(m.line || f.line[GSI]);
}

static void test_reset(void **state)
{
	(void)state;
	driver_ok();
	dev.isr |= VIRTIO_ISR_QUEUE;
	dev.transport->interrupt(&dev, 0);
	wr(VIRTIO_MMIO_QUEUE_SEL, 1);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);

	wr(VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(rd(VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_false(m.line || f.line[GSI]);
	assert_int_equal(dev.driver_features, 0);
	assert_false(dev.vqs[0].enabled);
	assert_false(dev.vqs[0].started);
	/* The selectors start over at 0. */
	assert_int_equal(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	assert_int_equal(rd(VIRTIO_MMIO_DEVICE_FEATURES), 0x30000005);
}

static void test_queue_notify(void **state)
{
	(void)state;
	/* Without an ioeventfd the write reaches kvmini, which signals the kick eventfd itself. */
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	assert_int_equal(kicks(0), 0);
	assert_int_equal(kicks(1), 2);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, NR_QUEUES);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0xffffffff);
	assert_int_equal(kicks(0), 0);
	assert_int_equal(kicks(1), 0);
}

static void test_config_space(void **state)
{
	uint8_t b[8];
	uint16_t w;
	uint32_t v;
	uint64_t q;
	(void)state;

	virtio_mmio_access(&m, VIRTIO_MMIO_CONFIG + 1, b, 1, false);
	assert_int_equal(b[0], 0x22);
	virtio_mmio_access(&m, VIRTIO_MMIO_CONFIG + 3, (uint8_t *)&w, 2, false);
	assert_int_equal(w, 0x5544);
	virtio_mmio_access(&m, VIRTIO_MMIO_CONFIG + 4, (uint8_t *)&v, 4, false);
	assert_int_equal(v, 0x88776655);
	virtio_mmio_access(&m, VIRTIO_MMIO_CONFIG, (uint8_t *)&q, 8, false);
	assert_int_equal(q, 0x8877665544332211ULL);
	/* Past the device's configuration: 0. */
	v = 0xdeadbeef;
	virtio_mmio_access(&m, VIRTIO_MMIO_CONFIG + 6, (uint8_t *)&v, 4, false);
	assert_int_equal(v, 0);
	virtio_mmio_access(&m, VIRTIO_MMIO_WINDOW - 1, b, 1, false);
	assert_int_equal(b[0], 0);

	b[0] = 0xab;
	virtio_mmio_access(&m, VIRTIO_MMIO_CONFIG + 2, b, 1, true);
	assert_int_equal(config[2], 0xab);
	assert_int_equal(config_written_at, 2);
	assert_int_equal(config_written_size, 1);
	config[2] = 0x33;
}

static void test_bad_accesses(void **state)
{
	uint8_t b[8];
	uint16_t w = 0xffff;
	uint32_t v;
	(void)state;

	/* Registers take aligned 32-bit accesses only. */
	virtio_mmio_access(&m, VIRTIO_MMIO_MAGIC_VALUE, (uint8_t *)&w, 2, false);
	assert_int_equal(w, 0);
	memset(b, 0xff, sizeof(b));
	virtio_mmio_access(&m, VIRTIO_MMIO_MAGIC_VALUE, b, 1, false);
	assert_int_equal(b[0], 0);
	virtio_mmio_access(&m, VIRTIO_MMIO_VERSION, b, 8, false);
	assert_memory_equal(b, ((uint8_t[8]){ 0 }), 8);
	v = 0xffffffff;
	virtio_mmio_access(&m, VIRTIO_MMIO_MAGIC_VALUE + 2, (uint8_t *)&v, 4, false);
	assert_int_equal(v, 0);
	b[0] = VIRTIO_CONFIG_S_ACKNOWLEDGE;
	virtio_mmio_access(&m, VIRTIO_MMIO_STATUS, b, 1, true);
	assert_int_equal(dev.status, 0);
	v = VIRTIO_CONFIG_S_ACKNOWLEDGE;
	virtio_mmio_access(&m, VIRTIO_MMIO_STATUS + 1, (uint8_t *)&v, 4, true);
	assert_int_equal(dev.status, 0);

	/* Write-only registers and holes read as 0; writes to read-only ones and holes change nothing. */
	assert_int_equal(rd(VIRTIO_MMIO_QUEUE_SEL), 0);
	assert_int_equal(rd(VIRTIO_MMIO_INTERRUPT_ACK), 0);
	assert_int_equal(rd(0x0f0), 0);
	wr(VIRTIO_MMIO_MAGIC_VALUE, 0);
	wr(VIRTIO_MMIO_INTERRUPT_STATUS, 0);
	wr(VIRTIO_MMIO_QUEUE_NUM_MAX, 4);
	wr(0x0f8, 1);
	assert_int_equal(rd(VIRTIO_MMIO_MAGIC_VALUE), VIRTIO_MMIO_MAGIC);
	assert_int_equal(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), VIRTQ_SIZE_MAX);
}

static void test_cmdline(void **state)
{
	char buf[64];
	(void)state;

	assert_int_equal(virtio_mmio_cmdline_param(buf, sizeof(buf), VIRTIO_MMIO_BASE, 16), 36);
	assert_string_equal(buf, "virtio_mmio.device=512@0xd0000000:16");
	virtio_mmio_cmdline_param(buf, sizeof(buf), BASE + 0x200, 23);
	assert_string_equal(buf, "virtio_mmio.device=512@0xd0000400:23");
}

/*
 * Attached by the core, without ACPI: the bus hands out the first window and
 * line, and the host gets the kernel parameter and one ioeventfd per queue
 * (a 32-bit write of the queue's index to QueueNotify).
 */
static void test_attach_through_host(void **state)
{
	(void)state;
	memset(&f.cfg, 0, sizeof(f.cfg));
	f.cfg.transport = VIRTIO_TRANSPORT_MMIO;
	vcon_config_of(&f.cfg)->enabled = true;
	assert_int_equal(fake_host_init(&f, ram, sizeof(ram)), 0);
	assert_int_equal(fake_host_add(&f, "virtio-mmio"), 0);
	assert_int_equal(fake_host_add(&f, "virtio-console"), 0);
	assert_string_equal(f.cmdline, "virtio_mmio.device=512@0xd0000000:16");
	assert_int_equal(f.nr_ioeventfds, 2);
	for (unsigned q = 0; q < 2; q++) {
		const struct fake_ioeventfd *io = &f.ioeventfds[q];

		assert_int_equal(io->addr, VIRTIO_MMIO_BASE + VIRTIO_MMIO_QUEUE_NOTIFY);
		assert_int_equal(io->len, 4);
		assert_true(io->match && !io->pio && io->assign);
		assert_int_equal(io->datamatch, q);
		assert_int_equal(io->fd, virtio_kind_device(fake_host_last(&f), 0)->kick_fd[q]);
	}
	fake_host_exit(&f);
}

/* kvmini daemon's way: on the command line even with ACPI (for acpi=off guests), and in the DSDT too. */
static void test_attach_cmdline_too(void **state)
{
	uint8_t buf[128];
	struct aml a;

	(void)state;
	memset(&f.cfg, 0, sizeof(f.cfg));
	f.cfg.transport = VIRTIO_TRANSPORT_MMIO;
	f.cfg.acpi = true;
	f.cfg.mmio_cmdline = true;
	vcon_config_of(&f.cfg)->enabled = true;
	assert_int_equal(fake_host_init(&f, ram, sizeof(ram)), 0);
	assert_int_equal(fake_host_add(&f, "virtio-mmio"), 0);
	assert_int_equal(fake_host_add(&f, "virtio-console"), 0);
	assert_string_equal(f.cmdline, "virtio_mmio.device=512@0xd0000000:16");
	aml_init(&a, buf, sizeof(buf));
	assert_int_equal(devices_describe_acpi(&a, &f.devices), 0);
	assert_int_equal(a.len, 0x3c); /* one Device (VR00) with LNRO0005 */
	assert_non_null(memmem(buf, a.len, "LNRO0005", 8));
	fake_host_exit(&f);
}

/* Device (VR01) { _HID "LNRO0005", _UID 1, _CRS { Memory32Fixed (ReadWrite, 0xD0000200, 0x200),
   Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive) { 17 } } }, as iasl 20200925 compiles it. */
static const uint8_t vr01_ref[] = {
	0x5B, 0x82, 0x3A, 'V', 'R', '0', '1',
	0x08, '_', 'H', 'I', 'D', 0x0D, 'L', 'N', 'R', 'O', '0', '0', '0', '5', 0x00,
	0x08, '_', 'U', 'I', 'D', 0x01,
	0x08, '_', 'C', 'R', 'S', 0x11, 0x1A, 0x0A, 0x17,
	0x86, 0x09, 0x00, 0x01, 0x00, 0x02, 0x00, 0xD0, 0x00, 0x02, 0x00, 0x00,
	0x89, 0x06, 0x00, 0x01, 0x01, 0x11, 0x00, 0x00, 0x00,
	0x79, 0x00,
};

static void test_acpi(void **state)
{
	uint8_t buf[128];
	struct aml a;
	(void)state;

	aml_init(&a, buf, sizeof(buf));
	assert_int_equal(virtio_mmio_describe_acpi(&a, 1, BASE, GSI), 0);
	assert_int_equal(aml_finish(&a), sizeof(vr01_ref));
	assert_memory_equal(buf, vr01_ref, sizeof(vr01_ref));

	aml_init(&a, buf, sizeof(buf));
	assert_int_equal(virtio_mmio_describe_acpi(&a, 7, VIRTIO_MMIO_BASE + 7 * VIRTIO_MMIO_WINDOW, 23), 0);
	assert_int_equal(aml_finish(&a), sizeof(vr01_ref) + 1); /* _UID 7 takes a BytePrefix */
	assert_memory_equal(buf + 3, "VR07", 4);
	assert_memory_equal(buf + 22, ((uint8_t[]){ 0x08, '_', 'U', 'I', 'D', 0x0A, 0x07 }), 7);
	assert_memory_equal(buf + 42, ((uint8_t[]){ 0x00, 0x0E, 0x00, 0xD0 }), 4);
	assert_int_equal(buf[55], 23);

	/* Too small a buffer: the AML error comes back. */
	aml_init(&a, buf, 20);
	assert_int_equal(virtio_mmio_describe_acpi(&a, 1, BASE, GSI), -ENOSPC);
	aml_init(&a, buf, sizeof(buf));
	assert_int_equal(virtio_mmio_describe_acpi(&a, 100, BASE, GSI), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_features, setup, teardown),
		cmocka_unit_test_setup_teardown(test_features_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_setup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_driver_ok_starts_queues, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_ring_needs_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interrupt_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_notify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_space, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_accesses, setup, teardown),
		cmocka_unit_test(test_cmdline),
		cmocka_unit_test(test_attach_through_host),
		cmocka_unit_test(test_attach_cmdline_too),
		cmocka_unit_test(test_acpi),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
