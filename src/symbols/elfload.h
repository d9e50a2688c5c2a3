/* SPDX-License-Identifier: MIT */
/*
 * Where the loader put an ELF file: the load bias of a mapping, from the
 * file's PT_LOAD segments. The one rule every naming path uses (symtab
 * for record and `resolve -p`; symdump writes libdwfl's bias, computed
 * from the range symtab reports, into recordings for `resolve -i`).
 */
#ifndef MAPLEAK_ELFLOAD_H
#define MAPLEAK_ELFLOAD_H

#include <gelf.h>

#include "mapleak.h"

/* One PT_LOAD program header. flags: PF_R | PF_W | PF_X. */
struct elfload_seg {
	u64 vaddr, offset, filesz, memsz, align;
	u32 flags;
};

/* A mapping of the file, as /proc/PID/maps shows it. prot: PROT_*. */
struct elfload_map {
	u64 start, offset;
	int prot;
};

/*
 * The PT_LOAD segment that mapping m shows, or -1. The loader maps each
 * segment from file offset ALIGN_DOWN(p_offset, page) at bias +
 * ALIGN_DOWN(p_vaddr, page), so m belongs to a segment whose file pages
 * [ALIGN_DOWN(p_offset), p_offset + p_filesz) hold m's offset. In layouts
 * whose segments share file pages (lld, gold, mold: a read-only segment
 * ending in the page where the code starts) several do; the protection
 * decides (an executable mapping is a PF_X segment), then the segment
 * that starts at m's offset (m was not split), then writability (RELRO
 * pages turned read-only). Exact for executable mappings, which is what
 * naming needs; two writable segments can share a file page (lld: RELRO
 * and .data) and then only another mapping's address tells them apart.
 */
int elfload_segment(const struct elfload_seg *segs, size_t n,
		    const struct elfload_map *m);

/*
 * Load bias of mapping m: ELF address + bias = run-time address. ET_EXEC
 * (et_dyn false): 0. No segment holds m: start - offset, the guess for a
 * file laid out at its offsets; *exact (may be NULL) tells which.
 */
u64 elfload_bias(const struct elfload_seg *segs, size_t n, bool et_dyn,
		 const struct elfload_map *m, bool *exact);

/* What symtab reports to libdwfl for an ELF mapped by m. */
struct elfload_layout {
	u64 bias;
	u64 lo;		/* run-time address of libdwfl's base (see .c) */
	u64 hi;		/* end of the highest segment, run time */
	bool et_dyn;
	bool exact;	/* a segment held m's offset */
};

/* Reads elf's program headers: 0, or -ENOEXEC (not an ET_DYN/ET_EXEC
 * file with PT_LOADs), -ENOMEM. */
int elfload_layout(Elf *elf, const struct elfload_map *m,
		   struct elfload_layout *out);

#endif
