#!/bin/sh
# vsock: virtio-vsock through Firecracker's hybrid Unix sockets, both ways,
# with payloads of a few hundred KiB checked byte for byte (more than the
# device's per-connection buffer and the guest's, so credit updates carry
# them). The host side is build/guests/vsock-tool, the guest's is the same
# program in the initramfs (tests/boot/vsock.guest).
#   host-to-guest: a host client connects to the uds path, sends
#     "CONNECT 5000", gets "OK <port>" and its 400 KiB back from the guest's
#     echo listener
#   guest-to-host: the guest connects to host port 6000, which kvmini makes a
#     connection to <uds>_6000, a host echo listener; its 300 KiB come back
# Cases: run (kvmini run --vsock cid=3,uds=PATH) and daemon (kvmini daemon,
# PUT /vsock before InstanceStart). After kvmini ends the uds path is gone.
# timeout: 300
. "$(dirname "$0")/../lib.sh"

TOOL=$GUESTS_DIR/vsock-tool
[ -x "$TOOL" ] || fail "$TOOL is missing (make builds it)"
head -c 409600 /dev/urandom >"$T/payload"

# start_echo UDS: the host's echo listener at UDS_6000, for the guest.
start_echo() {
	"$TOOL" uds-listen "${1}_6000" 2>"$T/$CASE.echo.log" &
	ECHO_PID=$!
	trap 'kill "$ECHO_PID" 2>/dev/null; kill -KILL "$(cat "$KVMINI_PIDFILE" 2>/dev/null)" 2>/dev/null' EXIT
}

# both_ways UDS: the host's connection through UDS to guest port 5000, then
# the guest's own to the host, as the guest reports it.
both_ways() {
	wait_console '^vsock-listening' 120 || fail "the guest never started its listener ($(head -n 1 "$STDERR"))"
	# The guest's listener may need a moment after the line: a refused CONNECT is retried.
	tries=0
	until timeout 60 "$TOOL" uds-connect "$1" 5000 <"$T/payload" >"$T/$CASE.back" 2>"$T/$CASE.client.log"; do
		tries=$((tries + 1))
		[ "$tries" -lt 5 ] || break
		sleep 1
	done
	cmp -s "$T/payload" "$T/$CASE.back" ||
		fail "host to guest: $(wc -c <"$T/$CASE.back") bytes back, not the 409600 sent ($(cat "$T/$CASE.client.log"))"
	wait_console '^vsock-done' 120 || fail "the guest never finished its connection ($(head -n 1 "$STDERR"))"
	expect_value g2h_rc 0
	expect_value g2h_bytes 307200
	expect_value g2h_match yes
}

# ended UDS: kvmini is gone, and so is its socket.
ended() {
	kill "$ECHO_PID" 2>/dev/null
	[ ! -e "$1" ] || fail "the uds path $1 is still there after kvmini ended"
}

run() {
	uds=$T/run.sock
	start_echo "$uds"
	start_guest --vsock "cid=3,uds=$uds" --cmdline KVMINI_ACTION=vsock
	both_ways "$uds"
	stop_kvmini 30
	expect_exit 143
	ended "$uds"
}

daemon() {
	uds=$T/daemon.vsock
	start_daemon
	start_echo "$uds"
	expect_api 204 PUT /boot-source \
		"{\"kernel_image_path\": \"$GUEST_KERNEL\", \"initrd_path\": \"$GUEST_INITRD\", \"boot_args\": \"KVMINI_ACTION=vsock\"}"
	expect_api 400 PUT /vsock '{"guest_cid": 2, "uds_path": "/tmp/x"}'
	expect_api 204 PUT /vsock "{\"vsock_id\": \"vsock0\", \"guest_cid\": 3, \"uds_path\": \"$uds\"}"
	expect_api 204 PUT /actions '{"action_type": "InstanceStart"}'
	both_ways "$uds"
	expect_api 204 PUT /actions '{"action_type": "Stop"}'
	wait_kvmini 30
	expect_exit 0
	ended "$uds"
}

run_case run run
run_case daemon daemon
end_cases
