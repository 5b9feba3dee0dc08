#!/bin/sh
# reboot-noacpi: without ACPI tables the kernel still finds both CPUs (MP
# table), and a reboot (reboot=k, the keyboard controller reset) ends
# kvmini with exit 0.
# timeout: 120
. "$(dirname "$0")/../lib.sh"

boot_guest --no-acpi --cpus 2 --cmdline KVMINI_ACTION=reboot
expect_exit 0
expect_console '^KVMINI-GUEST-UP'
expect_value nproc 2
expect_stderr 'reboot|reset|restart'
