// SPDX-License-Identifier: Apache-2.0
#include "smoke/bisect.h"

enum bisect_outcome bisect_outcome_of(enum verdict_status s)
{
	switch (s) {
	case VERDICT_PASS:
		return BISECT_PASS;
	case VERDICT_FAIL:
		return BISECT_FAIL;
	case VERDICT_PANIC:
		return BISECT_PANIC;
	case VERDICT_TIMEOUT:
		return BISECT_TIMEOUT;
	case VERDICT_CONFIG:
		return BISECT_CONFIG;
	case VERDICT_ERROR:
		break;
	}
	return BISECT_ERROR;
}

int bisect_exit_code(enum bisect_outcome o)
{
	switch (o) {
	case BISECT_PASS:
		return BISECT_GOOD;
	case BISECT_FAIL:
	case BISECT_PANIC:
	case BISECT_TIMEOUT:
	case BISECT_KERNEL_REJECTED:
		return BISECT_BAD;
	case BISECT_CONFIG:
	case BISECT_NO_KVM:
	case BISECT_KERNEL_MISSING:
	case BISECT_DISK_FULL:
	case BISECT_USAGE:
	case BISECT_ERROR:
		break;
	}
	/* Not knowing is a skip: a wrong "bad" sends the bisection down the wrong half. */
	return BISECT_SKIP;
}
