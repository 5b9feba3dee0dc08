#!/bin/sh
# bad-inputs: each bad input gets one "kvmini: " line on stderr and its
# exit code (1 runtime error, 2 usage error), never a crash. Each sub-case
# runs even if an earlier one failed, and reports its own name.
# fifo-kernel, config-symlink-kernel, config-fifo-drive: a FIFO nobody
# writes to, or a symbolic link in a configuration file (paths an API
# client names), is refused at once with a message saying what it is; each
# run is bounded at 30 s, so a kvmini that waits on the FIFO fails the case.
# timeout: 240
. "$(dirname "$0")/../lib.sh"

# hex_bytes HH...: write the given bytes.
hex_bytes() {
	for b in "$@"; do
		printf "\\$(printf %03o "0x$b")"
	done
}

missing_kernel() {
	run_kvmini run --kernel "$T/no-such-kernel"
	expect_exit 1
	expect_one_message
	expect_stderr 'no-such-kernel'
}

empty_kernel() {
	: >"$T/empty-kernel"
	run_kvmini run --kernel "$T/empty-kernel"
	expect_exit 1
	expect_one_message
}

random_kernel() {
	# Kept (with the logs) when this fails, to reproduce.
	head -c 65536 /dev/urandom >"$T/random-kernel"
	run_kvmini run --kernel "$T/random-kernel"
	expect_exit 1
	expect_one_message
}

truncated_bzimage() {
	head -c 4096 "$GUEST_KERNEL" >"$T/truncated-bzimage"
	run_kvmini run --kernel "$T/truncated-bzimage" --initrd "$GUEST_INITRD"
	expect_exit 1
	expect_one_message
}

aarch64_elf() {
	# A well-formed ELF64 executable header (e_machine 183, EM_AARCH64) with
	# one PT_LOAD program header covering the 120-byte file.
	{
		hex_bytes 7f 45 4c 46 02 01 01 00 00 00 00 00 00 00 00 00
		hex_bytes 02 00 b7 00 01 00 00 00          # ET_EXEC, aarch64, v1
		hex_bytes 00 00 08 40 00 00 00 00          # e_entry 0x40080000
		hex_bytes 40 00 00 00 00 00 00 00          # e_phoff 64
		hex_bytes 00 00 00 00 00 00 00 00          # e_shoff
		hex_bytes 00 00 00 00 40 00 38 00 01 00    # flags, ehsize, phentsize, phnum
		hex_bytes 40 00 00 00 00 00                # shentsize, shnum, shstrndx
		hex_bytes 01 00 00 00 05 00 00 00          # PT_LOAD, R+X
		hex_bytes 00 00 00 00 00 00 00 00          # p_offset
		hex_bytes 00 00 08 40 00 00 00 00          # p_vaddr
		hex_bytes 00 00 08 40 00 00 00 00          # p_paddr
		hex_bytes 78 00 00 00 00 00 00 00          # p_filesz
		hex_bytes 78 00 00 00 00 00 00 00          # p_memsz
		hex_bytes 00 10 00 00 00 00 00 00          # p_align
	} >"$T/aarch64.elf"
	run_kvmini run --kernel "$T/aarch64.elf"
	expect_exit 1
	expect_one_message
}

# usage_error ARGS...: valid kernel and initrd, bad ARGS: exit 2.
usage_error() {
	boot_guest "$@"
	expect_exit 2
	expect_one_message
}
cpus_0() { usage_error --cpus 0; }
cpus_100000() { usage_error --cpus 100000; }
mem_12Q() { usage_error --mem 12Q; }
mem_1M() { usage_error --mem 1M; }

initrd_too_big() {
	# 192 MiB, sparse, for a 128 MiB guest (the kernel alone needs ~80).
	dd if=/dev/zero of="$T/big-initrd" bs=1M count=0 seek=192 2>/dev/null
	run_kvmini run --kernel "$GUEST_KERNEL" --initrd "$T/big-initrd" --mem 128M
	rm -f "$T/big-initrd"
	expect_exit 1
	expect_one_message
	expect_stderr 'initrd'
}

no_kvm() {
	export KVMINI_KVM_DEVICE=/nonexistent
	boot_guest
	expect_exit 1
	expect_one_message
	expect_stderr 'docs/testing\.md'
}

