// SPDX-License-Identifier: MIT
/*
 * The one-line answer of a site: which frames of the program hold it.
 * Shared by the formats (formats.h); the full stack is theirs to print.
 */
#include <string.h>

#include "report/formats.h"
#include "track/stacks.h"

/* libc and the dynamic loader: syscall wrappers and allocator innards. */
static bool is_libc(const struct ml_frame *f)
{
	const char *m = report_basename(f->module);

	return m && (!strncmp(m, "libc.so", 7) || !strncmp(m, "ld-linux", 8));
}

/* f's symbol is one of names, maybe with a compiler suffix
 * ("sysmalloc_mmap.constprop.0", "_int_malloc.part.0"). */
static bool named_in(const struct ml_frame *f, const char *const *names,
		     size_t n)
{
	for (size_t i = 0; f->symbol && i < n; i++) {
		size_t len = strlen(names[i]);

		if (!strncmp(f->symbol, names[i], len) &&
		    (f->symbol[len] == '\0' || f->symbol[len] == '.'))
			return true;
	}
	return false;
}

/* The syscall wrappers every stack starts with. */
static bool is_wrapper(const struct ml_frame *f)
{
	static const char *const w[] = {
		"__mmap", "mmap", "mmap64", "__mmap64", "munmap", "__munmap",
		"mremap", "__mremap", "mprotect", "__mprotect", "pkey_mprotect",
		"brk", "__brk", "sbrk", "__sbrk", "syscall", "shmat",
	};

	return named_in(f, w, ARRAY_SIZE(w));
}

/* An allocator's entry points and innards (glibc, jemalloc, tcmalloc,
 * C++): the program's call to them is the answer, not they. */
static bool is_allocator(const struct ml_frame *f)
{
	static const char *const a[] = {
		"malloc", "__libc_malloc", "calloc", "__libc_calloc", "realloc",
		"__libc_realloc", "reallocarray", "memalign", "__libc_memalign",
		"aligned_alloc", "posix_memalign", "__posix_memalign", "valloc",
		"__libc_valloc", "pvalloc", "__libc_pvalloc", "_int_malloc",
		"_int_realloc", "_int_memalign", "sysmalloc", "sysmalloc_mmap",
		"_mid_memalign",
		"tcache_init", "malloc_hook_ini", "new_heap", "alloc_new_heap",
		"arena_get2", "_int_new_arena", "operator new(unsigned long)",
		"operator new[](unsigned long)",
		"operator new(unsigned long, std::align_val_t)",
		"operator new[](unsigned long, std::align_val_t)",
		"je_malloc", "je_calloc", "je_realloc", "tc_malloc", "tc_calloc",
		"tc_realloc", "tc_new", "tc_newarray",
	};

	return named_in(f, a, ARRAY_SIZE(a));
}

/* Where a thread starts: the headline stops there. */
static bool is_entry(const struct ml_frame *f)
{
	static const char *const e[] = {
		"__libc_start_call_main", "__libc_start_main", "_start",
		"start_thread", "__clone3", "clone3", "__clone", "clone",
	};

	return named_in(f, e, ARRAY_SIZE(e));
}

/* A managed runtime's own native code (and its host program): it runs
 * the program's managed frames, it is not the program. */
static bool is_runtime(const struct ml_frame *f)
{
	static const char *const r[] = {
		"libcoreclr.so", "libclrjit.so", "libhostpolicy.so",
		"libhostfxr.so", "dotnet", "libjvm.so", "libjli.so", "java",
		"node", "libnode.so",
	};
	const char *m = report_basename(f->module);

	if (f->kind != ML_FK_NATIVE || !m)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(r); i++) {
		size_t n = strlen(r[i]);

		/* "libnode.so.108" too */
		if (!strncmp(m, r[i], n) && (m[n] == '\0' || m[n] == '.'))
			return true;
	}
	return false;
}

/* .NET's host libraries: what calls them is the host program. */
static bool is_host(const struct ml_frame *f)
{
	const char *m = report_basename(f->module);

	return f->kind == ML_FK_NATIVE && m &&
	       (!strncmp(m, "libhostfxr.so", 13) || !strncmp(m, "libhostpolicy.so", 16));
}

