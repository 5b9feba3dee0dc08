#!/bin/bash
# make run: boot the default guest (stock Debian kernel, busybox initramfs)
# with a shell on the console. Directly on /dev/kvm when it works here,
# else nested: kvmini runs inside the bench's L1 under QEMU/TCG, on L1's
# serial console, which QEMU connects to this terminal.
#
# Usage: run-interactive.sh --kvmini PATH
set -u
source "$(dirname "$0")/common.sh"

[ $# -eq 2 ] && [ "$1" = --kvmini ] || { echo "usage: run-interactive.sh --kvmini PATH" >&2; exit 2; }
KVMINI=$2
[ -f "$KVMINI" ] && [ -x "$KVMINI" ] || die "$KVMINI is not an executable (run make first)"

resolve_kernel
build_guest_initrd
build_probe

if kvm_usable; then
	exec "$KVMINI" run --kernel "$VMLINUZ" --initrd "$GUEST_INITRD" \
		--cmdline KVMINI_ACTION=shell
fi
echo "run-interactive: $KVM_REASON; booting kvmini nested in QEMU/TCG (slow; Ctrl-A x quits QEMU)"
build_l1_initrd
exec "${L1_QEMU[@]}" -kernel "$VMLINUZ" -initrd "$L1_INITRD" \
	-append "$L1_CMDLINE KVMINI_BENCH=interactive"
