#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# report.sh: turns the raw results of `make bench` into a report.
#
#   bench/report.sh RAW OUTDIR
#
# RAW holds one record per line, space-separated key=value pairs (-1: not
# measured, lines starting with # are comments); kinds info, boot, parallel,
# blk, api, exec, share, vsock, snap, blkio, net and unavailable. Writes OUTDIR/latest.md (also printed on
# stdout), OUTDIR/latest.json and, when gnuplot is installed,
# OUTDIR/latest.png. Figures that could not be measured read n/a (null in
# JSON); rows with nothing measured yet read "not yet available".
#
# Exit status: 0 report written, 1 RAW has no benchmark records (a "no data"
# report is still written), 2 usage error, unreadable RAW or unwritable OUTDIR.

set -uo pipefail

prog=report.sh
die() {
	printf '%s: %s\n' "$prog" "$1" >&2
	exit 2
}

[ $# -eq 2 ] || die "usage: bench/report.sh RAW OUTDIR"
raw=$1
out=$2
[ -e "$raw" ] || die "$raw: no such file"
if [ ! -f "$raw" ] || [ ! -r "$raw" ]; then
	die "$raw: not a readable file"
fi
mkdir -p -- "$out" 2>/dev/null || die "$out: cannot create the output directory"
tmp=$(mktemp -d "$out/.report.XXXXXX" 2>/dev/null) || die "$out: cannot write there"
trap 'rm -rf -- "$tmp"' EXIT

# The chart needs gnuplot; pngcairo draws nicer than the libgd png terminal.
term=
if command -v gnuplot >/dev/null 2>&1; then
	if gnuplot -e 'set terminal pngcairo' </dev/null >/dev/null 2>&1; then
		term=pngcairo
	elif gnuplot -e 'set terminal png' </dev/null >/dev/null 2>&1; then
		term=png
	fi
fi

chart_line='![Median boot time and VMM memory per VMM](latest.png)'

# One awk pass reads RAW and writes latest.md, latest.json and, when there
# is data, the chart's data file and gnuplot script. Written for mawk (no
# gawk extensions): Debian's default awk.
read -r -d '' awk_prog <<'AWK'
function addk(k) { if (!(k in kseen)) { kseen[k] = 1; kord[++nk] = k } }
function addv(v) { if (!(v in vseen)) { vseen[v] = 1; vord[++nv] = v } }
function fig(key, label, kind, konly) {
	fkey[++nf] = key; flab[key] = label; fkind[key] = kind; fonly[key] = konly
}
function isnum(s) { return s ~ /^-?[0-9]+(\.[0-9]+)?$/ }
function measured(s) { return isnum(s) && s + 0 >= 0 }
function field(name) { return (name in F) ? F[name] : "" }

# Display width: the only multi-byte characters printed are these.
function dw(s) { gsub(/–|—/, "-", s); gsub(/µ/, "u", s); return length(s) }
function pad(s, w, right,   n) {
	n = w - dw(s)
	while (n-- > 0) s = right ? " " s : s " "
	return s
}

# Numbers for people: ms and counts as integers (one decimal if a median
# of two falls between), KiB as MiB with two decimals, MB/s one decimal.
function fmt(x, kind) {
	if (kind == "mib") return sprintf("%.2f", x / 1024)
	if (kind == "mbs") return sprintf("%.1f", x)
	if (kind == "s") return sprintf("%.2f", x)
	if (x == int(x)) return sprintf("%.0f", x)
	return sprintf("%.1f", x)
}
# Numbers for JSON: integers exact, others to 4 decimals.
function jn(x,   s) {
	if (x == int(x)) return sprintf("%.0f", x)
	s = sprintf("%.4f", x); sub(/0+$/, "", s); return s
}
function jraw(s) { return measured(s) ? jn(s + 0) : "null" }
function jint(s) { return isnum(s) ? jn(s + 0) : "null" }
function js(s,   i, c, o) {
	o = ""
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (c == "\"" || c == "\\") o = o "\\" c
		else if (c == "\t") o = o "\\t"
		else o = o c
	}
	return "\"" o "\""
}

function store(K, x,   c) { c = ++cnt[K]; val[K, c] = x }
function stats(K,   n, i, j, t, a) {
	n = cnt[K]
	for (i = 1; i <= n; i++) a[i] = val[K, i]
	for (i = 2; i <= n; i++) {
		t = a[i]
		for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]
		a[j + 1] = t
	}
	MED[K] = (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	MIN[K] = a[1]; MAX[K] = a[n]
}
# "median (min–max)", or one value when all runs agree.
function rng(K, kind) {
	if (MIN[K] == MAX[K]) return fmt(MED[K], kind)
	return fmt(MED[K], kind) " (" fmt(MIN[K], kind) "–" fmt(MAX[K], kind) ")"
}
function ratio(K1, K2) {
	if (!(K1 in MED) || !(K2 in MED) || MED[K1] == 0 || MED[K2] == 0) return "n/a"
	return sprintf("%.2f", MED[K1] / MED[K2])
}
function jratio(K1, K2,   r) { r = ratio(K1, K2); return r == "n/a" ? "null" : r + 0 }
function jstat(K) {
	if (!(K in MED)) return "\"median\": null, \"min\": null, \"max\": null"
	return "\"median\": " jn(MED[K]) ", \"min\": " jn(MIN[K]) ", \"max\": " jn(MAX[K])
}
function short(v) { sub(/^qemu-/, "", v); return v }

# The next table's VMM columns TV[1..TN] and the two peers TB1, TB2 of its
# ratio columns: the boot VMMs, or those of the shared-directory rows (with
# a goal column, TGOAL).
function tcols_boot(   c) {
	delete TV; TN = nv; TB1 = B1; TB2 = B2; TGOAL = 0
	for (c = 1; c <= nv; c++) TV[c] = vord[c]
}
function tcols_share(   c) {
	delete TV; TN = ns; TB1 = S1; TB2 = S2; TGOAL = 1
	for (c = 1; c <= ns; c++) TV[c] = sord[c]
}
# ... or those of the vsock rows.
function tcols_vsock(   c) {
	delete TV; TN = nw; TB1 = W1; TB2 = W2; TGOAL = 1
	for (c = 1; c <= nw; c++) TV[c] = wv[c]
}
# Markdown tables: T[row, col], row 0 the header; first column left-aligned.
function tstart(   c) {
	delete T; TR = 0
	T[0, 1] = "figure"
	for (c = 1; c <= TN; c++) T[0, c + 1] = TV[c]
	T[0, TN + 2] = "kvmini/" short(TB1); T[0, TN + 3] = "kvmini/" short(TB2)
	TC = TN + 3
	if (TGOAL) T[0, ++TC] = "goal, kvmini/" short(TB1)
}
# Whether any VMM has a record (k, vmm) in ARR: a kernel a kind of
# measurement never ran with gets no rows (it was not planned, not missed).
function any_vmm(arr, k,   c) {
	for (c = 1; c <= nv; c++) if ((k, vord[c]) in arr) return 1
	return 0
}
# A section: its heading, then TEXT as a paragraph unless empty.
function heading(title, text) {
	print "## " title > MD
	print "" > MD
	if (text != "") { print text > MD; print "" > MD }
}
# The two ratio columns of row TR: kvmini's median of F over each peer's.
function ratio_cols(k, f) {
	T[TR, TN + 2] = ratio(k SUBSEP "kvmini" SUBSEP f, k SUBSEP TB1 SUBSEP f)
	T[TR, TN + 3] = ratio(k SUBSEP "kvmini" SUBSEP f, k SUBSEP TB2 SUBSEP f)
}
# The goal column of row TR: the issue's goal for kvmini/TB1, which must be
# below G if BELOW, else at least G, and whether this run met it.
function goal_col(g, below,   r) {
	r = T[TR, TN + 2]
	T[TR, TC] = (below ? "< " : ">= ") sprintf("%.2f", g) \
		(r == "n/a" ? "" : ((below ? r + 0 < g : r + 0 >= g) ? ", met" : ", missed"))
}
# A cell of a table whose runs can fail (shared directory, vsock): figure F
# of VMM V, or why not.
function okcell(kind, v, f, fk, runsv, okv,   x) {
	if (!runsv) return NYA
	x = ((kind SUBSEP v SUBSEP f) in MED) ? rng(kind SUBSEP v SUBSEP f, fk) : "n/a"
	if (okv + 0 < runsv) x = x ", " (okv + 0) " of " runsv " ok"
	return x
}
function tprint(   r, c, w, line, x) {
	for (c = 1; c <= TC; c++) {
		w[c] = 3
		for (r = 0; r <= TR; r++) { x = dw(T[r, c]); if (x > w[c]) w[c] = x }
	}
	for (r = 0; r <= TR; r++) {
		line = "|"
		for (c = 1; c <= TC; c++) line = line " " pad(T[r, c], w[c], r > 0 && c > 1) " |"
		print line > MD
		if (r == 0) {
			line = "|"
			for (c = 1; c <= TC; c++) {
				x = ""; while (length(x) < w[c] - 1) x = x "-"
				line = line " " x (c > 1 ? ":" : "-") " |"
			}
			print line > MD
		}
	}
	print "" > MD
}

