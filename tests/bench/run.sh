#!/bin/bash
# The real-KVM test bench: runs every tests/boot/*.sh against a kvmini
# binary and real KVM. See docs/testing.md.
#
# Usage: run.sh --kvmini PATH --out DIR [--mode auto|direct|nested] [--only NAME[,NAME...]]
#               [--shards N]
#   direct  run the tests here; /dev/kvm must work
#   nested  run them inside an L1 Linux under QEMU's software emulation of
#           an AMD CPU with SVM, whose own KVM then runs the guests
#   auto    (default, or $KVMINI_BENCH_MODE) direct if /dev/kvm works
#   --shards N (or $KVMINI_BENCH_SHARDS): nested, split the tests between N
#           L1 machines running side by side (one host core each), balanced
#           by tests/bench/durations.txt; each is retried on its own.
# Prints "PASS name (s)" or "FAIL name: reason" per test, then
# "N passed, N failed". Exit 0 iff every test passed.
set -u
source "$(dirname "$0")/common.sh"

usage() {
	echo "usage: run.sh --kvmini PATH --out DIR [--mode auto|direct|nested] [--only NAME[,NAME...]] [--shards N]" >&2
	exit 2
}

KVMINI= OUT= ONLY=
MODE=${KVMINI_BENCH_MODE:-auto}
SHARDS=${KVMINI_BENCH_SHARDS:-1}
while [ $# -gt 0 ]; do
	case $1 in
	--kvmini | --out | --mode | --only | --shards) [ $# -ge 2 ] || usage ;;&
	--kvmini) KVMINI=$2 ;;
	--out) OUT=$2 ;;
	--mode) MODE=${2:-auto} ;;
	--only) ONLY=$2 ;;
	--shards) SHARDS=$2 ;;
	*) usage ;;
	esac
	shift 2
done
[ -n "$KVMINI" ] && [ -n "$OUT" ] || usage
case $SHARDS in [1-9]) ;; *) die "--shards: 1 to 9 L1 machines, not '$SHARDS'" ;; esac
case $MODE in auto | direct | nested) ;; *) die "unknown mode '$MODE' (auto, direct or nested)" ;; esac
[ -f "$KVMINI" ] && [ -x "$KVMINI" ] || die "$KVMINI is not an executable (run make first)"
KVMINI=$(readlink -f "$KVMINI")
mkdir -p "$OUT" || die "cannot create $OUT"
OUT=$(readlink -f "$OUT")

resolve_kernel
build_lkdtm
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
FAILED_TESTS=()

