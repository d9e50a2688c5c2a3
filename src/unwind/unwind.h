/* SPDX-License-Identifier: MIT */
/*
 * The unwinder: walks one stack snapshot with libdwfl (DWARF CFI where a
 * module has it, frame pointers where not: JIT code). It knows nothing of
 * how modules are found or named: it asks a struct unwind_modules for
 * what a walk needs, so symbols/ implements that interface and tests may
 * fake it. Keeps its own per-sample state and a cache of walks.
 */
#ifndef MAPLEAK_UNWIND_H
#define MAPLEAK_UNWIND_H

#include <elfutils/libdwfl.h>
#include <sys/types.h>

#include "mapleak.h"

/*
 * What a walk needs of the target's modules. Borrowed by the unwinder:
 * it must outlive it. The unwinder attaches its thread callbacks to the
 * Dwfl once (dwfl_attach_state): one unwinder per Dwfl; a new Dwfl (after
 * exec) is attached again.
 */
struct unwind_modules {
	void *ctx;
	/* The modules as a Dwfl, NULL while there is none; *arch: an ELF of
	 * the target's machine, *pid: the target. */
	Dwfl *(*dwfl)(void *ctx, Elf **arch, pid_t *pid);
	/* addr is executable code (JIT code included); true when unknown.
	 * A return address elsewhere ends the walk: junk read as one. */
	bool (*is_code)(void *ctx, u64 addr);
	/* Generations, bumped when modules change (*mod_gen) and when the
	 * maps are read again (*maps_gen): cached walks depend on them. */
	void (*gens)(void *ctx, u64 *mod_gen, u64 *maps_gen);
};

struct unwinder;

/* 0 or -ENOMEM. mods is borrowed. */
int unwinder_new(struct unwinder **out, const struct unwind_modules *mods);
void unwinder_free(struct unwinder *u);	/* NULL is a no-op */

/*
 * Unwinds one stack snapshot: registers regs (ML_REG_* order), the copied
 * stack [regs[ML_REG_SP], + stack_len) (NULL: none), ev_flags ML_EVF_*.
 * pcs[0] is the interrupted pc; pcs[1..] are return addresses. fps (NULL:
 * not wanted) gets each frame's frame pointer, 0 when unknown: an
 * interpreted Java frame's Method* sits below it. At most max (capped at
 * ML_STACK_MAX_FRAMES) entries. *sflags gets ML_SF_*. Returns 0 with
 * *n >= 1 (an unwinding failure is a flag, not an error), or -EINVAL
 * (tid <= 0, max 0), -ENOMEM.
 */
int unwinder_walk(struct unwinder *u, pid_t tid, const u64 regs[ML_NREGS],
		  const void *stack, u32 stack_len, u32 ev_flags,
		  u64 *pcs, u64 *fps, u32 max, u32 *n, u32 *sflags);

/* Walks served by the cache, and walked. */
void unwinder_stats(const struct unwinder *u, u64 *hits, u64 *misses);

#endif
