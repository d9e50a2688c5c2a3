/* SPDX-License-Identifier: MIT */
/*
 * symbols/hotspot.c against a fake JVM: a memory image holding the
 * exported tables (gHotSpotVMStructs, gHotSpotVMTypes) and a Method ->
 * ConstMethod -> ConstantPool -> Symbol chain, then the same reader on
 * hostile memory: garbage, cycles, huge lengths, tables without an end.
 * Every answer must come back as an error after a bounded number of reads.
 */
#include <errno.h>
#include <string.h>

#include "harness.h"
#include "symbols/hotspot.h"

#define BASE	0x10000000ull
#define SIZE	(1u << 20)

/* Offsets the fake JVM exports (any values would do: the reader must
 * take them from the tables, not assume them). */
#define OFF_METHOD_CONST	16
#define OFF_CM_CONSTANTS	8
#define OFF_CM_NAME		34
#define OFF_CM_SIG		36
#define OFF_CP_HOLDER		24
#define OFF_CP_LENGTH		48
#define CP_SIZE			88
#define OFF_KLASS_NAME		40
#define OFF_SYM_LENGTH		4
#define OFF_SYM_BODY		6

/* VMStructEntry as in the JDK: 48 bytes. */
#define SE_STRIDE	48
#define TE_STRIDE	40

static unsigned char mem[SIZE];
static u64 brk_off;
static u64 nreads;
static struct { const char *name; u64 addr; } syms[16];
static int nsyms;

static int fake_read(void *ctx, u64 addr, void *buf, size_t len)
{
	(void)ctx;
	nreads++;
	if (addr < BASE || addr - BASE > SIZE || len > SIZE - (addr - BASE))
		return -EFAULT;
	memcpy(buf, mem + (addr - BASE), len);
	return 0;
}

static int fake_sym(void *ctx, const char *name, u64 *addr)
{
	(void)ctx;
	for (int i = 0; i < nsyms; i++)
		if (!strcmp(syms[i].name, name)) {
			*addr = syms[i].addr;
			return 0;
		}
	return -ENOENT;
}

static u64 alloc(size_t n)
{
	u64 a = BASE + brk_off;

	brk_off = (brk_off + n + 15) & ~15ull;
	return a;
}

static void put64(u64 addr, u64 v)
{
	memcpy(mem + (addr - BASE), &v, 8);
}

static void put16(u64 addr, u16 v)
{
	memcpy(mem + (addr - BASE), &v, 2);
}

static void put32(u64 addr, u32 v)
{
	memcpy(mem + (addr - BASE), &v, 4);
}

static u64 cstr(const char *s)
{
	u64 a = alloc(strlen(s) + 1);

	memcpy(mem + (a - BASE), s, strlen(s) + 1);
	return a;
}

static void var(const char *name, u64 value)
{
	u64 a = alloc(8);

	put64(a, value);
	syms[nsyms].name = name;
	syms[nsyms++].addr = a;
}

/* A Symbol: u4 refcount, u2 length, body. */
static u64 symbol(const char *s)
{
	u64 a = alloc(OFF_SYM_BODY + strlen(s));

	put16(a + OFF_SYM_LENGTH, (u16)strlen(s));
	memcpy(mem + (a + OFF_SYM_BODY - BASE), s, strlen(s));
	return a;
}

static u64 structs_at, types_at;

/* The fake JVM: tables, and a method pkg/Foo.bar(J[Ljava/lang/String;I)V.
 * Returns its Method*. */
