#!/bin/sh
# fault-tap-deleted: the tap interface of a guest's --net is deleted while
# the guest pings through it. kvmini must not fail: the guest sees its link
# go down (carrier 0), kvmini says so in one stderr line at most, and when
# the guest then powers off kvmini exits 0.
# timeout: 300
. "$(dirname "$0")/../lib.sh"

TAP=kvtap$$
trap 'kill -KILL "$(cat "$KVMINI_PIDFILE" 2>/dev/null)" 2>/dev/null; tunctl -d "$TAP" >/dev/null 2>&1' EXIT
make_tap "$TAP" 169.254.1.1/30

start_guest --net "tap=$TAP" \
	--cmdline "KVMINI_ACTION=fault-tap-deleted KVMINI_NET_ADDR=169.254.1.2/30 KVMINI_NET_PEER=169.254.1.1"
wait_console '^NET-PINGING' 200 || {
	stop_kvmini 20
	fail "the guest never got to ping (kvmini exit $EXIT, stderr: $(head -n 1 "$STDERR"))"
}
expect_value net_ping ok
ip link delete "$TAP" || fail "cannot delete $TAP"
wait_kvmini 120
expect_exit 0
expect_console '^fault-tap-deleted-done'
expect_value net_carrier 0
# Besides kvmini's closing line, one line at most, about the tap.
grep -v '^kvmini: guest powered off$' "$STDERR" >"$T/tap-lines"
n=$(wc -l <"$T/tap-lines")
[ "$n" -le 1 ] || fail "stderr has $n lines besides the closing one, expected one at most (first: $(head -n 1 "$T/tap-lines"))"
[ "$n" -eq 0 ] || grep -q "^kvmini: virtio-net0: tap '$TAP': .*the link is down$" "$T/tap-lines" ||
	fail "stderr's line is not about the tap's link: $(cat "$T/tap-lines")"