# The I/O rows' tables: VMMs TV[1..TN] = kvmini, P1, P2 (their peers).
function tcols_io(p1, p2) {
	delete TV; TN = 3; TB1 = p1; TB2 = p2; TGOAL = 1
	TV[1] = "kvmini"; TV[2] = p1; TV[3] = p2
}
# The I/O rows' CPU time per GiB: per kind of thread (l1-perf.sh's
# task_cpu) and in all, each kept under K SUBSEP "cpu_" kind.
function cpu_store(K, bytes,   gib, i, t, x, v4) {
	gib = bytes / 1073741824; t = 0
	for (i = 1; i <= 4; i++) {
		x = field("cpu_" ck[i] "_ms")
		# "other" is the process's total less its threads' (l1-perf.sh's
		# task_cpu): the kernel rounds each to ticks, so it can be a tick
		# or two below zero.
		if (isnum(x) && x < 0 && x >= -50) x = 0
		if (!measured(x)) return
		v4[i] = x; t += x
	}
	for (i = 1; i <= 4; i++) { store(K SUBSEP "cpu_" ck[i], v4[i] / 1000 / gib); csum[K, ck[i]] += v4[i] }
	store(K SUBSEP "cpu_total", t / 1000 / gib); csum[K, "total"] += t
}
# A CPU cell: the total's median, then that split by each kind's share of
# the CPU time of all the runs (medians per kind would not add up to it).
function cpu_cell(prefix, v, c, runsv,   K, i, parts, x) {
	if (!runsv) return NYA
	K = prefix SUBSEP v SUBSEP c
	if (!((K SUBSEP "cpu_total") in MED)) return "n/a"
	parts = ""
	for (i = 1; csum[K, "total"] > 0 && i <= 4; i++) {
		x = MED[K SUBSEP "cpu_total"] * csum[K, ck[i]] / csum[K, "total"]
		if (x > 0) parts = parts (parts == "" ? "" : ", ") cl[i] " " fmt(x, "s")
	}
	return fmt(MED[K SUBSEP "cpu_total"], "s") (parts == "" ? "" : " (" parts ")")
}
# The goal column of row TR against both peers: kvmini/peer at least G
# for each (below G if BELOW).
function goal_both(g, below,   r1, r2, ok) {
	r1 = T[TR, TN + 2]; r2 = T[TR, TN + 3]
	ok = (below ? r1 + 0 < g && r2 + 0 < g : r1 + 0 >= g && r2 + 0 >= g)
	T[TR, TC] = (below ? "< " : ">= ") sprintf("%.2f", g) " both" \
		(r1 == "n/a" || r2 == "n/a" ? "" : (ok ? ", met" : ", missed"))
}
# JSON of one I/O row's figure F: runs, ok, the figure and its CPU per GiB.
function jio(prefix, v, c, f, runsv, okv,   K, i, o) {
	K = prefix SUBSEP v SUBSEP c
	o = "{\"runs\": " (runsv + 0) ", \"ok\": " (okv + 0) ", " js(f) ": {" jstat(K) "}"
	for (i = 1; i <= 4; i++) o = o ", " js("cpu_s_per_gib_" ck[i]) ": {" jstat(K SUBSEP "cpu_" ck[i]) "}"
	return o ", \"cpu_s_per_gib\": {" jstat(K SUBSEP "cpu_total") "}}"
}

# A cell of the snapshot table: figure F of VMM V at M MiB, or why not.
function zcell(v, m, f, fk,   K) {
	if (!zrun[v, m]) return NYA
	K = "snap" SUBSEP v SUBSEP m SUBSEP f
	return (K in MED) ? rng(K, fk) : "n/a"
}
# How many times faster VMM V restores than it boots at M MiB, or "n/a".
function zspeedup(v, m) { return ratio("snap" SUBSEP v SUBSEP m SUBSEP "boot_ms", "snap" SUBSEP v SUBSEP m SUBSEP "restore_ms") }

function bootcell(k, v, f,   K) {
	if (fonly[f] && v != "kvmini") return "n/a"
	if (!((k, v) in runs)) return NYA
	K = k SUBSEP v SUBSEP f
	if (K in MED) return rng(K, fkind[f])
	if (!((k, f) in rep)) return NYA
	return "n/a"
}

