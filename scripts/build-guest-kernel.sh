#!/bin/sh
# Builds the minimal guest kernel for `make bench` and copies its bzImage to
# OUT_BZIMAGE and its System.map beside it, as System.map in the same folder
# (for kvmini smoke --system-map). Usage: build-guest-kernel.sh OUT_BZIMAGE
#
# The source is Debian's linux-source-6.1 package, unpacked once into
# build/cache/. The configuration is `make tinyconfig` (x86_64) with
# guests/kernel/minimal.config merged on top, then olddefconfig; every line of
# that fragment must survive into the final .config, or the build stops.
# The bzImage and System.map are cached under a key made of the package
# version and a checksum of the fragment, so a rerun with neither changed
# takes seconds.
# Quiet on success; the build log is build/cache/guest-kernel/build.log.
set -eu

me=build-guest-kernel
say() { echo "$me: $*"; }
die() {
	echo "$me: $*" >&2
	exit 1
}

if [ $# -ne 1 ] || [ -z "$1" ]; then
	echo "usage: build-guest-kernel.sh OUT_BZIMAGE" >&2
	exit 2
fi
out=$1
out_map=$(dirname "$out")/System.map

root=$(cd "$(dirname "$0")/.." && pwd)
fragment=$root/guests/kernel/minimal.config
pkg=linux-source-6.1
tarball=/usr/src/$pkg.tar.xz
cache=$root/build/cache
work=$cache/guest-kernel
log=$work/build.log

[ -f "$fragment" ] || die "missing $fragment"
"$root/scripts/install-deps.sh" guest-kernel || die "cannot install the Debian packages it needs"

version=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null) || die "$pkg is not installed"
[ -f "$tarball" ] || die "$pkg $version is installed but $tarball is missing"
sum=$(sha256sum "$fragment" | cut -c1-16)
result=$work/bzImage-$version-$sum
result_map=$work/System.map-$version-$sum

mkdir -p "$work"
if [ -f "$result" ] && [ -f "$result_map" ]; then
	cp "$result" "$out"
	cp "$result_map" "$out_map"
	say "up to date ($pkg $version, minimal.config $sum): $out"
	exit 0
fi

# Unpack the source once per package version; drop trees of older versions.
src=$cache/$pkg-$version
ksrc=$src/$pkg
if [ ! -f "$src/.unpacked" ]; then
	for old in "$cache/$pkg"-*; do
		[ -d "$old" ] && rm -rf "$old"
	done
	mkdir -p "$src"
	tar -xJf "$tarball" -C "$src" || die "cannot unpack $tarball into $src"
	[ -f "$ksrc/Makefile" ] || die "$tarball has no $pkg/Makefile"
	touch "$src/.unpacked"
fi

# The object tree is reused (an incremental build after a fragment change),
# unless it was built from another source version.
obj=$work/obj
if [ "$(cat "$work/obj.version" 2>/dev/null || true)" != "$version" ]; then
	rm -rf "$obj"
	mkdir -p "$obj"
	echo "$version" >"$work/obj.version"
fi

say "building Linux from $pkg $version (takes a while; log: $log)"
start=$(date +%s)
: >"$log"
fail() {
	tail -n 25 "$log" >&2
	die "$1 (full log: $log)"
}
kmake() { make -C "$ksrc" O="$obj" ARCH=x86_64 "$@" >>"$log" 2>&1; }

kmake tinyconfig || fail "make tinyconfig failed"
"$ksrc/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "$fragment" >>"$log" 2>&1 ||
	fail "merging minimal.config failed"
kmake olddefconfig || fail "make olddefconfig failed"

# Every option of the fragment, as the final .config has it. "# CONFIG_X is
# not set" and CONFIG_X=n both ask for "not set", which an option whose
# dependencies are off (so absent from .config) also is.
bad=
while IFS= read -r line; do
	case $line in
	CONFIG_*=*)
		name=${line%%=*}
		want=${line#*=}
		;;
	"# CONFIG_"*" is not set")
		name=${line#"# "}
		name=${name%" is not set"}
		want=n
		;;
	*) continue ;;
	esac
	have=$(grep -E "^($name=|# $name is not set\$)" "$obj/.config" | head -n 1 || true)
	case $have in
	"$name="*) have=${have#*=} ;;
	*) have=n ;;
	esac
	if [ "$have" != "$want" ]; then
		[ "$have" = n ] && have="not set"
		[ "$want" = n ] && want="not set"
		bad="$bad, $name=$want (got $have)"
	fi
done <"$fragment"
[ -z "$bad" ] || die "minimal.config options not set as requested: ${bad#, }"

kmake -j"$(nproc)" bzImage || fail "the kernel build failed"

bz=$obj/arch/x86/boot/bzImage
[ -f "$bz" ] || fail "the build left no $bz"
[ -f "$obj/System.map" ] || fail "the build left no $obj/System.map"
rm -f "$work"/bzImage-* "$work"/System.map-*
cp "$obj/System.map" "$result_map.tmp"
mv "$result_map.tmp" "$result_map"
cp "$bz" "$result.tmp"
mv "$result.tmp" "$result"
cp "$result" "$out"
cp "$result_map" "$out_map"
size=$(wc -c <"$result")
say "built in $(($(date +%s) - start)) s, $((size / 1024)) KiB: $out"
