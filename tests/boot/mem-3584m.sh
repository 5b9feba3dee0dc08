#!/bin/sh
# mem-3584m: with --mem 3584M the total Y in the kernel's
# "Memory: X/YK available" line is within 5% of 3584 MiB.
# 3584 MiB crosses the 3-4 GiB PCI hole, so part of it must sit above 4 GiB.
# timeout: 120
. "$(dirname "$0")/../lib.sh"

boot_guest --mem 3584M
expect_exit 0
expect_console '^KVMINI-GUEST-UP'
want=$((3584 * 1024))
got=$(console_value kernel_mem_kb)
echo "kernel_mem_kb=$got memtotal_kb=$(console_value memtotal_kb) want=$want"
case $got in
''|*[!0-9]*) fail "guest printed kernel_mem_kb='$got', not a number" ;;
esac
diff=$((got - want))
[ "$diff" -ge 0 ] || diff=$((-diff))
[ $((diff * 100)) -le $((want * 5)) ] ||
	fail "kernel sees $got KiB, want $want KiB within 5%"
