// SPDX-License-Identifier: Apache-2.0
#include "boot/aml.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

/* Opcodes and name prefixes, ACPI 6.x section 20.2. */
enum {
	AML_ZERO = 0x00,
	AML_ONE = 0x01,
	AML_NAME = 0x08,
	AML_BYTE_PREFIX = 0x0A,
	AML_WORD_PREFIX = 0x0B,
	AML_DWORD_PREFIX = 0x0C,
	AML_STRING_PREFIX = 0x0D,
	AML_QWORD_PREFIX = 0x0E,
	AML_SCOPE = 0x10,
	AML_BUFFER = 0x11,
	AML_PACKAGE = 0x12,
	AML_DUAL_NAME_PREFIX = 0x2E,
	AML_MULTI_NAME_PREFIX = 0x2F,
	AML_EXT_PREFIX = 0x5B,
	AML_EXT_DEVICE = 0x82,
	AML_NULL_NAME = 0x00,
};

/* Resource descriptor tags and flags, ACPI 6.x section 6.4. */
enum {
	RES_IRQ_NOFLAGS = 0x22,   /* small item 0x4, 2 data bytes */
	RES_IO = 0x47,            /* small item 0x8, 7 data bytes */
	RES_END = 0x79,           /* small item 0xF, 1 data byte */
	RES_MEM32_FIXED = 0x86,   /* large item 0x6 */
	RES_DWORD_ADDR = 0x87,    /* large item 0x7: DWord address space */
	RES_WORD_ADDR = 0x88,     /* large item 0x8: Word address space */
	RES_EXT_IRQ = 0x89,       /* large item 0x9 */
	RES_IO_DECODE16 = 0x01,
	RES_MEM_WRITABLE = 0x01,
	RES_EXT_IRQ_CONSUMER = 0x01,
	RES_EXT_IRQ_EDGE = 0x02,  /* clear: level; polarity and sharing bits clear: active-high, exclusive */
	RES_ADDR_MEMORY = 0,      /* address space resource types */
	RES_ADDR_IO = 1,
	RES_ADDR_BUS = 2,
	RES_ADDR_FIXED = 0x0C,    /* general flags: _MIF and _MAF set; producer, positive decode */
	RES_ADDR_IO_ENTIRE = 0x03,   /* I/O flags: _RNG, both ISA and non-ISA ranges */
	RES_ADDR_MEM_RW = 0x01,      /* memory flags: read-write, non-cacheable */
};

enum {
	OPEN_PACKAGE,   /* Scope, Device, Package: just a PkgLength */
	OPEN_TEMPLATE,  /* Buffer holding resource descriptors: end tag, BufferSize and PkgLength */
};

void aml_init(struct aml *aml, uint8_t *buf, size_t cap)
{
	*aml = (struct aml){ .buf = buf, .cap = cap };
}

int aml_finish(const struct aml *aml)
{
	if (aml->err)
		return aml->err;
	if (aml->depth)
		return -EINVAL;
	return aml->len > INT_MAX ? -EOVERFLOW : (int)aml->len;
}

static void fail(struct aml *aml, int err)
{
	if (!aml->err)
		aml->err = err;
}

/* Lengths are only known once a construct is closed, so they are inserted in front of its body. */
static void insert(struct aml *aml, size_t at, const void *bytes, size_t n)
{
	if (aml->err)
		return;
	if (n > aml->cap - aml->len) {
		aml->err = -ENOSPC;
		return;
	}
	memmove(aml->buf + at + n, aml->buf + at, aml->len - at);
	memcpy(aml->buf + at, bytes, n);
	aml->len += n;
}

static void emit(struct aml *aml, const void *bytes, size_t n)
{
	insert(aml, aml->len, bytes, n);
}

static void emit_byte(struct aml *aml, uint8_t b)
{
	emit(aml, &b, 1);
}

static void put_le(uint8_t *out, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)(v >> (8 * i));
}

