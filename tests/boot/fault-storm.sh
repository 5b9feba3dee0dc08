#!/bin/sh
# fault-storm: every kind of device traffic at once, for 15 s, on 2 vCPUs:
# console lines on the serial port and on hvc0 (virtio-console), reads of
# /dev/hwrng (virtio-rng), O_DIRECT writes and read-backs on vda
# (virtio-blk) and pings through a tap (virtio-net); then the guest powers
# off. kvmini must exit 0, every kind must have got through at least once
# and never failed, and kvmini must print nothing on stderr but its closing line.
# timeout: 300
. "$(dirname "$0")/../lib.sh"

TAP=kvtap$$
IMG=$T/disk.img
trap 'tunctl -d "$TAP" >/dev/null 2>&1; rm -f "$IMG"' EXIT
make_tap "$TAP" 169.254.1.1/30
dd if=/dev/zero of="$IMG" bs=1M count=0 seek=16 2>/dev/null || fail "cannot make $IMG"

boot_guest --cpus 2 --console virtio --rng --drive "path=$IMG" --net "tap=$TAP" \
	--cmdline "KVMINI_ACTION=fault-storm KVMINI_NET_ADDR=169.254.1.2/30 KVMINI_NET_PEER=169.254.1.1"
expect_exit 0
expect_console '^fault-storm-done'
tr -d '\r' <"$CONSOLE" | grep '^storm_'
for kind in console hvc rng blk net; do
	rounds=$(console_value "storm_$kind")
	case $rounds in
	'' | *[!0-9]*) fail "the guest printed storm_$kind='$rounds', not a number" ;;
	esac
	[ "$rounds" -gt 0 ] || fail "no $kind round got through in the storm"
	expect_value "storm_${kind}_failed" 0
done
# Its closing line aside.
other=$(grep -v '^kvmini: guest powered off$' "$STDERR" | head -n 1)
[ -z "$other" ] || fail "kvmini printed on stderr: $other"
