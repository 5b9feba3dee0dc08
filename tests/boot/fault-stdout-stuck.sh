#!/bin/sh
# fault-stdout-stuck: kvmini's stdout is a pipe that nobody reads any more.
# A reader takes the console up to the guest's first FLOOD line and then
# holds the pipe open without reading; the guest prints lines forever
# (fault-stdout-stuck.guest), so the pipe fills. kvmini must say it drops guest
# output, the API must still answer (GET /, a pause, a resume, each within
# 8 s), the guest go on after the resume, and `kvmini stop` through the API
# end kvmini with exit 0 within 10 s.
# timeout: 300
. "$(dirname "$0")/../lib.sh"

API_SOCK=$T/api.sock
PIPE=$T/stdout.fifo
CONSOLE=$T/console.log
mkfifo "$PIPE" || fail "cannot make the FIFO $PIPE"
: >"$CONSOLE"
# grep's output is what the test sees of the console (wait_console reads $CONSOLE).
(
	grep -m 1 '^FLOOD' >"$CONSOLE"
	exec sleep 3600
) <"$PIPE" &
READER=$!
trap 'kill -KILL "$(cat "$KVMINI_PIDFILE" 2>/dev/null)" "$READER" 2>/dev/null' EXIT

GUEST_STDOUT=$PIPE start_guest --api-sock "$API_SOCK" --cmdline KVMINI_ACTION=fault-stdout-stuck
wait_console '^FLOOD' 200 || fail "the guest never started its flood (stderr: $(head -n 1 "$STDERR"))"

# The pipe fills within moments; kvmini must then say that it drops guest
# output rather than leave a vCPU blocked on it.
waited=0
until grep -q 'dropping guest output' "$STDERR"; do
	[ "$waited" -lt 60 ] || fail "after 60 s stderr does not say that guest output is dropped: $(head -n 3 "$STDERR")"
	sleep 1
	waited=$((waited + 1))
done
echo "after ${waited} s: $(grep 'dropping guest output' "$STDERR")"

# quick_api STATUS METHOD PATH [JSON]: the API answers STATUS within 8 s (its own deadline is 5 s).
quick_api() {
	want=$1
	shift
	if [ $# -ge 3 ]; then
		got=$(curl -s --max-time 8 --unix-socket "$API_SOCK" -o "$T/quick.body" -w '%{http_code}' -X "$1" \
			-H 'Content-Type: application/json' --data "$3" "http://localhost$2")
	else
		got=$(curl -s --max-time 8 --unix-socket "$API_SOCK" -o "$T/quick.body" -w '%{http_code}' -X "$1" \
			"http://localhost$2")
	fi
	[ "$got" = "$want" ] || fail "$1 $2 with stdout stuck: status $got, expected $want ($(cat "$T/quick.body"))"
}

quick_api 200 GET /
quick_api 204 PATCH /vm '{"state": "Paused"}'
expect_state Paused
quick_api 204 PATCH /vm '{"state": "Resumed"}'
# The guest goes on: its vCPU leaves the guest again and again (its output dropped).
api GET /vm/stats
before=$(body_uint exits_total)
sleep 2
api GET /vm/stats
after=$(body_uint exits_total)
[ -n "$after" ] && [ "$after" -gt "${before:-0}" ] || fail "after the resume vCPU 0's exits stay at $before"

out=$(timeout 10 "$KVMINI" stop --sock "$API_SOCK" 2>&1) || fail "kvmini stop: $out"
echo "kvmini stop: $out"
wait_kvmini 10
expect_exit 0
