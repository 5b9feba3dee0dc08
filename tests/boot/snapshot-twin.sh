#!/bin/sh
# snapshot-twin: two VMs restored from one snapshot run side by side. The
# snapshot guest (snapshot-roundtrip.guest) is saved (Full) and killed;
# two kvmini daemons, each with its own API socket, load the snapshot.
# kvmini locks a drive's file, and the saved configuration names one: the
# first twin loads paused (resume_vm false), its drive is pointed at a
# copy of the disk (PATCH /drives/disk) and it is resumed; then the second
# loads, with the file. Each disk tells its guest a different restore
# number. Both must report their own restore (so each reads its own disk)
# with its checks passed (lib.sh: expect_restored), and both count on from
# the snapshot's next number at the same time; Stop ends each with exit 0.
# timeout: 300
. "$(dirname "$0")/../lib.sh"

disk=$T/disk.img
snapshot_disk "$disk"
CASE=boot
start_snapshot_guest "$disk"
snapshot_create Full "$T/snap"
kill_vmm
cp "$disk" "$T/disk-a.img" || fail "cannot copy the disk"
snapshot_gen "$T/disk-a.img" 1
snapshot_gen "$disk" 2
snapshot_hold

# twin NAME: the following lib.sh calls act on twin NAME's kvmini.
twin() {
	CASE=$1 API_SOCK=$T/$1.sock CONSOLE=$T/$1.console.log STDERR=$T/$1.stderr.log
	KVMINI_DONE=$T/$1.exit KVMINI_PIDFILE=$T/$1.pid
	eval "KVMINI_PID=\$vmm_$1"
}

# last_counter: the last counter value twin's guest printed.
last_counter() {
	tr -d '\r' <"$CONSOLE" | sed -n 's/^COUNTER \([0-9]*\)$/\1/p' | tail -n 1
}

CASE=a
snapshot_load "$T/snap/state" "$T/snap/memory" false
vmm_a=$KVMINI_PID
expect_state Paused
expect_api 204 PATCH /drives/disk "{\"drive_id\": \"disk\", \"path_on_host\": \"$T/disk-a.img\"}"
expect_api 204 PATCH /vm '{"state": "Resumed"}'
# From here on a failure must kill both (at_exit kills the last one started).
AT_EXIT="kill -KILL \"\$(cat \"\$T/a.pid\")\" 2>/dev/null; $AT_EXIT"
CASE=b
snapshot_load "$T/snap/state" "$T/snap/memory"
vmm_b=$KVMINI_PID

for name in a b; do
	twin "$name"
	gen=1 other=2
	[ "$name" = a ] || gen=2 other=1
	expect_restored "$gen"
	! tr -d '\r' <"$CONSOLE" | grep -q "^restore${other}_" || fail "it read the other twin's disk"
	expect_no_gaps "$T/boot.console.log" "$CONSOLE"
done
# Both go on counting, side by side: 20 more each within 30 s.
twin a
last_a=$(last_counter)
twin b
last_b=$(last_counter)
for name in a b; do
	twin "$name"
	eval "last=\$last_$name"
	wait_console "^COUNTER $((last + 20))\$" 30 || fail "it stopped counting at $(last_counter)"
done
for name in a b; do
	twin "$name"
	expect_api 204 PUT /actions '{"action_type": "Stop"}'
	wait_kvmini 10
	expect_exit 0
done
