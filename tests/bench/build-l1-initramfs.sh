#!/bin/sh
# Build the initramfs of the nested bench's L1 machine.
#
# Usage: build-l1-initramfs.sh OUT KVMINI GUEST_KERNEL GUEST_INITRD KVM_PROBE MODULE...
# MODULEs are L1 kernel modules in load order (dependencies first).
# Environment: BENCH_HOST_TOOLS (host programs to copy, with their
# libraries), L1_EXTRA (a folder whose contents are added at /),
# L1_MODULES_TREE (the same, for the guest kernel's /lib/modules tree that
# kvmini exec's tests use).
#
# The image is two cpio archives back to back, which the kernel unpacks in
# order: the busybox guest image (guests/busybox, with the modules), then an
# uncompressed overlay whose /init (tests/bench/l1-init) replaces the
# guest's. The overlay holds what the tests need, laid out as in the repo:
#   /bench/kvmini, /bench/guest/{vmlinuz,initramfs.cpio.gz},
#   /bench/guests/ (build/guests, if built), /bench/tests/{lib.sh,boot,bench},
#   /bench/tests/api (tests/api's runner, schema and sequences; build/api-check, if built)
# It stays uncompressed: most of it (kernel, guest initramfs) already is, and
# decompressing in emulated L1 would only cost boot time.
set -eu

die() { echo "build-l1-initramfs.sh: $*" >&2; exit 1; }

[ $# -ge 5 ] || die "usage: build-l1-initramfs.sh OUT KVMINI GUEST_KERNEL GUEST_INITRD KVM_PROBE MODULE..."
out=$1 kvmini=$2 kernel=$3 initrd=$4 probe=$5
shift 5
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
for f in "$kvmini" "$kernel" "$initrd" "$probe"; do
	[ -f "$f" ] || die "$f not found"
done

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

"$root/guests/busybox/build-initramfs.sh" "$stage/base.cpio.gz" "$@"

o=$stage/overlay
mkdir -p "$o/bin" "$o/etc" "$o/bench/guest" "$o/bench/guests" \
	"$o/bench/tests/boot" "$o/bench/tests/bench"
cp "$here/l1-init" "$o/init"
cp "$probe" "$o/bin/kvm-probe"
cp "$kvmini" "$o/bench/kvmini"
cp "$kernel" "$o/bench/guest/vmlinuz"
cp "$initrd" "$o/bench/guest/initramfs.cpio.gz"
if [ -d "$root/build/guests" ]; then
	cp -R "$root/build/guests/." "$o/bench/guests/"
fi
cp "$root/tests/lib.sh" "$o/bench/tests/"
cp "$root"/tests/boot/*.sh "$o/bench/tests/boot/"
# fc-clients' runner, schema and sequences, and the checker (static, built by make boot-tests).
mkdir -p "$o/bench/tests/api"
cp -R "$root/tests/api/replay.sh" "$root/tests/api/firecracker-api.schema.json" "$root/tests/api/sequences" \
	"$o/bench/tests/api/"
if [ -f "$root/build/api-check" ]; then
	cp "$root/build/api-check" "$o/bench/tests/api/"
fi
cp "$here/run-tests.sh" "$o/bench/tests/bench/"
chmod 0755 "$o/init" "$o/bin/kvm-probe" "$o/bench/kvmini"
# Host tools the tests need that busybox lacks, with their shared libraries
# at the same paths (the dynamic loader included).
for tool in $BENCH_HOST_TOOLS; do
	path=$(command -v "$tool") || die "$tool not found on the host"
	# A tool named by its path (/usr/lib/qemu/virtiofsd) is in /bin too.
	cp "$path" "$o/bin/${tool##*/}"
	for lib in $(ldd "$path" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
		mkdir -p "$o$(dirname "$lib")"
		cp -L "$lib" "$o$lib"
	done
done
# make bench's own files (bench/perf.sh), as a folder laid out like L1's root.
if [ -n "${L1_EXTRA:-}" ]; then
	cp -R "$L1_EXTRA/." "$o/"
fi
if [ -n "${L1_MODULES_TREE:-}" ]; then
	cp -R "$L1_MODULES_TREE/." "$o/"
fi
# bad-inputs runs kvmini as nobody (su needs both files).
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$o/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$o/etc/group"

tmp="$out.tmp.$$"
{
	cat "$stage/base.cpio.gz"
	# The kernel takes an uncompressed archive only at a 4-byte aligned
	# offset; zero bytes between archives are skipped.
	size=$(wc -c <"$stage/base.cpio.gz")
	head -c $(((4 - size % 4) % 4)) /dev/zero
	(cd "$o" && find . -mindepth 1 | LC_ALL=C sort |
		cpio --quiet -o -H newc -R 0:0)
} >"$tmp"
mv "$tmp" "$out"
