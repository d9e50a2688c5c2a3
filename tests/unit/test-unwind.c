/* SPDX-License-Identifier: MIT */
/*
 * unwinder_walk / symtab_name on this very process: known noinline call
 * chains capture their own registers and stack (as the BPF probe would at
 * a syscall), then the snapshot is unwound and named. Covers CFI through
 * frameless functions, the frame-pointer fallback through a synthetic JIT
 * function named from a perf map, .NET/stub/Java perf map names, R2R
 * (.dll) mappings, dlopen + refresh, truncated snapshots, and the cost.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "symbols/symtab.h"
#include "track/stacks.h"
#include "unwind/unwind.h"

#if defined(__clang__)
#define NOIPA __attribute__((noinline))
#define NOFP
#else
#define NOIPA __attribute__((noipa))
#define NOFP __attribute__((optimize("omit-frame-pointer")))
#endif

#define SNAP 16384

struct sample {
	u64 regs[ML_NREGS];
	unsigned char stack[SNAP];
	u32 len;
	u32 flags;
	int line;		/* source line of the capture */
};

static struct sample s_fp, s_nofp, s_jit;
static volatile int sink;
static int line_mid, line_top, line_main;

/* All 17 registers in DWARF order, rip = this very instruction. */
#define CAPTURE_REGS(r) __asm__ volatile(				\
	"movq %%rax, 0(%0)\n\t" "movq %%rdx, 8(%0)\n\t"			\
	"movq %%rcx, 16(%0)\n\t" "movq %%rbx, 24(%0)\n\t"		\
	"movq %%rsi, 32(%0)\n\t" "movq %%rdi, 40(%0)\n\t"		\
	"movq %%rbp, 48(%0)\n\t" "movq %%rsp, 56(%0)\n\t"		\
	"movq %%r8, 64(%0)\n\t" "movq %%r9, 72(%0)\n\t"			\
	"movq %%r10, 80(%0)\n\t" "movq %%r11, 88(%0)\n\t"		\
	"movq %%r12, 96(%0)\n\t" "movq %%r13, 104(%0)\n\t"		\
	"movq %%r14, 112(%0)\n\t" "movq %%r15, 120(%0)\n\t"		\
	"leaq 0(%%rip), %%rax\n\t" "movq %%rax, 128(%0)\n\t"		\
	: : "r"(r) : "rax", "memory")

#define CAPTURE(s) do {							\
	CAPTURE_REGS((s)->regs);					\
	(s)->line = __LINE__;						\
	copy_stack(s);							\
} while (0)

/* Reads raw stack words (other frames' ASan redzones included), as the
 * BPF probe does: not instrumented, not turned into a memcpy call. */
__attribute__((no_sanitize_address)) static NOIPA void
raw_copy(unsigned char *dst, u64 src, u32 len)
{
	for (u32 i = 0; i < len; i++)
		dst[i] = ((const volatile unsigned char *)(uintptr_t)src)[i];
}

/* Copies up to SNAP bytes above the captured sp, within the stack
 * mapping (a short copy then holds the whole stack: not truncated). */
static NOIPA void copy_stack(struct sample *s)
{
	u64 sp = s->regs[ML_REG_SP], lo, hi, end = 0;
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx-%llx", (unsigned long long *)&lo,
			   (unsigned long long *)&hi) == 2 && sp >= lo && sp < hi)
			end = hi;
	if (f)
		fclose(f);
	s->len = end - sp < SNAP ? (u32)(end - sp) : SNAP;
	s->flags = end - sp > SNAP ? ML_EVF_STACK_TRUNCATED : 0;
	raw_copy(s->stack, sp, s->len);
}

/* ---- chain 1: frame pointers everywhere ---- */

static NOIPA int test_leaf(int x)
{
	CAPTURE(&s_fp);
	return x + sink;
}

static NOIPA int test_mid(int x)
{
	int r;

	line_mid = __LINE__ + 1;
	r = test_leaf(x + 1);
	sink += r;
	return r + 1;
}

static NOIPA int test_top(int x)
{
	int r;

	line_top = __LINE__ + 1;
	r = test_mid(x + 1);
	sink += r;
	return r + 1;
}

/* ---- chain 2: frameless leaf and middle (like glibc's mmap) ---- */

static NOIPA NOFP int nofp_leaf(int x)
{
	CAPTURE(&s_nofp);
	return x + sink;
}

