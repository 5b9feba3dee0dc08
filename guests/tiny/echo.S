/*
 * A guest that echoes what it reads from COM1, polling the UART: for
 * testing console input without a kernel. It prints "echo: ready", and
 * 'q' powers off through the ACPI sleep control register (S5).
 */
#include "pvh-note.h"

#define COM1 0x3f8
#define LSR (COM1 + 5)
#define LSR_DR 0x01
#define SLEEP_CTL 0x600
#define SLEEP_S5 0x34

	.text
	.code32
	.globl _start
_start:
	mov	$banner, %esi
print:
	lodsb
	test	%al, %al
	jz	wait_byte
	mov	$COM1, %dx
	out	%al, %dx
	jmp	print

wait_byte:
	mov	$LSR, %dx
	in	%dx, %al
	test	$LSR_DR, %al
	jz	wait_byte
	mov	$COM1, %dx
	in	%dx, %al
	cmp	$'q', %al
	je	power_off
	out	%al, %dx
	jmp	wait_byte

power_off:
	mov	$SLEEP_CTL, %dx
	mov	$SLEEP_S5, %al
	out	%al, %dx
	hlt

banner:
	.asciz "echo: ready\r\n"
