#!/bin/sh
# fault-stdout-stuck: kvmini's stdout is a pipe that nobody reads any more.
# A reader takes the console up to the guest's first FLOOD line and then
# holds the pipe open without reading; the guest prints lines forever
# (KVMINI_ACTION=flood), so the pipe fills. `kvmini stop` through the API
# must still end kvmini, with exit 0, within 10 s.
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

GUEST_STDOUT=$PIPE start_guest --api-sock "$API_SOCK" --cmdline KVMINI_ACTION=flood
wait_console '^FLOOD' 200 || fail "the guest never started its flood (stderr: $(head -n 1 "$STDERR"))"

# Until the pipe is full: vCPU 0's exits stand still for 3 s (a vCPU
# blocked on its console write), or at most 30 s.
last='' still=0 waited=0
while [ "$still" -lt 3 ] && [ "$waited" -lt 30 ]; do
	api GET /vm/stats
	now=$(body_uint exits_total)
	if [ -n "$now" ] && [ "$now" = "$last" ]; then still=$((still + 1)); else still=0; fi
	last=$now
	sleep 1
	waited=$((waited + 1))
done
echo "after ${waited} s: vCPU 0's exits $([ "$still" -ge 3 ] && echo "stand still at $last" || echo "still grow")"

out=$(timeout 10 "$KVMINI" stop --sock "$API_SOCK" 2>&1) || fail "kvmini stop: $out"
echo "kvmini stop: $out"
wait_kvmini 10
expect_exit 0
