/* SPDX-License-Identifier: MIT */
/*
 * ECMA-335 metadata, bounded (see meta.h). Layouts from ECMA-335 6th
 * edition, Partition II: the metadata root (II.24.2.1), stream headers
 * (II.24.2.2), the #~ stream (II.24.2.6), table columns (II.22), coded
 * indices (II.24.2.6), signatures (II.23.2).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/meta.h"
#include "util/vec.h"

#define NTABLES		64u
#define NKNOWN		0x2Du	/* tables 0x00..0x2C have a schema here */
#define MAX_COLS	9u
#define SIG_DEPTH	32	/* nested types in a signature */
#define NEST_DEPTH	16	/* enclosing types of a nested type */

/* Column kinds: fixed sizes, heap indices, table indices, coded indices. */
enum {
	C_END = 0, C_U16, C_U32, C_STR, C_GUID, C_BLOB,
	C_IDX = 0x100,		/* | table */
	C_CODED = 0x200,	/* | coded index kind */
};

enum {
	CI_TYPEDEFORREF, CI_HASCONSTANT, CI_HASCUSTOMATTRIBUTE,
	CI_HASFIELDMARSHAL, CI_HASDECLSECURITY, CI_MEMBERREFPARENT,
	CI_HASSEMANTICS, CI_METHODDEFORREF, CI_MEMBERFORWARDED,
	CI_IMPLEMENTATION, CI_CUSTOMATTRIBUTETYPE, CI_RESOLUTIONSCOPE,
	CI_TYPEORMETHODDEF, CI_COUNT
};

#define X 0xFFu			/* a coded index value that names no table */
static const struct {
	u8 bits, n;
	u8 t[22];
} coded[CI_COUNT] = {
	[CI_TYPEDEFORREF] = { 2, 3, { 0x02, 0x01, 0x1B } },
	[CI_HASCONSTANT] = { 2, 3, { 0x04, 0x08, 0x17 } },
	[CI_HASCUSTOMATTRIBUTE] = { 5, 22, { 0x06, 0x04, 0x01, 0x02, 0x08,
		0x09, 0x0A, 0x00, 0x0E, 0x17, 0x14, 0x11, 0x1A, 0x1B, 0x20,
		0x23, 0x26, 0x27, 0x28, 0x2A, 0x2C, 0x2B } },
	[CI_HASFIELDMARSHAL] = { 1, 2, { 0x04, 0x08 } },
	[CI_HASDECLSECURITY] = { 2, 3, { 0x02, 0x06, 0x20 } },
	[CI_MEMBERREFPARENT] = { 3, 5, { 0x02, 0x01, 0x1A, 0x06, 0x1B } },
	[CI_HASSEMANTICS] = { 1, 2, { 0x14, 0x17 } },
	[CI_METHODDEFORREF] = { 1, 2, { 0x06, 0x0A } },
	[CI_MEMBERFORWARDED] = { 1, 2, { 0x04, 0x06 } },
	[CI_IMPLEMENTATION] = { 2, 3, { 0x26, 0x23, 0x27 } },
	[CI_CUSTOMATTRIBUTETYPE] = { 3, 5, { X, X, 0x06, 0x0A, X } },
	[CI_RESOLUTIONSCOPE] = { 2, 4, { 0x00, 0x1A, 0x23, 0x01 } },
	[CI_TYPEORMETHODDEF] = { 1, 2, { 0x02, 0x06 } },
};

