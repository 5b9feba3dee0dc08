#!/bin/sh
# fc-launch: kvmini started as `firecracker` (a symbolic link of that name),
# as Firecracker's clients start it. Cases: version: --version's first line
# passes Kata's probe (second word a semantic version >= 0.21.1) and a bad
# option exits 153 with one line. flags: --api-sock --id --config-file
# --log-path --level Info --metrics-path boot the config file's guest at
# once; GET / names the id; FlushMetrics writes a JSON line whose vCPU exits
# (the guest's console output) are > 0; Stop ends it with 0 and the log file
# has Firecracker-format lines with the id. curl: only --api-sock, then as
# firectl does: PUT /logger (Debug, level and origin shown), PUT /metrics (a
# FIFO read as Kata reads it; a second one is 400), the boot source and
# machine, InstanceStart; PUT /logger after the start is 400; FlushMetrics
# puts a line with the API requests counted and vCPU exits > 0 through the
# FIFO; the log file has DEBUG/INFO lines naming their source file.
# timeout: 300
. "$(dirname "$0")/../lib.sh"

ln -s "$KVMINI" "$T/firecracker"
FC=$T/firecracker

# start_fc [ARGS...]: $FC --api-sock $API_SOCK ARGS (start_api_vmm).
start_fc() {
	API_SOCK=$T/$CASE.sock
	start_api_vmm "$FC" --api-sock "$API_SOCK" "$@"
}

# expect_fc_lines FILE PATTERN: FILE has a line in Firecracker's format whose bracket matches PATTERN.
expect_fc_lines() {
	grep -Eq "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9} \[$2\] " "$1" ||
		fail "no log line [$2] in $1: $(head -n 3 "$1")"
}

# metrics_uint FILE GROUP KEY: GROUP.KEY in FILE's last line.
metrics_uint() {
	tail -n 1 "$1" | grep -o "\"$2\":{[^}]*}" | grep -o "\"$3\":[0-9]*" | cut -d : -f 2
}

version() {
	"$FC" --version >"$T/version.out" || fail "--version exited $?"
	# Kata: the first line, split on spaces, the second field less a leading v, as a semantic version.
	v=$(head -n 1 "$T/version.out" | cut -d ' ' -f 2)
	v=${v#v}
	echo "$v" | grep -Eq '^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(\+[0-9A-Za-z.-]+)?$' ||
		fail "--version: '$v' is not a semantic version"
	major=${v%%.*}
	rest=${v#*.}
	minor=${rest%%.*}
	[ "$major" -ge 1 ] || [ "$minor" -gt 21 ] || fail "--version: $v is older than Kata's minimum, 0.21.1"
	"$FC" --api-sock "$T/x.sock" --bogus 2>"$T/bogus.err" && fail "--bogus was accepted"
	[ $? -eq 153 ] || fail "--bogus: exit $?, not Firecracker's 153"
	[ "$(wc -l <"$T/bogus.err")" -eq 1 ] || fail "--bogus: not one line: $(cat "$T/bogus.err")"
}

flags() {
	: >"$T/flags.log"
	cat >"$T/vm.json" <<EOF
{
  "boot-source": {
    "kernel_image_path": "$GUEST_KERNEL",
    "initrd_path": "$GUEST_INITRD",
    "boot_args": "KVMINI_ACTION=counter"
  },
  "machine-config": { "vcpu_count": 1, "mem_size_mib": 256, "smt": false }
}
EOF
	start_fc --id fc-launch-1 --config-file "$T/vm.json" --log-path "$T/flags.log" --level Info \
		--metrics-path "$T/flags.metrics"
	wait_console '^COUNTER 5$' 200 || fail "the guest never counted to 5 ($(head -n 1 "$STDERR"))"
	expect_api 200 GET /
	echo "$API_BODY" | grep -q '"id":"fc-launch-1","state":"Running"' || fail "GET /: $API_BODY"
	expect_api 204 PUT /actions '{"action_type": "FlushMetrics"}'
	exits=$(metrics_uint "$T/flags.metrics" vcpu exit_io_out)
	[ "${exits:-0}" -gt 0 ] || fail "no io exits in the metrics line: $(tail -n 1 "$T/flags.metrics")"
	expect_api 204 PUT /actions '{"action_type": "Stop"}'
	wait_kvmini 20
	expect_exit 0
	expect_fc_lines "$T/flags.log" 'fc-launch-1:[a-z-]+'
	grep -q 'DEBUG' "$T/flags.log" && fail "debug lines at level Info: $(grep DEBUG "$T/flags.log" | head -n 1)"
	return 0
}

curl_firectl() {
	: >"$T/curl.log"
	mkfifo "$T/curl.fifo"
	# Kata reads its metrics FIFO line by line from the start.
	cat "$T/curl.fifo" >"$T/curl.metrics" &
	reader=$!
	start_fc
	expect_api 204 PUT /logger \
		"{\"log_path\": \"$T/curl.log\", \"level\": \"Debug\", \"show_level\": true, \"show_log_origin\": true}"
	expect_api 204 PUT /metrics "{\"metrics_path\": \"$T/curl.fifo\"}"
	expect_api 400 PUT /metrics "{\"metrics_path\": \"$T/curl.fifo\"}"
	expect_api 400 PUT /actions '{"action_type": "FlushMetrics"}'
	expect_api 204 PUT /boot-source \
		"{\"kernel_image_path\": \"$GUEST_KERNEL\", \"initrd_path\": \"$GUEST_INITRD\", \"boot_args\": \"KVMINI_ACTION=counter\"}"
	expect_api 204 PUT /machine-config '{"vcpu_count": 2, "mem_size_mib": 256, "smt": false}'
	expect_api 204 PUT /actions '{"action_type": "InstanceStart"}'
	wait_console '^COUNTER 5$' 200 || fail "the guest never counted to 5 ($(head -n 1 "$STDERR"))"
	expect_api 400 PUT /logger '{"level": "Info"}'
	expect_api 204 PUT /actions '{"action_type": "FlushMetrics"}'
	waited=0
	until [ -s "$T/curl.metrics" ] || [ $waited -ge 50 ]; do
		sleep 0.1
		waited=$((waited + 1))
	done
	exits=$(metrics_uint "$T/curl.metrics" vcpu exit_io_out)
	[ "${exits:-0}" -gt 0 ] || fail "no io exits in the metrics line: $(tail -n 1 "$T/curl.metrics")"
	# PUT /logger twice (one refused), PUT /metrics twice (one refused), the boot source.
	[ "$(metrics_uint "$T/curl.metrics" put_api_requests logger_count)" = 2 ] ||
		fail "logger_count: $(tail -n 1 "$T/curl.metrics")"
	[ "$(metrics_uint "$T/curl.metrics" put_api_requests metrics_fails)" = 1 ] ||
		fail "metrics_fails: $(tail -n 1 "$T/curl.metrics")"
	[ "$(metrics_uint "$T/curl.metrics" put_api_requests boot_source_count)" = 1 ] ||
		fail "boot_source_count: $(tail -n 1 "$T/curl.metrics")"
	expect_api 204 PUT /actions '{"action_type": "Stop"}'
	wait_kvmini 20
	expect_exit 0
	wait "$reader"
	expect_fc_lines "$T/curl.log" 'anonymous-instance:[a-z-]+:(DEBUG|INFO):src/[a-z_/]+\.c:[0-9]+'
	grep -q ':DEBUG:' "$T/curl.log" || fail "no debug line at level Debug: $(head -n 3 "$T/curl.log")"
}

run_case version version
run_case flags flags
run_case curl curl_firectl
end_cases
