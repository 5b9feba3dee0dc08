#!/bin/sh
# fault-disk-full: the drive's image is a sparse 16 MiB file on a tmpfs of
# about 2 MiB (2020 KiB, not a whole number of the guest's 64 KiB writes, so
# the host cuts the last one short before it fails), so the host file system
# fills up under the guest's writes. The
# guest writes vda whole with O_DIRECT and must get an I/O error after about
# 2 MiB; kvmini says why on stderr (No space left on device), keeps running,
# and exits 0 when the guest powers off.
# timeout: 300
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" -eq 0 ] || fail "needs root to mount a tmpfs"
MNT=$T/tiny
mkdir -p "$MNT" || fail "cannot make $MNT"
mount -t tmpfs -o size=2020k kvmini-tiny "$MNT" || fail "cannot mount a 2020 KiB tmpfs on $MNT"
trap 'umount "$MNT"' EXIT
IMG=$MNT/disk.img
dd if=/dev/zero of="$IMG" bs=1M count=0 seek=16 2>/dev/null || fail "cannot make $IMG"

boot_guest --drive "path=$IMG" --cmdline KVMINI_ACTION=fault-disk-full
expect_exit 0
expect_console '^fault-disk-full-done'
rc=$(console_value blk_fill_rc)
err=$(console_value blk_fill_err)
records=$(console_value blk_fill_records)
echo "guest dd: exit $rc, $records records of 64 KiB out, last message: $err"
[ "$rc" != 0 ] || fail "the guest wrote all of vda, 16 MiB, onto a 2 MiB file system"
echo "$err" | grep -Eq 'Input/output error|I/O error' || fail "the guest's writes failed with '$err', not an I/O error"
full=${records%%+*}
case $full in
'' | *[!0-9]*) fail "the guest printed blk_fill_records='$records', not N+M" ;;
esac
[ "$full" -ge 16 ] && [ "$full" -le 32 ] ||
	fail "the guest wrote $full blocks of 64 KiB before the error, expected 16 to 32 (2 MiB)"
! grep -qv '^kvmini: ' "$STDERR" || fail "stderr has a line without 'kvmini: ': $(grep -v '^kvmini: ' "$STDERR" | head -n 1)"
expect_stderr "drive '$IMG': write of [0-9]+ bytes at sector [0-9]+: No space left on device"
