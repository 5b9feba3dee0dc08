#!/bin/sh
# make bench, the measuring half: boots the same guest under kvmini and
# under QEMU (-M microvm and -M pc, both -accel kvm), alternating, and
# appends one raw record per measurement to OUT/raw.txt (the format is in
# bench/report.sh). POSIX sh: it runs under busybox inside the nested
# bench's L1, or on a host whose /dev/kvm works. See docs/benchmarks.md.
#
# Usage: l1-perf.sh OUT
# Environment: KVMINI QEMU METER API_RTT STOCK_KERNEL MINI_KERNEL
#   SMOKE_INITRD GUEST_INITRD, for the shared-directory rows VIRTIOFSD
#   WITH_VIRTIOFSD (bench/with-virtiofsd.sh) SHARE_INITRD EXEC_INITRD
#   SHARE_TREE EXEC_MODULES, for the vsock rows VSOCK_HOST_TOOL (vsock-tool
#   built for this host), for the net rows NET_LOAD (net-load built for this
#   host; root, tun and vhost_net needed, and loop for the blkio rows), and
#   optionally RUNS (5) MEM_MIB (256) CPUS (1) PARALLEL (10) BLK_MIB (64)
#   API_ROUNDS (50) SHARE_MIB (256) VSOCK_MIB (256) VSOCK_ROUNDS (1000)
#   BLKIO_MIB (1024) IO_SECS (2, per blkio case and net client) and ROWS
#   (which rows, comma-separated; default all:
#   boot,parallel,blk,api,exec,share,vsock,snap,blkio,net).
set -u

out=$1
raw=$out/raw.txt
work=$out/work
RUNS=${RUNS:-5} MEM_MIB=${MEM_MIB:-256} CPUS=${CPUS:-1}
PARALLEL=${PARALLEL:-10} BLK_MIB=${BLK_MIB:-64} API_ROUNDS=${API_ROUNDS:-50}
SHARE_MIB=${SHARE_MIB:-256} VSOCK_MIB=${VSOCK_MIB:-256} VSOCK_ROUNDS=${VSOCK_ROUNDS:-1000}
BLKIO_MIB=${BLKIO_MIB:-1024} IO_SECS=${IO_SECS:-2}
ROWS=${ROWS:-boot,parallel,blk,api,exec,share,vsock,snap,blkio,net}
VMMS="kvmini qemu-microvm qemu-pc"
# Every VMM boots with exactly this command line (kvmini adds the same
# defaults, console=ttyS0 reboot=k panic=-1, in front of its --cmdline).
DEFAULTS="console=ttyS0 reboot=k panic=-1"
# What the built-in init prints once everything it checked worked.
MARKER=KVMINI-SMOKE-OK
mkdir -p "$work"

mark() { echo "KVMINI-BENCH: $*"; }
record() { echo "$*" >>"$raw"; }

# vmm_cmd VMM KERNEL INITRD EXTRA [VMM OPTIONS...]: sets CMD, the command
# (no spaces inside arguments) that boots KERNEL with INITRD under VMM, and
# CMDLINE_OPT and CMDLINE, the option and the kernel command line
# "$DEFAULTS EXTRA" to add to it (one argument: it has spaces).
vmm_cmd() {
	case $1 in
	kvmini)
		CMD="$KVMINI run -v --kernel $2 --initrd $3 --mem ${MEM_MIB}M --cpus $CPUS"
		CMDLINE_OPT=--cmdline CMDLINE=$4
		;;
	qemu-*)
		# -L: QEMU looks for firmware relative to its own binary, which L1
		# keeps in /bin; the files are at Debian's paths.
		CMD="$QEMU -M ${1#qemu-} -accel kvm -cpu host -m $MEM_MIB -smp $CPUS -nodefaults -no-user-config"
		CMD="$CMD -L /usr/share/qemu -L /usr/share/seabios"
		CMD="$CMD -display none -monitor none -serial stdio -no-reboot -kernel $2 -initrd $3"
		CMDLINE_OPT=-append CMDLINE="$DEFAULTS $4"
		;;
	esac
	shift 4
	CMD="$CMD $*"
}

# meter_cmd NAME [ARGS...]: one run of CMD ARGS under boot-meter; its
# figures in METERED, the console in $work/NAME.console and the VMM's
# stderr in $work/NAME.stderr.
meter_cmd() {
	name=$1
	shift
	# shellcheck disable=SC2086 # CMD is split into words on purpose
	METERED=$("$METER" --marker "$MARKER" --mem-mib "$MEM_MIB" --console "$work/$name.console" \
		--timeout "${METER_TIMEOUT:-180}" -- $CMD "$@" 2>"$work/$name.stderr")
	[ -n "$METERED" ] || METERED="status=-1 error=boot-meter_failed"
}

# meter NAME VMM KERNEL INITRD EXTRA [VMM OPTIONS...]: one boot under
# boot-meter, as meter_cmd.
meter() {
	name=$1
	shift
	vmm_cmd "$@"
	meter_cmd "$name" "$CMDLINE_OPT" "$CMDLINE"
}

# word LINE KEY: the value of KEY=... among LINE's words.
word() {
	echo " $1" | sed -n "s/.* $2=\([^ ]*\).*/\1/p"
}

