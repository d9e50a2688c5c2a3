// SPDX-License-Identifier: MIT
/*
 * Region labels (see labels.h). The rules, most specific first:
 *
 * a region, from its /proc/PID/maps entry and flags:
 *   jit-N.dump mapped executable, one page  -> jitdump marker
 *   /memfd:doublemapper (.NET W^X)          -> JIT code
 *   [anon:NAME], [anon_shmem:NAME]          -> the name as the kernel shows it
 *   [heap], or a brk region                 -> malloc heap (brk)
 *   anonymous and executable                -> JIT code
 * a site: its regions' common label, else its frames, innermost first:
 *   allocate_stack, pthread_create          -> thread stacks
 *   _dl_map_object_from_fd, _dl_map_segments -> shared library (ld.so)
 *   new_heap, alloc_new_heap, grow_heap,
 *   _int_new_arena, arena_get2              -> glibc malloc arena
 *   sysmalloc, mremap_chunk, malloc family  -> large malloc (mmap)
 *   GCToOSInterface, gc_heap, VirtualReserve -> .NET GC reservation
 *                                             (heap once committed)
 *   else a PROT_NONE reservation of 256 MiB or more made from
 *   libcoreclr.so or libclrgc.so           -> .NET GC reservation
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "report/labels.h"
#include "util/range.h"

static bool has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

bool label_is_jitdump_path(const char *path)
{
	const char *b = path ? strrchr(path, '/') : NULL;
	size_t i = 4;

	if (!b || strncmp(++b, "jit-", 4) != 0)
		return false;
	while (b[i] >= '0' && b[i] <= '9')
		i++;
	return i > 4 && strncmp(b + i, ".dump", 5) == 0 &&
	       (b[i + 5] == '\0' || strcmp(b + i + 5, " (deleted)") == 0);
}

const char *label_region(const struct ml_region *g, const struct maps_entry *e)
{
	const char *p = e ? e->path : NULL;

	if (p) {
		if (label_is_jitdump_path(p) && (g->prot & PROT_EXEC) &&
		    g->end - g->start <= ML_PAGE_SIZE)
			return LABEL_JITDUMP_MARKER;
		if (has_prefix(p, "/memfd:doublemapper"))
			return LABEL_JIT_CODE;
		if (has_prefix(p, "[anon:") || has_prefix(p, "[anon_shmem:"))
			return p;
		if (!strcmp(p, "[heap]"))
			return LABEL_BRK_HEAP;
	}
	if (g->flags & ML_RF_HEAP)
		return LABEL_BRK_HEAP;
	if ((g->prot & PROT_EXEC) && (g->flags & ML_RF_ANON) &&
	    !(g->flags & ML_RF_SHM) && (!p || p[0] == '['))
		return LABEL_JIT_CODE;
	return NULL;
}

static bool is_any(const char *s, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s, names[i]))
			return true;
	return false;
}

static const char *frame_label(const char *sym, u64 reserved_bytes)
{
	static const char *const arena[] = {
		"new_heap", "alloc_new_heap", "grow_heap", "_int_new_arena",
		"arena_get2", "arena_get_retry",
	};
	static const char *const big_malloc[] = {
		"sysmalloc", "sysmalloc_mmap", "mremap_chunk", "_int_malloc",
		"__libc_malloc", "malloc", "__libc_calloc", "calloc",
		"__libc_realloc", "realloc", "_int_realloc", "_int_memalign",
		"_mid_memalign", "__libc_memalign", "memalign",
		"__posix_memalign", "posix_memalign", "aligned_alloc",
		"__libc_valloc", "valloc", "__libc_pvalloc", "pvalloc",
	};

	if (!strcmp(sym, "allocate_stack") || strstr(sym, "pthread_create"))
		return LABEL_THREAD_STACKS;
	/* The dynamic loader mapping a library's segments (and its .bss). */
	if (!strcmp(sym, "_dl_map_object_from_fd") || !strcmp(sym, "_dl_map_segments"))
		return LABEL_LIBRARY;
	if (is_any(sym, arena, ARRAY_SIZE(arena)))
		return LABEL_MALLOC_ARENA;
	if (is_any(sym, big_malloc, ARRAY_SIZE(big_malloc)))
		return LABEL_LARGE_MALLOC;
	if (strstr(sym, "GCToOSInterface") || strstr(sym, "gc_heap") ||
	    strstr(sym, "VirtualReserve"))
		return reserved_bytes ? LABEL_GC_RESERVE : LABEL_GC_HEAP;
	return NULL;
}

