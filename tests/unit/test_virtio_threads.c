// SPDX-License-Identifier: Apache-2.0
/*
 * The virtio devices on kvmini's own threads, for ThreadSanitizer (make
 * unit-tsan): two "vCPU" threads each drive one device through its MMIO
 * window as a guest does (set-up, ring writes, kicks, interrupt
 * acknowledgement), the real I/O thread serves the queues, and the main
 * thread feeds console input meanwhile. Every request must complete.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/virtio_ring.h>

#include "fake_vm.h"
#include "virtio/mmio.h"
#include "virtio/virtio.h"
#include "virtio/rng.h"
#include "virtio/console.h"

#define RAM_SIZE (1u << 20)
#define QUEUE_SIZE 8
#define REQUESTS 300
/* Seconds the whole test may take (a lost kick would otherwise hang it). */
#define TEST_TIMEOUT 60

static uint8_t ram[RAM_SIZE];
static struct fake_vm f;

/* One device as its driver sees it: its window and, per queue, rings at ring_gpa + 0x1000 * (3q + 0, 1, 2). */
struct driver {
	uint64_t window;
	uint64_t ring_gpa;
	uint64_t buf_gpa;
	unsigned queue; /* the one this driver sends requests on */
	unsigned nr_queues;
	bool device_writes; /* rng: the device fills the buffer; console: the driver sends it */
	unsigned completed;
};

static void reg_write(const struct driver *d, unsigned offset, uint32_t v)
{
	io_bus_access(&f.vm.mmio, d->window + offset, (uint8_t *)&v, 4, true);
}

static uint32_t reg_read(const struct driver *d, unsigned offset)
{
	uint32_t v;

	io_bus_access(&f.vm.mmio, d->window + offset, (uint8_t *)&v, 4, false);
	return v;
}

static uint64_t ring(const struct driver *d, unsigned q, unsigned which)
{
	return d->ring_gpa + 0x1000 * (3 * q + which);
}

static void driver_setup(const struct driver *d)
{
	reg_write(d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	reg_write(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	reg_write(d, VIRTIO_MMIO_DRIVER_FEATURES, 1); /* VERSION_1 */
	reg_write(d, VIRTIO_MMIO_STATUS,
		  VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
	for (unsigned q = 0; q < d->nr_queues; q++) {
		reg_write(d, VIRTIO_MMIO_QUEUE_SEL, q);
		reg_write(d, VIRTIO_MMIO_QUEUE_NUM, QUEUE_SIZE);
		reg_write(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)ring(d, q, 0));
		reg_write(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)ring(d, q, 1));
		reg_write(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)ring(d, q, 2));
		reg_write(d, VIRTIO_MMIO_QUEUE_READY, 1);
	}
	reg_write(d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
						 VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
}

/* Requests one at a time: a 16-byte buffer in descriptor 0, offered, kicked, waited for. */
static void *driver_thread(void *arg)
{
	struct driver *d = arg;
	struct vring_desc *desc = (void *)(ram + ring(d, d->queue, 0));
	struct vring_avail *avail = (void *)(ram + ring(d, d->queue, 1));
	struct vring_used *used = (void *)(ram + ring(d, d->queue, 2));

	driver_setup(d);
	for (uint16_t i = 1; i <= REQUESTS; i++) {
		desc[0] = (struct vring_desc){ .addr = d->buf_gpa, .len = 16,
					       .flags = d->device_writes ? VRING_DESC_F_WRITE : 0 };
		memset(ram + d->buf_gpa, 'a' + i % 26, 16);
		avail->ring[(i - 1) % QUEUE_SIZE] = 0;
		__atomic_store_n(&avail->idx, i, __ATOMIC_RELEASE);
		reg_write(d, VIRTIO_MMIO_QUEUE_NOTIFY, d->queue);
		while (__atomic_load_n(&used->idx, __ATOMIC_ACQUIRE) != i)
			sched_yield();
		reg_write(d, VIRTIO_MMIO_INTERRUPT_ACK, reg_read(d, VIRTIO_MMIO_INTERRUPT_STATUS));
		d->completed++;
	}
	return NULL;
}

static void test_devices_on_their_threads(void **state)
{
	struct driver rng = { .window = VIRTIO_MMIO_BASE, .ring_gpa = 0x10000, .buf_gpa = 0x30000,
			      .queue = 0, .nr_queues = 1, .device_writes = true };
	struct driver console = { .window = VIRTIO_MMIO_BASE + VIRTIO_MMIO_WINDOW, .ring_gpa = 0x40000,
				  .buf_gpa = 0x60000, .queue = 1, .nr_queues = 2 };
	pthread_t threads[2];
	(void)state;

	alarm(TEST_TIMEOUT);
	memset(&f.cfg, 0, sizeof(f.cfg));
	f.cfg.acpi = true;
	f.cfg.transport = VIRTIO_TRANSPORT_MMIO;
	rng_config_of(&f.cfg)->enabled = true;
	vcon_config_of(&f.cfg)->enabled = true;
	assert_int_equal(fake_vm_init(&f, ram, sizeof(ram), 0), 0);
	assert_int_equal(fake_vm_add_device(&f, "virtio-mmio"), 0);
	assert_int_equal(fake_vm_add_device(&f, "virtio-rng"), 0);
	assert_int_equal(fake_vm_add_device(&f, "virtio-console"), 0);
	assert_int_equal(io_thread_start(&f.vm.io), 0);

	assert_int_equal(pthread_create(&threads[0], NULL, driver_thread, &rng), 0);
	assert_int_equal(pthread_create(&threads[1], NULL, driver_thread, &console), 0);
	/* Host input while the console's driver works: with no receive buffers it is held back, not lost. */
	for (unsigned i = 0; i < 50; i++)
		fake_vm_console_input(&f, (const uint8_t *)"x", 1);
	pthread_join(threads[0], NULL);
	pthread_join(threads[1], NULL);
	io_thread_stop(&f.vm.io);
	fake_vm_exit(&f);
	alarm(0);
	assert_int_equal(rng.completed, REQUESTS);
	assert_int_equal(console.completed, REQUESTS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_devices_on_their_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