kvm_permission() {
	# Never touch the real /dev/kvm: point kvmini at a private device that
	# it may not open. Everything else is copied into a world-readable
	# directory so that only the device is out of reach.
	dir=$(mktemp -d /tmp/kvmini-perm.XXXXXX)
	chmod 0755 "$dir"
	cp "$KVMINI" "$dir/kvmini"
	cp "$GUEST_KERNEL" "$dir/vmlinuz"
	cp "$GUEST_INITRD" "$dir/initrd"
	export KVMINI_KVM_DEVICE="$dir/kvm"
	if [ "$(id -u)" -eq 0 ]; then
		# root ignores file modes: run as nobody against a 0600 root-owned
		# node of the KVM device (char 10:232).
		mknod -m 0600 "$dir/kvm" c 10 232
		# "--" keeps su from taking kvmini's options as its own.
		cat >"$dir/as-nobody" <<-EOF
		#!/bin/sh
		exec su -s /bin/sh -c 'exec "\$0" "\$@"' -- nobody "$dir/kvmini" "\$@"
		EOF
		chmod 0755 "$dir/as-nobody"
		KVMINI=$dir/as-nobody
	else
		: >"$dir/kvm"
		chmod 0000 "$dir/kvm"
	fi
	run_kvmini run --kernel "$dir/vmlinuz" --initrd "$dir/initrd"
	rm -rf "$dir"
	expect_exit 1
	expect_one_message
	expect_stderr 'permission'
}

# run_bounded ARGS...: run_kvmini, killed after 30 s (then the exit code is not 1). SIGKILL: kvmini
# blocks SIGTERM for its signalfd, so a kvmini stuck in open() would outlive a plain timeout.
run_bounded() {
	printf '#!/bin/sh\nexec timeout -s KILL 30 "%s" "$@"\n' "$KVMINI" >"$T/kvmini-bounded"
	chmod 0755 "$T/kvmini-bounded"
	KVMINI=$T/kvmini-bounded run_kvmini "$@"
}

fifo_kernel() {
	mkfifo "$T/kernel-fifo"
	run_bounded run --kernel "$T/kernel-fifo" --initrd "$GUEST_INITRD"
	expect_exit 1
	expect_one_message
	expect_stderr "kernel '$T/kernel-fifo': a FIFO, not a regular file"
}

# config_file KERNEL [DRIVE]: a daemon configuration with that kernel (and a read-only drive).
config_file() {
	drives=
	[ -z "${2:-}" ] || drives="{ \"drive_id\": \"d\", \"path_on_host\": \"$2\", \"is_root_device\": false, \"is_read_only\": true }"
	cat >"$T/$CASE.json" <<EOF
{
  "boot-source": { "kernel_image_path": "$1", "initrd_path": "$GUEST_INITRD" },
  "machine-config": { "vcpu_count": 1, "mem_size_mib": 128 },
  "drives": [ $drives ]
}
EOF
}

config_symlink_kernel() {
	ln -s "$GUEST_KERNEL" "$T/vmlinuz-link"
	config_file "$T/vmlinuz-link"
	run_bounded daemon --api-sock "$T/$CASE.sock" --config-file "$T/$CASE.json"
	expect_exit 1
	expect_one_message
	expect_stderr "kernel '$T/vmlinuz-link' is a symbolic link; give the path of the file itself"
}

config_fifo_drive() {
	mkfifo "$T/drive-fifo"
	config_file "$GUEST_KERNEL" "$T/drive-fifo"
	run_bounded daemon --api-sock "$T/$CASE.sock" --config-file "$T/$CASE.json"
	# As Firecracker, a drive's path is checked when the drive is given: while the file is read, a usage error.
	expect_exit 2
	expect_one_message
	expect_stderr "drive '$T/drive-fifo': a FIFO, not a regular file or a block device"
}

run_case missing-kernel missing_kernel
run_case empty-kernel empty_kernel
run_case random-kernel random_kernel
run_case truncated-bzimage truncated_bzimage
run_case aarch64-elf aarch64_elf
run_case cpus-0 cpus_0
run_case cpus-100000 cpus_100000
run_case mem-12Q mem_12Q
run_case mem-1M mem_1M
run_case initrd-too-big initrd_too_big
run_case no-kvm no_kvm
run_case kvm-permission kvm_permission
run_case fifo-kernel fifo_kernel
run_case config-symlink-kernel config_symlink_kernel
run_case config-fifo-drive config_fifo_drive
end_cases
