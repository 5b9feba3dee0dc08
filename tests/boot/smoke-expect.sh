#!/bin/sh
# smoke-expect: an --expect line the guest never prints fails the run (exit 1)
# and the verdict names it; a --fail match fails it too. The built-in init
# saved with --save-initrd and given back as --initrd passes like the
# built-in one (it is the same archive, as make bench boots it under QEMU).
# timeout: 360
. "$(dirname "$0")/../lib.sh"

never() {
	run_smoke --kernel "$GUEST_KERNEL" --timeout 120 --expect 'this line never appears'
	expect_exit 1
	expect_console "^FAIL vmlinuz cpus=1,mem=512M: .*this line never appears"
	expect_console '^--- last 50 console lines of vmlinuz cpus=1,mem=512M ---$'
}

fail_regex() {
	run_smoke --kernel "$GUEST_KERNEL" --timeout 120 --fail '^kvmini-init: cpus'
	expect_exit 1
	expect_console '^FAIL vmlinuz cpus=1,mem=512M: .*kvmini-init: cpus'
}

saved_initrd() {
	run_kvmini smoke --save-initrd "$T/saved.cpio"
	expect_exit 0
	run_smoke --kernel "$GUEST_KERNEL" --initrd "$T/saved.cpio" --timeout 120
	expect_exit 0
	expect_console '^PASS vmlinuz cpus=1,mem=512M: init after [0-9.]* s'
}

run_case never never
run_case fail-regex fail_regex
run_case saved-initrd saved_initrd
end_cases
