// SPDX-License-Identifier: Apache-2.0
#include <pthread.h>

#include "thread.h"

int thread_start(pthread_t *thread, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	int err;

	if ((err = pthread_attr_init(&attr)))
		return -err;
	err = pthread_attr_setstacksize(&attr, THREAD_STACK_SIZE);
	err = err ?: pthread_create(thread, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return -err;
}
