#!/bin/sh
# seccomp: least privilege on real KVM (docs/security.md).
# Cases: filtered, a 2-vCPU guest with the API socket (so every kind of
# thread exists): every thread of kvmini shows "Seccomp: 2" and
# "NoNewPrivs: 1" in /proc/PID/task/*/status, also after a pause and a
# resume (which starts the I/O thread again from a filtered thread), the
# guest keeps counting, and it sees no svm/vmx in /proc/cpuinfo (--nested
# is off by default); unfiltered, with --no-seccomp: every thread shows
# "Seccomp: 0"; jailed, with --uid/--gid 65534 and --chroot: every thread
# runs as 65534:65534, also the I/O thread started again by a resume, and
# the guest keeps counting; nested, with --nested on: the guest sees the
# flag this host's KVM offers (svm or vmx).
# timeout: 500
. "$(dirname "$0")/../lib.sh"

# expect_threads SECCOMP NNP MIN: every thread of the running kvmini has
# Seccomp: SECCOMP and NoNewPrivs: NNP, and there are at least MIN of them.
expect_threads() {
	pid=$(cat "$KVMINI_PIDFILE")
	n=0
	for status in /proc/"$pid"/task/*/status; do
		[ -e "$status" ] || continue
		name=$(sed -n 's/^Name:[[:space:]]*//p' "$status")
		mode=$(sed -n 's/^Seccomp:[[:space:]]*//p' "$status")
		nnp=$(sed -n 's/^NoNewPrivs:[[:space:]]*//p' "$status")
		echo "  ${status%/status}: $name Seccomp=$mode NoNewPrivs=$nnp"
		[ "$mode" = "$1" ] || fail "thread ${status%/status} has Seccomp: '$mode', expected $1"
		[ "$nnp" = "$2" ] || fail "thread ${status%/status} has NoNewPrivs: '$nnp', expected $2"
		n=$((n + 1))
	done
	[ "$n" -ge "$3" ] || fail "kvmini has $n threads, expected at least $3"
}

# expect_ids ID: every thread of the running kvmini has real, effective,
# saved and filesystem user and group IDs ID.
expect_ids() {
	pid=$(cat "$KVMINI_PIDFILE")
	for status in /proc/"$pid"/task/*/status; do
		[ -e "$status" ] || continue
		uids=$(sed -n 's/^Uid:[[:space:]]*//p' "$status" | tr -s '[:space:]' ' ')
		gids=$(sed -n 's/^Gid:[[:space:]]*//p' "$status" | tr -s '[:space:]' ' ')
		echo "  ${status%/status}: Uid $uids Gid $gids"
		[ "$uids" = "$1 $1 $1 $1" ] || [ "$uids" = "$1 $1 $1 $1 " ] ||
			fail "thread ${status%/status} has Uid: '$uids', expected $1 everywhere"
		[ "$gids" = "$1 $1 $1 $1" ] || [ "$gids" = "$1 $1 $1 $1 " ] ||
			fail "thread ${status%/status} has Gid: '$gids', expected $1 everywhere"
	done
}

# expect_counting_after_resume: a pause and a resume through the API, and the guest counts on.
expect_counting_after_resume() {
	expect_api 204 PATCH /vm '{"state": "Paused"}'
	expect_api 204 PATCH /vm '{"state": "Resumed"}'
	before=$(counter_lines)
	sleep 2
	[ "$(counter_lines)" -gt "$before" ] ||
		fail "the guest stopped counting after a resume (stderr: $(head -n 1 "$STDERR"))"
}

# Threads: main, API, I/O and two vCPUs.
filtered() {
	API_SOCK=$T/filtered.sock
	start_counter_guest --cpus 2 --api-sock "$API_SOCK"
	expect_threads 2 1 5
	expect_counting_after_resume
	expect_threads 2 1 5
	expect_console '^cpu_virt=$'
	stop_kvmini 30
	expect_exit 143
	grep -q 'seccomp' "$STDERR" && fail "stderr mentions seccomp: $(grep seccomp "$STDERR" | head -n 1)"
	trap - EXIT
}

unfiltered() {
	start_guest --cpus 2 --no-seccomp --cmdline KVMINI_ACTION=sleep
	trap 'kill -KILL "$(cat "$KVMINI_PIDFILE")" 2>/dev/null' EXIT
	wait_console '^KVMINI-GUEST-UP' 200 || {
		stop_kvmini 20
		fail "the guest never came up (kvmini exit $EXIT, stderr: $(head -n 1 "$STDERR"))"
	}
	expect_threads 0 0 4
	stop_kvmini 30
	expect_exit 143
	trap - EXIT
}

jailed() {
	API_SOCK=$T/jailed.sock
	mkdir -p "$T/jail" || fail "cannot make $T/jail"
	start_counter_guest --cpus 2 --api-sock "$API_SOCK" --uid 65534 --gid 65534 --chroot "$T/jail"
	expect_ids 65534
	expect_threads 2 1 5
	expect_counting_after_resume
	expect_ids 65534
	stop_kvmini 30
	expect_exit 143
	trap - EXIT
}

# The flag this host's KVM can pass on: the host CPU's, if its kvm module allows nesting.
host_virt_flag() {
	flag=$(grep -o -w -E 'svm|vmx' /proc/cpuinfo | head -n 1)
	case $flag in
	svm) param=/sys/module/kvm_amd/parameters/nested ;;
	vmx) param=/sys/module/kvm_intel/parameters/nested ;;
	*) return ;;
	esac
	case $(cat "$param" 2>/dev/null) in
	1 | Y) echo "$flag" ;;
	esac
}

nested() {
	flag=$(host_virt_flag)
	[ -n "$flag" ] || fail "this host's KVM offers no nested virtualization, so --nested on cannot be checked"
	boot_guest --nested on
	expect_exit 0
	expect_value cpu_virt "$flag"
}

run_case filtered filtered
run_case unfiltered unfiltered
run_case jailed jailed
run_case nested nested
end_cases
