// SPDX-License-Identifier: MIT
/*
 * Tests of what `mapleak resolve -i` reads: the JITSYMS and MODSYMS
 * records (round trip, chunks, damage, forward compatibility) and the
 * offline resolver (recsyms) over a hand-made recording: exact stack pcs,
 * arbitrary addresses inside JIT code and inside native functions,
 * ReadyToRun and unknown addresses, later entries winning.
 *
 * `test-resolve --seeds DIR` instead writes fuzz seeds for
 * fuzz/corpus/record/ (one record of each new type, and damaged ones).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"
#include "record/record.h"
#include "record/recsyms.h"

static char tmpdir[] = "/tmp/mapleak-test-resolve.XXXXXX";
static char path_buf[256];

static const char *tpath(const char *name)
{
	snprintf(path_buf, sizeof(path_buf), "%s/%s", tmpdir, name);
	return path_buf;
}

/* ---- records: round trip ---- */

struct got {
	int njit, nmod, nother;
	char dump[8192];
	size_t len;
};

static void add(struct got *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void add(struct got *g, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(g->dump + g->len, sizeof(g->dump) - g->len, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(g->dump) - g->len)
		g->len += (size_t)n;
}

static int v_jit(void *ctx, u64 time, const struct ml_rec_jitsyms *j)
{
	struct got *g = ctx;

	g->njit++;
	add(g, "J%lu:", (unsigned long)time);
	for (size_t i = 0; i < j->n; i++)
		add(g, "[%lx %lx %s]", (unsigned long)j->e[i].start,
		    (unsigned long)j->e[i].size, j->e[i].name ? j->e[i].name : "(null)");
	add(g, ";");
	return 0;
}

static int v_mod(void *ctx, u64 time, const struct ml_rec_modsyms *m)
{
	struct got *g = ctx;

	g->nmod++;
	add(g, "M%lu:%lx-%lx+%lx %s:", (unsigned long)time, (unsigned long)m->lo,
	    (unsigned long)m->hi, (unsigned long)m->bias,
	    m->module ? m->module : "(null)");
	for (size_t i = 0; i < m->n; i++)
		add(g, "[%lx %lx %s]", (unsigned long)m->e[i].start,
		    (unsigned long)m->e[i].size, m->e[i].name ? m->e[i].name : "(null)");
	add(g, ";");
	return 0;
}

static int v_note(void *ctx, u64 time, const char *t)
{
	((struct got *)ctx)->nother++;
	return 0;
}

static const struct rec_visitor vis = { .jitsyms = v_jit, .modsyms = v_mod,
					.note = v_note };

static struct ml_rec_sym jit_e[] = {
	{ 0x7f0000001000, 0x80, (char *)"instance void [MyApp] MyApp.Program::Main(string[])[QuickJitted]" },
	{ 0x7f0000002000, 0x40, (char *)"stub<1> AllocateTemporaryEntryPoints<PreStubWorker>" },
	{ 0x7f0000001000, 0x100, (char *)"instance void [MyApp] MyApp.Program::Main(string[])[OptimizedTier1]" },
	{ 0x7f0000003000, 0x10, NULL },
};
static struct ml_rec_sym mod_e[] = {
	{ 0x1100, 0x20, (char *)"mmap_allocation" },
	{ 0x1120, 0x30, (char *)"free_all" },
	{ 0x1200, 0, (char *)"asm_entry" },
};

static void test_roundtrip(void)
{
	struct ml_rec_jitsyms j = { .n = ARRAY_SIZE(jit_e), .e = jit_e };
	struct ml_rec_jitsyms j0 = { 0 };
	struct ml_rec_modsyms m = { .lo = 0x7f1000000000, .hi = 0x7f1000004000,
				    .bias = 0x7f1000000000, .module = (char *)"/lib/libExample.so",
				    .n = ARRAY_SIZE(mod_e), .e = mod_e };
	struct ml_rec_modsyms m0 = { .lo = 1, .hi = 2, .module = NULL };
	struct rec_read_status st;
	struct rec_writer *w;
	struct got g = { 0 };
	int rc;

	rc = rec_writer_open(&w, tpath("rt.rec"));
	T_CHECK("records: open", rc == 0);
	if (rc)
		return;
	T_CHECK("records: put jitsyms", rec_put_jitsyms(w, 5, &j) == 0);
	T_CHECK("records: put empty jitsyms", rec_put_jitsyms(w, 6, &j0) == 0);
	T_CHECK("records: put modsyms", rec_put_modsyms(w, 7, &m) == 0);
	T_CHECK("records: put modsyms without module name", rec_put_modsyms(w, 8, &m0) == 0);
	T_CHECK("records: close", rec_writer_close(w) == 0);
	rc = rec_read(tpath("rt.rec"), &vis, &g, &st);
	T_CHECKF("records: read back cleanly", rc == 0 && st.bad_records == 0 &&
		 st.skipped_unknown == 0 && g.njit == 2 && g.nmod == 2,
		 "rc %d bad %lu unknown %lu jit %d mod %d", rc,
		 (unsigned long)st.bad_records, (unsigned long)st.skipped_unknown,
		 g.njit, g.nmod);
	T_CHECKF("records: every field and string survives",
		 !strcmp(g.dump,
			 "J5:[7f0000001000 80 instance void [MyApp] MyApp.Program::Main(string[])[QuickJitted]]"
			 "[7f0000002000 40 stub<1> AllocateTemporaryEntryPoints<PreStubWorker>]"
			 "[7f0000001000 100 instance void [MyApp] MyApp.Program::Main(string[])[OptimizedTier1]]"
			 "[7f0000003000 10 (null)];J6:;"
			 "M7:7f1000000000-7f1000004000+7f1000000000 /lib/libExample.so:"
			 "[1100 20 mmap_allocation][1120 30 free_all][1200 0 asm_entry];"
			 "M8:1-2+0 (null):;"),
		 "Got '%s'", g.dump);
}

/* Hand-made payloads: damage and newer writers. */
static void le32(u8 *p, u32 v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (u8)(v >> (8 * i));
}

static void le64(u8 *p, u64 v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (u8)(v >> (8 * i));
}

static const u8 hdr[24] = { 'M', 'A', 'P', 'L', 'E', 'A', 'K', 0,
			    1, 0, 0, 0, 24, 0, 0, 0 };

static int read_raw(const u8 *rec, size_t len, struct got *g,
		    struct rec_read_status *st)
{
	u8 *b = malloc(24 + len);
	int rc;

	memcpy(b, hdr, 24);
	memcpy(b + 24, rec, len);
	memset(g, 0, sizeof(*g));
	rc = rec_read_mem(b, 24 + len, &vis, g, st);
	free(b);
	return rc;
}

static void test_damage(void)
{
	struct rec_read_status st;
	struct got g;
	u8 rec[128];
	int rc;

	/* a newer writer: 24-byte elements (an unknown field) */
	memset(rec, 0, sizeof(rec));
	le32(rec, ML_REC_JITSYMS);
	le32(rec + 4, 56);	/* 16 + 8 + 24 + 4 + 1, padded */
	le32(rec + 16, 1);
	le32(rec + 20, 24);
	le64(rec + 24, 0x1000);
	le64(rec + 32, 0x20);
	le64(rec + 40, 0xdeadbeef);	/* the unknown field */
	le32(rec + 48, 1);
	rec[52] = 'f';
	rc = read_raw(rec, 56, &g, &st);
	T_CHECKF("jitsyms: larger elements skip the unknown fields",
		 rc == 0 && g.njit == 1 && !strcmp(g.dump, "J0:[1000 20 f];"),
		 "rc %d '%s'", rc, g.dump);

	/* element size below 16 is damage */
	le32(rec + 20, 8);
	rc = read_raw(rec, 56, &g, &st);
	T_CHECKF("jitsyms: element size below 16 is a bad record",
		 rc == 0 && g.njit == 0 && st.bad_records == 1, "rc %d", rc);

	/* an absurd count: no allocation, a bad record */
	le32(rec + 16, UINT32_MAX);
	le32(rec + 20, 16);
	rc = read_raw(rec, 56, &g, &st);
	T_CHECKF("jitsyms: absurd count is a bad record",
		 rc == 0 && g.njit == 0 && st.bad_records == 1, "rc %d", rc);

	/* modsyms whose module string runs past the payload */
	memset(rec, 0, sizeof(rec));
	le32(rec, ML_REC_MODSYMS);
	le32(rec + 4, 16 + 40);
	le64(rec + 16, 0x1000);
	le64(rec + 24, 0x2000);
	le64(rec + 32, 0);
	le32(rec + 40, 0);
	le32(rec + 44, 16);
	le32(rec + 48, 1000);	/* module length */
	rc = read_raw(rec, 56, &g, &st);
	T_CHECKF("modsyms: string past the end is a bad record",
		 rc == 0 && g.nmod == 0 && st.bad_records == 1, "rc %d", rc);

	/* a symbol cut in the middle */
	le32(rec + 40, 2);
	le32(rec + 48, 0);
	rc = read_raw(rec, 56, &g, &st);
	T_CHECKF("modsyms: count past the payload is a bad record",
		 rc == 0 && g.nmod == 0 && st.bad_records == 1, "rc %d", rc);

	/* an old reader's view: a NOTE after them still arrives, and a
	 * visitor without the new callbacks reads on */
	{
		struct rec_visitor old = { .note = v_note };
		struct rec_writer *w;
		struct ml_rec_jitsyms j = { .n = ARRAY_SIZE(jit_e), .e = jit_e };

		memset(&g, 0, sizeof(g));
		rc = rec_writer_open(&w, tpath("old.rec"));
		if (!rc) {
			rec_put_jitsyms(w, 1, &j);
			rec_put_note(w, 2, "after");
			rc = rec_writer_close(w);
		}
		if (!rc)
			rc = rec_read(tpath("old.rec"), &old, &g, &st);
		T_CHECKF("a reader that ignores the new types reads what follows",
			 rc == 0 && g.nother == 1 && st.records == 2, "rc %d", rc);
	}
}

static void test_too_big(void)
{
	struct rec_writer *w;
	size_t n = (ML_REC_MAX_SIZE / 20) + 10;
	struct ml_rec_sym *e = calloc(n, sizeof(*e));
	struct ml_rec_jitsyms j = { .n = n, .e = e };
	struct ml_rec_jitsyms bad = { .n = 3, .e = NULL };

	if (!e || rec_writer_open(&w, tpath("big.rec"))) {
		T_CHECK("too big: setup", 0);
		free(e);
		return;
	}
	T_CHECK("jitsyms over ML_REC_MAX_SIZE is -E2BIG", rec_put_jitsyms(w, 1, &j) == -E2BIG);
	T_CHECK("jitsyms without entries is -EINVAL", rec_put_jitsyms(w, 1, &bad) == -EINVAL);
	T_CHECK("writer usable after a refused table", rec_put_lost(w, 1, 1) == 0 &&
		rec_writer_close(w) == 0);
	free(e);
}

/* ---- the offline resolver ---- */

#define LIB_LO	0x7f1000000000ull
#define LIB_HI	0x7f1000004000ull
#define JIT_LO	0x7f0000000000ull
#define JIT_HI	0x7f0000010000ull
#define R2R_LO	0x7f2000000000ull
#define R2R2_LO	0x7f5000000000ull	/* a .dll with a method table */

static int write_sample(const char *path, bool tables)
{
	struct maps_entry me[] = {
		{ JIT_LO, JIT_HI, 0, 12, PROT_READ | PROT_EXEC, 1, 0, 1,
		  (char *)"/memfd:doublemapper (deleted)" },
		{ LIB_LO, LIB_LO + 0x1000, 0, 77, PROT_READ, 0, 8, 1, (char *)"/lib/libExample.so" },
		{ LIB_LO + 0x1000, LIB_HI, 0x1000, 77, PROT_READ | PROT_EXEC, 0, 8, 1,
		  (char *)"/lib/libExample.so" },
		{ R2R_LO, R2R_LO + 0x100000, 0, 78, PROT_READ | PROT_EXEC, 0, 8, 1,
		  (char *)"/usr/share/dotnet/System.Private.CoreLib.dll" },
		{ 0x7f3000000000ull, 0x7f3000001000ull, 0, 79, PROT_READ | PROT_EXEC, 0, 8, 1,
		  (char *)"/lib/libother.so" },
		{ R2R2_LO, R2R2_LO + 0x1000, 0, 80, PROT_READ | PROT_EXEC, 0, 8, 1,
		  (char *)"/fw/System.IO.MemoryMappedFiles.dll" },
	};
	struct ml_rec_target t = { .pid = 4242, .command = (char *)"app", .comm = (char *)"app" };
	struct ml_rec_maps m = { .purpose = ML_MAPS_BASELINE, .n = ARRAY_SIZE(me), .e = me };
	u64 pcs[] = { LIB_LO + 0x1110, JIT_LO + 0x1020 };
	struct ml_rec_stack s = { .id = 1, .n = 2, .pcs = pcs };
	struct ml_rec_frame f0 = { .f = { .pc = pcs[0], .kind = ML_FK_NATIVE, .line = 27,
					  .offset = 0x10, .symbol = (char *)"mmap_allocation",
					  .module = (char *)"/lib/libExample.so",
					  .file = (char *)"Example.c" } };
	struct ml_rec_frame f1 = { .f = { .pc = pcs[1], .kind = ML_FK_JIT, .offset = 0x1f,
					  .symbol = (char *)"MyApp.Program::Main(string[])",
					  .module = (char *)"MyApp", .tier = (char *)"QuickJitted" },
				   .return_address = 1 };
	struct ml_rec_jitsyms j = { .n = ARRAY_SIZE(jit_e), .e = jit_e };
	/* two chunks of one module, as a long table is written */
	struct ml_rec_modsyms m1 = { .lo = LIB_LO, .hi = LIB_HI, .bias = LIB_LO,
				     .module = (char *)"/lib/libExample.so", .n = 1, .e = mod_e };
	struct ml_rec_modsyms m2 = m1;
	/* a module with no function symbols (a stripped executable) */
	struct ml_rec_modsyms m3 = { .lo = 0x7f4000000000ull, .hi = 0x7f4000001000ull,
				     .bias = 0x7f4000000000ull, .module = (char *)"/app/MyApp" };
	/* ReadyToRun methods by RVA; RVA 0x10000 at R2R2_LO (symdump.c) */
	struct ml_rec_sym r2r_e[] = {
		{ 0x10200, 0x80, (char *)"Ns.C::M(int32)" },
	};
	struct ml_rec_modsyms m4 = { .lo = R2R2_LO, .hi = R2R2_LO + 0x1000,
				     .bias = R2R2_LO - 0x10000, .n = 1, .e = r2r_e,
				     .module = (char *)"/fw/System.IO.MemoryMappedFiles.dll" };
	struct rec_writer *w;
	int rc;

	m2.n = 2;
	m2.e = mod_e + 1;
	rc = rec_writer_open(&w, path);
	if (rc)
		return rc;
	rec_put_target(w, 1, &t);
	rec_put_maps(w, 1, &m);
	rec_put_stack(w, 2, &s);
	rec_put_frame(w, 3, &f0);
	rec_put_frame(w, 3, &f1);
	if (tables) {
		rec_put_jitsyms(w, 3, &j);
		rec_put_modsyms(w, 3, &m1);
		rec_put_modsyms(w, 3, &m2);
		rec_put_modsyms(w, 3, &m3);
		rec_put_modsyms(w, 3, &m4);
	}
	return rec_writer_close(w);
}

struct expect {
	const char *what;
	u64 pc;
	bool ra;
	u32 kind;
	const char *symbol, *module, *tier, *file;
	u64 offset;
	u32 line;
};

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static void check_name(struct recsyms *rs, const struct expect *x)
{
	struct ml_frame f;
	int rc = recsyms_name(rs, x->pc, x->ra, &f);

	T_CHECKF(x->what, rc == 0 && f.pc == x->pc && f.kind == x->kind &&
		 same(f.symbol, x->symbol) && same(f.module, x->module) &&
		 same(f.tier, x->tier) && same(f.file, x->file) &&
		 f.offset == x->offset && f.line == x->line,
		 "Expected kind %u %s+0x%lx [%s, %s] %s:%u, got rc %d kind %u %s+0x%lx [%s, %s] %s:%u",
		 x->kind, x->symbol, (unsigned long)x->offset, x->module, x->tier,
		 x->file, x->line, rc, f.kind, f.symbol, (unsigned long)f.offset,
		 f.module, f.tier, f.file, f.line);
	if (rc == 0)
		ml_frame_release(&f);
}

static void test_resolver(void)
{
	static const struct expect cases[] = {
		{ "resolver: a recorded stack pc gets its FRAME (file:line)",
		  LIB_LO + 0x1110, false, ML_FK_NATIVE, "mmap_allocation",
		  "/lib/libExample.so", NULL, "Example.c", 0x10, 27 },
		{ "resolver: a recorded return address asked as such gets its FRAME",
		  JIT_LO + 0x1020, true, ML_FK_JIT, "MyApp.Program::Main(string[])",
		  "MyApp", "QuickJitted", NULL, 0x1f, 0 },
		{ "resolver: an address inside a native function (no line)",
		  LIB_LO + 0x1130, false, ML_FK_NATIVE, "free_all",
		  "/lib/libExample.so", NULL, NULL, 0x10, 0 },
		{ "resolver: the first symbol of the first chunk",
		  LIB_LO + 0x1104, false, ML_FK_NATIVE, "mmap_allocation",
		  "/lib/libExample.so", NULL, NULL, 4, 0 },
		{ "resolver: a return address names the call before it",
		  LIB_LO + 0x1120, true, ML_FK_NATIVE, "mmap_allocation",
		  "/lib/libExample.so", NULL, NULL, 0x20, 0 },
		{ "resolver: a sizeless symbol holds what follows it",
		  LIB_LO + 0x1300, false, ML_FK_NATIVE, "asm_entry",
		  "/lib/libExample.so", NULL, NULL, 0x100, 0 },
		{ "resolver: in the module but before any symbol: file address",
		  LIB_LO + 0x1010, false, ML_FK_NATIVE, NULL,
		  "/lib/libExample.so", NULL, NULL, 0x1010, 0 },
		{ "resolver: inside JIT code, the later entry wins (tier)",
		  JIT_LO + 0x10c0, false, ML_FK_JIT, "MyApp.Program::Main(string[])",
		  "MyApp", "OptimizedTier1", NULL, 0xc0, 0 },
		{ "resolver: a .NET stub",
		  JIT_LO + 0x2008, false, ML_FK_STUB,
		  "stub<1> AllocateTemporaryEntryPoints<PreStubWorker>", "[jit]",
		  NULL, NULL, 8, 0 },
		{ "resolver: ReadyToRun code",
		  R2R_LO + 0x4242, false, ML_FK_R2R, NULL,
		  "/usr/share/dotnet/System.Private.CoreLib.dll", NULL, NULL, 0, 0 },
		{ "resolver: ReadyToRun code in a .dll's method table",
		  R2R2_LO + 0x220, false, ML_FK_R2R, "Ns.C::M(int32)",
		  "/fw/System.IO.MemoryMappedFiles.dll", NULL, NULL, 0x20, 0 },
		{ "resolver: ReadyToRun code no method holds: by RVA",
		  R2R2_LO + 0x900, false, ML_FK_R2R,
		  "[System.IO.MemoryMappedFiles.dll]+0x10900",
		  "/fw/System.IO.MemoryMappedFiles.dll", NULL, NULL, 0, 0 },
		{ "resolver: JIT memory with no name is unknown",
		  JIT_LO + 0x8000, false, ML_FK_UNKNOWN, NULL,
		  "/memfd:doublemapper (deleted)", NULL, NULL, 0, 0 },
		{ "resolver: code of a module outside every stack: native, no symbol",
		  0x7f3000000010ull, false, ML_FK_NATIVE, NULL, "/lib/libother.so",
		  NULL, NULL, 0, 0 },
		{ "resolver: a module without symbols: native, file address",
		  0x7f4000000010ull, false, ML_FK_NATIVE, NULL, "/app/MyApp",
		  NULL, NULL, 0x10, 0 },
		{ "resolver: an address in no mapping is unknown",
		  0x10, false, ML_FK_UNKNOWN, NULL, NULL, NULL, NULL, 0, 0 },
	};
	struct recsyms *rs = NULL;
	struct rec_read_status st;
	int rc;

	rc = write_sample(tpath("res.rec"), true);
	if (!rc)
		rc = recsyms_load(tpath("res.rec"), &rs, &st);
	T_CHECKF("resolver: loads a recording", rc == 0 && rs && recsyms_has_tables(rs) &&
		 recsyms_pid(rs) == 4242, "rc %d", rc);
	if (rc)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		check_name(rs, &cases[i]);
	recsyms_free(rs);

	/* a recording of an older mapleak: stack pcs only */
	rc = write_sample(tpath("old.rec"), false);
	if (!rc)
		rc = recsyms_load(tpath("old.rec"), &rs, &st);
	T_CHECKF("resolver: an older recording loads, without tables",
		 rc == 0 && rs && !recsyms_has_tables(rs), "rc %d", rc);
	if (rc)
		return;
	check_name(rs, &cases[0]);
	{
		/* the stack pc, asked the other way, still gets its FRAME */
		struct expect x = cases[1];

		x.what = "resolver: without tables a pc asked the other way gets its FRAME";
		x.ra = false;
		check_name(rs, &x);
	}
	recsyms_free(rs);

	T_CHECK("resolver: a missing file is -ENOENT",
		recsyms_load(tpath("none.rec"), &rs, &st) == -ENOENT && !rs);
	{
		FILE *f = fopen(tpath("junk.rec"), "w");

		fputs("not a recording at all, just text\n", f);
		fclose(f);
	}
	T_CHECK("resolver: a non-recording is -EBADMSG",
		recsyms_load(tpath("junk.rec"), &rs, &st) == -EBADMSG && !rs);
}

/* ---- fuzz seeds ---- */

static int write_seeds(const char *dir)
{
	const char *p = tpath("seed.rec");
	char out[512];
	u8 *buf;
	long len;
	FILE *f;
	int fails = 0;

	if (write_sample(p, true))
		return 1;
	f = fopen(p, "rb");
	if (!f || fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET))
		return 1;
	buf = malloc((size_t)len);
	if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len)
		return 1;
	fclose(f);
	/* the whole sample, then each JITSYMS/MODSYMS record alone */
	snprintf(out, sizeof(out), "%s/symtables.rec", dir);
	f = fopen(out, "wb");
	fails += !f || fwrite(buf, 1, (size_t)len, f) != (size_t)len;
	if (f)
		fclose(f);
	for (long off = 24, k = 0; off + 16 <= len; k++) {
		u32 type = buf[off] | (u32)buf[off + 1] << 8;
		u32 size = buf[off + 4] | (u32)buf[off + 5] << 8 | (u32)buf[off + 6] << 16;

		if (size < 16 || off + size > len)
			break;
		if (type == ML_REC_JITSYMS || type == ML_REC_MODSYMS) {
			snprintf(out, sizeof(out), "%s/one-sym-%02ld-type%u.rec", dir, k, type);
			f = fopen(out, "wb");
			fails += !f || fwrite(hdr, 1, 24, f) != 24 ||
				 fwrite(buf + off, 1, size, f) != size;
			if (f)
				fclose(f);
		}
		off += size;
	}
	free(buf);
	return fails ? 1 : 0;
}

static void cleanup(void)
{
	static const char *names[] = { "rt.rec", "old.rec", "big.rec", "res.rec",
				       "junk.rec", "seed.rec" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		unlink(tpath(names[i]));
	rmdir(tmpdir);
}

int main(int argc, char **argv)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	atexit(cleanup);
	if (argc == 3 && !strcmp(argv[1], "--seeds"))
		return write_seeds(argv[2]);
	test_roundtrip();
	test_damage();
	test_too_big();
	test_resolver();
	T_END();
}
