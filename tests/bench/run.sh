#!/bin/bash
# The real-KVM test bench: runs every tests/boot/*.sh against a kvmini
# binary and real KVM. See docs/testing.md.
#
# Usage: run.sh --kvmini PATH --out DIR [--mode auto|direct|nested] [--only NAME[,NAME...]]
#   direct  run the tests here; /dev/kvm must work
#   nested  run them inside an L1 Linux under QEMU's software emulation of
#           an AMD CPU with SVM, whose own KVM then runs the guests
#   auto    (default, or $KVMINI_BENCH_MODE) direct if /dev/kvm works
# Prints "PASS name (s)" or "FAIL name: reason" per test, then
# "N passed, N failed". Exit 0 iff every test passed.
set -u
source "$(dirname "$0")/common.sh"

usage() {
	echo "usage: run.sh --kvmini PATH --out DIR [--mode auto|direct|nested] [--only NAME[,NAME...]]" >&2
	exit 2
}

KVMINI= OUT= ONLY=
MODE=${KVMINI_BENCH_MODE:-auto}
while [ $# -gt 0 ]; do
	case $1 in
	--kvmini | --out | --mode | --only) [ $# -ge 2 ] || usage ;;&
	--kvmini) KVMINI=$2 ;;
	--out) OUT=$2 ;;
	--mode) MODE=${2:-auto} ;;
	--only) ONLY=$2 ;;
	*) usage ;;
	esac
	shift 2
done
[ -n "$KVMINI" ] && [ -n "$OUT" ] || usage
case $MODE in auto | direct | nested) ;; *) die "unknown mode '$MODE' (auto, direct or nested)" ;; esac
[ -f "$KVMINI" ] && [ -x "$KVMINI" ] || die "$KVMINI is not an executable (run make first)"
KVMINI=$(readlink -f "$KVMINI")
mkdir -p "$OUT" || die "cannot create $OUT"
OUT=$(readlink -f "$OUT")

resolve_kernel
build_guest_initrd
build_probe

# The tests this run should report on.
if [ -n "$ONLY" ]; then
	IFS=, read -r -a TESTS <<<"$ONLY"
