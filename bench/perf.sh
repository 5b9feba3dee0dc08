#!/bin/bash
# make bench: kvmini's boot time, memory and exit counts side by side with
# QEMU's, measured in the same place (see docs/benchmarks.md). It prepares
# everything on this host, runs bench/l1-perf.sh on real KVM (directly if
# /dev/kvm works here, else inside the nested bench's L1, as the boot tests
# do), and turns the raw figures into bench/results/latest.{md,json,png}.
#
# Usage: perf.sh --kvmini PATH [--runs N] [--mode auto|direct|nested] [--only ROW[,ROW...]]
# ROWs: boot parallel blk api exec share vsock snap blkio net (bench/l1-perf.sh). With --only,
# the new records replace those rows' in bench/results/latest.raw and the
# others stay as they were.
set -u
# Its own scratch folder: a bench run and a test run can share the tree.
export KVMINI_BENCH_WORK=${KVMINI_BENCH_WORK:-$(cd "$(dirname "$0")/.." && pwd)/build/perf}
source "$(dirname "$0")/../tests/bench/common.sh"

usage() {
	echo "usage: perf.sh --kvmini PATH [--runs N] [--mode auto|direct|nested] [--only ROW[,ROW...]]" >&2
	exit 2
}

ALL_ROWS=boot,parallel,blk,api,exec,share,vsock,snap,blkio,net
KVMINI= RUNS=5 ROWS=$ALL_ROWS
MODE=${KVMINI_BENCH_MODE:-auto}
while [ $# -gt 0 ]; do
	case $1 in
	--kvmini | --runs | --mode | --only) [ $# -ge 2 ] || usage ;;&
	--kvmini) KVMINI=$2 ;;
	--runs) RUNS=$2 ;;
	--mode) MODE=$2 ;;
	--only) ROWS=$2 ;;
	*) usage ;;
	esac
	shift 2
done
[ -n "$KVMINI" ] || usage
[[ $RUNS =~ ^[0-9]+$ ]] && [ "$RUNS" -ge 1 ] && [ "$RUNS" -le 50 ] || die "--runs '$RUNS': must be a number from 1 to 50"
IFS=, read -r -a wanted <<<"$ROWS"
[ ${#wanted[@]} -gt 0 ] || die "--only '': name at least one row ($ALL_ROWS)"
for row in "${wanted[@]}"; do
	[[ ,$ALL_ROWS, == *",$row,"* ]] || die "--only: unknown row '$row' (rows: $ALL_ROWS)"
done
case $MODE in auto | direct | nested) ;; *) die "unknown mode '$MODE' (auto, direct or nested)" ;; esac
[ -f "$KVMINI" ] && [ -x "$KVMINI" ] || die "$KVMINI is not an executable (run make first)"
KVMINI=$(readlink -f "$KVMINI")
OUT=$BUILD/perf-results
RESULTS=$ROOT/bench/results
rm -rf "$OUT"
mkdir -p "$OUT" "$RESULTS"

resolve_kernel
build_guest_initrd
build_probe

# Only the boot and parallel rows boot the minimal kernel: building it the
# first time takes minutes.
MINI_KERNEL=$WORK/minimal-bzImage
if [[ ,$ROWS, == *,boot,* || ,$ROWS, == *,parallel,* ]]; then
	"$ROOT/scripts/build-guest-kernel.sh" "$MINI_KERNEL" || die "cannot build the minimal guest kernel"
fi
for tool in boot-meter api-rtt; do
	gcc -static -O2 -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -o "$WORK/$tool" "$ROOT/bench/$tool.c" ||
		die "cannot build bench/$tool.c"
done
SMOKE_INITRD=$WORK/smoke-initrd.cpio
# The vsock rows' host side: the guest's own vsock-tool, which make builds
# (the guest initramfs has it as /bin/vsock-tool).
VSOCK_HOST_TOOL=$ROOT/build/guests/vsock-tool
[ -x "$VSOCK_HOST_TOOL" ] || die "$VSOCK_HOST_TOOL not found (run make first)"
# The net rows' L1 side: net-load, which make builds (the guest has it too;
# L1 as /bench/guests/net-load).
NET_LOAD=$ROOT/build/guests/net-load
[ -x "$NET_LOAD" ] || die "$NET_LOAD not found (run make first)"
"$KVMINI" smoke --save-initrd "$SMOKE_INITRD" || die "kvmini smoke --save-initrd failed"

