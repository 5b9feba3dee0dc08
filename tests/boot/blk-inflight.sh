#!/bin/sh
# blk-inflight: virtio-blk with many requests in flight, 2 vCPUs. The guest
# (blk-inflight.guest) sees two queues (VIRTIO_BLK_F_MQ, one per vCPU),
# writes 16 regions of 2 MiB at once with O_DIRECT and reads them back at
# once, all matching what it wrote; here each region of the image has that
# md5 too. blkdiscard of 32-48 MiB, which the host filled with data, reads
# back as zeroes in the guest, and here the image keeps its size with fewer
# blocks allocated and zeroes there. kvmini -v says the drive runs on
# io_uring, under the default seccomp filters.
# timeout: 240
. "$(dirname "$0")/../lib.sh"

IMG=$T/disk.img
trap 'rm -f "$IMG"' EXIT
dd if=/dev/zero of="$IMG" bs=1M count=0 seek=64 2>/dev/null || fail "cannot make $IMG"
dd if=/dev/urandom of="$IMG" bs=1M seek=32 count=16 conv=notrunc 2>/dev/null || fail "cannot fill $IMG"
size_before=$(stat -c %s "$IMG")
blocks_before=$(stat -c %b "$IMG")

boot_guest -v --cpus 2 --drive "path=$IMG" --cmdline KVMINI_ACTION=blk-inflight
grep -E '^kvmini: virtio-blk0: drive' "$STDERR"
expect_exit 0
expect_console '^blk-inflight-done'
# Write-zeroes only where the image's file system zeroes ranges: not the L1's tmpfs the bench uses.
expect_stderr "^kvmini: virtio-blk0: drive .*, 2 queues, engine io_uring, discard(, write-zeroes)?$"
expect_value blk_queues 2
expect_value blk_write_rc 0
expect_value blk_read_rc 0
expect_value blk_bad_regions ""
expect_value blk_discard_rc 0
expect_value blk_discard_zero yes

want=$(console_value blk_pattern_md5)
for i in $(seq 0 15); do
	got=$(dd if="$IMG" bs=2M skip="$i" count=1 2>/dev/null | md5sum | cut -d' ' -f1)
	[ "$got" = "$want" ] || fail "region $i of the image has md5 $got, the guest wrote $want"
done
zero=$(head -c 16777216 /dev/zero | md5sum | cut -d' ' -f1)
got=$(dd if="$IMG" bs=1M skip=32 count=16 2>/dev/null | md5sum | cut -d' ' -f1)
[ "$got" = "$zero" ] || fail "the discarded 32-48 MiB of the image are not zeroes"
size_after=$(stat -c %s "$IMG")
blocks_after=$(stat -c %b "$IMG")
echo "image: $size_before -> $size_after bytes, $blocks_before -> $blocks_after blocks"
[ "$size_after" = "$size_before" ] || fail "the image's size changed from $size_before to $size_after"
# The guest's 32 MiB (65536 blocks) where there were none, less the host's 16 MiB (32768) it discarded;
# 1 MiB of slack for the file system's own blocks.
[ "$blocks_after" -le $((blocks_before + 32768 + 2048)) ] ||
	fail "the discard freed too few blocks: $blocks_before before, $blocks_after after the guest's 32 MiB"
