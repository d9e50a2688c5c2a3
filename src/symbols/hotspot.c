/* SPDX-License-Identifier: MIT */
/*
 * HotSpot's exported layout (vmStructs.cpp) read from the target: see
 * hotspot.h. gHotSpotVMStructs is an array of entries
 * {typeName, fieldName, typeString, isStatic, offset, address} whose
 * member offsets and stride the JVM exports too; it ends with a NULL
 * typeName. gHotSpotVMTypes likewise holds {typeName, ..., size}.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/hotspot.h"

#define HS_MAX_ENTRIES	20000	/* JDK 17 has ~2000 structs, ~1000 types */
#define HS_MAX_STRIDE	256
#define HS_TYPE_NAME_MAX 80	/* longer type names are none we want */
#define HS_SYM_MAX	1024	/* class, method or descriptor bytes kept */
#define HS_NAME_MAX	2048	/* the formatted name */
#define HS_CACHE_SLOTS	8192	/* power of two; more methods: not cached */
#define HS_MAX_FLAGS	5000

enum hs_field {
	F_METHOD_CONST,		/* Method::_constMethod */
	F_CM_CONSTANTS,		/* ConstMethod::_constants */
	F_CM_NAME,		/* ConstMethod::_name_index (u2) */
	F_CM_SIG,		/* ConstMethod::_signature_index (u2) */
	F_CP_HOLDER,		/* ConstantPool::_pool_holder */
	F_CP_LENGTH,		/* ConstantPool::_length (int) */
	F_KLASS_NAME,		/* Klass::_name */
	F_SYM_LENGTH,		/* Symbol::_length (u2) */
	F_SYM_BODY,		/* Symbol::_body */
	F_INTERP_CODE,		/* AbstractInterpreter::_code (static) */
	F_SQ_BUFFER,		/* StubQueue::_stub_buffer */
	F_SQ_LIMIT,		/* StubQueue::_buffer_limit (int) */
	F_FLAG_NAME,		/* JVMFlag::_name */
	F_FLAG_ADDR,		/* JVMFlag::_addr */
	F_FLAGS,		/* JVMFlag::flags (static) */
	F_NUM_FLAGS,		/* JVMFlag::numFlags (static) */
	F_CALL_STUB_RET,	/* StubRoutines::_call_stub_return_address (static) */
	F_CC_LOW,		/* CodeCache::_low_bound (static) */
	F_CC_HIGH,		/* CodeCache::_high_bound (static) */
	F_COUNT
};

static const struct {
	const char *type, *field, *alt;
	bool required;		/* naming cannot work without it */
} want[F_COUNT] = {
	[F_METHOD_CONST] = { "Method", "_constMethod", NULL, true },
	[F_CM_CONSTANTS] = { "ConstMethod", "_constants", NULL, true },
	[F_CM_NAME] = { "ConstMethod", "_name_index", NULL, true },
	[F_CM_SIG] = { "ConstMethod", "_signature_index", NULL, true },
	[F_CP_HOLDER] = { "ConstantPool", "_pool_holder", NULL, true },
	[F_CP_LENGTH] = { "ConstantPool", "_length", NULL, false },
	[F_KLASS_NAME] = { "Klass", "_name", NULL, true },
	[F_SYM_LENGTH] = { "Symbol", "_length", NULL, true },
	[F_SYM_BODY] = { "Symbol", "_body", "_body[0]", true },
	[F_INTERP_CODE] = { "AbstractInterpreter", "_code", NULL, false },
	[F_SQ_BUFFER] = { "StubQueue", "_stub_buffer", NULL, false },
	[F_SQ_LIMIT] = { "StubQueue", "_buffer_limit", NULL, false },
	[F_FLAG_NAME] = { "JVMFlag", "_name", NULL, false },
	[F_FLAG_ADDR] = { "JVMFlag", "_addr", NULL, false },
	[F_FLAGS] = { "JVMFlag", "flags", NULL, false },
	[F_NUM_FLAGS] = { "JVMFlag", "numFlags", NULL, false },
	[F_CALL_STUB_RET] = { "StubRoutines", "_call_stub_return_address", NULL, false },
	[F_CC_LOW] = { "CodeCache", "_low_bound", NULL, false },
	[F_CC_HIGH] = { "CodeCache", "_high_bound", NULL, false },
};