BEGIN {
	NYA = "not yet available"
	B1 = "qemu-microvm"; B2 = "qemu-pc"
	# The shared-directory rows' VMMs: kvmini --share, QEMU microvm with
	# virtiofsd, and with QEMU's own 9p server.
	S1 = "qemu-virtiofsd"; S2 = "qemu-9p"
	ns = split("kvmini " S1 " " S2, sord, " ")
	# exec's peers: QEMU + virtiofsd on microvm (S1) and on pc.
	nx = split("kvmini " S1 " qemu-pc-virtiofsd", xord, " ")
	# Their four throughput figures, and the raw times they come from.
	split("write_mb_s read_mb_s untar_files_s tarc_files_s", sf, " ")
	split("write_ms read_ms untar_ms tarc_ms", sms, " ")
	# The vsock rows' VMMs: kvmini --vsock (its hybrid Unix socket, on
	# virtio-pci), QEMU pc with vhost-vsock-pci (the goal's peer: the same
	# transport) and QEMU microvm with vhost-vsock-device; their figures
	# (MB/s both ways, µs).
	W1 = "qemu-pc-vhost-vsock"; W2 = "qemu-vhost-vsock"
	nw = split("kvmini " W1 " " W2, wv, " ")
	split("g2h_mb_s h2g_mb_s rtt_us", wf, " ")
	# The snapshot rows: kvmini against QEMU microvm (B1), per guest memory
	# size; their figures and how each reads.
	nz = split("boot_ms create_ms state_kib files_kib restore_ms", zf, " ")
	split("ms ms mib mib ms", zk, " ")
	split("boot to the first counter line (ms)|snapshot create, paused (ms)|state file on disk (MiB)|" \
		"all snapshot files on disk (MiB)|restore to the first output (ms)", zl, "|")
	# The block rows: kvmini --drive cache=none against QEMU microvm's
	# virtio-blk-device, cache=none, aio=io_uring (Y1) and aio=threads (Y2);
	# their cases (MODE-QD), how each reads, and the thread kinds of the
	# CPU time per GiB (kvmini's "other" is its I/O thread).
	Y1 = "qemu-io_uring"; Y2 = "qemu-threads"
	ny = split("read-1 write-1 randread-1 randread-32 randwrite-1 randwrite-32", yc, " ")
	split("sequential read, 1 MiB requests, QD 1 (MiB/s)|sequential write, 1 MiB requests, QD 1 (MiB/s)|" \
		"random read, 4 KiB, QD 1 (IOPS)|random read, 4 KiB, QD 32 (IOPS)|random write, 4 KiB, QD 1 (IOPS)|" \
		"random write, 4 KiB, QD 32 (IOPS)", yl, "|")
	split("main vcpu other vhost", ck, " "); split("main|vCPU|other|vhost", cl, "|")
	# The network rows: kvmini --net against QEMU microvm's virtio-net-device
	# in user space (N1, the goal's peer) and with vhost=on (N2).
	N1 = "qemu-user"; N2 = "qemu-vhost"
	addk("stock"); addk("minimal")
	addv("kvmini"); addv(B1); addv(B2)
	fig("marker_ms", "boot to init marker (ms)", "ms", 0)
	fig("first_output_ms", "first console output (ms)", "ms", 0)
	fig("exit_ms", "exit after poweroff (ms)", "ms", 0)
	fig("mem_beyond_guest_kb", "VMM memory beyond guest RAM (MiB)", "mib", 0)
	fig("maxrss_kb", "peak RSS of the VMM (MiB)", "mib", 0)
	fig("exits", "VM exits during boot, all", "n", 0)
	fig("io_exits", "VM exits: port I/O", "n", 0)
	fig("mmio_exits", "VM exits: MMIO", "n", 0)
	fig("halt_exits", "VM exits: HLT", "n", 0)
	fig("boot_timer_ms", "kvmini: init's boot-timer write (ms)", "ms", 1)
	fig("first_run_cpu_ms", "kvmini: CPU time to 1st KVM_RUN (ms)", "ms", 1)
	fig("first_run_ms", "kvmini: time to 1st KVM_RUN (ms)", "ms", 1)
	ni = 0; data = 0; bad = 0; nu = 0; np = 0
}

