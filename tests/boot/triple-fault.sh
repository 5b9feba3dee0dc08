#!/bin/sh
# triple-fault: a tiny guest that triple faults; kvmini reports the
# shutdown with the guest's rip and exits 1. A missing guest is a failure:
# this test must not pass by skipping.
# timeout: 60
. "$(dirname "$0")/../lib.sh"

guest=$GUESTS_DIR/triple-fault.elf
[ -f "$guest" ] || fail "$guest is missing (make builds it)"
run_kvmini run --kernel "$guest"
expect_exit 1
expect_stderr 'triple fault|shutdown'
expect_stderr 'rip='
