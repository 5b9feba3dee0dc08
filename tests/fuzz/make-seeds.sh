#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Writes the seed inputs of the device fuzz targets (tests/fuzz/corpus-{virtio,loader,legacy,share,snapshot,symbols,vnet_hdr}/): each is a
# short program a well-behaved driver or kernel would give, for libFuzzer to mutate. The input formats are
# described at the top of each tests/fuzz/fuzz_*.c. Run from the top of the tree after changing a format:
#   tests/fuzz/make-seeds.sh
set -eu
cd "$(dirname "$0")"

# Little-endian bytes, as printf escapes.
b() { for v in "$@"; do printf "\\\\%03o" $((v & 255)); done; }
le16() { b $(($1)) $(($1 >> 8)); }
le32() { le16 $(($1)); le16 $(($1 >> 16)); }
le64() { le32 $(($1)); le32 0; }
emit() { printf "$(cat)" > "$1"; }

# --- virtio: selector, then ops (op byte, size byte, arguments) ---
# One descriptor: address, length, flags (1 NEXT, 2 WRITE), next.
desc() { le64 "$1"; le32 "$2"; le16 "$3"; le16 "$4"; }
# Writes `len` bytes at gpa (OP_MEM_WRITE).
mem() { b 4 0; le16 "$1"; b "$2"; }
# Queue q's avail ring at `avail` offers head 0 (OP_MEM_WRITE of flags, idx 1, ring[0] 0).
offer() { mem "$1" 6; le16 0; le16 1; le16 0; }
kick() { b 5 0 "$1"; }
# OP_DRIVER_SETUP: every offered feature, queue q at 0x1000 + 0x3000 q (descriptors, avail, used), size 8.
setup() {
	b 7 0; le32 0xffffffff
	q=0; while [ $q -lt "$1" ]; do le16 8; le16 $((0x1000 + 0x3000 * q)); le16 $((0x2000 + 0x3000 * q)); le16 $((0x3000 + 0x3000 * q)); q=$((q + 1)); done
}
hello() { b 104 101 108 108 111; }

