#!/bin/sh
# smoke-bad-inputs: smoke refuses what run refuses, with the same messages,
# a regex that does not compile is a usage error naming it, and
# --save-initrd to a folder that does not exist is one clear error, and so
# is --save-initrd with an option that only a boot would use.
# timeout: 60
. "$(dirname "$0")/../lib.sh"

bad_regex() {
	run_kvmini smoke $SMOKE_ALLOW --kernel "$GUEST_KERNEL" --expect 'boot (ok'
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
	run_kvmini smoke $SMOKE_ALLOW --kernel "$GUEST_KERNEL" --cpus 0
	expect_exit 2
	expect_stderr "--cpus '0'"
	run_kvmini smoke $SMOKE_ALLOW --kernel "$GUEST_KERNEL" --mem 12Q
	expect_exit 2
	expect_stderr "--mem '12Q': not a size"
	run_kvmini smoke $SMOKE_ALLOW --kernel "$GUEST_KERNEL" --timeout 0
	expect_exit 2
	expect_stderr "--timeout '0'"
	run_kvmini smoke $SMOKE_ALLOW --kernel "$GUEST_KERNEL" --transport pci,isa
	expect_exit 2
	expect_stderr "--transport 'pci,isa': 'isa' is not pci or mmio"
	run_kvmini smoke $SMOKE_ALLOW --kernel "$GUEST_KERNEL" --acpi on,off --no-acpi
	expect_exit 2
	expect_stderr "--no-acpi and --acpi"
	# A distribution kernel has no vmlinux beside it: its PVH cells cannot run, and nothing boots.
	run_kvmini smoke $SMOKE_ALLOW --kernel "$GUEST_KERNEL" --boot bzimage,pvh
	expect_exit 2
	expect_one_message
	expect_stderr "--boot pvh needs the ELF vmlinux of .*: give --vmlinux FILE"
	[ ! -s "$CONSOLE" ] || fail "--boot pvh without a vmlinux printed a verdict: $(head -n 1 "$CONSOLE")"
	run_kvmini smoke $SMOKE_ALLOW --kernel "$GUEST_KERNEL" --baseline /nonexistent/bzImage
	expect_exit 2
	expect_one_message
	expect_stderr "--baseline '/nonexistent/bzImage': No such file or directory"
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
run_case bad-values bad_values
run_case unwritable-initrd unwritable_initrd
run_case save-initrd-with-boot-options save_initrd_with_boot_options
end_cases
