// SPDX-License-Identifier: Apache-2.0
#include <elf.h>
#include <errno.h>
#include <string.h>

#include "boot/pvh.h"

int pvh_probe(const uint8_t *img, size_t len)
{
	return len >= SELFMAG && !memcmp(img, ELFMAG, SELFMAG);
}

static const char *machine_name(unsigned machine)
{
	switch (machine) {
	case EM_386: return "i386";
	case EM_ARM: return "arm";
	case EM_AARCH64: return "aarch64";
	case EM_RISCV: return "riscv";
	case EM_PPC64: return "ppc64";
	case EM_S390: return "s390";
	default: return "unknown";
	}
}

/* The range [off, off+size) lies inside the file; written so that nothing overflows. */
static int in_file(size_t len, uint64_t off, uint64_t size)
{
	return off <= len && size <= len - off;
}

static int find_entry_note(const uint8_t *img, const Elf64_Phdr *ph, uint32_t *entry)
{
	uint64_t pos = ph->p_offset, end = ph->p_offset + ph->p_filesz;

	while (end - pos >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr nh;
		uint64_t name_off, desc_off, next;

		memcpy(&nh, img + pos, sizeof(nh));
		name_off = pos + sizeof(nh);
		desc_off = name_off + ((nh.n_namesz + 3ULL) & ~3ULL);
		next = desc_off + ((nh.n_descsz + 3ULL) & ~3ULL);
		if (next > end)
			return -EINVAL;
		if (nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY && nh.n_namesz == 4 && !memcmp(img + name_off, "Xen", 4) &&
		    nh.n_descsz >= 4) {
			memcpy(entry, img + desc_off, sizeof(*entry));
			return 1;
		}
		pos = next;
	}
	return 0;
}

int pvh_parse(const uint8_t *img, size_t len, struct pvh_info *info, struct errmsg *e)
{
	Elf64_Ehdr eh;
	int found = 0;

	if (len < EI_NIDENT || !pvh_probe(img, len))
		return errmsg_set(e, EINVAL, "not an ELF file");
	if (img[EI_CLASS] != ELFCLASS64)
		return errmsg_set(e, EINVAL, "a 32-bit ELF; kvmini boots 64-bit x86 ELF kernels");
	if (len < sizeof(eh))
		return errmsg_set(e, EINVAL, "truncated ELF header (%zu bytes)", len);
	if (img[EI_DATA] != ELFDATA2LSB)
		return errmsg_set(e, EINVAL, "a big-endian ELF, not x86-64");
	memcpy(&eh, img, sizeof(eh));
	if (eh.e_machine != EM_X86_64)
		return errmsg_set(e, EINVAL, "an ELF for machine %u (%s), not x86-64", eh.e_machine,
				  machine_name(eh.e_machine));
	if (eh.e_type != ET_EXEC)
		return errmsg_set(e, EINVAL, "an ELF that is not an executable (type %u)", eh.e_type);
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || !in_file(len, eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr)))
		return errmsg_set(e, EINVAL, "corrupt ELF: program headers outside the file");

	memset(info, 0, sizeof(*info));
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, img + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD && ph.p_type != PT_NOTE)
			continue;
		if (!in_file(len, ph.p_offset, ph.p_filesz))
			return errmsg_set(e, EINVAL, "corrupt ELF: segment %u lies outside the file", i);
		if (ph.p_type == PT_NOTE) {
			int r = found ? 0 : find_entry_note(img, &ph, &info->entry);

			if (r < 0)
				return errmsg_set(e, EINVAL, "corrupt ELF: malformed note in segment %u", i);
			found |= r;
			continue;
		}
		if (ph.p_filesz > ph.p_memsz)
			return errmsg_set(e, EINVAL, "corrupt ELF: segment %u has more file than memory bytes", i);
		if (info->nr_segments == PVH_MAX_SEGMENTS)
			return errmsg_set(e, EINVAL, "more than %d loadable segments", PVH_MAX_SEGMENTS);
		info->segments[info->nr_segments++] = (struct pvh_segment){
			.offset = ph.p_offset, .filesz = ph.p_filesz, .paddr = ph.p_paddr, .memsz = ph.p_memsz,
		};
	}
	if (!found)
		return errmsg_set(e, EINVAL, "no PVH entry point (XEN_ELFNOTE_PHYS32_ENTRY); build it with CONFIG_PVH=y");
	if (!info->nr_segments)
		return errmsg_set(e, EINVAL, "an ELF with nothing to load");
	return 0;
}
