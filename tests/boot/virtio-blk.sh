#!/bin/sh
# virtio-blk: two --drive disks. The guest sees them in command-line order
# (vda then vdb, with their id= as serial and their sizes and first bytes),
# mounts vda's ext4 (made here with mkfs.ext4 -d), reads a host file, writes
# 1 MiB of its own and unmounts; here debugfs reads that file back from the
# image and e2fsck finds the file system clean. vdb (readonly=on) is
# read-only in the guest, refuses a write, and its image is unchanged.
# Cases: default transport (PCI), --transport mmio, each with 1 and 2 vCPUs;
# and exits, exits-mmio: queue notifications reach the device without going
# through user space on a vCPU thread (KVM ioeventfd). The guest reads
# 10 MiB from a fresh drive with O_DIRECT, 64 KiB a request; kvmini -v
# counts the drive's queue notifications and the vCPU exits, whose lines go
# into this test's output.log. At least 40 notifications, none through an exit.
# timeout: 780
. "$(dirname "$0")/../lib.sh"

for tool in mkfs.ext4 debugfs e2fsck; do
	command -v "$tool" >/dev/null ||
		fail "$tool not found (e2fsprogs; BENCH_HOST_TOOLS in tests/bench/common.sh)"
done

# md5_of FILE: its md5 sum alone.
md5_of() {
	md5sum <"$1" | cut -d' ' -f1
}

# What vda holds, the same for every case.
mkdir -p "$T/tree/sub" || fail "cannot make $T/tree"
head -c 262144 /dev/urandom >"$T/tree/host.bin"
echo "kvmini virtio-blk test" >"$T/tree/sub/hello.txt"
HOST_MD5=$(md5_of "$T/tree/host.bin")

# blk_case [ARGS...]: boot with the two drives and ARGS, check everything.
blk_case() {
	vda=$T/$CASE.vda.img vdb=$T/$CASE.vdb.img back=$T/$CASE.guest.bin
	# Images never stay behind, even when the case fails: a failed test's
	# folder travels back from L1 on a small results disk.
	trap 'rm -f "$vda" "$vdb" "$back"' EXIT
	dd if=/dev/zero of="$vda" bs=1M count=0 seek=32 2>/dev/null || fail "cannot make $vda"
	mkfs.ext4 -q -F -d "$T/tree" "$vda" >"$T/$CASE.mkfs.log" 2>&1 ||
		fail "mkfs.ext4 -d failed: $(tail -n 1 "$T/$CASE.mkfs.log")"
	dd if=/dev/urandom of="$vdb" bs=1M count=4 2>/dev/null || fail "cannot make $vdb"
	vda_head=$(head -c 4096 "$vda" | md5sum | cut -d' ' -f1)
	vdb_head=$(head -c 4096 "$vdb" | md5sum | cut -d' ' -f1)
	vdb_md5=$(md5_of "$vdb")

	boot_guest "$@" --drive "path=$vda,id=first-disk" --drive "path=$vdb,readonly=on,id=second-disk" \
		--cmdline KVMINI_ACTION=virtio-blk
	expect_exit 0
	expect_console '^virtio-blk-done'
	expect_value disks "vda vdb"
	expect_value vda_serial first-disk
	expect_value vdb_serial second-disk
	expect_value vda_size 65536
	expect_value vdb_size 8192
	expect_value vda_md5 "$vda_head"
	expect_value vdb_md5 "$vdb_head"
	expect_value vda_ro 0
	expect_value vdb_ro 1
	case $TRANSPORT in
	pci) console_value vda_dev | grep -q '^/sys/devices/pci' ||
		fail "vda is not a PCI device: $(console_value vda_dev)" ;;
	mmio) console_value vda_dev | grep -q '^/sys/devices/platform/' ||
		fail "vda is not a platform (MMIO) device: $(console_value vda_dev)" ;;
	esac

	expect_value blk_mount ok
	expect_value blk_host_md5 "$HOST_MD5"
	expect_value blk_write ok
	want=$(console_value blk_guest_md5)
	debugfs -R "dump /guest.bin $back" "$vda" >"$T/$CASE.debugfs.log" 2>&1
	[ -f "$back" ] || fail "debugfs cannot read guest.bin back from vda: $(tail -n 1 "$T/$CASE.debugfs.log")"
	size=$(wc -c <"$back")
	got=$(md5_of "$back")
	echo "guest.bin: $size bytes, md5 $got, the guest's $want"
	[ "$size" -eq 1048576 ] || fail "guest.bin in the image is $size bytes, not 1 MiB"
	[ "$got" = "$want" ] || fail "guest.bin in the image has md5 $got, the guest wrote $want"
	e2fsck -fn "$vda" >"$T/$CASE.e2fsck.log" 2>&1 ||
		fail "e2fsck finds vda damaged after the guest unmounted it (see $CASE.e2fsck.log)"

	rc=$(console_value vdb_write_rc)
	err=$(console_value vdb_write_err)
	echo "write to vdb: exit $rc: $err"
	[ "$rc" != 0 ] || fail "writing to the readonly=on vdb succeeded in the guest"
	echo "$err" | grep -Eiq 'read-only|I/O error|not permitted' ||
		fail "writing to vdb failed with '$err', not a read-only or I/O error"
	[ "$(md5_of "$vdb")" = "$vdb_md5" ] || fail "the readonly=on image of vdb changed"
}

# exits_case [ARGS...]: one fresh drive, the guest reads 10 MiB of it, kvmini -v.
exits_case() {
	img=$T/$CASE.img
	trap 'rm -f "$img"' EXIT
	dd if=/dev/zero of="$img" bs=1M count=0 seek=16 2>/dev/null || fail "cannot make $img"
	boot_guest -v "$@" --drive "path=$img" --cmdline "KVMINI_ACTION=virtio-blk KVMINI_CASE=read"
	grep -E '^kvmini: (vCPU [0-9]+ exits:|virtio-blk[0-9]+: .*queue notifications)' "$STDERR"
	expect_exit 0
	expect_console '^virtio-blk-done'
	expect_value blk_read_rc 0
	expect_value blk_read_records 160+0
	line=$(grep -E '^kvmini: virtio-blk0: [0-9]+ queue notifications, [0-9]+ of them through a vCPU exit$' "$STDERR" |
		head -n 1)
	# kvmini prints no such line for a drive that saw no notification at all.
	[ -n "$line" ] || fail "kvmini -v printed no 'virtio-blk0: N queue notifications, M of them through a vCPU exit'"
	total=$(echo "$line" | cut -d' ' -f3)
	via_exit=$(echo "$line" | cut -d' ' -f6)
	[ "$total" -ge 40 ] || fail "the drive saw $total queue notifications for a 10 MiB read, expected at least 40"
	[ "$via_exit" -eq 0 ] ||
		fail "$via_exit of the drive's $total queue notifications went through a vCPU exit, expected none"
}

pci() { TRANSPORT=pci blk_case; }
pci_2cpus() { TRANSPORT=pci blk_case --transport pci --cpus 2; }
mmio() { TRANSPORT=mmio blk_case --transport mmio; }
mmio_2cpus() { TRANSPORT=mmio blk_case --transport mmio --cpus 2; }
exits() { exits_case; }
exits_mmio() { exits_case --transport mmio; }

run_case pci pci
run_case pci-2cpus pci_2cpus
run_case mmio mmio
run_case mmio-2cpus mmio_2cpus
run_case exits exits
run_case exits-mmio exits_mmio
rm -rf "$T/tree"
end_cases
