#!/bin/sh
# smoke-lkdtm: real crash reports from a real kernel. The minimal kernel
# (guests/kernel, with LKDTM) provokes one crash per kvmini smoke run
# (smoke-lkdtm.guest), two runs at a time; each run's exit code, verdict
# line and JUnit <failure type=KIND message=TITLE> must carry the kind and
# title the classifier gives that report; BUG and EXCEPTION must not count
# as the same bug. And --allow warning lets the WARNING run pass.
# timeout: 180
. "$(dirname "$0")/../lib.sh"

[ -f "$MINI_KERNEL" ] || fail "no minimal kernel at $MINI_KERNEL (make boot-tests builds it)"

# provoke NAME TYPE [ARGS...]: kvmini smoke ARGS on the minimal kernel
# whose guest provokes LKDTM's TYPE; kvmini's output, stderr, the guest
# console, JUnit file and exit code in $T/NAME.{console.log,stderr.log,log,xml,exit}.
provoke() {
	name=$1 type=$2
	shift 2
	echo "+ kvmini smoke: $name ($type) $*"
	"$KVMINI" smoke --kernel "$MINI_KERNEL" --initrd "$GUEST_INITRD" --timeout 60 \
		--cmdline "KVMINI_ACTION=smoke-lkdtm KVMINI_LKDTM=$type" \
		--expect '^smoke-lkdtm: DIRECT returned$' --junit "$T/$name.xml" --log "$T/$name.log" $SMOKE_ALLOW "$@" \
		</dev/null >"$T/$name.console.log" 2>"$T/$name.stderr.log"
	echo $? >"$T/$name.exit"
}

provoke warning WARNING &
provoke bug BUG &
wait
provoke exception EXCEPTION &
provoke softlockup SOFTLOCKUP &
wait
provoke hung-task HUNG_TASK &
provoke panic PANIC &
wait
provoke allow-warning WARNING --allow warning

# verdict VERDICT EXIT KIND TITLE: the case's run ended with EXIT, its
# verdict line is "VERDICT bzImage 1 vCPU: TITLE...", and its JUnit
# testcase failed with type KIND and message TITLE, then at most a count of
# the reports that followed (a hung task is reported again every second).
verdict() {
	CONSOLE=$T/$CASE.console.log STDERR=$T/$CASE.stderr.log EXIT=$(cat "$T/$CASE.exit")
	expect_exit "$2"
	expect_console "^$1 bzImage 1 vCPU: $4"
	xmllint --noout "$T/$CASE.xml" || fail "xmllint rejects the JUnit file"
	type=$(xmllint --xpath 'string(//testcase/failure/@type)' "$T/$CASE.xml")
	[ "$type" = "$3" ] || fail "JUnit failure type '$type', expected '$3'"
	message=$(xmllint --xpath 'string(//testcase/failure/@message)' "$T/$CASE.xml")
	case $message in
	"$4" | "$4 (+"[0-9]*" more report"*")") ;;
	*) fail "JUnit failure message '$message', expected '$4'" ;;
	esac
}

warning() { verdict FAIL 1 warning "WARNING in lkdtm_WARNING"; }
bug() { verdict FAIL 1 bug "kernel BUG in lkdtm_BUG"; }
exception() { verdict FAIL 1 bug "BUG: kernel NULL pointer dereference in lkdtm_EXCEPTION"; }
softlockup() { verdict FAIL 1 soft-lockup "BUG: soft lockup in lkdtm_SOFTLOCKUP"; }
# lkdtm_HUNG_TASK ends in a tail call of schedule(): its caller is the first frame.
hung_task() { verdict FAIL 1 hung-task "INFO: task hung in direct_entry"; }
panic() { verdict PANIC 4 panic "kernel panic: dumptest"; }
allow_warning() {
	CONSOLE=$T/$CASE.console.log STDERR=$T/$CASE.stderr.log EXIT=$(cat "$T/$CASE.exit")
	expect_exit 0
	expect_console '^PASS bzImage 1 vCPU: '
	grep -q '^smoke-lkdtm: DIRECT returned' "$T/$CASE.log" || fail "the guest did not get past the WARNING"
	grep -Eq 'WARNING: CPU: [0-9]+ PID: [0-9]+ at .* lkdtm_WARNING\+0x' "$T/$CASE.log" ||
		fail "no WARNING from lkdtm_WARNING in the guest console"
}

# BUG and EXCEPTION come the same way into LKDTM: still two bugs, not one report group.
distinct() {
	hash_of() { tr -d '\r' <"$T/$1.console.log" | sed -n 's/^--- bug report \[\([0-9a-f]*\)\] ---$/\1/p' | head -n 1; }
	a=$(hash_of bug) b=$(hash_of exception)
	[ -n "$a" ] && [ -n "$b" ] || fail "no '--- bug report [HASH] ---' line (bug '$a', exception '$b')"
	[ "$a" != "$b" ] || fail "BUG and EXCEPTION have the same report hash $a"
}

run_case warning warning
run_case bug bug
run_case exception exception
run_case softlockup softlockup
run_case hung-task hung_task
run_case panic panic
run_case allow-warning allow_warning
run_case distinct distinct
end_cases
