#!/bin/sh
# kvmini exec builds a program with the host's own compiler: a small C
# program (two files and a header, as a tarball) in a --rwdir folder is
# unpacked and compiled by gcc -O2 in the guest, on the read-only share of
# the host's root; the host then runs the result and checks what it prints.
# Also checked: exec's exit status (0) and its stderr, which must be empty
# (gcc has nothing to warn about, and the kernel's log stays out of it).
# The nested bench's L1 has no compiler: its second disk, /dev/vdb, is the
# host's toolchain as an ext4 image (tests/bench/build-toolchain-image.sh),
# copied here onto L1's / so that its root has gcc as a host's would.
# timeout: 400
. "$(dirname "$0")/../lib.sh"

# On a merged-/usr host /bin is /usr/bin already; in L1 gcc lands in /usr/bin.
PATH=/usr/bin:$PATH
export PATH

install_toolchain() {
	command -v gcc >/dev/null && return
	[ -b /dev/vdb ] || fail "no gcc here and no toolchain disk /dev/vdb"
	mkdir -p /mnt/toolchain || fail "cannot make /mnt/toolchain"
	mount -t ext4 -o ro /dev/vdb /mnt/toolchain || fail "cannot mount the toolchain disk /dev/vdb"
	[ -x /mnt/toolchain/usr/bin/gcc ] || fail "the toolchain disk has no /usr/bin/gcc"
	echo "+ copying the toolchain into /"
	for top in /mnt/toolchain/*; do
		[ "$top" = /mnt/toolchain/lost+found ] || cp -a "$top" / || fail "cannot copy $top into /"
	done
	umount /mnt/toolchain
	command -v gcc >/dev/null || fail "gcc is not on PATH ($PATH) after copying the toolchain"
}

# make_sources DIR: the program's files in DIR, packed into DIR/../work/src.tar.
make_sources() {
	mkdir -p "$1" || fail "cannot make $1"
	cat >"$1/calc.h" <<'EOF'
#ifndef CALC_H
#define CALC_H
unsigned long long fib(unsigned int n);
unsigned long prime_sum(unsigned int below);
#endif
EOF
	cat >"$1/calc.c" <<'EOF'
#include "calc.h"

unsigned long long fib(unsigned int n)
{
	unsigned long long a = 0, b = 1;

	while (n--) {
		unsigned long long next = a + b;
		a = b;
		b = next;
	}
	return a;
}

unsigned long prime_sum(unsigned int below)
{
	unsigned long sum = 0;

	for (unsigned int i = 2; i < below; i++) {
		unsigned int d = 2;
		while (d * d <= i && i % d)
			d++;
		if (d * d > i)
			sum += i;
	}
	return sum;
}
EOF
	cat >"$1/main.c" <<'EOF'
#include <stdio.h>
#include "calc.h"

int main(void)
{
	printf("fib(50)=%llu primes<1000=%lu\n", fib(50), prime_sum(1000));
	return 0;
}
EOF
}

compile() {
	install_toolchain
	W=$T/work
	make_sources "$T/src"
	mkdir -p "$W" || fail "cannot make $W"
	tar -cf "$W/src.tar" -C "$T/src" calc.h calc.c main.c || fail "cannot pack the sources"
	STDERR=$T/exec.stderr
	echo "+ kvmini exec --kernel $GUEST_KERNEL --rwdir $W --timeout 240 -- sh -c 'cd $W && tar xf src.tar && gcc -O2 -o prog *.c'"
	# shellcheck disable=SC2016 # the guest's shell expands it
	"$KVMINI" exec --kernel "$GUEST_KERNEL" --rwdir "$W" --timeout 240 --log "$T/kernel.log" -- \
		sh -c 'cd "$1" && tar xf src.tar && gcc -O2 -o prog *.c' sh "$W" \
		</dev/null >"$T/exec.stdout" 2>"$STDERR"
	EXIT=$?
	echo "  exit $EXIT; stderr: $(head -n 3 "$STDERR")"
	expect_exit 0
	[ ! -s "$STDERR" ] || fail "exec's stderr is not empty: $(head -c 300 "$STDERR" | tr '\n' '|')"
	[ -x "$W/prog" ] || fail "the guest left no executable $W/prog"
	want="fib(50)=12586269025 primes<1000=76127"
	got=$("$W/prog") || fail "$W/prog exited with status $? on the host"
	[ "$got" = "$want" ] || fail "$W/prog printed '$got', expected '$want'"
}

run_case compile compile
end_cases
