/* SPDX-License-Identifier: MIT */
/*
 * ReadyToRun method names, bounded (see r2r.h). Layouts from dotnet/runtime:
 * src/coreclr/inc/readytorun.h (READYTORUN_HEADER: Signature "RTR\0",
 * MajorVersion, MinorVersion, Flags, NumberOfSections, then sections of
 * {Type, RVA, Size}), corhdr.h (IMAGE_COR20_HEADER: MetaData at 8,
 * ManagedNativeHeader at 64), the NativeFormat reader
 * (src/coreclr/vm/nativeformatreader.h: the variable-length unsigned and
 * signed integers, NativeArray, NativeHashtable) and R2RDump's
 * ReadyToRunReader.cs (how entry points give a runtime function index).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/meta.h"
#include "symbols/pe.h"
#include "symbols/r2r.h"

#define RTR_SIGNATURE		0x00525452u	/* "RTR" */
#define SEC_RUNTIME_FUNCTIONS	102u
#define SEC_METHODDEF_ENTRIES	103u
#define SEC_INSTANCE_ENTRIES	109u

#define COR20_MIN_SIZE		72u
#define NA_BLOCK		16u	/* NativeArray: elements per block */

/* READYTORUN_METHOD_SIG_* (readytorun.h) */
#define SIG_METHOD_INST		0x04u
#define SIG_SLOT		0x08u
#define SIG_MEMBERREF		0x10u
#define SIG_CONSTRAINED		0x20u
#define SIG_OWNER_TYPE		0x40u
#define SIG_UPDATE_CONTEXT	0x80u

#define NONE			UINT32_MAX

struct rfunc {
	u32 begin, end;		/* RVAs; end exclusive */
	u32 method;		/* index in methods[], NONE: no owner known */
};

struct rmethod {
	u32 tok;		/* MethodDef or MemberRef token */
	u32 first, last;	/* runtime functions [first, last) */
	u64 owner_sig;		/* file offset of its instantiated owning
				 * type's signature; 0: none */
	char *name;		/* made when first asked for */
	bool tried;		/* naming failed once: not again */
};

struct r2r {
	const unsigned char *b;
	size_t len;
	struct pe_image *pe;
	struct meta *meta;
	struct rfunc *f;
	u32 nf;
	struct rmethod *m;
	u32 nm, capm;
	struct r2r_stats st;
};

static u16 rd16(const unsigned char *p)
{
	return (u16)(p[0] | p[1] << 8);
}