struct hs_slot {
	u64 method;		/* 0: empty */
	int err;		/* 0: name is set */
	char *name;
};

struct hotspot {
	hotspot_read_fn read;
	void *ctx;
	bool have[F_COUNT];
	u64 off[F_COUNT];	/* offset, or the address of a static field */
	u64 cp_size;		/* sizeof(ConstantPool): the slots follow it */
	u64 flag_size;		/* sizeof(JVMFlag) */
	struct hs_slot *cache;
	size_t ncached;
	char *spill;		/* the last name the cache had no room for */
};

static int rd(struct hotspot *hs, u64 addr, void *buf, size_t len)
{
	if (!addr || addr + len < addr)
		return -EFAULT;
	return hs->read(hs->ctx, addr, buf, len);
}

static int rd_u64(struct hotspot *hs, u64 addr, u64 *v)
{
	return rd(hs, addr, v, sizeof(*v));
}

/* A NUL-terminated string of at most cap - 1 bytes; longer is -ENAMETOOLONG.
 * Read in small pieces: a string may end just before an unmapped page. */
static int rd_str(struct hotspot *hs, u64 addr, char *out, size_t cap)
{
	size_t got = 0;

	/* the common case in one read */
	if (rd(hs, addr, out, cap - 1) == 0) {
		if (memchr(out, '\0', cap - 1))
			return 0;
		out[cap - 1] = '\0';
		return -ENAMETOOLONG;
	}

	while (got < cap - 1) {
		size_t piece = cap - 1 - got < 16 ? cap - 1 - got : 16;
		int err = rd(hs, addr + got, out + got, piece);
		char *z;

		if (err) {
			/* one byte at a time up to the page end */
			piece = 1;
			err = rd(hs, addr + got, out + got, 1);
			if (err)
				return err;
		}
		z = memchr(out + got, '\0', piece);
		if (z)
			return 0;
		got += piece;
	}
	out[cap - 1] = '\0';
	return -ENAMETOOLONG;
}

static int sym_u64(struct hotspot *hs, hotspot_sym_fn sym, void *ctx,
		   const char *name, u64 *v)
{
	u64 addr;

	if (sym(ctx, name, &addr))
		return -ENOENT;
	return rd_u64(hs, addr, v);
}

struct table {
	u64 base, stride;
	u64 off_type, off_a, off_b, off_c;	/* members read per entry */
};

/*
 * Entry i of table t, through a window of CHUNK entries read at once
 * (a few reads for the whole table instead of one per entry).
 */
#define CHUNK 32
struct window {
	unsigned char buf[CHUNK * HS_MAX_STRIDE];
	u32 first, n;		/* entries [first, first + n) are in buf */
};

static const unsigned char *entry(struct hotspot *hs, const struct table *t,
				  struct window *w, u32 i, int *err)
{
	if (i < w->first || i >= w->first + w->n) {
		w->first = i;
		w->n = CHUNK;
		/* near the end of a mapping: one entry at a time */
		if (rd(hs, t->base + (u64)i * t->stride, w->buf, CHUNK * t->stride)) {
			w->n = 1;
			*err = rd(hs, t->base + (u64)i * t->stride, w->buf, t->stride);
			if (*err) {
				w->n = 0;
				return NULL;
			}
		}
	}
	return w->buf + (u64)(i - w->first) * t->stride;
}

