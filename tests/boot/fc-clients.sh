#!/bin/sh
# fc-clients: firectl's, firecracker-go-sdk's and Kata's recorded request
# sequences (tests/api/sequences, tests/api/README.md) replayed whole by
# tests/api/replay.sh against kvmini launched as `firecracker`: launch flags,
# config file, every request in order with Firecracker's status, every body
# checked against our schema of Firecracker's API, then the start and the
# post-boot steps (PATCH /drives, balloon, FlushMetrics, pause and resume)
# on the stock kernel and busybox initramfs, on a tap made here; the guest
# counts (KVMINI_ACTION=counter) until the client ends it: SendCtrlAltDel
# (firectl, go-sdk: exit 0) or SIGTERM (Kata). One sub-case per client; each
# difference from Firecracker is a DIFF line in its output.log.
# timeout: 480
. "$(dirname "$0")/../lib.sh"

API=$(cd "$(dirname "$0")/../api" && pwd)
# In the bench's L1 the checker is shipped beside the sequences; on a host, it is the build's.
CHECK=$API/api-check
[ -x "$CHECK" ] || CHECK=$API/../../build/api-check
[ -x "$CHECK" ] || fail "no api-check (make build/api-check)"
# A /30 of its own (virtio-net uses 169.254.1.0/30); the guest does not use the link, the VMM only opens it.
TAP=fctap$$
trap 'tunctl -d "$TAP" >/dev/null 2>&1' EXIT
make_tap "$TAP" 169.254.2.1/30

replay() {
	"$API/replay.sh" --kvmini "$KVMINI" --check "$CHECK" --work "$T/replay" \
		--set KERNEL="$GUEST_KERNEL" --set INITRD="$GUEST_INITRD" --set TAP="$TAP" \
		--set GUEST_ARGS=KVMINI_ACTION=counter \
		--set INITRD_MEMBER="\"initrd_path\": \"$GUEST_INITRD\"," \
		"$API/sequences/$CASE.seq" >"$T/$CASE.replay.log" 2>&1
	rc=$?
	cat "$T/$CASE.replay.log"
	[ "$rc" -eq 0 ] || fail "$(grep -c '^DIFF' "$T/$CASE.replay.log") differences from Firecracker, first: $(grep -m 1 '^DIFF' "$T/$CASE.replay.log")"
}

run_case firectl replay
run_case go-sdk-full replay
run_case kata replay
end_cases
