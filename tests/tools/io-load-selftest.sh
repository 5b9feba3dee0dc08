#!/bin/sh
# Self-test of the I/O load generators (guests/io/, docs/benchmarks.md) on this host, no KVM: blk-load in every
# mode at queue depths 1 and 32 on a scratch file, net-load over loopback in both directions and for latency, and
# their refusals of bad arguments and a silent peer. Prints each tool's line; exits non-zero at the first failure.
# Not in make check yet. Run from the repository after `make`:  tests/tools/io-load-selftest.sh
# BLK_LOAD, NET_LOAD name other binaries; SCRATCH a directory on a filesystem with O_DIRECT (default build/).
set -eu

blk=${BLK_LOAD:-build/guests/blk-load}
net=${NET_LOAD:-build/guests/net-load}
for b in "$blk" "$net"; do
	[ -x "$b" ] || { echo "io-load-selftest: $b not found (make builds it)" >&2; exit 1; }
done
dir=$(mktemp -d "${SCRATCH:-build}/io-load.XXXXXX")
server=
trap 'rm -rf "$dir"; [ -z "$server" ] || kill "$server" 2>/dev/null || true' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# expect_line PATTERN CMD...: CMD exits 0 within 30 s and prints one line matching PATTERN (an ERE).
expect_line() {
	pattern=$1
	shift
	out=$(timeout 30 "$@") || fail "$* exited $?"
	echo "$out"
	[ "$(echo "$out" | wc -l)" -eq 1 ] && echo "$out" | grep -Eq "$pattern" || fail "$*: unexpected output: $out"
}

# expect_exit STATUS MESSAGE CMD...: CMD exits STATUS within 30 s with one line on stderr containing MESSAGE.
expect_exit() {
	status=$1 message=$2
	shift 2
	rc=0
	timeout 30 "$@" >/dev/null 2>"$dir/err" || rc=$?
	[ "$rc" -eq "$status" ] || fail "$*: exit $rc, expected $status ($(cat "$dir/err"))"
	[ "$(wc -l <"$dir/err")" -eq 1 ] && grep -q "$message" "$dir/err" || fail "$*: stderr: $(cat "$dir/err")"
}

num='[0-9]+'
fig='[0-9]+\.[0-9]+'

# blk-load. The file is written through first, so that reads meet data rather than holes the filesystem answers
# without touching the disk.
img=$dir/disk.img
truncate -s 64M "$img"
expect_line "^blk-load mode=write bs=1048576 qd=32 ops=64 bytes=67108864 secs=$fig iops=$fig mibps=$fig\$" \
	"$blk" write "$img" --qd 32 --bytes 64M
for mode in read write randread randwrite; do
	case $mode in rand*) bs=4096 ;; *) bs=1048576 ;; esac
	for qd in 1 32; do
		expect_line "^blk-load mode=$mode bs=$bs qd=$qd ops=[1-9][0-9]* bytes=$num secs=$fig iops=$fig mibps=$fig\$" \
			"$blk" "$mode" "$img" --qd "$qd" --secs 1
	done
done
expect_line "^blk-load mode=randread bs=4096 qd=8 ops=256 bytes=1048576 " "$blk" randread "$img" --qd 8 --bytes 1M
expect_exit 2 "bad MODE" "$blk" scan "$img" --secs 1
expect_exit 2 "bad --qd" "$blk" read "$img" --qd 0 --secs 1
expect_exit 2 "bad --qd" "$blk" read "$img" --qd 1025 --secs 1
expect_exit 2 "bad --bs" "$blk" read "$img" --bs 1000 --secs 1
expect_exit 2 "bad --secs" "$blk" read "$img" --secs -1
expect_exit 2 "bad --bytes" "$blk" read "$img" --bytes 1T
expect_exit 2 "exactly one of" "$blk" read "$img"
expect_exit 2 "exactly one of" "$blk" read "$img" --secs 1 --bytes 1M
expect_exit 2 "No such file" "$blk" read "$dir/missing" --secs 1
: >"$dir/empty"
expect_exit 2 "less than one" "$blk" read "$dir/empty" --secs 1

# net-load over loopback, on a port of its own per run.
port=$((20000 + $$ % 20000))
timeout 60 "$net" server "$port" 3 &
server=$!
sleep 0.3
expect_line "^net-load mode=send secs=$fig bytes=[1-9][0-9]* gbps=$fig\$" "$net" send 127.0.0.1 "$port" 1
expect_line "^net-load mode=recv secs=$fig bytes=[1-9][0-9]* gbps=$fig\$" "$net" recv 127.0.0.1 "$port" 1
expect_line "^net-load mode=rr secs=$fig rounds=[1-9][0-9]* p50us=$fig p99us=$fig\$" "$net" rr 127.0.0.1 "$port" 1
wait "$server" || fail "net-load server exited $?"

# A peer that never answers: the server serves one connection at a time, so while a first client holds it for
# 8 s a second one is connected (the kernel completes the handshake) but unanswered, and must give up by itself.
timeout 60 "$net" server "$port" 2 &
server=$!
sleep 0.3
timeout 30 "$net" rr 127.0.0.1 "$port" 8 >/dev/null &
holder=$!
sleep 0.3
expect_exit 1 "rr reply: Connection timed out" "$net" rr 127.0.0.1 "$port" 1
wait "$holder" || fail "the holding rr client exited $?"
wait "$server" || fail "net-load server exited $?"
server=
expect_exit 1 "Connection refused" "$net" send 127.0.0.1 "$port" 1

expect_exit 2 "bad IPv4" "$net" rr 1.2.3 "$port" 1
expect_exit 2 "bad PORT" "$net" rr 127.0.0.1 70000 1
expect_exit 2 "bad SECS" "$net" send 127.0.0.1 "$port" 0
expect_exit 2 "bad MODE" "$net" flood 127.0.0.1 "$port" 1
echo "io-load-selftest: PASS"
