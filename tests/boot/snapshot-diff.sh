#!/bin/sh
# snapshot-diff: a Diff snapshot on top of a Full one restores the later
# state. The snapshot guest (snapshot-roundtrip.guest) runs with
# track_dirty_pages; a Full snapshot, then it resumes and counts 20 more
# (its counter, its records and the pages virtio-rng and virtio-blk fill
# change guest RAM); paused again, a Diff goes into a copy of the
# Full memory file. kvmini is killed; a new one loads the Diff's state
# file with that copy: the counter goes on from the later number (the
# consoles count with no gap: restoring the later vCPUs over the earlier
# RAM would not), the restore's checks pass (lib.sh: expect_restored), and
# the Full memory file is as it was.
# timeout: 300
. "$(dirname "$0")/../lib.sh"

disk=$T/disk.img
snapshot_disk "$disk"
CASE=boot
start_snapshot_guest "$disk" '"track_dirty_pages": true'
snapshot_create Full "$T/full"
full_md5=$(md5sum <"$T/full/memory")
expect_api 204 PATCH /vm '{"state": "Resumed"}'
last=$(tr -d '\r' <"$CONSOLE" | sed -n 's/^COUNTER \([0-9]*\)$/\1/p' | tail -n 1)
wait_console "^acked $((last + 20))\$" 60 || fail "the guest did not go on after the Full snapshot"
cp "$T/full/memory" "$T/diff.memory" || fail "cannot copy the memory file"
snapshot_create Diff "$T/diff" "$T/diff.memory"
kill_vmm
[ "$(md5sum <"$T/full/memory")" = "$full_md5" ] || fail "the Diff changed the Full snapshot's memory file"
cmp -s "$T/full/memory" "$T/diff.memory" && fail "the Diff wrote nothing into the copy"
snapshot_gen "$disk" 1
snapshot_hold

CASE=load
snapshot_load "$T/diff/state" "$T/diff.memory"
expect_restored 1
expect_no_gaps "$T/boot.console.log" "$T/load.console.log"
expect_api 204 PUT /actions '{"action_type": "Stop"}'
wait_kvmini 10
expect_exit 0

