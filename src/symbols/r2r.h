/* SPDX-License-Identifier: MIT */
/*
 * Names ReadyToRun code from the assembly itself, as R2RDump does: the CLI
 * header's ManagedNativeHeader is the READYTORUN_HEADER; its
 * RuntimeFunctions section lists every piece of precompiled code,
 * MethodDefEntryPoints (a NativeArray by MethodDef row) and
 * InstanceMethodEntryPoints (a NativeHashtable of method signatures, for
 * generic code) give the first runtime function of each method; the
 * assembly's ECMA-335 metadata (symbols/meta.c) names the method. A
 * method's funclets (the runtime functions after its first, up to the next
 * method's) belong to it.
 *
 * Works on the whole file's bytes (a read-only mapping of the .dll),
 * borrowed: they must outlive the reader. Every offset is checked against
 * them and every loop is bounded by the data it walks.
 */
#ifndef MAPLEAK_R2R_H
#define MAPLEAK_R2R_H

#include "mapleak.h"

#define R2R_FUNCS_MAX	(4u << 20)	/* runtime functions read, at most */
#define R2R_SECTIONS_MAX 256u		/* READYTORUN_SECTIONs read, at most */

struct r2r;

/* What the reader found (tests, and a reason when nothing is named). */
struct r2r_stats {
	u32 funcs;		/* runtime functions */
	u32 methods;		/* methods with code */
	u32 instance;		/* InstanceMethodEntryPoints entries read */
	u32 skipped;		/* entries whose signature was not understood */
	u16 major, minor;	/* READYTORUN_HEADER version */
};

/*
 * Reads the PE image in buf[0..len). 0; -ENOEXEC (not a PE, or no CLI
 * header); -ENOENT (a .NET assembly without ReadyToRun code); -EBADMSG
 * (inconsistent ReadyToRun or metadata); -ENOMEM.
 */
int r2r_open(const void *buf, size_t len, struct r2r **out);
void r2r_free(struct r2r *r);	/* NULL is a no-op */

void r2r_get_stats(const struct r2r *r, struct r2r_stats *st);

/* The assembly's simple name ("System.Private.CoreLib"), or NULL. */
const char *r2r_assembly(const struct r2r *r);

/*
 * The method whose code holds rva: *name (borrowed from r, valid until
 * r2r_free), *start its first byte's RVA. 0, -ENOENT (no method's code
 * holds rva, or it cannot be named), -ENOMEM.
 */
int r2r_lookup(struct r2r *r, u32 rva, const char **name, u32 *start);

/* Methods in RVA order, for tables: i < stats.methods. The same 0,
 * -ENOENT, -ENOMEM; [*start, *end) is the method's main body and funclets. */
int r2r_method(struct r2r *r, u32 i, const char **name, u32 *start, u32 *end);

#endif
