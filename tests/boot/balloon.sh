#!/bin/sh
# balloon: virtio-balloon on a daemon-started guest of 256 MiB, configured
# with PUT /balloon (no pages asked for, statistics every second). The guest
# fills 150 MiB of a tmpfs and frees them (kvmini's RSS now holds them);
# PATCH /balloon asks for 128 MiB: the guest's MemTotal drops by 128 MiB,
# GET /balloon says so, GET /balloon/statistics has actual_mib 128 and the
# guest's free and total memory, and kvmini's RSS (GET /vm/stats) drops by
# at least 64 MiB. Statistics cannot be turned off after the start, nor a
# target set above the guest's memory. PATCH /balloon back to 0: the
# guest's MemTotal is back and it fills 150 MiB again, then powers off.
# timeout: 150
. "$(dirname "$0")/../lib.sh"

MIB_KB=1024

balloon() {
	start_daemon
	expect_api 400 GET /balloon
	expect_api 204 PUT /boot-source \
		"{\"kernel_image_path\": \"$GUEST_KERNEL\", \"initrd_path\": \"$GUEST_INITRD\", \"boot_args\": \"KVMINI_ACTION=balloon\"}"
	expect_api 204 PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 256}'
	expect_api 204 PUT /balloon '{"amount_mib": 0, "deflate_on_oom": false, "stats_polling_interval_s": 1}'
	expect_api 200 GET /balloon
	[ "$API_BODY" = '{"amount_mib":0,"deflate_on_oom":false,"stats_polling_interval_s":1}' ] ||
		fail "GET /balloon before the start: $API_BODY"
	expect_api 400 PATCH /balloon '{"amount_mib": 128}'
	expect_api 204 PUT /actions '{"action_type": "InstanceStart"}'
	wait_console '^balloon-filled$' 90 || fail "the guest did not fill its memory ($(head -n 1 "$STDERR"))"
	expect_value balloon_driver 1
	expect_api 200 GET /vm/stats
	rss_full=$(body_uint rss_kib)

	expect_api 204 PATCH /balloon '{"amount_mib": 128}'
	wait_console '^balloon-inflated$' 30 || fail "the guest's MemTotal did not drop by 128 MiB"
	expect_api 200 GET /vm/stats
	rss_inflated=$(body_uint rss_kib)
	echo "  kvmini's RSS: $rss_full KiB filled, $rss_inflated KiB with the balloon inflated"
	[ $((rss_full - rss_inflated)) -ge $((64 * MIB_KB)) ] ||
		fail "kvmini's RSS went from $rss_full to $rss_inflated KiB: not 64 MiB less"
	expect_api 200 GET /balloon
	[ "$(body_uint amount_mib)" = 128 ] || fail "GET /balloon after the PATCH: $API_BODY"
	# The guest writes actual as it goes, and sends statistics every second.
	waited=0
	while :; do
		expect_api 200 GET /balloon/statistics
		[ "$(body_uint actual_mib)" = 128 ] && [ -n "$(body_uint free_memory)" ] && break
		[ "$waited" -lt 10 ] || fail "GET /balloon/statistics: not actual_mib 128 and the guest's numbers: $API_BODY"
		sleep 1
		waited=$((waited + 1))
	done
	if [ "$(body_uint target_mib)" != 128 ] || [ "$(body_uint target_pages)" != 32768 ] ||
		[ "$(body_uint actual_pages)" != 32768 ]; then
		fail "GET /balloon/statistics: $API_BODY"
	fi
	total=$(body_uint total_memory)
	if [ "$total" -le $((64 << 20)) ] || [ "$total" -gt $((256 << 20)) ]; then
		fail "GET /balloon/statistics: total_memory $total is not the guest's"
	fi
	expect_api 400 PATCH /balloon/statistics '{"stats_polling_interval_s": 0}'
	expect_api 204 PATCH /balloon/statistics '{"stats_polling_interval_s": 2}'
	expect_api 400 PATCH /balloon '{"amount_mib": 257}'

	expect_api 204 PATCH /balloon '{"amount_mib": 0}'
	wait_kvmini 60
	expect_exit 0
	expect_console '^balloon-done'
	start=$(console_value balloon_memtotal_kb)
	inflated=$(console_value balloon_memtotal_inflated_kb)
	deflated=$(console_value balloon_memtotal_deflated_kb)
	[ $((start - inflated)) -eq $((128 * MIB_KB)) ] ||
		fail "the guest's MemTotal went from $start to $inflated KiB, not 128 MiB less"
	[ "$deflated" = "$start" ] || fail "the guest's MemTotal is $deflated KiB after deflating, $start before"
	expect_value balloon_refill ok
}

run_case balloon balloon
end_cases
