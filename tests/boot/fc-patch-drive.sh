#!/bin/sh
# fc-patch-drive: Firecracker's hot swap, as Kata's disk hot-plug does it.
# A guest started by `kvmini daemon --transport pci --config-file` reads
# its drive "data" (on PCI: the bench's Debian guest kernel cannot find
# virtio-mmio windows from the command line; the swap is the same on both
# transports, the interrupt its own); PATCH /drives/data with a file of
# another size and contents: the guest is told through a configuration
# change (its kernel logs the new size), sees the new size in
# /sys/block/vda/size and reads the new contents. A PATCH naming a file that
# is not there is 400 and changes nothing; GET /vm/config shows the new path.
# timeout: 240
. "$(dirname "$0")/../lib.sh"

before=$T/before.img
after=$T/after.img
trap 'rm -f "$before" "$after"' EXIT
echo kvmini-patch-before >"$before" || fail "cannot make $before"
truncate -s 1M "$before" || fail "cannot make $before"
echo kvmini-patch-after >"$after" || fail "cannot make $after"
truncate -s 2M "$after" || fail "cannot make $after"
cat >"$T/vm.json" <<EOF2
{
  "boot-source": { "kernel_image_path": "$GUEST_KERNEL", "initrd_path": "$GUEST_INITRD",
                   "boot_args": "KVMINI_ACTION=fc-patch-drive" },
  "machine-config": { "vcpu_count": 1, "mem_size_mib": 256 },
  "drives": [ { "drive_id": "data", "path_on_host": "$before", "is_root_device": false, "is_read_only": false } ]
}
EOF2
start_daemon --transport pci --config-file "$T/vm.json"
wait_console '^patch-ready' 200 || fail "the guest never read its drive ($(head -n 1 "$STDERR"))"
expect_value before_size 2048
expect_value before_head kvmini-patch-before
expect_api 400 PATCH /drives/data "{\"drive_id\": \"data\", \"path_on_host\": \"$T/missing.img\"}"
expect_api 400 PATCH /drives/data '{"drive_id": "data"}'
expect_api 204 PATCH /drives/data "{\"drive_id\": \"data\", \"path_on_host\": \"$after\"}"
expect_api 200 GET /vm/config
echo "$API_BODY" | grep -q "\"path_on_host\":\"$after\"" || fail "GET /vm/config: $API_BODY"
wait_console '^fc-patch-drive-done' 60 || fail "the guest never saw the new drive ($(head -n 1 "$STDERR"))"
expect_value after_size 4096
expect_value after_head kvmini-patch-after
expect_console 'dmesg: .*vda.*new size: 4096'
wait_kvmini 30
expect_exit 0