static u64 build(void)
{
	static const struct { const char *t, *f; int is_static; u64 off; } fields[] = {
		{ "Method", "_constMethod", 0, OFF_METHOD_CONST },
		{ "ConstMethod", "_constants", 0, OFF_CM_CONSTANTS },
		{ "ConstMethod", "_name_index", 0, OFF_CM_NAME },
		{ "ConstMethod", "_signature_index", 0, OFF_CM_SIG },
		{ "ConstantPool", "_pool_holder", 0, OFF_CP_HOLDER },
		{ "ConstantPool", "_length", 0, OFF_CP_LENGTH },
		{ "Klass", "_name", 0, OFF_KLASS_NAME },
		{ "Symbol", "_length", 0, OFF_SYM_LENGTH },
		{ "Symbol", "_body", 0, OFF_SYM_BODY },
		{ "Thread", "_unrelated", 0, 7 },
	};
	u64 method, cm, cp, klass;

	memset(mem, 0, sizeof(mem));
	brk_off = 0;
	nsyms = 0;
	alloc(64);		/* keep address BASE unused */
	structs_at = alloc((ARRAY_SIZE(fields) + 1) * SE_STRIDE);
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		u64 e = structs_at + i * SE_STRIDE;

		put64(e + 0, cstr(fields[i].t));
		put64(e + 8, cstr(fields[i].f));
		put32(e + 24, (u32)fields[i].is_static);
		put64(e + 32, fields[i].off);
	}
	types_at = alloc(3 * TE_STRIDE);
	put64(types_at, cstr("ConstantPool"));
	put64(types_at + 32, CP_SIZE);
	put64(types_at + TE_STRIDE, cstr("Method"));
	put64(types_at + TE_STRIDE + 32, 88);
	var("gHotSpotVMStructs", structs_at);
	var("gHotSpotVMStructEntryArrayStride", SE_STRIDE);
	var("gHotSpotVMStructEntryTypeNameOffset", 0);
	var("gHotSpotVMStructEntryFieldNameOffset", 8);
	var("gHotSpotVMStructEntryIsStaticOffset", 24);
	var("gHotSpotVMStructEntryOffsetOffset", 32);
	var("gHotSpotVMStructEntryAddressOffset", 40);
	var("gHotSpotVMTypes", types_at);
	var("gHotSpotVMTypeEntryArrayStride", TE_STRIDE);
	var("gHotSpotVMTypeEntryTypeNameOffset", 0);
	var("gHotSpotVMTypeEntrySizeOffset", 32);

	klass = alloc(64);
	put64(klass + OFF_KLASS_NAME, symbol("pkg/Foo"));
	cp = alloc(CP_SIZE + 8 * 8);
	put64(cp + OFF_CP_HOLDER, klass);
	put32(cp + OFF_CP_LENGTH, 8);
	put64(cp + CP_SIZE + 3 * 8, symbol("bar"));
	put64(cp + CP_SIZE + 5 * 8, symbol("(J[Ljava/lang/String;I)V"));
	cm = alloc(64);
	put64(cm + OFF_CM_CONSTANTS, cp);
	put16(cm + OFF_CM_NAME, 3);
	put16(cm + OFF_CM_SIG, 5);
	method = alloc(64);
	put64(method + OFF_METHOD_CONST, cm);
	return method;
}

static void test_format(void)
{
	static const struct { const char *k, *n, *s, *want; int ret; } cases[] = {
		{ "A", "m", "()V", "A.m()", 0 },
		{ "java/util/Map$Entry", "<init>", "(Ljava/lang/Object;[[BZ)V",
		  "java.util.Map$Entry.<init>(java.lang.Object, byte[][], boolean)", 0 },
		{ "A", "m", "(Q)V", NULL, -EPROTO },		/* no such type */
		{ "A", "m", "(L;)V", NULL, -EPROTO },		/* empty class */
		{ "A", "m", "(Ljava/lang/String", NULL, -EPROTO },	/* no ';' */
		{ "A", "m", "(JJ", NULL, -EPROTO },		/* no ')' */
		{ "A", "m", "J)V", NULL, -EPROTO },		/* no '(' */
		{ "A\n", "m", "()V", NULL, -EPROTO },		/* control byte */
	};
	char out[256];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int ret = hotspot_format_method(cases[i].k, strlen(cases[i].k), cases[i].n,
						strlen(cases[i].n), cases[i].s,
						strlen(cases[i].s), out, sizeof(out));
		char what[160];

		snprintf(what, sizeof(what), "format %s.%s%s", cases[i].k, cases[i].n,
			 cases[i].s);
		for (char *q = what; *q; q++)
			if ((unsigned char)*q < 0x20)
				*q = '?';	/* one TAP line per check */
		T_CHECKF(what, ret == cases[i].ret && (!cases[i].want || !strcmp(out, cases[i].want)),
			 "expected %d '%s', got %d '%s'", cases[i].ret,
			 cases[i].want ? cases[i].want : "", ret, out);
	}
	{
		char dims[300] = "(";
		int ret;

		memset(dims + 1, '[', 256);
		strcpy(dims + 257, "I)V");
		ret = hotspot_format_method("A", 1, "m", 1, dims, strlen(dims), out,
					    sizeof(out));
		T_CHECKF("256 array dimensions are refused (JVM limit 255)", ret == -EPROTO,
			 "got %d", ret);
		ret = hotspot_format_method("A", 1, "m", 1, "(JJJJJJJJ)V", 11, out, 16);
		T_CHECKF("a name longer than the buffer is -ENOSPC", ret == -ENOSPC,
			 "got %d", ret);
	}
}