/* Reads gHotSpotVMStructs and records the fields of want[]. */
static int read_structs(struct hotspot *hs, const struct table *t)
{
	struct window w;	/* 8 KiB */
	char type[HS_TYPE_NAME_MAX], field[HS_TYPE_NAME_MAX];
	u64 last = 0;		/* entries of a type share its name's pointer */
	bool last_ok = false;

	w.first = w.n = 0;
	for (u32 i = 0; i < HS_MAX_ENTRIES; i++) {
		u64 tname, fname, off, addr;
		u32 is_static;
		int err = 0;
		const unsigned char *e = entry(hs, t, &w, i, &err);

		if (!e)
			return err;
		memcpy(&tname, e + t->off_type, 8);
		if (!tname)
			return 0;
		if (tname != last) {
			last = tname;
			last_ok = rd_str(hs, tname, type, sizeof(type)) == 0;
		}
		if (!last_ok)
			continue;
		memcpy(&fname, e + t->off_a, 8);
		memcpy(&is_static, e + t->off_b, 4);
		memcpy(&off, e + t->off_c, 8);
		memcpy(&addr, e + t->off_c + 8, 8);
		for (int f = 0; f < F_COUNT; f++) {
			if (strcmp(type, want[f].type))
				continue;
			if (!fname || rd_str(hs, fname, field, sizeof(field)))
				break;
			if (strcmp(field, want[f].field) &&
			    (!want[f].alt || strcmp(field, want[f].alt)))
				continue;
			hs->have[f] = true;
			hs->off[f] = is_static ? addr : off;
		}
	}
	return -EPROTO;		/* no end in sight */
}

/* Reads gHotSpotVMTypes for the sizes naming needs. */
static int read_types(struct hotspot *hs, const struct table *t)
{
	struct window w;	/* 8 KiB */
	char type[HS_TYPE_NAME_MAX];

	w.first = w.n = 0;
	for (u32 i = 0; i < HS_MAX_ENTRIES; i++) {
		u64 tname, size;
		int err = 0;
		const unsigned char *e = entry(hs, t, &w, i, &err);

		if (!e)
			return err;
		memcpy(&tname, e + t->off_type, 8);
		if (!tname)
			return 0;
		if (rd_str(hs, tname, type, sizeof(type)))
			continue;
		memcpy(&size, e + t->off_a, 8);
		if (!strcmp(type, "ConstantPool"))
			hs->cp_size = size;
		else if (!strcmp(type, "JVMFlag"))
			hs->flag_size = size;
	}
	return -EPROTO;
}

static bool member_ok(u64 off, u64 stride, u64 size)
{
	return off <= stride && size <= stride - off;
}

int hotspot_open(struct hotspot **out, hotspot_read_fn read, hotspot_sym_fn sym,
		 void *ctx)
{
	struct hotspot *hs;
	struct table s = { 0 }, t = { 0 };
	int err;

	*out = NULL;
	hs = calloc(1, sizeof(*hs));
	if (!hs)
		return -ENOMEM;
	hs->read = read;
	hs->ctx = ctx;
	if ((err = sym_u64(hs, sym, ctx, "gHotSpotVMStructs", &s.base)) ||
	    (err = sym_u64(hs, sym, ctx, "gHotSpotVMStructEntryArrayStride", &s.stride)) ||
	    (err = sym_u64(hs, sym, ctx, "gHotSpotVMStructEntryTypeNameOffset", &s.off_type)) ||
	    (err = sym_u64(hs, sym, ctx, "gHotSpotVMStructEntryFieldNameOffset", &s.off_a)) ||
	    (err = sym_u64(hs, sym, ctx, "gHotSpotVMStructEntryIsStaticOffset", &s.off_b)) ||
	    (err = sym_u64(hs, sym, ctx, "gHotSpotVMStructEntryOffsetOffset", &s.off_c)) ||
	    (err = sym_u64(hs, sym, ctx, "gHotSpotVMTypes", &t.base)) ||
	    (err = sym_u64(hs, sym, ctx, "gHotSpotVMTypeEntryArrayStride", &t.stride)) ||
	    (err = sym_u64(hs, sym, ctx, "gHotSpotVMTypeEntryTypeNameOffset", &t.off_type)) ||
	    (err = sym_u64(hs, sym, ctx, "gHotSpotVMTypeEntrySizeOffset", &t.off_a)))
		goto fail;
	{
		u64 addr_off;

		/* the address member must follow the offset one, as in every
		 * JDK; checked, not assumed */
		if ((err = sym_u64(hs, sym, ctx, "gHotSpotVMStructEntryAddressOffset",
				   &addr_off)))
			goto fail;
		err = -EPROTO;
		if (addr_off != s.off_c + 8)
			goto fail;
	}
	err = -EPROTO;
	if (!s.base || !t.base || s.stride > HS_MAX_STRIDE || t.stride > HS_MAX_STRIDE ||
	    !member_ok(s.off_type, s.stride, 8) || !member_ok(s.off_a, s.stride, 8) ||
	    !member_ok(s.off_b, s.stride, 4) || !member_ok(s.off_c, s.stride, 16) ||
	    !member_ok(t.off_type, t.stride, 8) || !member_ok(t.off_a, t.stride, 8))
		goto fail;
	if ((err = read_structs(hs, &s)) || (err = read_types(hs, &t)))
		goto fail;
	err = -EPROTO;
	for (int f = 0; f < F_COUNT; f++)
		if (want[f].required && !hs->have[f])
			goto fail;
	if (!hs->cp_size || hs->cp_size > 4096)
		goto fail;
	*out = hs;
	return 0;
fail:
	free(hs);
	return err;
}