# metered FIELD: that figure of METERED.
metered() {
	word "$METERED" "$1"
}

# console_value NAME KEY: the value of the guest's line KEY=... in NAME's console.
console_value() {
	tr -d '\r' <"$work/$1.console" | sed -n "s/^$2=//p" | tail -n 1
}

# kvmini_startup NAME: kvmini -v's own start-up figures from its stderr.
kvmini_startup() {
	# "kvmini: startup: first KVM_RUN X ms after process start, after Y ms of CPU time"
	# "kvmini: boot timer: init started Z ms after process start"
	awk '/startup: first KVM_RUN/ { printf " first_run_ms=%s first_run_cpu_ms=%s", $5, $11 }
	     /boot timer: init started/ { printf " boot_timer_ms=%s", $6 }' "$work/$1.stderr"
}

boot_runs() {
	for run in $(seq "$RUNS"); do
		for kernel in stock minimal; do
			[ "$kernel" = stock ] && k=$STOCK_KERNEL || k=$MINI_KERNEL
			for vmm in $VMMS; do
				name=boot-$kernel-$vmm-$run
				meter "$name" "$vmm" "$k" "$SMOKE_INITRD" quiet
				extra=
				[ "$vmm" != kvmini ] || extra=$(kvmini_startup "$name")
				record "kind=boot vmm=$vmm kernel=$kernel run=$run $METERED$extra"
				mark "PROGRESS $name: $METERED"
			done
		done
	done
}

# PARALLEL VMs started at once, each under its own boot-meter, booting the
# minimal kernel (ten stock-kernel boots at once take many minutes nested).
# They share the bench's CPUs, so each may take PARALLEL times as long as
# one alone.
parallel_runs() {
	METER_TIMEOUT=$((180 * PARALLEL))
	for vmm in kvmini qemu-microvm; do
		pids=
		for i in $(seq "$PARALLEL"); do
			(meter "par-$vmm-$i" "$vmm" "$MINI_KERNEL" "$SMOKE_INITRD" quiet
			 echo "$METERED" >"$work/par-$vmm-$i.result") &
			pids="$pids $!"
		done
		# shellcheck disable=SC2086
		wait $pids
		line=$(cat "$work"/par-"$vmm"-*.result | awk -v n="$PARALLEL" '
			{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
			  if (v["status"] == "0" && v["marker_ms"] >= 0) { ok++; if (v["marker_ms"] > last) last = v["marker_ms"] } }
			END { printf "vms=%d reached=%d last_marker_ms=%s status=%d", n, ok, ok ? last : -1, ok == n ? 0 : 1 }')
		record "kind=parallel vmm=$vmm kernel=minimal $line"
		mark "PROGRESS parallel $vmm: $line"
	done
	unset METER_TIMEOUT
}

# Sequential read of BLK_MIB MiB inside the guest (busybox init's blk-read).
blk_runs() {
	disk=$work/disk.img
	dd if=/dev/zero of="$disk" bs=1M count="$((BLK_MIB + 1))" 2>/dev/null
	for run in $(seq 3); do
		for vmm in $VMMS; do
			case $vmm in
			kvmini) dev="--drive path=$disk" ;;
			qemu-microvm) dev="-drive id=d0,file=$disk,format=raw,if=none -device virtio-blk-device,drive=d0" ;;
			qemu-pc) dev="-drive file=$disk,format=raw,if=virtio" ;;
			esac
			name=blk-$vmm-$run
			# The read case of the virtio-blk test's guest half (tests/boot/virtio-blk.guest).
			MARKER=virtio-blk-done
			# shellcheck disable=SC2086
			meter "$name" "$vmm" "$STOCK_KERNEL" "$GUEST_INITRD" \
				"quiet KVMINI_ACTION=virtio-blk KVMINI_CASE=read KVMINI_BLK_READ_MIB=$BLK_MIB" $dev
			MARKER=KVMINI-SMOKE-OK
			ms=$(console_value "$name" blk_read_ms)
			records=$(console_value "$name" blk_read_records)
			# Every 64 KiB request read in full, or the figure means nothing.
			status=1
			[ "$records" != "$((BLK_MIB * 16))+0" ] || [ -z "$ms" ] || status=0
			record "kind=blk vmm=$vmm kernel=stock run=$run mib=$BLK_MIB read_ms=${ms:--1} status=$status"
			mark "PROGRESS $name: read_ms=${ms:--1} status=$status"
		done
	done
	rm -f "$disk"
}

# Pause + resume over the control socket, with a guest that sleeps.
api_runs() {
	for vmm in kvmini qemu-microvm; do
		sock=$work/$vmm.sock
		rm -f "$sock"
		case $vmm in
		kvmini) control="--api-sock $sock" ;;
		*) control="-qmp unix:$sock,server=on,wait=off" ;;
		esac
		# shellcheck disable=SC2086 # one option and its value per word
		vmm_cmd "$vmm" "$STOCK_KERNEL" "$GUEST_INITRD" "quiet KVMINI_ACTION=sleep" $control
		# shellcheck disable=SC2086
		$CMD "$CMDLINE_OPT" "$CMDLINE" </dev/null >"$work/api-$vmm.console" 2>"$work/api-$vmm.stderr" &
		pid=$!
		for _ in $(seq 120); do
			grep -q KVMINI-GUEST-UP "$work/api-$vmm.console" && break
			sleep 1
		done
		proto=kvmini
		[ "$vmm" = kvmini ] || proto=qmp
		if result=$("$API_RTT" "$proto" "$sock" "$API_ROUNDS" 2>&1); then
			record "kind=api vmm=$vmm $result status=0"
		else
			record "kind=api vmm=$vmm rounds=$API_ROUNDS median_us=-1 min_us=-1 max_us=-1 status=1"
			result="failed: $result"
		fi
		mark "PROGRESS api $vmm: $result"
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		rm -f "$sock"
	done
}

