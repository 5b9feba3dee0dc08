#!/bin/sh
# make bench: QEMU with Debian's virtiofsd as one command, so boot-meter
# times both (docs/benchmarks.md). Starts virtiofsd serving DIR on SOCKET
# (sandbox=chroot: L1's root is an initramfs, where the default
# namespace sandbox's pivot_root fails; cache=auto, its default), waits for
# the socket, then becomes QEMU, so the process boot-meter measures is
# QEMU's. virtiofsd ends by itself when QEMU disconnects.
#
# Usage: with-virtiofsd.sh VIRTIOFSD SOCKET DIR QEMU ARGS...
set -u
[ $# -ge 4 ] || { echo "usage: with-virtiofsd.sh VIRTIOFSD SOCKET DIR QEMU ARGS..." >&2; exit 2; }
virtiofsd=$1 sock=$2 dir=$3
shift 3
rm -f "$sock"
"$virtiofsd" --socket-path="$sock" -o source="$dir" -o sandbox=chroot -o cache=auto 2>"$sock.log" &
tries=0
until [ -S "$sock" ]; do
	tries=$((tries + 1))
	if [ "$tries" -ge 500 ] || ! kill -0 $! 2>/dev/null; then
		echo "with-virtiofsd.sh: virtiofsd did not start: $(tail -n 1 "$sock.log")" >&2
		exit 1
	fi
	sleep 0.01
done
exec "$@"