static NOIPA NOFP int nofp_mid(int x)
{
	int r = nofp_leaf(x + 1);

	sink += r;
	return r + 1;
}

static NOIPA int nofp_top(int x)
{
	int r = nofp_mid(x + 1);

	sink += r;
	return r + 1;
}

/* ---- chain 3: native -> JIT (rbp frame, no module) -> native ---- */

/* push rbp; mov rbp,rsp; call *rdi; pop rbp; ret */
static const unsigned char jit_code[] = {
	0x55, 0x48, 0x89, 0xe5, 0xff, 0xd7, 0x5d, 0xc3,
};

static NOIPA void jit_leaf(void)
{
	CAPTURE(&s_jit);
	sink++;
}

static NOIPA int jit_top(void *code)
{
	((void (*)(void (*)(void)))code)(jit_leaf);
	sink++;
	return sink;
}

/* ---- helpers ---- */

static char perfmap_path[64];

static void cleanup(void)
{
	if (perfmap_path[0])
		unlink(perfmap_path);
}

static int write_file(const char *path, const char *text, int flags)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0644);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

struct named {
	u32 n, flags;
	u64 pcs[64];
	struct ml_frame f[64];
};

static struct unwinder *uw;	/* over the symtab of main() */

static int walk(pid_t tid, const u64 *regs, const void *stack, u32 len,
		u32 ev_flags, u64 *pcs, u32 max, u32 *n, u32 *sflags)
{
	return unwinder_walk(uw, tid, regs, stack, len, ev_flags, pcs, NULL,
			     max, n, sflags);
}

static int unwind_and_name(struct symtab *st, const struct sample *s,
			   struct named *out)
{
	int ret;

