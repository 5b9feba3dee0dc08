#!/bin/sh
# Builds LKDTM, the kernel's own crash-test module (drivers/misc/lkdtm), for
# the stock Debian guest kernel, which is built without it, so that the boot
# tests of `kvmini smoke` provoke real crash reports (WARNING, BUG, an
# exception, lockups, a hung task, a panic) in a real kernel. Everything comes
# from Debian packages: the kernel's source of the same version and the
# headers of that kernel. About a minute; the caller caches the module.
# Usage: build-lkdtm.sh KERNEL_VER OUT.ko   (KERNEL_VER e.g. 6.1.0-57-amd64)
set -eu

me=build-lkdtm
die() {
	echo "$me: $*" >&2
	exit 1
}
[ $# -eq 2 ] || die "usage: build-lkdtm.sh KERNEL_VER OUT.ko"
ver=$1
out=$2
headers=linux-headers-$ver
# 6.1.0-57-amd64 -> linux-source-6.1
series=$(echo "$ver" | sed -n 's/^\([0-9]*\.[0-9]*\)\..*/\1/p')
[ -n "$series" ] || die "cannot tell the kernel series of '$ver'"
source=linux-source-$series
tarball=/usr/src/$source.tar.xz

missing=
for pkg in "$headers" "$source" gcc make; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q ' installed$' || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
	[ "$(id -u)" -eq 0 ] || die "missing Debian packages:$missing (run as root, or: sudo apt-get install -y$missing)"
	echo "$me: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	# shellcheck disable=SC2086 # one package per word
	apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1 ||
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >/dev/null; } ||
		die "cannot install$missing"
fi
# The module must be built from the very source the kernel was.
have=$(dpkg-query -W -f='${Version}' "$source")
want=$(dpkg-query -W -f='${Version}' "$headers")
[ "$have" = "$want" ] || die "$source is $have but $headers is $want: they must match"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -xJf "$tarball" -C "$work" "$source/drivers/misc/lkdtm" || die "cannot unpack lkdtm from $tarball"
dir=$work/$source/drivers/misc/lkdtm
# The UNSET_SMEP crash type writes CR4 with native_write_cr4, which only a
# kernel built with LKDTM exports; the tests do not use that type, so the
# module calls an empty stand-in instead, or it could not be loaded.
cat >"$dir/kvmini_no_cr4.c" <<'STUB'
void kvmini_no_cr4_write(unsigned long val);
void kvmini_no_cr4_write(unsigned long val) { }
STUB
echo 'lkdtm-$(CONFIG_LKDTM) += kvmini_no_cr4.o' >>"$dir/Makefile"
make -C "/usr/src/$headers" M="$dir" CONFIG_LKDTM=m KCFLAGS=-Dnative_write_cr4=kvmini_no_cr4_write \
	-j"$(nproc)" modules >"$work/build.log" 2>&1 || { tail -n 20 "$work/build.log" >&2; die "the module build failed"; }
cp "$dir/lkdtm.ko" "$out.tmp"
mv "$out.tmp" "$out"