/* Shortest of Zero, One, BytePrefix, WordPrefix, DWordPrefix, QWordPrefix; returns the length. */
static size_t encode_int(uint8_t out[9], uint64_t v)
{
	size_t n;

	if (v <= 1) {
		out[0] = v ? AML_ONE : AML_ZERO;
		return 1;
	}
	if (v <= UINT8_MAX) {
		out[0] = AML_BYTE_PREFIX;
		n = 1;
	} else if (v <= UINT16_MAX) {
		out[0] = AML_WORD_PREFIX;
		n = 2;
	} else if (v <= UINT32_MAX) {
		out[0] = AML_DWORD_PREFIX;
		n = 4;
	} else {
		out[0] = AML_QWORD_PREFIX;
		n = 8;
	}
	put_le(out + 1, v, n);
	return n + 1;
}

static void emit_int(struct aml *aml, uint64_t v)
{
	uint8_t enc[9];

	emit(aml, enc, encode_int(enc, v));
}

/*
 * PkgLength counts its own bytes as well as the body (ACPI 6.x 20.2.4). One
 * byte holds up to 63; longer forms put the count of extra bytes in bits 6-7
 * of the lead byte, the low nibble in bits 0-3 and the rest in the extra bytes.
 * Returns the encoding's length, or 0 if the body is too large for AML.
 */
static size_t encode_pkglen(uint8_t out[4], size_t body)
{
	if (body + 1 <= 0x3F) {
		out[0] = (uint8_t)(body + 1);
		return 1;
	}
	for (size_t n = 2; n <= 4; n++) {
		size_t total = body + n;

		if (total < (size_t)1 << (4 + 8 * (n - 1))) {
			out[0] = (uint8_t)((n - 1) << 6 | (total & 0x0F));
			put_le(out + 1, total >> 4, n - 1);
			return n;
		}
	}
	return 0;
}

static bool is_name_char(char c, bool lead)
{
	return c == '_' || (c >= 'A' && c <= 'Z') || (!lead && c >= '0' && c <= '9');
}

/* Validates the whole NameString before writing any of it. */
static void emit_namestring(struct aml *aml, const char *path)
{
	const char *segs, *s;
	unsigned nseg = 0;

	if (!path) {
		fail(aml, -EINVAL);
		return;
	}
	segs = path;
	if (*segs == '\\')
		segs++;
	else
		while (*segs == '^')
			segs++;

	for (s = segs; *s; nseg++) {
		for (int i = 0; i < 4; i++)
			if (!is_name_char(s[i], i == 0)) {
				fail(aml, -EINVAL);
				return;
			}
		s += 4;
		if (*s == '.' && s[1])
			s++;
		else if (*s) {
			fail(aml, -EINVAL);
			return;
		}
	}
	if ((nseg == 0 && segs == path) || nseg > UINT8_MAX) {
		fail(aml, -EINVAL);
		return;
	}

	emit(aml, path, (size_t)(segs - path));
	if (nseg == 0) {
		emit_byte(aml, AML_NULL_NAME);
	} else if (nseg == 2) {
		emit_byte(aml, AML_DUAL_NAME_PREFIX);
	} else if (nseg > 2) {
		emit_byte(aml, AML_MULTI_NAME_PREFIX);
		emit_byte(aml, (uint8_t)nseg);
	}
	for (unsigned i = 0; i < nseg; i++)
		emit(aml, segs + 5 * i, 4);
}

static bool in_template(const struct aml *aml)
{
	return aml->depth && aml->open[aml->depth - 1].kind == OPEN_TEMPLATE;
}

/* Named objects belong in the namespace, not inside a resource buffer. */
static bool check_namespace(struct aml *aml)
{
	if (in_template(aml))
		fail(aml, -EINVAL);
	return !aml->err;
}

static void open_construct(struct aml *aml, uint8_t kind)
{
	if (aml->depth == AML_MAX_DEPTH) {
		fail(aml, -EINVAL);
		return;
	}
	aml->open[aml->depth++] = (struct aml_open){ .start = aml->len, .kind = kind };
}

int aml_end(struct aml *aml)
{
	const struct aml_open *o;
	uint8_t enc[9];
	size_t n;

	if (!aml->depth) {
		fail(aml, -EINVAL);
		return aml->err;
	}
	o = &aml->open[--aml->depth];
	if (o->kind == OPEN_TEMPLATE) {
		/* A zero checksum in the end tag means "not checksummed" (ACPI 6.x 6.4.2.9). */
		static const uint8_t end_tag[] = { RES_END, 0x00 };

		emit(aml, end_tag, sizeof(end_tag));
		insert(aml, o->start, enc, encode_int(enc, aml->len - o->start));
	}
	if (aml->err)
		return aml->err;
	n = encode_pkglen(enc, aml->len - o->start);
	if (!n)
		fail(aml, -EINVAL);
	insert(aml, o->start, enc, n);
	return aml->err;
}

