#!/bin/sh
# noacpi-pci: without ACPI the MP table tells the kernel how the device
# interrupt lines (IOAPIC pins 16-23) are wired.
# Cases: pci, virtio-rng on PCI with MSI off (pci=nomsi), so its interrupt is
# INTx: the kernel finds its route in the MP table (it says "can't find IRQ
# for PCI INT A" otherwise), programs the pin level-triggered, active low,
# and /dev/hwrng answers through it; mmio, --transport mmio: the kernel
# programs the pins of the virtio-mmio lines level-triggered, active high.
# With apic=verbose the kernel logs how it set up each pin. A guest without
# ACPI cannot power off: each case runs its checks in the guest's shell on
# the serial console, then reboots.
# timeout: 300
. "$(dirname "$0")/../lib.sh"

# shell_case CHECKS ARGS...: boot with --no-acpi ARGS and a shell on the
# serial console; run CHECKS (one line of guest shell commands), then reboot.
shell_case() {
	checks=$1
	shift
	start_guest --no-acpi "$@"
	wait_console '^KVMINI-GUEST-UP' 150 || {
		wait_kvmini 5
		fail "the guest did not come up (kvmini exit $EXIT, stderr: $(head -n 1 "$STDERR"))"
	}
	# Input that arrives before the shell reads the port may be dropped:
	# send until answered (the answer is computed, so it is not the echo).
	tries=0
	while [ "$tries" -lt 10 ]; do
		# shellcheck disable=SC2016 # the guest's shell expands it
		send_input 'echo SHELL-$((6 * 7))\n'
		wait_console '^SHELL-42' 6 && break
		tries=$((tries + 1))
	done
	# Kernel messages stay off the console meanwhile, so none splits a line.
	send_input "dmesg -n 1; $checks; echo CHECKS-DONE; reboot -f\n"
	wait_kvmini 120
	expect_console '^SHELL-42'
	expect_console '^CHECKS-DONE'
	expect_exit 0
}

# The kernel's line for IOAPIC pin $1 (apic=verbose).
pin_setup() {
	tr -d '\r' <"$CONSOLE" | grep -E "^dmesg: .*routing entry \([0-9]+-$1 " | head -n 1
}

# Guest shell commands; the guest's shell expands them.
# shellcheck disable=SC2016
PCI_CHECKS='echo rng_current=$(cat /sys/class/misc/hw_random/rng_current)'
# shellcheck disable=SC2016
PCI_CHECKS="$PCI_CHECKS"'; echo rng_bytes=$(timeout 30 head -c 256 /dev/hwrng | wc -c)'
# shellcheck disable=SC2016
PCI_CHECKS="$PCI_CHECKS"'; echo rng_irq=$(grep virtio /proc/interrupts)'
PCI_CHECKS="$PCI_CHECKS"'; dmesg | grep -E "IRQ for PCI|IRQ transform|routing entry" | sed "s/^/dmesg: /"'
MMIO_CHECKS='dmesg | grep -E "routing entry" | sed "s/^/dmesg: /"'

pci() {
	shell_case "$PCI_CHECKS" --rng --cmdline 'pci=nomsi apic=verbose KVMINI_ACTION=shell'
	if tr -d '\r' <"$CONSOLE" | grep -q "can't find IRQ for PCI"; then
		fail "the kernel found no IRQ for a PCI device: $(tr -d '\r' <"$CONSOLE" | grep -m 1 "can't find IRQ")"
	fi
	expect_console '^dmesg: .*virtio-pci 0000:00:01\.0: PCI->APIC IRQ transform: INT A -> IRQ 1[6-9]$'
	expect_value rng_current virtio_rng.0
	expect_value rng_bytes 256
	# Its interrupt is an IOAPIC pin handled as level-triggered (fasteoi).
	console_value rng_irq | grep -Eq 'IO-APIC +1[6-9]-fasteoi +virtio' ||
		fail "virtio-rng's interrupt is not a level-triggered IOAPIC pin 16-19: '$(console_value rng_irq)'"
	for pin in 16 17 18 19; do
		pin_setup $pin | grep -q 'Level:1 ActiveLow:1' ||
			fail "IOAPIC pin $pin is not level-triggered, active low: '$(pin_setup $pin)'"
	done
}

mmio() {
	shell_case "$MMIO_CHECKS" --transport mmio --rng --cmdline 'apic=verbose KVMINI_ACTION=shell'
	for pin in 16 17 18 19 20 21 22 23; do
		pin_setup $pin | grep -q 'Level:1 ActiveLow:0' ||
			fail "IOAPIC pin $pin is not level-triggered, active high: '$(pin_setup $pin)'"
	done
}

run_case pci pci
run_case mmio mmio
end_cases
