#!/bin/sh
# Build the default kvmini guest initramfs: the static busybox, a symlink
# per applet, guests/busybox/init as /init, the boot tests' guest halves
# (tests/boot/NAME.guest as /tests/NAME.guest, with their helpers
# guests/busybox/guest-lib.sh as /guest-lib.sh), the static guest tools
# /bin/vsock-tool, /bin/blk-load and /bin/net-load (built by `make` into
# build/guests; GUEST_TOOLS=DIR names another folder), and optional kernel
# modules.
#
# Usage: build-initramfs.sh OUT.cpio.gz [MODULE.ko[.xz|.zst]...]
# Modules are stored decompressed (busybox insmod cannot decompress) as
# /modules/NN-name.ko and loaded by /init in the order given.
# OPTIONAL_MODULES="FILE.ko ..." are stored as /modules/optional/NAME.ko,
# which /init does not load: the test that needs one does (LKDTM).
# GUEST_INIT=FILE stores FILE as /init instead (make bench's lean init for
# the kvmini exec comparison, bench/share-exec-init).
# Needs no root: /dev/console is written as a raw cpio entry rather than
# created with mknod.
set -eu

die() { echo "build-initramfs.sh: $*" >&2; exit 1; }

[ $# -ge 1 ] || die "usage: build-initramfs.sh OUT.cpio.gz [MODULE...]"
out=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
tests=$here/../../tests/boot
busybox=${BUSYBOX:-/bin/busybox}
tools=${GUEST_TOOLS:-$here/../../build/guests}
guest_tools="vsock-tool blk-load net-load"

[ -x "$busybox" ] || die "$busybox not found (install busybox-static)"
for t in $guest_tools; do
	[ -x "$tools/$t" ] || die "$tools/$t not found (make builds it)"
done
# A dynamically linked busybox would find no libc in the guest.
if ldd "$busybox" >/dev/null 2>&1; then
	die "$busybox is dynamically linked (install busybox-static)"
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/proc" "$stage/sys" \
	"$stage/tmp" "$stage/root" "$stage/etc" "$stage/modules" "$stage/tests"
cp "$busybox" "$stage/bin/busybox"
for t in $guest_tools; do
	cp "$tools/$t" "$stage/bin/$t"
done
for applet in $("$busybox" --list); do
	[ "$applet" = busybox ] || ln -s busybox "$stage/bin/$applet"
done
cp "${GUEST_INIT:-$here/init}" "$stage/init"
chmod 0755 "$stage/init"
cp "$here/guest-lib.sh" "$stage/guest-lib.sh"
for g in "$tests"/*.guest; do
	[ -e "$g" ] || die "no guest halves in $tests"
	cp "$g" "$stage/tests/"
done

n=0
for m in "$@"; do
	name=$(basename "$m")
	dest="$stage/modules/$(printf %02d "$n")-${name%%.ko*}.ko"
	case "$m" in
	*.ko) cp "$m" "$dest" ;;
	*.ko.xz) xz -dc "$m" >"$dest" ;;
	*.ko.zst) zstd -qdc "$m" >"$dest" ;;
	*.ko.gz) gzip -dc "$m" >"$dest" ;;
	*) die "not a kernel module: $m" ;;
	esac
	n=$((n + 1))
done

mkdir -p "$stage/modules/optional"
for m in ${OPTIONAL_MODULES:-}; do
	cp "$m" "$stage/modules/optional/$(basename "$m")"
done

# One newc cpio entry: NAME MODE(octal) RDEVMAJOR RDEVMINOR, no data.
cpio_node() {
	namesize=$((${#1} + 1))
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
		0 "$2" 0 0 1 0 0 0 0 "$3" "$4" "$namesize" 0
	printf '%s\000' "$1"
	# header (110 bytes) + name is padded to a multiple of 4
	pad=$(((4 - (110 + namesize) % 4) % 4))
	[ "$pad" -eq 0 ] || head -c "$pad" /dev/zero
}

tmp="$out.tmp.$$"
{
	# /dev/console must exist before /init runs, or init gets no stdio.
	cpio_node dev $((0040755)) 0 0
	cpio_node dev/console $((0020600)) 5 1
	cpio_node 'TRAILER!!!' 0 0 0
	(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
		cpio --quiet -o -H newc -R 0:0)
} | gzip -n -9 >"$tmp"
mv "$tmp" "$out"