# share_cmd VMM DIR KERNEL INITRD EXTRA: sets CMD, CMDLINE_OPT and CMDLINE
# as vmm_cmd does, for a guest that has DIR as the virtio-fs share tagged
# root (read-only) or share, or the 9p share tagged share: VMM kvmini
# (--share), qemu-virtiofsd (microvm, modern virtio-mmio, which
# vhost-user needs, guest RAM in a shared memfd, virtiofsd started by
# with-virtiofsd.sh), qemu-pc-virtiofsd (the same on -M pc, over PCI) or
# qemu-9p (microvm, QEMU's own 9p server).
share_cmd() {
	tag=share ro=
	[ "$2" != / ] || tag=root ro=,readonly=on
	case $1 in
	kvmini)
		vmm_cmd kvmini "$3" "$4" "$5" --share "path=$2,tag=$tag$ro"
		;;
	qemu-virtiofsd | qemu-pc-virtiofsd)
		machine=qemu-pc fs_opts='' fs_dev=vhost-user-fs-pci
		[ "$1" = qemu-pc-virtiofsd ] ||
			machine=qemu-microvm fs_opts="-global virtio-mmio.force-legacy=false" fs_dev=vhost-user-fs-device
		# shellcheck disable=SC2086 # fs_opts: one option and its value
		vmm_cmd "$machine" "$3" "$4" "$5" -machine memory-backend=mem $fs_opts \
			-object "memory-backend-memfd,id=mem,size=${MEM_MIB}M,share=on" \
			-chardev "socket,id=vfs,path=$work/virtiofsd.sock" -device "$fs_dev,chardev=vfs,tag=$tag"
		CMD="$WITH_VIRTIOFSD $VIRTIOFSD $work/virtiofsd.sock $2 $CMD"
		;;
	qemu-9p)
		vmm_cmd qemu-microvm "$3" "$4" "$5" -fsdev "local,id=fs9,path=$2,security_model=none" \
			-device virtio-9p-device,fsdev=fs9,mount_tag=share
		;;
	esac
}

# kvmini exec -- true, and its QEMU + virtiofsd equivalent on microvm and
# on pc (the faster of the two nested, for a stock kernel): boot, mount the
# root directory through virtio-fs, run true, power off; the time until the
# VMM exits. Until kvmini has an exec command, kvmini boots the same lean
# initramfs as QEMU (run --share, how=run-share).
exec_runs() {
	how="run-share"
	! "$KVMINI" help exec >/dev/null 2>&1 || how="exec"
	MARKER="share-exec-done rc=0"
	for run in $(seq "$RUNS"); do
		for vmm in kvmini qemu-virtiofsd qemu-pc-virtiofsd; do
			name=exec-$vmm-$run
			if [ "$vmm" = kvmini ] && [ "$how" = exec ]; then
				CMD="$KVMINI exec --kernel $STOCK_KERNEL --modules $EXEC_MODULES --mem ${MEM_MIB}M --cpus $CPUS"
				meter_cmd "$name" --cmdline quiet -- true </dev/null
				seen=1
			else
				share_cmd "$vmm" / "$STOCK_KERNEL" "$EXEC_INITRD" quiet
				meter_cmd "$name" "$CMDLINE_OPT" "$CMDLINE" </dev/null
				seen=$(metered marker_ms)
				seen=${seen%%.*}
			fi
			status=1
			if [ "$(metered status)" = 0 ] && [ "$seen" -ge 0 ] 2>/dev/null; then status=0; fi
			r="exit_ms=$(metered exit_ms) status=$status"
			record "kind=exec vmm=$vmm how=$how kernel=stock run=$run $r"
			mark "PROGRESS $name ($how): $r"
		done
	done
	MARKER=KVMINI-SMOKE-OK
}

