#!/bin/sh
# api-daemon: `kvmini daemon` boots what it is told through the API.
# Cases: curl-config: before InstanceStart GET / says "Not started" and
# PATCH /vm is 400; PUT /boot-source and /machine-config (2 vCPUs, 256 MiB)
# with curl, then InstanceStart: the stock kernel reaches init with that
# configuration, GET / says Running, GET /vm/config shows it, and a second
# PUT /boot-source is 400; SendCtrlAltDel makes the guest power off
# (KVMINI_ACTION=counter traps it): exit 0. config-file: --config-file
# boots at once, its root drive puts root=/dev/vda ro after the boot
# arguments, GET /vm/config gives back the file's settings, and
# PUT /actions Stop ends kvmini at once with exit 0. stop-before-start:
# Stop before InstanceStart ends the daemon with 0 and removes the socket.
# refused-files: InstanceStart with a kernel path that ends in a symbolic
# link, then with a read-only drive that is a FIFO nobody writes to, is 400
# at once with a message naming the path and what is wrong; the daemon
# stays "Not started", ready for a fixed configuration.
# timeout: 400
. "$(dirname "$0")/../lib.sh"

curl_config() {
	start_daemon
	expect_state "Not started"
	expect_api 400 PATCH /vm '{"state": "Paused"}'
	expect_api 204 PUT /boot-source \
		"{\"kernel_image_path\": \"$GUEST_KERNEL\", \"initrd_path\": \"$GUEST_INITRD\", \"boot_args\": \"KVMINI_ACTION=counter\"}"
	expect_api 204 PUT /machine-config '{"vcpu_count": 2, "mem_size_mib": 256}'
	expect_api 200 GET /machine-config
	[ "$API_BODY" = '{"vcpu_count":2,"mem_size_mib":256,"smt":false}' ] || fail "GET /machine-config: $API_BODY"
	expect_api 204 PUT /actions '{"action_type": "InstanceStart"}'
	wait_console '^COUNTER 5$' 200 || fail "the guest never counted to 5 ($(head -n 1 "$STDERR"))"
	expect_value nproc 2
	expect_state Running
	expect_api 200 GET /vm/config
	echo "$API_BODY" | grep -q '"machine-config":{"vcpu_count":2,"mem_size_mib":256' ||
		fail "GET /vm/config: $API_BODY"
	expect_api 400 PUT /boot-source "{\"kernel_image_path\": \"$GUEST_KERNEL\"}"
	expect_api 400 PUT /actions '{"action_type": "InstanceStart"}'
	expect_api 204 PUT /actions '{"action_type": "SendCtrlAltDel"}'
	wait_kvmini 60
	expect_exit 0
	expect_console '^COUNTER-CTRL-ALT-DEL'
	[ ! -e "$API_SOCK" ] || fail "the socket file is still there after kvmini ended"
}

config_file() {
	truncate -s 1M "$T/root.img"
	cat >"$T/vm.json" <<EOF2
{
  "boot-source": {
    "kernel_image_path": "$GUEST_KERNEL",
    "initrd_path": "$GUEST_INITRD",
    "boot_args": "KVMINI_ACTION=counter"
  },
  "machine-config": { "vcpu_count": 1, "mem_size_mib": 384 },
  "drives": [
    { "drive_id": "root", "path_on_host": "$T/root.img", "is_root_device": true, "is_read_only": true }
  ],
  "network-interfaces": []
}
EOF2
	start_daemon --config-file "$T/vm.json"
	wait_console '^COUNTER 5$' 200 || fail "the guest never counted to 5 ($(head -n 1 "$STDERR"))"
	# The root drive's parameter follows the boot arguments (the initramfs is still the root the guest uses).
	expect_console 'Kernel command line: .*KVMINI_ACTION=counter root=/dev/vda ro'
	expect_api 200 GET /vm/config
	echo "$API_BODY" | grep -q "\"kernel_image_path\":\"$GUEST_KERNEL\"" || fail "GET /vm/config: $API_BODY"
	echo "$API_BODY" | grep -q '"mem_size_mib":384' || fail "GET /vm/config: $API_BODY"
	expect_api 204 PUT /actions '{"action_type": "Stop"}'
	wait_kvmini 10
	expect_exit 0
}

stop_before_start() {
	start_daemon
	expect_api 204 PUT /actions '{"action_type": "Stop"}'
	wait_kvmini 10
	expect_exit 0
	[ ! -e "$API_SOCK" ] || fail "the socket file is still there after kvmini ended"
}

refused_files() {
	ln -s "$GUEST_KERNEL" "$T/vmlinuz-link"
	mkfifo "$T/drive-fifo"
	start_daemon
	expect_api 204 PUT /boot-source "{\"kernel_image_path\": \"$T/vmlinuz-link\", \"initrd_path\": \"$GUEST_INITRD\"}"
	expect_api 400 PUT /actions '{"action_type": "InstanceStart"}'
	echo "$API_BODY" | grep -q "kernel '$T/vmlinuz-link' is a symbolic link" ||
		fail "InstanceStart with a symbolic link as the kernel: $API_BODY"
	expect_api 204 PUT /boot-source "{\"kernel_image_path\": \"$GUEST_KERNEL\", \"initrd_path\": \"$GUEST_INITRD\"}"
	expect_api 204 PUT /drives/fifo \
		"{\"drive_id\": \"fifo\", \"path_on_host\": \"$T/drive-fifo\", \"is_root_device\": false, \"is_read_only\": true}"
	expect_api 400 PUT /actions '{"action_type": "InstanceStart"}'
	echo "$API_BODY" | grep -q "a FIFO, not a regular file or a block device" ||
		fail "InstanceStart with a FIFO as a drive: $API_BODY"
	expect_state "Not started"
	expect_api 204 PUT /actions '{"action_type": "Stop"}'
	wait_kvmini 10
	expect_exit 0
}

run_case curl-config curl_config
run_case config-file config_file
run_case stop-before-start stop_before_start
run_case refused-files refused_files
end_cases
