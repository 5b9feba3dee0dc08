/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small ACPI Machine Language (AML) encoder for the definition blocks kvmini
 * hands to the guest (ACPI 6.x, chapter 20 "ACPI Machine Language").
 *
 * Output goes into a caller-supplied buffer. The first error (-ENOSPC when the
 * buffer is too small, -EINVAL for a malformed name or misuse) is kept in
 * aml->err and every later call becomes a no-op, so a caller can emit a whole
 * block and check once at the end with aml_finish(). Each call also returns
 * the current aml->err for callers that prefer to check as they go.
 *
 * Names are ACPI NameStrings: an optional root prefix '\' or parent prefixes
 * '^', then 4-character segments separated by '.', e.g. "COM1", "\\_SB_",
 * "\\_SB_.COM1". Short names must be padded with '_' by the caller ("_S5_").
 */
#ifndef KVMINI_BOOT_AML_H
#define KVMINI_BOOT_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Scope/Device/ResourceTemplate nesting a microVM DSDT needs, with room to spare. */
#define AML_MAX_DEPTH 8

struct aml_open {
	size_t start;    /* offset where the construct's PkgLength will be inserted */
	uint8_t kind;
};

struct aml {
	uint8_t *buf;
	size_t cap, len;
	int err;         /* 0 or the first error; sticky */
	unsigned depth;  /* number of constructs opened and not yet closed */
	struct aml_open open[AML_MAX_DEPTH];
};

void aml_init(struct aml *aml, uint8_t *buf, size_t cap);
/* Returns the number of bytes written, aml->err, or -EINVAL if a construct is still open
   (-EOVERFLOW past INT_MAX bytes). */
int aml_finish(const struct aml *aml);

/* Scope (path) { ... } and Device (path) { ... }; close each with aml_end(). */
int aml_scope(struct aml *aml, const char *path);
int aml_device(struct aml *aml, const char *path);
/* Closes the innermost open Scope, Device or resource template. */
int aml_end(struct aml *aml);

/* Name (name, value) with the shortest integer encoding. */
int aml_name_int(struct aml *aml, const char *name, uint64_t value);
/* Name (name, "str"); str must be ASCII 0x01-0x7F. */
int aml_name_string(struct aml *aml, const char *name, const char *str);
/* Name (name, EisaId ("PNP0501")). */
int aml_name_eisaid(struct aml *aml, const char *name, const char *id);
/* Name (name, Package () { values... }), at most 255 integers. */
int aml_name_package(struct aml *aml, const char *name, const uint64_t *values, unsigned count);

/*
 * Name (name, Package () { Package () { row 0 }, Package () { row 1 }, ... }):
 * `rows` packages of `cols` integers each, read row by row from values (a PCI _PRT).
 */
int aml_name_package_rows(struct aml *aml, const char *name, const uint64_t *values, unsigned rows, unsigned cols);

/* Compresses a 7-character EISA id ("PNP0501") into the 32-bit value AML
   carries (0x0105D041 for "PNP0501"). Returns 0 or -EINVAL. */
int aml_eisaid(const char *id, uint32_t *out);

/*
 * Name (name, ResourceTemplate () { ... }): opens a resource template that
 * only aml_res_*() may fill; aml_end() appends the end tag and closes it.
 */
int aml_resource_template(struct aml *aml, const char *name);
/* IO (Decode16, port, port, 1, len): a fixed range of len ports. */
int aml_res_io(struct aml *aml, uint16_t port, uint8_t len);
/* IRQNoFlags () { irq }: ISA-style edge, active-high, exclusive; irq < 16. */
int aml_res_irq(struct aml *aml, unsigned irq);
/* Memory32Fixed (ReadWrite or ReadOnly, base, size). */
int aml_res_mem32_fixed(struct aml *aml, uint32_t base, uint32_t size, bool writable);
/* Interrupt (ResourceConsumer, Level or Edge, ActiveHigh, Exclusive) { gsi }. */
int aml_res_ext_irq(struct aml *aml, uint32_t gsi, bool level);

/*
 * The ranges a bridge hands down to the devices behind it (ResourceProducer, MinFixed, MaxFixed,
 * PosDecode, granularity and translation 0, length max - min + 1):
 * WordBusNumber (...), WordIO (..., EntireRange, ...), DWordMemory (..., NonCacheable, ReadWrite, ...).
 */
int aml_res_word_bus(struct aml *aml, uint16_t min, uint16_t max);
int aml_res_word_io(struct aml *aml, uint16_t min, uint16_t max);
int aml_res_dword_mem(struct aml *aml, uint32_t min, uint32_t max);

#endif
