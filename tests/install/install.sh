#!/bin/sh
# make install into a scratch DESTDIR: the binary and the man page land where
# the README says, the page is roff with its .TH line, and every option that
# a command's help names is in it (help and man page come from the same
# tables, so one missing means one of them is not generated from them).
# Run by `make install-test`, which gives it a timeout.
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEST=$(mktemp -d)
trap 'rm -rf "$DEST"' EXIT

fail() {
	echo "install-test: FAIL: $*" >&2
	exit 1
}

make -C "$ROOT" --no-print-directory install PREFIX=/usr/local DESTDIR="$DEST" >/dev/null
BIN=$DEST/usr/local/bin/kvmini
MAN=$DEST/usr/local/share/man/man1/kvmini.1

[ -x "$BIN" ] || fail "no executable $BIN"
[ -f "$MAN" ] || fail "no man page $MAN"
"$BIN" --version | grep -q '^kvmini ' || fail "the installed kvmini does not run"
head -n 1 "$MAN" | grep -q '^\.TH KVMINI 1 ' || fail "the man page does not start with its .TH line"
for section in NAME SYNOPSIS DESCRIPTION COMMANDS; do
	grep -q "^\.SH $section\$" "$MAN" || fail "the man page has no $section section"
done

checked=0
for cmd in run smoke daemon pause snapshot restore; do
	options=$("$BIN" help "$cmd" | sed -n 's/^  \(-., \)\{0,1\}--\([a-z-]*\).*/\2/p')
	[ -n "$options" ] || fail "kvmini help $cmd lists no options"
	for opt in $options; do
		# In roff, each '-' is written '\-'.
		escaped=$(printf '%s' "$opt" | sed 's/-/\\\\-/g')
		grep -q "^\\\\fB\\\\-\\\\-$escaped\\\\fR\|\\\\fB\\\\-\\\\-$escaped\\\\fR" "$MAN" ||
			fail "--$opt (kvmini help $cmd) is not in the man page"
		checked=$((checked + 1))
	done
done
[ "$checked" -ge 30 ] || fail "only $checked options checked: help's format changed?"
echo "install-test: ok: $BIN and $MAN, $checked options of run, smoke, daemon, pause, snapshot and restore in the page"
