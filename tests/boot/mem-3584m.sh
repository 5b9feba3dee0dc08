#!/bin/sh
# mem-3584m: with --mem 3584M the total Y in the kernel's
# "Memory: X/YK available" line is within 5% of 3584 MiB.
# 3584 MiB crosses the 3-4 GiB PCI hole, so part of it must sit above 4 GiB.
# timeout: 120
. "$(dirname "$0")/../lib.sh"

boot_guest --mem 3584M
expect_exit 0
expect_console '^KVMINI-GUEST-UP'
expect_kernel_mem 3584