mkdir -p corpus-virtio
for transport in 0 4; do
	name=$([ $transport = 0 ] && echo pci || echo mmio)
	# blk: read sector 0 (header, 512-byte buffer, status byte).
	{ b $((0 + transport)); setup 1
	  mem 0x1000 48; desc 0x8000 16 1 1; desc 0x9000 512 3 2; desc 0x9400 1 2 0
	  mem 0x8000 16; le32 0; le32 0; le64 0
	  offer 0x2000; kick 0; } | emit corpus-virtio/blk-read-$name
	# blk under an ops limit (selector bits 6-7: 1): the same read offered twice, the second one waits.
	{ b $((64 + transport)); setup 1
	  mem 0x1000 48; desc 0x8000 16 1 1; desc 0x9000 512 3 2; desc 0x9400 1 2 0
	  mem 0x8000 16; le32 0; le32 0; le64 0
	  mem 0x2000 8; le16 0; le16 2; le16 0; le16 0; kick 0; kick 0; } | emit corpus-virtio/blk-read-limited-$name
	# net: a frame to send on the transmit queue (12-byte header and 60 bytes), a receive buffer, a frame in.
	{ b $((1 + transport)); setup 2
	  mem 0x1000 16; desc 0x8000 1526 2 0; offer 0x2000
	  mem 0x4000 16; desc 0x9000 72 0 0; offer 0x5000; kick 1
	  b 6 0 72; i=0; while [ $i -lt 72 ]; do b $i; i=$((i + 1)); done; } | emit corpus-virtio/net-tx-rx-$name
	# console: "hello" out, a receive buffer, "hello" in.
	{ b $((2 + transport)); setup 2
	  mem 0x1000 16; desc 0x8000 64 2 0; offer 0x2000
	  mem 0x4000 16; desc 0x9000 5 0 0; offer 0x5000; mem 0x9000 5; hello; kick 1
	  b 6 0 5; hello; } | emit corpus-virtio/console-io-$name
	# rng: one 64-byte buffer to fill.
	{ b $((3 + transport)); setup 1
	  mem 0x1000 16; desc 0x8000 64 2 0; offer 0x2000; kick 0; } | emit corpus-virtio/rng-fill-$name
	# rng under a 512-byte bandwidth limit (selector bits 6-7: 2): a 4 KiB request, served into debt, then another.
	{ b $((128 + 3 + transport)); setup 1
	  mem 0x1000 16; desc 0x8000 4096 2 0
	  mem 0x2000 8; le16 0; le16 2; le16 0; le16 0; kick 0; kick 0; } | emit corpus-virtio/rng-fill-limited-$name
	# fs: on the request queue (1), INIT (a 40-byte fuse_in_header, then fuse_init_in: 7.38, flags MAX_PAGES)
	# with 256 bytes for the reply; then the same descriptors carry LOOKUP "file" from the root, offered as the
	# second chain; last a FORGET of it (node 2) alone on the hiprio queue (0).
	{ b $((16 + transport)); setup 2
	  mem 0x4000 32; desc 0x8000 104 1 1; desc 0x9000 256 2 0
	  mem 0x8000 104; le32 104; le32 26; le64 1; le64 0; le32 0; le32 0; le32 0; le32 0
	  le32 7; le32 38; le32 0; le32 0x400000; le32 0; i=0; while [ $i -lt 11 ]; do le32 0; i=$((i + 1)); done
	  offer 0x5000; kick 1
	  mem 0x4000 16; desc 0x8000 45 1 1
	  mem 0x8000 45; le32 45; le32 1; le64 2; le64 1; le32 0; le32 0; le32 0; le32 0; b 102 105 108 101 0
	  mem 0x5000 8; le16 0; le16 2; le16 0; le16 0; kick 1
	  mem 0x1000 16; desc 0xa000 48 0 0
	  mem 0xa000 48; le32 48; le32 2; le64 3; le64 2; le32 0; le32 0; le32 0; le32 0; le64 1
	  offer 0x2000; kick 0; } | emit corpus-virtio/fs-init-lookup-forget-$name
	# balloon (with statistics): inflate frames 12, 13 and 16 (past RAM), deflate 12 and 13, a statistics
	# buffer (free and total memory), then the API's GET /balloon/statistics, PATCH /balloon and GET /balloon.
	{ b $((32 + transport)); setup 3
	  mem 0x1000 16; desc 0xa000 12 0 0; mem 0xa000 12; le32 12; le32 13; le32 16; offer 0x2000; kick 0
	  mem 0x4000 16; desc 0xa000 8 0 0; offer 0x5000; kick 1
	  mem 0x7000 16; desc 0xb000 20 0 0; mem 0xb000 20; le16 4; le64 1000; le16 5; le64 2000; offer 0x8000; kick 2
	  b 6 0 1 0; b 6 0 2 0 0; b 6 0 0; } | emit corpus-virtio/balloon-$name
	# vsock: a receive buffer; a REQUEST from guest port 1000 (CID 3) to the harness's host listener on port 5
	# (virtio_vsock_hdr: cids, ports, len, type 1 stream, op 1, flags, buf_alloc, fwd_cnt); a host client's
	# "CONNECT 7\n" on the device's socket.
	{ b $((48 + transport)); setup 3
	  mem 0x1000 16; desc 0xa000 4140 2 0; offer 0x2000; kick 0
	  mem 0x4000 16; desc 0xc000 44 0 0
	  mem 0xc000 44; le64 3; le64 2; le32 1000; le32 5; le32 0; le16 1; le16 1; le32 0; le32 65536; le32 0
	  offer 0x5000; kick 1
	  b 6 0 10; printf 'CONNECT 7\\n'; } | emit corpus-virtio/vsock-connect-$name
done

# --- loader: initrd size (4 bytes), flags (bit 0 ACPI, bit 1 --cmdline), the kernel file ---
# A bzImage with a 64-bit, relocatable boot protocol 2.15 header: 4 setup sectors, 512 bytes of "kernel",
# decompressing within 1-5 MiB. put OFFSET BYTES... patches it.
bz=$(mktemp)
trap 'rm -f "$bz"' EXIT
head -c $((5 * 512 + 512)) /dev/zero > "$bz"
put() { off=$1; shift; printf "$("$@")" | dd of="$bz" bs=1 seek=$((off)) conv=notrunc status=none; }
put 0x1f1 b 4
put 0x1f4 le32 $((512 / 16))
put 0x1fe le16 0xaa55
put 0x200 b 0xeb $((0x26c - 0x202))
put 0x202 b 72 100 114 83 # "HdrS"
put 0x206 le16 0x020f
put 0x211 b 1
put 0x22c le32 0x7fffffff
put 0x230 le32 0x200000
put 0x234 b 1
put 0x236 le16 3
put 0x238 le32 2047
put 0x258 le64 0x100000
put 0x260 le32 0x400000
mkdir -p corpus-loader
{ le32 4096; b 1; } | emit corpus-loader/bzimage-acpi && cat "$bz" >> corpus-loader/bzimage-acpi
{ le32 0; b 2; } | emit corpus-loader/bzimage-mptable-cmdline && cat "$bz" >> corpus-loader/bzimage-mptable-cmdline
# A PVH ELF: the tiny echo guest (make all builds it).
pvh=../../build/guests/echo.elf
if [ -f $pvh ]; then
	{ le32 8192; b 3; } | emit corpus-loader/pvh-acpi-cmdline && cat $pvh >> corpus-loader/pvh-acpi-cmdline
