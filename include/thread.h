/* SPDX-License-Identifier: Apache-2.0 */
/* kvmini's own threads (vCPUs, the I/O thread, the API server). */
#ifndef KVMINI_THREAD_H
#define KVMINI_THREAD_H

#include <pthread.h>

/*
 * Their stacks are this size rather than glibc's 8 MiB: small enough that no
 * 2 MiB-aligned range fits inside, so a host whose transparent huge pages are
 * "always" never backs a stack with a 2 MiB page (VMM memory is a make bench
 * figure), and far more than any of them uses, ASan included.
 */
#define THREAD_STACK_SIZE (1u << 20)

/* pthread_create with that stack size; returns 0 or a negative errno. */
int thread_start(pthread_t *thread, void *(*fn)(void *), void *arg);

#endif
