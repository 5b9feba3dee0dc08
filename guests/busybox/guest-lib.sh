# Helpers for the guest halves of the boot tests (tests/boot/NAME.guest),
# the guest's counterpart of tests/lib.sh. /init sources this file (stored
# as /guest-lib.sh in the initramfs) before it runs a guest half, so every
# half has these without sourcing anything itself. busybox sh.

# md5 FILE: its md5 sum alone.
md5() {
	md5sum <"$1" | cut -d' ' -f1
}

# uptime_cs: hundredths of a second since the guest booted.
uptime_cs() {
	awk '{ printf "%d", $1 * 100 }' /proc/uptime
}

# net_up: bring up the first network interface and ping the peer. Prints
# net_if=, net_mac=, net_dev= (its device in /sys: under
# /sys/devices/pci0000:00 on PCI, /sys/devices/platform on MMIO) and
# net_ping=ok|failed. The address is KVMINI_NET_ADDR (default
# 169.254.1.2/30), the peer KVMINI_NET_PEER (default 169.254.1.1). Leaves
# the interface in ifc and the peer in peer.
net_up() {
	peer=${KVMINI_NET_PEER:-169.254.1.1}
	ifc=
	for i in /sys/class/net/*; do
		[ "${i##*/}" = lo ] || { ifc=${i##*/} && break; }
	done
	echo "net_if=$ifc"
	echo "net_mac=$(cat "/sys/class/net/$ifc/address" 2>/dev/null)"
	echo "net_dev=$(readlink -f "/sys/class/net/$ifc/device")"
	ip link set "$ifc" up
	ip addr add "${KVMINI_NET_ADDR:-169.254.1.2/30}" dev "$ifc"
	if ping -c 3 -w 30 "$peer"; then
		echo net_ping=ok
	else
		echo net_ping=failed
	fi
}
