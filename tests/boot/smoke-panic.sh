#!/bin/sh
# smoke-panic: a kernel that panics gives exit 4 and its panic lines, both
# when init is missing and when the guest crashes itself through sysrq.
# timeout: 240
. "$(dirname "$0")/../lib.sh"

no_init() {
	run_smoke --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --timeout 120 \
		--cmdline "rdinit=/nonexistent init=/nonexistent"
	expect_exit 4
	expect_console '^PANIC vmlinuz cpus=1,mem=512M: '
	expect_console 'Kernel panic - not syncing'
}

sysrq() {
	run_smoke --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --timeout 120 \
		--cmdline KVMINI_ACTION=panic
	expect_exit 4
	expect_console '^PANIC vmlinuz cpus=1,mem=512M: kernel panic: .*sysrq'
	expect_console 'Kernel panic - not syncing: sysrq triggered crash'
}

run_case no-init no_init
run_case sysrq sysrq
end_cases
