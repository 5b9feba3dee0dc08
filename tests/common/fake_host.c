// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <linux/if_tun.h>

#include "console.h"
#include "fake_host.h"
#include "virtio/net.h"
#include "virtio/virtio.h"

static int fake_irq_line(void *vm, unsigned irq, bool level)
{
	struct fake_host *f = vm;

	if (irq > IRQ_LINE_LAST)
		return -EINVAL;
	pthread_mutex_lock(&f->lock);
	f->raised[irq] += level && !f->line[irq];
	f->line[irq] = level;
	pthread_mutex_unlock(&f->lock);
	return 0;
}

static int fake_irq_alloc_line(void *vm)
{
	struct fake_host *f = vm;
	int line = -ENOSPC;

	pthread_mutex_lock(&f->lock);
	if (f->next_line <= IRQ_LINE_LAST)
		line = (int)f->next_line++;
	pthread_mutex_unlock(&f->lock);
	return line;
}

static int fake_irq_alloc_msi(void *vm, uint64_t address, uint32_t data)
{
	struct fake_host *f = vm;
	int gsi = -ENOSPC;

	pthread_mutex_lock(&f->lock);
	if (f->nr_msi < FAKE_HOST_MSI_MAX) {
		f->msi[f->nr_msi] = (struct fake_msi){ .address = address, .data = data };
		gsi = IRQ_MSI_FIRST + (int)f->nr_msi++;
	}
	pthread_mutex_unlock(&f->lock);
	return gsi;
}

static int fake_irq_set_msi(void *vm, unsigned gsi, uint64_t address, uint32_t data)
{
	struct fake_host *f = vm;
	int err = -EINVAL;

	pthread_mutex_lock(&f->lock);
	if (gsi >= IRQ_MSI_FIRST && gsi - IRQ_MSI_FIRST < f->nr_msi) {
		f->msi[gsi - IRQ_MSI_FIRST] = (struct fake_msi){ .address = address, .data = data };
		err = 0;
	}
	pthread_mutex_unlock(&f->lock);
	return err;
}

static int fake_irqfd(void *vm, int fd, unsigned gsi, bool assign)
{
	struct fake_host *f = vm;
	int err = -ENOSPC;

	pthread_mutex_lock(&f->lock);
	if (f->nr_irqfds < FAKE_HOST_FDS_MAX) {
		f->irqfds[f->nr_irqfds++] = (struct fake_irqfd){ .fd = fd, .gsi = gsi, .assign = assign };
		err = 0;
	}
	pthread_mutex_unlock(&f->lock);
	return err;
}

static int fake_ioeventfd(void *vm, uint64_t addr, unsigned len, bool pio, bool match, uint64_t datamatch, int fd,
			  bool assign)
{
	struct fake_host *f = vm;
	int err = -ENOSPC;

	pthread_mutex_lock(&f->lock);
	if (f->nr_ioeventfds < FAKE_HOST_FDS_MAX) {
		f->ioeventfds[f->nr_ioeventfds++] = (struct fake_ioeventfd){
			.addr = addr, .len = len, .pio = pio, .match = match, .datamatch = datamatch, .fd = fd,
			.assign = assign,
		};
		err = 0;
	}
	pthread_mutex_unlock(&f->lock);
	return err;
}

static int fake_coalesce_pio(void *vm, uint16_t port, unsigned len)
{
	(void)vm;
	(void)port;
	(void)len;
	return -ENOTSUP;
}

static int fake_append_cmdline(void *vm, const char *param)
{
	struct fake_host *f = vm;
	size_t used = strlen(f->cmdline);
	int n = snprintf(f->cmdline + used, sizeof(f->cmdline) - used, "%s%s", used ? " " : "", param);

	if (n < 0 || (size_t)n >= sizeof(f->cmdline) - used) {
		f->cmdline[used] = '\0';
		return -E2BIG;
	}
	return 0;
}

static void fake_event(void *vm, enum device_event event, const char *how)
{
	struct fake_host *f = vm;

	(void)how;
	pthread_mutex_lock(&f->lock);
	f->events[event]++;
	pthread_mutex_unlock(&f->lock);
}

static bool fake_pause_requested(void *vm)
{
	return __atomic_load_n(&((struct fake_host *)vm)->pause_requested, __ATOMIC_SEQ_CST);
}

static void *fake_find(void *vm, const struct device_ops *ops)
{
	return devices_find(&((struct fake_host *)vm)->devices, ops);
}

static int fake_discard_ram(void *vm, uint64_t gpa, uint64_t len)
{
	struct fake_host *f = vm;
	uint8_t *host = guest_ptr(&f->mem, gpa, len);

	if (!host || !len || ((gpa | len) & (GUEST_PAGE_SIZE - 1)))
		return -EINVAL;
	memset(host, 0, len);
	pthread_mutex_lock(&f->lock);
	if (f->nr_discards < FAKE_HOST_DISCARDS_MAX)
		f->discards[f->nr_discards] = (struct fake_discard){ .gpa = gpa, .len = len };
	f->nr_discards++;
	f->discarded += len;
	pthread_mutex_unlock(&f->lock);
	return 0;
}

static const struct device_host_ops fake_host_ops = {
	.irq_line = fake_irq_line,
	.irq_alloc_line = fake_irq_alloc_line,
	.irq_alloc_msi = fake_irq_alloc_msi,
	.irq_set_msi = fake_irq_set_msi,
	.irqfd = fake_irqfd,
	.ioeventfd = fake_ioeventfd,
	.coalesce_pio = fake_coalesce_pio,
	.append_cmdline = fake_append_cmdline,
	.event = fake_event,
	.pause_requested = fake_pause_requested,
	.find = fake_find,
	.discard_ram = fake_discard_ram,
};

