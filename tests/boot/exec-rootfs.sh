#!/bin/sh
# A plain directory as the guest's root: a small tree with the static
# busybox and a script as its init, shared with virtio-fs.
# Cases: run, kvmini run --rootfs DIR,readonly=on --init /init.sh boots it
# (the script prints from inside, finds its root read-only, powers off:
# exit 0); exec, kvmini exec --rootfs DIR runs a command in that tree, from
# the matching directory inside it, with its status.
# timeout: 400
. "$(dirname "$0")/../lib.sh"

make_tree() {
	R=$T/rootfs
	mkdir -p "$R/bin" "$R/sbin" "$R/proc" "$R/sys" "$R/dev" "$R/tmp" "$R/run" "$R/var/tmp" "$R/work" ||
		fail "cannot make the tree"
	cp /bin/busybox "$R/bin/busybox" || fail "cannot copy busybox"
	for applet in sh echo cat touch poweroff ls; do
		ln -sf busybox "$R/bin/$applet"
	done
	echo tree-marker >"$R/marker"
	cat >"$R/init.sh" <<'SCRIPT'
#!/bin/sh
echo "ROOTFS-UP $(cat /marker) pid=$$"
if touch /written 2>/dev/null; then echo ROOTFS-WRITABLE; else echo ROOTFS-READONLY; fi
poweroff -f
SCRIPT
	chmod 0755 "$R/init.sh"
}

run_rootfs() {
	make_tree
	run_kvmini run --kernel "$GUEST_KERNEL" --rootfs "$R,readonly=on" --init /init.sh
	expect_exit 0
	expect_console '^ROOTFS-UP tree-marker pid=1$'
	expect_console '^ROOTFS-READONLY$'
	[ ! -e "$R/written" ] || fail "the guest wrote to its read-only root"
}

exec_rootfs() {
	make_tree
	cd "$R/work" || fail "cannot enter $R/work"
	STDOUT="$T/$CASE.stdout"
	STDERR="$T/$CASE.stderr"
	echo "+ kvmini exec --kernel $GUEST_KERNEL --rootfs $R -- /bin/sh -c ..."
	"$KVMINI" exec --kernel "$GUEST_KERNEL" --rootfs "$R" -- /bin/sh -c 'echo "$(pwd) $(cat /marker)"; exit 5' \
		</dev/null >"$STDOUT" 2>"$STDERR"
	EXIT=$?
	echo "  exit $EXIT; stderr: $(head -n 3 "$STDERR")"
	expect_exit 5
	[ "$(cat "$STDOUT")" = "/work tree-marker" ] || fail "stdout is '$(cat "$STDOUT")', expected '/work tree-marker'"
	[ ! -s "$STDERR" ] || fail "stderr is not empty: $(head -n 1 "$STDERR")"
}

run_case run run_rootfs
run_case exec exec_rootfs
end_cases
