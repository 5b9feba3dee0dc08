#!/bin/sh
# Installs the Debian packages a make target needs, and only those missing.
# Usage: install-deps.sh build|check|run|bench|guest-kernel
# Quiet and quick when everything is there; needs root to install.
set -eu

# xmllint (libxml2-utils) checks the JUnit writer in the unit tests.
build="gcc make libc6-dev libcmocka-dev binutils libxml2-utils"
# The real-KVM bench: QEMU and SeaBIOS (only recommended by QEMU) for the nested L1, busybox and cpio for the
# initramfs images, xz-utils and zstd for compressed kernel modules, kmod
# for depmod on the fetched kernel, e2fsprogs for the virtio-blk test's disk
# images (mkfs.ext4 -d, debugfs, e2fsck) and L1's toolchain image (the files of build's gcc, binutils and
# libc6-dev, with what they depend on), curl for the API tests (curl --unix-socket).
bench="qemu-system-x86 seabios busybox-static cpio gzip xz-utils zstd kmod e2fsprogs curl"
# `make fuzz`: clang, and its libFuzzer runtime (only recommended by clang, so named here).
fuzz="clang libclang-rt-14-dev"
# The minimal guest kernel (scripts/build-guest-kernel.sh, for `make bench`):
# Debian's kernel source and what building it needs (bc, bison, flex;
# libelf-dev for objtool; lz4 for its compressed image; xz-utils unpacks it).
kernel="linux-source-6.1 bc bison flex libelf-dev lz4 xz-utils"
# `make bench`: gnuplot for the chart (gnuplot-nox is the smallest that has
# the png terminal), and virtiofsd, the peer of kvmini's virtio-fs
# (qemu-system-common ships it).
benchmark="gnuplot-nox qemu-system-common"

case "${1:-}" in
build) want=$build ;;
check) want="$build $bench $fuzz" ;;
run) want="$build $bench" ;;
bench) want="$build $bench $kernel $benchmark" ;;
guest-kernel) want="$build $kernel" ;;
*)
	echo "usage: install-deps.sh build|check|run|bench|guest-kernel" >&2
	exit 2
	;;
esac

missing=
for pkg in $want; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	case $status in
	*" installed") ;;
	*) missing="$missing $pkg" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing Debian packages:$missing; run as root, or: sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086 # one package per word
apt-get install -y -qq --no-install-recommends $missing >/dev/null
