#!/bin/sh
# snapshot-roundtrip: a guest counting on the console while it reads
# virtio-rng and writes fsync'ed records to a virtio-blk disk
# (snapshot-roundtrip.guest), booted by kvmini daemon through the API, is
# saved and brought back twice, each time in a new process after a SIGKILL
# of the old one: first PUT /snapshot/create (Full) and PUT /snapshot/load
# with resume_vm; then `kvmini snapshot --keep-paused` and `kvmini restore`.
# Each time, after at least 6 s paused: the counter goes on from the next
# number (the three consoles one after the other count 0, 1, 2, ... with
# no gap or restart), the guest's monotonic clock has not jumped and its
# realtime clock not gone back, every record it acked reads back from the
# disk and /dev/hwrng answers (lib.sh: expect_restored); GET / says
# Running. Then SendCtrlAltDel ends it with exit 0, and the disk file holds
# every record acked on any console.
# timeout: 300
. "$(dirname "$0")/../lib.sh"

disk=$T/disk.img
snapshot_disk "$disk"

CASE=boot
start_snapshot_guest "$disk"
snapshot_create Full "$T/snap1"
kill_vmm
snapshot_gen "$disk" 1
snapshot_hold

CASE=load
snapshot_load "$T/snap1/state" "$T/snap1/memory"
expect_state Running
expect_restored 1
expect_no_gaps "$T/boot.console.log" "$T/load.console.log"
out=$("$KVMINI" snapshot --sock "$API_SOCK" --out "$T/snap2" --keep-paused 2>&1) || fail "kvmini snapshot: $out"
[ -s "$T/snap2/state" ] && [ -f "$T/snap2/memory" ] || fail "kvmini snapshot wrote no $T/snap2/state or memory: $out"
expect_state Paused
kill_vmm
snapshot_gen "$disk" 2
snapshot_hold

CASE=restore
API_SOCK=$T/restore.sock
start_api_vmm "$KVMINI" restore "$T/snap2" --api-sock "$API_SOCK"
expect_restored 2
expect_state Running
expect_no_gaps "$T/boot.console.log" "$T/load.console.log" "$T/restore.console.log"
expect_api 204 PUT /actions '{"action_type": "SendCtrlAltDel"}'
wait_kvmini 60
expect_exit 0
expect_console '^snapshot-ctrl-alt-del'

# The host's view: every record acked on any console is in the file.
acked=$(cat "$T/boot.console.log" "$T/load.console.log" "$T/restore.console.log" | tr -d '\r' |
	sed -n 's/^acked \([0-9]*\)$/\1/p' | tail -n 1)
dd if="$disk" bs=512 skip=8 count=$((acked + 1)) 2>/dev/null | tr -d '\0' >"$T/records"
awk -v n=$((acked + 1)) 'BEGIN { for (i = 0; i < n; i++) printf "record %08d\n", i }' >"$T/want"
cmp "$T/records" "$T/want" || fail "the disk does not hold records 0 to $acked"
