#!/bin/bash
# make bench: kvmini's boot time, memory and exit counts side by side with
# QEMU's, measured in the same place (see docs/benchmarks.md). It prepares
# everything on this host, runs bench/l1-perf.sh on real KVM (directly if
# /dev/kvm works here, else inside the nested bench's L1, as the boot tests
# do), and turns the raw figures into bench/results/latest.{md,json,png}.
#
# Usage: perf.sh --kvmini PATH [--runs N] [--mode auto|direct|nested]
set -u
# Its own scratch folder: a bench run and a test run can share the tree.
export KVMINI_BENCH_WORK=${KVMINI_BENCH_WORK:-$(cd "$(dirname "$0")/.." && pwd)/build/perf}
source "$(dirname "$0")/../tests/bench/common.sh"

usage() {
	echo "usage: perf.sh --kvmini PATH [--runs N] [--mode auto|direct|nested]" >&2
	exit 2
}

KVMINI= RUNS=5
MODE=${KVMINI_BENCH_MODE:-auto}
while [ $# -gt 0 ]; do
	case $1 in
	--kvmini | --runs | --mode) [ $# -ge 2 ] || usage ;;&
	--kvmini) KVMINI=$2 ;;
	--runs) RUNS=$2 ;;
	--mode) MODE=$2 ;;
	*) usage ;;
	esac
	shift 2
done
[ -n "$KVMINI" ] || usage
[[ $RUNS =~ ^[0-9]+$ ]] && [ "$RUNS" -ge 1 ] && [ "$RUNS" -le 50 ] || die "--runs '$RUNS': must be a number from 1 to 50"
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

MINI_KERNEL=$WORK/minimal-bzImage
"$ROOT/scripts/build-guest-kernel.sh" "$MINI_KERNEL" || die "cannot build the minimal guest kernel"
for tool in boot-meter api-rtt; do
	gcc -static -O2 -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -o "$WORK/$tool" "$ROOT/bench/$tool.c" ||
		die "cannot build bench/$tool.c"
done
SMOKE_INITRD=$WORK/smoke-initrd.cpio
"$KVMINI" smoke --save-initrd "$SMOKE_INITRD" || die "kvmini smoke --save-initrd failed"

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
	cp "$ROOT/bench/l1-perf.sh" "$WORK/boot-meter" "$WORK/api-rtt" "$extra/bench/perf/"
	cp "$MINI_KERNEL" "$extra/bench/perf/minimal-bzImage"
	cp "$SMOKE_INITRD" "$extra/bench/perf/smoke-initrd.cpio"
	# The firmware QEMU loads for -M pc (SeaBIOS, its option ROMs) and -M microvm
	# (qboot), at the same paths: Debian's QEMU looks in both folders.
	for fw in seabios/bios-256k.bin qemu/bios-microvm.bin qemu/kvmvapic.bin qemu/linuxboot_dma.bin \
		qemu/linuxboot.bin qemu/pvh.bin; do
		mkdir -p "$extra/usr/share/$(dirname "$fw")"
		cp -L "/usr/share/$fw" "$extra/usr/share/$fw" || die "QEMU firmware /usr/share/$fw not found"
	done
	BENCH_HOST_TOOLS="$BENCH_HOST_TOOLS qemu-system-x86_64" L1_EXTRA=$extra build_l1_initrd
	for attempt in 1 2; do
		L1_WAITING_FOR="its first measurement"
		l1_run on_perf_line 7200 "KVMINI_BENCH=perf RUNS=$RUNS"
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
		GUEST_INITRD=$GUEST_INITRD RUNS=$RUNS sh "$ROOT/bench/l1-perf.sh" "$OUT" |
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
{
	echo "kind=info date=$(date -u +%Y-%m-%dT%H:%MZ) mode=$MODE host_cpus=$(nproc) stock_kernel=$KERNEL_VER"
	# The version string in the bzImage's setup header, which is not compressed.
	echo "kind=info minimal_kernel=$(strings -n 8 "$MINI_KERNEL" | sed -n 's/^\([0-9][0-9.]*[^ ]*\) (.*/\1/p' | head -n 1)"
	cat "$OUT/raw.txt"
} >"$RESULTS/latest.raw"
"$ROOT/bench/report.sh" "$RESULTS/latest.raw" "$RESULTS"
