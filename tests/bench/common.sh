# Host-side helpers shared by run.sh and run-interactive.sh (bash, sourced).
# They find or fetch the stock Debian kernel, build the guest and L1
# initramfs images, and decide whether /dev/kvm can be used directly.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/../.." && pwd)
BUILD=$ROOT/build
CACHE=$BUILD/cache
# KVMINI_BENCH_WORK: a scratch folder of its own, so two bench runs can share a tree.
WORK=${KVMINI_BENCH_WORK:-$BUILD/bench}
# Set in one of run.sh --shards' L1 runs: its own console, QEMU log and
# results disk names; the initramfs images are its parent's, built once.
SHARD_SUFFIX=${KVMINI_BENCH_SHARD:+-$KVMINI_BENCH_SHARD}
mkdir -p "$CACHE" "$WORK"

# Tools from the host that tests may use besides busybox (smoke-junit:
# xmllint; virtio-blk: mkfs.ext4, debugfs and e2fsck from e2fsprogs, named
# so because busybox's own mke2fs, which cannot fill an image from a folder,
# would shadow e2fsprogs' under that name; api-*: curl, the real one, for
# its --unix-socket; exec-tty: util-linux's script, for a pseudo-terminal).
export BENCH_HOST_TOOLS="xmllint mkfs.ext4 debugfs e2fsck curl script"

die() {
	echo "bench: $*" >&2
	exit 1
}

# The L1 QEMU machine of the nested mode: software emulation of an AMD CPU
# with SVM and nested paging, so KVM works inside it on any host. 4 GiB,
# because kvmini refuses guests larger than its host's RAM and mem-3584m
# asks for 3.5 GiB; QEMU allocates only what L1 touches.
# One CPU: with two, an L1 CPU running a guest under QEMU's emulated SVM
# now and then never takes an IPI from the other, which waits for it with
# interrupts off (seen 2026-12-02: L1 soft lockup in
# smp_call_function_many_cond, 1 in 24 runs of a 2-vCPU guest; before that,
# L2 guests that hung or triple-faulted late in long L1 runs). With one L1
# CPU there are no IPIs between L1 CPUs; L2 guests with several vCPUs
# still work, their threads taking turns. KVMINI_BENCH_L1_CPUS overrides it.
L1_QEMU=(qemu-system-x86_64 -accel tcg,thread=multi -cpu EPYC,+svm,+npt
	-m 4096 -smp "${KVMINI_BENCH_L1_CPUS:-1}" -nographic -no-reboot -nic none)
# KVMINI_BENCH_L1_QMP=PATH: a QMP socket on L1's QEMU, to look into a stuck L1
# (human-monitor-command "info lapic", "info registers").
[ -z "${KVMINI_BENCH_L1_QMP:-}" ] || L1_QEMU+=(-qmp "unix:$KVMINI_BENCH_L1_QMP,server=on,wait=off")
# quiet keeps the slow emulated serial line free for the bench's markers;
# a crashed L1 (oops or panic) powers off at once instead of hanging, and so
# does one whose CPUs lock up (seen under QEMU's emulated SVM: a vCPU thread
# stuck in KVM_RUN for minutes), so the bench sees a bench failure in seconds.
# nohz=off highres=off: L1's local APIC timer ticks periodically instead of
# being re-armed by each interrupt. Now and then QEMU 7.2 loses a timer
# interrupt of L1: its vector sits in the APIC's IRR, deliverable, but the
# CPU is never told (most likely QEMU's unlocked update of the CPU's
# pending-interrupt word at every exit from L2, racing with the timer
# thread; upstream made it a locked update in September 2025). A one-shot
# timer is then never re-armed, and an idle L1 sleeps for good (seen
# 2026-12-02 in 3 of 4 L1 runs of the api tests: CPU halted with IF set,
# IRR 236, PPR 0x10, QEMU's main loop waiting 9 hours). A periodic timer
# fires again 4 ms later, and the lost vector goes with it.
# KVMINI_BENCH_L1_APPEND adds to it; tests/bench/selftest.sh uses that to make
# L1 fail on purpose.
L1_CMDLINE="console=ttyS0 quiet oops=panic panic=-1 softlockup_panic=1 nohz=off highres=off${KVMINI_BENCH_L1_APPEND:+ $KVMINI_BENCH_L1_APPEND}"

# apt_get ARGS...: apt-get, quietly; its output is shown only on failure.
apt_get() {
	local log
	log=$(apt-get "$@" 2>&1) || { echo "$log" | tail -n 5 >&2; return 1; }
}

