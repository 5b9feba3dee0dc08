/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The built-in smoke init (guests/init), embedded so `kvmini smoke` needs no
 * file besides the kernel. The Makefile builds the init first and passes its
 * path as INIT_BLOB_PATH.
 */
	.section .rodata
	.balign 16
	.globl builtin_init_start, builtin_init_end
	.type builtin_init_start, @object
	.type builtin_init_end, @object
builtin_init_start:
	.incbin INIT_BLOB_PATH
builtin_init_end:
	.size builtin_init_start, builtin_init_end - builtin_init_start

/* This object needs no executable stack; without the note, ld would give kvmini one. */
	.section .note.GNU-stack, "", @progbits
