# Helpers for tests/boot/*.sh; source with  . "$(dirname "$0")/../lib.sh"
# POSIX sh: tests run under busybox sh, on the host (direct mode) and in
# the nested L1 alike.
#
# The runner (tests/bench/run-tests.sh) gives every test, with $T as its
# working directory:
#   KVMINI        the kvmini binary under test
#   GUEST_KERNEL  the stock Debian kernel (bzImage)
#   GUEST_INITRD  the busybox initramfs (guests/busybox)
#   GUESTS_DIR    the tiny test guests (build/guests)
#   T             this test's scratch and log directory
# A test passes when it exits 0. fail and the expect_* helpers write the
# reason to $T/reasons, which the runner shows in the FAIL line, and exit.

for v in KVMINI GUEST_KERNEL GUEST_INITRD GUESTS_DIR T; do
	eval "[ -n \"\${$v:-}\" ]" || { echo "lib.sh: $v is not set (run tests through tests/bench/run.sh)" >&2; exit 1; }
done


# Sub-case name: prefixes reasons and the log file names (see run_case).
CASE=

# fail REASON...: record why this test (or sub-case) failed, and exit.
fail() {
	echo "${CASE:+$CASE: }$*" >>"$T/reasons"
	echo "FAIL: ${CASE:+$CASE: }$*" >&2
	exit 1
}

# run_kvmini ARGS...: run "$KVMINI" ARGS with no stdin, the guest console
# (stdout) to $CONSOLE and kvmini's stderr to $STDERR, both in $T;
# its exit code goes to $EXIT.
run_kvmini() {
	CONSOLE="$T/${CASE:+$CASE.}console.log"
	STDERR="$T/${CASE:+$CASE.}stderr.log"
	echo "+ kvmini $*"
	"$KVMINI" "$@" </dev/null >"$CONSOLE" 2>"$STDERR"
	EXIT=$?
	echo "  exit $EXIT; stderr: $(head -n 3 "$STDERR")"
}

# run_smoke ARGS...: run_kvmini smoke ARGS, for a smoke of the stock kernel.
# In the nested bench that kernel warns once at boot ("XSAVE consistency
# problem", a WARNING in fpu__init_system_xstate: under QEMU's emulated SVM
# the L2 guest's XCR0 does not reach L1's KVM), which smoke counts as a
# crash report: only that function's WARNING is allowed.
run_smoke() {
	run_kvmini smoke --allow warning:fpu__init_system_xstate "$@"
}

# boot_guest [ARGS...]: boot the stock kernel with the busybox initramfs.
boot_guest() {
	run_kvmini run --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" "$@"
}

# expect_exit N: kvmini's last exit code was N.
expect_exit() {
	[ "$EXIT" = "$1" ] ||
		fail "exit code $EXIT, expected $1 (stderr: $(head -n 1 "$STDERR"))"
}

# expect_console ERE: some console line matches (carriage returns removed).
expect_console() {
	tr -d '\r' <"$CONSOLE" | grep -Eq -- "$1" ||
		fail "no console line matches '$1' (console ends: $(tr -d '\r' <"$CONSOLE" | tail -n 1))"
}

# expect_stderr ERE: some line of kvmini's stderr matches, ignoring case.
expect_stderr() {
	grep -Eiq -- "$1" "$STDERR" ||
		fail "stderr has no line matching '$1' (stderr: $(head -n 1 "$STDERR"))"
}

# expect_one_message: kvmini's stderr is exactly one "kvmini: " line.
expect_one_message() {
	n=$(wc -l <"$STDERR")
	[ "$n" -eq 1 ] || fail "stderr has $n lines, expected one (first: $(head -n 1 "$STDERR"))"
	grep -q '^kvmini: ' "$STDERR" || fail "stderr line lacks the 'kvmini: ' prefix: $(cat "$STDERR")"
}

# console_value NAME: the value of the guest's first "NAME=value" line.
console_value() {
	tr -d '\r' <"$CONSOLE" | sed -n "s/^$1=//p" | head -n 1
}

# expect_value NAME VALUE: the guest printed NAME=VALUE.
expect_value() {
	got=$(console_value "$1")
	[ "$got" = "$2" ] || fail "guest printed $1='$got', expected '$2'"
}

