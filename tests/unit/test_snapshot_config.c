// SPDX-License-Identifier: Apache-2.0
/*
 * The snapshot's configuration section: a configuration with every section
 * and the machine's own fields, written and read into a daemon's fresh
 * configuration, comes back the same (and writes the same bytes again); a
 * drive file gone, a vsock socket left behind, garbage and an unknown
 * version are refused with one line, the configuration left as it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <cmocka.h>

#include "api/config.h"
#include "snapshot/snapshot.h"
#include "state.h"
#include "virtio/blk.h"

#define TEST_TIMEOUT 20
#define TEXT_MAX 8192
/* Where the text's length lies in the section: after transport, four flags and mem_size. */
#define AT_TEXT_LEN (1 + 4 + 8)

static char dir[] = "/tmp/kvmini-snapconfig-XXXXXX";
static char drive[64], uds[64];
/* Static: a vm_config is zeroed before vm_config_init, and large. */
static struct vm_config saved, restored, before;
static char text[TEXT_MAX], text_again[TEXT_MAX];

/* A configuration of every section, as a client of the daemon would make it, and the machine's own fields. */
static void configure(struct vm_config *cfg)
{
	char file[4096];
	struct errmsg e = { "" };

	snprintf(file, sizeof(file),
		 "{\"boot-source\":{\"kernel_image_path\":\"/k\",\"initrd_path\":\"/i\",\"boot_args\":\"quiet\"},"
		 "\"machine-config\":{\"vcpu_count\":2,\"mem_size_mib\":256,\"smt\":true,\"track_dirty_pages\":true,"
		 "\"huge_pages\":\"None\"},"
		 "\"balloon\":{\"amount_mib\":16,\"deflate_on_oom\":true,\"stats_polling_interval_s\":5},"
		 "\"drives\":[{\"drive_id\":\"root\",\"path_on_host\":\"%s\",\"is_root_device\":true,"
		 "\"is_read_only\":false,\"cache_type\":\"Writeback\",\"io_engine\":\"Sync\","
		 "\"rate_limiter\":{\"ops\":{\"size\":100,\"one_time_burst\":10,\"refill_time\":1000}}}],"
		 "\"network-interfaces\":[{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap0\","
		 "\"guest_mac\":\"06:00:ac:10:00:02\",\"mtu\":9000}],"
		 "\"entropy\":{\"rate_limiter\":{\"bandwidth\":{\"size\":4096,\"refill_time\":100}}},"
		 "\"vsock\":{\"guest_cid\":3,\"uds_path\":\"%s\"}}",
		 drive, uds);
	memset(cfg, 0, sizeof(*cfg));
	vm_config_init(cfg);
	assert_int_equal(api_config_parse_file(cfg, file, strlen(file), &e), 0);
	cfg->transport = VIRTIO_TRANSPORT_MMIO;
	cfg->acpi = false;
	cfg->mmio_cmdline = true;
	cfg->mptable_too = true;
	cfg->nested = true;
	cfg->mem_size += 4096; /* `kvmini run --mem` may give pages past a whole MiB */
}

/* A daemon's configuration before any request (snapshot_read's cfg). */
static void fresh(struct vm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	vm_config_init(cfg);
	cfg->paths_from_api = true;
}

static void write_section(const struct vm_config *cfg, struct state_writer *w)
{
	state_writer_init(w);
	snapshot_config_write(cfg, w);
	assert_int_equal(w->err, 0);
}

static void test_round_trip(void **state)
{
	struct state_writer w, again;
	struct errmsg e = { "" };
	(void)state;

	configure(&saved);
	write_section(&saved, &w);
	fresh(&restored);
	assert_int_equal(snapshot_config_read(w.buf, w.len, SNAPSHOT_CONFIG_VERSION, &restored, &e), 0);

	/* Every section as GET /vm/config shows it, and the fields it does not show. */
	assert_true(api_config_format(&saved, text, sizeof(text)) > 0);
	assert_true(api_config_format(&restored, text_again, sizeof(text_again)) > 0);
	assert_string_equal(text_again, text);
	assert_int_equal(restored.transport, VIRTIO_TRANSPORT_MMIO);
	assert_false(restored.acpi);
	assert_true(restored.mmio_cmdline);
	assert_true(restored.mptable_too);
	assert_true(restored.nested);
	assert_int_equal(restored.mem_size, (256ull << 20) + 4096);
	/* Paths are a client's: no symbolic link at their end is followed. */
	assert_true(restored.paths_from_api);
	assert_true(blk_config_of(&restored)->drives[0].path_from_api);

	write_section(&restored, &again);
	assert_int_equal(again.len, w.len);
	assert_memory_equal(again.buf, w.buf, w.len);
	state_writer_free(&w);
	state_writer_free(&again);
}

/* The section refused with want; the configuration untouched. */
static void expect_refused(const uint8_t *data, size_t len, uint16_t version, const char *want)
{
	struct errmsg e = { "" };

	fresh(&restored);
	memcpy(&before, &restored, sizeof(before));
	assert_int_equal(snapshot_config_read(data, len, version, &restored, &e), -EINVAL);
	assert_string_equal(e.text, want);
	assert_memory_equal(&restored, &before, sizeof(before));
}