static void test_good(void)
{
	u64 m = build();
	struct hotspot *hs = NULL;
	const char *name;
	int err = hotspot_open(&hs, fake_read, fake_sym, NULL);
	u64 before;

	T_CHECKF("hotspot_open reads the fake JVM's tables", err == 0 && hs, "got %d", err);
	if (!hs)
		return;
	name = hotspot_method_name(hs, m, &err);
	T_CHECKF("Method* -> pkg.Foo.bar(long, java.lang.String[], int)",
		 name && !strcmp(name, "pkg.Foo.bar(long, java.lang.String[], int)"),
		 "got '%s' (%d)", name ? name : "(null)", err);
	before = nreads;
	name = hotspot_method_name(hs, m, &err);
	T_CHECKF("the second look-up is cached (no read)", name && nreads == before,
		 "%llu reads", (unsigned long long)(nreads - before));
	{
		u64 lo, hi;

		err = hotspot_interpreter(hs, &lo, &hi);
		T_CHECKF("no AbstractInterpreter::_code exported: -EPROTO", err == -EPROTO,
			 "got %d", err);
	}
	hotspot_free(hs);
}

/* A Method* into memory the test then spoils; must fail quickly. */
static void hostile_case(const char *what, void (*spoil)(u64 method), int want)
{
	u64 m = build();
	struct hotspot *hs = NULL;
	const char *name;
	int err;

	if (hotspot_open(&hs, fake_read, fake_sym, NULL)) {
		T_CHECK(what, false);
		return;
	}
	spoil(m);
	nreads = 0;
	name = hotspot_method_name(hs, m, &err);
	T_CHECKF(what, !name && (want == 0 || err == want) && nreads <= 16,
		 "expected NULL (%d) within 16 reads, got '%s' (%d) after %llu reads", want,
		 name ? name : "(null)", err, (unsigned long long)nreads);
	hotspot_free(hs);
}

static u64 rd64(u64 addr)
{
	u64 v;

	memcpy(&v, mem + (addr - BASE), 8);
	return v;
}

static u64 cm_of(u64 m) { return rd64(m + OFF_METHOD_CONST); }
static u64 cp_of(u64 m) { return rd64(cm_of(m) + OFF_CM_CONSTANTS); }

static void spoil_unmapped(u64 m) { put64(m + OFF_METHOD_CONST, 0xdead000000000000ull); }
static void spoil_cycle(u64 m) { put64(cm_of(m) + OFF_CM_CONSTANTS, m); }
static void spoil_self(u64 m) { put64(m + OFF_METHOD_CONST, m); }
static void spoil_index(u64 m) { put16(cm_of(m) + OFF_CM_NAME, 0xffff); }
static void spoil_zero_index(u64 m) { put16(cm_of(m) + OFF_CM_SIG, 0); }
static void spoil_len(u64 m)
{
	u64 klass = rd64(cp_of(m) + OFF_CP_HOLDER);

	put16(rd64(klass + OFF_KLASS_NAME) + OFF_SYM_LENGTH, 0xffff);
}
static void spoil_sig(u64 m)
{
	u64 s = rd64(cp_of(m) + CP_SIZE + 5 * 8);

	mem[s + OFF_SYM_BODY - BASE] = 'X';	/* "XJ[L...": no '(' */
}
static void spoil_end(u64 m)
{
	/* the symbol body runs off the end of memory */
	u64 s = rd64(cp_of(m) + CP_SIZE + 3 * 8);
	u64 last = BASE + SIZE - OFF_SYM_BODY - 10;

	(void)s;
	put16(last + OFF_SYM_LENGTH, 1000);
	put64(cp_of(m) + CP_SIZE + 3 * 8, last);
}

