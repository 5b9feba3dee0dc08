/* The ELF note that tells a PVH loader where to enter: XEN_ELFNOTE_PHYS32_ENTRY (18), owner "Xen". */
	.section .note.pvh, "a"
	.balign 4
	.long 4		/* name size */
	.long 4		/* descriptor size */
	.long 18	/* type */
	.asciz "Xen"
	.long _start