static void test_drive_gone(void **state)
{
	struct state_writer w;
	char want[256];
	(void)state;

	configure(&saved);
	write_section(&saved, &w);
	assert_int_equal(unlink(drive), 0);
	snprintf(want, sizeof(want), "configuration: 'drives': drive '%s': No such file or directory", drive);
	expect_refused(w.buf, w.len, SNAPSHOT_CONFIG_VERSION, want);
	close(open(drive, O_CREAT | O_WRONLY, 0600));
	state_writer_free(&w);
}

/* A killed VM leaves its listener's socket file: the restored one cannot listen there. */
static void test_vsock_uds_left(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct state_writer w;
	char want[256];
	int fd;
	(void)state;

	configure(&saved);
	write_section(&saved, &w);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", uds);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	snprintf(want, sizeof(want), "vsock uds '%s' exists: the restored VM listens there again; remove it first "
		 "(the saved VM's, if that VM is gone)", uds);
	expect_refused(w.buf, w.len, SNAPSHOT_CONFIG_VERSION, want);
	unlink(uds);
	state_writer_free(&w);
}

static void put_le(uint8_t *at, uint64_t v, unsigned size)
{
	for (unsigned i = 0; i < size; i++)
		at[i] = (uint8_t)(v >> (8 * i));
}

/* The saved section with `size` bytes at `at` set to value, refused with want. */
static void field_refused(size_t at, uint64_t value, unsigned size, const char *want)
{
	struct state_writer w;

	write_section(&saved, &w);
	put_le(w.buf + at, value, size);
	expect_refused(w.buf, w.len, SNAPSHOT_CONFIG_VERSION, want);
	state_writer_free(&w);
}

static void test_garbage(void **state)
{
	static const char garbage[] = "{\"drives\":[{\"drive_id\":";
	static const char logger[] = "{\"logger\":{\"log_path\":\"/tmp/x\"}}";
	struct state_writer w;
	char want[128];
	(void)state;

	configure(&saved);
	field_refused(0, 7, 1, "configuration state: transport: 7 is neither pci (0) nor mmio (1)");
	field_refused(1, 2, 1, "configuration state: acpi: 2 is not a boolean");
	field_refused(5, 4095, 8, "configuration state: mem_size: 4095 bytes: not whole pages of at least 64 MiB");
	write_section(&saved, &w);
	snprintf(want, sizeof(want), "configuration state: text: truncated: 4294967295 bytes, %zu left",
		 w.len - AT_TEXT_LEN - 4);
	field_refused(AT_TEXT_LEN, UINT32_MAX, 4, want);
	state_writer_free(&w);

	/* Text that is not a configuration: refused as a config file would be. */
	write_section(&saved, &w);
	w.len = AT_TEXT_LEN;
	state_put_u32(&w, sizeof(garbage) - 1);
	state_put_bytes(&w, garbage, sizeof(garbage) - 1);
	fresh(&restored);
	memcpy(&before, &restored, sizeof(before));
	{
		struct errmsg e = { "" };

		assert_int_equal(snapshot_config_read(w.buf, w.len, SNAPSHOT_CONFIG_VERSION, &restored, &e), -EINVAL);
		assert_memory_equal(e.text, "configuration: ", strlen("configuration: "));
		assert_memory_equal(&restored, &before, sizeof(before));
	}
	state_writer_free(&w);

	/* The process's log file is not the VM's: a snapshot may not name one. */
	write_section(&saved, &w);
	w.len = AT_TEXT_LEN;
	state_put_u32(&w, sizeof(logger) - 1);
	state_put_bytes(&w, logger, sizeof(logger) - 1);
	expect_refused(w.buf, w.len, SNAPSHOT_CONFIG_VERSION,
		       "configuration: 'logger' is not part of a VM's configuration");
	state_writer_free(&w);

	/* machine-config that does not match the VM's memory. */
	write_section(&saved, &w);
	put_le(w.buf + 5, 128ull << 20, 8);
	expect_refused(w.buf, w.len, SNAPSHOT_CONFIG_VERSION,
		       "configuration: machine-config has 256 MiB, the VM had 134217728 bytes");
	state_writer_free(&w);

	/* Every cut of a good section: short. */
	write_section(&saved, &w);
	for (size_t len = 0; len < w.len; len++) {
		struct errmsg e = { "" };

		fresh(&restored);
		assert_int_equal(snapshot_config_read(w.buf, len, SNAPSHOT_CONFIG_VERSION, &restored, &e), -EINVAL);
		assert_non_null(strstr(e.text, "truncated"));
	}
	state_writer_free(&w);
}

static void test_unknown_version(void **state)
{
	struct state_writer w;
	(void)state;

	configure(&saved);
	write_section(&saved, &w);
	expect_refused(w.buf, w.len, SNAPSHOT_CONFIG_VERSION + 1,
		       "configuration: version 2, this build reads version 1");
	state_writer_free(&w);
}

static int make_files(void **state)
{
	int fd;

	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(drive, sizeof(drive), "%s/disk.img", dir);
	snprintf(uds, sizeof(uds), "%s/v.sock", dir);
	fd = open(drive, O_CREAT | O_WRONLY, 0600);
	if (fd < 0 || ftruncate(fd, 1 << 20))
		return -1;
	close(fd);
	return 0;
}

static int remove_files(void **state)
{
	(void)state;
	unlink(drive);
	unlink(uds);
	rmdir(dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_drive_gone),
		cmocka_unit_test(test_vsock_uds_left),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_unknown_version),
	};

	alarm(TEST_TIMEOUT);
	return cmocka_run_group_tests(tests, make_files, remove_files);
}
