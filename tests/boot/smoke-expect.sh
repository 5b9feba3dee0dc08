#!/bin/sh
# smoke-expect: an --expect line the guest never prints fails the run (exit 1)
# and the verdict names it; a --fail match fails it too.
# timeout: 240
. "$(dirname "$0")/../lib.sh"

never() {
	run_kvmini smoke --kernel "$GUEST_KERNEL" --timeout 120 --expect 'this line never appears'
	expect_exit 1
	expect_console "^FAIL vmlinuz 1 vCPU: .*this line never appears"
	expect_console '^--- last 50 console lines of vmlinuz 1 vCPU ---$'
}

fail_regex() {
	run_kvmini smoke --kernel "$GUEST_KERNEL" --timeout 120 --fail '^kvmini-init: cpus'
	expect_exit 1
	expect_console '^FAIL vmlinuz 1 vCPU: .*kvmini-init: cpus'
}

run_case never never
run_case fail-regex fail_regex
end_cases
