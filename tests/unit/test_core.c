// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <elf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/procfs.h>
#include <sys/stat.h>
#include <sys/user.h>

#include "smoke/core.h"

#define RAM (64 * 4096)

static void test_core_parses_back(void **state)
{
	uint8_t *ram = aligned_alloc(4096, RAM);
	struct kvm_regs regs[2] = { { .rip = 0xffffffff81001234, .rsp = 0xffffc90000003f00, .rax = 7, .rflags = 0x246 },
				    { .rip = 0xffffffff81b01e2f, .r15 = 15 } };
	struct kvm_sregs sregs[2] = { { .cs.selector = 0x10, .ss.selector = 0x18, .gs.base = 0xffff88803ec00000 },
				      { .cs.selector = 0x10 } };
	struct guest_mem mem;
	struct errmsg e = { 0 };
	int fd = memfd_create("core", MFD_CLOEXEC);
	uint8_t *file;
	struct stat st;
	Elf64_Ehdr eh;
	Elf64_Phdr ph[2];
	size_t off;
	int rc;

	(void)state;
	assert_true(fd >= 0);
	memset(ram, 0, RAM);
	memcpy(ram + 5 * 4096 + 100, "guest bytes", 11);
	ram[RAM - 1] = 0xaa;
	guest_mem_wrap(&mem, ram, RAM);
	assert_int_equal(mem.nr_regions, 1);
	rc = core_write(fd, &mem, regs, sregs, 2, &e);
	if (rc)
		fail_msg("core_write: %d %s", rc, e.text);
	assert_int_equal(fstat(fd, &st), 0);
	file = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(file != MAP_FAILED);

	memcpy(&eh, file, sizeof(eh));
	assert_memory_equal(eh.e_ident, ELFMAG, SELFMAG);
	assert_int_equal(eh.e_ident[EI_CLASS], ELFCLASS64);
	assert_int_equal(eh.e_type, ET_CORE);
	assert_int_equal(eh.e_machine, EM_X86_64);
	assert_int_equal(eh.e_phnum, 2);
	memcpy(ph, file + eh.e_phoff, sizeof(ph));

	/* Notes: PRSTATUS for vCPU 0 and 1, then PRPSINFO. */
	assert_int_equal(ph[0].p_type, PT_NOTE);
	off = ph[0].p_offset;
	for (int v = 0; v < 3; v++) {
		Elf64_Nhdr nh;

		memcpy(&nh, file + off, sizeof(nh));
		assert_int_equal(nh.n_namesz, 5);
		assert_string_equal((const char *)file + off + sizeof(nh), "CORE");
		if (v < 2) {
			struct elf_prstatus pr;
			struct user_regs_struct u;

			assert_int_equal(nh.n_type, NT_PRSTATUS);
			assert_int_equal(nh.n_descsz, sizeof(pr));
			memcpy(&pr, file + off + sizeof(nh) + 8, sizeof(pr));
			memcpy(&u, &pr.pr_reg, sizeof(u));
			assert_int_equal(pr.pr_pid, v + 1);
			assert_int_equal(u.rip, regs[v].rip);
			assert_int_equal(u.r15, regs[v].r15);
			assert_int_equal(u.cs, 0x10);
			if (v == 0) {
				assert_int_equal(u.rsp, 0xffffc90000003f00);
				assert_int_equal(u.rax, 7);
				assert_int_equal(u.eflags, 0x246);
				assert_int_equal(u.ss, 0x18);
				assert_int_equal(u.gs_base, 0xffff88803ec00000);
			}
		} else {
			struct elf_prpsinfo ps;

			assert_int_equal(nh.n_type, NT_PRPSINFO);
			memcpy(&ps, file + off + sizeof(nh) + 8, sizeof(ps));
			assert_string_equal(ps.pr_fname, "kvmini-guest");
		}
		off += sizeof(nh) + 8 + nh.n_descsz;
	}
	assert_int_equal(off, ph[0].p_offset + ph[0].p_filesz);

	/* RAM: at its guest-physical address and its direct-map address, byte for byte. */
	assert_int_equal(ph[1].p_type, PT_LOAD);
	assert_int_equal(ph[1].p_paddr, 0);
	assert_int_equal(ph[1].p_vaddr, 0xffff888000000000);
	assert_int_equal(ph[1].p_filesz, RAM);
	assert_int_equal(ph[1].p_offset % 4096, 0);
	assert_int_equal((uint64_t)st.st_size, ph[1].p_offset + RAM);
	assert_memory_equal(file + ph[1].p_offset, ram, RAM);
	/* Zero pages are holes: only two pages hold data. */
	assert_true((uint64_t)st.st_blocks * 512 <= ph[1].p_offset + 3 * 4096);

	munmap(file, (size_t)st.st_size);
	close(fd);
	free(ram);
}

static void test_core_write_error(void **state)
{
	uint8_t *ram = aligned_alloc(4096, RAM);
	struct kvm_regs regs = { 0 };
	struct kvm_sregs sregs = { 0 };
	struct guest_mem mem;
	struct errmsg e = { 0 };
	int fd[2];

	(void)state;
	memset(ram, 1, RAM);
	guest_mem_wrap(&mem, ram, RAM);
	assert_int_equal(pipe(fd), 0);
	/* A pipe cannot be truncated: a clear error, no crash. */
	assert_true(core_write(fd[1], &mem, &regs, &sregs, 1, &e) < 0);
	assert_non_null(strstr(e.text, "core file"));
	close(fd[0]);
	close(fd[1]);
	free(ram);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_core_parses_back),
		cmocka_unit_test(test_core_write_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
