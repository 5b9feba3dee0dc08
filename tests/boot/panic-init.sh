#!/bin/sh
# panic-init: a guest kernel panic ends kvmini with exit 4, promptly
# (panic=-1 makes the kernel reboot at once; the limit below bounds it).
# No initramfs here: the busybox one would run its own /init whatever
# init= says. Without it the kernel finds no root file system to run
# /nonexistent from, and panics.
# timeout: 120
. "$(dirname "$0")/../lib.sh"

run_kvmini run --kernel "$GUEST_KERNEL" --cmdline init=/nonexistent
expect_exit 4
expect_console 'Kernel panic'