{ sub(/\r$/, "") }
/^[ \t]*(#|$)/ { next }
{
	delete F
	for (i = 1; i <= NF; i++) {
		p = index($i, "=")
		if (p > 1) F[substr($i, 1, p - 1)] = substr($i, p + 1)
	}
	kind = field("kind")
	if (kind == "info") {
		for (i = 1; i <= NF; i++) {
			p = index($i, "=")
			if (p < 2) continue
			key = substr($i, 1, p - 1)
			if (key == "kind") continue
			if (!(key in info)) iord[++ni] = key
			info[key] = substr($i, p + 1)
		}
		next
	}
	if (kind == "unavailable") {
		w = field("what"); gsub(/_/, " ", w)
		uwhat[++nu] = w == "" ? "(unnamed figure)" : w
		ureason[nu] = field("reason")
		next
	}
	v = field("vmm"); k = field("kernel")
	if (v == "" || (kind != "api" && k == "")) { bad++; next }
	if (kind == "boot") {
		addk(k); addv(v); data++
		n = ++runs[k, v]
		st = field("status"); to = field("timed_out") == "1"
		ok = st == "0" && !to
		if (ok) okc[k, v]++
		else {
			r = field("run") != "" ? field("run") : n
			why = to ? "timed out" : (st == "" ? "no status" : "status " st)
			fails[k, v] = fails[k, v] (fails[k, v] == "" ? "" : ", ") "run " r " " why
			jf = "{\"run\": " (isnum(r) ? r + 0 : js(r)) ", \"status\": " jint(st) ", \"timed_out\": " (to ? "true" : "false") "}"
			jfails[k, v] = jfails[k, v] (jfails[k, v] == "" ? "" : ", ") jf
		}
		F["mem_beyond_guest_kb"] = (measured(field("hwm_kb")) && measured(field("guest_rss_kb"))) ? F["hwm_kb"] - F["guest_rss_kb"] : -1
		for (i = 1; i <= nf; i++) {
			f = fkey[i]
			if (!measured(field(f))) continue
			rep[k, f] = 1
			if (ok) store(k SUBSEP v SUBSEP f, F[f] + 0)
		}
	} else if (kind == "parallel") {
		addk(k); addv(v); data++
		np++
		pk[np] = k; pv[np] = v
		pvms[np] = field("vms"); preach[np] = field("reached")
		plast[np] = field("last_marker_ms"); pst[np] = field("status")
		# Shown in the table: the last run that succeeded, else the last run.
		if (pst[np] == "0") { pidx[k, v] = np; pok[k, v] = 1 }
		else if (!((k, v) in pok)) pidx[k, v] = np
		if (pst[np] == "0" && measured(plast[np])) store(k SUBSEP v SUBSEP "parallel_last_marker_ms", plast[np] + 0)
	} else if (kind == "blk") {
		addk(k); addv(v); data++
		brun[k, v]++
		mib = field("mib"); ms = field("read_ms")
		if (measured(mib) && !((k) in bmib)) bmib[k] = mib
		if (field("status") == "0" && measured(mib) && mib > 0 && measured(ms) && ms > 0) {
			bok[k, v]++
			store(k SUBSEP v SUBSEP "blk_mb_s", mib * 1.048576 / (ms / 1000))
			store(k SUBSEP v SUBSEP "blk_read_ms", ms + 0)
		}
	} else if (kind == "exec") {
		data++
		xrun[v]++; xhow[v] = field("how")
		if (field("status") == "0" && measured(field("exit_ms"))) {
			xok[v]++
			store("exec" SUBSEP v SUBSEP "exit_ms", F["exit_ms"] + 0)
		}
	} else if (kind == "share") {
		data++
		srun[v]++
		mib = field("mib"); files = field("files")
		if (measured(mib)) smib = mib
		if (measured(files)) sfiles = files
		good = field("status") == "0" && measured(mib) && measured(files)
		for (i = 1; i <= 4; i++) good = good && measured(field(sms[i])) && F[sms[i]] + 0 > 0
		if (good) {
			sok[v]++
			store("share" SUBSEP v SUBSEP "write_mb_s", mib * 1.048576 / (F["write_ms"] / 1000))
			store("share" SUBSEP v SUBSEP "read_mb_s", mib * 1.048576 / (F["read_ms"] / 1000))
			store("share" SUBSEP v SUBSEP "untar_files_s", files / (F["untar_ms"] / 1000))
			store("share" SUBSEP v SUBSEP "tarc_files_s", files / (F["tarc_ms"] / 1000))
		}
	} else if (kind == "vsock") {
		data++
		wrun[v]++
		if (measured(field("mib"))) wmib = field("mib")
		if (measured(field("rounds"))) wrounds = field("rounds")
		good = field("status") == "0"
		for (i = 1; i <= 3; i++) good = good && measured(field(wf[i])) && F[wf[i]] + 0 > 0
		if (good) {
			wok[v]++
			for (i = 1; i <= 3; i++) store("vsock" SUBSEP v SUBSEP wf[i], F[wf[i]] + 0)
		}
	} else if (kind == "snap") {
		data++
		m = field("mem_mib")
		if (!(m in zmem)) { zmem[m] = 1; zm[++nzm] = m }
		zrun[v, m]++
		if (field("status") == "0") {
			zok[v, m]++
			for (i = 1; i <= nz; i++)
				if (measured(field(zf[i]))) store("snap" SUBSEP v SUBSEP m SUBSEP zf[i], F[zf[i]] + 0)
		}
	} else if (kind == "blkio") {
		data++
		c = field("case")
		yrun[v, c]++
		if (measured(field("mib"))) ymib = field("mib")
		if (field("status") == "0" && measured(field("bytes")) && F["bytes"] > 0 && measured(field(c ~ /^rand/ ? "iops" : "mibps"))) {
			yok[v, c]++
			store("blkio" SUBSEP v SUBSEP c, F[c ~ /^rand/ ? "iops" : "mibps"] + 0)
			cpu_store("blkio" SUBSEP v SUBSEP c, F["bytes"])
		}
	} else if (kind == "net") {
		data++
		c = field("case"); n = field("cpus")
		if (!isnum(n)) { bad++; next }
		if (!((n) in ncpu)) { ncpu[n] = 1; nn[++nnc] = n }
		if (measured(field("secs"))) nsecs = field("secs")
		nrun[n, v, c]++
		if (field("status") != "0") next
		if (c == "rr" && measured(field("p50us")) && measured(field("p99us"))) {
			nok[n, v, c]++
			store("net" SUBSEP n SUBSEP v SUBSEP "p50us", F["p50us"] + 0)
			store("net" SUBSEP n SUBSEP v SUBSEP "p99us", F["p99us"] + 0)
		} else if (c != "rr" && measured(field("bytes")) && F["bytes"] > 0 && measured(field("gbps"))) {
			nok[n, v, c]++
			store("net" SUBSEP n SUBSEP v SUBSEP c, F["gbps"] * 1000)
			cpu_store("net" SUBSEP n SUBSEP v SUBSEP c, F["bytes"])
		}
	} else if (kind == "api") {
		addv(v); data++
		st = field("status")
		if (st == "0" || !(v in aok)) {
			ar[v] = field("rounds"); amed[v] = field("median_us")
			amin[v] = field("min_us"); amax[v] = field("max_us"); ast[v] = st
			if (st == "0") aok[v] = 1
		}
		if (st == "0" && measured(amed[v])) {
			MED["api", v] = amed[v] + 0
		}
	} else bad++
}

END {
	MD = out "/latest.md"; JS = out "/latest.json"
	for (K in cnt) stats(K)

	# ---- latest.md
	print "# kvmini benchmark report" > MD
	print "" > MD
	if (ni == 0) print "- no facts recorded (no kind=info lines)" > MD
	for (i = 1; i <= ni; i++) print "- " iord[i] ": " info[iord[i]] > MD
	print "" > MD

	if (!data) {
		print "**No data:** the raw results hold no boot, parallel, blk, api, exec, share, vsock, snap, blkio or net records." > MD
		print "" > MD
	} else {
		print "Each cell: median over the runs that succeeded, then (min–max). Ratios compare" > MD
		print "medians: below 1, kvmini is faster or smaller (for MB/s and files/s, above 1 is faster)." > MD
		print "" > MD
	}

	for (ki = 1; data && ki <= nk; ki++) {
		k = kord[ki]
		heading("Boot, " k " kernel", "")
		tcols_boot(); tstart()
		TR++; T[TR, 1] = "runs ok"
		for (c = 1; c <= nv; c++) {
			v = vord[c]
			T[TR, c + 1] = ((k, v) in runs) ? (okc[k, v] + 0) " of " runs[k, v] : NYA
		}
		T[TR, nv + 2] = ""; T[TR, nv + 3] = ""
		for (i = 1; i <= nf; i++) {
			f = fkey[i]
			TR++; T[TR, 1] = flab[f]
			for (c = 1; c <= nv; c++) T[TR, c + 1] = bootcell(k, vord[c], f)
			if (fonly[f]) { T[TR, nv + 2] = "n/a"; T[TR, nv + 3] = "n/a" }
			else ratio_cols(k, f)
		}
		tprint()
		line = ""
		for (c = 1; c <= nv; c++) if ((k, vord[c]) in fails)
			line = line (line == "" ? "" : "; ") vord[c] " " fails[k, vord[c]]
		if (line != "") { print "Failed runs, left out: " line "." > MD; print "" > MD }
	}

	if (data) {
		print "## Parallel boot" > MD
		print "" > MD
		vms = ""
		for (i = 1; i <= np; i++) if (measured(pvms[i])) { vms = pvms[i]; break }
		print (vms == "" ? "Several" : vms) " VMs started at once; how many reached the init marker, and when the last one did." > MD
		print "" > MD
		tcols_boot(); tstart()
		for (ki = 1; ki <= nk; ki++) {
			k = kord[ki]
			if (!any_vmm(pidx, k)) continue
			TR++; T[TR, 1] = "VMs reaching init, " k
			TR++; T[TR, 1] = "time until the last one did (ms), " k
			for (c = 1; c <= nv; c++) {
				v = vord[c]
				if (!((k, v) in pidx)) { T[TR - 1, c + 1] = NYA; T[TR, c + 1] = NYA; continue }
				i = pidx[k, v]
				x = isnum(preach[i]) && preach[i] >= 0 ? preach[i] + 0 : "n/a"
				if (measured(pvms[i])) x = x " of " pvms[i]
				if (pst[i] != "0") x = x " (" (pst[i] == "" ? "no status" : "status " pst[i]) ")"
				T[TR - 1, c + 1] = x
				K = k SUBSEP v SUBSEP "parallel_last_marker_ms"
				T[TR, c + 1] = (K in MED) ? rng(K, "ms") : "n/a"
			}
			T[TR - 1, nv + 2] = ""; T[TR - 1, nv + 3] = ""
			ratio_cols(k, "parallel_last_marker_ms")
		}
		tprint()

		heading("Block device read", "Sequential read inside the guest; MB/s (higher is better).")
		tcols_boot(); tstart()
		for (ki = 1; ki <= nk; ki++) {
			k = kord[ki]
			if (!any_vmm(brun, k)) continue
			TR++; T[TR, 1] = "read" ((k in bmib) ? " of " bmib[k] " MiB" : "") " (MB/s), " k
			for (c = 1; c <= nv; c++) {
				v = vord[c]
				K = k SUBSEP v SUBSEP "blk_mb_s"
				if (!((k, v) in brun)) x = NYA
				else {
					x = (K in MED) ? rng(K, "mbs") : "n/a"
					if (bok[k, v] + 0 < brun[k, v]) x = x ", " (bok[k, v] + 0) " of " brun[k, v] " ok"
				}
				T[TR, c + 1] = x
			}
			ratio_cols(k, "blk_mb_s")
		}
		tprint()

		heading("Control API", "Pause + resume round trip over the VMM's control socket.")
		tcols_boot(); tstart()
		rounds = ""
		for (c = 1; c <= nv; c++) if ((vord[c] in ar) && measured(ar[vord[c]])) { rounds = ar[vord[c]]; break }
		TR++; T[TR, 1] = "pause+resume (µs)" (rounds == "" ? "" : ", " rounds " rounds")
		for (c = 1; c <= nv; c++) {
			v = vord[c]
			if (!(v in ast)) x = NYA
			else if (ast[v] != "0") x = "n/a (" (ast[v] == "" ? "no status" : "status " ast[v]) ")"
			else if (!measured(amed[v])) x = "n/a"
			else {
				x = fmt(amed[v] + 0, "n")
				if (measured(amin[v]) && measured(amax[v]) && amin[v] != amax[v])
					x = x " (" fmt(amin[v] + 0, "n") "–" fmt(amax[v] + 0, "n") ")"
			}
			T[TR, c + 1] = x
		}
		T[TR, nv + 2] = ratio("api" SUBSEP "kvmini", "api" SUBSEP B1)
		T[TR, nv + 3] = ratio("api" SUBSEP "kvmini", "api" SUBSEP B2)
		tprint()

		heading("Shared directory", "kvmini's virtio-fs (`--share`) against QEMU microvm with Debian's virtiofsd and with QEMU's 9p, the stock kernel, the same guest work (docs/benchmarks.md). The first row is a time (lower is better), the others MB/s or files/s (higher is better).")
		tcols_share(); tstart()
		TR++
		T[TR, 1] = (xhow["kvmini"] == "run-share" ? "boot, mount the root share, run true, exit (ms)" : "exec -- true, to exit (ms)")
		for (c = 1; c <= ns; c++) {
			v = sord[c]
			T[TR, c + 1] = v == S2 ? "n/a" : okcell("exec", v, "exit_ms", "ms", xrun[v], xok[v])
		}
		ratio_cols("exec", "exit_ms"); goal_col(0.5, 1)
		TR++; T[TR, 1] = "the same, QEMU -M pc + virtiofsd in its column (ms)"
		T[TR, 2] = T[TR - 1, 2]
		T[TR, 3] = okcell("exec", xord[3], "exit_ms", "ms", xrun[xord[3]], xok[xord[3]])
		T[TR, 4] = "n/a"
		T[TR, TN + 2] = ratio("exec" SUBSEP "kvmini" SUBSEP "exit_ms", "exec" SUBSEP xord[3] SUBSEP "exit_ms")
		T[TR, TN + 3] = "n/a"; goal_col(0.5, 1)
		split("write" (smib == "" ? "" : " " smib " MiB") " (MB/s)|read it back (MB/s)|unpack" \
			(sfiles == "" ? "" : " " sfiles) " small files (files/s)|read them back (files/s)", sl, "|")
		for (i = 1; i <= 4; i++) {
			TR++; T[TR, 1] = sl[i]
			for (c = 1; c <= ns; c++)
				T[TR, c + 1] = okcell("share", sord[c], sf[i], i <= 2 ? "mbs" : "n", srun[sord[c]], sok[sord[c]])
			ratio_cols("share", sf[i]); goal_col(i <= 2 ? 1 : 1.5, 0)
		}
		tprint()
		if (xhow["kvmini"] == "run-share")
			{ print "kvmini had no exec command in this run: its first row boots the same lean initramfs as QEMU's, with `run --share`." > MD; print "" > MD }

		heading("vsock", "kvmini's virtio-vsock (`--vsock`, virtio-pci, the host side through its hybrid Unix socket) against QEMU's in-kernel vhost-vsock (the host side plain AF_VSOCK) on pc (`vhost-vsock-pci`) and on microvm (`vhost-vsock-device`, virtio-mmio), the stock kernel, timed on the host side (docs/benchmarks.md). MB/s: higher is better; the round trip: lower is better.")
		tcols_vsock(); tstart()
		split("guest to host" (wmib == "" ? "" : ", " wmib " MiB") " (MB/s)|host to guest" (wmib == "" ? "" : ", " wmib " MiB") \
			" (MB/s)|1-byte round trip, median of " (wrounds == "" ? "the rounds" : wrounds) " (µs)", wl, "|")
		for (i = 1; i <= 3; i++) {
			TR++; T[TR, 1] = wl[i]
			for (c = 1; c <= nw; c++)
				T[TR, c + 1] = okcell("vsock", wv[c], wf[i], i <= 2 ? "mbs" : "n", wrun[wv[c]], wok[wv[c]])
			ratio_cols("vsock", wf[i]); goal_col(i <= 2 ? 0.5 : 2, i == 3)
		}
		tprint()

		heading("Snapshot and restore", "The counter guest (the stock kernel, `KVMINI_ACTION=counter`) saved while paused and restored in a new process: kvmini's `PUT /snapshot/create` (Full) and `kvmini restore`, against QEMU microvm's `migrate` to a file and `-incoming` from it; the restore timed from the restoring process's start to the guest's first console output (docs/benchmarks.md). Lower is better.")
		if (!nzm) { print "Not yet available: no snapshot records." > MD; print "" > MD }
		delete T; TR = 0; T[0, 1] = "figure"; TC = 1
		for (c = 1; c <= 2; c++)
			for (j = 1; j <= nzm; j++) T[0, ++TC] = (c == 1 ? "kvmini" : B1) ", " zm[j] " MiB"
		for (j = 1; j <= nzm; j++) T[0, ++TC] = "kvmini/" short(B1) ", " zm[j] " MiB"
		TR++; T[TR, 1] = "runs ok"; TC = 1
		for (c = 1; c <= 2; c++)
			for (j = 1; j <= nzm; j++) {
				v = c == 1 ? "kvmini" : B1
				T[TR, ++TC] = zrun[v, zm[j]] ? (zok[v, zm[j]] + 0) " of " zrun[v, zm[j]] : NYA
			}
		for (j = 1; j <= nzm; j++) T[TR, ++TC] = ""
		for (i = 1; i <= nz; i++) {
			TR++; T[TR, 1] = zl[i]; TC = 1
			for (c = 1; c <= 2; c++)
				for (j = 1; j <= nzm; j++) {
					v = c == 1 ? "kvmini" : B1
					T[TR, ++TC] = (v != "kvmini" && zf[i] == "state_kib") ? "n/a" : zcell(v, zm[j], zf[i], zk[i])
				}
			for (j = 1; j <= nzm; j++)
				T[TR, ++TC] = zf[i] == "state_kib" ? "n/a" : \
					ratio("snap" SUBSEP "kvmini" SUBSEP zm[j] SUBSEP zf[i], "snap" SUBSEP B1 SUBSEP zm[j] SUBSEP zf[i])
		}
		TR++; T[TR, 1] = "boot / restore (times faster)"; TC = 1
		for (c = 1; c <= 2; c++)
			for (j = 1; j <= nzm; j++) T[TR, ++TC] = zspeedup(c == 1 ? "kvmini" : B1, zm[j])
		for (j = 1; j <= nzm; j++) T[TR, ++TC] = ""
		if (nzm) tprint()
		# The issue's goals: kvmini restores at least 10 times faster than it
		# boots, and in a time that does not grow with guest memory (the
		# largest size's median within 1.5 times the smallest's).
		if (nzm) {
			line = "Goal, restore at least 10× faster than boot:"
			for (j = 1; j <= nzm; j++) {
				r = zspeedup("kvmini", zm[j])
				line = line " " zm[j] " MiB " (r == "n/a" ? "n/a" : r "×, " (r + 0 >= 10 ? "met" : "missed")) (j < nzm ? ";" : ".")
			}
			r = ratio("snap" SUBSEP "kvmini" SUBSEP zm[nzm] SUBSEP "restore_ms", "snap" SUBSEP "kvmini" SUBSEP zm[1] SUBSEP "restore_ms")
			line = line " Goal, independent of memory size (restore at " zm[nzm] " MiB / at " zm[1] " MiB < 1.50): " \
				(r == "n/a" || nzm < 2 ? "n/a" : r ", " (r + 0 < 1.5 ? "met" : "missed")) "."
			print line > MD; print "" > MD
		}
	}

	if (data) {
		heading("Block I/O", "kvmini's virtio-blk (`--drive cache=none`) against QEMU microvm's `virtio-blk-device` with `cache=none`, `aio=io_uring` and `aio=threads`; `blk-load` in the guest on `/dev/vda` with `O_DIRECT`, the image" (ymib == "" ? "" : " of " ymib " MiB") " in L1's RAM behind a loop device (docs/benchmarks.md). MiB/s and IOPS: higher is better, so are the ratios. Goal (issue 17): at least QEMU's figure on every row.")
		tcols_io(Y1, Y2); tstart(); T[0, TC] = "goal, kvmini/each QEMU"
		for (i = 1; i <= ny; i++) {
			TR++; T[TR, 1] = yl[i]
			for (c = 1; c <= 3; c++) T[TR, c + 1] = okcell("blkio", TV[c], yc[i], "mbs", yrun[TV[c], yc[i]], yok[TV[c], yc[i]])
			ratio_cols("blkio", yc[i]); goal_both(1, 0)
		}
		tprint()
		print "CPU time per GiB moved (s/GiB, lower is better): the VMM's threads (`/proc/PID/task/*/stat`) during each case: the median, and in brackets that split by each kind of thread's share of all the runs' CPU time (\"other\" is kvmini's I/O thread, QEMU's worker threads); a ratio below 1: kvmini used less." > MD
		print "" > MD
		tcols_io(Y1, Y2); TGOAL = 0; tstart()
		for (i = 1; i <= ny; i++) {
			TR++; T[TR, 1] = yl[i]
			sub(/ \((MiB\/s|IOPS)\)$/, "", T[TR, 1])
			for (c = 1; c <= 3; c++) T[TR, c + 1] = cpu_cell("blkio", TV[c], yc[i], yrun[TV[c], yc[i]])
			ratio_cols("blkio", yc[i] SUBSEP "cpu_total")
		}
		tprint()

		heading("Network", "kvmini's virtio-net (`--net tap=`) against QEMU microvm's `virtio-net-device` on the same tap, in QEMU's user space (`vhost=off`) and with L1's vhost-net (`vhost=on`); `net-load` over TCP between the guest and L1" (nsecs == "" ? "" : ", about " sprintf("%.0f", nsecs) " s per figure") ", timed by L1 (docs/benchmarks.md). Mbit/s: higher is better; round trips (µs): lower is better. Goals (issue 17): throughput at least 1.5× QEMU's user-space figure, round trips no slower than it.")
		if (!nnc) { print "Not yet available: no network records." > MD; print "" > MD }
		split("guest to L1 (Mbit/s)|L1 to guest (Mbit/s)|1-byte round trip, p50 (µs)|1-byte round trip, p99 (µs)", nl, "|")
		split("recv send p50us p99us", nq, " ")
		tcols_io(N1, N2); tstart()
		vline = ""
		for (j = 1; j <= nnc; j++) {
			n = nn[j]
			for (i = 1; i <= 4; i++) {
				TR++; T[TR, 1] = nl[i] ", " n " vCPU" (n == 1 ? "" : "s")
				for (c = 1; c <= 3; c++)
					T[TR, c + 1] = okcell("net" SUBSEP n, TV[c], nq[i], i <= 2 ? "mbs" : "n", \
						nrun[n, TV[c], i <= 2 ? nq[i] : "rr"], nok[n, TV[c], i <= 2 ? nq[i] : "rr"])
				ratio_cols("net" SUBSEP n, nq[i])
				if (i <= 2) goal_col(1.5, 0); else goal_col(1, 1)
				# Where vhost-net still wins, and by how much.
				r = T[TR, TN + 3]
				if (r != "n/a" && (i <= 2 ? r + 0 < 1 : r + 0 > 1))
					vline = vline (vline == "" ? "" : "; ") T[TR, 1] " " sprintf("%.2f", i <= 2 ? 1 / r : r) "×"
			}
		}
		if (nnc) {
			tprint()
			print "vhost-net ahead of kvmini: " (vline == "" ? "on no row" : vline " (vhost's figure over kvmini's, as better)") "." > MD
			print "" > MD
			print "CPU time per GiB moved (s/GiB, lower is better), as for the block rows; \"vhost\" is the kernel's vhost-PID worker of QEMU's vhost-net." > MD
			print "" > MD
			tcols_io(N1, N2); TGOAL = 0; tstart()
			for (j = 1; j <= nnc; j++) {
				n = nn[j]
				for (i = 1; i <= 2; i++) {
					TR++; T[TR, 1] = nl[i] ", " n " vCPU" (n == 1 ? "" : "s")
					sub(/ \(Mbit\/s\)/, "", T[TR, 1])
					for (c = 1; c <= 3; c++) T[TR, c + 1] = cpu_cell("net" SUBSEP n, TV[c], nq[i], nrun[n, TV[c], nq[i]])
					ratio_cols("net" SUBSEP n, nq[i] SUBSEP "cpu_total")
				}
			}
			tprint()
		}
	}

	heading("Not measured this time", "")
	if (nu == 0) print "- nothing reported as unavailable" > MD
	for (i = 1; i <= nu; i++) {
		x = ureason[i]; gsub(/_/, " ", x)
		print "- " uwhat[i] (x == "" ? "" : ": " x) > MD
	}
	print "" > MD
	if (data && chart) { print CHART > MD; print "" > MD }
	# On real KVM (mode other than nested) the absolute times are real ones.
	if (data && (!("mode" in info) || info["mode"] == "nested"))
		print "Absolute times are emulation times in the nested bench; compare ratios." > MD
	close(MD)

	# ---- latest.json
	printf "{\n  \"info\": {" > JS
	for (i = 1; i <= ni; i++) {
		x = info[iord[i]]
		printf "%s%s: %s", (i > 1 ? ", " : ""), js(iord[i]), \
			(x ~ /^-?[0-9]+$/ && iord[i] !~ /version/ && length(x) < 16 ? x + 0 : js(x)) > JS
	}
	printf "},\n" > JS

	printf "  \"boot\": {" > JS
	for (ki = 1; ki <= nk; ki++) {
		k = kord[ki]
		printf "%s\n    %s: {", (ki > 1 ? "," : ""), js(k) > JS
		for (c = 1; c <= nv; c++) {
			v = vord[c]
			n = runs[k, v] + 0; o = okc[k, v] + 0
			printf "%s\n      %s: {\n        \"runs\": %d, \"ok\": %d, \"failed\": [%s]", \
				(c > 1 ? "," : ""), js(v), n, o, jfails[k, v] > JS
			for (i = 1; i <= nf; i++) {
				f = fkey[i]
				if (fonly[f] && v != "kvmini") continue
				K = k SUBSEP v SUBSEP f
				printf ",\n        %s: {%s, \"runs\": %d, \"ok\": %d, \"measured\": %d}", \
					js(f), jstat(K), n, o, cnt[K] + 0 > JS
			}
			printf "\n      }" > JS
		}
		printf "\n    }" > JS
	}
	printf "\n  },\n" > JS

	printf "  \"ratios\": {" > JS
	for (ki = 1; ki <= nk; ki++) {
		k = kord[ki]
		printf "%s\n    %s: {", (ki > 1 ? "," : ""), js(k) > JS
		for (b = 1; b <= 2; b++) {
			bv = b == 1 ? B1 : B2
			printf "%s\n      %s: {", (b > 1 ? "," : ""), js("kvmini/" bv) > JS
			sep = ""
			for (i = 1; i <= nf; i++) {
				f = fkey[i]
				if (fonly[f]) continue
				printf "%s%s: %s", sep, js(f), jratio(k SUBSEP "kvmini" SUBSEP f, k SUBSEP bv SUBSEP f) > JS
				sep = ", "
			}
			printf ", \"parallel_last_marker_ms\": %s", jratio(k SUBSEP "kvmini" SUBSEP "parallel_last_marker_ms", k SUBSEP bv SUBSEP "parallel_last_marker_ms") > JS
			printf ", \"blk_mb_s\": %s}", jratio(k SUBSEP "kvmini" SUBSEP "blk_mb_s", k SUBSEP bv SUBSEP "blk_mb_s") > JS
		}
		printf "\n    }" > JS
	}
	printf ",\n    \"api\": {\"kvmini/%s\": {\"median_us\": %s}, \"kvmini/%s\": {\"median_us\": %s}}", \
		B1, jratio("api" SUBSEP "kvmini", "api" SUBSEP B1), B2, jratio("api" SUBSEP "kvmini", "api" SUBSEP B2) > JS
	printf "\n  },\n" > JS

	printf "  \"parallel\": [" > JS
	for (i = 1; i <= np; i++)
		printf "%s\n    {\"vmm\": %s, \"kernel\": %s, \"vms\": %s, \"reached\": %s, \"last_marker_ms\": %s, \"status\": %s}", \
			(i > 1 ? "," : ""), js(pv[i]), js(pk[i]), jraw(pvms[i]), jraw(preach[i]), jraw(plast[i]), jint(pst[i]) > JS
	printf "%s],\n" , (np ? "\n  " : "") > JS

	printf "  \"blk\": {" > JS
	for (ki = 1; ki <= nk; ki++) {
		k = kord[ki]
		printf "%s\n    %s: {", (ki > 1 ? "," : ""), js(k) > JS
		for (c = 1; c <= nv; c++) {
			v = vord[c]
			printf "%s\n      %s: {\"mib\": %s, \"runs\": %d, \"ok\": %d, \"mb_s\": {%s}, \"read_ms\": {%s}}", \
				(c > 1 ? "," : ""), js(v), ((k in bmib) ? jraw(bmib[k]) : "null"), brun[k, v] + 0, bok[k, v] + 0, \
				jstat(k SUBSEP v SUBSEP "blk_mb_s"), jstat(k SUBSEP v SUBSEP "blk_read_ms") > JS
		}
		printf "\n    }" > JS
	}
	printf "\n  },\n" > JS

	printf "  \"api\": {" > JS
	for (c = 1; c <= nv; c++) {
		v = vord[c]
		printf "%s\n    %s: ", (c > 1 ? "," : ""), js(v) > JS
		if (!(v in ast)) { printf "null" > JS; continue }
		good = ast[v] == "0"
		printf "{\"rounds\": %s, \"median_us\": %s, \"min_us\": %s, \"max_us\": %s, \"status\": %s}", \
			jraw(ar[v]), good ? jraw(amed[v]) : "null", good ? jraw(amin[v]) : "null", good ? jraw(amax[v]) : "null", jint(ast[v]) > JS
	}
	printf "\n  },\n" > JS

	printf "  \"exec\": {" > JS
	for (c = 1; c <= nx; c++) {
		v = xord[c]
		printf "%s\n    %s: {\"how\": %s, \"runs\": %d, \"ok\": %d, \"exit_ms\": {%s}}", (c > 1 ? "," : ""), js(v), \
			xrun[v] ? js(xhow[v]) : "null", xrun[v] + 0, xok[v] + 0, jstat("exec" SUBSEP v SUBSEP "exit_ms") > JS
	}
	printf "\n  },\n" > JS
	printf "  \"share\": {\"mib\": %s, \"files\": %s", smib == "" ? "null" : jraw(smib), sfiles == "" ? "null" : jraw(sfiles) > JS
	for (c = 1; c <= ns; c++) {
		v = sord[c]
		printf ",\n    %s: {\"runs\": %d, \"ok\": %d", js(v), srun[v] + 0, sok[v] + 0 > JS
		for (i = 1; i <= 4; i++) printf ", %s: {%s}", js(sf[i]), jstat("share" SUBSEP v SUBSEP sf[i]) > JS
		printf "}" > JS
	}
	for (b = 1; b <= 2; b++) {
		bv = b == 1 ? S1 : S2
		printf ",\n    %s: {\"exec_exit_ms\": %s", js("kvmini/" bv), b == 1 ? jratio("exec" SUBSEP "kvmini" SUBSEP "exit_ms", "exec" SUBSEP bv SUBSEP "exit_ms") : "null" > JS
		for (i = 1; i <= 4; i++)
			printf ", %s: %s", js(sf[i]), jratio("share" SUBSEP "kvmini" SUBSEP sf[i], "share" SUBSEP bv SUBSEP sf[i]) > JS
		printf "}" > JS
	}
	printf ",\n    %s: {\"exec_exit_ms\": %s}", js("kvmini/" xord[3]), jratio("exec" SUBSEP "kvmini" SUBSEP "exit_ms", "exec" SUBSEP xord[3] SUBSEP "exit_ms") > JS
	printf "\n  },\n" > JS
	printf "  \"vsock\": {\"mib\": %s, \"rounds\": %s", wmib == "" ? "null" : jraw(wmib), wrounds == "" ? "null" : jraw(wrounds) > JS
	for (c = 1; c <= nw; c++) {
		v = wv[c]
		printf ",\n    %s: {\"runs\": %d, \"ok\": %d", js(v), wrun[v] + 0, wok[v] + 0 > JS
		for (i = 1; i <= 3; i++) printf ", %s: {%s}", js(wf[i]), jstat("vsock" SUBSEP v SUBSEP wf[i]) > JS
		printf "}" > JS
	}
	for (c = 2; c <= nw; c++) {
		printf ",\n    %s: {", js("kvmini/" wv[c]) > JS
		for (i = 1; i <= 3; i++)
			printf "%s%s: %s", (i > 1 ? ", " : ""), js(wf[i]), jratio("vsock" SUBSEP "kvmini" SUBSEP wf[i], "vsock" SUBSEP wv[c] SUBSEP wf[i]) > JS
		printf "}" > JS
	}
	printf "\n  },\n" > JS

	printf "  \"snapshot\": {" > JS
	for (j = 1; j <= nzm; j++) {
		printf "%s\n    %s: {", (j > 1 ? "," : ""), js(zm[j]) > JS
		for (c = 1; c <= 2; c++) {
			v = c == 1 ? "kvmini" : B1
			printf "%s\n      %s: {\"runs\": %d, \"ok\": %d", (c > 1 ? "," : ""), js(v), zrun[v, zm[j]] + 0, zok[v, zm[j]] + 0 > JS
			for (i = 1; i <= nz; i++) printf ", %s: {%s}", js(zf[i]), jstat("snap" SUBSEP v SUBSEP zm[j] SUBSEP zf[i]) > JS
			printf ", \"boot_over_restore\": %s}", jratio("snap" SUBSEP v SUBSEP zm[j] SUBSEP "boot_ms", "snap" SUBSEP v SUBSEP zm[j] SUBSEP "restore_ms") > JS
		}
		printf "\n    }" > JS
	}
	printf "%s},\n", (nzm ? "\n  " : "") > JS

	printf "  \"blkio\": {\"mib\": %s", ymib == "" ? "null" : jraw(ymib) > JS
	for (c = 1; c <= 3; c++) {
		v = c == 1 ? "kvmini" : (c == 2 ? Y1 : Y2)
		printf ",\n    %s: {", js(v) > JS
		for (i = 1; i <= ny; i++)
			printf "%s%s: %s", (i > 1 ? ", " : ""), js(yc[i]), jio("blkio", v, yc[i], yc[i] ~ /^rand/ ? "iops" : "mib_s", yrun[v, yc[i]], yok[v, yc[i]]) > JS
		printf "}" > JS
	}
	for (c = 2; c <= 3; c++) {
		v = c == 2 ? Y1 : Y2
		printf ",\n    %s: {", js("kvmini/" v) > JS
		for (i = 1; i <= ny; i++)
			printf "%s%s: %s", (i > 1 ? ", " : ""), js(yc[i]), jratio("blkio" SUBSEP "kvmini" SUBSEP yc[i], "blkio" SUBSEP v SUBSEP yc[i]) > JS
		printf "}" > JS
	}
	printf "\n  },\n" > JS
	printf "  \"net\": {" > JS
	for (j = 1; j <= nnc; j++) {
		n = nn[j]
		printf "%s\n    %s: {", (j > 1 ? "," : ""), js("vcpus_" n) > JS
		for (c = 1; c <= 3; c++) {
			v = c == 1 ? "kvmini" : (c == 2 ? N1 : N2)
			printf "%s\n      %s: {\"guest_to_l1\": %s, \"l1_to_guest\": %s", (c > 1 ? "," : ""), js(v), \
				jio("net" SUBSEP n, v, "recv", "mbit_s", nrun[n, v, "recv"], nok[n, v, "recv"]), \
				jio("net" SUBSEP n, v, "send", "mbit_s", nrun[n, v, "send"], nok[n, v, "send"]) > JS
			printf ", \"rr\": {\"runs\": %d, \"ok\": %d, \"p50_us\": {%s}, \"p99_us\": {%s}}}", nrun[n, v, "rr"] + 0, nok[n, v, "rr"] + 0, \
				jstat("net" SUBSEP n SUBSEP v SUBSEP "p50us"), jstat("net" SUBSEP n SUBSEP v SUBSEP "p99us") > JS
		}
		for (c = 2; c <= 3; c++) {
			v = c == 2 ? N1 : N2
			printf ",\n      %s: {", js("kvmini/" v) > JS
			for (i = 1; i <= 4; i++)
				printf "%s%s: %s", (i > 1 ? ", " : ""), js(nq[i]), jratio("net" SUBSEP n SUBSEP "kvmini" SUBSEP nq[i], "net" SUBSEP n SUBSEP v SUBSEP nq[i]) > JS
			printf "}" > JS
		}
		printf "\n    }" > JS
	}
	printf "%s},\n", (nnc ? "\n  " : "") > JS

	printf "  \"unavailable\": [" > JS
	for (i = 1; i <= nu; i++)
		printf "%s\n    {\"what\": %s, \"reason\": %s}", (i > 1 ? "," : ""), js(uwhat[i]), \
			(ureason[i] == "" ? "null" : js(ureason[i])) > JS
	printf "%s]\n}\n", (nu ? "\n  " : "") > JS
	close(JS)

	if (bad) printf "report.sh: ignored %d unrecognised line(s) in the raw results\n", bad > "/dev/stderr"
	if (!data) exit 3

	# ---- chart: data file (one line per kernel) and gnuplot script
	if (!chart) exit 0
	DAT = out "/chart.dat"; GP = out "/chart.gp"   # gnuplot runs in out
	for (ki = 1; ki <= nk; ki++) {
		k = kord[ki]; line = k
		for (g = 1; g <= 2; g++) {
			f = g == 1 ? "marker_ms" : "mem_beyond_guest_kb"; d = g == 1 ? 1000 : 1024
			for (c = 1; c <= nv; c++) {
				K = k SUBSEP vord[c] SUBSEP f
				if (K in MED) { line = line sprintf(" %.4f %.4f %.4f", MED[K] / d, MIN[K] / d, MAX[K] / d); have[g] = 1 }
				else line = line " ? ? ?"
			}
		}
		print line > DAT
	}
	close(DAT)
	split("#1f77b4 #ff7f0e #2ca02c #9467bd #8c564b #e377c2 #7f7f7f #bcbd22", col, " ")
	print "set terminal " TERM " size 1200,520" (TERM == "pngcairo" ? " font 'sans,11'" : "") > GP
	print "set output 'latest.png'" > GP
	print "set datafile missing '?'" > GP
	print "set style data histograms" > GP
	print "set style histogram errorbars gap 1 lw 1" > GP
	print "set style fill solid 0.85 border -1" > GP
	print "set boxwidth 0.9" > GP
	print "set grid ytics" > GP
	print "set key top left" > GP
	print "set yrange [0:*]" > GP
	print "set offsets 0, 0, graph 0.08, 0" > GP
	print "set xrange [-0.6:" nk - 0.4 "]" > GP
	print "set xlabel 'guest kernel'" > GP
	t = "kvmini bench: medians, error bars min to max"
	if ("date" in info) t = t " (" info["date"] (("mode" in info) ? ", " info["mode"] : "") ")"
	gsub(/'/, "''", t)
	print "set multiplot layout 1,2 title '" t "'" > GP
	for (g = 1; g <= 2; g++) {
		print "set title '" (g == 1 ? "boot to init marker (s)" : "VMM memory beyond guest RAM (MiB)") "'" > GP
		if (!have[g]) {
			print "set label 1 'no data' at graph 0.5, 0.5 center" > GP
			print "unset tics; set xrange [0:1]; set yrange [0:1]; plot -1 notitle" > GP
			print "unset label 1; set tics; unset x2tics; unset y2tics; set grid ytics" > GP
			print "set xrange [-0.6:" nk - 0.4 "]; set yrange [0:*]" > GP
			continue
		}
		line = "plot"
		for (c = 1; c <= nv; c++) {
			x = 2 + 3 * nv * (g - 1) + 3 * (c - 1)
			line = line (c > 1 ? "," : "") " 'chart.dat' using " x ":" x + 1 ":" x + 2 (c == 1 ? ":xtic(1)" : "") \
				" title '" vord[c] "' lc rgb '" col[(c - 1) % 8 + 1] "'"
		}
		print line > GP
	}
	print "unset multiplot" > GP
	close(GP)
}
AWK

chart=0
[ -z "$term" ] || chart=1
awk -v out="$tmp" -v chart="$chart" -v TERM="$term" -v CHART="$chart_line" \
	"$awk_prog" "$raw"
rc=$?
case $rc in
0) status=0 ;;
3) status=1 ;;
*) die "$raw: could not be read into a report (awk exit status $rc)" ;;
esac

