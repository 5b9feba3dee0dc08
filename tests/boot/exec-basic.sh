#!/bin/sh
# kvmini exec: a command in a fresh guest on a read-only share of L1's own
# root (its initramfs), with the guest kernel's modules from
# /lib/modules/RELEASE (tests/bench/common.sh puts them there).
# Cases: streams, one boot that checks the exit status (7), stdout and
# stderr kept apart and free of kernel messages, stdin piped through to its
# end, a --rwdir write seen on the host, the read-only root refusing a
# write, a file unlinked while open still read back, and a read-only --share
# refusing writes; signal, a command killed by SIGTERM (143); missing, a
# command that does not exist (127); timeout, --timeout (124, one line).
# timeout: 600
. "$(dirname "$0")/../lib.sh"

# exec_guest ARGS...: kvmini exec on the test kernel with ARGS, stdin from
# $EXEC_STDIN (default /dev/null), stdout to $STDOUT, stderr to $STDERR.
exec_guest() {
	STDOUT="$T/$CASE.stdout"
	STDERR="$T/$CASE.stderr"
	echo "+ kvmini exec --kernel $GUEST_KERNEL $*"
	"$KVMINI" exec --kernel "$GUEST_KERNEL" --log "$T/$CASE.kernel.log" "$@" \
		<"${EXEC_STDIN:-/dev/null}" >"$STDOUT" 2>"$STDERR"
	EXIT=$?
	echo "  exit $EXIT; stderr: $(head -n 3 "$STDERR")"
}

# expect_file FILE TEXT: FILE holds exactly TEXT (and a final newline).
expect_file() {
	printf '%s\n' "$2" >"$1.expected"
	cmp -s "$1" "$1.expected" ||
		fail "$(basename "$1") is '$(head -c 300 "$1" | tr '\n' '|')', expected '$(printf '%s' "$2" | tr '\n' '|')'"
}

streams() {
	# L1's root, an initramfs, has no /run; a host's has, and exec mounts --share under its tmpfs there.
	mkdir -p /run "$T/rw" "$T/shared" || fail "cannot make the test folders"
	echo shared-content >"$T/shared/f"
	printf 'stdin-line-1\nstdin-line-2\n' >"$T/stdin"
	EXEC_STDIN="$T/stdin"
	# shellcheck disable=SC2016 # the guest's shell expands it
	# loglevel=6: kernel messages that exec's "quiet" would hold back, to see them land in --log only.
	exec_guest --cmdline loglevel=6 --rwdir "$T/rw" --share "path=$T/shared,tag=data,readonly=on" -- sh -c '
		echo out-line
		echo err-line >&2
		echo written-in-guest >"$1/rw/file"
		if touch "$1/root-probe" 2>/dev/null; then echo root-writable; else echo root-refused; fi
		echo kept >"$1/rw/unlinked"
		exec 3<"$1/rw/unlinked"
		rm "$1/rw/unlinked"
		echo "unlinked:$(cat <&3)"
		cat /run/shares/data/f
		if touch /run/shares/data/new 2>/dev/null; then echo share-writable; else echo share-refused; fi
		cat
		echo stdin-ended
		exit 7' sh "$T"
	expect_exit 7
	expect_file "$STDOUT" "out-line
root-refused
unlinked:kept
shared-content
share-refused
stdin-line-1
stdin-line-2
stdin-ended"
	expect_file "$STDERR" "err-line"
	expect_file "$T/rw/file" "written-in-guest"
	[ ! -e "$T/root-probe" ] || fail "the guest wrote to the read-only root"
	[ ! -e "$T/shared/new" ] || fail "the guest wrote to the read-only share"
	[ ! -e "$T/rw/unlinked" ] || fail "the unlinked file is still on the host"
	grep -q 'Linux version' "$T/$CASE.kernel.log" || fail "--log has no kernel log"
}

signal() {
	# shellcheck disable=SC2016 # the guest's shell expands it
	exec_guest -- sh -c 'echo before; kill -TERM $$; echo after'
	expect_exit 143
	expect_file "$STDOUT" "before"
}

missing() {
	exec_guest -- no-such-command-kvmini
	expect_exit 127
	grep -q 'no-such-command-kvmini: command not found' "$STDERR" ||
		fail "stderr does not say the command was not found: $(head -n 1 "$STDERR")"
}

timeout_case() {
	start=$(date +%s)
	exec_guest --timeout 40 -- sleep 600
	expect_exit 124
	[ "$(wc -l <"$STDERR")" -eq 1 ] && grep -q '^kvmini: .*timeout' "$STDERR" ||
		fail "stderr is not one line about the timeout: $(cat "$STDERR")"
	[ $(($(date +%s) - start)) -lt 100 ] || fail "the timeout took $(($(date +%s) - start)) s"
}

run_case streams streams
run_case signal signal
run_case missing missing
run_case timeout timeout_case
end_cases
