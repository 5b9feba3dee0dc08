#!/bin/sh
# Build an ext4 image of the host's C toolchain for the nested bench's L1,
# which has no compiler of its own (tests/boot/exec-compile.sh copies it
# into L1's root).
#
# Usage: build-toolchain-image.sh OUT
#
# The image holds, at their paths on the host, the files of the installed
# gcc packages (the driver, cc1, binutils, libgcc's and libc's development
# files, the kernel's UAPI headers; documentation left out) and the shared
# libraries their programs load (from ldd), so that L1 with the tree
# copied onto its / compiles and links as the host does. Its label is
# kvmini-gcc.
set -eu

die() { echo "build-toolchain-image.sh: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: build-toolchain-image.sh OUT"
out=$1
major=$(gcc -dumpversion) || die "no gcc on the host"
packages="gcc gcc-$major cpp cpp-$major libgcc-$major-dev libgcc-s1 binutils binutils-common
	binutils-x86-64-linux-gnu libbinutils libctf0 libctf-nobfd0 libc6-dev linux-libc-dev"

stage=$(mktemp -d)
trap 'rm -rf "$stage" "$out.tmp.$$"' EXIT

# shellcheck disable=SC2086 # one package name per word
list=$(dpkg -L $packages) || die "dpkg -L failed: a package it names is not installed"
# Folders come with the files in them (and /lib, a link to usr/lib on a
# merged-/usr host, must stay a folder in L1, where it is one).
echo "$list" | grep -v -E '^/usr/share/(doc|man|info|locale|lintian|bug)/' | while read -r path; do
	[ -d "$path" ] && continue
	if [ -L "$path" ] || [ -f "$path" ]; then
		mkdir -p "$stage$(dirname "$path")"
		cp -a "$path" "$stage$path"
	fi
done
# The libraries the staged programs load, as files at the paths ldd names.
find "$stage" -type f -perm -u+x | while read -r f; do
	ldd "${f#"$stage"}" 2>/dev/null || true
done | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u | while read -r lib; do
	mkdir -p "$stage$(dirname "$lib")"
	cp -L "$lib" "$stage$lib"
done
[ -x "$stage/usr/bin/gcc" ] || die "no /usr/bin/gcc staged"

# Room for the files and ext4's own metadata.
kib=$(du -sk "$stage" | cut -f1)
mkfs.ext4 -q -F -L kvmini-gcc -d "$stage" "$out.tmp.$$" "$((kib * 5 / 4 + 32768))k" >/dev/null ||
	die "mkfs.ext4 failed"
mv "$out.tmp.$$" "$out"