# latest.png: drawn now; a stale one from an earlier run never survives.
rm -f -- "$out/latest.png"
if [ "$status" -eq 0 ]; then
	if [ -z "$term" ]; then
		if command -v gnuplot >/dev/null 2>&1; then
			echo "$prog: gnuplot has no png terminal; chart latest.png skipped" >&2
		else
			echo "$prog: gnuplot is not installed; chart latest.png skipped" >&2
		fi
	elif (cd "$tmp" && gnuplot chart.gp) >"$tmp/gnuplot.log" 2>&1 && [ -s "$tmp/latest.png" ]; then
		mv -f -- "$tmp/latest.png" "$out/latest.png" ||
			die "$out: cannot write latest.png"
	else
		echo "$prog: gnuplot failed ($(grep -m1 . "$tmp/gnuplot.log" 2>/dev/null || echo 'no output')); chart latest.png skipped" >&2
	fi
fi
if [ ! -f "$out/latest.png" ]; then
	grep -vxF -- "$chart_line" "$tmp/latest.md" >"$tmp/latest.md.new"
	mv -f -- "$tmp/latest.md.new" "$tmp/latest.md"
fi

if ! mv -f -- "$tmp/latest.json" "$out/latest.json" || ! mv -f -- "$tmp/latest.md" "$out/latest.md"; then
	die "$out: cannot write latest.md / latest.json"
fi
cat -- "$out/latest.md"
[ "$status" -eq 0 ] || echo "$prog: no benchmark records in $raw; wrote a no-data report" >&2
exit "$status"
