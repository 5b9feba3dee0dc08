#!/bin/sh
# vcpus-1: with --cpus 1 the stock kernel boots and sees 1 CPUs.
# timeout: 120
. "$(dirname "$0")/../lib.sh"

boot_guest --cpus 1
expect_exit 0
expect_console '^KVMINI-GUEST-UP'
expect_value nproc 1
