/* SPDX-License-Identifier: MIT */
/*
 * ReadyToRun code: methods precompiled into a .NET assembly (such as
 * System.Private.CoreLib.dll) run from an r-xp mapping of the .dll and are
 * never in perf-PID.map. They are named from the assembly itself
 * (symbols/r2r.c: its ReadyToRun tables and metadata), as
 * "Ns.Type::Method(args)"; a jitdump [PreJIT] entry wins when the runtime
 * wrote one. Code no method holds (or an image we cannot read) is
 * "[System.Private.CoreLib.dll]+0xRVA", the address as .NET tools know it:
 * file offset = pc - map start + map offset, RVA from the PE section
 * holding it.
 *
 * Each .dll's section table is read, and the file mapped read-only, when
 * its mapping is first seen (through /proc/PID/map_files, as ELF modules
 * are), so frames are still named after the target exited; its
 * ReadyToRun tables are read when a frame first needs them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "symbols/pe.h"
#include "symbols/r2r.h"
#include "symbols/symtab-int.h"
#include "util/vec.h"

#define ST_DELETED " (deleted)"
#define ST_DLL_MAX (2ull << 30)	/* larger files are not mapped to be read */

/* One .dll file, by device and inode (path when there is no inode). */
struct st_pe {
	u64 inode;
	u32 dev_major, dev_minor;
	char *path;
	struct pe_image *pe;	/* NULL: unreadable, or not a PE */
	void *map;		/* the file, read-only; NULL: not mapped */
	size_t maplen;
	struct r2r *r2r;	/* its ReadyToRun names, read when first asked */
	bool r2r_tried;
};

static bool same_file(const struct st_pe *p, const struct maps_entry *m)
{
	if (p->inode || m->inode)
		return p->inode == m->inode && p->dev_major == m->dev_major &&
		       p->dev_minor == m->dev_minor;
	return m->path && !strcmp(p->path, m->path);
}

/* same_file()'s key: device and inode, or the path without an inode. */
static u64 file_hash(u64 inode, u32 major, u32 minor, const char *path)
{
	u64 h = 0xcbf29ce484222325ull;

	if (inode) {
		h = (h ^ inode) * 0x100000001b3ull;
		h = (h ^ major) * 0x100000001b3ull;
		h = (h ^ minor) * 0x100000001b3ull;
	} else {
		for (const char *c = path ? path : ""; *c; c++)
			h = (h ^ (u8)*c) * 0x100000001b3ull;
	}
	return h ^ (h >> 29);
}

/* The slot of m in the hash of st->pes: its file's, or an empty one.
 * A target maps as many .dll files as it likes: no linear search. */
static u32 *pe_slot(const struct symtab *st, const struct maps_entry *m)
{
	size_t mask = st->npeslots - 1;
	size_t i = file_hash(m->inode, m->dev_major, m->dev_minor, m->path) & mask;

	for (;; i = (i + 1) & mask) {
		u32 *sl = &st->peslots[i];

		if (!*sl || same_file(&st->pes[*sl - 1], m))
			return sl;
	}
}

static struct st_pe *pe_find(const struct symtab *st, const struct maps_entry *m)
{
	u32 *sl;

	if (!st->npeslots)
		return NULL;
	sl = pe_slot(st, m);
	return *sl ? &st->pes[*sl - 1] : NULL;
}

/* Keeps the hash at most half full. */
static int pe_hash_grow(struct symtab *st)
{
	size_t n = st->npeslots ? st->npeslots * 2 : 64;

	if (st->npes + 1 <= st->npeslots / 2)
		return 0;
	free(st->peslots);
	st->peslots = calloc(n, sizeof(*st->peslots));
	if (!st->peslots) {
		st->npeslots = 0;
		return -ENOMEM;
	}
	st->npeslots = n;
	for (size_t i = 0; i < st->npes; i++) {
		const struct st_pe *p = &st->pes[i];
		size_t mask = n - 1;
		/* False positive: i < npes, and npes grows only after
		 * ML_VEC_GROW() gave pes room; the analyzer forgets that across
		 * st_jitdump_lookup() (another file), which may change any field
		 * of st for all it knows, and takes pes as NULL. */
		// NOLINTNEXTLINE(clang-analyzer-core.NullDereference)
		size_t j = file_hash(p->inode, p->dev_major, p->dev_minor, p->path) & mask;

		while (st->peslots[j])
			j = (j + 1) & mask;
		st->peslots[j] = (u32)i + 1;
	}
	return 0;
}

int st_r2r_note(struct symtab *st, const struct maps_entry *m)
{
	struct st_pe *p;
	int fd, ret;

	if (!(m->prot & PROT_EXEC) || !m->path || pe_find(st, m))
		return 0;
	if (st->npes >= ST_PES_MAX) {
		st->pes_capped = true;	/* symtab_new_notes() tells */
		return 0;
	}
	if (pe_hash_grow(st) < 0)
		return -ENOMEM;
	if (ML_VEC_GROW(st->pes, st->cappes, st->npes + 1))
		return -ENOMEM;
	p = &st->pes[st->npes];
	memset(p, 0, sizeof(*p));
	p->inode = m->inode;
	p->dev_major = m->dev_major;
	p->dev_minor = m->dev_minor;
	p->path = strdup(m->path);
	if (!p->path)
		return -ENOMEM;
	st->npes++;
	*pe_slot(st, m) = (u32)st->npes;
	/* A failure is remembered (pe stays NULL): not retried per frame. */
	fd = st_open_mapping(st, m);
	if (fd >= 0)
		fd = st_stable(st, fd);	/* it is mapped below */
	if (fd == -ENOMEM)
		return fd;
	if (fd < 0)
		return 0;
	ret = pe_read_fd(fd, &p->pe);
	if (ret == 0 && p->pe->clr_rva) {
		struct stat sb;

		/* Mapped now, while the file can be opened: its ReadyToRun
		 * tables may be needed after the target exited. */
		if (fstat(fd, &sb) == 0 && sb.st_size > 0 &&
		    (u64)sb.st_size <= ST_DLL_MAX) {
			p->map = mmap(NULL, (size_t)sb.st_size, PROT_READ,
				      MAP_PRIVATE, fd, 0);
			if (p->map == MAP_FAILED)
				p->map = NULL;
			else
				p->maplen = (size_t)sb.st_size;
		}
	}
	close(fd);
	return ret == -ENOMEM ? ret : 0;
}

