#!/bin/sh
# vcpus-2: with --cpus 2 the stock kernel boots and sees 2 CPUs.
# timeout: 120
. "$(dirname "$0")/../lib.sh"

boot_guest --cpus 2
expect_exit 0
expect_console '^KVMINI-GUEST-UP'
expect_value nproc 2
