/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small cpio "newc" reader shared by the cpio and initramfs tests. It is
 * written from the format description, not from src/boot/cpio.c, and checks
 * what the kernel's unpacker relies on: the magic, hex fields, a NUL-ended
 * name, 4-byte alignment and zeroed padding. Include it after cmocka.h.
 */
#ifndef KVMINI_TEST_NEWC_READER_H
#define KVMINI_TEST_NEWC_READER_H

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NEWC_HEADER_SIZE 110
#define NEWC_FIELDS 13

struct newc_entry {
	uint32_t ino, mode, uid, gid, nlink, mtime, filesize;
	uint32_t dev_major, dev_minor, rdev_major, rdev_minor, namesize, check;
	const char *name;
	const uint8_t *data;
};

static inline size_t newc_align4(size_t n)
{
	return (n + 3) / 4 * 4;
}

static inline void newc_assert_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		assert_int_equal(p[i], 0);
}

/* Field i (0 = c_ino ... 12 = c_check) of the header at h. */
static inline uint32_t newc_field(const uint8_t *h, unsigned i)
{
	char text[9];

	memcpy(text, h + 6 + 8 * i, 8);
	text[8] = '\0';
	for (int j = 0; j < 8; j++)
		assert_true(isxdigit((unsigned char)text[j]));
	return (uint32_t)strtoul(text, NULL, 16);
}

/* Parses the entry at *off into e and moves *off past it and its padding; fails the test if it is malformed. */
static inline void newc_read(const uint8_t *buf, size_t len, size_t *off, struct newc_entry *e)
{
	const uint8_t *h = buf + *off;
	size_t name_end, data_start, data_end, next;

	assert_int_equal(*off % 4, 0);
	assert_true(len - *off >= NEWC_HEADER_SIZE);
	assert_memory_equal(h, "070701", 6);
	e->ino = newc_field(h, 0);
	e->mode = newc_field(h, 1);
	e->uid = newc_field(h, 2);
	e->gid = newc_field(h, 3);
	e->nlink = newc_field(h, 4);
	e->mtime = newc_field(h, 5);
	e->filesize = newc_field(h, 6);
	e->dev_major = newc_field(h, 7);
	e->dev_minor = newc_field(h, 8);
	e->rdev_major = newc_field(h, 9);
	e->rdev_minor = newc_field(h, 10);
	e->namesize = newc_field(h, 11);
	e->check = newc_field(h, 12);

	assert_true(e->namesize >= 2);
	name_end = *off + NEWC_HEADER_SIZE + e->namesize;
	assert_true(name_end <= len);
	e->name = (const char *)h + NEWC_HEADER_SIZE;
	assert_int_equal(strlen(e->name), e->namesize - 1);

	data_start = newc_align4(name_end);
	data_end = data_start + e->filesize;
	next = newc_align4(data_end);
	assert_true(next <= len);
	newc_assert_zero(buf + name_end, data_start - name_end);
	newc_assert_zero(buf + data_end, next - data_end);
	e->data = buf + data_start;
	*off = next;
}

static inline int newc_is_trailer(const struct newc_entry *e)
{
	return !strcmp(e->name, "TRAILER!!!");
}

#endif
