#!/bin/sh
# smoke-junit: the stock kernel with kvmini's built-in init passes in a 2x2
# matrix (1 and 2 vCPUs, 256M and 512M), two runs at a time: what the init
# reports matches each run's options, and the JUnit file has one testcase
# per run, parses with xmllint, and its counts match.
# timeout: 400
. "$(dirname "$0")/../lib.sh"

run_smoke --kernel "$GUEST_KERNEL" --cpus 1,2 --mem 256M,512M --timeout 150 --jobs 2 \
	--junit "$T/report.xml" --log "$T/smoke.log"
expect_exit 0
n=$(grep -c '^PASS vmlinuz .*: init after [0-9.]* s' "$CONSOLE")
[ "$n" -eq 4 ] || fail "$n PASS lines with an init time, expected 4"

# The log holds each run under its own heading.
for run in "cpus=1,mem=256M:1:262144" "cpus=2,mem=256M:2:262144" "cpus=1,mem=512M:1:524288" "cpus=2,mem=512M:2:524288"; do
	name=${run%%:*} want_cpus=${run#*:} want_kb=${run##*:}
	want_cpus=${want_cpus%%:*}
	section=$(tr -d '\r' <"$T/smoke.log" | awk -v h="=== vmlinuz $name ===" '/^=== / { on = ($0 == h) } on')
	echo "$section" | grep -q '^KVMINI-SMOKE-OK$' || fail "$name: no KVMINI-SMOKE-OK in the log"
	cpus=$(echo "$section" | sed -n 's/^kvmini-init: cpus //p')
	[ "$cpus" = "$want_cpus" ] || fail "$name: the init saw '$cpus' CPUs"
	mem=$(echo "$section" | sed -n 's/^kvmini-init: memtotal_kb //p')
	case $mem in '' | *[!0-9]*) fail "$name: the init printed memtotal_kb '$mem'" ;; esac
	# MemTotal leaves out the kernel's own reservations: 70-100% of --mem.
	[ "$mem" -gt $((want_kb * 70 / 100)) ] && [ "$mem" -le "$want_kb" ] ||
		fail "$name: MemTotal $mem KiB does not fit $want_kb KiB"
done

xmllint --noout "$T/report.xml" || fail "xmllint rejects the JUnit file"
count() { xmllint --xpath "$1" "$T/report.xml"; }
[ "$(count 'count(//testsuite)')" = 1 ] || fail "not exactly one testsuite"
[ "$(count 'count(//testcase)')" = 4 ] || fail "$(count 'count(//testcase)') testcases, expected 4"
[ "$(count 'string(//testsuite/@tests)')" = 4 ] || fail "testsuite tests=$(count 'string(//testsuite/@tests)')"
[ "$(count 'string(//testsuite/@failures)')" = 0 ] || fail "testsuite failures=$(count 'string(//testsuite/@failures)')"
[ "$(count 'count(//testcase[@name="vmlinuz cpus=2,mem=512M"])')" = 1 ] || fail "no testcase for cpus=2,mem=512M"
