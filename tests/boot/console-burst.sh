#!/bin/sh
# console-burst: the guest writes 1 MiB of text to the serial console in
# one go; every byte must come through kvmini's stdout unchanged (the md5
# of the lines between the markers matches the one the guest computed).
# timeout: 400
. "$(dirname "$0")/../lib.sh"

boot_guest --cmdline KVMINI_ACTION=console-burst
expect_exit 0
expect_console '^BURST-BEGIN'
expect_console '^BURST-END md5='
tr -d '\r' <"$CONSOLE" | sed -n '/^BURST-BEGIN$/,/^BURST-END /p' |
	sed '1d;$d' >"$T/burst.txt"
size=$(wc -c <"$T/burst.txt")
want=$(tr -d '\r' <"$CONSOLE" | sed -n 's/^BURST-END md5=//p')
got=$(md5sum <"$T/burst.txt" | cut -d' ' -f1)
echo "payload $size bytes, guest md5 $want, host md5 $got"
[ "$size" -ge 1048576 ] || fail "payload is $size bytes, expected at least 1 MiB"
[ "$got" = "$want" ] || fail "payload md5 $got differs from the guest's $want"
rm -f "$T/burst.txt"