# resolve_kernel: set KERNEL_PKG, KERNEL_VER, KERNEL_TREE (the unpacked
# package) and VMLINUZ. The package is whatever linux-image-amd64 depends on
# today; once unpacked under build/cache it is never downloaded again.
resolve_kernel() {
	KERNEL_PKG=$(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n 1)
	if [ -z "$KERNEL_PKG" ]; then
		# No package lists yet: use what is cached, else fetch the lists.
		KERNEL_PKG=$(cd "$CACHE" && ls -d linux-image-*-amd64 2>/dev/null | sort -V | tail -n 1)
		if [ -z "$KERNEL_PKG" ]; then
			apt_get update || die "apt-get update failed; cannot resolve linux-image-amd64"
			KERNEL_PKG=$(apt-cache depends linux-image-amd64 2>/dev/null |
				sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n 1)
			[ -n "$KERNEL_PKG" ] || die "apt-cache cannot resolve linux-image-amd64"
		fi
	fi
	KERNEL_VER=${KERNEL_PKG#linux-image-}
	KERNEL_TREE=$CACHE/$KERNEL_PKG
	VMLINUZ=$KERNEL_TREE/boot/vmlinuz-$KERNEL_VER
	[ -f "$VMLINUZ" ] && [ -f "$KERNEL_TREE/lib/modules/$KERNEL_VER/modules.dep" ] && return

	echo "bench: fetching $KERNEL_PKG into build/cache (once)"
	local tmp
	tmp=$(mktemp -d "$CACHE/fetch.XXXXXX")
	if ! (cd "$tmp" && apt_get download "$KERNEL_PKG"); then
		apt_get update || { rm -rf "$tmp"; die "apt-get update failed; cannot download $KERNEL_PKG"; }
		(cd "$tmp" && apt_get download "$KERNEL_PKG") ||
			{ rm -rf "$tmp"; die "apt-get download $KERNEL_PKG failed"; }
	fi
	dpkg-deb -x "$tmp"/"$KERNEL_PKG"_*.deb "$tmp/tree" || { rm -rf "$tmp"; die "cannot unpack $KERNEL_PKG"; }
	# The package ships no modules.dep (the postinst makes it); build it.
	depmod -b "$tmp/tree" "$KERNEL_VER" || { rm -rf "$tmp"; die "depmod failed for $KERNEL_PKG"; }
	rm -rf "$KERNEL_TREE"
	mv "$tmp/tree" "$KERNEL_TREE"
	rm -rf "$tmp"
	[ -f "$VMLINUZ" ] || die "$KERNEL_PKG has no boot/vmlinuz-$KERNEL_VER"
}

# module_files NAME...: the files of these modules and of everything they
# depend on, each once, dependencies first (from modules.dep).
module_files() {
	local moddir=$KERNEL_TREE/lib/modules/$KERNEL_VER
	awk -v want="$*" '
		function norm(p) { sub(/.*\//, "", p); sub(/\.ko.*/, "", p); gsub(/-/, "_", p); return p }
		function load(m,   n, d, i) {
			if (m in done) return
			done[m] = 1
			n = split(deps[m], d, " ")
			for (i = n; i >= 1; i--) load(norm(d[i]))
			print path[m]
		}
		{ sub(/:$/, "", $1); m = norm($1); path[m] = $1; deps[m] = ""
		  for (i = 2; i <= NF; i++) deps[m] = deps[m] " " $i }
		END {
			n = split(want, w, " ")
			for (i = 1; i <= n; i++) {
				m = norm(w[i])
				if (!(m in path)) { print "missing module " w[i] > "/dev/stderr"; exit 1 }
				load(m)
			}
		}' "$moddir/modules.dep" | sed "s|^|$moddir/|"
}

# The guest's drivers for kvmini's virtio devices, all modules in Debian's
# kernel: both transports, blk, net, console, rng, fs (fuse and virtiofs),
# balloon, and ext4 for the disk test (crc32c_generic: ext4's metadata checksums ask
# for it at mount time, and the guest has no modprobe to fetch it then).
GUEST_MODULES="virtio_pci virtio_mmio virtio_blk virtio_net virtio_console virtio-rng virtio_balloon crc32c_generic ext4 fuse virtiofs vsock vmw_vsock_virtio_transport_common vmw_vsock_virtio_transport"

# build_guest_initrd: GUEST_INITRD, the default guest's busybox initramfs
# (a shard of run.sh --shards uses the one its parent built), with LKDTM
# among its optional modules when build_lkdtm ran first (the boot tests).
build_guest_initrd() {
	local modules
	GUEST_INITRD=$WORK/guest-initramfs.cpio.gz
	[ -z "$SHARD_SUFFIX" ] || return 0
	# shellcheck disable=SC2086 # one module name per word
	modules=$(module_files $GUEST_MODULES) || die "cannot resolve the guest kernel modules"
	# shellcheck disable=SC2086 # one path per word, no spaces in them
	OPTIONAL_MODULES=${LKDTM:-} "$ROOT/guests/busybox/build-initramfs.sh" "$GUEST_INITRD" $modules ||
		die "cannot build the guest initramfs"
}

# build_lkdtm: LKDTM, the kernel's crash-test module built for the guest
# kernel (which lacks it), for tests/boot/smoke-lkdtm.sh. Cached per kernel.
build_lkdtm() {
	# In a folder of the kernel's name: the initramfs keeps the file's name, lkdtm.ko.
	LKDTM=$CACHE/lkdtm-$KERNEL_VER/lkdtm.ko
	[ -z "$SHARD_SUFFIX" ] || return 0
	[ -f "$LKDTM" ] && return
	echo "bench: building LKDTM for $KERNEL_VER (once)"
	mkdir -p "$(dirname "$LKDTM")"
	"$ROOT/scripts/build-lkdtm.sh" "$KERNEL_VER" "$LKDTM" || die "cannot build the LKDTM module"
}

# build_probe: PROBE, the static kvm-probe helper.
build_probe() {
	PROBE=$WORK/kvm-probe
	if [ ! -x "$PROBE" ] || [ "$BENCH_DIR/kvm-probe.c" -nt "$PROBE" ]; then
		gcc -static -O2 -Wall -o "$PROBE" "$BENCH_DIR/kvm-probe.c" ||
			die "cannot build kvm-probe (needs gcc and libc6-dev)"
	fi
}

# kvm_usable: true when /dev/kvm can run guests here at hardware speed;
# else KVM_REASON says why not, and KVM_STATUS is 3 if it works but slowly.
kvm_usable() {
	KVM_REASON=$("$PROBE" 2>&1)
	KVM_STATUS=$?
	KVM_REASON=${KVM_REASON#kvm-probe: }
	[ "$KVM_STATUS" -eq 0 ]
}

# build_l1_initrd: L1_INITRD, the nested bench's L1 initramfs; with
# L1_MORE_MODULES (names), those modules too (make bench's vhost_vsock).
build_l1_initrd() {
	local modules
	L1_INITRD=$WORK/l1-initramfs.cpio
	if [ -n "$SHARD_SUFFIX" ]; then
		build_toolchain_image
		return
	fi
	# ext4 (with crc32c_generic, as for the guest): the toolchain disk.
	# shellcheck disable=SC2086 # one module name per word
	modules=$(module_files irqbypass kvm ccp kvm-amd virtio_pci virtio_blk tun crc32c_generic ext4 ${L1_MORE_MODULES:-}) ||
		die "cannot resolve the L1 kernel modules"
	build_l1_modules_tree
	build_toolchain_image
	# shellcheck disable=SC2086 # one path per word, no spaces in them
	L1_MODULES_TREE=$WORK/l1-modules "$BENCH_DIR/build-l1-initramfs.sh" "$L1_INITRD" "$KVMINI" "$VMLINUZ" \
		"$GUEST_INITRD" "$PROBE" $modules || die "cannot build the L1 initramfs"
}

# build_toolchain_image: TOOLCHAIN_IMG, an ext4 image of the host's gcc
# toolchain (build-toolchain-image.sh), L1's second disk, for
# tests/boot/exec-compile.sh. Cached under the installed gcc's version and
# built only when missing.
build_toolchain_image() {
	local version
	version=$(dpkg-query -W -f '${Version}' "gcc-$(gcc -dumpversion)") ||
		die "cannot tell the installed gcc's package version"
	TOOLCHAIN_IMG=$CACHE/toolchain-gcc-$version.ext4
	[ -f "$TOOLCHAIN_IMG" ] && return
	echo "bench: building the toolchain image for L1 (once)"
	"$BENCH_DIR/build-toolchain-image.sh" "$TOOLCHAIN_IMG" || die "cannot build the toolchain image"
}

# build_l1_modules_tree: $WORK/l1-modules/lib/modules/RELEASE, where kvmini
# exec looks for the guest kernel's modules by default: modules.dep,
# modules.builtin, and the modules exec loads (both transports, the
# console, fuse and virtiofs, with their dependencies) at their paths.
build_l1_modules_tree() {
	local moddir=$KERNEL_TREE/lib/modules/$KERNEL_VER dest=$WORK/l1-modules/lib/modules/$KERNEL_VER f
	rm -rf "$WORK/l1-modules"
	mkdir -p "$dest"
	cp "$moddir/modules.dep" "$moddir/modules.builtin" "$dest/"
	for f in $(module_files virtio_pci virtio_mmio virtio_console fuse virtiofs); do
		mkdir -p "$dest/$(dirname "${f#"$moddir"/}")"
		cp "$f" "$dest/${f#"$moddir"/}"
	done
}

# Seconds L1 may take from power-on to its first sign of work (a test's
# START, say), and by default from one sign to the next.
L1_BOOT_LIMIT=180
L1_GAP_LIMIT=120

# l1_run HANDLER OVERALL ARGS: one run of the L1 machine, ARGS appended to
# its command line (KVMINI_BENCH=... tells tests/bench/l1-init what to do),
# with a 256 MiB results disk that L1 fills with a tar archive, unpacked
# into $OUT at the end (the first disk: L1's /dev/vda), and the toolchain
# image, read-only, as the second (/dev/vdb). Every "KVMINI-BENCH: " line L1 prints, marker
# removed, goes to HANDLER, which may set L1_NEXT (the deadline for the next
# sign of work, in $SECONDS) and L1_WAITING_FOR (what that sign is, for the
# message). A bench failure (L1 panicked, gave up, stopped, stalled, took
# over OVERALL seconds, or its results disk is unreadable) is left in
# BENCH_FAILURE, empty if none.
l1_run() {
	local handler=$1 overall=$2 args=$3
	local console=$OUT/l1-console$SHARD_SUFFIX.log img=$WORK/results$SHARD_SUFFIX.img
	local qpid chunk= line rest carry= ended= alive now why deadline t0=$EPOCHREALTIME
	BENCH_FAILURE=

	rm -f "$img"
	truncate -s 256M "$img"
	: >"$console"
	"${L1_QEMU[@]}" -kernel "$VMLINUZ" -initrd "$L1_INITRD" -append "$L1_CMDLINE $args" \
		-drive "file=$img,format=raw,if=virtio" -drive "file=$TOOLCHAIN_IMG,format=raw,if=virtio,readonly=on" </dev/null >"$console" 2>"$OUT/l1-qemu$SHARD_SUFFIX.log" &
	qpid=$!
	# Not a job any more: bash would print a notice when QEMU is killed.
	disown "$qpid"
	exec 3<"$console"
	deadline=$((SECONDS + overall))
	L1_NEXT=$((SECONDS + L1_BOOT_LIMIT))
	while [ -z "$BENCH_FAILURE" ] && [ -z "$ended" ]; do
		sleep 1
		kill -0 "$qpid" 2>/dev/null && alive=1 || alive=
		# Complete lines only: a partial last line waits in carry.
		while IFS= read -r chunk <&3; do
			line=$carry$chunk
			carry=
			line=${line%$'\r'}
			if [[ $line == *"KVMINI-BENCH: "* ]]; then
				rest=${line#*KVMINI-BENCH: }
				case $rest in
				READY) echo "bench: L1 up after $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s" ;;
				ABORT\ *) BENCH_FAILURE="L1 gave up: ${rest#ABORT }" ;;
				END) ended=1 ;;
				*) "$handler" "$rest" ;;
				esac
			elif [[ $line == *"Kernel panic - not syncing"* ]]; then
				BENCH_FAILURE="L1 panicked: ${line#*Kernel panic - not syncing: }"
			fi
		done
		carry=$carry$chunk
		now=$SECONDS
		if [ -n "$BENCH_FAILURE" ] || [ -n "$ended" ]; then
			break
		elif [ -z "$alive" ]; then
			BENCH_FAILURE="L1 stopped before the end marker"
			# QEMU's last word, if it was more than a CPU feature warning.
			rest=$(grep -v 'warning: TCG doesn.t support' "$OUT/l1-qemu$SHARD_SUFFIX.log" | tail -n 1)
			[ -z "$rest" ] || BENCH_FAILURE="$BENCH_FAILURE (QEMU: $rest)"
		elif [ "$now" -ge "$deadline" ]; then
			BENCH_FAILURE="L1 did not finish within $overall s"
		elif [ "$now" -ge "$L1_NEXT" ]; then
			BENCH_FAILURE="L1 stalled: no sign of $L1_WAITING_FOR in time"
		fi
	done
	exec 3<&-

	# After the end marker L1 powers off by itself; give it a moment.
	for _ in $(seq 30); do
		kill -0 "$qpid" 2>/dev/null || break
		[ -n "$ended" ] || break
		sleep 1
	done
	# Stopped for good before the results disk is read; SIGKILL if a hung
	# QEMU ignores SIGTERM for 10 s.
	kill "$qpid" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$qpid" 2>/dev/null || break
		sleep 0.2
	done
	kill -KILL "$qpid" 2>/dev/null
	while kill -0 "$qpid" 2>/dev/null; do sleep 0.2; done
	if [ -z "$BENCH_FAILURE" ] && ! why=$(tar -xf "$img" -C "$OUT" 2>&1); then
		BENCH_FAILURE="the results disk from L1 is unreadable ($(echo "$why" | head -n 1)); kept as $OUT/results$SHARD_SUFFIX.img"
		mv "$img" "$OUT/results$SHARD_SUFFIX.img"
	fi
	rm -f "$img"
}