else
	echo "make-seeds.sh: no $pvh (make all first); corpus-loader/pvh-* left as they are" >&2
fi

# --- legacy: 3-byte ops: op (0 write, 1 read, 2 console input, 3 Ctrl-Alt-Del; +4 for the i8042), port, value ---
uart_w() { b 0 "$1" "$2"; }
uart_r() { b 1 "$1" 0; }
kbd_cmd() { b 4 1 "$1"; }
kbd_data() { b 4 0 "$1"; }
kbd_read() { b 5 0 0; }
mkdir -p corpus-legacy
# What Linux's 8250 driver does: 115200 8N1, FIFO on, interrupts on, a byte out, then reads back input.
{ uart_w 3 0x80; uart_w 0 1; uart_w 1 0; uart_w 3 3; uart_w 2 0xc7; uart_w 4 0x0b; uart_w 1 1
  uart_w 0 104; uart_r 5; uart_r 2; b 2 0 2 97 98; uart_r 5; uart_r 0; uart_r 0; uart_w 4 0x10; uart_w 0 120
  uart_r 0; } | emit corpus-legacy/uart-probe
# What Linux's i8042 and atkbd drivers do: self test, CTR read and write, keyboard reset, ID, LEDs, then reboot=k.
{ kbd_cmd 0xaa; kbd_read; kbd_cmd 0x20; kbd_read; kbd_cmd 0x60; kbd_data 0x47; kbd_data 0xff; kbd_read; kbd_read
  kbd_data 0xf2; kbd_read; kbd_read; kbd_read; kbd_data 0xed; kbd_data 7; kbd_read; b 3 0 0; kbd_read; kbd_read
  kbd_cmd 0xfe; } | emit corpus-legacy/i8042-probe

