# kvmini: see README.md. `make` builds, `make check` tests, `make run` boots the default guest.

BUILD      := build
CC         := gcc
# Small rather than fast: nearly all of the static binary ends up resident
# (the kernel maps the cached pages around each page fault), so a KiB of code
# is a KiB of VMM memory (docs/benchmarks.md), while kvmini's own work per VM
# exit is tiny next to the exit. Unused functions are dropped at link time.
CFLAGS     := -Os -g -ffunction-sections -fdata-sections
WARNINGS   := -Wall -Wextra -Werror
CPPFLAGS   := -std=gnu11 -D_GNU_SOURCE -Iinclude -I$(BUILD) -MMD -MP
SANITIZE   := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
# ThreadSanitizer cannot share a binary with ASan: the unit tests are built a third time for it. It does not
# model fences (gcc warns), and kvmini's only fences order its accesses against the guest's, which it cannot see.
TSAN       := -fsanitize=thread -fno-omit-frame-pointer -Wno-tsan
# kvmini's semantic version (the VERSION file), then the commit as build metadata: 1.0.0+3e10d8d. At least
# 0.21.1, the oldest Firecracker Kata Containers accepts from `--version` (docs/kata.md).
VERSION    := $(shell cat VERSION)+$(shell git describe --always --dirty --exclude='*' 2>/dev/null || echo unknown)
KVMINI_BENCH_MODE ?= auto