int aml_scope(struct aml *aml, const char *path)
{
	if (check_namespace(aml)) {
		emit_byte(aml, AML_SCOPE);
		open_construct(aml, OPEN_PACKAGE);
		emit_namestring(aml, path);
	}
	return aml->err;
}

int aml_device(struct aml *aml, const char *path)
{
	static const uint8_t op[] = { AML_EXT_PREFIX, AML_EXT_DEVICE };

	if (check_namespace(aml)) {
		emit(aml, op, sizeof(op));
		open_construct(aml, OPEN_PACKAGE);
		emit_namestring(aml, path);
	}
	return aml->err;
}

static bool begin_name(struct aml *aml, const char *name)
{
	if (check_namespace(aml)) {
		emit_byte(aml, AML_NAME);
		emit_namestring(aml, name);
	}
	return !aml->err;
}

int aml_name_int(struct aml *aml, const char *name, uint64_t value)
{
	if (begin_name(aml, name))
		emit_int(aml, value);
	return aml->err;
}

int aml_name_string(struct aml *aml, const char *name, const char *str)
{
	if (!str) {
		fail(aml, -EINVAL);
		return aml->err;
	}
	/* AML strings are ASCII without embedded NULs (ACPI 6.x 20.2.3). */
	for (const char *c = str; *c; c++)
		if ((unsigned char)*c > 0x7F)
			fail(aml, -EINVAL);
	if (begin_name(aml, name)) {
		emit_byte(aml, AML_STRING_PREFIX);
		emit(aml, str, strlen(str) + 1);
	}
	return aml->err;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int aml_eisaid(const char *id, uint32_t *out)
{
	uint32_t v = 0;

	if (!id || strnlen(id, 8) != 7)
		return -EINVAL;
	/* Three letters, 5 bits each ('A' = 1), then four hex digits of product id. */
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z')
			return -EINVAL;
		v = v << 5 | (uint32_t)(id[i] - '@');
	}
	for (int i = 3; i < 7; i++) {
		int d = hex_digit(id[i]);

		if (d < 0)
			return -EINVAL;
		v = v << 4 | (uint32_t)d;
	}
	/* The id is stored most significant byte first, so AML's little-endian integer is byte-swapped. */
	*out = __builtin_bswap32(v);
	return 0;
}

int aml_name_eisaid(struct aml *aml, const char *name, const char *id)
{
	uint32_t v;
	int err = aml_eisaid(id, &v);

	if (err) {
		fail(aml, err);
		return aml->err;
	}
	return aml_name_int(aml, name, v);
}

/* Package () { values... }; NumElements is a single byte. */
static void emit_package(struct aml *aml, const uint64_t *values, unsigned count)
{
	emit_byte(aml, AML_PACKAGE);
	open_construct(aml, OPEN_PACKAGE);
	emit_byte(aml, (uint8_t)count);
	for (unsigned i = 0; i < count; i++)
		emit_int(aml, values[i]);
	aml_end(aml);
}

int aml_name_package(struct aml *aml, const char *name, const uint64_t *values, unsigned count)
{
	if (count > UINT8_MAX || (count && !values)) {
		fail(aml, -EINVAL);
		return aml->err;
	}
	if (begin_name(aml, name))
		emit_package(aml, values, count);
	return aml->err;
}

int aml_name_package_rows(struct aml *aml, const char *name, const uint64_t *values, unsigned rows, unsigned cols)
{
	if (rows > UINT8_MAX || cols > UINT8_MAX || (rows && cols && !values)) {
		fail(aml, -EINVAL);
		return aml->err;
	}
	if (!begin_name(aml, name))
		return aml->err;
	emit_byte(aml, AML_PACKAGE);
	open_construct(aml, OPEN_PACKAGE);
	emit_byte(aml, (uint8_t)rows);
	for (unsigned r = 0; r < rows; r++)
		emit_package(aml, values + (size_t)r * cols, cols);
	return aml_end(aml);
}