# The shared-directory rows. QEMU's peer of kvmini's virtio-fs: Debian's
# virtiofsd, which is not on PATH.
VIRTIOFSD=/usr/lib/qemu/virtiofsd
[ -x "$VIRTIOFSD" ] || die "$VIRTIOFSD not found (install qemu-system-common)"
# The throughput guest: the busybox guest with fuse, virtiofs and 9p.
SHARE_INITRD=$WORK/share-initramfs.cpio.gz
# shellcheck disable=SC2086 # one module name per word
modules=$(module_files $GUEST_MODULES fuse virtiofs 9p 9pnet_virtio) || die "cannot resolve the share modules"
# shellcheck disable=SC2086 # one path per word, no spaces in them
"$ROOT/guests/busybox/build-initramfs.sh" "$SHARE_INITRD" $modules || die "cannot build the share initramfs"
# The QEMU equivalent of kvmini exec: a lean init, only the modules it needs.
EXEC_INITRD=$WORK/exec-initramfs.cpio.gz
exec_modules="virtio_pci virtio_mmio fuse virtiofs"
# shellcheck disable=SC2086
modules=$(module_files $exec_modules) || die "cannot resolve the exec modules"
# shellcheck disable=SC2086
GUEST_INIT=$ROOT/bench/share-exec-init "$ROOT/guests/busybox/build-initramfs.sh" "$EXEC_INITRD" $modules ||
	die "cannot build the exec initramfs"
# The small-file tree: 2,000 files of 0 to 4 KiB in 40 folders, the same
# bytes every time (3,000 took QEMU's 9p five minutes to unpack nested).
SHARE_TREE=$WORK/share-tree.tar
rm -rf "$WORK/share-tree"
mkdir -p "$WORK/share-tree"
(cd "$WORK/share-tree" && awk 'BEGIN {
	srand(13)
	for (d = 0; d < 40; d++) {
		system("mkdir d" d)
		for (f = 0; f < 50; f++) {
			p = "d" d "/f" f; n = int(rand() * 4096); s = ""
			while (length(s) < n) s = s sprintf("%d ", rand() * 1000000)
			printf "%s", substr(s, 1, n) > p
			close(p)
		}
	}
}') || die "cannot make the small-file tree"
tar -C "$WORK/share-tree" -cf "$SHARE_TREE" . || die "cannot pack the small-file tree"
rm -rf "$WORK/share-tree"

# on_perf_line LINE: a marker line from l1-perf.sh in L1 (see l1_run).
on_perf_line() {
	case $1 in
	PROGRESS\ *)
		echo "bench: ${1#PROGRESS }"
		# Ten VMs at once on L1's one CPU can take many minutes.
		L1_NEXT=$((SECONDS + 1800))
		L1_WAITING_FOR="its next measurement"
		;;
	esac
}

run_nested() {
	local extra=$WORK/l1-extra fw attempt
	echo "bench: nested mode ($1): measuring inside an L1 Linux under QEMU/TCG"
	rm -rf "$extra"
	mkdir -p "$extra/bench/perf"
	cp "$ROOT/bench/l1-perf.sh" "$ROOT/bench/with-virtiofsd.sh" "$WORK/boot-meter" "$WORK/api-rtt" "$extra/bench/perf/"
	[ ! -f "$MINI_KERNEL" ] || cp "$MINI_KERNEL" "$extra/bench/perf/minimal-bzImage"
	cp "$SMOKE_INITRD" "$extra/bench/perf/smoke-initrd.cpio"
	cp "$SHARE_INITRD" "$extra/bench/perf/share-initramfs.cpio.gz"
	cp "$EXEC_INITRD" "$extra/bench/perf/exec-initramfs.cpio.gz"
	cp "$SHARE_TREE" "$extra/bench/perf/share-tree.tar"
	# The firmware QEMU loads for -M pc (SeaBIOS, its option ROMs) and -M microvm
	# (qboot), at the same paths: Debian's QEMU looks in both folders.
	for fw in seabios/bios-256k.bin qemu/bios-microvm.bin qemu/kvmvapic.bin qemu/linuxboot_dma.bin \
		qemu/linuxboot.bin qemu/pvh.bin; do
		mkdir -p "$extra/usr/share/$(dirname "$fw")"
		cp -L "/usr/share/$fw" "$extra/usr/share/$fw" || die "QEMU firmware /usr/share/$fw not found"
	done
	# L1's vhost_vsock: QEMU's vhost-vsock-device, and AF_VSOCK to its guests;
	# vhost_net: QEMU's virtio-net with vhost=on; loop: the blkio rows' disk.
	BENCH_HOST_TOOLS="$BENCH_HOST_TOOLS qemu-system-x86_64 $VIRTIOFSD" L1_EXTRA=$extra \
		L1_MORE_MODULES="vhost_vsock vhost_net loop" build_l1_initrd
	for attempt in 1 2; do
		L1_WAITING_FOR="its first measurement"
		l1_run on_perf_line 7200 "KVMINI_BENCH=perf RUNS=$RUNS ROWS=$ROWS"
		[ -n "$BENCH_FAILURE" ] || return 0
		mv "$OUT/l1-console.log" "$OUT/l1-console.attempt$attempt.log"
		if [ "$attempt" -eq 1 ]; then
			echo "bench failure: $BENCH_FAILURE; L1 console in $OUT/l1-console.attempt1.log; retrying once"
			rm -rf "$OUT/raw.txt" "$OUT/work"
		fi
	done
	die "bench failure again: $BENCH_FAILURE; L1 console in $OUT/l1-console.attempt2.log"
}

