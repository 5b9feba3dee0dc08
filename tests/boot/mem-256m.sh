#!/bin/sh
# mem-256m: with --mem 256M the total Y in the kernel's
# "Memory: X/YK available" line is within 5% of 256 MiB.
# A small guest: no memory above the PCI hole.
# timeout: 120
. "$(dirname "$0")/../lib.sh"

boot_guest --mem 256M
expect_exit 0
expect_console '^KVMINI-GUEST-UP'
want=$((256 * 1024))
got=$(console_value kernel_mem_kb)
echo "kernel_mem_kb=$got memtotal_kb=$(console_value memtotal_kb) want=$want"
case $got in
''|*[!0-9]*) fail "guest printed kernel_mem_kb='$got', not a number" ;;
esac
diff=$((got - want))
[ "$diff" -ge 0 ] || diff=$((-diff))
[ $((diff * 100)) -le $((want * 5)) ] ||
	fail "kernel sees $got KiB, want $want KiB within 5%"
