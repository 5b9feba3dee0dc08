#!/bin/sh
# api-bad-requests: the control socket of a running guest (the counter of
# KVMINI_ACTION=counter) answers bad requests with the right status and a
# {"fault_message": ...} body, and slow, abandoned or stalled clients hold
# up neither the other clients nor the guest.
# Cases: not-found (404), method (405), bad-json (400), too-large (413),
# head-too-large (431), chunked (501), bad-request-line (400),
# after-start (PUT /boot-source and InstanceStart on a running VM: 400);
# slow-clients: 20 clients that send one byte and stall, while GET /
# answers within 2 s and the guest counts on; they get 408 after 10 s.
# abandoned: 10 clients that disconnect mid-request leave no file
# descriptor behind. Last, SIGTERM ends kvmini (143) and removes the socket.
# timeout: 400
. "$(dirname "$0")/../lib.sh"

API_SOCK=$T/api.sock

# expect_fault STATUS METHOD PATH [JSON]: the answer is STATUS with a fault message.
expect_fault() {
	expect_api "$@"
	echo "$API_BODY" | grep -q '^{"fault_message":".*"}$' || fail "$2 $3: not a fault body: $API_BODY"
}

# raw_curl ARGS...: curl on the socket; prints the status.
raw_curl() {
	curl -s --max-time 30 --unix-socket "$API_SOCK" -o /dev/null -w '%{http_code}' "$@"
}

last_counter() {
	tr -d '\r' <"$CONSOLE" | sed -n 's/^COUNTER \([0-9]*\)$/\1/p' | tail -n 1
}

not_found() {
	expect_fault 404 GET /no/such/path
	expect_fault 404 GET /cpu-config
}

method() {
	expect_fault 405 DELETE /
	expect_fault 405 GET /actions
}

bad_json() {
	expect_fault 400 PATCH /vm '{"state": '
	expect_fault 400 PATCH /vm '{"state": "Frozen"}'
	expect_fault 400 PATCH /vm '{"state": "Paused", "extra": 1}'
	expect_fault 400 PUT /actions '{"action_type": 7}'
	expect_fault 400 PATCH /vm ''
	# No Content-Length at all: the parser wants one for a body (411).
	expect_fault 411 PATCH /vm
}

too_large() {
	head -c 70000 /dev/zero | tr '\0' a >"$T/big"
	got=$(raw_curl -X PUT --data-binary @"$T/big" http://localhost/actions)
	[ "$got" = 413 ] || fail "a 70000-byte body: status $got, expected 413"
}

head_too_large() {
	got=$(raw_curl -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' b)" http://localhost/)
	[ "$got" = 431 ] || fail "a 9000-byte header: status $got, expected 431"
}

chunked() {
	got=$(echo '{}' | raw_curl -X PUT -T - http://localhost/actions)
	[ "$got" = 501 ] || fail "a chunked body: status $got, expected 501"
}

bad_request_line() {
	got=$(raw_curl -X 'BAD METHOD' http://localhost/)
	[ "$got" = 400 ] || fail "a request line of four words: status $got, expected 400"
	got=$(raw_curl -X PUT -H 'Content-Length: abc' -d '' http://localhost/actions)
	[ "$got" = 400 ] || fail "Content-Length: abc: status $got, expected 400"
}

after_start() {
	expect_fault 400 PUT /boot-source '{"kernel_image_path": "/vmlinuz"}'
	echo "$API_BODY" | grep -q 'not supported after starting' || fail "PUT /boot-source: $API_BODY"
	expect_fault 400 PUT /machine-config '{"vcpu_count": 2, "mem_size_mib": 256}'
	expect_fault 400 PUT /actions '{"action_type": "InstanceStart"}'
}

# slow_client N: one client that sends the start of a PATCH /vm and then nothing for 15 s.
slow_client() {
	(printf '{"st'; sleep 15) |
		raw_curl -X PATCH -H 'Content-Length: 20' -H 'Transfer-Encoding:' -T - http://localhost/vm \
			>"$T/slow.$1" 2>&1
	echo >>"$T/slow.$1"
}

slow_clients() {
	i=0
	while [ "$i" -lt 20 ]; do
		slow_client "$i" &
		i=$((i + 1))
	done
	sleep 2
	before=$(last_counter)
	t0=$(date +%s)
	got=$(curl -s --max-time 2 --unix-socket "$API_SOCK" -o /dev/null -w '%{http_code}' http://localhost/)
	[ "$got" = 200 ] || fail "with 20 slow clients, GET / got $got within 2 s"
	sleep 2
	after=$(last_counter)
	[ "$after" -gt "$before" ] || fail "with 20 slow clients, the guest's counter stayed at $before"
	wait
	t1=$(date +%s)
	late=$(grep -l '^408$' "$T"/slow.* | wc -l)
	[ "$late" -eq 20 ] || fail "$late of 20 slow clients got 408 ($(for f in "$T"/slow.*; do echo "$(cat "$f")"; done))"
	echo "  slow clients done after $((t1 - t0)) s"
}

abandoned() {
	pid=$(cat "$KVMINI_PIDFILE")
	fds_before=$(ls "/proc/$pid/fd" | wc -l)
	i=0
	while [ "$i" -lt 10 ]; do
		(printf '{"st'; sleep 10) |
			timeout 1 curl -s --unix-socket "$API_SOCK" -X PATCH -H 'Content-Length: 20' -H 'Transfer-Encoding:' \
				-T - http://localhost/vm >/dev/null 2>&1 &
		i=$((i + 1))
	done
	sleep 3
	expect_state Running
	fds_after=$(ls "/proc/$pid/fd" | wc -l)
	[ "$fds_after" -le "$fds_before" ] ||
		fail "kvmini has $fds_after file descriptors after 10 abandoned clients, $fds_before before"
	wait
}

start_guest --api-sock "$API_SOCK" --cmdline KVMINI_ACTION=counter
wait_console '^COUNTER 10$' 200 || {
	stop_kvmini 20
	fail "the guest never counted to 10 (kvmini exit $EXIT, stderr: $(head -n 1 "$STDERR"))"
}

run_case not-found not_found
run_case method method
run_case bad-json bad_json
run_case too-large too_large
run_case head-too-large head_too_large
run_case chunked chunked
run_case bad-request-line bad_request_line
run_case after-start after_start
run_case slow-clients slow_clients
run_case abandoned abandoned
expect_state Running
stop_kvmini 30
expect_exit 143
[ ! -e "$API_SOCK" ] || fail "the socket file is still there after SIGTERM"
end_cases
