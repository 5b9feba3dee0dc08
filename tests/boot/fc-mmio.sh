#!/bin/sh
# fc-mmio: a guest started Firecracker's way, `kvmini daemon --config-file`
# with Firecracker's fields (smt, track_dirty_pages, cpu_template "None",
# null sections, a drive with an empty rate limiter), boots with Firecracker's
# clients' kernel arguments. Cases: pci-off (boot_args pci=off, as firectl)
# and pci-acpi-off (pci=off acpi=off, as Kata: the vCPUs and the IOAPIC then
# come from the MP table kvmini daemon writes beside ACPI). Each: the drive's
# virtio-mmio window is announced on the kernel command line
# (virtio_mmio.device=512@0xd0000000:16), the guest has 2 vCPUs, and smt
# makes them threads of one core: cpu0's thread_siblings_list is 0-1. With
# ACPI the window is in the DSDT too (one LNRO0005 device) and the guest
# reads the drive's first bytes over virtio-mmio; with acpi=off there is no
# DSDT, and the bench's guest kernel (Debian's, built without
# VIRTIO_MMIO_CMDLINE_DEVICES) has no way to find the window: reading it
# there needs a kernel with that option (guests/kernel/minimal.config).
# timeout: 300
. "$(dirname "$0")/../lib.sh"

# fc_boot BOOT_ARGS LNRO0005_DEVICES FIRST_BYTES: the config file, the boot,
# the checks (FIRST_BYTES: what the guest reads from /dev/vda, "" for no
# disk), then Stop.
fc_boot() {
	img=$T/$CASE.root.img
	trap 'rm -f "$img"' EXIT
	truncate -s 1M "$img" || fail "cannot make $img"
	printf 'KVMINI-FC-ROOT' | dd of="$img" conv=notrunc 2>/dev/null || fail "cannot write $img"
	cat >"$T/$CASE.json" <<EOF2
{
  "boot-source": {
    "kernel_image_path": "$GUEST_KERNEL",
    "initrd_path": "$GUEST_INITRD",
    "boot_args": "$1 KVMINI_ACTION=fc-mmio"
  },
  "machine-config": { "vcpu_count": 2, "mem_size_mib": 256, "smt": true, "track_dirty_pages": true,
                      "cpu_template": "None", "huge_pages": null },
  "drives": [
    { "drive_id": "rootfs", "path_on_host": "$img", "is_root_device": true, "is_read_only": true,
      "partuuid": null, "cache_type": "Unsafe", "io_engine": "Sync", "rate_limiter": {} }
  ],
  "network-interfaces": null,
  "logger": null,
  "metrics": null
}
EOF2
	start_daemon --config-file "$T/$CASE.json"
	wait_console '^fc-mmio-done' 200 || fail "the guest never finished ($(head -n 1 "$STDERR"))"
	expect_console "Kernel command line: .*$1 KVMINI_ACTION=fc-mmio root=/dev/vda ro"
	expect_console 'Kernel command line: .*virtio_mmio.device=512@0xd0000000:16'
	expect_value acpi_mmio "$2"
	expect_value vda "$3"
	expect_value nproc 2
	expect_value siblings 0-1
	! tr -d '\r' <"$CONSOLE" | grep -Eiq 'virtio.mmio.*(error|failed|busy)' ||
		fail "virtio-mmio complained: $(tr -d '\r' <"$CONSOLE" | grep -Ei 'virtio.mmio.*(error|failed|busy)' | head -n 1)"
	expect_api 200 GET /vm/config
	echo "$API_BODY" | grep -q '"smt":true,"track_dirty_pages":true' || fail "GET /vm/config: $API_BODY"
	# The guest cannot power off with acpi=off; the API ends it either way.
	expect_api 204 PUT /actions '{"action_type": "Stop"}'
	wait_kvmini 10
	expect_exit 0
}

pci_off() {
	fc_boot "pci=off" 1 KVMINI-FC-ROOT
}

pci_acpi_off() {
	fc_boot "pci=off acpi=off" 0 ""
}

run_case pci-off pci_off
run_case pci-acpi-off pci_acpi_off
end_cases
