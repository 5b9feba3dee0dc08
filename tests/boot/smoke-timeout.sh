#!/bin/sh
# smoke-timeout: a guest that never finishes gives exit 3 once --timeout
# has passed, and kvmini stops it in bounded time. Its init prints a
# counter forever: one that slept silently would be taken for a hang
# (every vCPU halted) and stopped early, which smoke-hang tests.
# timeout: 180
. "$(dirname "$0")/../lib.sh"

start=$(date +%s)
run_smoke --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --timeout 30 --cmdline KVMINI_ACTION=counter
took=$(($(date +%s) - start))
echo "smoke took $took s"
expect_exit 3
expect_console '^TIMEOUT vmlinuz cpus=1,mem=512M: no verdict after 30 s'
[ "$took" -ge 30 ] || fail "it gave up after $took s, before the 30 s timeout"
[ "$took" -le 60 ] || fail "it took $took s to stop a 30 s run"
