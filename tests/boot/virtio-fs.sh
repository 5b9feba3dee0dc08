#!/bin/sh
# virtio-fs: two --share directories, "work" (read-write) and "ro"
# (readonly=on), mounted in the guest with mount -t virtiofs (the stock
# kernel's fuse and virtiofs modules, loaded from the initramfs). What the
# guest does there (tests/boot/virtio-fs.guest) is checked here, on the
# host side of the share: a file read through it, a file written, renamed,
# hard- and soft-linked, a directory made, a file removed; files unlinked
# while open still read back; a symbolic link out of the share leads
# nowhere; a busybox tarball of 2,000 files unpacked in the share matches
# its source file for file; the read-only share refuses a write and a
# create (EROFS) and its file is unchanged; 10,000 files made and removed
# leave kvmini with no more descriptors than before, give or take a few.
# timeout: 600
. "$(dirname "$0")/../lib.sh"

# md5_of FILE: its md5 sum alone.
md5_of() {
	md5sum <"$1" | cut -d' ' -f1
}

# tree_sum DIR: md5 of the md5sum list of every file under DIR (sorted paths), as the guest makes it.
tree_sum() {
	(cd "$1" && find . -type f | sort | xargs md5sum | md5sum | cut -d' ' -f1)
}

# fd_count: descriptors the running kvmini holds.
fd_count() {
	ls "/proc/$(cat "$KVMINI_PIDFILE")/fd" | wc -l
}

S=$T/share R=$T/ro
trap 'rm -rf "$S" "$R" "$T/src" "$T/secret"' EXIT
mkdir -p "$S" "$R" "$T/src" "$T/secret" || fail "cannot make the shared directories"
head -c 262144 /dev/urandom >"$S/host.bin"
echo "still readable" >"$S/open.txt"
: >"$S/write.txt"
echo "the host's secret" >"$T/secret/flag.txt"
ln -s ../secret "$S/out"
echo "read-only content" >"$R/ro.txt"
RO_MD5=$(md5_of "$R/ro.txt")
# 2,000 small files in 20 folders, each its own content.
d=0
while [ $d -lt 20 ]; do
	mkdir "$T/src/d$d"
	f=0
	while [ $f -lt 100 ]; do
		echo "file $d/$f $d$f$d" >"$T/src/d$d/f$f"
		f=$((f + 1))
	done
	d=$((d + 1))
done
(cd "$T/src" && tar -cf "$S/tree.tar" .) || fail "cannot make tree.tar"
SRC_SUM=$(tree_sum "$T/src")

start_guest --share "path=$S,tag=work" --share "path=$R,tag=ro,readonly=on" --mem 512M \
	--cmdline KVMINI_ACTION=virtio-fs
trap 'kill -KILL "$(cat "$KVMINI_PIDFILE")" 2>/dev/null; rm -rf "$S" "$R" "$T/src" "$T/secret"' EXIT
wait_console '^fs_fds_before' 300 || {
	stop_kvmini 20
	fail "the guest never reached fs_fds_before (console ends: $(tr -d '\r' <"$CONSOLE" | tail -n 1))"
}
before=$(fd_count)
send_input '\n'
wait_console '^fs_fds_after' 300 || {
	stop_kvmini 20
	fail "the guest never reached fs_fds_after (console ends: $(tr -d '\r' <"$CONSOLE" | tail -n 1))"
}
after=$(fd_count)
send_input '\n'
wait_kvmini 60
echo "kvmini's descriptors: $before before 10,000 files, $after after"

expect_exit 0
expect_console '^virtio-fs-done'
expect_value fs_mount ok
expect_value fs_ro_mount ok
expect_value fs_host_md5 "$(md5_of "$S/host.bin")"

# What the guest made, seen here.
expect_value fs_ops ok
want=$(console_value fs_guest_md5)
[ -n "$want" ] || fail "the guest printed no fs_guest_md5"
[ ! -e "$S/guest.bin" ] || fail "guest.bin is still there after the guest renamed it"
[ -f "$S/dir/moved.bin" ] || fail "dir/moved.bin is not on the host"
[ "$(md5_of "$S/dir/moved.bin")" = "$want" ] || fail "dir/moved.bin on the host differs from what the guest wrote"
[ "$(stat -c %i "$S/hard.bin")" = "$(stat -c %i "$S/dir/moved.bin")" ] ||
	fail "hard.bin is not a hard link of dir/moved.bin on the host"
[ "$(stat -c %h "$S/dir/moved.bin")" = 2 ] || fail "dir/moved.bin has $(stat -c %h "$S/dir/moved.bin") links, not 2"
[ "$(readlink "$S/soft")" = dir/moved.bin ] || fail "soft on the host reads '$(readlink "$S/soft")', not dir/moved.bin"
expect_value fs_soft_md5 "$want"
[ ! -e "$S/gone.txt" ] || fail "gone.txt is still on the host"

expect_value fs_unlinked "still readable"
expect_value fs_unlinked_write "written after unlink"
[ ! -e "$S/open.txt" ] && [ ! -e "$S/write.txt" ] || fail "a file the guest unlinked while open is still on the host"

escape=$(console_value fs_escape)
echo "out/flag.txt in the guest: $escape"
case $escape in *secret*) fail "the guest read a file outside the share through a symbolic link" ;; esac
expect_value fs_escape_link ../secret

expect_value fs_tar_rc 0
expect_value fs_tree_files 2000
[ "$(tree_sum "$S/x")" = "$SRC_SUM" ] || fail "the tree the guest unpacked differs from its source on the host"
expect_value fs_tree_sum "$SRC_SUM"

rc=$(console_value fs_ro_write_rc) err=$(console_value fs_ro_write_err)
echo "write to the read-only share: exit $rc: $err"
[ "$rc" != 0 ] || fail "writing to ro.txt in the readonly=on share succeeded"
echo "$err" | grep -qi 'read-only' || fail "writing to ro.txt failed with '$err', not EROFS"
rc=$(console_value fs_ro_create_rc) err=$(console_value fs_ro_create_err)
echo "create in the read-only share: exit $rc: $err"
[ "$rc" != 0 ] || fail "creating new.txt in the readonly=on share succeeded"
echo "$err" | grep -qi 'read-only' || fail "creating new.txt failed with '$err', not EROFS"
[ "$(md5_of "$R/ro.txt")" = "$RO_MD5" ] || fail "ro.txt in the readonly=on share changed"
[ ! -e "$R/new.txt" ] || fail "new.txt appeared in the readonly=on share"

expect_value fs_many_made 10000
expect_value fs_many_left 0
[ ! -e "$S/many" ] || fail "many/ is still on the host"
[ "$after" -le $((before + 8)) ] ||
	fail "kvmini held $before descriptors before 10,000 files were made and removed, $after after"
