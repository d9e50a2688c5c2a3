/* SPDX-License-Identifier: MIT */
/*
 * The load bias of an ELF mapping (see elfload.h). Tested against the
 * dynamic loader's own answer (dl_iterate_phdr) for libraries and
 * executables linked by ld.bfd, gold, lld and mold: tests/unit/test-elfload.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "symbols/elfload.h"

/* The target's file decides phnum: more than any linker writes is not a
 * library worth naming from. */
#define ELFLOAD_MAX_PHDRS 4096

static bool holds(const struct elfload_seg *s, u64 off)
{
	return s->filesz > 0 && ML_PAGE_DOWN(s->offset) <= off &&
	       off < s->offset + s->filesz;
}

int elfload_segment(const struct elfload_seg *segs, size_t n,
		    const struct elfload_map *m)
{
	bool x = m->prot & PROT_EXEC, w = m->prot & PROT_WRITE;
	int best = -1, best_score = -1;

	for (size_t i = 0; i < n; i++) {
		const struct elfload_seg *s = &segs[i];
		int score;

		if (!holds(s, m->offset))
			continue;
		score = (!!(s->flags & PF_X) == x) * 4 +
			(ML_PAGE_DOWN(s->offset) == m->offset) * 2 +
			(!!(s->flags & PF_W) == w);
		if (score > best_score) {
			best = (int)i;
			best_score = score;
		}
	}
	return best;
}

u64 elfload_bias(const struct elfload_seg *segs, size_t n, bool et_dyn,
		 const struct elfload_map *m, bool *exact)
{
	int i = elfload_segment(segs, n, m);

	if (exact)
		*exact = i >= 0;
	if (!et_dyn)
		return 0;
	if (i < 0)
		return m->start - m->offset;
	/* m may be a later part of the segment's mapping (mprotect split). */
	return m->start - (ML_PAGE_DOWN(segs[i].vaddr) +
			   (m->offset - ML_PAGE_DOWN(segs[i].offset)));
}

int elfload_layout(Elf *elf, const struct elfload_map *m,
		   struct elfload_layout *out)
{
	struct elfload_seg *segs = NULL;
	GElf_Ehdr eh;
	size_t phnum, n = 0;
	u64 first = 0, hi = 0;
	int ret = -ENOEXEC;

	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh) ||
	    (eh.e_type != ET_DYN && eh.e_type != ET_EXEC) ||
	    elf_getphdrnum(elf, &phnum) != 0 || phnum == 0 ||
	    phnum > ELFLOAD_MAX_PHDRS)
		return -ENOEXEC;
	segs = calloc(phnum, sizeof(*segs));
	if (!segs)
		return -ENOMEM;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		/* libdwfl's base: the first PT_LOAD's p_vaddr & -p_align
		 * (dwfl_module_getdwarf.c, open_elf). */
		if (n == 0)
			first = ph.p_vaddr & -ph.p_align;
		if (ph.p_vaddr + ph.p_memsz > hi)
			hi = ph.p_vaddr + ph.p_memsz;
		segs[n++] = (struct elfload_seg){ ph.p_vaddr, ph.p_offset,
						  ph.p_filesz, ph.p_memsz,
						  ph.p_align, ph.p_flags };
	}
	if (n == 0 || hi <= first)
		goto out;
	out->et_dyn = eh.e_type == ET_DYN;
	out->bias = elfload_bias(segs, n, out->et_dyn, m, &out->exact);
	/*
	 * libdwfl derives its bias as (reported low address - base), so the
	 * module is reported from bias + base: naming then uses exactly
	 * this bias.
	 */
	out->lo = first + out->bias;
	out->hi = hi + out->bias;
	ret = 0;
out:
	free(segs);
	return ret;
}
