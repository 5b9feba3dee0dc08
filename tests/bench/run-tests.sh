#!/bin/sh
# Run the boot tests (tests/boot/*.sh) one after another. POSIX sh: it runs
# under busybox sh on the host (direct mode) and inside the nested L1.
#
# Usage: run-tests.sh OUTDIR [NAME[,NAME...]]
# Environment: KVMINI GUEST_KERNEL GUEST_INITRD GUESTS_DIR, handed on to
# the tests together with T=OUTDIR/<test>.
#
# Each test runs in its own process group under the limit declared in its
# header ("# timeout: SECONDS"); at the limit the whole group is killed, so
# a hung guest fails that test only. A test's logs stay in OUTDIR/<test>
# if it fails and are removed if it passes. Output, one line each, for the
# caller (tests/bench/run.sh) to parse:
#   KVMINI-BENCH: START <test> <timeout>
#   KVMINI-BENCH: PASS <test> (<seconds> s)
#   KVMINI-BENCH: FAIL <test>: <reason>
set -u

[ $# -ge 1 ] || { echo "usage: run-tests.sh OUTDIR [NAME[,NAME...]]" >&2; exit 2; }
out=$1
only=${2:-}
tests=$(cd "$(dirname "$0")/../boot" && pwd)

mark() { echo "KVMINI-BENCH: $*"; }
# Hundredths of a second since boot.
now() { awk '{ printf "%d", $1 * 100 }' /proc/uptime; }

failed=0
found=,
for t in "$tests"/*.sh; do
	name=$(basename "$t" .sh)
	case ",$only," in ,, | *",$name,"*) ;; *) continue ;; esac
	found=$found$name,
	T=$out/$name
	export T
	rm -rf "$T"
	mkdir -p "$T"
	limit=$(sed -n 's/^# timeout: *\([0-9][0-9]*\) *$/\1/p' "$t" | head -n 1)
	if [ -z "$limit" ]; then
		mark "FAIL $name: no '# timeout: SECONDS' line in its header"
		failed=1
		continue
	fi

	mark "START $name $limit"
	start=$(now)
	# setsid: the test (pid = process group id) and all it starts, kvmini
	# included, can be killed as one group.
	(cd "$T" && exec setsid sh "$t" </dev/null >"$T/output.log" 2>&1) &
	pid=$!
	setsid sh -c 'sleep "$1" && : >"$2" && kill -KILL "-$3"' watchdog \
		"$limit" "$T/.timed-out" "$pid" </dev/null >/dev/null 2>&1 &
	watchdog=$!
	wait "$pid"
	rc=$?
	# The group, and the pid in case the watchdog has not called setsid yet.
	kill -KILL "-$watchdog" "$watchdog" 2>/dev/null
	# Leftovers of a test that exited early (a kvmini it started, say).
	kill -KILL "-$pid" 2>/dev/null
	wait "$watchdog" 2>/dev/null
	secs=$(awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.1f", (b - a) / 100 }')

	if [ -e "$T/.timed-out" ]; then
		reason="timed out after $limit s"
	elif [ -s "$T/reasons" ]; then
		reason=$(awk 'NR > 1 { printf "; " } { printf "%s", $0 }' "$T/reasons")
	elif [ "$rc" -ne 0 ]; then
		reason="exited with status $rc (see output.log)"
	else
		reason=
	fi
	if [ -z "$reason" ]; then
		mark "PASS $name ($secs s)"
		rm -rf "$T"
	else
		mark "FAIL $name: $reason"
		failed=1
	fi
	# For tests/bench/selftest.sh: an L1 that crashes between two tests.
	[ "$name" != "${KVMINI_BENCH_CRASH_AFTER:-}" ] || echo c >/proc/sysrq-trigger
done

for name in $(echo "$only" | tr ',' ' '); do
	case $found in *",$name,"*) continue ;; esac
	mark "FAIL $name: no such test in tests/boot"
	failed=1
done
exit "$failed"