static u32 rd32(const unsigned char *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

/* ---- NativeFormat ---- */

/* DecodeUnsigned at *off; 0 or -EBADMSG. The low bits of the first byte
 * say how many bytes follow (0, 1, 2, 3, or a plain u32 after 0x0f). */
static int nf_uint(const struct r2r *r, u64 *off, u32 *v)
{
	const unsigned char *p;
	u64 o = *off;
	u32 n;

	if (o >= r->len)
		return -EBADMSG;
	p = r->b + o;
	n = (p[0] & 1) == 0 ? 1 : (p[0] & 2) == 0 ? 2 : (p[0] & 4) == 0 ? 3 :
	    (p[0] & 8) == 0 ? 4 : (p[0] & 16) == 0 ? 5 : 0;
	if (n == 0 || r->len - o < n)
		return -EBADMSG;
	switch (n) {
	case 1: *v = p[0] >> 1; break;
	case 2: *v = p[0] >> 2 | (u32)p[1] << 6; break;
	case 3: *v = p[0] >> 3 | (u32)p[1] << 5 | (u32)p[2] << 13; break;
	case 4: *v = p[0] >> 4 | (u32)p[1] << 4 | (u32)p[2] << 12 |
		     (u32)p[3] << 20; break;
	default: *v = rd32(p + 1); break;
	}
	*off = o + n;
	return 0;
}

/* DecodeSigned: the same lengths, the last byte sign-extended. */
static int nf_int(const struct r2r *r, u64 *off, s32 *v)
{
	const unsigned char *p;
	u64 o = *off;
	u32 n;

	if (o >= r->len)
		return -EBADMSG;
	p = r->b + o;
	n = (p[0] & 1) == 0 ? 1 : (p[0] & 2) == 0 ? 2 : (p[0] & 4) == 0 ? 3 :
	    (p[0] & 8) == 0 ? 4 : (p[0] & 16) == 0 ? 5 : 0;
	if (n == 0 || r->len - o < n)
		return -EBADMSG;
	switch (n) {
	case 1: *v = (int8_t)p[0] >> 1; break;
	case 2: *v = (s32)(p[0] >> 2) | (s32)(int8_t)p[1] * 64; break;
	case 3: *v = (s32)(p[0] >> 3 | (u32)p[1] << 5) | (s32)(int8_t)p[2] * 8192; break;
	case 4: *v = (s32)(p[0] >> 4 | (u32)p[1] << 4 | (u32)p[2] << 12) |
		     (s32)(int8_t)p[3] * (1 << 20); break;
	default: *v = (s32)rd32(p + 1); break;
	}
	*off = o + n;
	return 0;
}

/* An entry point's runtime function index (R2RDump's
 * GetRuntimeFunctionIndexFromOffset): bit 0 says fixups follow (bit 1: at
 * a backward delta), then the index. */
static int entry_rf(const struct r2r *r, u64 off, u32 *rf)
{
	u32 id;

	if (nf_uint(r, &off, &id) < 0)
		return -EBADMSG;
	*rf = id & 1 ? id >> 2 : id >> 1;
	return 0;
}

/* ---- building the table ---- */

static int add_method(struct r2r *r, u32 tok, u32 rf, u64 owner_sig)
{
	if (rf >= r->nf) {
		r->st.skipped++;
		return 0;
	}
	if (r->nm == r->capm) {
		u32 nc = r->capm ? r->capm * 2 : 1024;
		struct rmethod *nm;

		if (nc > r->nf + 1)
			nc = r->nf + 1;
		if (r->nm >= nc) {	/* more entries than functions: ignore */
			r->st.skipped++;
			return 0;
		}
		nm = reallocarray(r->m, nc, sizeof(*nm));
		if (!nm)
			return -ENOMEM;
		r->m = nm;
		r->capm = nc;
	}
	r->m[r->nm++] = (struct rmethod){ .tok = tok, .first = rf,
					  .owner_sig = owner_sig };
	return 0;
}

static int read_funcs(struct r2r *r, u64 off, u32 size)
{
	/* x64 RUNTIME_FUNCTION: Begin, End, Unwind; arm64: Begin, Unwind. */
	u16 mach = r->pe->machine;
	bool arm64 = false;
	u32 esz;

	/* Linux/macOS/FreeBSD/NetBSD images have the machine xor'ed with an
	 * OS value (IMAGE_FILE_MACHINE_NATIVE_OS_OVERRIDE). */
	static const u16 os_xor[] = { 0, 0x7B79, 0x4644, 0xADC4, 0x1993 };
	bool known = false;

	for (size_t i = 0; i < ARRAY_SIZE(os_xor) && !known; i++) {
		u16 m = mach ^ os_xor[i];

		known = m == 0x8664 || m == 0xAA64;
		arm64 = m == 0xAA64;
	}
	if (!known)
		return -ENOENT;	/* code for a machine we do not read */
	esz = arm64 ? 8 : 12;
	r->nf = size / esz;
	if (r->nf > R2R_FUNCS_MAX)
		return -EBADMSG;
	if (r->nf == 0)
		return -ENOENT;
	r->f = calloc(r->nf, sizeof(*r->f));
	if (!r->f)
		return -ENOMEM;
	for (u32 i = 0; i < r->nf; i++) {
		const unsigned char *p = r->b + off + (u64)i * esz;

		r->f[i].begin = rd32(p);
		r->f[i].end = arm64 ? 0 : rd32(p + 4);
		r->f[i].method = NONE;
		if (i && r->f[i].begin < r->f[i - 1].begin)
			return -EBADMSG;	/* the runtime binary-searches it */
	}
	if (arm64) {		/* no end: up to the next one */
		for (u32 i = 0; i + 1 < r->nf; i++)
			r->f[i].end = r->f[i + 1].begin;
		r->f[r->nf - 1].end = r->f[r->nf - 1].begin + 1;
	}
	/* Damaged ends: each function stops where the next begins, so that
	 * one RVA is one function's. */
	for (u32 i = 0; i < r->nf; i++) {
		if (r->f[i].end < r->f[i].begin)
			r->f[i].end = r->f[i].begin;
		if (i + 1 < r->nf && r->f[i].end > r->f[i + 1].begin)
			r->f[i].end = r->f[i + 1].begin;
	}
	return 0;
}

/* MethodDefEntryPoints: NativeArray indexed by MethodDef RID - 1. */
static int read_methoddefs(struct r2r *r, u64 off)
{
	u64 base = off;
	u32 hdr, n, isz;
	int ret;

	if (nf_uint(r, &base, &hdr) < 0)
		return -EBADMSG;
	n = hdr >> 2;
	isz = hdr & 3;
	if (isz > 2 || n > meta_rows(r->meta, META_METHODDEF))
		return -EBADMSG;
	for (u32 idx = 0; idx < n; idx++) {
		u64 p = base + (u64)(idx / NA_BLOCK) * (1u << isz), o;
		u32 v = 0, rf;
		bool found = false;

		if (p + (1u << isz) > r->len)
			return -EBADMSG;
		o = base + (isz == 0 ? r->b[p] : isz == 1 ? rd16(r->b + p) :
			    rd32(r->b + p));
		/* The block's tree: one bit of the index per level; a leaf
		 * node may stand for a whole subtree of one element. */
		for (u32 bit = NA_BLOCK >> 1; bit; bit >>= 1) {
			u64 o2 = o;

			if (nf_uint(r, &o2, &v) < 0)
				return -EBADMSG;
			if ((idx & bit) && (v & 2)) {
				o += v >> 2;
			} else if (!(idx & bit) && (v & 1)) {
				o = o2;
			} else {
				found = (v & 3) == 0 &&
					(v >> 2) == (idx & (NA_BLOCK - 1));
				if (found)
					o = o2;
				break;
			}
			if (bit == 1)
				found = true;	/* every level walked */
		}
		if (!found)
			continue;
		if (entry_rf(r, o, &rf) < 0) {
			r->st.skipped++;
			continue;
		}
		ret = add_method(r, (META_METHODDEF << 24) | (idx + 1), rf, 0);
		if (ret)
			return ret;
	}
	return 0;
}

/* One InstanceMethodEntryPoints entry: a method signature (ECMA
 * compressed integers, types with ReadyToRun's extensions), then the
 * runtime function index. */
static int read_instance(struct r2r *r, u64 off)
{
	struct meta_sig s = { r->b, r->b + r->len };
	u32 flags, rid, n, rf;
	u64 owner = 0;

	if (off >= r->len)
		goto skip;
	s.p = r->b + off;
	if (meta_sig_uint(&s, &flags) < 0 ||
	    (flags & (SIG_UPDATE_CONTEXT | SIG_SLOT)))
		goto skip;	/* another module's token, or a vtable slot */
	/* Types are only skipped here: the owner is written when named. */
	owner = flags & SIG_OWNER_TYPE ? (u64)(s.p - r->b) : 0;
	if ((flags & SIG_OWNER_TYPE) &&
	    meta_sig_type(r->meta, &s, META_STYLE_TYPE, true, NULL) < 0)
		goto skip;
	if (meta_sig_uint(&s, &rid) < 0)
		goto skip;
	if (flags & SIG_METHOD_INST) {
		if (meta_sig_uint(&s, &n) < 0 || n > (u32)(s.end - s.p))
			goto skip;
		for (u32 i = 0; i < n; i++)
			if (meta_sig_type(r->meta, &s, META_STYLE_TYPE, true, NULL) < 0)
				goto skip;
	}
	if ((flags & SIG_CONSTRAINED) &&
	    meta_sig_type(r->meta, &s, META_STYLE_TYPE, true, NULL) < 0)
		goto skip;
	if (entry_rf(r, (u64)(s.p - r->b), &rf) < 0)
		goto skip;
	r->st.instance++;
	return add_method(r, ((flags & SIG_MEMBERREF ? META_MEMBERREF :
			       META_METHODDEF) << 24) | (rid & 0xFFFFFF),
			  rf, owner);
skip:
	r->st.skipped++;
	return 0;
}

/* InstanceMethodEntryPoints: a NativeHashtable; every entry of every
 * bucket. */
static int read_instances(struct r2r *r, u64 off, u32 size)
{
	u64 base = off + 1, end = off + size;
	u32 mask, isz;
	u8 hdr;
	int ret;

	if (size < 1)
		return 0;
	hdr = r->b[off];
	if ((hdr >> 2) > 24 || (hdr & 3) > 2)
		return -EBADMSG;
	mask = (1u << (hdr >> 2)) - 1;
	isz = 1u << (hdr & 3);
	if (base + (u64)(mask + 2) * isz > end)
		return -EBADMSG;
	for (u32 bucket = 0; bucket <= mask; bucket++) {
		const unsigned char *p = r->b + base + (u64)bucket * isz;
		u64 start = base + (isz == 1 ? p[0] : isz == 2 ? rd16(p) : rd32(p));
		u64 stop = base + (isz == 1 ? p[1] : isz == 2 ? rd16(p + 2) :
				   rd32(p + 4));

		if (stop > end || start > stop)
			return -EBADMSG;
		/* entries: low hash byte, then a signed offset from after it */
		while (start < stop) {
			u64 at = start + 1;
			s32 delta;

			if (nf_int(r, &at, &delta) < 0)
				return -EBADMSG;
			if (at <= start + 1)
				return -EBADMSG;
			ret = read_instance(r, start + 1 + (u64)(s64)delta);
			if (ret)
				return ret;
			start = at;
		}
	}
	return 0;
}

static int cmp_method(const void *a, const void *b)
{
	const struct rmethod *x = a, *y = b;

	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	/* the same code twice: a MethodDef entry first */
	return (x->tok >> 24 == META_METHODDEF ? 0 : 1) -
	       (y->tok >> 24 == META_METHODDEF ? 0 : 1);
}

/* Methods sorted by their first runtime function; each owns the ones up
 * to the next method's (its funclets). */
static void assign(struct r2r *r)
{
	u32 k = 0;

	if (r->nm > 1)
		qsort(r->m, r->nm, sizeof(*r->m), cmp_method);
	for (u32 i = 0; i < r->nm; i++) {
		if (k && r->m[k - 1].first == r->m[i].first)
			continue;	/* shared code: one name */
		r->m[k++] = r->m[i];
	}
	r->nm = k;
	for (u32 i = 0; i < r->nm; i++) {
		r->m[i].last = i + 1 < r->nm ? r->m[i + 1].first : r->nf;
		for (u32 j = r->m[i].first; j < r->m[i].last; j++)
			r->f[j].method = i;
	}
	r->st.methods = r->nm;
	r->st.funcs = r->nf;
}

static int section(const struct r2r *r, u32 rva, u32 size, u64 *off)
{
	if (pe_rva_to_offset(r->pe, rva, size, off) < 0 || *off + size > r->len)
		return -EBADMSG;
	return 0;
}

static int open_r2r(struct r2r *r)
{
	u64 cor, rtr, off;
	u32 nsec, md_rva, md_size;
	int ret;

	if (!r->pe->clr_rva)
		return -ENOEXEC;
	if (section(r, r->pe->clr_rva, COR20_MIN_SIZE, &cor) < 0)
		return -EBADMSG;
	md_rva = rd32(r->b + cor + 8);
	md_size = rd32(r->b + cor + 12);
	if (section(r, md_rva, md_size, &off) < 0)
		return -EBADMSG;
	ret = meta_open(r->b + off, md_size, &r->meta);
	if (ret)
		return ret;
	if (!rd32(r->b + cor + 64))
		return -ENOENT;	/* IL only */
	if (section(r, rd32(r->b + cor + 64), 16, &rtr) < 0 ||
	    rd32(r->b + rtr) != RTR_SIGNATURE)
		return -EBADMSG;
	r->st.major = rd16(r->b + rtr + 4);
	r->st.minor = rd16(r->b + rtr + 6);
	nsec = rd32(r->b + rtr + 12);
	if (nsec > R2R_SECTIONS_MAX || rtr + 16 + (u64)nsec * 12 > r->len)
		return -EBADMSG;
	/* Runtime functions first: the entry points index them. */
	for (int pass = 0; pass < 3; pass++) {
		static const u32 want[] = { SEC_RUNTIME_FUNCTIONS,
					    SEC_METHODDEF_ENTRIES,
					    SEC_INSTANCE_ENTRIES };

		for (u32 i = 0; i < nsec; i++) {
			const unsigned char *s = r->b + rtr + 16 + i * 12;
			u32 size = rd32(s + 8);

			if (rd32(s) != want[pass])
				continue;
			if (section(r, rd32(s + 4), size, &off) < 0)
				return -EBADMSG;
			if (pass == 0)
				ret = r->f ? -EBADMSG : read_funcs(r, off, size);
			else if (!r->f)
				ret = -ENOENT;
			else if (pass == 1)
				ret = read_methoddefs(r, off);
			else
				ret = read_instances(r, off, size);
			if (ret)
				return ret;
		}
	}
	if (!r->f)
		return -ENOENT;	/* a component of a composite image */
	assign(r);
	return 0;
}

int r2r_open(const void *buf, size_t len, struct r2r **out)
{
	struct r2r *r;
	int ret;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->b = buf;
	r->len = len;
	ret = pe_parse(buf, len, &r->pe);
	if (ret == 0)
		ret = open_r2r(r);
	if (ret) {
		r2r_free(r);
		return ret;
	}
	*out = r;
	return 0;
}

void r2r_free(struct r2r *r)
{
	if (!r)
		return;
	for (u32 i = 0; i < r->nm; i++)
		free(r->m[i].name);
	free(r->m);
	free(r->f);
	meta_free(r->meta);
	pe_free(r->pe);
	free(r);
}

void r2r_get_stats(const struct r2r *r, struct r2r_stats *st)
{
	*st = r->st;
}

const char *r2r_assembly(const struct r2r *r)
{
	return meta_assembly_name(r->meta);
}

/* The instantiated owning type ("List`1[System.__Canon]"), or NULL when
 * there is none or it has another module's types (then the open type's
 * name is used). -ENOMEM only. */
static int owner_name(const struct r2r *r, const struct rmethod *m, char **out)
{
	struct meta_sig s = { r->b + m->owner_sig, r->b + r->len };
	struct meta_str b = { 0 };

	*out = NULL;
	if (!m->owner_sig)
		return 0;
	if (meta_sig_type(r->meta, &s, META_STYLE_TYPE, true, &b) < 0 ||
	    (b.s && strchr(b.s, '?'))) {
		free(b.s);
		return b.oom ? -ENOMEM : 0;
	}
	if (b.oom) {
		free(b.s);
		return -ENOMEM;
	}
	*out = b.s;
	return 0;
}

static int method_name(struct r2r *r, struct rmethod *m, const char **name)
{
	char *owner;
	int ret;

	if (!m->name && !m->tried) {
		ret = owner_name(r, m, &owner);
		if (ret)
			return ret;
		ret = meta_method_name(r->meta, m->tok, owner, &m->name);
		free(owner);
		if (ret == -ENOMEM)
			return ret;
		m->tried = true;
	}
	*name = m->name;
	return m->name ? 0 : -ENOENT;
}

int r2r_lookup(struct r2r *r, u32 rva, const char **name, u32 *start)
{
	u32 lo = 0, hi = r->nf;
	const struct rfunc *f;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (r->f[mid].begin <= rva)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return -ENOENT;
	f = &r->f[lo - 1];
	if (rva >= f->end || f->method == NONE)
		return -ENOENT;
	*start = r->f[r->m[f->method].first].begin;
	return method_name(r, &r->m[f->method], name);
}

int r2r_method(struct r2r *r, u32 i, const char **name, u32 *start, u32 *end)
{
	struct rmethod *m;

	if (i >= r->nm)
		return -ENOENT;
	m = &r->m[i];
	*start = r->f[m->first].begin;
	*end = r->f[m->last - 1].end;
	return method_name(r, m, name);
}
