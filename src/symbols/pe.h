/* SPDX-License-Identifier: MIT */
/*
 * A bounded reader of PE/COFF headers (the .NET ReadyToRun images such as
 * System.Private.CoreLib.dll): only what turns a file offset into an RVA.
 * DOS header (e_lfanew), "PE\0\0", COFF header, optional header magic
 * (PE32 or PE32+), the section table. Every field is checked against the
 * bytes given; nothing outside them is read.
 */
#ifndef MAPLEAK_PE_H
#define MAPLEAK_PE_H

#include "mapleak.h"

#define PE_HEADERS_MAX (1u << 20)	/* headers past 1 MiB: not a PE we read */
#define PE_SECTIONS_MAX 4096u		/* more sections: refused */

struct pe_section {
	char name[9];		/* NUL-terminated; "/4"-style long names as is */
	u32 vaddr;		/* VirtualAddress (an RVA) */
	u32 vsize;		/* VirtualSize */
	u32 raw_off;		/* PointerToRawData */
	u32 raw_size;		/* SizeOfRawData */
	u32 flags;		/* Characteristics */
};

struct pe_image {
	u16 machine;		/* 0x8664 x86-64, 0xaa64 arm64, 0x14c i386... */
	bool pe32plus;		/* optional header magic 0x20b (else 0x10b) */
	u64 image_base;
	u32 size_of_headers;
	u32 clr_rva, clr_size;	/* data directory 14: the CLI header (0: none) */
	u32 nsections;
	struct pe_section *sections;
};

/*
 * Parses the headers in buf[0..len) (the start of the file). Returns 0,
 * -ENOEXEC (not a PE, or its headers are inconsistent or longer than
 * len), or -ENOMEM. *out is freed with pe_free().
 */
int pe_parse(const void *buf, size_t len, struct pe_image **out);

/* Reads the headers of the file open at fd (pread; at most
 * PE_HEADERS_MAX bytes) and parses them. 0, -ENOEXEC, -ENOMEM, -errno. */
int pe_read_fd(int fd, struct pe_image **out);

void pe_free(struct pe_image *pe);	/* NULL is a no-op */

/*
 * The RVA of file offset off: the section whose raw data
 * [raw_off, raw_off + raw_size) holds it (the first, in table order).
 * Returns 0, or -ENOENT when no section holds it (or the RVA would not
 * fit 32 bits). *sec gets the section; sec may be NULL.
 */
int pe_offset_to_rva(const struct pe_image *pe, u64 off, u32 *rva,
		     const struct pe_section **sec);

/*
 * The file offset of [rva, rva + len): the section whose raw data holds
 * all of it. 0, or -ENOENT (not in one section's raw data: past its
 * SizeOfRawData, or in no section).
 */
int pe_rva_to_offset(const struct pe_image *pe, u32 rva, u32 len, u64 *off);

#endif