int aml_resource_template(struct aml *aml, const char *name)
{
	if (begin_name(aml, name)) {
		emit_byte(aml, AML_BUFFER);
		open_construct(aml, OPEN_TEMPLATE);
	}
	return aml->err;
}

static int emit_resource(struct aml *aml, const uint8_t *desc, size_t n)
{
	if (!in_template(aml))
		fail(aml, -EINVAL);
	emit(aml, desc, n);
	return aml->err;
}

int aml_res_io(struct aml *aml, uint16_t port, uint8_t len)
{
	uint8_t d[8] = { RES_IO, RES_IO_DECODE16 };

	if (!len || port + len - 1 > UINT16_MAX) {
		fail(aml, -EINVAL);
		return aml->err;
	}
	put_le(d + 2, port, 2);  /* minimum */
	put_le(d + 4, port, 2);  /* maximum: same, so the range cannot move */
	d[6] = 1;                /* alignment */
	d[7] = len;
	return emit_resource(aml, d, sizeof(d));
}

int aml_res_irq(struct aml *aml, unsigned irq)
{
	uint8_t d[3] = { RES_IRQ_NOFLAGS };

	if (irq >= 16) {
		fail(aml, -EINVAL);
		return aml->err;
	}
	put_le(d + 1, 1u << irq, 2);
	return emit_resource(aml, d, sizeof(d));
}

int aml_res_mem32_fixed(struct aml *aml, uint32_t base, uint32_t size, bool writable)
{
	uint8_t d[12] = { RES_MEM32_FIXED, 9, 0 };

	d[3] = writable ? RES_MEM_WRITABLE : 0;
	put_le(d + 4, base, 4);
	put_le(d + 8, size, 4);
	return emit_resource(aml, d, sizeof(d));
}

int aml_res_ext_irq(struct aml *aml, uint32_t gsi, bool level)
{
	uint8_t d[9] = { RES_EXT_IRQ, 6, 0 };

	d[3] = RES_EXT_IRQ_CONSUMER | (level ? 0 : RES_EXT_IRQ_EDGE);
	d[4] = 1;  /* interrupt table length */
	put_le(d + 5, gsi, 4);
	return emit_resource(aml, d, sizeof(d));
}

/* Word address space descriptor (ACPI 6.x 6.4.3.5.3): a producer range with fixed bounds, no translation. */
static int emit_word_range(struct aml *aml, uint8_t type, uint8_t type_flags, uint16_t min, uint16_t max)
{
	uint8_t d[16] = { RES_WORD_ADDR, 13, 0, type, RES_ADDR_FIXED, type_flags };

	/* The length field is 16 bits too, so the whole 0-0xFFFF space cannot be described. */
	if (min > max || (min == 0 && max == UINT16_MAX)) {
		fail(aml, -EINVAL);
		return aml->err;
	}
	put_le(d + 8, min, 2);
	put_le(d + 10, max, 2);
	put_le(d + 14, max - min + 1, 2);
	return emit_resource(aml, d, sizeof(d));
}

int aml_res_word_bus(struct aml *aml, uint16_t min, uint16_t max)
{
	return emit_word_range(aml, RES_ADDR_BUS, 0, min, max);
}

int aml_res_word_io(struct aml *aml, uint16_t min, uint16_t max)
{
	return emit_word_range(aml, RES_ADDR_IO, RES_ADDR_IO_ENTIRE, min, max);
}

int aml_res_dword_mem(struct aml *aml, uint32_t min, uint32_t max)
{
	/* DWord address space descriptor (ACPI 6.x 6.4.3.5.2). */
	uint8_t d[26] = { RES_DWORD_ADDR, 23, 0, RES_ADDR_MEMORY, RES_ADDR_FIXED, RES_ADDR_MEM_RW };

	if (min > max || (min == 0 && max == UINT32_MAX)) {  /* the same limit on 32-bit lengths */
		fail(aml, -EINVAL);
		return aml->err;
	}
	put_le(d + 10, min, 4);
	put_le(d + 14, max, 4);
	put_le(d + 22, max - min + 1, 4);
	return emit_resource(aml, d, sizeof(d));
}
