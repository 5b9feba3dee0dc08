#!/bin/sh
# poweroff-acpi: the default action powers off through ACPI; kvmini exits 0
# and its closing reason line on stderr says the guest powered off.
# timeout: 120
. "$(dirname "$0")/../lib.sh"

boot_guest
expect_exit 0
expect_console '^KVMINI-GUEST-UP'
expect_stderr 'power(ed)?[ -]?off'
