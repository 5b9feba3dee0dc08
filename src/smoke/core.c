// SPDX-License-Identifier: Apache-2.0
#include "smoke/core.h"

#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/procfs.h>
#include <sys/user.h>

#include "snapshot/memory.h"

#define NOTE_NAME "CORE"
/* A note: its header, "CORE\0" padded to 8, the descriptor (both structures are multiples of 4). */
#define NOTE_SIZE(desc) (sizeof(Elf64_Nhdr) + 8 + (desc))

static int put(int fd, const void *buf, size_t len, uint64_t off, struct errmsg *e)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return errmsg_set(e, n < 0 ? errno : EIO, "core file: write at %llu", (unsigned long long)off);
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static uint8_t *add_note(uint8_t *p, uint32_t type, const void *desc, size_t len)
{
	Elf64_Nhdr nh = { .n_namesz = sizeof(NOTE_NAME), .n_descsz = (Elf64_Word)len, .n_type = type };

	memcpy(p, &nh, sizeof(nh));
	memcpy(p + sizeof(nh), NOTE_NAME, sizeof(NOTE_NAME)); /* the rest of its 8 bytes is the buffer's zeros */
	memcpy(p + sizeof(nh) + 8, desc, len);
	return p + NOTE_SIZE(len);
}

/* The registers gdb reads, in struct user_regs_struct's order, from KVM's. */
static void prstatus(struct elf_prstatus *st, int pid, const struct kvm_regs *r, const struct kvm_sregs *s)
{
	struct user_regs_struct u = {
		.r15 = r->r15, .r14 = r->r14, .r13 = r->r13, .r12 = r->r12, .rbp = r->rbp, .rbx = r->rbx,
		.r11 = r->r11, .r10 = r->r10, .r9 = r->r9, .r8 = r->r8, .rax = r->rax, .rcx = r->rcx,
		.rdx = r->rdx, .rsi = r->rsi, .rdi = r->rdi, .orig_rax = ~0ULL, .rip = r->rip,
		.cs = s->cs.selector, .eflags = r->rflags, .rsp = r->rsp, .ss = s->ss.selector,
		.fs_base = s->fs.base, .gs_base = s->gs.base, .ds = s->ds.selector, .es = s->es.selector,
		.fs = s->fs.selector, .gs = s->gs.selector,
	};

	_Static_assert(sizeof(u) == sizeof(st->pr_reg), "user_regs_struct is elf_gregset_t");
	memset(st, 0, sizeof(*st));
	st->pr_pid = pid;
	memcpy(&st->pr_reg, &u, sizeof(u));
}

int core_write(int fd, const struct guest_mem *mem, const struct kvm_regs *regs, const struct kvm_sregs *sregs,
	       size_t nr_vcpus, struct errmsg *e)
{
	unsigned nr_phdrs = 1 + mem->nr_regions;
	size_t notes_len = nr_vcpus * NOTE_SIZE(sizeof(struct elf_prstatus)) + NOTE_SIZE(sizeof(struct elf_prpsinfo));
	uint64_t notes_off = sizeof(Elf64_Ehdr) + nr_phdrs * sizeof(Elf64_Phdr);
	uint64_t data_off = (notes_off + notes_len + GUEST_PAGE_SIZE - 1) & ~(GUEST_PAGE_SIZE - 1);
	Elf64_Ehdr eh = {
		.e_type = ET_CORE, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
		.e_phoff = sizeof(Elf64_Ehdr), .e_ehsize = sizeof(Elf64_Ehdr),
		.e_phentsize = sizeof(Elf64_Phdr), .e_phnum = (Elf64_Half)nr_phdrs,
	};
	Elf64_Phdr ph[1 + 2];
	struct elf_prpsinfo ps = { .pr_state = 0, .pr_sname = 'R' };
	uint8_t *notes, *p;
	uint64_t off = data_off;
	int rc;

	if (ftruncate(fd, 0))
		return errmsg_set(e, errno, "core file: truncate");
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	ph[0] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = notes_off, .p_filesz = notes_len, .p_align = 4 };
	for (unsigned i = 0; i < mem->nr_regions; i++) {
		const struct guest_region *r = &mem->regions[i];

		ph[1 + i] = (Elf64_Phdr){
			.p_type = PT_LOAD, .p_flags = PF_R | PF_W | PF_X, .p_offset = off,
			.p_vaddr = CORE_DIRECT_MAP + r->gpa, .p_paddr = r->gpa,
			.p_filesz = r->size, .p_memsz = r->size, .p_align = GUEST_PAGE_SIZE,
		};
		off += r->size;
	}
	notes = calloc(1, notes_len);
	if (!notes)
		return errmsg_set(e, ENOMEM, "core file: notes");
	p = notes;
	for (size_t v = 0; v < nr_vcpus; v++) {
		struct elf_prstatus st;

		prstatus(&st, (int)v + 1, &regs[v], &sregs[v]);
		p = add_note(p, NT_PRSTATUS, &st, sizeof(st));
	}
	memcpy(ps.pr_fname, "kvmini-guest", sizeof("kvmini-guest"));
	add_note(p, NT_PRPSINFO, &ps, sizeof(ps));
	rc = put(fd, &eh, sizeof(eh), 0, e);
	if (!rc)
		rc = put(fd, ph, nr_phdrs * sizeof(Elf64_Phdr), sizeof(eh), e);
	if (!rc)
		rc = put(fd, notes, notes_len, notes_off, e);
	free(notes);
	/* The file's full length first: pages left unwritten are holes that read as zeros. */
	if (!rc && ftruncate(fd, (off_t)off))
		rc = errmsg_set(e, errno, "core file: size %llu", (unsigned long long)off);
	for (unsigned i = 0; i < mem->nr_regions && !rc; i++)
		for (uint64_t pg = 0; pg < mem->regions[i].size && !rc; pg += GUEST_PAGE_SIZE)
			if (!snapshot_page_is_zero(mem->regions[i].host + pg))
				rc = put(fd, mem->regions[i].host + pg, GUEST_PAGE_SIZE, ph[1 + i].p_offset + pg, e);
	return rc;
}
