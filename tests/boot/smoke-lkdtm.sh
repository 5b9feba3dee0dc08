#!/bin/sh
# smoke-lkdtm: real crash reports from a real kernel. The stock kernel loads
# LKDTM (scripts/build-lkdtm.sh; the busybox init's lkdtm action) and
# provokes one crash per run; smoke must fail each run with the report's
# title in the verdict line and in JUnit, and `--allow` must let a
# tolerated kind pass.
# timeout: 420
. "$(dirname "$0")/../lib.sh"

# provoke TYPE [ARGS...]: one smoke run of the stock kernel provoking TYPE.
provoke() {
	type=$1
	shift
	run_smoke --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --timeout 90 \
		--cmdline "KVMINI_ACTION=lkdtm KVMINI_LKDTM=$type" --junit "$T/$CASE.xml" "$@"
}

# expect_report EXIT TITLE KIND: the verdict line, the report's text and the JUnit failure. A single run's name
# has every axis, a matrix's only those that vary.
expect_report() {
	expect_exit "$1"
	expect_console "^[A-Z]+ vmlinuz cpus=1(,mem=512M)?: $2"
	expect_console "^--- $3 report \\[[0-9a-f]{8}\\]"
	grep -Eq "<failure message=\"$2[^\"]*\" type=\"$3\"" "$T/$CASE.xml" ||
		fail "no JUnit failure of type $3 titled '$2' in $CASE.xml: $(grep -m 1 '<failure' "$T/$CASE.xml")"
}

warning() {
	# Two runs with the same bug: one group naming both.
	provoke WARNING --cpus 1,2
	expect_report 1 'WARNING in lkdtm_WARNING' warning
	expect_console '^  WARNING in lkdtm_WARNING \[[0-9a-f]{8}\]: 2 of 2 runs \(vmlinuz cpus=1; vmlinuz cpus=2\)$'
	# Tolerated: the guest goes on, finishes and passes.
	provoke WARNING --allow warning --expect '^lkdtm: WARNING done'
	expect_exit 0
	expect_console '^PASS vmlinuz cpus=1,mem=512M: '
}

bug() {
	provoke BUG
	expect_report 1 'kernel BUG in lkdtm_BUG' bug
}

exception() {
	provoke EXCEPTION
	expect_report 1 'BUG: kernel NULL pointer dereference in lkdtm_EXCEPTION' bug
}

soft_lockup() {
	provoke SOFTLOCKUP
	expect_report 1 'BUG: soft lockup in lkdtm_SOFTLOCKUP' soft-lockup
}

hung_task() {
	provoke HUNG_TASK
	# lkdtm_HUNG_TASK is inlined into direct_entry, where the stack has it.
	expect_report 1 'INFO: task hung in direct_entry' hung-task
}

panic() {
	provoke PANIC
	expect_report 4 'kernel panic: dumptest' panic
}

run_case warning warning
run_case bug bug
run_case exception exception
run_case soft-lockup soft_lockup
run_case hung-task hung_task
run_case panic panic
end_cases
