// SPDX-License-Identifier: Apache-2.0
/* io_thread_call: where fn runs (the I/O thread, or the caller's while it is stopped), its deadline, one at a time. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/epoll.h>

#include "io_thread.h"

#define TEST_TIMEOUT 20

static struct io_thread io;

struct probe {
	pthread_t ran_on;
	int calls;
};

static int record_thread(void *arg)
{
	struct probe *p = arg;

	p->ran_on = pthread_self();
	p->calls++;
	return 42;
}

static void test_runs_on_the_thread_or_here(void **state)
{
	struct probe p = { 0 };
	(void)state;

	alarm(TEST_TIMEOUT);
	assert_int_equal(io_thread_init(&io), 0);
	/* Not started: on the caller's thread. */
	assert_int_equal(io_thread_call(&io, record_thread, &p, 1000), 42);
	assert_true(pthread_equal(p.ran_on, pthread_self()));
	assert_int_equal(io_thread_start(&io), 0);
	assert_int_equal(io_thread_call(&io, record_thread, &p, 1000), 42);
	assert_true(pthread_equal(p.ran_on, io.thread));
	/* Stopped again (a pause): here once more. */
	io_thread_stop(&io);
	assert_int_equal(io_thread_call(&io, record_thread, &p, 1000), 42);
	assert_true(pthread_equal(p.ran_on, pthread_self()));
	assert_int_equal(p.calls, 3);
	io_thread_close(&io);
}

/* A device callback that does not return until told: the call cannot be taken meanwhile. */
static int stuck_fd;
static volatile int release;

static void stuck_callback(void *ctx, uint32_t events)
{
	uint64_t v;

	(void)ctx;
	(void)events;
	(void)!read(stuck_fd, &v, sizeof(v));
	while (!__atomic_load_n(&release, __ATOMIC_ACQUIRE))
		usleep(1000);
}

static void test_deadline(void **state)
{
	struct probe p = { 0 };
	uint64_t one = 1;
	(void)state;

	alarm(TEST_TIMEOUT);
	release = 0;
	assert_int_equal(io_thread_init(&io), 0);
	stuck_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_int_equal(io_thread_add(&io, stuck_fd, EPOLLIN, stuck_callback, NULL), 0);
	assert_int_equal(io_thread_start(&io), 0);
	assert_int_equal(write(stuck_fd, &one, sizeof(one)), sizeof(one));
	usleep(20000);
	assert_int_equal(io_thread_call(&io, record_thread, &p, 100), -ETIMEDOUT);
	assert_int_equal(p.calls, 0);
	__atomic_store_n(&release, 1, __ATOMIC_RELEASE);
	/* The withdrawn call never runs; the next one does. */
	assert_int_equal(io_thread_call(&io, record_thread, &p, 5000), 42);
	assert_int_equal(p.calls, 1);
	io_thread_close(&io);
	close(stuck_fd);
}

static int count_up(void *arg)
{
	int *n = arg;

	(*n)++; /* unlocked on purpose: calls are taken one at a time (TSan checks) */
	return 0;
}

static void *caller(void *arg)
{
	for (int i = 0; i < 200; i++)
		if (io_thread_call(&io, count_up, arg, 5000))
			return (void *)1;
	return NULL;
}

static void test_callers_one_at_a_time(void **state)
{
	pthread_t t[3];
	int n = 0;
	void *ret;
	(void)state;

	alarm(TEST_TIMEOUT);
	assert_int_equal(io_thread_init(&io), 0);
	assert_int_equal(io_thread_start(&io), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&t[i], NULL, caller, &n), 0);
	/* A pause in the middle: calls then run on their callers' threads, still one at a time. */
	usleep(5000);
	io_thread_stop(&io);
	usleep(5000);
	assert_int_equal(io_thread_start(&io), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(pthread_join(t[i], &ret), 0);
		assert_null(ret);
	}
	assert_int_equal(n, 600);
	io_thread_close(&io);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runs_on_the_thread_or_here),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_callers_one_at_a_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
