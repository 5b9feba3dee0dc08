// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "console.h"
#include "fake_vm.h"
#include "irq.h"

extern const struct device_ops *const __start_kvmini_devices[];
extern const struct device_ops *const __stop_kvmini_devices[];

int fake_vm_init(struct fake_vm *f, void *ram, uint64_t ram_size, unsigned nr_vcpus)
{
	struct vm *vm = &f->vm;
	struct errmsg e;
	int pipe_fds[2];

	memset(vm, 0, sizeof(*vm));
	vm->cfg = &f->cfg;
	vm->fd = -1;
	guest_mem_wrap(&vm->mem, ram, ram_size);
	io_bus_init(&vm->pio, "port");
	io_bus_init(&vm->mmio, "MMIO");
	pthread_mutex_init(&vm->lock, NULL);
	pthread_mutex_init(&vm->control_lock, NULL);
	pthread_mutex_init(&vm->coalesced_lock, NULL);
	pthread_cond_init(&vm->cond, NULL);
	vm->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vm->nr_vcpus = nr_vcpus;
	vm->vcpus = calloc(nr_vcpus ? nr_vcpus : 1, sizeof(*vm->vcpus));
	for (unsigned i = 0; vm->vcpus && i < nr_vcpus; i++)
		vm->vcpus[i] = (struct vcpu){ .vm = vm, .id = i, .fd = -1 };
	if (vm->stop_fd < 0 || !vm->vcpus || pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK)) {
		fprintf(stderr, "fake_vm: out of memory or file descriptors: %s\n", strerror(errno));
		return -1;
	}
	f->console_in = pipe_fds[1];
	f->console_out = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (f->console_out < 0 || console_open(&vm->console, pipe_fds[0], f->console_out)) {
		fprintf(stderr, "fake_vm: cannot make the console: %s\n", strerror(errno));
		return -1;
	}
	if (irq_init(vm, &e)) {
		fprintf(stderr, "fake_vm: %s\n", e.text);
		return -1;
	}
	if (io_thread_init(&vm->io)) {
		fprintf(stderr, "fake_vm: cannot make the I/O thread's epoll set: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

int fake_vm_add_device(struct fake_vm *f, const char *name)
{
	struct vm *vm = &f->vm;

	for (const struct device_ops *const *d = __start_kvmini_devices; d < __stop_kvmini_devices; d++) {
		struct device_instance *inst = &vm->devices[vm->nr_devices];
		struct errmsg e;
		int err;

		if (strcmp((*d)->name, name))
			continue;
		inst->ops = *d;
		inst->data = NULL;
		if ((err = inst->ops->init(vm, &inst->data, &e))) {
			fprintf(stderr, "fake_vm: %s\n", e.text);
			return err;
		}
		vm->nr_devices++;
		return 0;
	}
	fprintf(stderr, "fake_vm: no device '%s'\n", name);
	return -1;
}

void fake_vm_run_io(struct fake_vm *f, unsigned rounds)
{
	struct event_loop *loop = &f->vm.io.loop;

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

void fake_vm_console_input(struct fake_vm *f, const uint8_t *data, size_t len)
{
	if (len && write(f->console_in, data, len) > 0)
		console_read_input(f->vm.console);
	console_retry_input(f->vm.console);
}

void fake_vm_exit(struct fake_vm *f)
{
	struct vm *vm = &f->vm;

	devices_exit(vm);
	io_thread_close(&vm->io);
	irq_exit(vm);
	close(console_input_fd(vm->console));
	console_close(vm->console);
	close(f->console_in);
	close(f->console_out);
	close(vm->stop_fd);
	free(vm->vcpus);
	pthread_mutex_destroy(&vm->lock);
	pthread_mutex_destroy(&vm->control_lock);
	pthread_mutex_destroy(&vm->coalesced_lock);
	pthread_cond_destroy(&vm->cond);
}
