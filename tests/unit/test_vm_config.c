// SPDX-License-Identifier: Apache-2.0
/* The machine's option values (src/vm_config.c); --mem goes through test_run_args. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "vm_config.h"

static struct errmsg e;

/* The message must be one line that names the option, quotes its value and names the bad part. */
static void expect_error(int ret, const char *fragment1, const char *fragment2)
{
	assert_int_equal(ret, -EINVAL);
	assert_null(strchr(e.text, '\n'));
	if (!strstr(e.text, fragment1) || !strstr(e.text, fragment2))
		fail_msg("error \"%s\" does not mention \"%s\" and \"%s\"", e.text, fragment1, fragment2);
}

static void test_transport(void **state)
{
	enum virtio_transport_kind t = VIRTIO_TRANSPORT_PCI;
	(void)state;

	assert_int_equal(vm_config_parse_transport("mmio", &t, &e), 0);
	assert_int_equal(t, VIRTIO_TRANSPORT_MMIO);
	assert_int_equal(vm_config_parse_transport("pci", &t, &e), 0);
	assert_int_equal(t, VIRTIO_TRANSPORT_PCI);
	expect_error(vm_config_parse_transport("PCI", &t, &e), "--transport 'PCI'", "pci or mmio");
	expect_error(vm_config_parse_transport("", &t, &e), "--transport ''", "pci or mmio");
	assert_int_equal(t, VIRTIO_TRANSPORT_PCI);
}

static void test_nested(void **state)
{
	bool nested = false;
	(void)state;

	assert_int_equal(vm_config_parse_nested("on", &nested, &e), 0);
	assert_true(nested);
	assert_int_equal(vm_config_parse_nested("off", &nested, &e), 0);
	assert_false(nested);
	expect_error(vm_config_parse_nested("yes", &nested, &e), "--nested 'yes'", "on or off");
	assert_false(nested);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transport),
		cmocka_unit_test(test_nested),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