# expect_kernel_mem MIB: the total Y of the kernel's "Memory: X/YK available"
# line (the guest prints it as kernel_mem_kb) is within 5% of MIB MiB.
expect_kernel_mem() {
	want=$(($1 * 1024))
	got=$(console_value kernel_mem_kb)
	echo "kernel_mem_kb=$got memtotal_kb=$(console_value memtotal_kb) want=$want"
	case $got in
	'' | *[!0-9]*) fail "guest printed kernel_mem_kb='$got', not a number" ;;
	esac
	diff=$((got - want))
	[ "$diff" -ge 0 ] || diff=$((-diff))
	[ $((diff * 100)) -le $((want * 5)) ] ||
		fail "kernel sees $got KiB, want $want KiB within 5%"
}

# run_case NAME FUNCTION: run FUNCTION as sub-case NAME in a subshell, so
# one failing sub-case is reported and the others still run. Finish the
# test with end_cases.
CASES_FAILED=0
run_case() {
	(CASE=$1 && "$2") || CASES_FAILED=$((CASES_FAILED + 1))
}

# end_cases: exit 1 if any sub-case failed.
end_cases() {
	[ "$CASES_FAILED" -eq 0 ] || exit 1
}

# at_exit: the EXIT trap of a test that started kvmini in the background: a
# failing test must not leave it running into the next one. Then AT_EXIT, a
# test's own clean-up (a shell command).
AT_EXIT=
at_exit() {
	kill -KILL "$(cat "$KVMINI_PIDFILE")" 2>/dev/null
	eval "$AT_EXIT"
}

# start_guest [ARGS...]: boot_guest in the background, with the guest
# console's input a FIFO that send_input writes to. Then wait_console, and
# wait_kvmini to collect the exit code. With GUEST_STDOUT set, the console
# goes there instead of to $CONSOLE (a FIFO, say).
start_guest() {
	CONSOLE="$T/${CASE:+$CASE.}console.log"
	STDERR="$T/${CASE:+$CASE.}stderr.log"
	INPUT="$T/${CASE:+$CASE.}input"
	KVMINI_DONE="$T/${CASE:+$CASE.}exit"
	KVMINI_PIDFILE="$T/${CASE:+$CASE.}pid"
	rm -f "$INPUT" "$KVMINI_DONE" "$KVMINI_PIDFILE"
	mkfifo "$INPUT" || fail "cannot make the FIFO $INPUT"
	echo "+ kvmini run --kernel $GUEST_KERNEL --initrd $GUEST_INITRD $* (in the background)"
	# The exit code goes to a file: a finished child lingers as a zombie
	# that kill -0 cannot tell from a running one.
	(
		"$KVMINI" run --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" "$@" \
			<"$INPUT" >"${GUEST_STDOUT:-$CONSOLE}" 2>"$STDERR" &
		echo $! >"$KVMINI_PIDFILE"
		wait $!
		echo $? >"$KVMINI_DONE"
	) &
	KVMINI_PID=$!
	# Opening the writing end waits for kvmini's reading end; it stays open
	# so kvmini sees no end of input. Writing after kvmini is gone must not
	# kill the test with SIGPIPE.
	trap '' PIPE
	exec 9>"$INPUT"
}

# start_daemon [ARGS...]: kvmini daemon --api-sock $API_SOCK ARGS (start_api_vmm).
start_daemon() {
	API_SOCK=$T/$CASE.sock
	start_api_vmm "$KVMINI" daemon --api-sock "$API_SOCK" "$@"
}

# start_counter_guest [ARGS...]: start_guest ARGS with the guest that prints
# "COUNTER n" every 100 ms (KVMINI_ACTION=counter), and wait for COUNTER 10.
# A failing test or case must not leave its guest running into the next one.
start_counter_guest() {
	start_guest "$@" --cmdline KVMINI_ACTION=counter
	trap at_exit EXIT
	wait_console '^COUNTER 10$' 200 || {
		stop_kvmini 20
		fail "the guest never counted to 10 (kvmini exit $EXIT, stderr: $(head -n 1 "$STDERR"))"
	}
}

# counter_lines: how many counter lines start_counter_guest's guest printed so far.
counter_lines() {
	tr -d '\r' <"$CONSOLE" | grep -c '^COUNTER [0-9]*$'
}