run_direct() {
	echo "bench: direct mode: measuring on this host's /dev/kvm"
	KVMINI=$KVMINI QEMU=$(command -v qemu-system-x86_64) METER=$WORK/boot-meter API_RTT=$WORK/api-rtt \
		STOCK_KERNEL=$VMLINUZ MINI_KERNEL=$MINI_KERNEL SMOKE_INITRD=$SMOKE_INITRD \
		GUEST_INITRD=$GUEST_INITRD VIRTIOFSD=$VIRTIOFSD WITH_VIRTIOFSD=$ROOT/bench/with-virtiofsd.sh \
		SHARE_INITRD=$SHARE_INITRD EXEC_INITRD=$EXEC_INITRD SHARE_TREE=$SHARE_TREE \
		VSOCK_HOST_TOOL=$VSOCK_HOST_TOOL NET_LOAD=$NET_LOAD \
		EXEC_MODULES=$KERNEL_TREE/lib/modules/$KERNEL_VER RUNS=$RUNS ROWS=$ROWS sh "$ROOT/bench/l1-perf.sh" "$OUT" |
		sed -n 's/^KVMINI-BENCH: PROGRESS /bench: /p'
	echo "${PIPESTATUS[0]}" >"$OUT/exit-status"
}

case $MODE in
auto) if kvm_usable; then MODE=direct; run_direct; else MODE=nested; run_nested "$KVM_REASON"; fi ;;
direct) kvm_usable || die "direct mode needs a working /dev/kvm: $KVM_REASON"; run_direct ;;
nested) run_nested "--mode nested" ;;
esac

status=$(cat "$OUT/exit-status" 2>/dev/null)
[ "$status" = 0 ] || die "bench/l1-perf.sh ended with status ${status:-unknown}; its output is in ${OUT#"$ROOT"/}/l1-console.log"
if [ "$ROWS" = "$ALL_ROWS" ] || [ ! -f "$RESULTS/latest.raw" ]; then
	{
		echo "kind=info date=$(date -u +%Y-%m-%dT%H:%MZ) mode=$MODE host_cpus=$(nproc) stock_kernel=$KERNEL_VER"
		# The version string in the bzImage's setup header, which is not compressed.
		echo "kind=info minimal_kernel=$(strings -n 8 "$MINI_KERNEL" | sed -n 's/^\([0-9][0-9.]*[^ ]*\) (.*/\1/p' | head -n 1)"
		cat "$OUT/raw.txt"
	} >"$RESULTS/latest.raw"
else
	# The earlier run's facts stay (they describe its rows); one line says
	# which rows this run replaced, when and with which kvmini.
	{
		grep -v -E "^kind=(${ROWS//,/|}) |^kind=info rows_${ROWS//,/_}=" "$RESULTS/latest.raw"
		echo "kind=info rows_${ROWS//,/_}=$(date -u +%Y-%m-%dT%H:%MZ)_${MODE}_runs_${RUNS}_$(sed -n 's/.*kvmini_version=\([^ ]*\).*/kvmini_\1/p' "$OUT/raw.txt")"
		grep -v '^kind=info ' "$OUT/raw.txt"
	} >"$RESULTS/latest.raw.new"
	mv "$RESULTS/latest.raw.new" "$RESULTS/latest.raw"
fi
"$ROOT/bench/report.sh" "$RESULTS/latest.raw" "$RESULTS"
