#!/bin/sh
# vcpus-4: with --cpus 4 the stock kernel boots and sees 4 CPUs.
# timeout: 120
. "$(dirname "$0")/../lib.sh"

boot_guest --cpus 4
expect_exit 0
expect_console '^KVMINI-GUEST-UP'
expect_value nproc 4