# expect_no_gaps [FILE...]: the counter lines of the FILEs one after the
# other (default $CONSOLE) are 0, 1, 2, ... in order. A line cut in two
# (a kvmini killed mid-line, its guest restored by another) joins up again.
expect_no_gaps() {
	gaps=$(cat "${@:-$CONSOLE}" | tr -d '\r' | sed -n 's/^COUNTER \([0-9]*\)$/\1/p' |
		awk 'NR == 1 && $1 != 0 { print "starts at " $1 } NR > 1 && $1 != prev + 1 { print prev "->" $1 }
			{ prev = $1 }' | head -n 5)
	[ -z "$gaps" ] || fail "counter lines missing or out of order: $gaps"
}

# send_input TEXT: TEXT (printf format) to the console input of start_guest's kvmini.
send_input() {
	# shellcheck disable=SC2059 # TEXT is a format on purpose
	printf "$1" >&9 2>/dev/null
}

# wait_console ERE SECONDS: wait until a console line matches ERE (true),
# or kvmini has exited or SECONDS have passed without one (false).
wait_console() {
	waited=0
	while :; do
		tr -d '\r' <"$CONSOLE" | grep -Eq -- "$1" && return 0
		if [ -e "$KVMINI_DONE" ] || [ "$waited" -ge "$2" ]; then
			break
		fi
		sleep 1
		waited=$((waited + 1))
	done
	tr -d '\r' <"$CONSOLE" | grep -Eq -- "$1"
}

# wait_kvmini SECONDS: wait for start_guest's kvmini to exit, its exit code
# to EXIT; after SECONDS it is killed and the test fails.
wait_kvmini() {
	waited=0
	while [ ! -e "$KVMINI_DONE" ]; do
		if [ "$waited" -ge "$1" ]; then
			kill -KILL "$(cat "$KVMINI_PIDFILE")" 2>/dev/null
			wait "$KVMINI_PID"
			exec 9>&-
			fail "kvmini did not exit within $1 s (console ends: $(tr -d '\r' <"$CONSOLE" | tail -n 1))"
		fi
		sleep 1
		waited=$((waited + 1))
	done
	wait "$KVMINI_PID"
	exec 9>&-
	EXIT=$(cat "$KVMINI_DONE")
	echo "  exit $EXIT; stderr: $(head -n 3 "$STDERR")"
}

# stop_kvmini SECONDS: stop start_guest's kvmini with SIGTERM, as a user
# would, and wait_kvmini SECONDS for its exit code (128 + 15 if it obeyed).
stop_kvmini() {
	kill -TERM "$(cat "$KVMINI_PIDFILE")" 2>/dev/null
	wait_kvmini "$1"
}

# start_api_vmm PROGRAM [ARGS...]: PROGRAM ARGS (kvmini daemon, or kvmini as
# firecracker) in the background, whose ARGS name the API socket $API_SOCK,
# until the socket is there; wait_console and wait_kvmini work as with
# start_guest.
start_api_vmm() {
	CONSOLE="$T/$CASE.console.log"
	STDERR="$T/$CASE.stderr.log"
	KVMINI_DONE="$T/$CASE.exit"
	KVMINI_PIDFILE="$T/$CASE.pid"
	rm -f "$KVMINI_DONE" "$KVMINI_PIDFILE"
	echo "+ $* (in the background)"
	(
		"$@" </dev/null >"$CONSOLE" 2>"$STDERR" &
		echo $! >"$KVMINI_PIDFILE"
		wait $!
		echo $? >"$KVMINI_DONE"
	) &
	KVMINI_PID=$!
	trap at_exit EXIT
	waited=0
	while [ ! -S "$API_SOCK" ]; do
		[ "$waited" -lt 50 ] && [ ! -e "$KVMINI_DONE" ] || fail "no socket after 5 s ($(head -n 1 "$STDERR"))"
		sleep 0.1
		waited=$((waited + 1))
	done
}

# api METHOD PATH [JSON]: one request to the control socket $API_SOCK with
# curl; the status to API_STATUS ("000": no answer), the body to API_BODY.
api() {
	if [ $# -ge 3 ]; then
		API_STATUS=$(curl -s --max-time 30 --unix-socket "$API_SOCK" -o "$T/api.body" -w '%{http_code}' \
			-X "$1" -H 'Content-Type: application/json' --data "$3" "http://localhost$2")
	else
		API_STATUS=$(curl -s --max-time 30 --unix-socket "$API_SOCK" -o "$T/api.body" -w '%{http_code}' \
			-X "$1" "http://localhost$2")
	fi
	API_BODY=$(cat "$T/api.body" 2>/dev/null)
	echo "  $1 $2 -> $API_STATUS $API_BODY" | cut -c 1-300
}

# body_uint NAME: the first "NAME":<digits> of the last API answer.
body_uint() {
	echo "$API_BODY" | grep -o "\"$1\":[0-9]*" | head -n 1 | cut -d : -f 2
}

# expect_api STATUS METHOD PATH [JSON]: api, and the answer had STATUS.
expect_api() {
	want=$1
	shift
	api "$@"
	[ "$API_STATUS" = "$want" ] || fail "$1 $2: status $API_STATUS, expected $want ($API_BODY)"
}

# expect_state STATE: GET / says the VM is in STATE (Not started, Running, Paused).
expect_state() {
	expect_api 200 GET /
	echo "$API_BODY" | grep -q "\"state\":\"$1\"" || fail "GET /: state is not $1: $API_BODY"
}

# make_tap NAME ADDR/PREFIX: a tap interface NAME, up, with ADDR on this
# side. Needs root and the tun driver (in L1 both are given). The caller
# deletes it (tunctl -d NAME), with a trap set before this call.
make_tap() {
	[ "$(id -u)" -eq 0 ] || fail "needs root to make a tap interface"
	[ -c /dev/net/tun ] || fail "no /dev/net/tun (load the tun module)"
	tunctl -t "$1" >/dev/null || fail "tunctl -t $1 failed"
	ip addr add "$2" dev "$1" || fail "cannot give $1 the address $2"
	ip link set "$1" up || fail "cannot bring $1 up"
}

# Snapshots: the snapshot-* tests' guest is tests/boot/snapshot-roundtrip.guest
# (its header says what it prints), run by kvmini daemon with a raw disk and
# virtio-rng; a restore is told to it through the disk.

# snapshot_disk FILE: the guest's disk, 2 MiB, its first block saying "gen
# 0". The test's memory files (*/memory, *.memory in $T) go when it ends: a
# failed test's $T is kept for its logs, and in L1 such files would not fit
# on the results disk.
snapshot_disk() {
	AT_EXIT='rm -f "$T"/*/memory "$T"/*.memory'
	dd if=/dev/zero of="$1" bs=1M count=2 2>/dev/null || fail "cannot make $1"
	snapshot_gen "$1" 0
}

# snapshot_gen DISK G: tells the guest on DISK that restore G happened (G = 1, 2, ...).
snapshot_gen() {
	printf 'gen %s\n' "$2" | dd of="$1" conv=notrunc 2>/dev/null || fail "cannot write to $1"
}

# start_snapshot_guest DISK [MACHINE_FIELDS]: kvmini daemon (socket
# $T/$CASE.sock) configured through the API with the snapshot guest: 1 vCPU,
# 256 MiB (and MACHINE_FIELDS, more JSON fields of /machine-config), PCI,
# DISK as the drive "disk", virtio-rng; started, and up to its "acked 10".
start_snapshot_guest() {
	start_daemon --transport pci
	expect_api 204 PUT /boot-source "{\"kernel_image_path\": \"$GUEST_KERNEL\", \"initrd_path\": \"$GUEST_INITRD\", \
\"boot_args\": \"KVMINI_ACTION=snapshot-roundtrip\"}"
	expect_api 204 PUT /machine-config "{\"vcpu_count\": 1, \"mem_size_mib\": 256${2:+, $2}}"
	expect_api 204 PUT /drives/disk \
		"{\"drive_id\": \"disk\", \"path_on_host\": \"$1\", \"is_root_device\": false, \"is_read_only\": false}"
	expect_api 204 PUT /entropy '{}'
	expect_api 204 PUT /actions '{"action_type": "InstanceStart"}'
	wait_console '^acked 10$' 200 || fail "the guest never acked record 10 ($(head -n 1 "$STDERR"))"
}

# snapshot_create TYPE DIR [MEM_FILE]: pauses the VM and PUT /snapshot/create
# of TYPE (Full, Diff) into DIR/state and MEM_FILE (default DIR/memory).
snapshot_create() {
	mkdir -p "$2" || fail "cannot make $2"
	expect_api 204 PATCH /vm '{"state": "Paused"}'
	expect_api 204 PUT /snapshot/create \
		"{\"snapshot_type\": \"$1\", \"snapshot_path\": \"$2/state\", \"mem_file_path\": \"${3:-$2/memory}\"}"
}

# kill_vmm: SIGKILL to the kvmini of this case, and its exit code (137).
kill_vmm() {
	kill -KILL "$(cat "$KVMINI_PIDFILE")" || fail "kvmini is gone before its SIGKILL"
	wait_kvmini 10
	expect_exit 137
}

# snapshot_load STATE MEMORY [RESUME]: a fresh kvmini daemon (socket
# $T/$CASE.sock) and PUT /snapshot/load of STATE with the memory file
# MEMORY, resume_vm RESUME (default true): 204.
snapshot_load() {
	start_daemon
	expect_api 204 PUT /snapshot/load "{\"snapshot_path\": \"$1\", \
\"mem_backend\": {\"backend_type\": \"File\", \"backend_path\": \"$2\"}, \"resume_vm\": ${3:-true}}"
}

# uptime_ms: this host's monotonic clock (its uptime), in ms.
uptime_ms() {
	awk '{ printf "%d", $1 * 1000 }' /proc/uptime
}

# snapshot_hold: between killing a saved kvmini and restoring, so that the
# VM stays paused for longer than expect_restored lets its clock move.
snapshot_hold() {
	sleep 6
}

# expect_restored G [SECONDS]: within SECONDS (default 60) the guest
# reports restore G: its monotonic clock went on by less than 4 s across
# it and kept pace with this host's since (so it neither jumped nor stood
# still), its realtime clock did not go back, every record it acked is on
# the disk, and virtio-rng answers. Call it right after the restore.
# Why 4 s: the guest reads its clocks once a round (~100 ms, plus the
# round's work: 340 ms nested), so across a restore they advance by the
# part of the round the pause cut and the first round after the resume,
# which takes longer as the restored guest faults its pages in from the
# memory file: 0.9 to 1.4 s seen nested, and slower when two L1 machines
# share the cores. The callers hold the VM paused for at least 6 s
# (snapshot_hold), so a clock that went on running while the VM was saved,
# or jumped to the host's, is caught. A clock that restarted from the new
# VM's zero (kvm-clock not set back) runs backwards, which Linux hides by
# holding it until it catches up: the report then comes far later, by this
# host's clock, than the guest's delta allows (3 s of slack: this side
# looks once a second). A restored VM left paused (resume_vm false) is
# another matter: its clock runs from the load, as in a pause.
expect_restored() {
	since=$(uptime_ms)
	wait_console "^restore$1_rng_bytes=" "${2:-60}" ||
		fail "the guest never reported restore $1 (console ends: $(tr -d '\r' <"$CONSOLE" | tail -n 1))"
	waited=$(($(uptime_ms) - since))
	mono=$(console_value "restore$1_mono_ms")
	real=$(console_value "restore$1_real_ms")
	echo "restore $1: monotonic +$mono ms, realtime +$real ms, $(console_value "restore$1_acked") records;" \
		"reported after $waited ms here"
	[ "$mono" -ge 0 ] && [ "$mono" -lt 4000 ] || fail "restore $1: the guest's monotonic clock moved by $mono ms"
	[ "$waited" -le $((mono + 3000)) ] ||
		fail "restore $1: the guest's clock stood still: it reported $waited ms after the restore, its clock moved $mono ms"
	[ "$real" -ge 0 ] || fail "restore $1: the guest's realtime clock went back by $((-real)) ms"
	expect_value "restore$1_disk" ok
	expect_value "restore$1_rng_bytes" 64
	! tr -d '\r' <"$CONSOLE" | grep -q '^rng-failed' || fail "a read of /dev/hwrng failed: $(grep -m 1 rng-failed "$CONSOLE")"
}
