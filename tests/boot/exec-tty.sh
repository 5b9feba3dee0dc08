#!/bin/sh
# kvmini exec on a terminal: script(1) gives kvmini a pseudo-terminal as
# stdin, stdout and stderr, so the command runs on a pseudo-terminal in the
# guest, as its controlling terminal. Checks: `tty` names /dev/pts/N; stdin,
# stdout and stderr are all terminals; the host terminal's size (set with
# stty before kvmini starts) is the guest's; a typed line reaches the
# command; kvmini's exit status is the command's (5).
# timeout: 300
. "$(dirname "$0")/../lib.sh"

command -v script >/dev/null || fail "no script(1) in this bench (BENCH_HOST_TOOLS)"
# L1 mounts no devpts of its own; a host has one.
if [ ! -e /dev/pts/ptmx ]; then
	mkdir -p /dev/pts && mount -t devpts devpts /dev/pts || fail "cannot mount devpts"
fi
OUT=$T/tty.out
# shellcheck disable=SC2016 # the guest's shell expands it
guest_cmd='tty; if [ -t 0 ] && [ -t 1 ] && [ -t 2 ]; then echo all-terminals; fi; echo "size:$(stty size)"; read -r line; echo "got:$line"; exit 5'
echo "+ script -qec 'stty rows 33 cols 101; kvmini exec --kernel $GUEST_KERNEL -- sh -c ...'"
printf 'typed-line\n' | script -qec "stty rows 33 cols 101; exec '$KVMINI' exec --kernel '$GUEST_KERNEL' --timeout 150 --log '$T/kernel.log' -- sh -c '$guest_cmd'" /dev/null >"$OUT" 2>"$T/script.err"
EXIT=$?
tr -d '\r' <"$OUT" >"$OUT.lines"
# kvmini's own messages are on the terminal too; script's are apart.
STDERR=$T/messages
cat "$T/script.err" "$OUT.lines" >"$STDERR"
echo "  exit $EXIT; output: $(head -c 400 "$OUT.lines" | tr '\n' '|')"
expect_exit 5
grep -q '^/dev/pts/[0-9]*$' "$OUT.lines" || fail "tty does not name a pseudo-terminal"
grep -q '^all-terminals$' "$OUT.lines" || fail "stdin, stdout and stderr are not all terminals in the guest"
grep -q '^size:33 101$' "$OUT.lines" || fail "the guest's terminal is not 33 rows by 101 columns"
grep -q '^got:typed-line$' "$OUT.lines" || fail "the typed line did not reach the command"