#define I(t)	(C_IDX | (t))
#define CI(k)	(C_CODED | (k))
/* II.22: the columns of every table, in order. */
static const u16 schema[NKNOWN][MAX_COLS] = {
	[0x00] = { C_U16, C_STR, C_GUID, C_GUID, C_GUID },	/* Module */
	[0x01] = { CI(CI_RESOLUTIONSCOPE), C_STR, C_STR },	/* TypeRef */
	[0x02] = { C_U32, C_STR, C_STR, CI(CI_TYPEDEFORREF), I(0x04),
		   I(0x06) },					/* TypeDef */
	[0x03] = { I(0x04) },					/* FieldPtr */
	[0x04] = { C_U16, C_STR, C_BLOB },			/* Field */
	[0x05] = { I(0x06) },					/* MethodPtr */
	[0x06] = { C_U32, C_U16, C_U16, C_STR, C_BLOB, I(0x08) }, /* MethodDef */
	[0x07] = { I(0x08) },					/* ParamPtr */
	[0x08] = { C_U16, C_U16, C_STR },			/* Param */
	[0x09] = { I(0x02), CI(CI_TYPEDEFORREF) },		/* InterfaceImpl */
	[0x0A] = { CI(CI_MEMBERREFPARENT), C_STR, C_BLOB },	/* MemberRef */
	[0x0B] = { C_U16, CI(CI_HASCONSTANT), C_BLOB },		/* Constant */
	[0x0C] = { CI(CI_HASCUSTOMATTRIBUTE), CI(CI_CUSTOMATTRIBUTETYPE),
		   C_BLOB },					/* CustomAttribute */
	[0x0D] = { CI(CI_HASFIELDMARSHAL), C_BLOB },		/* FieldMarshal */
	[0x0E] = { C_U16, CI(CI_HASDECLSECURITY), C_BLOB },	/* DeclSecurity */
	[0x0F] = { C_U16, C_U32, I(0x02) },			/* ClassLayout */
	[0x10] = { C_U32, I(0x04) },				/* FieldLayout */
	[0x11] = { C_BLOB },					/* StandAloneSig */
	[0x12] = { I(0x02), I(0x14) },				/* EventMap */
	[0x13] = { I(0x14) },					/* EventPtr */
	[0x14] = { C_U16, C_STR, CI(CI_TYPEDEFORREF) },		/* Event */
	[0x15] = { I(0x02), I(0x17) },				/* PropertyMap */
	[0x16] = { I(0x17) },					/* PropertyPtr */
	[0x17] = { C_U16, C_STR, C_BLOB },			/* Property */
	[0x18] = { C_U16, I(0x06), CI(CI_HASSEMANTICS) },	/* MethodSemantics */
	[0x19] = { I(0x02), CI(CI_METHODDEFORREF), CI(CI_METHODDEFORREF) },
	[0x1A] = { C_STR },					/* ModuleRef */
	[0x1B] = { C_BLOB },					/* TypeSpec */
	[0x1C] = { C_U16, CI(CI_MEMBERFORWARDED), C_STR, I(0x1A) }, /* ImplMap */
	[0x1D] = { C_U32, I(0x04) },				/* FieldRVA */
	[0x1E] = { C_U32, C_U32 },				/* EncLog */
	[0x1F] = { C_U32 },					/* EncMap */
	[0x20] = { C_U32, C_U16, C_U16, C_U16, C_U16, C_U32, C_BLOB, C_STR,
		   C_STR },					/* Assembly */
	[0x21] = { C_U32 },					/* AssemblyProcessor */
	[0x22] = { C_U32, C_U32, C_U32 },			/* AssemblyOS */
	[0x23] = { C_U16, C_U16, C_U16, C_U16, C_U32, C_BLOB, C_STR, C_STR,
		   C_BLOB },					/* AssemblyRef */
	[0x24] = { C_U32, I(0x23) },				/* AssemblyRefProcessor */
	[0x25] = { C_U32, C_U32, C_U32, I(0x23) },		/* AssemblyRefOS */
	[0x26] = { C_U32, C_STR, C_BLOB },			/* File */
	[0x27] = { C_U32, C_U32, C_STR, C_STR, CI(CI_IMPLEMENTATION) },
	[0x28] = { C_U32, C_U32, C_STR, CI(CI_IMPLEMENTATION) },
	[0x29] = { I(0x02), I(0x02) },				/* NestedClass */
	[0x2A] = { C_U16, C_U16, CI(CI_TYPEORMETHODDEF), C_STR }, /* GenericParam */
	[0x2B] = { CI(CI_METHODDEFORREF), C_BLOB },		/* MethodSpec */
	[0x2C] = { I(0x2A), CI(CI_TYPEDEFORREF) },		/* GenericParamConstraint */
};
#undef I
#undef CI

