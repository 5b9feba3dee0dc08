#!/bin/sh
# virtio-net: --net tap=NAME,mac=... on a tap interface made here with
# 169.254.1.1/30. The guest's interface has that MAC, takes 169.254.1.2,
# pings 169.254.1.1, and sends 10 MiB of random bytes with nc to a listener
# here: the bytes received have the md5 the guest printed.
# Cases: default transport (PCI), --transport mmio, each with 1 and 2 vCPUs.
# Needs root and the tun driver (in L1 both are given).
# timeout: 900
. "$(dirname "$0")/../lib.sh"

# A /30 rather than all of 169.254.0.0/16, so that on a real host the test
# takes no route from anything else.
HOST_ADDR=169.254.1.1
TAP=kvtap$$
MAC=52:54:00:4b:56:01
trap 'tunctl -d "$TAP" >/dev/null 2>&1' EXIT
make_tap "$TAP" "$HOST_ADDR/30"

# net_case PORT [ARGS...]: the listener on PORT, the guest with ARGS.
net_case() {
	port=$1
	shift
	recv=$T/$CASE.received hold=$T/$CASE.hold
	trap 'rm -f "$recv"' EXIT
	# The listener's input must not end, or it would close the connection
	# before the guest has sent everything: a FIFO this shell keeps open.
	rm -f "$hold"
	mkfifo "$hold" || fail "cannot make $hold"
	nc -l -p "$port" <"$hold" >"$recv" &
	listener=$!
	exec 8>"$hold"

	boot_guest "$@" --net "tap=$TAP,mac=$MAC" \
		--cmdline "KVMINI_ACTION=virtio-net KVMINI_NET_ADDR=169.254.1.2/30 KVMINI_NET_PEER=$HOST_ADDR KVMINI_NET_PORT=$port"
	exec 8>&-
	# The guest's nc ends only after the listener has closed, so by now
	# it is gone, unless the connection never came.
	kill "$listener" 2>/dev/null
	wait "$listener"

	expect_exit 0
	expect_console '^virtio-net-done'
	expect_value net_mac "$MAC"
	case $TRANSPORT in
	pci) console_value net_dev | grep -q '^/sys/devices/pci' ||
		fail "the network interface is not a PCI device: $(console_value net_dev)" ;;
	mmio) console_value net_dev | grep -q '^/sys/devices/platform/' ||
		fail "the network interface is not a platform (MMIO) device: $(console_value net_dev)" ;;
	esac
	expect_value net_ping ok
	expect_value net_send_rc 0
	want=$(console_value net_md5)
	size=$(wc -c <"$recv")
	got=$(md5sum <"$recv" | cut -d' ' -f1)
	echo "received $size bytes, md5 $got, the guest's $want"
	[ "$size" -eq 10485760 ] || fail "received $size bytes, not 10 MiB"
	[ "$got" = "$want" ] || fail "received md5 $got, the guest sent $want"
}

pci() { TRANSPORT=pci net_case 5561; }
pci_2cpus() { TRANSPORT=pci net_case 5562 --transport pci --cpus 2; }
mmio() { TRANSPORT=mmio net_case 5563 --transport mmio; }
mmio_2cpus() { TRANSPORT=mmio net_case 5564 --transport mmio --cpus 2; }

run_case pci pci
run_case pci-2cpus pci_2cpus
run_case mmio mmio
run_case mmio-2cpus mmio_2cpus
end_cases