# Throughput through the share (tests/boot/share-bench.guest): SHARE_MIB MiB
# written then read back, a tree of small files unpacked then read back;
# two runs per VMM (one if RUNS is 1: QEMU's 9p alone takes about seven
# minutes a run nested), each with the share emptied first.
share_runs() {
	share=$work/share
	mkdir -p "$share/src"
	cp "$SHARE_TREE" "$share/src/tree.tar"
	files=$(tar -tvf "$SHARE_TREE" | grep -c '^-')
	MARKER=share-bench-done METER_TIMEOUT=900
	for run in $(seq "$((RUNS < 2 ? RUNS : 2))"); do
		for vmm in kvmini qemu-virtiofsd qemu-9p; do
			rm -rf "$share/tree" "$share/big"
			name=share-$vmm-$run
			fstype=virtiofs
			[ "$vmm" != qemu-9p ] || fstype=9p
			share_cmd "$vmm" "$share" "$STOCK_KERNEL" "$SHARE_INITRD" \
				"quiet KVMINI_ACTION=share-bench KVMINI_FS_TYPE=$fstype KVMINI_FS_MIB=$SHARE_MIB"
			meter_cmd "$name" "$CMDLINE_OPT" "$CMDLINE"
			r=
			for f in write_ms read_ms untar_ms tarc_ms; do
				v=$(console_value "$name" "fs_$f")
				r="$r $f=${v:--1}"
			done
			# Every figure's work done in full, or none of them means anything.
			status=1
			if [ "$(console_value "$name" fs_write_records)" = "$SHARE_MIB+0" ] &&
				[ "$(console_value "$name" fs_read_records)" = "$SHARE_MIB+0" ] &&
				[ "$(console_value "$name" fs_untar_rc)" = 0 ] &&
				[ "$(console_value "$name" fs_files)" = "$files" ] &&
				[ "$(console_value "$name" fs_tarc_bytes)" -gt 0 ] 2>/dev/null &&
				[ "$(metered status)" = 0 ]; then
				status=0
			fi
			# Where the VMM's CPU time went, per thread (boot-meter).
			r="mib=$SHARE_MIB files=$files$r task_cpu_ms=$(metered task_cpu_ms) status=$status"
			record "kind=share vmm=$vmm kernel=stock run=$run $r"
			mark "PROGRESS $name: $r"
		done
	done
	rm -rf "$share"
	MARKER=KVMINI-SMOKE-OK
	unset METER_TIMEOUT
}

# wait_console NAME PATTERN SECONDS PID: whether a line of NAME's console
# (carriage returns removed) matches PATTERN within SECONDS, while the
# VMM PID runs.
wait_console() {
	for _ in $(seq "$3"); do
		tr -d '\r' <"$work/$1.console" | grep -q -- "$2" && return 0
		kill -0 "$4" 2>/dev/null || return 1
		sleep 1
	done
	return 1
}

# vsock throughput both ways and 1-byte round trips, the guest CID 3
# (tests/boot/vsock-bench.guest), the stock kernel: kvmini --vsock with the
# host side through its hybrid Unix socket (vsock-tool's uds-* forms), and
# QEMU with the in-kernel vhost_vsock of L1, the host side plain AF_VSOCK:
# on microvm (vhost-vsock-device, virtio-mmio) and on pc (vhost-vsock-pci,
# MSI-X as kvmini's virtio-pci). One boot per VMM and run, alternating.
# Every figure is taken on the host side, by L1's clock: guest to host by
# the host's sink (from accept to EOF), host to guest by the host's source
# (from the connection to the guest's EOF), the round trip by pingpong.
vsock_runs() {
	bytes=$((VSOCK_MIB * 1048576))
	for run in $(seq "$RUNS"); do
		for vmm in kvmini qemu-vhost-vsock qemu-pc-vhost-vsock; do
			name=vsock-$vmm-$run
			uds=$work/vsock.sock
			rm -f "$uds" "${uds}_5003"
			case $vmm in
			kvmini)
				vmm_cmd kvmini "$STOCK_KERNEL" "$GUEST_INITRD" \
					"quiet KVMINI_ACTION=vsock-bench KVMINI_VSOCK_BYTES=$bytes" --vsock "cid=3,uds=$uds"
				sink_cmd="uds-sink ${uds}_5003" source_cmd="uds-source $uds" ping_cmd="uds-pingpong $uds"
				;;
			*)
				machine=qemu-microvm dev=vhost-vsock-device
				[ "$vmm" = qemu-vhost-vsock ] || machine=qemu-pc dev=vhost-vsock-pci
				vmm_cmd "$machine" "$STOCK_KERNEL" "$GUEST_INITRD" \
					"quiet KVMINI_ACTION=vsock-bench KVMINI_VSOCK_BYTES=$bytes" -device "$dev,guest-cid=3"
				sink_cmd="sink 5003" source_cmd="source 3" ping_cmd="pingpong 3"
				;;
			esac
			# The host's sink listens before the guest can connect.
			# shellcheck disable=SC2086 # one command and its arguments per word
			timeout 600 "$VSOCK_HOST_TOOL" $sink_cmd >"$work/$name.g2h" 2>&1 &
			sink_pid=$!
			# shellcheck disable=SC2086
			$CMD "$CMDLINE_OPT" "$CMDLINE" </dev/null >"$work/$name.console" 2>"$work/$name.stderr" &
			pid=$!
			h2g='' rtt=''
			if wait_console "$name" '^vsock_listening' 600 "$pid"; then
				# shellcheck disable=SC2086
				h2g=$(timeout 600 "$VSOCK_HOST_TOOL" $source_cmd 5001 "$bytes" 2>&1)
				# shellcheck disable=SC2086
				rtt=$(timeout 120 "$VSOCK_HOST_TOOL" $ping_cmd 5002 "$VSOCK_ROUNDS" 2>&1)
				wait_console "$name" '^vsock-bench-done' 60 "$pid"
			fi
			kill "$pid" "$sink_pid" 2>/dev/null
			wait "$pid" "$sink_pid" 2>/dev/null
			g2h=$(cat "$work/$name.g2h")
			printf '%s\n' "$h2g" >"$work/$name.h2g"
			printf '%s\n' "$rtt" >"$work/$name.rtt"
			# Every byte across both ways and every round trip, or the figures mean nothing.
			status=1
			if [ "$(word "$g2h" bytes)" = "$bytes" ] && [ "$(word "$h2g" bytes)" = "$bytes" ] &&
				[ "$(word "$rtt" rounds)" = "$VSOCK_ROUNDS" ]; then
				status=0
			fi
			g2h=$(word "$g2h" MBps) h2g=$(word "$h2g" MBps) rtt=$(word "$rtt" median_us)
			r="mib=$VSOCK_MIB rounds=$VSOCK_ROUNDS g2h_mb_s=${g2h:--1} h2g_mb_s=${h2g:--1} rtt_us=${rtt:--1}"
			record "kind=vsock vmm=$vmm kernel=stock run=$run $r status=$status"
			mark "PROGRESS $name: $r status=$status"
		done
	done
	rm -f "$uds" "${uds}_5003"
}

