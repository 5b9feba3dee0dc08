#!/bin/sh
# mem-256m: with --mem 256M the total Y in the kernel's
# "Memory: X/YK available" line is within 5% of 256 MiB.
# A small guest: no memory above the PCI hole.
# timeout: 120
. "$(dirname "$0")/../lib.sh"

boot_guest --mem 256M
expect_exit 0
expect_console '^KVMINI-GUEST-UP'
expect_kernel_mem 256
