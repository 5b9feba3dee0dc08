#!/bin/sh
# smoke-hang: a guest whose init sleeps forever, every vCPU halted and
# nothing on the console, is taken for a hang about 5 s after it goes
# quiet with --hang-after 5 (well before --timeout): exit 3, a TIMEOUT line that says so, and
# forensics naming each vCPU's RIP from a System.map (smoke adds nokaslr),
# "all halted", and an ELF core with one NT_PRSTATUS note per vCPU.
# Debian's System.map is a one-line placeholder (the real one is in the
# -dbg package), so a first boot with nokaslr writes the kernel's code
# symbols from /proc/kallsyms to a disk (smoke-hang.guest): the same
# addresses, in the same format.
# timeout: 150
. "$(dirname "$0")/../lib.sh"

IMG=$T/kallsyms.img
# A failed test's folder goes to the bench's 256 MiB results disk, where the
# core's holes (busybox tar keeps no sparse files) would not fit.
trap 'rm -f "$IMG" "$T/core"' EXIT
dd if=/dev/zero of="$IMG" bs=1M count=0 seek=32 2>/dev/null || fail "cannot make $IMG"
CASE=kallsyms
boot_guest --drive "path=$IMG" --cmdline "nokaslr KVMINI_ACTION=smoke-hang"
expect_exit 0
expect_console '^smoke-hang-done'
lines=$(console_value kallsyms_lines)
bytes=$(console_value kallsyms_bytes)
[ "${lines:-0}" -gt 10000 ] || fail "the guest listed '$lines' code symbols from /proc/kallsyms"
map=$T/System.map
head -c "$bytes" "$IMG" >"$map" || fail "cannot cut the map out of $IMG"
CASE=

start=$(date +%s)
run_smoke --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --cpus 2 --mem 256M --timeout 50 \
	--cmdline KVMINI_ACTION=sleep --hang-after 5 --system-map "$map" --core "$T/core"
took=$(($(date +%s) - start))
echo "smoke took $took s"
expect_exit 3
expect_console '^TIMEOUT vmlinuz cpus=2,mem=256M: hang after [0-9.]+ s: every vCPU halted'
expect_console '^kvmini: smoke:   hang: no console output and almost no VM exit for 5 s: all halted$'
for cpu in 0 1; do
	expect_console "^kvmini: smoke:   vcpu$cpu rip=[0-9a-f]{16} [a-z_0-9.]+\+0x[0-9a-f]+ rsp=[0-9a-f]{16} cr3=[0-9a-f]+ long IF=1 halted$"
done
expect_console '^kvmini: smoke:   core: written \(2 vCPUs\)$'
[ "$took" -lt 50 ] || fail "it took $took s: the hang was not seen before the 50 s timeout"

# An ELF64 little-endian core (e_type 4), and its NT_PRSTATUS notes: namesz 5,
# descsz 336 (struct elf_prstatus), type 1, "CORE".
[ -f "$T/core" ] || fail "no core file"
header=$(head -c 18 "$T/core" | od -An -tx1 -v | tr -d ' \n')
[ "$header" = "7f454c460201010000000000000000000400" ] || fail "not an ELF64 LE core: header $header"
notes=$(head -c 65536 "$T/core" | od -An -tx1 -v | tr -d ' \n' |
	grep -o '050000005001000001000000434f524500000000' | wc -l)
[ "$notes" -eq 2 ] || fail "$notes NT_PRSTATUS notes in the core, expected 2"
