/* SPDX-License-Identifier: MIT */
/*
 * Everything that unwinding and naming need of one target process: its
 * modules (one libdwfl Dwfl kept across samples), its maps, its JIT perf
 * map. Opened while the target is alive; keeps file descriptors so that
 * naming still works after the target has exited.
 */
#ifndef MAPLEAK_SYMTAB_H
#define MAPLEAK_SYMTAB_H

#include <signal.h>

#include "mapleak.h"

struct symtab;

/* Reads /proc/PID/maps and status (namespace pid). -ESRCH if gone,
 * -EACCES/-EPERM without privileges. */
int symtab_open(struct symtab **out, pid_t pid);
void symtab_close(struct symtab *st);	/* NULL is a no-op */

/* Re-reads /proc/PID/maps to learn new modules (dlopen). Cheap to call
 * often: it does nothing unless symtab_maps_changed() was called since. */
int symtab_refresh(struct symtab *st);
void symtab_maps_changed(struct symtab *st);

/* After exec: forget every module of the old image. */
int symtab_reset(struct symtab *st);

/* The modules as the unwinder (src/unwind/unwind.h) asks for them:
 * borrowed, valid until symtab_close(). */
struct unwind_modules;
const struct unwind_modules *symtab_unwind_modules(struct symtab *st);

/*
 * Interpreted Java frames of a walk (unwinder_walk() of pcs and fps), in a
 * HotSpot JVM: methods[i] gets the Method* that frame i (pc in the
 * interpreter) ran, read below the frame's rbp fps[i] in the copied stack
 * [sp, sp + len); 0 elsewhere. Learns the JVM's layout and interpreter
 * from its memory when first needed (retried while the JVM starts).
 * Returns how many frames got a Method*.
 */
u32 symtab_java_methods(struct symtab *st, const u64 *pcs, const u64 *fps, u32 n,
			const void *stack, u64 sp, u32 len, u64 *methods);

/*
 * Marks, in a walk of a HotSpot JVM that runs without
 * -XX:+PreserveFramePointer, where it skipped frames: after each frame
 * of compiled Java code (code cache, not the interpreter, called from
 * code-cache code: native wrappers and runtime stubs, which native code
 * returns into, do keep rbp) an ML_PC_GAP entry is inserted in pcs (and
 * a 0 in methods), also after the last frame (the walk ended there),
 * up to max entries. Returns the new count.
 */
u32 symtab_java_gaps(struct symtab *st, u64 *pcs, u32 n, u32 max, u64 *methods);

/*
 * Names Method* method from the live target's memory: "Class.method(args)",
 * kind jit, tier "interpreted". 0, -ENOENT (unreadable: the frame stays
 * "[interpreted Java]"), -ENOMEM.
 */
int symtab_java_method(struct symtab *st, u64 method, struct ml_frame *out);

/* Reads new lines of perf-<nspid>.map (through /proc/PID/root/tmp).
 * Missing file: 0. Also remembers the file for naming after exit. */
int symtab_update_jit(struct symtab *st);

/* Reads the perf map again from its first byte (a runtime rewrote it
 * in place, as jcmd Compiler.perfmap does), keeping what was known. */
int symtab_reread_jit(struct symtab *st);

/* Reads of the target's perf map and jitdump return -EINTR between
 * chunks once *flag is nonzero (a signal handler's flag). NULL: never. */
void symtab_set_cancel(struct symtab *st, const volatile sig_atomic_t *flag);

/*
 * Notes on the target's JIT files not made yet: a cap hit (entries,
 * bytes, names), so some JIT frames may stay unnamed. Each is returned
 * once; borrowed until the next call or symtab_close(). For the recorder
 * to print and keep (NOTE records).
 */
const char *const *symtab_new_notes(struct symtab *st, size_t *n);

/* True when a perf map was found and read at least once. */
bool symtab_has_jit_map(const struct symtab *st);

/*
 * Reads the perf map to its end, then removes the target's
 * /tmp/perf-NSPID.map (if it is the file read) and perfinfo-NSPID.map,
 * each only when a regular file of the target's user or root; works after
 * the target exited. For files the caller caused. 0 (also when there
 * were none) or -errno.
 */
int symtab_remove_perfmap(struct symtab *st);

/* True when a mapping in the latest maps snapshot has a path ending in
 * suffix (e.g. "/libcoreclr.so"); kept after the target exited. */
bool symtab_maps_have(const struct symtab *st, const char *suffix);
/* The perf map read is a .NET runtime's (its first entries are stubs):
 * known even when the program exited before its maps were read. */
bool symtab_perfmap_is_dotnet(struct symtab *st);

/*
 * Names pc. return_address: pcs[i] for i > 0 (looked up at pc - 1).
 * Fills out (strings malloc'd, release with ml_frame_release()); an
 * unknown pc still gets kind and, where known, module. Returns 0 or -errno
 * (-ENOMEM only).
 */
int symtab_name(struct symtab *st, u64 pc, bool return_address,
		struct ml_frame *out);

/*
 * Time-correct JIT names from jit-<nspid>.dump (symbols/symtab-jitdump.c).
 * time is CLOCK_MONOTONIC ns, the clock of the events; UINT64_MAX means
 * "the latest", what symtab_name() uses.
 *
 * symtab_name_at(): symtab_name() as of time: a pc in JIT code gets the
 * method that occupied it then (an address re-used after tiering or
 * unloading names differently at different times).
 */
int symtab_name_at(struct symtab *st, u64 pc, bool return_address, u64 time,
		   struct ml_frame *out);

/* Which code held pc at time per the jitdump, as a nonzero hash of its
 * start, size and name (records logging the same code twice are one);
 * 0 when the jitdump does not know pc. Equal epochs: the same method. */
u64 symtab_jit_epoch(struct symtab *st, u64 pc, bool return_address, u64 time);

/* symtab_jit_epoch() of every pc of a stack (pcs[i] for i > 0 is a return
 * address), after reading what the jitdump gained since time. Returns
 * how many epochs are not 0. */
u32 symtab_jit_epochs(struct symtab *st, const u64 *pcs, u32 n, u64 time,
		      u64 *epochs);

/* Names pc inside the JIT code `name` (a perf map name) that starts at
 * start, exactly as symtab_name() does: kind, symbol, assembly, tier.
 * For names saved in a recording. 0 or -ENOMEM. */
int symtab_name_jit(const char *name, u64 start, u64 pc, struct ml_frame *out);

#endif