/* The ReadyToRun reader of p, read the first time; NULL if none. */
static struct r2r *pe_r2r(struct st_pe *p, int *err)
{
	int ret;

	if (!p->r2r_tried && p->map) {
		p->r2r_tried = true;
		ret = r2r_open(p->map, p->maplen, &p->r2r);
		if (ret == -ENOMEM) {
			p->r2r_tried = false;
			*err = ret;
		}
	}
	return p->r2r;
}

void st_r2r_free(struct symtab *st)
{
	for (size_t i = 0; i < st->npes; i++) {
		free(st->pes[i].path);
		pe_free(st->pes[i].pe);
		r2r_free(st->pes[i].r2r);
		if (st->pes[i].map)
			munmap(st->pes[i].map, st->pes[i].maplen);
	}
	free(st->pes);
	st->pes = NULL;
	st->npes = st->cappes = 0;
	free(st->peslots);
	st->peslots = NULL;
	st->npeslots = 0;
	st->pes_capped = false;
}

/* "System.Private.CoreLib.dll" of ".../System.Private.CoreLib.dll (deleted)" */
static void dll_name(const char *path, const char **name, int *len)
{
	const char *b = strrchr(path, '/');
	size_t n;

	b = b ? b + 1 : path;
	n = strlen(b);
	if (n > strlen(ST_DELETED) &&
	    !strcmp(b + n - strlen(ST_DELETED), ST_DELETED))
		n -= strlen(ST_DELETED);
	*name = b;
	*len = (int)n;
}

int st_r2r_name(struct symtab *st, const struct maps_entry *m, u64 pc,
		u64 addr, u64 time, struct ml_frame *out)
{
	const struct jitdump_entry *j;
	struct st_pe *p;
	struct r2r *r;
	const char *name;
	u32 rva, arva, start;
	int len, ret = 0;

	/* A jitdump [PreJIT] entry (method name, assembly) wins. */
	j = st_jitdump_lookup(st, addr, time);
	if (j) {
		ret = symtab_name_jit(j->name, j->start, pc, out);
		if (ret == 0)
			out->kind = ML_FK_R2R;
		return ret;
	}
	out->kind = ML_FK_R2R;
	out->module = strdup(m->path);
	if (!out->module)
		return -ENOMEM;
	p = pe_find(st, m);
	if (!p) {		/* mapped after the last maps read */
		ret = st_r2r_note(st, m);
		if (ret < 0)
			return ret;
		p = pe_find(st, m);
	}
	/* The pc's own RVA (not pc - 1): the address the frame shows. */
	if (!p || !p->pe || pc < m->start ||
	    pe_offset_to_rva(p->pe, pc - m->start + m->offset, &rva, NULL) < 0)
		return 0;	/* kind r2r, module known: no name to give */
	/* The method: the one holding addr (the call, for a return address). */
	r = pe_r2r(p, &ret);
	if (ret < 0)
		return ret;
	if (r && addr >= m->start &&
	    pe_offset_to_rva(p->pe, addr - m->start + m->offset, &arva, NULL) == 0) {
		ret = r2r_lookup(r, arva, &name, &start);
		if (ret == -ENOMEM)
			return ret;
		if (ret == 0 && rva >= start) {
			out->symbol = strdup(name);
			out->offset = rva - start;
			return out->symbol ? 0 : -ENOMEM;
		}
	}
	dll_name(m->path, &name, &len);
	if (asprintf(&out->symbol, "[%.*s]+0x%x", len, name, rva) < 0) {
		out->symbol = NULL;
		return -ENOMEM;
	}
	return 0;
}

int st_r2r_methods(struct symtab *st, const struct maps_entry *m,
		   struct r2r **r, u64 *bias)
{
	struct st_pe *p = pe_find(st, m);
	const struct pe_section *sec;
	u32 rva;
	int err = 0;

	*r = NULL;
	if (!p || !p->pe)
		return 0;
	*r = pe_r2r(p, &err);
	if (err)
		return err;
	/* One section per code mapping: address = bias + RVA. */
	if (*r && pe_offset_to_rva(p->pe, m->offset, &rva, &sec) == 0)
		*bias = m->start - rva;
	else if (*r && m->offset < p->pe->size_of_headers && p->pe->nsections &&
		 pe_offset_to_rva(p->pe, p->pe->sections[0].raw_off, &rva, &sec) == 0)
		/* the mapping starts with the headers: the first section
		 * decides where RVAs land */
		*bias = m->start + (sec->raw_off - m->offset) - rva;
	else
		*r = NULL;
	return 0;
}
