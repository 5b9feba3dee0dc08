#!/bin/sh
# snapshot-corrupt: a bad snapshot is refused before any VM runs. From a
# good Full snapshot of the snapshot guest (snapshot-roundtrip.guest), one
# kvmini daemon is asked to PUT /snapshot/load, in turn: a truncated state
# file, one with a byte flipped (its CRC32C), one with a bad magic, one
# from an incompatible host (a CPUID feature bit this host's KVM lacks set
# in its cpuid section, the CRC made right again: build/guests/
# snapshot-cpuid), a memory file of the wrong size, and the good files
# while the disk the VM had is gone. Each is 400 with a one-line
# fault_message that says what is wrong, and GET / still says "Not
# started"; then the good snapshot loads in the same daemon and its guest
# goes on (lib.sh: expect_restored), and Stop ends it with exit 0.
# timeout: 240
. "$(dirname "$0")/../lib.sh"

disk=$T/disk.img
snapshot_disk "$disk"
CASE=boot
start_snapshot_guest "$disk"
snapshot_create Full "$T/snap"
kill_vmm
state=$T/snap/state
memory=$T/snap/memory
size=$(stat -c %s "$state")

# copy_state NAME: a copy of the good state file, its path in bad.
copy_state() {
	bad=$T/$1.state
	cp "$state" "$bad" || fail "cannot copy $state"
}

# poke FILE OFFSET BYTE: writes the byte BYTE (0-255) at OFFSET.
poke() {
	# shellcheck disable=SC2059 # the format is the octal escape of BYTE
	printf "\\$(printf %o "$3")" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null || fail "cannot write to $1"
}

# refused STATE MEMORY ERE: loading STATE with MEMORY is 400 with one line of
# fault_message matching ERE (any case), and the daemon is still there, unconfigured.
refused() {
	expect_api 400 PUT /snapshot/load "{\"snapshot_path\": \"$1\", \
\"mem_backend\": {\"backend_type\": \"File\", \"backend_path\": \"$2\"}, \"resume_vm\": true}"
	message=$(echo "$API_BODY" | sed -n 's/^{"fault_message":"\(.*\)"}$/\1/p')
	[ -n "$message" ] || fail "400 without a fault_message: $API_BODY"
	case $message in *'\n'*) fail "the fault_message has more than one line: $message" ;; esac
	echo "$message" | grep -Eiq -- "$3" || fail "the fault_message does not match '$3': $message"
	expect_state "Not started"
}

CASE=daemon
start_daemon

head -c $((size - 100)) "$state" >"$T/short.state" || fail "cannot cut $state"
refused "$T/short.state" "$memory" truncated

copy_state flipped
offset=$((size / 2))
byte=$(od -An -tu1 -j "$offset" -N 1 "$bad" | tr -d ' ')
poke "$bad" "$offset" $((255 - byte))
refused "$bad" "$memory" 'CRC32C mismatch'

copy_state magic
poke "$bad" 0 88
refused "$bad" "$memory" magic

copy_state cpuid
missing=$("$GUESTS_DIR/snapshot-cpuid" "$bad" 2>&1) || fail "snapshot-cpuid: $missing"
refused "$bad" "$memory" "$missing"

cp "$memory" "$T/short.memory" || fail "cannot copy $memory"
truncate -s $(($(stat -c %s "$memory") - 4096)) "$T/short.memory" || fail "cannot truncate $T/short.memory"
refused "$state" "$T/short.memory" memory

mv "$disk" "$T/away.img" || fail "cannot move $disk away"
refused "$state" "$memory" "$disk"
mv "$T/away.img" "$disk" || fail "cannot move $disk back"

snapshot_gen "$disk" 1
expect_api 204 PUT /snapshot/load "{\"snapshot_path\": \"$state\", \
\"mem_backend\": {\"backend_type\": \"File\", \"backend_path\": \"$memory\"}, \"resume_vm\": true}"
expect_state Running
expect_restored 1
expect_no_gaps "$T/boot.console.log" "$T/daemon.console.log"
expect_api 204 PUT /actions '{"action_type": "Stop"}'
wait_kvmini 10
expect_exit 0