void hotspot_free(struct hotspot *hs)
{
	if (!hs)
		return;
	if (hs->cache)
		for (size_t i = 0; i < HS_CACHE_SLOTS; i++)
			free(hs->cache[i].name);
	free(hs->cache);
	free(hs->spill);
	free(hs);
}

int hotspot_interpreter(struct hotspot *hs, u64 *lo, u64 *hi)
{
	u64 queue, buf;
	s32 limit;
	int err;

	if (!hs->have[F_INTERP_CODE] || !hs->have[F_SQ_BUFFER] || !hs->have[F_SQ_LIMIT])
		return -EPROTO;
	if ((err = rd_u64(hs, hs->off[F_INTERP_CODE], &queue)))
		return err;
	if (!queue)
		return -EAGAIN;
	if ((err = rd_u64(hs, queue + hs->off[F_SQ_BUFFER], &buf)) ||
	    (err = rd(hs, queue + hs->off[F_SQ_LIMIT], &limit, sizeof(limit))))
		return err;
	if (!buf || limit <= 0)
		return -EAGAIN;
	if (buf + (u64)limit < buf)
		return -EPROTO;
	*lo = buf;
	*hi = buf + (u64)limit;
	return 0;
}

int hotspot_call_stub_return(struct hotspot *hs, u64 *addr)
{
	int err;

	if (!hs->have[F_CALL_STUB_RET])
		return -EPROTO;
	err = rd_u64(hs, hs->off[F_CALL_STUB_RET], addr);
	if (!err && !*addr)
		err = -EAGAIN;
	return err;
}

int hotspot_code_cache(struct hotspot *hs, u64 *lo, u64 *hi)
{
	int err;

	if (!hs->have[F_CC_LOW] || !hs->have[F_CC_HIGH])
		return -EPROTO;
	if ((err = rd_u64(hs, hs->off[F_CC_LOW], lo)) ||
	    (err = rd_u64(hs, hs->off[F_CC_HIGH], hi)))
		return err;
	return *lo && *lo < *hi ? 0 : -EAGAIN;
}

int hotspot_flag_bool(struct hotspot *hs, const char *name, bool *value)
{
	u64 flags, num;
	char fname[HS_TYPE_NAME_MAX];
	int err;

	if (!hs->have[F_FLAGS] || !hs->have[F_NUM_FLAGS] || !hs->have[F_FLAG_NAME] ||
	    !hs->have[F_FLAG_ADDR] || !hs->flag_size || hs->flag_size > 4096)
		return -EPROTO;
	if ((err = rd_u64(hs, hs->off[F_FLAGS], &flags)) ||
	    (err = rd_u64(hs, hs->off[F_NUM_FLAGS], &num)))
		return err;
	if (num > HS_MAX_FLAGS)
		num = HS_MAX_FLAGS;
	for (u64 i = 0; i < num; i++) {
		u64 e = flags + i * hs->flag_size, np, ap;
		u8 v;

		if ((err = rd_u64(hs, e + hs->off[F_FLAG_NAME], &np)))
			return err;
		if (!np || rd_str(hs, np, fname, sizeof(fname)) || strcmp(fname, name))
			continue;
		if ((err = rd_u64(hs, e + hs->off[F_FLAG_ADDR], &ap)) ||
		    (err = rd(hs, ap, &v, 1)))
			return err;
		*value = v != 0;
		return 0;
	}
	return -ENOENT;
}

