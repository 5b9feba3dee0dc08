#!/bin/sh
# rate-limit-blk: a drive's bandwidth limit (Firecracker's rate_limiter, set
# and changed with PATCH /drives/{id} on the running VM) slows the guest's
# reads as much as it says, no more and no less. The guest reads 8 MiB with
# O_DIRECT three times (rate-limit-blk.guest): without a limit; at 2 MiB/s,
# whose full bucket lets the first 2 MiB through at once, so at least 3 s
# and at least twice the unlimited time; then at 4 MiB/s, so at least 1 s
# and less than at 2 MiB/s. Neither limited read may take more than twice
# what the limit implies plus the unlimited time. GET /vm/stats counts the
# drive's waits.
# timeout: 240
. "$(dirname "$0")/../lib.sh"

IMG=$T/disk.img
API_SOCK=$T/api.sock
dd if=/dev/urandom of="$IMG" bs=1M count=8 2>/dev/null || fail "cannot make $IMG"
start_guest --api-sock "$API_SOCK" --drive "path=$IMG" --cmdline KVMINI_ACTION=rate-limit-blk
trap 'kill -KILL "$(cat "$KVMINI_PIDFILE")" 2>/dev/null; rm -f "$IMG"' EXIT

# wait_read N: until the guest finished read N - 1 and waits (rl-wait-N).
wait_read() {
	wait_console "^rl-wait-$1\$" 120 ||
		fail "the guest never finished read $(($1 - 1)) (console ends: $(tr -d '\r' <"$CONSOLE" | tail -n 1))"
}

# limit BYTES_PER_S: PATCH the drive to that rate, and let the guest read again.
limit() {
	expect_api 204 PATCH /drives/drive0 \
		"{\"drive_id\": \"drive0\", \"rate_limiter\": {\"bandwidth\": {\"size\": $1, \"refill_time\": 1000}}}"
	send_input 'go\n'
}

# read_ms N: how long read N took, checked to have succeeded.
read_ms() {
	expect_value "rl_rc_$1" 0
	ms=$(console_value "rl_ms_$1")
	case $ms in
	'' | *[!0-9]*) fail "guest printed rl_ms_$1='$ms', not a number" ;;
	esac
	echo "$ms"
}

wait_read 1
limit 2097152
wait_read 2
expect_api 200 GET /vm/stats
throttled=$(body_uint throttled)
limit 4194304
wait_console '^rate-limit-blk-done$' 60 || fail "the guest never finished read 2"
wait_kvmini 30
expect_exit 0
t0=$(read_ms 0) || exit 1
t1=$(read_ms 1) || exit 1
t2=$(read_ms 2) || exit 1
echo "8 MiB: ${t0} ms unlimited, ${t1} ms at 2 MiB/s, ${t2} ms at 4 MiB/s; the drive waited $throttled times"

# 10 ms of slack for the guest's clock.
[ "$t1" -ge 2990 ] || fail "8 MiB at 2 MiB/s took $t1 ms, the limit allows no less than 3000"
[ "$t1" -ge $((2 * t0)) ] || fail "8 MiB at 2 MiB/s took $t1 ms, less than twice the $t0 ms without a limit"
[ "$t1" -le $((6000 + t0)) ] || fail "8 MiB at 2 MiB/s took $t1 ms, more than twice the 3000 the limit implies plus $t0"
[ "$t2" -ge 990 ] || fail "8 MiB at 4 MiB/s took $t2 ms, the limit allows no less than 1000"
[ "$t2" -lt "$t1" ] || fail "8 MiB at 4 MiB/s took $t2 ms, no less than the $t1 ms at 2 MiB/s: the PATCH changed nothing"
[ "$t2" -le $((2000 + t0)) ] || fail "8 MiB at 4 MiB/s took $t2 ms, more than twice the 1000 the limit implies plus $t0"
[ "${throttled:-0}" -gt 0 ] || fail "GET /vm/stats counts no wait of the drive: $API_BODY"
