// SPDX-License-Identifier: Apache-2.0
#include <time.h>

#include "clock.h"

static uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t monotonic_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t process_cpu_ns(void)
{
	return clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}

static uint64_t start_ns;

/* A constructor, so the figure includes everything main does. */
__attribute__((constructor)) static void note_process_start(void)
{
	start_ns = monotonic_ns();
}

uint64_t process_start_ns(void)
{
	return start_ns;
}