static bool is_dotnet_runtime(const char *module)
{
	const char *b = module ? strrchr(module, '/') : NULL;

	b = b ? b + 1 : module;
	return b && (has_prefix(b, "libcoreclr.so") || has_prefix(b, "libclrgc.so"));
}

const char *label_site(const struct ml_frame *frames, u32 nframes,
		       const char *const *rlabels, size_t nregions,
		       u64 reserved_bytes)
{
	const char *l = nregions ? rlabels[0] : NULL;
	bool runtime = false;

	for (size_t i = 1; l && i < nregions; i++)
		if (!rlabels[i] || strcmp(rlabels[i], l))
			l = NULL;
	if (l)
		return l;
	for (u32 i = 0; i < nframes; i++) {
		if (frames[i].symbol && frames[i].kind == ML_FK_NATIVE) {
			l = frame_label(frames[i].symbol, reserved_bytes);
			if (l)
				return l;
		}
		runtime = runtime || (frames[i].kind == ML_FK_NATIVE &&
				      is_dotnet_runtime(frames[i].module));
	}
	if (runtime && reserved_bytes >= LABEL_GC_RESERVE_MIN)
		return LABEL_GC_RESERVE;
	return NULL;
}

/* --- snapshots ---------------------------------------------------------- */

static void snap_clear(struct label_snap *sn)
{
	for (size_t i = 0; i < sn->n; i++)
		free(sn->e[i].path);
	free(sn->e);
	memset(sn, 0, sizeof(*sn));
}

int label_snaps_keep(struct label_snaps *s, u64 time, bool final,
		     const struct maps_entry *e, size_t n)
{
	struct label_snap *sn = final ? &s->final : &s->last, nsn = { 0 };

	if (n) {
		nsn.e = calloc(n, sizeof(*nsn.e));
		if (!nsn.e)
			return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		nsn.e[i] = e[i];
		nsn.e[i].path = NULL;
		nsn.n = i + 1;
		if (e[i].path && !(nsn.e[i].path = strdup(e[i].path))) {
			snap_clear(&nsn);
			return -ENOMEM;
		}
	}
	nsn.n = n;
	nsn.time = time;
	nsn.have = true;
	snap_clear(sn);
	*sn = nsn;
	return 0;
}

void label_snaps_clear(struct label_snaps *s)
{
	snap_clear(&s->final);
	snap_clear(&s->last);
}

static const struct maps_entry *snap_find(const struct label_snap *sn, u64 addr)
{
	ssize_t i = ML_RANGE_FIND(sn->e, sn->n, start, end, addr);

	return i >= 0 ? &sn->e[i] : NULL;
}

const struct maps_entry *label_snaps_find(const struct label_snaps *s,
					  const struct ml_region *g)
{
	if (s->final.have)
		return snap_find(&s->final, g->start);
	/* An older snapshot cannot describe what was mapped after it. */
	if (s->last.have && s->last.time >= g->time)
		return snap_find(&s->last, g->start);
	return NULL;
}

int label_regions(const struct label_snaps *s, const struct ml_region *v,
		  size_t n, struct ml_region_info **out)
{
	struct ml_region_info *ri;

	*out = NULL;
	if (!n)
		return 0;
	ri = calloc(n, sizeof(*ri));
	if (!ri)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct maps_entry *e = label_snaps_find(s, &v[i]);
		const char *l = label_region(&v[i], e);

		if ((l && !(ri[i].label = strdup(l))) ||
		    (e && e->path && !(ri[i].path = strdup(e->path)))) {
			label_info_free(ri, n);
			return -ENOMEM;
		}
	}
	*out = ri;
	return 0;
}

void label_info_free(struct ml_region_info *ri, size_t n)
{
	if (!ri)
		return;
	for (size_t i = 0; i < n; i++) {
		free(ri[i].label);
		free(ri[i].path);
	}
	free(ri);
}
