/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host side of include/device.h without a VM or KVM, for unit tests and
 * fuzz targets of devices and transports. What is real: the port and MMIO
 * buses, guest RAM (the caller's buffer), the console (input from a pipe,
 * output to /dev/null) and the I/O thread's event loop, served either on the
 * caller's thread by fake_host_run_io (fuzzing) or by the real thread
 * (io_thread_start on f->io). What is faked: every host op. Each succeeds
 * and is recorded below for tests to check, none reaches KVM, so interrupts
 * go nowhere and every queue kick reaches kvmini as a vCPU exit would:
 *   irq_line        the level of each line (and how often it rose)
 *   irq_alloc_line  lines IRQ_LINE_FIRST..IRQ_LINE_LAST in turn, then -ENOSPC
 *   irq_alloc_msi, irq_set_msi   MSI routes, GSI IRQ_MSI_FIRST + index
 *   irqfd, ioeventfd             each (de)assignment, in order
 *   coalesce_pio    -ENOTSUP (the host cannot batch)
 *   append_cmdline  the parameters, space-separated
 *   event           a count per event
 *   pause_requested the flag pause_requested, set by the test
 *   find            the devices made with fake_host_add
 *   discard_ram     each range (refused as the VM refuses it), zeroed as
 *                   MADV_DONTNEED leaves it
 * and virtio-net's tap is a socketpair (fake_host_tap_peer) taking every offload.
 * Devices come from the registered records by name, as devices_init makes
 * them, each with its part of f->cfg (device_config).
 */
#ifndef KVMINI_TESTS_COMMON_FAKE_HOST_H
#define KVMINI_TESTS_COMMON_FAKE_HOST_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "device.h"
#include "guest_mem.h"
#include "io_bus.h"
#include "io_thread.h"
#include "irq.h"
#include "vm_config.h"

#define FAKE_HOST_MSI_MAX 64
#define FAKE_HOST_FDS_MAX 64
#define FAKE_HOST_DISCARDS_MAX 256

struct virtio_dev;
struct virtio_dev_ops;

struct fake_host {
	struct device_host host; /* what devices get: host.vm is this fake */
	struct vm_config cfg;    /* the devices' configuration: filled by the caller before fake_host_add */
	struct io_bus pio, mmio;
	struct guest_mem mem;
	struct io_thread io;
	struct console *console;
	int console_in;  /* write end of the console's input pipe */
	int console_out; /* /dev/null, where guest output goes */
	struct device_set devices;

	/* What devices asked of the host, under lock (devices call from vCPU-like and I/O threads). */
	pthread_mutex_t lock;
	bool line[IRQ_LINE_LAST + 1];
	unsigned raised[IRQ_LINE_LAST + 1]; /* low-to-high changes of each line */
	unsigned next_line;
	unsigned nr_msi;
	struct fake_msi {
		uint64_t address;
		uint32_t data;
	} msi[FAKE_HOST_MSI_MAX];
	unsigned nr_irqfds, nr_ioeventfds;
	struct fake_irqfd {
		int fd;
		unsigned gsi;
		bool assign;
	} irqfds[FAKE_HOST_FDS_MAX];
	struct fake_ioeventfd {
		uint64_t addr;
		unsigned len;
		bool pio, match;
		uint64_t datamatch;
		int fd;
		bool assign;
	} ioeventfds[FAKE_HOST_FDS_MAX];
	char cmdline[1536];
	unsigned events[DEVICE_EVENT_INIT_STARTED + 1];
	bool pause_requested; /* what pause_requested answers: set it to play a pause */
	unsigned nr_discards; /* every range taken; the first FAKE_HOST_DISCARDS_MAX are kept */
	struct fake_discard {
		uint64_t gpa, len;
	} discards[FAKE_HOST_DISCARDS_MAX];
	uint64_t discarded; /* bytes, in all */
};

/*
 * virtio-net's tap is replaced (virtio_net_open_tap is weak): each device
 * gets one end of a socketpair, which keeps frames whole as a tap does, and
 * the other end of the last one made is here for the test (-1: none, or the
 * test closed it).
 */
extern int fake_host_tap_peer;
/* With queues= over 1: each tap queue's peer, in the order opened (the test zeroes the count first). */
extern int fake_host_tap_peers[];
extern unsigned fake_host_tap_opened;
/* What the device last set with TUNSETOFFLOAD; the fake tap claims TUN_F_CSUM, TSO4 and TSO6. */
extern unsigned fake_host_tap_offloads;

/* ram is the guest's memory (the caller keeps it); the machine has ACPI and cfg's transport once devices come. */
int fake_host_init(struct fake_host *f, void *ram, uint64_t ram_size);
/* Makes the registered device `name` ("pci", "virtio-blk", "serial", ...) as devices_init would, from f->cfg. */
int fake_host_add(struct fake_host *f, const char *name);
/* The data of the last device made (a virtio kind's: virtio_kind_device(data, i)). */
void *fake_host_last(const struct fake_host *f);
/*
 * For transport tests: dev as the core leaves it before attaching it, named
 * "virtio-test0", offering feature bits 0-2 (and the core's), chains up to
 * 4 KiB. The caller attaches it and ends with virtio_dev_remove.
 */
int fake_host_virtio_dev(struct fake_host *f, struct virtio_dev *dev, const struct virtio_dev_ops *ops,
			 uint16_t device_id, unsigned nr_queues, uint8_t *config, uint32_t config_size);
/* Serves what the I/O thread would (kicks, tap frames) until nothing is ready, at most `rounds` times. */
void fake_host_run_io(struct fake_host *f, unsigned rounds);
/* Console input, as the main loop hands it to the guest's console device. */
void fake_host_console_input(struct fake_host *f, const uint8_t *data, size_t len);
void fake_host_exit(struct fake_host *f);

#endif