int fake_host_tap_peer = -1;

unsigned fake_host_tap_offloads;

int virtio_net_tap_offload(int fd, unsigned offloads)
{
	(void)fd;
	fake_host_tap_offloads = offloads;
	return 0;
}

int fake_host_tap_peers[NET_QUEUE_PAIRS_MAX];
unsigned fake_host_tap_opened;

int virtio_net_open_tap(const char *tap, bool multi_queue, struct vnet_tap_caps *caps, struct errmsg *e)
{
	int fds[2];

	*caps = (struct vnet_tap_caps){ .vnet_hdr = true, .hdr_size_v1 = true,
					.offloads = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 };

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds))
		return errmsg_set(e, errno, "tap '%s': socketpair: %s", tap, strerror(errno));
	fake_host_tap_peer = fds[1];
	if (multi_queue && fake_host_tap_opened < NET_QUEUE_PAIRS_MAX)
		fake_host_tap_peers[fake_host_tap_opened++] = fds[1];
	return fds[0];
}

int fake_host_init(struct fake_host *f, void *ram, uint64_t ram_size)
{
	struct vm_config cfg = f->cfg; /* the caller may have filled it already */
	int pipe_fds[2];

	memset(f, 0, sizeof(*f));
	f->cfg = cfg;
	f->console_in = f->console_out = -1;
	f->io.loop.epfd = f->io.wake_fd = -1;
	f->next_line = IRQ_LINE_FIRST;
	pthread_mutex_init(&f->lock, NULL);
	guest_mem_wrap(&f->mem, ram, ram_size);
	io_bus_init(&f->pio, "port");
	io_bus_init(&f->mmio, "MMIO");
	if (io_thread_init(&f->io)) {
		fprintf(stderr, "fake_host: cannot make the I/O thread's epoll set: %s\n", strerror(errno));
		return -1;
	}
	if (pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK)) {
		fprintf(stderr, "fake_host: pipe: %s\n", strerror(errno));
		return -1;
	}
	f->console_in = pipe_fds[1];
	f->console_out = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (f->console_out < 0 || console_open(&f->console, pipe_fds[0], f->console_out)) {
		fprintf(stderr, "fake_host: cannot make the console: %s\n", strerror(errno));
		close(pipe_fds[0]);
		return -1;
	}
	f->host = (struct device_host){
		.ops = &fake_host_ops,
		.vm = f,
		.pio = &f->pio,
		.mmio = &f->mmio,
		.mem = &f->mem,
		.io = &f->io,
		.console = f->console,
		.nr_cpus = 1,
	};
	return 0;
}

int fake_host_add(struct fake_host *f, const char *name)
{
	const struct device_ops *ops = device_find(name);
	struct errmsg e;
	int err;

	if (!ops) {
		fprintf(stderr, "fake_host: no device '%s'\n", name);
		return -ENOENT;
	}
	/* The machine's facts come from the configuration, as the VM takes them. */
	f->host.acpi = f->cfg.acpi;
	f->host.transport = f->cfg.transport;
	f->host.mmio_cmdline = f->cfg.mmio_cmdline;
	if ((err = devices_add(&f->devices, ops, &f->host, device_config_const(&f->cfg, ops), &e)))
		fprintf(stderr, "fake_host: %s\n", e.text);
	return err;
}

void *fake_host_last(const struct fake_host *f)
{
	return f->devices.nr ? f->devices.devices[f->devices.nr - 1].data : NULL;
}

int fake_host_virtio_dev(struct fake_host *f, struct virtio_dev *dev, const struct virtio_dev_ops *ops,
			 uint16_t device_id, unsigned nr_queues, uint8_t *config, uint32_t config_size)
{
	struct errmsg e;
	int err;

	memset(dev, 0, sizeof(*dev));
	dev->ops = ops;
	dev->device_id = device_id;
	snprintf(dev->name, sizeof(dev->name), "virtio-test0");
	dev->nr_queues = nr_queues;
	dev->device_features = 0x5;
	dev->config = config;
	dev->config_size = config_size;
	dev->request_max = 4096;
	if ((err = virtio_dev_setup(&f->host, dev, &e)))
		fprintf(stderr, "fake_host: %s\n", e.text);
	return err;
}

void fake_host_run_io(struct fake_host *f, unsigned rounds)
{
	struct event_loop *loop = &f->io.loop;

	while (rounds--) {
		struct epoll_event events[EVENT_LOOP_MAX];
		int n = epoll_wait(loop->epfd, events, EVENT_LOOP_MAX, 0);

		if (n <= 0)
			return;
		for (int i = 0; i < n; i++)
			for (unsigned s = 0; s < loop->nr; s++)
				if (loop->sources[s].fd == events[i].data.fd) {
					loop->sources[s].fn(loop->sources[s].ctx, events[i].events);
					break;
				}
	}
}

void fake_host_console_input(struct fake_host *f, const uint8_t *data, size_t len)
{
	if (len && write(f->console_in, data, len) > 0)
		console_read_input(f->console);
	console_retry_input(f->console);
}

void fake_host_exit(struct fake_host *f)
{
	devices_exit(&f->devices);
	io_thread_close(&f->io);
	if (f->console) {
		close(console_input_fd(f->console));
		console_close(f->console);
	}
	if (f->console_in >= 0)
		close(f->console_in);
	if (f->console_out >= 0)
		close(f->console_out);
	pthread_mutex_destroy(&f->lock);
}
