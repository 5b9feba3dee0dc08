#!/bin/bash
# The bench's own test: a bench failure must be told apart from a test
# failure and retried once, so that one flake does not fail the run and two
# do. An L1 kernel that cannot find its init panics, which is such a failure.
#
# Usage: selftest.sh --kvmini PATH --out DIR
set -u
[ $# -eq 4 ] && [ "$1" = --kvmini ] && [ "$3" = --out ] ||
	{ echo "usage: selftest.sh --kvmini PATH --out DIR" >&2; exit 2; }
out=$4
mkdir -p "$out" || exit 1
failed=0
# check LOG WHAT PATTERN: LOG has a line with PATTERN.
check() {
	if grep -q -- "$3" "$1"; then
		echo "PASS bench-selftest: $2"
	else
		echo "FAIL bench-selftest: $2 (no '$3' in $1)"
		failed=$((failed + 1))
	fi
}
# expect_rc WHAT GOT WANT: run.sh's exit status, zero or non-zero.
expect_rc() {
	if { [ "$3" = zero ] && [ "$2" -eq 0 ]; } || { [ "$3" = non-zero ] && [ "$2" -ne 0 ]; }; then
		echo "PASS bench-selftest: $1"
	else
		echo "FAIL bench-selftest: $1 (run.sh exited $2)"
		failed=$((failed + 1))
	fi
}

# One flake: L1 crashes after the first of two tests (they run in name
# order). The run passes, the retry runs only the test without a result, and
# the first is not run again.
log=$out/selftest-flake.log
KVMINI_BENCH_L1_APPEND_ONCE="KVMINI_BENCH_CRASH_AFTER=poweroff-acpi" \
	"$(dirname "$0")/run.sh" --kvmini "$2" --out "$out/flake" --mode nested --only vcpus-1,poweroff-acpi \
	>"$log" 2>&1
expect_rc "one flake does not fail the run" $? zero
check "$log" "an L1 panic is a bench failure" "bench failure (not a test failure): L1 panicked"
check "$log" "the retry runs only the test without a result" "retrying the L1 run once, for the tests without a result: vcpus-1$"
check "$log" "the retry runs that test" "^PASS vcpus-1 "
n=$(grep -c "^PASS poweroff-acpi " "$log")
if [ "$n" -eq 1 ]; then
	echo "PASS bench-selftest: a test with a result is reported once"
else
	echo "FAIL bench-selftest: poweroff-acpi reported $n times in $log, want 1"
	failed=$((failed + 1))
fi

# Two: the run fails and names the test that did not run.
log=$out/selftest-broken.log
KVMINI_BENCH_L1_APPEND="rdinit=/nonexistent" \
	"$(dirname "$0")/run.sh" --kvmini "$2" --out "$out/broken" --mode nested --only vcpus-1 >"$log" 2>&1
expect_rc "two bench failures fail the run" $? non-zero
check "$log" "the second failure is reported" "bench failure again: L1 panicked"
check "$log" "the test that did not run is named" "FAIL vcpus-1: not run (bench failure)"
[ "$failed" -eq 0 ]