else
	TESTS=()
	for t in "$ROOT"/tests/boot/*.sh; do TESTS+=("$(basename "$t" .sh)"); done
fi

case $MODE in
auto)
	if kvm_usable; then MODE=direct; else MODE=nested; fi
	;;
direct)
	if ! kvm_usable; then
		[ "$KVM_STATUS" -eq 3 ] || die "direct mode needs a working /dev/kvm: $KVM_REASON"
		echo "bench: warning: $KVM_REASON; running direct as asked"
	fi
	;;
nested)
	KVM_REASON="--mode nested"
	;;
esac

PASSED=0 FAILED=0
declare -A REPORTED=()

# report LINE: one result line from run-tests.sh, marker removed.
report() {
	local name
	case $1 in
	PASS\ *) name=${1#PASS }; name=${name%% *}; PASSED=$((PASSED + 1)) ;;
	FAIL\ *) name=${1#FAIL }; name=${name%%:*}; FAILED=$((FAILED + 1)) ;;
	*) return ;;
	esac
	REPORTED[$name]=1
	echo "$1"
}

# report_missing REASON: a FAIL line for every test with no result.
report_missing() {
	local t
	for t in "${TESTS[@]}"; do
		[ -n "${REPORTED[$t]:-}" ] || report "FAIL $t: $1"
	done
}

run_direct() {
	echo "bench: direct mode: running the tests on this host's /dev/kvm"
	# Busybox applets only, as in L1, so the tests behave the same.
	local bin=$WORK/busybox-bin applet line
	rm -rf "$bin"
	mkdir -p "$bin"
	for applet in $(/bin/busybox --list); do ln -s /bin/busybox "$bin/$applet"; done
	for applet in $BENCH_HOST_TOOLS; do ln -s "$(command -v "$applet")" "$bin/$applet"; done
	while IFS= read -r line; do
		case $line in
		"KVMINI-BENCH: "*) report "${line#KVMINI-BENCH: }" ;;
		*) echo "$line" ;;
		esac
	done < <(env PATH="$bin" KVMINI="$KVMINI" GUEST_KERNEL="$VMLINUZ" \
		GUEST_INITRD="$GUEST_INITRD" GUESTS_DIR="$BUILD/guests" \
		"$bin/sh" "$BENCH_DIR/run-tests.sh" "$OUT" ${ONLY:+"$ONLY"})
	report_missing "no result from run-tests.sh"
}

# Seconds L1 may take from power-on to its first test, and from one
# result line to the next START or the end marker.
L1_BOOT_LIMIT=180
L1_GAP_LIMIT=120

# l1_attempt EXTRA NAME...: one L1 run of these tests, EXTRA appended to L1's
# command line. Result lines are reported as they arrive. On a bench failure
# (L1 crashed, stalled or never finished) BENCH_FAILURE says why; test
# failures are not bench failures.
l1_attempt() {
	local extra=$1 only
	shift
	only=$(IFS=,; echo "$*")
	local console=$OUT/l1-console.log img=$WORK/results.img
	local qpid chunk= line rest carry= ended= alive now limit why t0=$EPOCHREALTIME
	local waiting_for="its first test"
	local overall=$((L1_BOOT_LIMIT + L1_GAP_LIMIT)) deadline next
	for t in "$@"; do
		limit=$(sed -n 's/^# timeout: *\([0-9][0-9]*\) *$/\1/p' "$ROOT/tests/boot/$t.sh" 2>/dev/null | head -n 1)
		overall=$((overall + ${limit:-0} + L1_GAP_LIMIT))
	done
	BENCH_FAILURE=

	rm -f "$img"
	truncate -s 256M "$img"
	: >"$console"
	"${L1_QEMU[@]}" -kernel "$VMLINUZ" -initrd "$L1_INITRD" \
		-append "$L1_CMDLINE KVMINI_BENCH=test KVMINI_ONLY=$only$extra" \
		-drive "file=$img,format=raw,if=virtio" \
		</dev/null >"$console" 2>"$OUT/l1-qemu.log" &
	qpid=$!
	# Not a job any more: bash would print a notice when QEMU is killed.
	disown "$qpid"
	exec 3<"$console"
	deadline=$((SECONDS + overall))
	next=$((SECONDS + L1_BOOT_LIMIT))
	while [ -z "$BENCH_FAILURE" ] && [ -z "$ended" ]; do
		sleep 1
		kill -0 "$qpid" 2>/dev/null && alive=1 || alive=
		# Complete lines only: a partial last line waits in carry.
		while IFS= read -r chunk <&3; do
			line=$carry$chunk
			carry=
			line=${line%$'\r'}
			if [[ $line == *"KVMINI-BENCH: "* ]]; then
				rest=${line#*KVMINI-BENCH: }
				case $rest in
				READY) echo "bench: L1 up after $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s" ;;
				START\ *)
					next=$((SECONDS + ${rest##* } + L1_GAP_LIMIT))
					rest=${rest#START }
					waiting_for="the result of ${rest% *}"
					;;
				PASS\ * | FAIL\ *)
					report "$rest"
					next=$((SECONDS + L1_GAP_LIMIT))
					waiting_for="its next test or end marker"
					;;
				ABORT\ *) BENCH_FAILURE="L1 gave up: ${rest#ABORT }" ;;
				END) ended=1 ;;
				esac
			elif [[ $line == *"Kernel panic - not syncing"* ]]; then
				BENCH_FAILURE="L1 panicked: ${line#*Kernel panic - not syncing: }"
			fi
		done
		carry=$carry$chunk
		now=$SECONDS
		if [ -n "$BENCH_FAILURE" ] || [ -n "$ended" ]; then
			break
		elif [ -z "$alive" ]; then
			BENCH_FAILURE="L1 stopped before the end marker"
			# QEMU's last word, if it was more than a CPU feature warning.
			rest=$(grep -v 'warning: TCG doesn.t support' "$OUT/l1-qemu.log" | tail -n 1)
			[ -z "$rest" ] || BENCH_FAILURE="$BENCH_FAILURE (QEMU: $rest)"
		elif [ "$now" -ge "$deadline" ]; then
			BENCH_FAILURE="L1 did not finish within $overall s"
		elif [ "$now" -ge "$next" ]; then
			BENCH_FAILURE="L1 stalled: no sign of $waiting_for in time"
		fi
	done
	exec 3<&-

	# After the end marker L1 powers off by itself; give it a moment.
	for _ in $(seq 30); do
		kill -0 "$qpid" 2>/dev/null || break
		[ -n "$ended" ] || break
		sleep 1
	done
	# Stopped for good before the results disk is read; SIGKILL if a hung
	# QEMU ignores SIGTERM for 10 s.
	kill "$qpid" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$qpid" 2>/dev/null || break
		sleep 0.2
	done
	kill -KILL "$qpid" 2>/dev/null
	while kill -0 "$qpid" 2>/dev/null; do sleep 0.2; done
	if [ -z "$BENCH_FAILURE" ] && ! why=$(tar -xf "$img" -C "$OUT" 2>&1); then
		BENCH_FAILURE="the results disk from L1 is unreadable ($(echo "$why" | head -n 1)); kept as $OUT/results.img"
		mv "$img" "$OUT/results.img"
	fi
	rm -f "$img"
}

# The tests with no result yet.
unreported() {
	local t
	for t in "${TESTS[@]}"; do
		[ -n "${REPORTED[$t]:-}" ] || echo "$t"
	done
}

run_nested() {
	local why=$1 attempt rest
	echo "bench: nested mode ($why): the tests run in an L1 Linux under QEMU/TCG"
	build_l1_initrd
	for attempt in 1 2; do
		# KVMINI_BENCH_L1_APPEND_ONCE: a flake on the first attempt only (selftest.sh).
		# A retry runs only the tests that have no result: a test that failed
		# before the bench did keeps its FAIL, one that passed is not run again.
		mapfile -t rest < <(unreported)
		if [ "${#rest[@]}" -eq 0 ]; then
			echo "bench failure after every test had its result: $BENCH_FAILURE; nothing to retry"
			return
		fi
		if [ "$attempt" -eq 1 ]; then
			l1_attempt "${KVMINI_BENCH_L1_APPEND_ONCE:+ $KVMINI_BENCH_L1_APPEND_ONCE}" "${rest[@]}"
		else
			l1_attempt "" "${rest[@]}"
		fi
		[ -n "$BENCH_FAILURE" ] || break
		mv "$OUT/l1-console.log" "$OUT/l1-console.attempt$attempt.log"
		if [ "$attempt" -eq 1 ]; then
			echo "bench failure (not a test failure): $BENCH_FAILURE; L1 console in $OUT/l1-console.attempt1.log; retrying the L1 run once, for the tests without a result: $(unreported | paste -sd ' ')"
		else
			echo "bench failure again: $BENCH_FAILURE; L1 console in $OUT/l1-console.attempt2.log"
			report_missing "not run (bench failure)"
			return
		fi
	done
	report_missing "no result from L1"
}

if [ "$MODE" = direct ]; then
	run_direct
else
	run_nested "$KVM_REASON"
fi
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
