/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KVMINI_CLOCK_H
#define KVMINI_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC: for deadlines and for timing a boot, never for wall-clock dates. */
uint64_t monotonic_ns(void);

/* monotonic_ns() when the process started (before main), for "time since start" figures. */
uint64_t process_start_ns(void);
/* CPU time the whole process has used so far, in nanoseconds. */
uint64_t process_cpu_ns(void);

static inline uint64_t monotonic_ms(void)
{
	return monotonic_ns() / 1000000;
}

#endif
