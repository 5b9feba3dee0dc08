#!/bin/sh
# api-pause: `kvmini run --api-sock` pauses and resumes a guest that prints
# a counter every 100 ms (KVMINI_ACTION=counter).
# Cases: pause-resume, through curl: the socket is mode 0600; GET / says
# Running, then Paused; while paused no counter line comes for 2 s, the
# vCPU exit counters of GET /vm/stats stand still, and vCPU 0's RIP is in
# the guest kernel; once resumed the lines and the counters go on, the
# registers are 409, and the stats' rss_kib covers the guest's RAM; PUT
# /actions Stop ends kvmini at once with exit 0 and removes the socket.
# cycles, through the CLI: 50 `kvmini pause`/`kvmini resume` cycles, then
# the counter has no gap and keeps counting, `kvmini status` says Running,
# `kvmini stop` ends kvmini with exit 0.
# stress: four clients at once (two pausing and resuming, one reading
# /vm/stats, one GET /), 25 requests each, while the guest counts: every
# request gets its success answer, the counter has no gap afterwards, and
# Stop ends kvmini with exit 0.
# timeout: 700
. "$(dirname "$0")/../lib.sh"

# last_counter: the last counter value printed.
last_counter() {
	tr -d '\r' <"$CONSOLE" | sed -n 's/^COUNTER \([0-9]*\)$/\1/p' | tail -n 1
}

# exits_total: vCPU 0's exits so far, from GET /vm/stats.
exits_total() {
	expect_api 200 GET /vm/stats >&2
	body_uint exits_total
}

# start_counter: the counter guest with the API socket $T/CASE.sock.
start_counter() {
	API_SOCK=$T/$CASE.sock
	start_counter_guest --api-sock "$API_SOCK"
}

# expect_counter_grows SECONDS: a new counter line comes within SECONDS.
expect_counter_grows() {
	last=$(last_counter)
	wait_console "^COUNTER $((last + 3))\$" "$1" || fail "the counter stays at $last"
}

# expect_kernel_rip: paused, vCPU 0's RIP is in the kernel's half (>= 0xffffffff80000000).
# The guest may be caught in its user space: then try again a few times.
expect_kernel_rip() {
	tries=0
	while :; do
		expect_api 200 GET /vcpu/0/regs
		rip=$(echo "$API_BODY" | sed -n 's/.*"rip":"0x\([0-9a-f]*\)".*/\1/p')
		case $rip in
		ffffffff[89a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]) return 0 ;;
		esac
		tries=$((tries + 1))
		[ "$tries" -lt 5 ] || fail "vCPU 0's RIP 0x$rip is not in the kernel"
		expect_api 204 PATCH /vm '{"state": "Resumed"}'
		sleep 0.3
		expect_api 204 PATCH /vm '{"state": "Paused"}'
	done
}

pause_resume() {
	start_counter
	mode=$(stat -c %a "$API_SOCK")
	[ "$mode" = 600 ] || fail "the socket's mode is $mode, expected 600"
	expect_state Running
	expect_api 204 PATCH /vm '{"state": "Paused"}'
	expect_state Paused
	# Pausing again is fine, as in Firecracker.
	expect_api 204 PATCH /vm '{"state": "Paused"}'
	sleep 0.5 # a line already in the console's buffers
	n1=$(counter_lines)
	x1=$(exits_total)
	sleep 2
	n2=$(counter_lines)
	x2=$(exits_total)
	[ "$n1" = "$n2" ] || fail "paused, the guest printed $((n2 - n1)) lines in 2 s"
	[ -n "$x1" ] && [ "$x1" = "$x2" ] || fail "paused, vCPU 0's exits went from $x1 to $x2"
	expect_kernel_rip
	expect_api 204 PATCH /vm '{"state": "Resumed"}'
	expect_state Running
	expect_counter_grows 10
	x3=$(exits_total)
	sleep 1
	x4=$(exits_total)
	[ "$x4" -gt "$x3" ] || fail "running, vCPU 0's exits stay at $x3"
	# kvmini's resident set holds the guest RAM the booted kernel touched: tens of MiB.
	expect_api 200 GET /vm/stats
	rss=$(body_uint rss_kib)
	[ "${rss:-0}" -ge 10240 ] || fail "GET /vm/stats: rss_kib is '$rss', expected at least 10240"
	expect_api 409 GET /vcpu/0/regs
	echo "$API_BODY" | grep -q fault_message || fail "409 without a fault_message: $API_BODY"
	expect_api 204 PUT /actions '{"action_type": "Stop"}'
	wait_kvmini 10
	expect_exit 0
	[ ! -e "$API_SOCK" ] || fail "the socket file is still there after kvmini ended"
}

cycles() {
	start_counter
	i=0
	while [ "$i" -lt 50 ]; do
		out=$("$KVMINI" pause --sock "$API_SOCK" 2>&1) || fail "cycle $i: kvmini pause: $out"
		out=$("$KVMINI" resume --sock "$API_SOCK" 2>&1) || fail "cycle $i: kvmini resume: $out"
		i=$((i + 1))
	done
	expect_counter_grows 20
	expect_counter_grows 20
	expect_no_gaps
	"$KVMINI" status --sock "$API_SOCK" | grep -q '^state: Running$' || fail "kvmini status does not say Running"
	"$KVMINI" stop --sock "$API_SOCK" >/dev/null || fail "kvmini stop failed"
	wait_kvmini 10
	expect_exit 0
	[ ! -e "$API_SOCK" ] || fail "the socket file is still there after kvmini ended"
}

# client NAME COUNT METHOD PATH [JSON...]: COUNT requests, cycling through the
# JSON bodies given (or none); each answer's status goes to $T/NAME.codes.
client() {
	name=$1 count=$2 method=$3 path=$4
	shift 4
	i=0
	while [ "$i" -lt "$count" ]; do
		if [ $# -gt 0 ]; then
			body=$1
			shift
			set -- "$@" "$body"
			curl -s --max-time 30 --unix-socket "$API_SOCK" -o /dev/null -w '%{http_code}\n' -X "$method" \
				-H 'Content-Type: application/json' --data "$body" "http://localhost$path"
		else
			curl -s --max-time 30 --unix-socket "$API_SOCK" -o /dev/null -w '%{http_code}\n' -X "$method" \
				"http://localhost$path"
		fi
		i=$((i + 1))
	done >"$T/$name.codes"
}

# expect_codes NAME WANT: every answer client NAME got was WANT.
expect_codes() {
	got=$(sort "$T/$1.codes" | uniq -c | tr -s ' \n' ' ')
	[ "$(grep -c "^$2\$" "$T/$1.codes")" = 25 ] || fail "client $1: answers were$got, expected 25 x $2"
}

stress() {
	start_counter
	client pause1 25 PATCH /vm '{"state": "Paused"}' '{"state": "Resumed"}' &
	p1=$!
	client pause2 25 PATCH /vm '{"state": "Resumed"}' '{"state": "Paused"}' &
	p2=$!
	client stats 25 GET /vm/stats &
	p3=$!
	client root 25 GET / &
	p4=$!
	wait "$p1" "$p2" "$p3" "$p4"
	expect_codes pause1 204
	expect_codes pause2 204
	expect_codes stats 200
	expect_codes root 200
	expect_api 204 PATCH /vm '{"state": "Resumed"}'
	expect_counter_grows 20
	expect_no_gaps
	expect_api 204 PUT /actions '{"action_type": "Stop"}'
	wait_kvmini 10
	expect_exit 0
}

run_case pause-resume pause_resume
run_case cycles cycles
run_case stress stress
end_cases