static void test_hostile_methods(void)
{
	hostile_case("Method* with an unmapped ConstMethod: error", spoil_unmapped, -EFAULT);
	hostile_case("ConstMethod -> Method cycle: error, no loop", spoil_cycle, 0);
	hostile_case("Method -> itself: error, no loop", spoil_self, 0);
	hostile_case("name index past the constant pool: -EPROTO", spoil_index, -EPROTO);
	hostile_case("signature index 0: -EPROTO", spoil_zero_index, -EPROTO);
	hostile_case("Symbol length 65535 (over the cap): -EPROTO", spoil_len, -EPROTO);
	hostile_case("malformed descriptor: -EPROTO", spoil_sig, -EPROTO);
	hostile_case("Symbol body past the end of memory: error", spoil_end, -EFAULT);
}

/* Garbage everywhere: every Method* fails or names, within bounded reads. */
static void test_garbage(void)
{
	struct hotspot *hs = NULL;
	u64 seed = 0x1234567, worst = 0;
	bool ok = true;

	build();
	if (hotspot_open(&hs, fake_read, fake_sym, NULL)) {
		T_CHECK("garbage: open", false);
		return;
	}
	/* overwrite everything after the tables with random words that
	 * often point back into the image */
	for (u64 off = brk_off / 2; off + 8 <= SIZE; off += 8) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		put64(BASE + off, (seed >> 33) & 1 ? BASE + ((seed >> 12) % SIZE) :
			seed | ((seed >> 40) & 0xffff));
	}
	for (int i = 0; i < 20000; i++) {
		const char *name;
		int err;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		nreads = 0;
		name = hotspot_method_name(hs, BASE + ((seed >> 16) % SIZE), &err);
		if (nreads > worst)
			worst = nreads;
		if (name && strlen(name) >= 2048)
			ok = false;
	}
	T_CHECKF("20000 Method* into garbage: bounded reads, bounded names",
		 ok && worst <= 16, "worst %llu reads", (unsigned long long)worst);
	hotspot_free(hs);
}

static void test_hostile_tables(void)
{
	struct hotspot *hs = NULL;
	int err;

	/* a table without its NULL end: every entry names a type */
	build();
	{
		u64 big = alloc(0);
		u64 room = (SIZE - (big - BASE)) / SE_STRIDE, name = cstr("X");

		for (u64 i = 0; i + 1 < room; i++)
			put64(big + i * SE_STRIDE, name);
		put64(syms[0].addr, big);	/* gHotSpotVMStructs -> endless */
	}
	nreads = 0;
	err = hotspot_open(&hs, fake_read, fake_sym, NULL);
	T_CHECKF("a structs table without an end: error after bounded reads",
		 err != 0 && !hs && nreads <= 3 * 20000 + 100,
		 "got %d after %llu reads", err, (unsigned long long)nreads);
	hotspot_free(hs);
	hs = NULL;

	build();
	put64(syms[1].addr, 1u << 20);	/* stride */
	err = hotspot_open(&hs, fake_read, fake_sym, NULL);
	T_CHECKF("a 1 MiB stride is refused", err == -EPROTO && !hs, "got %d", err);
	hotspot_free(hs);
	hs = NULL;

	build();
	put64(syms[3].addr, SE_STRIDE - 4);	/* field name pointer past the entry */
	err = hotspot_open(&hs, fake_read, fake_sym, NULL);
	T_CHECKF("a member offset past the entry is refused", err == -EPROTO && !hs,
		 "got %d", err);
	hotspot_free(hs);
	hs = NULL;

	build();
	nsyms--;		/* gHotSpotVMTypeEntrySizeOffset missing */
	err = hotspot_open(&hs, fake_read, fake_sym, NULL);
	T_CHECKF("a missing symbol: -ENOENT (not HotSpot)", err == -ENOENT && !hs,
		 "got %d", err);
	hotspot_free(hs);
	hs = NULL;

	/* type names without a NUL: skipped, then a required field is missing */
	build();
	for (u32 i = 0; i < 9; i++) {
		u64 s = alloc(200);

		memset(mem + (s - BASE), 'A', 200);
		put64(structs_at + i * SE_STRIDE, s);
	}
	err = hotspot_open(&hs, fake_read, fake_sym, NULL);
	T_CHECKF("unterminated type names: -EPROTO", err == -EPROTO && !hs, "got %d", err);
	hotspot_free(hs);
}

int main(void)
{
	test_format();
	test_good();
	test_hostile_methods();
	test_garbage();
	test_hostile_tables();
	T_END();
}