	memset(out, 0, sizeof(*out));
	ret = walk(gettid(), s->regs, s->stack, s->len, s->flags,
			    out->pcs, 64, &out->n, &out->flags);
	if (ret < 0)
		return ret;
	for (u32 i = 0; i < out->n; i++) {
		ret = symtab_name(st, out->pcs[i], i > 0, &out->f[i]);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static void release(struct named *nm)
{
	for (u32 i = 0; i < nm->n; i++)
		ml_frame_release(&nm->f[i]);
}

static void dump(const struct named *nm)
{
	for (u32 i = 0; i < nm->n; i++)
		printf("#   %2u %#llx %-8s %s (%s) %s:%u\n", i,
		       (unsigned long long)nm->pcs[i],
		       nm->f[i].kind == ML_FK_NATIVE ? "native" :
		       nm->f[i].kind == ML_FK_JIT ? "jit" : "other",
		       nm->f[i].symbol ? nm->f[i].symbol : "?",
		       nm->f[i].module ? nm->f[i].module : "?",
		       nm->f[i].file ? nm->f[i].file : "?", nm->f[i].line);
}

static bool sym_is(const struct named *nm, u32 i, const char *want)
{
	return i < nm->n && nm->f[i].symbol && strcmp(nm->f[i].symbol, want) == 0;
}

static bool in_this_file(const struct ml_frame *f)
{
	const char *b;

	if (!f->file)
		return false;
	b = strrchr(f->file, '/');
	return strcmp(b ? b + 1 : f->file, "test-unwind.c") == 0;
}

static bool starts_with_push_rbp(const void *fn)
{
	const unsigned char *p = fn;

	if (p[0] == 0xf3 && p[1] == 0x0f && p[2] == 0x1e && p[3] == 0xfa)
		p += 4;		/* endbr64 */
	return p[0] == 0x55;
}

/* ---- tests ---- */

static void test_fp_chain(struct symtab *st)
{
	struct named nm;
	bool ok;

	T_CHECK("fp: unwind ok", unwind_and_name(st, &s_fp, &nm) == 0);
	ok = sym_is(&nm, 0, "test_leaf") && sym_is(&nm, 1, "test_mid") &&
	     sym_is(&nm, 2, "test_top") && sym_is(&nm, 3, "main");
	T_CHECK("fp: test_leaf <- test_mid <- test_top <- main", ok);
	if (!ok)
		dump(&nm);
	T_CHECK("fp: pcs[0] is the captured ip", nm.pcs[0] == s_fp.regs[ML_REG_IP]);
	T_CHECK("fp: clean end, no flags", nm.flags == 0);
	T_CHECK("fp: native kind", nm.n > 3 && nm.f[0].kind == ML_FK_NATIVE &&
		nm.f[3].kind == ML_FK_NATIVE);
	T_CHECK("fp: files are the test source",
		in_this_file(&nm.f[0]) && in_this_file(&nm.f[1]) &&
		in_this_file(&nm.f[2]) && in_this_file(&nm.f[3]));
	T_CHECKF("fp: leaf line is the capture", nm.f[0].line == (u32)s_fp.line,
		 "Expected: %d Got: %u", s_fp.line, nm.f[0].line);
	T_CHECKF("fp: caller lines are the calls",
		 nm.n > 3 && nm.f[1].line == (u32)line_mid &&
		 nm.f[2].line == (u32)line_top && nm.f[3].line == (u32)line_main,
		 "Expected: %d %d %d Got: %u %u %u", line_mid, line_top,
		 line_main, nm.f[1].line, nm.f[2].line, nm.f[3].line);
	T_CHECK("fp: module is this executable's full path",
		nm.f[0].module && nm.f[0].module[0] == '/' &&
		strstr(nm.f[0].module, "test-unwind"));
	T_CHECK("fp: offset is inside the symbol",
		nm.f[1].offset > 0 && nm.f[1].offset < 4096);
	release(&nm);
}

static void test_nofp_chain(struct symtab *st)
{
	struct named nm;
	bool ok;

	if (starts_with_push_rbp((void *)nofp_mid))
		T_SKIP("nofp: functions really frameless",
		       "the compiler kept the frame pointer");
	else
		T_CHECK("nofp: functions really frameless",
			!starts_with_push_rbp((void *)nofp_leaf));
	T_CHECK("nofp: unwind ok", unwind_and_name(st, &s_nofp, &nm) == 0);
	ok = sym_is(&nm, 0, "nofp_leaf") && sym_is(&nm, 1, "nofp_mid") &&
	     sym_is(&nm, 2, "nofp_top") && sym_is(&nm, 3, "main");
	T_CHECK("nofp: CFI keeps the frameless callers", ok);
	if (!ok)
		dump(&nm);
	T_CHECK("nofp: clean end", nm.flags == 0);
	release(&nm);
}

/* Maps the JIT function and names it in the perf map; NULL to skip. */
static void *jit_setup(struct symtab *st)
{
	char line[256];
	void *code;

	code = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (code == MAP_FAILED)
		return NULL;
	memcpy(code, jit_code, sizeof(jit_code));
	if (mprotect(code, 4096, PROT_READ | PROT_EXEC) < 0) {
		munmap(code, 4096);
		return NULL;
	}
	snprintf(line, sizeof(line), "%016llX %zx void [TestAsm] "
		 "Test.Jit::Trampoline(int32)[QuickJitted]\n",
		 (unsigned long long)(uintptr_t)code, sizeof(jit_code));
	T_CHECK("jit: perf map written",
		write_file(perfmap_path, line, O_APPEND) == 0);
	T_CHECK("jit: update_jit", symtab_update_jit(st) == 0);
	T_CHECK("jit: has_jit_map", symtab_has_jit_map(st));
	symtab_maps_changed(st);
	T_CHECK("jit: refresh", symtab_refresh(st) == 0);
	return code;
}

static void test_jit_chain(struct symtab *st, void *code)
{
	struct named nm;
	bool ok;

	if (!code) {
		T_SKIP("jit: chain", "no PROT_EXEC anonymous memory");
		return;
	}
	T_CHECK("jit: unwind ok", unwind_and_name(st, &s_jit, &nm) == 0);
	ok = sym_is(&nm, 0, "jit_leaf") &&
	     sym_is(&nm, 1, "Test.Jit::Trampoline(int32)") &&
	     sym_is(&nm, 2, "jit_top") && sym_is(&nm, 3, "main");
	T_CHECK("jit: jit_leaf <- JIT frame <- jit_top <- main", ok);
	if (!ok)
		dump(&nm);
	T_CHECK("jit: frame kind, tier and assembly",
		nm.n > 1 && nm.f[1].kind == ML_FK_JIT && nm.f[1].tier &&
		strcmp(nm.f[1].tier, "QuickJitted") == 0 && nm.f[1].module &&
		strcmp(nm.f[1].module, "TestAsm") == 0);
	T_CHECK("jit: offset from the map entry", nm.n > 1 &&
		nm.f[1].offset == nm.pcs[1] - (u64)(uintptr_t)code &&
		nm.f[1].offset == 6);
	T_CHECK("jit: walk ends cleanly", nm.flags == 0);
	release(&nm);
}

struct name_case {
	u64 off;
	u32 kind;
	const char *symbol, *module, *tier;
};

static void check_name(struct symtab *st, u64 base, const struct name_case *c)
{
	struct ml_frame f;
	char title[128];
	int ret = symtab_name(st, base + c->off, true, &f);

	snprintf(title, sizeof(title), "names: %s", c->symbol ? c->symbol : "(unknown)");
	T_CHECKF(title, ret == 0 && f.kind == c->kind &&
		 (c->symbol ? f.symbol && !strcmp(f.symbol, c->symbol) : !f.symbol) &&
		 (c->module ? f.module && !strcmp(f.module, c->module) : !f.module) &&
		 (c->tier ? f.tier && !strcmp(f.tier, c->tier) : !f.tier),
		 "Expected: %u '%s' '%s' '%s' Got: %u '%s' '%s' '%s'", c->kind,
		 c->symbol, c->module, c->tier, f.kind,
		 f.symbol ? f.symbol : "(null)", f.module ? f.module : "(null)",
		 f.tier ? f.tier : "(null)");
	ml_frame_release(&f);
}

static void test_perfmap_names(struct symtab *st)
{
	static const struct name_case cases[] = {
		{ 0x010, ML_FK_JIT, "MyConsoleApp.Program::Main(string[])",
		  "MyConsoleApp", "QuickJitted" },
		{ 0x110, ML_FK_JIT, "System.Foo::Bar(int32)",
		  "System.Private.CoreLib", "OptimizedTier1" },
		{ 0x210, ML_FK_STUB, "stub<12> StubPrecode<System.Object::.ctor()>",
		  "[jit]", NULL },
		{ 0x250, ML_FK_STUB, "stub ReportStubBlock<FixupPrecode>",
		  "[jit]", NULL },
		{ 0x310, ML_FK_JIT, "Lcom/example/Foo;.bar(I)V", "[jit]", NULL },
		{ 0x410, ML_FK_JIT, "dynamicClass::IL_STUB_PInvoke(int64,int32)",
		  "System.Private.CoreLib", "Optimized" },
		{ 0x510, ML_FK_JIT, "System.Collections.Generic.List`1[System."
		  "__Canon]::Add(!0)", "System.Private.CoreLib", NULL },
		{ 0xf00, ML_FK_UNKNOWN, NULL, "[anon]", NULL },
	};
	char *text;
	u64 base;
	void *mem;
	struct ml_frame f;

	mem = mmap(NULL, 4096, PROT_READ | PROT_EXEC,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		T_SKIP("names", "mmap failed");
		return;
	}
	base = (u64)(uintptr_t)mem;
	if (asprintf(&text,
		     "%016llX 100 void [MyConsoleApp] MyConsoleApp.Program::Main(string[])[QuickJitted]\n"
		     "%016llX 100 instance void [System.Private.CoreLib] System.Foo::Bar(int32)[OptimizedTier1]\n"
		     "%016llX 40 stub<12> StubPrecode<System.Object::.ctor()>\n"
		     "0x%llx 0x40 stub ReportStubBlock<FixupPrecode>\n"
		     "0x%llx 0x100 Lcom/example/Foo;.bar(I)V\n"
		     "%016llX 100 void [System.Private.CoreLib] dynamicClass::IL_STUB_PInvoke(int64,int32)[Optimized]\n"
		     "%016llX 100 void [System.Private.CoreLib] System.Collections.Generic.List`1[System.__Canon]::Add(!0)\n",
		     (unsigned long long)base, (unsigned long long)base + 0x100,
		     (unsigned long long)base + 0x200, (unsigned long long)base + 0x240,
		     (unsigned long long)base + 0x300, (unsigned long long)base + 0x400,
		     (unsigned long long)base + 0x500) < 0)
		return;
	symtab_maps_changed(st);
	symtab_refresh(st);
	/* Not read yet: symtab_name reads new lines by itself on a miss. */
	T_CHECK("names: appended lines", write_file(perfmap_path, text, O_APPEND) == 0);
	free(text);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		check_name(st, base, &cases[i]);

	/* Truncated and rewritten: old names go, new ones come. */
	if (asprintf(&text, "%016llX 1000 void [New] New.Type::M()[OptimizedTier1]\n",
		     (unsigned long long)base) >= 0) {
		write_file(perfmap_path, text, O_TRUNC);
		free(text);
	}
	T_CHECK("names: rewritten map read", symtab_update_jit(st) == 0);
	T_CHECK("names: rewritten map wins",
		symtab_name(st, base + 0x310, false, &f) == 0 && f.symbol &&
		strcmp(f.symbol, "New.Type::M()") == 0);
	ml_frame_release(&f);
	T_CHECK("frame_release: NULLs the strings",
		!f.symbol && !f.module && !f.file && !f.tier);
}

static void test_r2r_and_refresh(struct symtab *st)
{
	char dll[] = "/tmp/mapleak-test-XXXXXX.dll";
	struct ml_frame f;
	void *mem, *lib = NULL, *sym = NULL;
	int fd;
	/* Libraries this test does not link, each with a function. */
	static const char *const libs[][2] = {
		{ "libzstd.so.1", "ZSTD_versionNumber" },
		{ "libjansson.so.4", "json_object" },
		{ "libexpat.so.1", "XML_ExpatVersion" },
		{ "libgmp.so.10", "__gmpz_init" },
		{ "libffi.so.8", "ffi_call" },
		{ "libcrypt.so.1", "crypt" },
	};

	fd = mkstemps(dll, 4);
	if (fd < 0 || ftruncate(fd, 8192) < 0) {
		T_SKIP("r2r", "cannot create a file in /tmp");
	} else {
		mem = mmap(NULL, 8192, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
		close(fd);
		symtab_maps_changed(st);
		T_CHECK("r2r: refresh with a .dll mapping", symtab_refresh(st) == 0);
		T_CHECK("r2r: kind and module",
			mem != MAP_FAILED &&
			symtab_name(st, (u64)(uintptr_t)mem + 0x1234, true, &f) == 0 &&
			f.kind == ML_FK_R2R && f.module && !strcmp(f.module, dll));
		ml_frame_release(&f);
		if (mem != MAP_FAILED)
			munmap(mem, 8192);
		unlink(dll);
	}

	/* A library loaded after symtab_open is named after refresh. */
	for (size_t i = 0; i < ARRAY_SIZE(libs) && !sym; i++) {
		Dl_info di;

		if (dlopen(libs[i][0], RTLD_NOW | RTLD_NOLOAD))
			continue;	/* already there: proves nothing */
		lib = dlopen(libs[i][0], RTLD_NOW);
		sym = lib ? dlsym(lib, libs[i][1]) : NULL;
		/* The function must really live in that library. */
		if (sym && (!dladdr(sym, &di) || !di.dli_fname ||
			    !strstr(di.dli_fname, libs[i][0])))
			sym = NULL;
	}
	if (!sym) {
		T_SKIP("refresh: dlopen'ed library", "no unloaded library found");
		return;
	}
	T_CHECKF("refresh: not a module before refresh",
		symtab_name(st, (u64)(uintptr_t)sym, false, &f) == 0 &&
		f.kind != ML_FK_NATIVE, "kind %u %s %s", f.kind, f.symbol, f.module);
	ml_frame_release(&f);
	T_CHECK("refresh: no-op without maps_changed",
		symtab_refresh(st) == 0 &&
		symtab_name(st, (u64)(uintptr_t)sym, false, &f) == 0 &&
		f.kind != ML_FK_NATIVE);
	ml_frame_release(&f);
	symtab_maps_changed(st);
	T_CHECK("refresh: named after maps_changed",
		symtab_refresh(st) == 0 &&
		symtab_name(st, (u64)(uintptr_t)sym, false, &f) == 0 &&
		f.kind == ML_FK_NATIVE && f.symbol && f.offset == 0 &&
		f.module && f.module[0] == '/');
	ml_frame_release(&f);
}

/* The unwind cache must give the same answer as a fresh walk, and must
 * not answer when a word the walk read has changed. */
static void test_cache(struct symtab *st)
{
	static struct sample copy;
	u64 a[64], b[64], c[64];
	u32 na = 0, nb = 0, nc = 0, fa = 0, fb = 0, fc = 0;
	bool same = true, patched = false;
	u64 hits0, hits1, misses;

	unwinder_stats(uw, &hits0, &misses);
	walk(gettid(), s_fp.regs, s_fp.stack, s_fp.len, 0, a, 64,
		      &na, &fa);
	walk(gettid(), s_fp.regs, s_fp.stack, s_fp.len, 0, b, 64,
		      &nb, &fb);
	for (u32 i = 0; i < na && i < nb; i++)
		same &= a[i] == b[i];
	T_CHECKF("cache: a repeated walk gives the same pcs",
		 na >= 3 && na == nb && fa == fb && same, "n %u vs %u", na, nb);
	unwinder_stats(uw, &hits1, &misses);
	T_CHECKF("cache: the repeated walk was a hit", hits1 > hits0,
		 "hits %llu -> %llu", (unsigned long long)hits0,
		 (unsigned long long)hits1);

	/* Point the second return address somewhere else in the copy. */
	copy = s_fp;
	for (u32 off = 0; off + 8 <= copy.len && na >= 3; off += 8) {
		u64 v;

		memcpy(&v, copy.stack + off, 8);
		if (v == a[2]) {
			v = a[1];
			memcpy(copy.stack + off, &v, 8);
			patched = true;
			break;
		}
	}
	walk(gettid(), copy.regs, copy.stack, copy.len, 0, c, 64,
		      &nc, &fc);
	T_CHECKF("cache: a changed return address changes the walk",
		 patched && nc >= 3 && c[2] != a[2], "patched %d n %u", patched, nc);
}

/*
 * Junk return addresses (a frame-pointer walk reading data: small
 * integers, 0xcccc... fill, stack addresses, data of a file mapping) end
 * the walk, flagged truncated, instead of becoming frames.
 */
static void junk_case(struct symtab *st, const struct sample *s, u32 at,
		      u64 junk, const char *what)
{
	static struct sample copy;
	u64 a[64], b[64];
	u32 na = 0, nb = 0, fa = 0, fb = 0;
	bool patched = false, has_junk = false;
	char title[160];

	walk(gettid(), s->regs, s->stack, s->len, s->flags, a, 64,
		      &na, &fa);
	copy = *s;
	for (u32 off = 0; off + 8 <= copy.len && na > at; off += 8) {
		u64 v;

		memcpy(&v, copy.stack + off, 8);
		if (v == a[at]) {
			memcpy(copy.stack + off, &junk, 8);
			patched = true;
			break;
		}
	}
	walk(gettid(), copy.regs, copy.stack, copy.len, copy.flags,
		      b, 64, &nb, &fb);
	for (u32 i = 0; i < nb; i++)
		has_junk |= b[i] == junk;
	snprintf(title, sizeof(title), "junk: %s ends the walk, truncated", what);
	T_CHECKF(title, patched && nb == at && fb == ML_SF_TRUNCATED && !has_junk &&
		 memcmp(a, b, at * sizeof(*a)) == 0,
		 "patched %d n %u (was %u) flags %#x", patched, nb, na, fb);
	/* The cache gives the same cut walk. */
	walk(gettid(), copy.regs, copy.stack, copy.len, copy.flags,
		      a, 64, &na, &fa);
	snprintf(title, sizeof(title), "junk: %s, cached walk the same", what);
	T_CHECK(title, na == nb && fa == fb);
}

static void test_junk(struct symtab *st, void *code)
{
	static u64 data_word;	/* this program's .bss: mapped, not code */
	u64 stack_addr = s_fp.regs[ML_REG_SP] + 64;

	junk_case(st, &s_fp, 2, 0x3, "0x3 (CFI walk)");
	junk_case(st, &s_fp, 2, 0xccccccccccccccccULL, "0xcccc... (CFI walk)");
	junk_case(st, &s_fp, 2, 0xa1f0091a829cb700ULL, "a canary (CFI walk)");
	if (!code) {
		T_SKIP("junk: JIT walks", "no PROT_EXEC anonymous memory");
		return;
	}
	/* The frame-pointer fallback through the JIT frame: its caller's
	 * return address is pcs[2]. */
	junk_case(st, &s_jit, 2, stack_addr, "a stack address (FP walk)");
	junk_case(st, &s_jit, 2, (u64)(uintptr_t)&data_word + 1,
		  "a data address (FP walk)");
	junk_case(st, &s_jit, 2, 0x3, "0x3 (FP walk)");
}

static void test_truncated(struct symtab *st)
{
	u64 pcs[64];
	u32 n, flags;
	int ret;

	/* A few bytes of stack: the walk soon wants more. */
	ret = walk(gettid(), s_fp.regs, s_fp.stack, 16,
			    ML_EVF_STACK_TRUNCATED, pcs, 64, &n, &flags);
	T_CHECKF("truncated: flagged as truncated",
		 ret == 0 && n >= 1 && flags == ML_SF_TRUNCATED,
		 "ret %d n %u flags %#x", ret, n, flags);
	ret = walk(gettid(), s_fp.regs, s_fp.stack, 16, 0,
			    pcs, 64, &n, &flags);
	T_CHECK("truncated: without the event flag it is an error",
		ret == 0 && n >= 1 && flags == ML_SF_UNWIND_ERR);
	ret = walk(gettid(), s_fp.regs, NULL, 0, 0, pcs, 64, &n,
			    &flags);
	T_CHECK("no stack: pcs[0] only", ret == 0 && n == 1 &&
		pcs[0] == s_fp.regs[ML_REG_IP]);
	ret = walk(gettid(), s_fp.regs, s_fp.stack, s_fp.len,
			    s_fp.flags, pcs, 2, &n, &flags);
	T_CHECK("max frames respected", ret == 0 && n == 2);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void bench(struct symtab *st)
{
	u64 pcs[ML_STACK_MAX_FRAMES];
	u32 n = 0, flags, iters = 20000;
	double t0, t1;

	walk(gettid(), s_nofp.regs, s_nofp.stack, s_nofp.len,
		      s_nofp.flags, pcs, ML_STACK_MAX_FRAMES, &n, &flags);
	t0 = now_us();
	for (u32 i = 0; i < iters; i++)
		walk(gettid(), s_nofp.regs, s_nofp.stack,
			      s_nofp.len, s_nofp.flags, pcs,
			      ML_STACK_MAX_FRAMES, &n, &flags);
	t1 = now_us();
	printf("# unwind: %.2f us per stack of %u frames\n",
	       (t1 - t0) / iters, n);
	T_CHECK("bench: unwinds repeatably", n >= 4);
}

static void test_reset_and_symlink(struct symtab *st)
{
	struct named nm;
	struct symtab *st2 = NULL;

	T_CHECK("reset: ok", symtab_reset(st) == 0);
	T_CHECK("reset: unwinds and names again",
		unwind_and_name(st, &s_fp, &nm) == 0 && sym_is(&nm, 0, "test_leaf") &&
		sym_is(&nm, 3, "main"));
	release(&nm);
	T_CHECK("reset: perf map forgotten", !symtab_has_jit_map(st));

	/* perf refuses a perf map that is a symlink; so do we. */
	unlink(perfmap_path);
	if (symlink("/etc/hostname", perfmap_path) < 0) {
		T_SKIP("symlinked perf map", "cannot create a symlink in /tmp");
		return;
	}
	T_CHECK("symlinked perf map: refused",
		symtab_open(&st2, getpid()) == 0 && symtab_update_jit(st2) < 0 &&
		!symtab_has_jit_map(st2));
	symtab_close(st2);
	unlink(perfmap_path);
}

int main(void)
{
	struct symtab *st = NULL;
	void *code;
	int ret;

	snprintf(perfmap_path, sizeof(perfmap_path), "/tmp/perf-%d.map",
		 (int)getpid());
	atexit(cleanup);
	write_file(perfmap_path, "", O_TRUNC);

	ret = symtab_open(&st, getpid());
	T_CHECKF("symtab_open self", ret == 0, "ret %d", ret);
	if (ret < 0)
		T_END();
	ret = unwinder_new(&uw, symtab_unwind_modules(st));
	T_CHECKF("unwinder_new", ret == 0, "ret %d", ret);
	if (ret < 0)
		T_END();

	/* The chains are called from main itself: main is their caller. */
	line_main = __LINE__ + 1;
	sink += test_top(0);
	sink += nofp_top(0);
	code = jit_setup(st);
	if (code)
		sink += jit_top(code);
	test_fp_chain(st);
	test_nofp_chain(st);
	test_jit_chain(st, code);
	test_perfmap_names(st);
	test_r2r_and_refresh(st);
	test_cache(st);
	test_truncated(st);
	test_junk(st, code);
	bench(st);
	test_reset_and_symlink(st);
	unwinder_free(uw);
	symtab_close(st);
	T_CHECK("symtab_open: gone pid is -ESRCH",
		symtab_open(&st, 0x3fffffff) == -ESRCH);
	T_END();
}