# now_ms: L1's monotonic clock in ms (/proc/uptime: 10 ms steps).
now_ms() {
	awk '{ printf "%.0f", $1 * 1000 }' /proc/uptime
}

# snap_vmm VMM: for snap_runs, the counter guest (KVMINI_ACTION=counter:
# "COUNTER n" every 100 ms) under VMM with a control channel: kvmini's API
# socket $work/snap.sock, or QEMU's human monitor on the FIFOs
# $work/mon.in and .out (its replies kept in $work/mon.log). Sets CMD,
# CMDLINE_OPT and CMDLINE as vmm_cmd does.
snap_vmm() {
	rm -f "$work/snap.sock" "$work/mon.in" "$work/mon.out"
	if [ "$1" = kvmini ]; then
		vmm_cmd kvmini "$STOCK_KERNEL" "$GUEST_INITRD" "quiet KVMINI_ACTION=counter" --api-sock "$work/snap.sock"
	else
		mkfifo "$work/mon.in" "$work/mon.out"
		# QEMU opens both FIFOs read-write, so neither open waits for the other end.
		cat "$work/mon.out" >"$work/mon.log" &
		# Without the run state in the stream (the source was paused), QEMU
		# runs the VM the moment the stream is in, as kvmini restore does.
		vmm_cmd "$1" "$STOCK_KERNEL" "$GUEST_INITRD" "quiet KVMINI_ACTION=counter" -monitor "pipe:$work/mon" \
			-global migration.store-global-state=off
		CMD=$(echo "$CMD" | sed 's/ -monitor none//')
	fi
}

# snap_ctl VMM WHAT: tell snap_vmm's VMM to pause, stop (the process
# ends, exit 0) or save (a paused VM to $work/snap: kvmini's state and
# memory files, QEMU's migration stream, the whole of it a file); sets
# CREATE_MS for save (-1: failed).
snap_ctl() {
	if [ "$1" = kvmini ]; then
		case $2 in
		pause) curl -s --unix-socket "$work/snap.sock" -X PATCH -d '{"state": "Paused"}' http://localhost/vm ;;
		stop) curl -s --unix-socket "$work/snap.sock" -X PUT -d '{"action_type": "Stop"}' http://localhost/actions ;;
		save)
			mkdir -p "$work/snap"
			t=$(curl -s --max-time 300 --unix-socket "$work/snap.sock" -o "$work/snap.reply" -w '%{http_code} %{time_total}' \
				-X PUT -d "{\"snapshot_type\": \"Full\", \"snapshot_path\": \"$work/snap/state\", \
\"mem_file_path\": \"$work/snap/memory\"}" http://localhost/snapshot/create)
			CREATE_MS=-1
			[ "${t%% *}" != 204 ] || CREATE_MS=$(echo "${t#* }" | awk '{ printf "%.1f", $1 * 1000 }')
			;;
		esac
		return
	fi
	case $2 in
	pause) echo stop >"$work/mon.in" ;;
	stop) echo quit >"$work/mon.in" ;;
	save)
		# The monitor takes no command until the migration has ended: the
		# status comes after it.
		t=$(now_ms)
		echo "migrate \"exec:cat>$work/snap.qemu\"" >"$work/mon.in"
		echo "info migrate" >"$work/mon.in"
		CREATE_MS=-1
		for _ in $(seq 3000); do
			if grep -q 'Migration status: completed' "$work/mon.log"; then
				CREATE_MS=$(($(now_ms) - t))
				break
			fi
			grep -q 'Migration status: failed' "$work/mon.log" && break
			usleep 10000
		done
		;;
	esac
}