struct heap {
	const unsigned char *p;
	u32 len;
};

struct table {
	u32 rows;
	u32 row_size;
	const unsigned char *base;
	u8 col_off[MAX_COLS];
	u8 col_size[MAX_COLS];
};

struct meta {
	struct heap strings, blob;
	struct table t[NTABLES];
	const char *assembly;	/* in #Strings */
};

static u16 rd16(const unsigned char *p)
{
	return (u16)(p[0] | p[1] << 8);
}

static u32 rd32(const unsigned char *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

/* ---- opening ---- */

/* A coded index is 2 bytes while every table it names fits in the bits
 * its tag leaves (II.24.2.6). */
static u8 coded_size(const struct meta *m, unsigned k)
{
	u32 max = 0;

	for (unsigned i = 0; i < coded[k].n; i++)
		if (coded[k].t[i] != X && m->t[coded[k].t[i]].rows > max)
			max = m->t[coded[k].t[i]].rows;
	return max < (1u << (16 - coded[k].bits)) ? 2 : 4;
}

static u8 col_size(const struct meta *m, u16 col, u8 heap_sizes)
{
	switch (col) {
	case C_U16: return 2;
	case C_U32: return 4;
	case C_STR: return heap_sizes & 0x01 ? 4 : 2;
	case C_GUID: return heap_sizes & 0x02 ? 4 : 2;
	case C_BLOB: return heap_sizes & 0x04 ? 4 : 2;
	}
	if (col & C_IDX)
		return m->t[col & 0xFF].rows < 0x10000 ? 2 : 4;
	return coded_size(m, col & 0xFF);
}

/* A string of the #Strings heap, NUL-terminated inside it, or NULL. */
static const char *heap_str(const struct meta *m, u32 idx)
{
	const unsigned char *p;

	if (idx >= m->strings.len)
		return NULL;
	p = m->strings.p + idx;
	if (!memchr(p, '\0', m->strings.len - idx))
		return NULL;
	return (const char *)p;
}

/* The blob at idx (II.24.2.4: a compressed length, then the bytes). */
static int heap_blob(const struct meta *m, u32 idx, struct meta_sig *out)
{
	struct meta_sig s;
	u32 n;

	if (idx >= m->blob.len)
		return -EBADMSG;
	s.p = m->blob.p + idx;
	s.end = m->blob.p + m->blob.len;
	if (meta_sig_uint(&s, &n) < 0 || n > (size_t)(s.end - s.p))
		return -EBADMSG;
	out->p = s.p;
	out->end = s.p + n;
	return 0;
}

static u32 cell(const struct meta *m, unsigned tab, u32 rid, unsigned col)
{
	const struct table *t = &m->t[tab];
	const unsigned char *p = t->base + (size_t)(rid - 1) * t->row_size +
				 t->col_off[col];

	return t->col_size[col] == 2 ? rd16(p) : rd32(p);
}

/* The streams we use, by name (II.24.2.2). */
static int read_streams(const unsigned char *b, size_t len, struct heap *tabs,
			struct meta *m)
{
	u32 vlen, off;
	u16 nstreams;

	if (len < 16 || rd32(b) != 0x424A5342)	/* "BSJB" */
		return -EBADMSG;
	vlen = rd32(b + 12);
	if (vlen > 255 || (size_t)16 + vlen + 4 > len)
		return -EBADMSG;
	off = 16 + vlen;
	nstreams = rd16(b + off + 2);
	off += 4;
	for (u16 i = 0; i < nstreams; i++) {
		u32 so, ss;
		const char *name;
		size_t nl;

		if ((size_t)off + 8 > len)
			return -EBADMSG;
		so = rd32(b + off);
		ss = rd32(b + off + 4);
		name = (const char *)b + off + 8;
		nl = strnlen(name, len - off - 8 < 32 ? len - off - 8 : 32);
		if (nl >= 32 || (size_t)off + 8 + nl >= len)
			return -EBADMSG;
		off += 8 + (u32)((nl + 4) & ~3u);	/* NUL, padded to 4 */
		if (so > len || ss > len - so)
			return -EBADMSG;
		if (!strcmp(name, "#~") || !strcmp(name, "#-"))
			*tabs = (struct heap){ b + so, ss };
		else if (!strcmp(name, "#Strings"))
			m->strings = (struct heap){ b + so, ss };
		else if (!strcmp(name, "#Blob"))
			m->blob = (struct heap){ b + so, ss };
	}
	return tabs->p ? 0 : -EBADMSG;
}

/* The #~ stream: row counts, then the tables back to back (II.24.2.6). */
static int read_tables(struct meta *m, const struct heap *h)
{
	const unsigned char *b = h->p;
	size_t off = 24, len = h->len;
	u64 valid;
	u8 heap_sizes;

	if (len < 24)
		return -EBADMSG;
	heap_sizes = b[6];
	valid = (u64)rd32(b + 8) | (u64)rd32(b + 12) << 32;
	if (valid >> NKNOWN)
		return -EBADMSG;	/* a table whose rows we cannot size */
	for (unsigned i = 0; i < NKNOWN; i++) {
		if (!(valid >> i & 1))
			continue;
		if (off + 4 > len)
			return -EBADMSG;
		m->t[i].rows = rd32(b + off);
		if (m->t[i].rows >= 0x1000000)	/* a RID has 24 bits */
			return -EBADMSG;
		off += 4;
	}
	if (heap_sizes & 0x40)	/* "extra data" (#- of edit-and-continue) */
		off += 4;
	for (unsigned i = 0; i < NKNOWN; i++) {
		struct table *t = &m->t[i];
		u32 rs = 0;

		for (unsigned c = 0; c < MAX_COLS && schema[i][c]; c++) {
			t->col_off[c] = (u8)rs;
			t->col_size[c] = col_size(m, schema[i][c], heap_sizes);
			rs += t->col_size[c];
		}
		t->row_size = rs;
		if (!t->rows)
			continue;
		if (off > len || (u64)t->rows * rs > len - off)
			return -EBADMSG;
		t->base = b + off;
		off += (size_t)t->rows * rs;
	}
	return 0;
}

int meta_open(const void *buf, size_t len, struct meta **out)
{
	struct heap tabs = { 0 };
	struct meta *m;
	int ret;

	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	ret = read_streams(buf, len, &tabs, m);
	if (ret == 0)
		ret = read_tables(m, &tabs);
	if (ret) {
		free(m);
		return ret;
	}
	if (m->t[META_ASSEMBLY].rows)
		m->assembly = heap_str(m, cell(m, META_ASSEMBLY, 1, 7));
	*out = m;
	return 0;
}

void meta_free(struct meta *m)
{
	free(m);
}

u32 meta_rows(const struct meta *m, unsigned table)
{
	return table < NTABLES ? m->t[table].rows : 0;
}

const char *meta_assembly_name(const struct meta *m)
{
	return m->assembly;
}

/* ---- strings ---- */

void meta_str_put(struct meta_str *b, const char *s, size_t n)
{
	if (!b || b->oom || b->len >= META_NAME_MAX)
		return;
	if (b->len + n > META_NAME_MAX)
		n = META_NAME_MAX - b->len;	/* cut: bounded, still a name */
	if (ML_VEC_GROW(b->s, b->cap, b->len + n + 1)) {
		b->oom = true;
		return;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void meta_str_puts(struct meta_str *b, const char *s)
{
	if (b)
		meta_str_put(b, s, strlen(s));
}

static void put_uint(struct meta_str *b, u32 v)
{
	char tmp[16];
	int n = snprintf(tmp, sizeof(tmp), "%u", v);

	meta_str_put(b, tmp, (size_t)n);
}

/* ---- type names ---- */

static bool rid_ok(const struct meta *m, unsigned tab, u32 rid)
{
	return rid >= 1 && rid <= m->t[tab].rows;
}

/* The TypeDef enclosing typedef rid (NestedClass, sorted by its first
 * column), or 0. */
static u32 enclosing(const struct meta *m, u32 rid)
{
	u32 lo = 1, hi = m->t[META_NESTEDCLASS].rows + 1;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;
		u32 v = cell(m, META_NESTEDCLASS, mid, 0);

		if (v == rid)
			return cell(m, META_NESTEDCLASS, mid, 1);
		if (v < rid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static void put_ns_name(struct meta_str *b, const char *ns, const char *name)
{
	if (ns && ns[0]) {
		meta_str_puts(b, ns);
		meta_str_put(b, ".", 1);
	}
	meta_str_puts(b, name ? name : "?");
}

/* "Ns.Outer+Inner" (sep '+') or "Ns.Outer/Inner" (sep '/'). */
static void put_typedef(const struct meta *m, u32 rid, char sep,
			struct meta_str *b)
{
	u32 chain[NEST_DEPTH];
	int n = 0;

	while (rid_ok(m, META_TYPEDEF, rid) && n < NEST_DEPTH) {
		chain[n++] = rid;
		rid = enclosing(m, rid);
	}
	if (n == 0) {
		meta_str_put(b, "?", 1);
		return;
	}
	for (int i = n - 1; i >= 0; i--) {
		if (i != n - 1)
			meta_str_put(b, &sep, 1);
		put_ns_name(b, i == n - 1 ? heap_str(m, cell(m, META_TYPEDEF, chain[i], 2)) :
			    NULL, heap_str(m, cell(m, META_TYPEDEF, chain[i], 1)));
	}
}

/* A TypeRef: "[Asm]Ns.Name" (sig style, another assembly), nested
 * TypeRefs through their resolution scope. */
static void put_typeref(const struct meta *m, u32 rid, char sep, bool asm_prefix,
			struct meta_str *b)
{
	u32 chain[NEST_DEPTH];
	int n = 0;
	u32 scope = 0;

	while (rid_ok(m, META_TYPEREF, rid) && n < NEST_DEPTH) {
		chain[n++] = rid;
		scope = cell(m, META_TYPEREF, rid, 0);
		if ((scope & 3) != 3)	/* not nested in another TypeRef */
			break;
		rid = scope >> 2;
	}
	if (n == 0) {
		meta_str_put(b, "?", 1);
		return;
	}
	if (asm_prefix && (scope & 3) == 2 && rid_ok(m, META_ASSEMBLYREF, scope >> 2)) {
		const char *a = heap_str(m, cell(m, META_ASSEMBLYREF, scope >> 2, 6));

		if (a && a[0]) {
			meta_str_put(b, "[", 1);
			meta_str_puts(b, a);
			meta_str_put(b, "]", 1);
		}
	}
	for (int i = n - 1; i >= 0; i--) {
		if (i != n - 1)
			meta_str_put(b, &sep, 1);
		put_ns_name(b, i == n - 1 ? heap_str(m, cell(m, META_TYPEREF, chain[i], 2)) :
			    NULL, heap_str(m, cell(m, META_TYPEREF, chain[i], 1)));
	}
}

static int sig_type(const struct meta *m, struct meta_sig *s, int style,
		    bool r2r, int depth, struct meta_str *b);

/* A TypeDefOrRefOrSpec coded token (II.23.2.8). */
static int put_tdors(const struct meta *m, u32 coded_tok, int style, bool r2r,
		     int depth, struct meta_str *b)
{
	u32 rid = coded_tok >> 2;
	char sep = style == META_STYLE_SIG ? '/' : '+';

	if (!m) {		/* another module's token: skipped, unnamed */
		meta_str_put(b, "?", 1);
		return 0;
	}
	switch (coded_tok & 3) {
	case 0:
		put_typedef(m, rid, sep, b);
		return 0;
	case 1:
		put_typeref(m, rid, sep, style == META_STYLE_SIG, b);
		return 0;
	case 2:
		if (rid_ok(m, META_TYPESPEC, rid)) {
			struct meta_sig ts;

			if (heap_blob(m, cell(m, META_TYPESPEC, rid, 0), &ts) < 0)
				return -EBADMSG;
			return sig_type(m, &ts, style, r2r, depth + 1, b);
		}
		break;
	}
	return -EBADMSG;
}

int meta_sig_uint(struct meta_sig *s, u32 *v)
{
	const unsigned char *p = s->p;

	if (p >= s->end)
		return -EBADMSG;
	if (!(p[0] & 0x80)) {
		*v = p[0];
		s->p += 1;
	} else if ((p[0] & 0xC0) == 0x80) {
		if (s->end - p < 2)
			return -EBADMSG;
		*v = (u32)(p[0] & 0x3F) << 8 | p[1];
		s->p += 2;
	} else if ((p[0] & 0xE0) == 0xC0) {
		if (s->end - p < 4)
			return -EBADMSG;
		*v = (u32)(p[0] & 0x1F) << 24 | (u32)p[1] << 16 |
		     (u32)p[2] << 8 | p[3];
		s->p += 4;
	} else {
		return -EBADMSG;
	}
	return 0;
}

static int sig_byte(struct meta_sig *s, u8 *v)
{
	if (s->p >= s->end)
		return -EBADMSG;
	*v = *s->p++;
	return 0;
}

/* Element types (II.23.1.16) with a one-word name; index: the type. */
static const char *const prim_sig[] = {
	[0x01] = "void", [0x02] = "bool", [0x03] = "char", [0x04] = "int8",
	[0x05] = "uint8", [0x06] = "int16", [0x07] = "uint16", [0x08] = "int32",
	[0x09] = "uint32", [0x0A] = "int64", [0x0B] = "uint64",
	[0x0C] = "float32", [0x0D] = "float64", [0x0E] = "string",
	[0x16] = "typedref", [0x18] = "native int", [0x19] = "native uint",
	[0x1C] = "object",
};
static const char *const prim_type[] = {
	[0x01] = "System.Void", [0x02] = "System.Boolean", [0x03] = "System.Char",
	[0x04] = "System.SByte", [0x05] = "System.Byte", [0x06] = "System.Int16",
	[0x07] = "System.UInt16", [0x08] = "System.Int32",
	[0x09] = "System.UInt32", [0x0A] = "System.Int64",
	[0x0B] = "System.UInt64", [0x0C] = "System.Single",
	[0x0D] = "System.Double", [0x0E] = "System.String",
	[0x16] = "System.TypedReference", [0x18] = "System.IntPtr",
	[0x19] = "System.UIntPtr", [0x1C] = "System.Object",
};

/* A function pointer's method signature, after its calling convention,
 * as the runtime writes it: "method [unmanaged ]RET *(ARGS)". */
static int put_fnptr(const struct meta *m, struct meta_sig *s, u8 cc, bool r2r,
		     int depth, struct meta_str *b)
{
	u32 n, gen;
	int ret;
	u8 kind = cc & 0x0F;

	if ((cc & 0x10) && meta_sig_uint(s, &gen) < 0)
		return -EBADMSG;
	if (meta_sig_uint(s, &n) < 0 || n > (u32)(s->end - s->p))
		return -EBADMSG;
	/* C, stdcall, thiscall, fastcall, unmanaged (II.23.2.3) */
	meta_str_puts(b, (kind >= 1 && kind <= 4) || kind == 9 ?
		      "method unmanaged " : "method ");
	ret = sig_type(m, s, META_STYLE_SIG, r2r, depth + 1, b);
	meta_str_puts(b, " *(");
	for (u32 i = 0; i < n && ret == 0; i++) {
		if (s->p < s->end && *s->p == 0x41)	/* SENTINEL */
			s->p++;
		if (i)
			meta_str_put(b, ",", 1);
		ret = sig_type(m, s, META_STYLE_SIG, r2r, depth + 1, b);
	}
	meta_str_put(b, ")", 1);
	return ret;
}

static int sig_type(const struct meta *m, struct meta_sig *s, int style,
		    bool r2r, int depth, struct meta_str *b)
{
	const char *const *prim = style == META_STYLE_SIG ? prim_sig : prim_type;
	u8 et, et2;
	u32 v, n;
	int ret;

	if (depth > SIG_DEPTH || sig_byte(s, &et) < 0)
		return -EBADMSG;
	if (et < ARRAY_SIZE(prim_sig) && prim_sig[et]) {
		meta_str_puts(b, prim[et]);
		return 0;
	}
	switch (et) {
	case 0x0F:	/* PTR */
	case 0x10:	/* BYREF */
		ret = sig_type(m, s, style, r2r, depth + 1, b);
		meta_str_put(b, et == 0x0F ? "*" : "&", 1);
		return ret;
	case 0x11:	/* VALUETYPE */
	case 0x12:	/* CLASS */
		if (meta_sig_uint(s, &v) < 0)
			return -EBADMSG;
		if (style == META_STYLE_SIG)
			meta_str_puts(b, et == 0x11 ? "valuetype " : "class ");
		return put_tdors(m, v, style, r2r, depth, b);
	case 0x13:	/* VAR */
	case 0x1E:	/* MVAR */
		if (meta_sig_uint(s, &v) < 0)
			return -EBADMSG;
		meta_str_puts(b, et == 0x13 ? "!" : "!!");
		put_uint(b, v);
		return 0;
	case 0x14:	/* ARRAY: type rank nsizes sizes... nlo lo... */
		ret = sig_type(m, s, style, r2r, depth + 1, b);
		if (ret < 0 || meta_sig_uint(s, &v) < 0 || v > 32)
			return -EBADMSG;
		meta_str_put(b, "[", 1);
		for (u32 i = 1; i < v; i++)
			meta_str_put(b, ",", 1);
		meta_str_put(b, "]", 1);
		for (int k = 0; k < 2; k++) {
			u32 x;

			if (meta_sig_uint(s, &n) < 0 || n > 32)
				return -EBADMSG;
			for (u32 i = 0; i < n; i++)
				if (meta_sig_uint(s, &x) < 0)
					return -EBADMSG;
		}
		return 0;
	case 0x15:	/* GENERICINST: CLASS|VALUETYPE type n args... */
		if (sig_byte(s, &et2) < 0 || (et2 != 0x11 && et2 != 0x12) ||
		    meta_sig_uint(s, &v) < 0)
			return -EBADMSG;
		if (style == META_STYLE_SIG)
			meta_str_puts(b, et2 == 0x11 ? "valuetype " : "class ");
		ret = put_tdors(m, v, style, r2r, depth, b);
		if (ret < 0 || meta_sig_uint(s, &n) < 0 || n == 0 ||
		    n > (u32)(s->end - s->p))
			return -EBADMSG;
		meta_str_put(b, style == META_STYLE_SIG ? "<" : "[", 1);
		for (u32 i = 0; i < n && ret == 0; i++) {
			if (i)
				meta_str_put(b, ",", 1);
			ret = sig_type(m, s, style, r2r, depth + 1, b);
		}
		meta_str_put(b, style == META_STYLE_SIG ? ">" : "]", 1);
		return ret;
	case 0x1B:	/* FNPTR */
		if (sig_byte(s, &et2) < 0)
			return -EBADMSG;
		return put_fnptr(m, s, et2, r2r, depth, b);
	case 0x1D:	/* SZARRAY */
		ret = sig_type(m, s, style, r2r, depth + 1, b);
		meta_str_put(b, "[]", 2);
		return ret;
	case 0x1F:	/* CMOD_REQD */
	case 0x20:	/* CMOD_OPT: a token, then the type it modifies */
		if (meta_sig_uint(s, &v) < 0)
			return -EBADMSG;
		return sig_type(m, s, style, r2r, depth + 1, b);
	case 0x45:	/* PINNED */
		return sig_type(m, s, style, r2r, depth + 1, b);
	}
	if (!r2r)
		return -EBADMSG;
	/* ReadyToRun's own element types (the runtime's corcompile.h). */
	switch (et) {
	case 0x3E:	/* CANON_ZAPSIG: a shared instantiation's argument */
		meta_str_puts(b, "System.__Canon");
		return 0;
	case 0x3F: {	/* MODULE_ZAPSIG: another module's type */
		struct meta_str junk = { 0 };

		if (meta_sig_uint(s, &v) < 0)
			return -EBADMSG;
		/* Its tokens are another module's: skip it, unnamed. */
		ret = sig_type(NULL, s, style, r2r, depth + 1, &junk);
		free(junk.s);
		meta_str_put(b, "?", 1);
		return ret;
	}
	}
	return -EBADMSG;
}

int meta_sig_type(const struct meta *m, struct meta_sig *s, int style, bool r2r,
		  struct meta_str *out)
{
	return sig_type(m, s, style, r2r, 0, out);
}

/* ---- method names ---- */

/* The TypeDef owning MethodDef rid: the last whose MethodList <= rid
 * (MethodList never decreases; an empty type shares the next start). */
static u32 method_owner(const struct meta *m, u32 rid)
{
	u32 lo = 1, hi = m->t[META_TYPEDEF].rows + 1;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (cell(m, META_TYPEDEF, mid, 5) <= rid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo - 1;		/* 0: none */
}

/* "(int32,string)" of a MethodDefSig / MethodRefSig (II.23.2.1-2). */
static int put_params(const struct meta *m, struct meta_sig *s,
		      struct meta_str *b)
{
	struct meta_str ret_type = { 0 };
	u32 n, gen;
	u8 cc;
	int ret;

	if (sig_byte(s, &cc) < 0 || ((cc & 0x10) && meta_sig_uint(s, &gen) < 0) ||
	    meta_sig_uint(s, &n) < 0 || n > (u32)(s->end - s->p))
		return -EBADMSG;
	ret = sig_type(m, s, META_STYLE_SIG, false, 0, &ret_type);
	free(ret_type.s);
	meta_str_put(b, "(", 1);
	for (u32 i = 0; i < n && ret == 0; i++) {
		if (s->p < s->end && *s->p == 0x41) {	/* SENTINEL: varargs */
			s->p++;
			meta_str_puts(b, i ? ",..." : "...");
		}
		if (i)
			meta_str_put(b, ",", 1);
		ret = sig_type(m, s, META_STYLE_SIG, false, 0, b);
	}
	meta_str_put(b, ")", 1);
	return ret;
}

int meta_method_name(const struct meta *m, u32 tok, const char *owner,
		     char **out)
{
	struct meta_str b = { 0 };
	struct meta_sig sig;
	const char *name;
	u32 rid = tok & 0xFFFFFF;
	int ret;

	*out = NULL;
	if ((tok >> 24) == META_METHODDEF && rid_ok(m, META_METHODDEF, rid)) {
		if (owner)
			meta_str_puts(&b, owner);
		else
			put_typedef(m, method_owner(m, rid), '+', &b);
		name = heap_str(m, cell(m, META_METHODDEF, rid, 3));
		ret = heap_blob(m, cell(m, META_METHODDEF, rid, 4), &sig);
	} else if ((tok >> 24) == META_MEMBERREF && rid_ok(m, META_MEMBERREF, rid)) {
		u32 parent = cell(m, META_MEMBERREF, rid, 0);

		if (owner) {
			meta_str_puts(&b, owner);
		} else if ((parent & 7) == 0) {
			put_typedef(m, parent >> 3, '+', &b);
		} else if ((parent & 7) == 1) {
			put_typeref(m, parent >> 3, '+', false, &b);
		} else if ((parent & 7) == 4 && rid_ok(m, META_TYPESPEC, parent >> 3)) {
			struct meta_sig ts;

			if (heap_blob(m, cell(m, META_TYPESPEC, parent >> 3, 0), &ts) < 0 ||
			    sig_type(m, &ts, META_STYLE_TYPE, false, 0, &b) < 0)
				meta_str_put(&b, "?", 1);
		} else {
			meta_str_put(&b, "?", 1);
		}
		name = heap_str(m, cell(m, META_MEMBERREF, rid, 1));
		ret = heap_blob(m, cell(m, META_MEMBERREF, rid, 2), &sig);
	} else {
		return -ENOENT;
	}
	meta_str_puts(&b, "::");
	meta_str_puts(&b, name ? name : "?");
	if (ret == 0)
		ret = put_params(m, &sig, &b);
	if (ret < 0 || b.oom) {
		free(b.s);
		return b.oom ? -ENOMEM : ret;
	}
	*out = b.s;
	return 0;
}
