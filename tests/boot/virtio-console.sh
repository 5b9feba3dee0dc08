#!/bin/sh
# virtio-console: with --console virtio, a shell the guest runs on /dev/hvc0
# answers a command sent to kvmini's stdin, through virtio-console both ways
# (the answer is computed, so it cannot be the terminal's echo), then exits,
# and the guest's init goes on to power off.
# Cases: hvc-only, hvc0 as the only kernel console (console=hvc0: the
# guest's init and kernel messages reach stdout through its transmit queue
# too); serial-and-hvc, next to the serial port (console=ttyS0 console=hvc0:
# init's output stays on the serial port); hvc-only-mmio, the first with
# --transport mmio.
# timeout: 300
. "$(dirname "$0")/../lib.sh"

# hvc_case CMDLINE [ARGS...]: boot with --console virtio, ARGS and the shell
# on hvc0; ask it to compute 6*7 and exit.
hvc_case() {
	cmdline=$1
	shift
	start_guest --console virtio "$@" --cmdline "$cmdline KVMINI_ACTION=virtio-console"
	wait_console '^HVC-SHELL-READY' 150 || {
		wait_kvmini 5
		fail "the guest never started its shell on hvc0 (kvmini exit $EXIT, stderr: $(head -n 1 "$STDERR"))"
	}
	# Input sent before the shell reads may be lost (the guest driver drops
	# what arrives while its port is still being set up): send it until
	# answered.
	tries=0
	while [ "$tries" -lt 10 ]; do
		# shellcheck disable=SC2016 # the guest's shell expands it
		send_input 'echo HVC-$((6 * 7)); exit\n'
		wait_console '^HVC-42' 6 && break
		tries=$((tries + 1))
	done
	wait_kvmini 60
	expect_console '^HVC-42'
	expect_exit 0
	expect_console '^KVMINI-GUEST-UP'
	expect_console '^virtio-console-done'
	expect_value hvc_shell_rc 0
}

hvc_only() { hvc_case console=hvc0; }
serial_and_hvc() { hvc_case "console=ttyS0 console=hvc0"; }
hvc_only_mmio() { hvc_case console=hvc0 --transport mmio; }

run_case hvc-only hvc_only
run_case serial-and-hvc serial_and_hvc
run_case hvc-only-mmio hvc_only_mmio
end_cases