SRC        := $(sort $(wildcard src/*.c src/*/*.c))
LIB_SRC    := $(filter-out src/main.c,$(SRC))
OBJ        := $(SRC:%.c=$(BUILD)/obj/%.o)
LIB_OBJ    := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
ASAN_OBJ   := $(LIB_SRC:%.c=$(BUILD)/asan/%.o)
TSAN_OBJ   := $(LIB_SRC:%.c=$(BUILD)/tsan/%.o)
UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit/%)
ASAN_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit-asan/%)
TSAN_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit-tsan/%)
GUEST_SRC  := $(wildcard guests/tiny/*.S)
GUESTS     := $(GUEST_SRC:guests/tiny/%.S=$(BUILD)/guests/%.elf)

.PHONY: all check run bench install install-test unit unit-asan unit-tsan api-replay fuzz bench-selftest boot-tests clean FORCE
.DELETE_ON_ERROR:

all: $(BUILD)/kvmini $(BUILD)/kvmini.1 $(GUESTS) $(BUILD)/guests/vsock-tool $(BUILD)/guests/snapshot-cpuid \
	$(BUILD)/guests/blk-load $(BUILD)/guests/net-load

# One static binary: it runs unchanged inside the nested test bench's initramfs.
$(BUILD)/kvmini: $(OBJ)
	@echo '  LINK    $@'
	@$(CC) -static -pthread -Wl,--gc-sections -o $@ $^

# The man page comes from the same option tables and device records as kvmini's help, so it is written by kvmini.
$(BUILD)/kvmini.1: $(BUILD)/kvmini
	@echo '  MAN     $@'
	@$(BUILD)/kvmini help --man > $@

# make install PREFIX=/usr/local DESTDIR=: the binary and its man page.
PREFIX     := /usr/local
DESTDIR    :=
install: $(BUILD)/kvmini $(BUILD)/kvmini.1
	install -D -m 0755 $(BUILD)/kvmini $(DESTDIR)$(PREFIX)/bin/kvmini
	install -D -m 0644 $(BUILD)/kvmini.1 $(DESTDIR)$(PREFIX)/share/man/man1/kvmini.1

# Installs into a scratch DESTDIR and checks what landed there.
install-test:
	timeout 300 tests/install/install.sh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo '  CC      $<'
	@$(CC) $(CPPFLAGS) $(WARNINGS) $(CFLAGS) -c $< -o $@

# $(call write_if_changed,TEXT): the target gets TEXT, rewritten only when
# TEXT changes, so what depends on it is rebuilt then and only then.
write_if_changed = mkdir -p $(dir $@) && echo '$(1)' > $@.tmp && { cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@; }

# The version comes from VERSION and git.
$(BUILD)/version.h: FORCE
	@$(call write_if_changed,#define KVMINI_VERSION "$(VERSION)")

# The compiler and its flags: objects are rebuilt when these change too.
$(BUILD)/flags: FORCE
	@$(call write_if_changed,$(CC) $(CPPFLAGS) $(WARNINGS) $(CFLAGS))

$(OBJ): $(BUILD)/flags

$(BUILD)/obj/src/cmd/version.o $(BUILD)/asan/src/cmd/version.o $(BUILD)/tsan/src/cmd/version.o \
	$(BUILD)/fuzz/obj/src/cmd/version.o: $(BUILD)/version.h

$(BUILD)/asan/%.o: %.c
	@mkdir -p $(dir $@)
	@echo '  CC      $<'
	@$(CC) $(CPPFLAGS) $(WARNINGS) -O1 -g $(SANITIZE) -c $< -o $@

$(BUILD)/tsan/%.o: %.c
	@mkdir -p $(dir $@)
	@echo '  CC      $<'
	@$(CC) $(CPPFLAGS) $(WARNINGS) -O1 -g $(TSAN) -c $< -o $@

# Unit tests link every library object, as kvmini does (the device table is a linker
# section filled by whichever objects are linked), except src/cmd/help.o, which
# needs the command table in main.c. $< and the objects only: the generated .d
# file adds headers to the prerequisites.
UNIT_OBJ   := $(filter-out $(BUILD)/obj/src/cmd/help.o,$(LIB_OBJ))
UNIT_ASAN_OBJ := $(filter-out $(BUILD)/asan/src/cmd/help.o,$(ASAN_OBJ))
UNIT_TSAN_OBJ := $(filter-out $(BUILD)/tsan/src/cmd/help.o,$(TSAN_OBJ))
# Named only by pattern rules, make would take the sanitizer objects for intermediates and delete them after a
# clean build, so the next run compiled them all again.
.SECONDARY: $(ASAN_OBJ) $(TSAN_OBJ)

$(BUILD)/unit/%: tests/unit/%.c $(UNIT_OBJ)
	@mkdir -p $(dir $@)
	@echo '  LINK    $@'
	@$(CC) $(CPPFLAGS) $(WARNINGS) $(CFLAGS) -o $@ $(UNIT_EXTRA) $< $(UNIT_OBJ) -lcmocka -pthread

$(BUILD)/unit-asan/%: tests/unit/%.c $(UNIT_ASAN_OBJ)
	@mkdir -p $(dir $@)
	@echo '  LINK    $@'
	@$(CC) $(CPPFLAGS) $(WARNINGS) -O1 -g $(SANITIZE) -o $@ $(UNIT_EXTRA) $< $(UNIT_ASAN_OBJ) -lcmocka -pthread

$(BUILD)/unit-tsan/%: tests/unit/%.c $(UNIT_TSAN_OBJ)
	@mkdir -p $(dir $@)
	@echo '  LINK    $@'
	@$(CC) $(CPPFLAGS) $(WARNINGS) -O1 -g $(TSAN) -o $@ $(UNIT_EXTRA) $< $(UNIT_TSAN_OBJ) -lcmocka -pthread

# Tests of devices and transports get their host from tests/common/fake_host.c (compiled into them, per flavour):
# every test that includes its header, so a new device's test needs no line here. It goes before $< on the
# command line: gcc writes one .d file for both, and the test's own, written last, wins.
FAKE_HOST_TESTS := $(basename $(notdir $(shell grep -l '"fake_host.h"' $(UNIT_SRC))))
$(foreach t,$(FAKE_HOST_TESTS),$(BUILD)/unit/$(t) $(BUILD)/unit-asan/$(t) $(BUILD)/unit-tsan/$(t)): \
	UNIT_EXTRA := -Itests/common tests/common/fake_host.c
$(foreach t,$(FAKE_HOST_TESTS),$(BUILD)/unit/$(t) $(BUILD)/unit-asan/$(t) $(BUILD)/unit-tsan/$(t)): \
	tests/common/fake_host.c tests/common/fake_host.h
# The router's tests run over the API's fake backend, as its fuzzers do.
$(foreach f,unit unit-asan unit-tsan,$(BUILD)/$(f)/test_router): \
	UNIT_EXTRA := -Itests/common tests/common/fake_backend.c
$(foreach f,unit unit-asan unit-tsan,$(BUILD)/$(f)/test_router): tests/common/fake_backend.c tests/common/fake_backend.h
# Firecracker's rejections go through the router too, and their answers through the API tests' schema checker.
$(foreach f,unit unit-asan unit-tsan,$(BUILD)/$(f)/test_fc_rejections): \
	UNIT_EXTRA := -Itests/common -Itests/api tests/common/fake_backend.c tests/api/schema_check.c
$(foreach f,unit unit-asan unit-tsan,$(BUILD)/$(f)/test_fc_rejections): tests/common/fake_backend.c \
	tests/common/fake_backend.h tests/api/schema_check.c tests/api/schema_check.h

# The API tests' schema checker (tests/api/README.md), on kvmini's own JSON reader; static, so that it runs in the
# nested bench's L1 as kvmini does. Its test links the checker's library part.
API_CHECK_SRC := tests/api/api_check.c tests/api/schema_check.c src/api/json.c src/errmsg.c
$(BUILD)/api-check: $(API_CHECK_SRC) tests/api/schema_check.h include/api/json.h include/errmsg.h
	@mkdir -p $(dir $@)
	@echo '  CC      $@'
	@$(CC) $(CPPFLAGS) $(WARNINGS) $(CFLAGS) -static -o $@ $(API_CHECK_SRC)
$(foreach f,unit unit-asan unit-tsan,$(BUILD)/$(f)/test_api_schema): UNIT_EXTRA := -Itests/api tests/api/schema_check.c
$(foreach f,unit unit-asan unit-tsan,$(BUILD)/$(f)/test_api_schema): tests/api/schema_check.c tests/api/schema_check.h

# Tiny freestanding test guests, linked as PVH ELF kernels.
$(BUILD)/guests/%.elf: guests/tiny/%.S guests/tiny/pvh.ld guests/tiny/pvh-note.h
	@mkdir -p $(dir $@)
	$(CC) -c -Iguests/tiny -o $(@:.elf=.o) $<
	ld -m elf_x86_64 -nostdlib -T guests/tiny/pvh.ld -o $@ $(@:.elf=.o)

# Both ends of a vsock stream (guests/vsock/vsock-tool.c): /bin/vsock-tool in the guest initramfs, and the
# host side in L1 (/bench/guests/vsock-tool) for the boot test and the vsock benchmark.
$(BUILD)/guests/vsock-tool: guests/vsock/vsock-tool.c
	@mkdir -p $(dir $@)
	@echo '  CC      $@'
	@$(CC) -std=gnu11 $(WARNINGS) -static -O2 -o $@ $<

# The I/O benchmarks' load generators (guests/io/, docs/benchmarks.md): in the guest initramfs and in L1, so
# static like vsock-tool; make bench's blkio and net rows use them.
$(BUILD)/guests/%-load: guests/io/%-load.c
	@mkdir -p $(dir $@)
	@echo '  CC      $@'
	@$(CC) -std=gnu11 $(WARNINGS) -static -O2 -o $@ $<

# The boot test snapshot-corrupt's patcher (tests/boot/snapshot-cpuid.c), on kvmini's own snapshot reader; in L1
# as /bench/guests/snapshot-cpuid, beside the guests (L1 has no python to patch a file and fix its CRC).
SNAPSHOT_CPUID_OBJ := $(BUILD)/obj/src/snapshot/format.o $(BUILD)/obj/src/state.o $(BUILD)/obj/src/errmsg.o
$(BUILD)/guests/snapshot-cpuid: tests/boot/snapshot-cpuid.c $(SNAPSHOT_CPUID_OBJ)
	@mkdir -p $(dir $@)
	@echo '  CC      $@'
	@$(CC) -std=gnu11 -D_GNU_SOURCE -Iinclude $(WARNINGS) -O2 -static -pthread -Wl,--gc-sections -o $@ $< \
		$(SNAPSHOT_CPUID_OBJ)

# Built-in init: a freestanding static program (no libc), PID 1 of the initramfs of `kvmini smoke`, `kvmini exec`
# and `run --rootfs`. Its pure parts also build as ordinary C for tests/unit/test_guest_init.c; mem.c stands in
# for the libc functions they call (no loop distribution, or its loops would become calls to themselves).
INIT_CFLAGS := -ffreestanding -nostdlib -static -fno-pie -no-pie -fno-stack-protector \
	       -fno-asynchronous-unwind-tables -fno-tree-loop-distribute-patterns -O2
INIT_PURE_SRC := guests/init/conf.c guests/init/frames.c guests/init/path_search.c guests/init/raw_tty.c \
		 guests/init/text.c
INIT_SRC := guests/init/start.S guests/init/init.c guests/init/setup.c guests/init/exec.c guests/init/mem.c \
	    $(INIT_PURE_SRC)
$(BUILD)/guests/init: $(INIT_SRC) $(wildcard guests/init/*.h) include/devices/boot_timer.h include/exec/proto.h
	@mkdir -p $(dir $@)
	@echo '  CC      $@'
	@$(CC) -std=gnu11 -Iinclude $(WARNINGS) $(INIT_CFLAGS) -o $@ $(INIT_SRC)
	@strip $@
$(foreach f,unit unit-asan unit-tsan,$(BUILD)/$(f)/test_guest_init): UNIT_EXTRA := -Iguests/init $(INIT_PURE_SRC)
$(foreach f,unit unit-asan unit-tsan,$(BUILD)/$(f)/test_guest_init): $(INIT_PURE_SRC) $(wildcard guests/init/*.h)

# Built-in smoke init, embedded into kvmini
# (.incbin is not seen by -MMD, hence the explicit prerequisite; unit tests link the blob too.)
INIT_BLOB_OBJ := $(BUILD)/obj/src/boot/init_blob.o
$(INIT_BLOB_OBJ): src/boot/init_blob.S $(BUILD)/guests/init
	@mkdir -p $(dir $@)
	@echo '  AS      $<'
	@$(CC) -c -DINIT_BLOB_PATH='"$(BUILD)/guests/init"' -o $@ $<
$(BUILD)/kvmini $(UNIT_BIN) $(ASAN_BIN) $(TSAN_BIN): $(INIT_BLOB_OBJ)
UNIT_OBJ += $(INIT_BLOB_OBJ)
UNIT_ASAN_OBJ += $(INIT_BLOB_OBJ)
UNIT_TSAN_OBJ += $(INIT_BLOB_OBJ)

unit: $(UNIT_BIN)
	@for t in $^; do echo "== $$t"; $$t || exit 1; done

unit-asan: $(ASAN_BIN)
	@for t in $^; do echo "== $$t (ASan+UBSan)"; $$t || exit 1; done

# halt_on_error: the first data race fails the test, as ASan's first error does.
unit-tsan: $(TSAN_BIN)
	@for t in $^; do echo "== $$t (TSan)"; TSAN_OPTIONS=halt_on_error=1 $$t || exit 1; done

# libFuzzer targets (clang only): tests/fuzz/fuzz_NAME.c and the sources listed for it, each compiled once with
# the sanitizers and fuzzer coverage into $(BUILD)/fuzz/obj. Adding a target is one `$(eval ...)` line; its seeds
# are tests/fuzz/corpus-NAME/, its dictionary tests/fuzz/NAME.dict if there is one. `make fuzz` runs each for
# FUZZ_TIME seconds (FUZZ_TIME=600 for a longer hunt; make fuzz-NAME runs one); what a run learns stays in
# $(BUILD)/fuzz/corpus-NAME, a crash or a slow input lands in $(BUILD)/fuzz/NAME-*.
FUZZ_TIME    := 30
# Seconds one input may take before libFuzzer calls it a hang.
FUZZ_TIMEOUT := 10
# (clang calls the GNU extension gcc accepts in gnu11 mode, a flexible struct inside a struct, a warning.)
FUZZ_CC      := clang -std=gnu11 -D_GNU_SOURCE -Iinclude -I$(BUILD) -Itests/common $(WARNINGS) \
		-Wno-gnu-variable-sized-type-not-at-end -O1 -g -fno-sanitize-recover=all
FUZZ_TARGETS :=
# What the fuzzed code logs (a broken guest's device errors) is closed off: libFuzzer still reports (-close_fd_mask).
FUZZ_RUN_FLAGS := -close_fd_mask=2

# $(call fuzz_target,NAME,SOURCES,LIBFUZZER FLAGS)
define fuzz_target
FUZZ_TARGETS += $(1)
$(BUILD)/fuzz/fuzz_$(1): $(patsubst %,$(BUILD)/fuzz/obj/%.o,tests/fuzz/fuzz_$(1) $(basename $(2)))
	@mkdir -p $$(dir $$@)
	@echo '  CLANG   $$@'
	@$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $$@ $$(filter %.o,$$^) -pthread

.PHONY: fuzz-$(1)
fuzz-$(1): $(BUILD)/fuzz/fuzz_$(1)
	@mkdir -p $(BUILD)/fuzz/corpus-$(1)
	@echo '== fuzz_$(1): $$(FUZZ_TIME) s'
	$(BUILD)/fuzz/fuzz_$(1) -max_total_time=$$(FUZZ_TIME) -timeout=$$(FUZZ_TIMEOUT) $$(FUZZ_RUN_FLAGS) \
		-print_final_stats=1 $(3) $$(patsubst %,-dict=%,$$(wildcard tests/fuzz/$(1).dict)) \
		-artifact_prefix=$(BUILD)/fuzz/$(1)- $(BUILD)/fuzz/corpus-$(1) tests/fuzz/corpus-$(1)
endef

# The device table is a linker section: these targets link every library object, as the unit tests do.
FUZZ_LIB_SRC := $(filter-out src/cmd/help.c,$(LIB_SRC)) src/boot/init_blob.S tests/common/fake_host.c

# What a control socket client sends: the HTTP parser, the router over a fake backend, the JSON reader. It links
# every library object too: the configuration of drives and interfaces lives in their devices' records.
FUZZ_API_SRC := $(FUZZ_LIB_SRC) tests/common/fake_backend.c
$(eval $(call fuzz_target,api,$(FUZZ_API_SRC),-max_len=12288))
# The server's connection handling: one client on a socketpair that sends, reads, shuts down or resets at any
# byte while the server takes its turns (the input's format: tests/fuzz/fuzz_server.c).
$(eval $(call fuzz_target,server,$(FUZZ_API_SRC),-max_len=16384 -dict=tests/fuzz/api.dict))
# What a guest driver does to a virtio device, on either transport.
$(eval $(call fuzz_target,virtio,$(FUZZ_LIB_SRC),-max_len=4096))
# A kernel file (bzImage or PVH ELF) and an initrd size, through the loader into guest RAM.
$(eval $(call fuzz_target,loader,$(FUZZ_LIB_SRC),-max_len=65536))
# Port accesses and console input to the UART and the i8042.
$(eval $(call fuzz_target,legacy,$(FUZZ_LIB_SRC),-max_len=1024))
# A saved VM's device state, read back: the reader and the framing, and the real devices' restore hooks.
$(eval $(call fuzz_target,state,$(FUZZ_LIB_SRC),-max_len=1024))
# A snapshot file (the input's format: tests/fuzz/fuzz_snapshot.c): its reader and the host compatibility check.
$(eval $(call fuzz_target,snapshot,src/snapshot/format.c src/state.c src/errmsg.c,-max_len=4096))
# A guest's test output (KTAP, TAP, kselftest's runner), as the smoke results read it.
$(eval $(call fuzz_target,ktap,src/smoke/ktap.c,-max_len=16384))
# The frames a guest's init sends kvmini exec over its channel, then the end of the stream.
$(eval $(call fuzz_target,exec_relay,src/exec/relay.c src/clock.c,-max_len=8192))
# Requests of a virtio-fs driver's to the FUSE server, against a small fresh tree (the format: tests/fuzz/fuzz_share.c).
$(eval $(call fuzz_target,share,src/fs/share.c src/errmsg.c,-max_len=4096))
# A guest's console output, line by line, through the crash-report classifier.
$(eval $(call fuzz_target,report,src/smoke/report.c src/errmsg.c,-max_len=16384))
# A kernel .config, through the preflight's parser and rules (and the initrd magic detection).
$(eval $(call fuzz_target,kconfig,src/smoke/preflight.c src/boot/bzimage.c src/errmsg.c,-max_len=16384 -dict=tests/fuzz/kconfig.dict))
# A guest's virtio-net header and frame length through the transmit check, and the receive planner (the format:
# tests/fuzz/fuzz_vnet_hdr.c).
$(eval $(call fuzz_target,vnet_hdr,src/virtio/vnet_hdr.c,-max_len=1100))
# A guest kernel's System.map or vmlinux, read by both parsers (tests/fuzz/fuzz_symbols.c).
$(eval $(call fuzz_target,symbols,src/smoke/symbols.c,-max_len=8192))

$(BUILD)/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo '  CLANG   $<'
	@$(FUZZ_CC) -MMD -MP -fsanitize=fuzzer-no-link,address,undefined -c $< -o $@

$(BUILD)/fuzz/obj/src/boot/init_blob.o: src/boot/init_blob.S $(BUILD)/guests/init
	@mkdir -p $(dir $@)
	@echo '  AS      $<'
	@$(CC) -c -DINIT_BLOB_PATH='"$(BUILD)/guests/init"' -o $@ $<

fuzz: $(FUZZ_TARGETS:%=fuzz-%)

# Firecracker's clients' request sequences, replayed up to their start on the host (no KVM needed); the boot test
# fc-clients replays them whole (tests/api/README.md).
api-replay: $(BUILD)/kvmini $(BUILD)/api-check
	@rc=0; for s in tests/api/sequences/*.seq; do \
		timeout 120 tests/api/replay.sh --kvmini $(BUILD)/kvmini --check $(BUILD)/api-check \
			--work $(BUILD)/api-replay --host $$s || rc=1; \
	done; exit $$rc
# The boot test fc-clients runs the same checker (shipped into L1 with tests/api).
boot-tests: $(BUILD)/api-check

# The bench's retry logic, on purpose-broken L1 runs (always nested: it tests the nested harness).
bench-selftest: all
	tests/bench/selftest.sh --kvmini $(BUILD)/kvmini --out $(BUILD)/test-results/selftest

# Nested, the tests are split between BENCH_SHARDS L1 machines side by side (one core each).
BENCH_SHARDS ?= 2
boot-tests: all
	tests/bench/run.sh --kvmini $(BUILD)/kvmini --out $(BUILD)/test-results --mode $(KVMINI_BENCH_MODE) \
		--shards $(BENCH_SHARDS)

# The README's two set-up commands: each installs what it is missing first.
check:
	scripts/install-deps.sh check
	$(MAKE) unit
	$(MAKE) api-replay
	$(MAKE) unit-asan
	$(MAKE) unit-tsan
	$(MAKE) install-test
	if command -v clang >/dev/null; then $(MAKE) fuzz-build; else echo 'check: no clang, fuzzing skipped'; fi
	$(MAKE) -j2 check-fuzz bench-selftest
	$(MAKE) -j1 boot-tests

# The fuzzers take one core and the bench's self-test, whose L1 has one CPU,
# the other; then the boot tests take both (two L1 machines): that keeps check
# under 30 minutes on 2 cores.
.PHONY: fuzz-build check-fuzz
fuzz-build: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)
check-fuzz:
	if command -v clang >/dev/null; then $(MAKE) -j1 fuzz; fi

run:
	scripts/install-deps.sh run
	$(MAKE) all
	tests/bench/run-interactive.sh --kvmini $(BUILD)/kvmini

# kvmini side by side with QEMU (microvm and pc) on the same guest; not part of check (docs/benchmarks.md).
bench:
	scripts/install-deps.sh bench
	$(MAKE) all
	bench/perf.sh --kvmini $(BUILD)/kvmini

clean:
	rm -rf $(BUILD)/obj $(BUILD)/asan $(BUILD)/tsan $(BUILD)/unit $(BUILD)/unit-asan $(BUILD)/unit-tsan $(BUILD)/version.h \
	       $(BUILD)/guests $(BUILD)/kvmini $(BUILD)/kvmini.1 $(BUILD)/api-check $(BUILD)/api-check.d $(BUILD)/api-replay \
	       $(BUILD)/test-results $(BUILD)/fuzz $(BUILD)/perf $(BUILD)/perf-results

FORCE:

# Only kvmini's own dependency files: build/cache holds unpacked trees (a kernel's) with .d folders of their own.
-include $(shell find $(BUILD)/obj $(BUILD)/asan $(BUILD)/tsan $(BUILD)/unit $(BUILD)/unit-asan $(BUILD)/unit-tsan \
	$(BUILD)/fuzz -name '*.d' -type f 2>/dev/null)
