#!/bin/sh
# net-offload: virtio-net with the tap's offloads and two queue pairs. An
# unknown queues=9 is a one-line usage error. On a multi-queue tap that
# kvmini makes (L1's busybox ip cannot: as root, kvmini's TUNSETIFF creates
# it) and this side then gives 169.254.2.1/30 and brings up while the guest
# pings it, a 2-vCPU guest with queues=2 takes checksum
# offload both ways, TSO4 both ways, merged receive buffers, MQ and the
# control queue (its virtio device's feature bits), has 2 receive queues
# and no "Fail to set num of queue pairs" from its driver (kvmini answered
# VQ_PAIRS_SET); then 8 MiB of random bytes go from a listener here to the
# guest and 8 MiB from the guest to another listener here over TCP, each
# arriving whole (size and md5); GET /vm/stats then shows the interface's
# drop counters all 0, so no frame of the guest's was refused.
# (virtio-net.sh covers the single-queue device.)
# Needs root and the tun driver (in L1 both are given); the tap goes with kvmini.
# timeout: 180
. "$(dirname "$0")/../lib.sh"

HOST_ADDR=169.254.2.1
TAP=kvoff$$
PORT_IN=5571 PORT_OUT=5572
API_SOCK=$T/api.sock
SENT=$T/sent.bin RECV=$T/received.bin HOLD=$T/hold
SIZE=8388608
trap 'rm -f "$SENT" "$RECV"' EXIT
[ "$(id -u)" -eq 0 ] || fail "needs root to make a tap interface"
[ -c /dev/net/tun ] || fail "no /dev/net/tun (load the tun module)"

boot_guest --net "tap=$TAP,queues=9"
expect_exit 2
expect_one_message
expect_stderr "queues '9': 1 to 4"

head -c "$SIZE" /dev/urandom >"$SENT" || fail "cannot make $SENT"
# To the guest: the file, then the connection closes.
nc -l -p "$PORT_IN" <"$SENT" >/dev/null &
sender=$!
# From the guest: the listener's input must not end before the guest's
# does (see virtio-net.sh), so it is a FIFO held open here.
mkfifo "$HOLD" || fail "cannot make $HOLD"
nc -l -p "$PORT_OUT" <"$HOLD" >"$RECV" &
receiver=$!
exec 8>"$HOLD"

start_guest --api-sock "$API_SOCK" --cpus 2 --net "tap=$TAP,queues=2" \
	--cmdline "KVMINI_ACTION=net-offload KVMINI_NET_ADDR=169.254.2.2/30 KVMINI_NET_PEER=$HOST_ADDR KVMINI_NET_PORT_IN=$PORT_IN KVMINI_NET_PORT_OUT=$PORT_OUT"
trap 'kill -KILL "$(cat "$KVMINI_PIDFILE")" "$sender" "$receiver" 2>/dev/null; rm -f "$SENT" "$RECV"' EXIT
# kvmini opens the tap before the vCPUs start; the guest's ping retries for 30 s.
tries=0
until ip link show "$TAP" >/dev/null 2>&1; do
	tries=$((tries + 1))
	[ "$tries" -le 10 ] || fail "kvmini never made the tap $TAP (stderr: $(head -n 1 "$STDERR"))"
	sleep 1
done
ip addr add "$HOST_ADDR/30" dev "$TAP" || fail "cannot give $TAP the address $HOST_ADDR/30"
ip link set "$TAP" up || fail "cannot bring $TAP up"
wait_console '^net-offload-wait$' 150 ||
	fail "the guest never finished its transfers (console ends: $(tr -d '\r' <"$CONSOLE" | tail -n 1))"
expect_api 200 GET /vm/stats
stats=$API_BODY
send_input 'go\n'
wait_console '^net-offload-done$' 30 || fail "the guest never went on after the stats"
wait_kvmini 30
exec 8>&-
kill "$sender" "$receiver" 2>/dev/null
wait "$sender" "$receiver"
expect_exit 0

expect_value net_ping ok
# Bits: 0 CSUM, 1 GUEST_CSUM, 7 GUEST_TSO4, 11 HOST_TSO4, 15 MRG_RXBUF, 17 CTRL_VQ, 22 MQ.
features=$(console_value net_features)
for bit in 0 1 7 11 15 17 22; do
	[ "$(echo "$features" | cut -c $((bit + 1)))" = 1 ] ||
		fail "feature bit $bit not negotiated: the driver's features are $features"
done
expect_value net_rx_queues 2
expect_value net_pairs_failed 0
expect_value net_recv_rc 0
expect_value net_recv_bytes "$SIZE"
expect_value net_recv_md5 "$(md5sum <"$SENT" | cut -d' ' -f1)"
expect_value net_send_rc 0
size=$(wc -c <"$RECV")
got=$(md5sum <"$RECV" | cut -d' ' -f1)
echo "from the guest: $size bytes, md5 $got, the guest's $(console_value net_md5)"
[ "$size" -eq "$SIZE" ] || fail "received $size bytes from the guest, not $SIZE"
expect_value net_md5 "$got"
dropped=$(echo "$stats" | grep -o '"dropped":{[^}]*}')
echo "drop counters: $dropped"
[ -n "$dropped" ] || fail "GET /vm/stats has no drop counters for the interface: $stats"
if echo "$dropped" | grep -q ':[1-9]'; then
	fail "frames were dropped: $dropped"
fi