# Snapshot and restore of the counter guest, MEM 256 MiB and 2 GiB: kvmini
# (PUT /snapshot/create, Full; then `kvmini restore`) against QEMU microvm
# (HMP stop and `migrate` to a file; then the same command line with
# -incoming from it). Per run and VMM: the boot to the first counter line
# (boot-meter's marker), the save's time (kvmini: curl's, from request to
# answer; QEMU: from migrate until info migrate says completed, 10 ms
# steps), what the files hold on disk (du), and the restore: from the
# restoring process's start to its first console byte (boot-meter's
# first_output_ms), which is the guest's first output once it runs again.
snap_runs() {
	mem_default=$MEM_MIB
	for MEM_MIB in 256 2048; do
		for run in $(seq "$RUNS"); do
			for vmm in kvmini qemu-microvm; do
				name=snap-$vmm-$MEM_MIB-$run
				rm -rf "$work/snap" "$work/snap.qemu" "$work/mon.log"
				snap_vmm "$vmm"
				MARKER="COUNTER 0"
				# meter_cmd changes name: the result's path is set first.
				result=$work/$name-boot.result
				(meter_cmd "$name-boot" "$CMDLINE_OPT" "$CMDLINE"; echo "$METERED" >"$result") &
				pid=$!
				CREATE_MS=-1 state_kib=-1 files_kib=-1
				if wait_console "$name-boot" '^COUNTER 10$' 300 "$pid"; then
					snap_ctl "$vmm" pause
					snap_ctl "$vmm" save
					if [ "$vmm" = kvmini ]; then
						state_kib=$(du -k "$work/snap/state" | cut -f 1)
						files_kib=$(du -k -c "$work/snap/state" "$work/snap/memory" | tail -n 1 | cut -f 1)
					else
						files_kib=$(du -k "$work/snap.qemu" | cut -f 1)
					fi
				fi
				snap_ctl "$vmm" stop
				wait "$pid"
				boot=$(cat "$work/$name-boot.result")
				snap_vmm "$vmm"
				# QEMU: the same command line, which must make the same machine, and the saved state.
				set -- "$CMDLINE_OPT" "$CMDLINE"
				if [ "$vmm" = kvmini ]; then
					CMD="$KVMINI restore $work/snap --api-sock $work/snap.sock"
					set --
				else
					CMD="$CMD -incoming exec:cat<$work/snap.qemu"
				fi
				MARKER=COUNTER
				result=$work/$name-restore.result
				(meter_cmd "$name-restore" "$@"; echo "$METERED" >"$result") &
				pid=$!
				wait_console "$name-restore" COUNTER 120 "$pid"
				snap_ctl "$vmm" stop
				wait "$pid"
				restore=$(cat "$work/$name-restore.result")
				status=1
				if [ "$(word "$boot" status)" = 0 ] && [ "$(word "$restore" status)" = 0 ] &&
					[ "$CREATE_MS" != -1 ] && [ "$files_kib" -gt 0 ]; then
					status=0
				fi
				r="mem_mib=$MEM_MIB boot_ms=$(word "$boot" marker_ms) create_ms=$CREATE_MS state_kib=$state_kib"
				r="$r files_kib=$files_kib restore_ms=$(word "$restore" first_output_ms) status=$status"
				record "kind=snap vmm=$vmm kernel=stock run=$run $r"
				mark "PROGRESS $name: $r"
				rm -rf "$work/snap" "$work/snap.qemu"
			done
		done
	done
	MEM_MIB=$mem_default MARKER=KVMINI-SMOKE-OK
}

