#!/bin/sh
# fault-kill-fsync: what the guest has fsynced survives a SIGKILL of kvmini.
# The guest writes 4 MiB of random bytes to the raw disk vda and fsyncs them
# (the kernel sends a FLUSH request, which kvmini must complete only once
# the bytes are written); the moment it says so, kvmini gets SIGKILL, and
# the image's first 4 MiB have the md5 the guest printed.
# timeout: 300
. "$(dirname "$0")/../lib.sh"

IMG=$T/disk.img
trap 'kill -KILL "$(cat "$KVMINI_PIDFILE" 2>/dev/null)" 2>/dev/null; rm -f "$IMG"' EXIT
dd if=/dev/zero of="$IMG" bs=1M count=0 seek=16 2>/dev/null || fail "cannot make $IMG"

start_guest --drive "path=$IMG" --cmdline KVMINI_ACTION=fault-kill-fsync
wait_console '^fault-kill-fsync-done' 200 || {
	stop_kvmini 20
	fail "the guest never finished its fsync (kvmini exit $EXIT, stderr: $(head -n 1 "$STDERR"))"
}
kill -KILL "$(cat "$KVMINI_PIDFILE")"
wait_kvmini 10
expect_exit 137
expect_value blk_fsync_rc 0
want=$(console_value blk_fsync_md5)
got=$(head -c 4194304 "$IMG" | md5sum | cut -d' ' -f1)
echo "first 4 MiB of the image: md5 $got, the guest wrote $want"
[ "$got" = "$want" ] || fail "after SIGKILL the image's first 4 MiB have md5 $got, the guest fsynced $want"
