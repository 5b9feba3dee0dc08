/*
 * A guest that triple-faults at once: with an empty IDT, the invalid opcode
 * cannot be delivered, nor can the double fault that follows, so the CPU
 * shuts down. kvmini must report it (exit 1, the reason and RIP on stderr).
 */
#include "pvh-note.h"

	.text
	.code32
	.globl _start
_start:
	lidt	empty_idt
	ud2

	.balign 8
empty_idt:
	.word 0
	.long 0