/* A frame the headline never names. */
static bool is_noise(const struct ml_frame *f)
{
	return !f->symbol || is_wrapper(f) || is_libc(f) || is_allocator(f) ||
	       is_runtime(f);
}

/* The libc function called from frame k ("printf", "pthread_create"),
 * or -1: an allocator's caller is the answer, not the allocator. */
static int libc_call(const struct ml_site *s, u32 k)
{
	const struct ml_frame *c = k > 0 ? &s->frames[k - 1] : NULL;

	return c && c->symbol && is_libc(c) && !is_wrapper(c) && !is_allocator(c) ?
	       (int)k - 1 : -1;
}

/* Nothing of the program's (a runtime's own thread, the loader): the
 * libc call and the first named frame past libc, else the innermost
 * named frame, else frame 0. */
static size_t fallback(const struct ml_site *s, u32 *idx, size_t max,
		       bool *more)
{
	size_t n = 0;
	u32 k = 0;
	int c;

	while (k < s->nframes && (is_libc(&s->frames[k]) || is_wrapper(&s->frames[k])))
		k++;
	if (k == s->nframes)
		goto innermost;		/* all libc: the loader's own work */
	c = libc_call(s, k);
	if (c >= 0)
		idx[n++] = (u32)c;
	for (; k < s->nframes && !is_entry(&s->frames[k]); k++)
		if (s->frames[k].symbol && !is_allocator(&s->frames[k]))
			break;
	if (k < s->nframes && !is_entry(&s->frames[k])) {
		if (n < max)
			idx[n++] = k;
		else
			*more = true;
		/* The runtime's frames go on: say so. */
		while (++k < s->nframes && !is_entry(&s->frames[k]) && !*more)
			*more = s->frames[k].symbol != NULL;
		return n;
	}
	if (n)
		return n;
innermost:
	for (k = 0; k < s->nframes; k++)
		if (s->frames[k].symbol && !is_wrapper(&s->frames[k]))
			break;
	idx[0] = k < s->nframes ? k : 0;
	return 1;
}

size_t report_headline(const struct ml_site *s, u32 *idx, size_t max,
		       bool *more)
{
	size_t n = 0;
	u32 k = 0;
	int c;

	*more = false;
	if (!s->nframes || !max)
		return 0;
	while (k < s->nframes && is_noise(&s->frames[k]) &&
	       !is_entry(&s->frames[k]))
		k++;
	if (k == s->nframes || is_entry(&s->frames[k]))
		return fallback(s, idx, max, more);
	/* The libc function the program called ("printf <- main"). */
	c = libc_call(s, k);
	if (c >= 0)
		idx[n++] = (u32)c;
	for (; k < s->nframes && !is_entry(&s->frames[k]); k++) {
		if (is_noise(&s->frames[k]))
			continue;
		if (n == max) {
			*more = true;
			break;
		}
		idx[n++] = k;
	}
	return n;
}

int report_own_frame(const struct ml_site *s)
{
	/* a runtime's stub (IL_STUB_PInvoke) is shown, but is no function
	 * of the program's: every P/Invoke would be one */
	for (u32 k = 0; k < s->nframes && !is_entry(&s->frames[k]); k++)
		if (!is_noise(&s->frames[k]) && s->frames[k].kind != ML_FK_STUB)
			return (int)k;
	return -1;
}

bool report_runtime_stack(const struct ml_site *s)
{
	bool runtime = false;
	u32 n = s->nframes;

	/* junk at the outer end of a walk that stopped early (it read data)
	 * says nothing; in a whole walk an unknown frame may be the
	 * program's JIT code that nothing named */
	while (n > 0 && (s->stack_flags & (ML_SF_TRUNCATED | ML_SF_UNWIND_ERR)) &&
	       !s->frames[n - 1].module && !s->frames[n - 1].symbol)
		n--;
	for (u32 k = 0; k < n && !is_entry(&s->frames[k]); k++) {
		const struct ml_frame *f = &s->frames[k];

		if (is_runtime(f))
			runtime = true;
		else if (!is_libc(f) && !is_wrapper(f) && !is_allocator(f))
			return false;	/* the program's, or not known */
		/* outward of the host library is the host program (an
		 * apphost "App" has no symbols): it only starts the runtime */
		if (is_host(f))
			break;
	}
	return runtime;
}
