/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Entry point of the built-in init. The kernel starts it with argc, argv and
 * the environment on the stack, which init does not use; it only needs the
 * 16-byte stack alignment the C ABI expects at a call.
 */
	.text
	.globl _start
	.type _start, @function
_start:
	xorl %ebp, %ebp		/* the outermost frame, for debuggers */
	andq $-16, %rsp
	call init_main
	ud2			/* init_main does not return */
	.size _start, . - _start

	.section .note.GNU-stack, "", @progbits
