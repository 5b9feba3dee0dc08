#!/bin/sh
# smoke-matrix: the boot-path axes and the machine-readable results.
# Cases: axes, the stock kernel with the built-in init in 8 cells (--transport
# pci,mmio x --acpi on,off x --cpus 1,2, 256M, two runs at a time): all pass,
# the JUnit file has one testcase per cell named by its axes, the JSON file
# has the 8 cells, and each cell's console shows its vCPUs and whether it had
# ACPI tables (without, the built-in init reboots: Linux cannot power off);
# ktap, the busybox guest printing a KTAP document with one "not ok" on hvc0
# (--console virtio): the run fails (exit 1), its 5 tests follow the run's
# testcase in JUnit (the failed one a failure) and are the run's tests in
# the JSON.
# timeout: 300
. "$(dirname "$0")/../lib.sh"

count() { xmllint --xpath "$1" "$2"; }

axes() {
	run_smoke --kernel "$GUEST_KERNEL" --transport pci,mmio --acpi on,off --cpus 1,2 --mem 256M \
		--jobs 2 --timeout 120 --json "$T/axes.json" --junit "$T/axes.xml" --log "$T/axes.log"
	expect_exit 0
	n=$(grep -c '^PASS vmlinuz cpus=[12],transport=[a-z]*,acpi=o[nf]*: init after' "$CONSOLE")
	[ "$n" -eq 8 ] || fail "$n PASS lines named by their axes, expected 8"
	xmllint --noout "$T/axes.xml" || fail "xmllint rejects the JUnit file"
	[ "$(count 'count(//testcase)' "$T/axes.xml")" = 8 ] || fail "$(count 'count(//testcase)' "$T/axes.xml") testcases, expected 8"
	for transport in pci mmio; do
		for acpi in on off; do
			for cpus in 1 2; do
				cell="cpus=$cpus,transport=$transport,acpi=$acpi"
				[ "$(count "count(//testcase[@name=\"vmlinuz $cell\"])" "$T/axes.xml")" = 1 ] ||
					fail "no testcase named 'vmlinuz $cell'"
				grep -q "{\"name\":\"$cell\",\"axes\":{\"cpus\":$cpus,\"mem_bytes\":268435456,\"mem\":\"256M\",\"transport\":\"$transport\",\"acpi\":\"$acpi\",\"boot\":\"bzimage\",\"console\":\"serial\"},\"verdict\":\"PASS\"" "$T/axes.json" ||
					fail "no PASS cell $cell with its axes in the JSON"
				section=$(tr -d '\r' <"$T/axes.log" | awk -v h="=== vmlinuz $cell ===" '/^=== / { on = ($0 == h) } on')
				seen=$(echo "$section" | sed -n 's/^kvmini-init: cpus //p')
				[ "$seen" = "$cpus" ] || fail "$cell: the init saw '$seen' CPUs"
				# Linux names the ACPI root table it found; an MP-table machine has none.
				tables=$(echo "$section" | grep -c 'ACPI: RSDP 0x')
				if [ "$acpi" = on ]; then want=1; else want=0; fi
				[ "$tables" = "$want" ] || fail "$cell: $tables 'ACPI: RSDP' lines, expected $want"
			done
		done
	done
	n=$(grep -o '"name":"cpus=' "$T/axes.json" | wc -l)
	[ "$n" -eq 8 ] || fail "$n cells in the JSON, expected 8"
	grep -q '^{"version":1,"cells":\[' "$T/axes.json" || fail "the JSON does not start as documented"
}

# ktap: the busybox guest prints its KTAP document with one "not ok", on
# hvc0 (--console virtio: the busybox init loads virtio_console and reopens
# its console there), so the verdict and the KTAP reader see hvc0's output.
ktap() {
	run_smoke --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --mem 256M --timeout 120 \
		--console virtio --cmdline "KVMINI_ACTION=smoke-matrix KVMINI_KTAP=fail" --expect '^smoke-matrix-done' \
		--junit "$T/ktap.xml" --json "$T/ktap.json"
	expect_exit 1
	expect_console "^FAIL vmlinuz cpus=1,mem=256M: 2 of the guest's 5 KTAP tests failed, the first: example.mul"
	xmllint --noout "$T/ktap.xml" || fail "xmllint rejects the JUnit file"
	[ "$(count 'count(//testcase)' "$T/ktap.xml")" = 6 ] || fail "$(count 'count(//testcase)' "$T/ktap.xml") testcases, expected 6"
	[ "$(count 'string(//testsuite/@failures)' "$T/ktap.xml")" = 3 ] || fail "not 3 failures (the run, mul, example)"
	[ "$(count 'string(//testsuite/@skipped)' "$T/ktap.xml")" = 1 ] || fail "not one skipped testcase"
	[ "$(count 'count(//testcase[@name="mul" and @classname="kvmini.smoke.vmlinuz cpus=1,mem=256M.example"]/failure)' "$T/ktap.xml")" = 1 ] ||
		fail "no failed testcase mul of suite example"
	[ "$(count 'count(//testcase[@name="add"]/failure)' "$T/ktap.xml")" = 0 ] || fail "add failed"
	[ "$(count 'count(//testcase[@name="vmlinuz cpus=1,mem=256M"]/failure)' "$T/ktap.xml")" = 1 ] ||
		fail "the run's own testcase did not fail"
	grep -q '"console":"virtio"},"verdict":"FAIL"' "$T/ktap.json" || fail "the JSON cell is not a failed virtio-console one"
	grep -q '"tests":\[{"suite":"example","name":"add","result":"pass","reason":null},{"suite":"example","name":"sub","result":"skip","reason":"no sub here"},{"suite":"example","name":"mul","result":"fail","reason":null}' "$T/ktap.json" ||
		fail "the JSON lacks the KTAP tests"
}

run_case axes axes
run_case ktap ktap
end_cases