# report LINE: one result line from run-tests.sh, marker removed.
report() {
	local name
	case $1 in
	PASS\ *) name=${1#PASS }; name=${name%% *}; PASSED=$((PASSED + 1)) ;;
	FAIL\ *) name=${1#FAIL }; name=${name%%:*}; FAILED=$((FAILED + 1)); FAILED_TESTS+=("$name") ;;
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

# on_test_line LINE: a marker line from run-tests.sh in L1 (see l1_run).
on_test_line() {
	local rest
	case $1 in
	START\ *)
		L1_NEXT=$((SECONDS + ${1##* } + L1_GAP_LIMIT))
		rest=${1#START }
		L1_WAITING_FOR="the result of ${rest% *}"
		;;
	PASS\ * | FAIL\ *)
		report "$1"
		L1_NEXT=$((SECONDS + L1_GAP_LIMIT))
		L1_WAITING_FOR="its next test or end marker"
		;;
	esac
}

# l1_attempt EXTRA NAME...: one L1 run of these tests, EXTRA appended to L1's
# command line. Result lines are reported as they arrive. On a bench failure
# (L1 crashed, stalled or never finished) BENCH_FAILURE says why; test
# failures are not bench failures.
l1_attempt() {
	local extra=$1 only t limit overall=$((L1_BOOT_LIMIT + L1_GAP_LIMIT))
	shift
	only=$(IFS=,; echo "$*")
	for t in "$@"; do
		limit=$(sed -n 's/^# timeout: *\([0-9][0-9]*\) *$/\1/p' "$ROOT/tests/boot/$t.sh" 2>/dev/null | head -n 1)
		overall=$((overall + ${limit:-0} + L1_GAP_LIMIT))
	done
	L1_WAITING_FOR="its first test"
	l1_run on_test_line "$overall" "KVMINI_BENCH=test KVMINI_ONLY=$only$extra"
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
		mv "$OUT/l1-console$SHARD_SUFFIX.log" "$OUT/l1-console$SHARD_SUFFIX.attempt$attempt.log"
		if [ "$attempt" -eq 1 ]; then
			echo "bench failure (not a test failure): $BENCH_FAILURE; L1 console in $OUT/l1-console$SHARD_SUFFIX.attempt1.log; retrying the L1 run once, for the tests without a result: $(unreported | paste -sd ' ')"
		else
			echo "bench failure again: $BENCH_FAILURE; L1 console in $OUT/l1-console$SHARD_SUFFIX.attempt2.log"
			report_missing "not run (bench failure)"
			return
		fi
	done
	report_missing "no result from L1"
}

# show_failure_logs: the end of each failed test's newest console log and of
# its output.log, when they came back, so a CI log alone shows what happened.
show_failure_logs() {
	local t console
	for t in "${FAILED_TESTS[@]}"; do
		[ -f "$OUT/$t/output.log" ] || continue
		console=$(ls -t "$OUT/$t"/*console.log 2>/dev/null | head -n 1)
		if [ -n "$console" ]; then
			echo "--- $t: last lines of ${console#"$OUT"/}"
			tr -d '\r' <"$console" | tail -n 15 | sed 's/^/  | /'
		fi
		echo "--- $t: last lines of $t/output.log"
		tail -n 8 "$OUT/$t/output.log" | sed 's/^/  | /'
	done
}

# shard_lists: SHARDS lines, each a comma-separated list of tests, the
# longest tests first onto the least loaded machine (durations.txt; 60 s
# for a test it does not list).
shard_lists() {
	local t
	for t in "${TESTS[@]}"; do
		awk -v t="$t" '$1 == t { s = $2 } END { print (s == "" ? 60 : s), t }' "$BENCH_DIR/durations.txt"
	done | sort -rn | awk -v n="$SHARDS" '
		{ best = 1; for (i = 2; i <= n; i++) if (load[i] < load[best]) best = i
		  load[best] += $1; list[best] = list[best] (list[best] == "" ? "" : ",") $2 }
		END { for (i = 1; i <= n; i++) if (list[i] != "") print list[i] }'
}

# run_sharded: this script once per shard, side by side, each a whole
# nested run of its tests (retry included) with its own logs; their lines
# are shown as they come, prefixed with the shard, and counted at the end.
run_sharded() {
	local k=0 list pids=() rc=0 pid
	echo "bench: nested mode ($1): the tests run in $SHARDS L1 Linux machines side by side under QEMU/TCG"
	build_l1_initrd
	rm -f "$OUT"/shard-*.log
	while IFS= read -r list; do
		k=$((k + 1))
		echo "bench: L1 machine $k: $list"
		(set -o pipefail
		 KVMINI_BENCH_SHARD=$k "$0" --kvmini "$KVMINI" --out "$OUT" --mode nested --only "$list" --shards 1 2>&1 |
			sed -u "s/^/[L1-$k] /" | tee "$OUT/shard-$k.log") &
		pids+=($!)
	done < <(shard_lists)
	for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
	PASSED=$(cat "$OUT"/shard-*.log | grep -c '^\[L1-[0-9]\] PASS ')
	FAILED=$(cat "$OUT"/shard-*.log | grep -c '^\[L1-[0-9]\] FAIL ')
	# A shard that ended without its summary line failed as a whole.
	for pid in $(seq "$k"); do
		grep -q '^\[L1-[0-9]\] [0-9]* passed, [0-9]* failed$' "$OUT/shard-$pid.log" || rc=1
	done
	echo "$PASSED passed, $FAILED failed"
	[ "$rc" -eq 0 ] && [ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
	exit
}

if [ "$MODE" = direct ]; then
	run_direct
elif [ "$SHARDS" -gt 1 ] && [ "${#TESTS[@]}" -gt 1 ] && [ -z "$SHARD_SUFFIX" ]; then
	run_sharded "$KVM_REASON"
else
	run_nested "$KVM_REASON"
fi
show_failure_logs
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
