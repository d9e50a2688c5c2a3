/* SPDX-License-Identifier: MIT */
/*
 * A bounded reader of ECMA-335 metadata (Partition II, chapter 24): the
 * metadata root, its streams (#~ or #-, #Strings, #Blob), the table row
 * counts and sizes, and just enough of the tables to name a method the way
 * the .NET runtime's perf map does: "Ns.Outer+Nested::Method(int32,string)".
 *
 * The bytes are borrowed (a mapped .dll): they must outlive the reader.
 * Every index, offset and length read from them is checked against the
 * stream it points into; a malformed table names nothing rather than
 * reading outside.
 */
#ifndef MAPLEAK_META_H
#define MAPLEAK_META_H

#include "mapleak.h"

/* Tables (II.22) this reader uses by number. */
#define META_TYPEREF		0x01u
#define META_TYPEDEF		0x02u
#define META_METHODDEF		0x06u
#define META_MEMBERREF		0x0Au
#define META_TYPESPEC		0x1Bu
#define META_ASSEMBLY		0x20u
#define META_ASSEMBLYREF	0x23u
#define META_NESTEDCLASS	0x29u

#define META_NAME_MAX		4096u	/* longer names are cut with "..." */

struct meta;

/*
 * Reads the metadata whose root (the "BSJB" signature) starts at buf and
 * spans len bytes. 0, -EBADMSG (not metadata, or inconsistent: a stream
 * or a table past the end, an unknown table), -ENOMEM.
 */
int meta_open(const void *buf, size_t len, struct meta **out);
void meta_free(struct meta *m);		/* NULL is a no-op */

u32 meta_rows(const struct meta *m, unsigned table);

/* The assembly's simple name (the Assembly table), or NULL. Borrowed. */
const char *meta_assembly_name(const struct meta *m);

/*
 * The name of method token tok (a MethodDef 0x06xxxxxx or a MemberRef
 * 0x0Axxxxxx): "Ns.Type::Method(params)", nested types joined by '+',
 * parameter types as the runtime's perf map prints them (int32, string,
 * valuetype Ns.S, class [Asm]Ns.C, !0, !!0, T[], T&...). owner, when not
 * NULL, replaces the owning type's name (an instantiated generic type).
 * *out is malloc'd. 0, -ENOENT (no such row), -EBADMSG, -ENOMEM.
 */
int meta_method_name(const struct meta *m, u32 tok, const char *owner,
		     char **out);

/* ---- signatures (II.23.2), shared with the ReadyToRun reader ---- */

/* A growing, bounded string: oom or a cut are remembered, not fatal.
 * A NULL string takes nothing (to skip a signature). */
struct meta_str {
	char *s;
	size_t len, cap;
	bool oom;
};

void meta_str_put(struct meta_str *b, const char *s, size_t n);
void meta_str_puts(struct meta_str *b, const char *s);

/* A cursor over signature bytes. */
struct meta_sig {
	const unsigned char *p, *end;
};

/* ECMA-335 compressed unsigned integer (II.23.2): 0 or -EBADMSG. */
int meta_sig_uint(struct meta_sig *s, u32 *v);

/*
 * Formats one type of a signature. style META_STYLE_SIG: as in a method's
 * parameter list ("valuetype System.ReadOnlySpan`1<char>"); style
 * META_STYLE_TYPE: as a type name ("System.Nullable`1[System.Int32]").
 * r2r: accept the ReadyToRun extensions (System.__Canon; another module's
 * type is written "?"). out NULL: only skipped. 0 or -EBADMSG.
 */
#define META_STYLE_SIG	0
#define META_STYLE_TYPE	1
int meta_sig_type(const struct meta *m, struct meta_sig *s, int style, bool r2r,
		  struct meta_str *out);

#endif
