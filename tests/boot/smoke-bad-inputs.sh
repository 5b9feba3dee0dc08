#!/bin/sh
# smoke-bad-inputs: smoke refuses what run refuses, with the same messages,
# a regex that does not compile is a usage error naming it, and
# --save-initrd to a folder that does not exist is one clear error, and so
# is --save-initrd with an option that only a boot would use; a config that
# lacks what the run needs is a CONFIG verdict (exit 5, 125 for --bisect) with nothing booted.
# timeout: 60
. "$(dirname "$0")/../lib.sh"

bad_regex() {
	run_smoke --kernel "$GUEST_KERNEL" --expect 'boot (ok'
	expect_exit 2
	expect_one_message
	expect_stderr "boot \\(ok"
}

missing_kernel() {
	run_kvmini smoke --kernel /nonexistent/bzImage
	expect_exit 1
	expect_one_message
	expect_stderr "kernel '/nonexistent/bzImage': No such file or directory"
	# For git bisect run, a commit whose build left no kernel is one to skip.
	run_kvmini smoke --kernel /nonexistent/bzImage --bisect
	expect_exit 125
}

bad_values() {
	run_smoke --kernel "$GUEST_KERNEL" --cpus 0
	expect_exit 2
	expect_stderr "--cpus '0'"
	run_smoke --kernel "$GUEST_KERNEL" --mem 12Q
	expect_exit 2
	expect_stderr "--mem '12Q': not a size"
	run_smoke --kernel "$GUEST_KERNEL" --timeout 0
	expect_exit 2
	expect_stderr "--timeout '0'"
	run_smoke --kernel "$GUEST_KERNEL" --transport pci,isa
	expect_exit 2
	expect_stderr "--transport 'pci,isa': 'isa' is not pci or mmio"
	run_smoke --kernel "$GUEST_KERNEL" --acpi on,off --no-acpi
	expect_exit 2
	expect_stderr "--no-acpi and --acpi"
	# A distribution kernel has no vmlinux beside it: its PVH cells cannot run, and nothing boots.
	run_smoke --kernel "$GUEST_KERNEL" --boot bzimage,pvh
	expect_exit 2
	expect_one_message
	expect_stderr "--boot pvh needs the ELF vmlinux of .*: give --vmlinux FILE"
	[ ! -s "$CONSOLE" ] || fail "--boot pvh without a vmlinux printed a verdict: $(head -n 1 "$CONSOLE")"
	run_smoke --kernel "$GUEST_KERNEL" --baseline /nonexistent/bzImage
	expect_exit 2
	expect_one_message
	expect_stderr "--baseline '/nonexistent/bzImage': No such file or directory"
}

# The preflight: a config without what the run needs is a CONFIG verdict, exit 5 (125 for git bisect run), and no boot.
config_lacks() {
	printf '%s\n' 'CONFIG_SERIAL_8250=y' '# CONFIG_SERIAL_8250_CONSOLE is not set' 'CONFIG_ACPI=y' \
		'CONFIG_BLK_DEV_INITRD=y' >"$T/lacking.config"
	run_kvmini smoke --kernel "$GUEST_KERNEL" --config "$T/lacking.config" --no-acpi --cpus 1,2 --junit "$T/config.xml"
	expect_exit 5
	expect_console "^CONFIG .*vmlinuz: the kernel's config \\($T/lacking.config\\) lacks what this run needs:"
	expect_console '^  CONFIG_SERIAL_8250_CONSOLE: the console is ttyS0'
	expect_console '^  CONFIG_X86_MPPARSE: '
	! grep -q 'Linux version' "$CONSOLE" || fail "the kernel booted despite the CONFIG verdict"
	grep -q 'type="CONFIG"' "$T/config.xml" || fail "no CONFIG failure in the JUnit file"
	run_kvmini smoke --kernel "$GUEST_KERNEL" --config "$T/lacking.config" --bisect
	expect_exit 125
	run_kvmini smoke --kernel "$GUEST_KERNEL" --config /nonexistent/.config
	expect_exit 2
	expect_one_message
	expect_stderr "config '/nonexistent/.config': No such file or directory"
}

# Forensics' inputs are refused before anything boots.
forensics_inputs() {
	# Like Debian's placeholder System.map: no code symbol to name a RIP with.
	printf 'ffffffff82000000 D init_task\n' >"$T/data-only.map"
	: >"$T/empty.map"
	run_smoke --kernel "$GUEST_KERNEL" --system-map "$T/data-only.map"
	expect_exit 2
	expect_one_message
	expect_stderr "--system-map '$T/data-only.map'"
	run_smoke --kernel "$GUEST_KERNEL" --system-map "$T/empty.map"
	expect_exit 2
	expect_stderr "--system-map '$T/empty.map': empty"
	run_smoke --kernel "$GUEST_KERNEL" --vmlinux "$T/empty.map"
	expect_exit 2
	expect_stderr "--vmlinux '$T/empty.map'"
	run_smoke --kernel "$GUEST_KERNEL" --hang-after soon
	expect_exit 2
	expect_stderr "--hang-after 'soon': must be a number of seconds from 0 to 86400"
}

unwritable_initrd() {
	run_kvmini smoke --save-initrd /nonexistent/initrd.cpio
	expect_exit 1
	expect_one_message
	expect_stderr "--save-initrd '/nonexistent/initrd.cpio': No such file or directory"
}

save_initrd_with_boot_options() {
	run_kvmini smoke --save-initrd "$T/saved.cpio" --kernel "$GUEST_KERNEL"
	expect_exit 2
	expect_one_message
	expect_stderr "--save-initrd boots nothing, so --kernel has no use with it"
	[ ! -e "$T/saved.cpio" ] || fail "--save-initrd with --kernel wrote $T/saved.cpio anyway"
}

run_case bad-regex bad_regex
run_case missing-kernel missing_kernel
run_case config-lacks config_lacks
run_case forensics-inputs forensics_inputs
run_case bad-values bad_values
run_case unwritable-initrd unwritable_initrd
run_case save-initrd-with-boot-options save_initrd_with_boot_options
end_cases
