/* SPDX-License-Identifier: Apache-2.0 */
/* The devices' tests of their describe_acpi hooks (include after cmocka.h). */
#ifndef KVMINI_TEST_DEVICE_AML_H
#define KVMINI_TEST_DEVICE_AML_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "boot/aml.h"
#include "device.h"

/* The device declares itself as exactly ref, and out of room it fails rather than cutting the device off. */
static inline void expect_device_aml(const struct device_instance *d, const uint8_t *ref, size_t len)
{
	uint8_t out[256];
	struct aml a;

	assert_true(len <= sizeof(out));
	aml_init(&a, out, sizeof(out));
	assert_int_equal(d->ops->describe_acpi(d->data, &a), 0);
	assert_int_equal(aml_finish(&a), len);
	assert_memory_equal(out, ref, len);
	aml_init(&a, out, 20);
	assert_int_equal(d->ops->describe_acpi(d->data, &a), -ENOSPC);
}

#endif