/* --- names ------------------------------------------------------------- */

struct sbuf {
	char *p;
	size_t len, cap;
	bool over;
};

static void put(struct sbuf *b, const char *s, size_t n)
{
	if (b->over || n >= b->cap - b->len) {
		b->over = true;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* A class name with '/' as '.'. */
static void put_class(struct sbuf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put(b, s[i] == '/' ? "." : s + i, 1);
}

/* One field descriptor at *p (JVMS 4.3.2), as Java source spells it. */
static int put_type(struct sbuf *b, const char **p, const char *end)
{
	static const struct { char c; const char *name; } prim[] = {
		{ 'B', "byte" }, { 'C', "char" }, { 'D', "double" }, { 'F', "float" },
		{ 'I', "int" }, { 'J', "long" }, { 'S', "short" }, { 'Z', "boolean" },
		{ 'V', "void" },
	};
	u32 dims = 0;

	while (*p < end && **p == '[') {
		if (++dims > 255)	/* the JVM's own limit */
			return -EPROTO;
		(*p)++;
	}
	if (*p >= end)
		return -EPROTO;
	if (**p == 'L') {
		const char *semi = memchr(*p, ';', (size_t)(end - *p));

		if (!semi || semi == *p + 1)
			return -EPROTO;
		put_class(b, *p + 1, (size_t)(semi - *p - 1));
		*p = semi + 1;
	} else {
		size_t i;

		for (i = 0; i < ARRAY_SIZE(prim); i++)
			if (prim[i].c == **p)
				break;
		if (i == ARRAY_SIZE(prim))
			return -EPROTO;
		put(b, prim[i].name, strlen(prim[i].name));
		(*p)++;
	}
	while (dims--)
		put(b, "[]", 2);
	return 0;
}

int hotspot_format_method(const char *klass, size_t klen, const char *name,
			  size_t nlen, const char *sig, size_t slen, char *out,
			  size_t cap)
{
	struct sbuf b = { .p = out, .cap = cap };
	const char *p = sig, *end = sig + slen;
	bool first = true;

	if (cap == 0)
		return -ENOSPC;
	out[0] = '\0';
	if (klen == 0 || nlen == 0 || slen < 3 || sig[0] != '(')
		return -EPROTO;
	for (size_t i = 0; i < klen + nlen; i++) {
		char c = i < klen ? klass[i] : name[i - klen];

		if ((unsigned char)c < 0x20)	/* no control bytes in a report */
			return -EPROTO;
	}
	put_class(&b, klass, klen);
	put(&b, ".", 1);
	put(&b, name, nlen);
	put(&b, "(", 1);
	p++;
	while (p < end && *p != ')') {
		int err;

		if (!first)
			put(&b, ", ", 2);
		first = false;
		err = put_type(&b, &p, end);
		if (err)
			return err;
	}
	if (p >= end)
		return -EPROTO;
	put(&b, ")", 1);
	return b.over ? -ENOSPC : 0;
}

/* The bytes of Symbol* sym, at most cap (HotSpot's symbols are not
 * NUL-terminated). */
static int rd_symbol(struct hotspot *hs, u64 sym, char *out, size_t cap, size_t *len)
{
	u16 n;
	int err;

	if ((err = rd(hs, sym + hs->off[F_SYM_LENGTH], &n, sizeof(n))))
		return err;
	if (n == 0 || n > cap)
		return -EPROTO;
	if ((err = rd(hs, sym + hs->off[F_SYM_BODY], out, n)))
		return err;
	*len = n;
	return 0;
}

/* The Symbol* in slot idx of constant pool cp. */
static int cp_symbol(struct hotspot *hs, u64 cp, u16 idx, u64 *sym)
{
	int err;

	if (idx == 0)
		return -EPROTO;
	if (hs->have[F_CP_LENGTH]) {
		s32 len;

		if ((err = rd(hs, cp + hs->off[F_CP_LENGTH], &len, sizeof(len))))
			return err;
		if (len <= 0 || idx >= len)
			return -EPROTO;
	}
	if ((err = rd_u64(hs, cp + hs->cp_size + (u64)idx * 8, sym)))
		return err;
	return *sym ? 0 : -EPROTO;
}

static int resolve(struct hotspot *hs, u64 method, char **out)
{
	char *k = NULL, *n = NULL, *s = NULL, *name = NULL;
	size_t kl = 0, nl = 0, sl = 0;
	u64 cm, cp, holder, ksym, nsym, ssym;
	u16 ni, si;
	int err = -ENOMEM;

	k = malloc(HS_SYM_MAX);
	n = malloc(HS_SYM_MAX);
	s = malloc(HS_SYM_MAX);
	name = malloc(HS_NAME_MAX);
	if (!k || !n || !s || !name)
		goto out;
	if ((err = rd_u64(hs, method + hs->off[F_METHOD_CONST], &cm)) ||
	    (err = rd_u64(hs, cm + hs->off[F_CM_CONSTANTS], &cp)) ||
	    (err = rd(hs, cm + hs->off[F_CM_NAME], &ni, sizeof(ni))) ||
	    (err = rd(hs, cm + hs->off[F_CM_SIG], &si, sizeof(si))) ||
	    (err = rd_u64(hs, cp + hs->off[F_CP_HOLDER], &holder)) ||
	    (err = rd_u64(hs, holder + hs->off[F_KLASS_NAME], &ksym)) ||
	    (err = cp_symbol(hs, cp, ni, &nsym)) ||
	    (err = cp_symbol(hs, cp, si, &ssym)) ||
	    (err = rd_symbol(hs, ksym, k, HS_SYM_MAX, &kl)) ||
	    (err = rd_symbol(hs, nsym, n, HS_SYM_MAX, &nl)) ||
	    (err = rd_symbol(hs, ssym, s, HS_SYM_MAX, &sl)))
		goto out;
	err = hotspot_format_method(k, kl, n, nl, s, sl, name, HS_NAME_MAX);
	if (err)
		goto out;
	*out = name;
	name = NULL;
out:
	free(k);
	free(n);
	free(s);
	free(name);
	return err == -ENOSPC ? -EPROTO : err;
}

const char *hotspot_method_name(struct hotspot *hs, u64 method, int *err)
{
	struct hs_slot *e = NULL;
	char *name = NULL;
	u64 h;

	*err = -EPROTO;
	if (!method)
		return NULL;
	if (!hs->cache)
		hs->cache = calloc(HS_CACHE_SLOTS, sizeof(*hs->cache));
	if (hs->cache) {
		h = method * 0x9E3779B97F4A7C15ull;
		h ^= h >> 31;
		/* a short linear probe: a full table only stops caching */
		for (u32 i = 0; i < 8; i++) {
			struct hs_slot *c = &hs->cache[(h + i) & (HS_CACHE_SLOTS - 1)];

			if (c->method == method) {
				*err = c->err;
				return c->name;
			}
			if (!c->method) {
				e = c;
				break;
			}
		}
	}
	*err = resolve(hs, method, &name);
	if (*err == -ENOMEM)
		return NULL;	/* not cached: may work later */
	if (!e) {
		/* table full here: the name lives until the next such call */
		free(hs->spill);
		hs->spill = name;
		return name;
	}
	e->method = method;
	e->err = *err;
	e->name = name;
	hs->ncached++;
	return name;
}