# task_cpu PID: PID's CPU time so far, in clock ticks (USER_HZ: 100 a
# second on x86), by kind of thread: main (the process's first thread),
# vcpu (QEMU's "CPU n/KVM" of -name debug-threads=on, or a thread ever
# seen inside the KVM_RUN ioctl: kvmini names no threads, so its vCPU
# threads are known by their system call, listed in $work/vcpu-tids.PID),
# other (the rest of the process's time: kvmini's I/O thread and any helper
# threads it starts, QEMU's worker threads, aio=threads' among them; from
# the process's own total, which keeps the time of threads that have
# ended, as idle workers do) and vhost (the kernel's vhost-PID worker
# threads of QEMU's vhost-net, which are not PID's tasks).
task_cpu() {
	for t in /proc/"$1"/task/*; do
		# "16 FD 0xae80 ...": inside ioctl(FD, KVM_RUN) (a vCPU halted in the guest is too).
		! grep -q '^16 0x[0-9a-f]* 0xae80 ' "$t/syscall" 2>/dev/null || echo "${t##*/}" >>"$work/vcpu-tids.$1"
	done
	touch "$work/vcpu-tids.$1"
	vhost=$(grep -lx "vhost-$1" /proc/[0-9]*/comm 2>/dev/null | sed 's|comm$|stat|')
	# The process's line first, then its threads' and vhost's.
	# shellcheck disable=SC2086 # one path per word
	cat /proc/"$1"/stat /proc/"$1"/task/*/stat $vhost 2>/dev/null | awk -v pid="$1" -v tids="$work/vcpu-tids.$1" '
		BEGIN { while ((getline t <tids) > 0) vcpu[t] = 1 }
		{	# comm may hold spaces and parentheses: the figures follow the last ")".
			comm = $0; sub(/^[0-9]+ \(/, "", comm); sub(/\) [^)]*$/, "", comm)
			rest = $0; sub(/.*\) /, "", rest); split(rest, f, " ")
			if (NR == 1) k = "all"
			else if (comm == "vhost-" pid) k = "vhost"
			else if ($1 == pid) k = "main"
			else if (($1 in vcpu) || comm ~ /^CPU [0-9]+\/KVM$/) k = "vcpu"
			else next
			n[k] += f[12] + f[13] }
		END { printf "main=%d vcpu=%d other=%d vhost=%d\n", n["main"], n["vcpu"], n["all"] - n["main"] - n["vcpu"], n["vhost"] }'
}

# cpu_delta BEFORE AFTER: task_cpu's figures of AFTER less BEFORE, in ms,
# as cpu_main_ms=... cpu_vcpu_ms=... cpu_other_ms=... cpu_vhost_ms=...
cpu_delta() {
	echo "$1 $2" | awk '{ for (i = 1; i <= 4; i++) { split($i, a, "="); split($(i + 4), b, "=")
		printf "%scpu_%s_ms=%d", (i > 1 ? " " : ""), a[1], (b[2] - a[2]) * 10 } }'
}

# The blkio row's cases, MODE:QD (tests/boot/io-bench.guest), and their
# VMMs: kvmini --drive cache=none, QEMU microvm virtio-blk-device with
# cache=none and aio=io_uring, and with aio=threads.
BLKIO_CASES="read:1 write:1 randread:1 randread:32 randwrite:1 randwrite:32"
blkio_vmm() {
	case $1 in
	kvmini) set -- "$@" --drive "path=$2,cache=none" ;;
	qemu-io_uring | qemu-threads)
		set -- "$@" -name guest,debug-threads=on \
			-drive "id=d0,file=$2,format=raw,if=none,cache=none,aio=${1#qemu-}" -device virtio-blk-device,drive=d0
		;;
	esac
	vm=$1
	[ "$vm" = kvmini ] || vm=qemu-microvm
	shift 2
	vmm_cmd "$vm" "$STOCK_KERNEL" "$GUEST_INITRD" \
		"quiet KVMINI_ACTION=io-bench KVMINI_CASE=blk KVMINI_IO_SECS=$IO_SECS KVMINI_BLK_CASES=$(echo "$BLKIO_CASES" | tr ' ' ,)" "$@"
}

# Block I/O inside the guest (blk-load on /dev/vda, O_DIRECT) on a
# BLKIO_MIB MiB raw image in L1's RAM: a file on a tmpfs, filled with
# zeros, attached as a loop device (tmpfs takes no O_DIRECT on Linux 6.1;
# the loop device does, so cache=none holds for every VMM, and what lies
# under it is memory). One boot per VMM and run runs every case; the
# VMM's CPU time is read as each case starts and ends (the console's
# io_start and io_result lines, read as they come through a FIFO).
blkio_runs() {
	mnt=$work/blkio
	mkdir -p "$mnt"
	if ! mount -t tmpfs -o "size=$((BLKIO_MIB + 1))m" tmpfs "$mnt"; then
		record "kind=unavailable what=block_I/O_rows reason=cannot_mount_a_tmpfs_in_$mnt"
		return
	fi
	dd if=/dev/zero of="$mnt/disk.img" bs=1M count="$BLKIO_MIB" 2>/dev/null
	if ! loop=$(losetup -f) || ! losetup "$loop" "$mnt/disk.img"; then
		record "kind=unavailable what=block_I/O_rows reason=no_loop_device_(the_loop_module)"
		umount "$mnt"
		return
	fi
	cr=$(printf '\r')
	for run in $(seq "$((RUNS < 3 ? RUNS : 3))"); do
		for vmm in kvmini qemu-io_uring qemu-threads; do
			name=blkio-$vmm-$run
			blkio_vmm "$vmm" "$loop"
			rm -f "$work/$name.fifo" "$work/$name.console"
			mkfifo "$work/$name.fifo"
			# shellcheck disable=SC2086 # CMD is split into words on purpose
			$CMD "$CMDLINE_OPT" "$CMDLINE" </dev/null >"$work/$name.fifo" 2>"$work/$name.stderr" &
			pid=$!
			# Each case takes IO_SECS and a second, the boot a minute at most: twice that, then it is stuck.
			(sleep "$((120 + 6 * (IO_SECS + 1) * 2))"; kill "$pid" 2>/dev/null) &
			watchdog=$!
			before='' done=
			while IFS= read -r line; do
				line=${line%"$cr"}
				echo "$line" >>"$work/$name.console"
				case $line in
				io_start=*) before=$(task_cpu "$pid") ;;
				io_result=*)
					after=$(task_cpu "$pid")
					c=${line#io_result=}
					c=${c%% *}
					status=1
					[ "$(word "$line" rc)" != 0 ] || [ -z "$before" ] || status=0
					r="case=$(echo "$c" | tr : -) bytes=$(word "$line" bytes) secs=$(word "$line" secs)"
					r="$r iops=$(word "$line" iops) mibps=$(word "$line" mibps) $(cpu_delta "$before" "$after")"
					record "kind=blkio vmm=$vmm kernel=stock run=$run mib=$BLKIO_MIB $r status=$status"
					mark "PROGRESS $name $r status=$status"
					done="$done $c" before=''
					;;
				esac
			done <"$work/$name.fifo"
			kill "$watchdog" 2>/dev/null
			wait "$pid"
			rm -f "$work/$name.fifo" "$work/vcpu-tids.$pid"
			# A case the guest never finished is a failed run of it, not a missing row.
			for c in $BLKIO_CASES; do
				case " $done " in *" $c "*) continue ;; esac
				record "kind=blkio vmm=$vmm kernel=stock run=$run mib=$BLKIO_MIB case=$(echo "$c" | tr : -) status=1"
				mark "PROGRESS $name $c: no result"
			done
		done
	done
	losetup -d "$loop"
	umount "$mnt"
}

# The net row's VMMs: kvmini --net on a tap, QEMU microvm's
# virtio-net-device on the same tap served in QEMU's user space
# (vhost=off) or by L1's in-kernel vhost-net (vhost=on).
net_vmm() {
	cmdline="quiet KVMINI_ACTION=io-bench KVMINI_CASE=net KVMINI_NET_ADDR=$NET_GUEST/30 KVMINI_NET_PEER=$NET_HOST"
	cmdline="$cmdline KVMINI_NET_PORT=$NET_PORT KVMINI_NET_CONNS=3"
	case $1 in
	kvmini) vmm_cmd kvmini "$STOCK_KERNEL" "$GUEST_INITRD" "$cmdline" --net "tap=$NET_TAP,mac=52:54:00:4b:56:02" ;;
	*)
		vhost=off
		[ "$1" = qemu-user ] || vhost=on
		vmm_cmd qemu-microvm "$STOCK_KERNEL" "$GUEST_INITRD" "$cmdline" -name guest,debug-threads=on \
			-netdev "tap,id=n0,ifname=$NET_TAP,script=no,downscript=no,vhost=$vhost" \
			-device virtio-net-device,netdev=n0,mac=52:54:00:4b:56:02
		;;
	esac
}

# TCP between the guest and L1 over a tap (169.254.1.1/30 in L1, .2 in the
# guest): net-load's server in the guest, its clients in L1, each for
# IO_SECS, timed by L1's clock: send (L1 to the guest), recv (the guest to
# L1) and rr (1-byte round trips: p50, p99), with 1 and 2 vCPUs. The
# VMM's CPU time is read around each client.
net_runs() {
	NET_TAP=kvbench0 NET_HOST=169.254.1.1 NET_GUEST=169.254.1.2 NET_PORT=5201
	if ! tunctl -t "$NET_TAP" >/dev/null || ! ip addr add "$NET_HOST/30" dev "$NET_TAP" ||
		! ip link set "$NET_TAP" up; then
		record "kind=unavailable what=network_rows reason=cannot_make_the_tap_${NET_TAP}_(root_and_tun_needed)"
		tunctl -d "$NET_TAP" >/dev/null 2>&1
		return
	fi
	cpus_default=$CPUS
	for run in $(seq "$((RUNS < 3 ? RUNS : 3))"); do
		for CPUS in 1 2; do
			for vmm in kvmini qemu-user qemu-vhost; do
				name=net-$vmm-$CPUS-$run
				net_vmm "$vmm"
				# shellcheck disable=SC2086 # CMD is split into words on purpose
				$CMD "$CMDLINE_OPT" "$CMDLINE" </dev/null >"$work/$name.console" 2>"$work/$name.stderr" &
				pid=$!
				up=
				! wait_console "$name" '^net_listening' 180 "$pid" || up=1
				for mode in send recv rr; do
					r="status=1"
					if [ -n "$up" ]; then
						before=$(task_cpu "$pid")
						out=$(timeout "$((IO_SECS + 30))" "$NET_LOAD" "$mode" "$NET_GUEST" "$NET_PORT" "$IO_SECS" 2>&1)
						rc=$?
						after=$(task_cpu "$pid")
						echo "$out" >"$work/$name.$mode"
						r="secs=$(word "$out" secs) $(cpu_delta "$before" "$after")"
						if [ "$mode" = rr ]; then
							r="$r rounds=$(word "$out" rounds) p50us=$(word "$out" p50us) p99us=$(word "$out" p99us)"
						else
							r="$r bytes=$(word "$out" bytes) gbps=$(word "$out" gbps)"
						fi
						status=1
						[ "$rc" != 0 ] || status=0
						r="$r status=$status"
					fi
					record "kind=net vmm=$vmm kernel=stock cpus=$CPUS run=$run case=$mode $r"
					mark "PROGRESS $name $mode: $r"
				done
				wait_console "$name" '^io-bench-done' 30 "$pid"
				kill "$pid" 2>/dev/null
				wait "$pid" 2>/dev/null
				rm -f "$work/vcpu-tids.$pid"
			done
		done
	done
	CPUS=$cpus_default
	tunctl -d "$NET_TAP" >/dev/null
}

# row NAME: whether ROWS asks for that row.
row() {
	case ",$ROWS," in *",$1,"*) return 0 ;; esac
	return 1
}

record "kind=info guest_mem_mib=$MEM_MIB guest_cpus=$CPUS runs=$RUNS cmdline=$(echo "$DEFAULTS quiet" | tr ' ' '_')"
record "kind=info kvmini_version=$("$KVMINI" version | awk '{ print $NF; exit }') qemu_version=$("$QEMU" -version | awk '{ print $4; exit }')"
record "kind=info bench_cpus=$(grep -c ^processor /proc/cpuinfo) bench_kernel=$(uname -r)"
for r in boot parallel blk api exec share vsock snap blkio net; do
	! row "$r" || "${r}_runs"
done
mark "PROGRESS done"