# --- share: a flags byte (0: INIT first), then records: le16 length, a flags byte (0), a FUSE request ---
# req OPCODE NODEID: a record of the request whose arguments (as printf escapes, 4 characters a byte) come on stdin;
# the target sets the header's len field.
req() {
	body="$(le32 0; le32 "$1"; le64 7; le64 "$2"; le32 0; le32 0; le32 0; le32 0)$(cat)"
	le16 $((${#body} / 4)); b 0; printf '%s' "$body"
}
name() { b $(printf '%s' "$1" | od -An -tu1) 0; }
# fh, offset, size, read_flags, lock_owner, flags, padding: fuse_read_in (and fuse_write_in's first fields).
rw() { le64 "$1"; le64 "$2"; le32 "$3"; le32 0; le64 0; le32 0; le32 0; }
fh() { le64 "$1"; le32 0; le32 0; le64 0; }
mkdir -p corpus-share
# LOOKUP file (node 2), OPEN it (fh 1), READ, LSEEK SEEK_HOLE, FLUSH, FSYNC, RELEASE, GETATTR, STATFS, FORGET.
{ b 0; name file | req 1 1; { le32 0; le32 0; } | req 14 2; rw 1 0 4096 | req 15 2
  { le64 1; le64 0; le32 4; le32 0; } | req 46 2; { le64 1; le32 0; le32 0; le64 0; } | req 25 2
  { le64 1; le32 0; le32 0; } | req 20 2; fh 1 | req 18 2; { le32 0; le32 0; le64 0; } | req 3 2
  : | req 17 1; le64 1 | req 2 2; } | emit corpus-share/read-file
# OPENDIR the root (fh 1), READDIRPLUS, READDIR from the start, RELEASEDIR, BATCH_FORGET of what was looked up.
{ b 0; { le32 0; le32 0; } | req 27 1; rw 1 0 4096 | req 44 1; rw 1 0 4096 | req 28 1; fh 1 | req 29 1
  { le32 3; le32 0; le64 2; le64 1; le64 3; le64 1; le64 4; le64 1; } | req 42 0; } | emit corpus-share/list-root
# CREATE new (node 2, fh 1), WRITE, SETATTR size, FALLOCATE, MKDIR sub (node 3), RENAME2 new -> sub/moved
# (NOREPLACE), LINK it back as hard, SYMLINK sub/soft -> ../file, UNLINK, RMDIR, DESTROY.
{ b 0; { le32 0x42; le32 0644; le32 0; le32 0; name new; } | req 35 1
  { rw 1 0 5; b 104 101 108 108 111; } | req 16 2
  { le32 8; le32 0; le64 0; le64 3; le64 0; le64 0; le64 0; le64 0; le32 0; le32 0; le32 0; le32 0; le32 0
    le32 0; le32 0; le32 0; } | req 4 2
  { le64 1; le64 0; le64 8192; le32 0; le32 0; } | req 43 2; { le32 0755; le32 0; name sub; } | req 9 1
  { le64 3; le32 1; le32 0; name new; name moved; } | req 45 1; { le64 2; name hard; } | req 13 1
  { name soft; name ../file; } | req 6 3; fh 1 | req 18 2; name hard | req 10 1; name moved | req 10 3
  name soft | req 10 3; name sub | req 11 1; : | req 38 0; } | emit corpus-share/change-tree
# The links out of the share: LOOKUP root and out, READLINK, LOOKUP through them, OPEN them, CREATE over out.
{ b 0; name root | req 1 1; name out | req 1 1; : | req 5 2; name etc | req 1 2; name secret | req 1 3
  { le32 0; le32 0; } | req 14 2; { le32 0; le32 0; } | req 27 3
  { le32 0x42; le32 0644; le32 0; le32 0; name out; } | req 35 1; } | emit corpus-share/escape

# --- snapshot: a selector (1: the target appends the CRC32C), then a file without its CRC ---
mkdir -p corpus-snapshot
# Header: magic KVMINISN, version 1, flags 0, total length, section count, reserved.
snap_header() { b 75 86 77 73 78 73 83 78; le32 1; le32 0; le64 "$1"; le32 "$2"; le32 0; }
# A table entry: kind, version, index, offset, length.
section() { le16 "$1"; le16 "$2"; le32 "$3"; le64 "$4"; le64 "$5"; }
# The compatibility sections (leaf 7.0 EBX bit 5, MSR 0x174, a 4 KiB XSAVE area), two vCPUs and the devices.
{ b 1; snap_header 228 6
  section 1 1 0 176 28 ; section 2 1 0 204 4; section 3 1 0 208 4
  section 16 1 0 212 4; section 16 1 1 216 4; section 20 1 0 220 4
  le32 7; le32 0; le32 0; le32 0; le32 0x20; le32 0; le32 0
  le32 0x174; le32 4096; b 118 99 112 48; b 118 99 112 49; b 100 101 118 115; } | emit corpus-snapshot/two-vcpus
# An empty file: the header and nothing else.
{ b 1; snap_header 36 0; } | emit corpus-snapshot/empty

# --- symbols: a System.map, and an ELF object with a .symtab (code, data, an undefined symbol) ---
mkdir -p corpus-symbols
printf 'ffffffff81000000 T _stext\nffffffff81001000 t do_one_initcall\nffffffff81002000 D jiffies\nffffffff81003000 T _etext\n' \
	> corpus-symbols/system-map
printf 'void do_idle(void) { }\nint jiffies;\nextern void schedule(void);\nvoid cpu_idle(void) { schedule(); }\n' |
	${CC:-cc} -O2 -c -x c -o corpus-symbols/tiny.o -

# --- vnet_hdr: a header (flags, gso_type, hdr_len, gso_size, csum_start, csum_offset, num_buffers), the features
# (low word; high word's top byte: the receive cap less 1), the frame length, then receive chain sizes ---
mkdir -p corpus-vnet_hdr
vnet_hdr() { b "$1" "$2"; le16 "$3"; le16 "$4"; le16 "$5"; le16 "$6"; le16 "$7"; }
# CSUM, HOST_TSO4/6, HOST_ECN, MRG_RXBUF; a cap of 64.
features() { le32 0xb801; le32 0x3f000000; }
# A 64 KB TCP/IPv4 segment to split, received over 4 KiB pages.
{ vnet_hdr 1 1 54 1448 34 16 0; features; le32 65000
  i=0; while [ $i -lt 17 ]; do le32 4096; i=$((i + 1)); done; } | emit corpus-vnet_hdr/tso4
# A single frame with a partial UDP checksum, into one large buffer.
{ vnet_hdr 1 0 0 0 34 6 0; features; le32 1514; le32 65562; } | emit corpus-vnet_hdr/csum
