// SPDX-License-Identifier: MIT
/*
 * report/group.c: one leak, one site. A synthetic recording of a .NET
 * program whose one leak comes as three stacks (QuickJitted, Tier1 and
 * ReadyToRun code of the handler, one walk ending in junk), two native
 * stacks through one library function, and the GC's reservation with a
 * commit inside; loaded with each --group-by and checked site by site,
 * in text and JSON.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "record/record.h"
#include "report/analysis.h"
#include "report/formats.h"
#include "report/labels.h"
#include "report/report.h"
#include "track/stacks.h"

#define KiB 1024ULL
#define MiB (1024ULL * KiB)
#define T0 (100ULL * 1000000000ULL)
#define MS(x) (T0 + (u64)(x) * 1000000ULL)
#define RW (PROT_READ | PROT_WRITE)

#define LIBC "/usr/lib/x86_64-linux-gnu/libc.so.6"
#define CORECLR "/usr/share/dotnet/shared/Microsoft.NETCore.App/10.0.0/libcoreclr.so"

struct fr {
	u32 kind;
	const char *sym, *mod, *tier;
	u64 offset;		/* unnamed native frames: module offset */
};

struct stack_case {
	u32 flags;		/* ML_SF_* */
	struct fr f[6];
};

#define MMAP { ML_FK_NATIVE, "__mmap", LIBC, NULL, 0 }
#define MAIN_JIT { ML_FK_JIT, "App.Program::Main(string[])", "App", "QuickJitted", 0 }

/* stack ids are index + 1 */
static const struct stack_case stacks[] = {
	/* 1..3: one leak, three tiers; 1 ends in a frame known by address only */
	{ 0, { MMAP, { ML_FK_STUB, "IL_STUB_PInvoke", NULL, NULL, 0 },
	       { ML_FK_JIT, "App.Program::Handler()", "App", "QuickJitted", 0 },
	       MAIN_JIT, { ML_FK_UNKNOWN, NULL, NULL, NULL, 0 } } },
	{ 0, { MMAP, { ML_FK_STUB, "IL_STUB_PInvoke", NULL, NULL, 0 },
	       { ML_FK_JIT, "App.Program::Handler()", "App", "OptimizedTier1", 0 },
	       MAIN_JIT } },
	/* a walk cut short: its unnamed outer frames are junk, even in a module */
	{ ML_SF_TRUNCATED,
	     { MMAP, { ML_FK_STUB, "IL_STUB_PInvoke", NULL, NULL, 0 },
	       { ML_FK_R2R, "App.Program::Handler()", "/app/App.dll", NULL, 0 },
	       MAIN_JIT, { ML_FK_NATIVE, NULL, CORECLR, NULL, 0x1234 } } },
	/* 4: another method of the program: its own site */
	{ 0, { MMAP, { ML_FK_JIT, "App.Program::Other()", "App", "OptimizedTier1", 0 },
	       MAIN_JIT } },
	/* 5, 6: one library function called from two places of the program */
	{ 0, { MMAP, { ML_FK_NATIVE, "pool_grow", "/usr/lib/libpool.so", NULL, 0 },
	       { ML_FK_NATIVE, "load", "/opt/app/app", NULL, 0 },
	       { ML_FK_NATIVE, "main", "/opt/app/app", NULL, 0 } } },
	{ 0, { MMAP, { ML_FK_NATIVE, "pool_grow", "/usr/lib/libpool.so", NULL, 0 },
	       { ML_FK_NATIVE, "save", "/opt/app/app", NULL, 0 },
	       { ML_FK_NATIVE, "main", "/opt/app/app", NULL, 0 } } },
	/* 7: the GC reserves (stripped runtime: offsets only) */
	{ 0, { MMAP, { ML_FK_NATIVE, NULL, CORECLR, NULL, 0x2eb000 },
	       { ML_FK_NATIVE, NULL, CORECLR, NULL, 0x2ea000 } } },
	/* 8: and commits while the program allocates */
	{ 0, { { ML_FK_NATIVE, "__mprotect", LIBC, NULL, 0 },
	       { ML_FK_NATIVE, NULL, CORECLR, NULL, 0x2eb654 },
	       { ML_FK_JIT, "App.Program::Allocate()", "App", "QuickJitted", 0 },
	       MAIN_JIT } },
	/* 9: the runtime's own thread, nothing of the program's */
	{ 0, { MMAP, { ML_FK_NATIVE, NULL, CORECLR, NULL, 0x100 },
	       { ML_FK_NATIVE, "start_thread", LIBC, NULL, 0 } } },
	/* 10, 11: one awaited call, its continuation started inline by the
	 * caller or resumed on a pool thread */
	{ 0, { MMAP, { ML_FK_JIT, "Lib.Store::Save()", "Lib", "OptimizedTier1", 0 },
	       { ML_FK_JIT, "Lib.Store+<SaveAsync>d__3::MoveNext()", "Lib", "OptimizedTier1", 0 },
	       { ML_FK_R2R, "System.Runtime.CompilerServices.AsyncMethodBuilderCore::Start(!!0&)",
		 "System.Private.CoreLib.dll", NULL, 0 },
	       { ML_FK_JIT, "Lib.Store::SaveAsync()", "Lib", "OptimizedTier1", 0 } } },
	{ 0, { MMAP, { ML_FK_JIT, "Lib.Store::Save()", "Lib", "OptimizedTier1", 0 },
	       { ML_FK_JIT, "Lib.Store+<SaveAsync>d__3::MoveNext()", "Lib", "OptimizedTier1", 0 },
	       { ML_FK_R2R, "System.Threading.ExecutionContext::RunInternal()",
		 "System.Private.CoreLib.dll", NULL, 0 },
	       { ML_FK_R2R, "System.Threading.ThreadPoolWorkQueue::Dispatch()",
		 "System.Private.CoreLib.dll", NULL, 0 } } },
	/* 12: the runtime's start-up, called by the apphost (no symbols) */
	{ 0, { MMAP, { ML_FK_NATIVE, NULL, CORECLR, NULL, 0x61f9eb },
	       { ML_FK_NATIVE, "coreclr_initialize", CORECLR, NULL, 0 },
	       { ML_FK_NATIVE, "corehost_main", "/usr/share/dotnet/host/libhostpolicy.so", NULL, 0 },
	       { ML_FK_NATIVE, NULL, "/usr/share/dotnet/host/fxr/10.0.0/libhostfxr.so", NULL, 0x213bb },
	       { ML_FK_NATIVE, NULL, "/app/App", NULL, 0x82db } } },
	/* 13: a whole walk through JIT code nothing named: maybe the
	 * program's, so not the runtime's */
	{ 0, { MMAP, { ML_FK_NATIVE, NULL, CORECLR, NULL, 0x400 },
	       { ML_FK_UNKNOWN, NULL, NULL, NULL, 0 } } },
	/* 14, 15: walks in the stripped runtime cut short: its frames are
	 * all that tells them apart, they stay two sites */
	{ ML_SF_TRUNCATED, { MMAP, { ML_FK_NATIVE, NULL, CORECLR, NULL, 0x500 },
			     { ML_FK_NATIVE, NULL, CORECLR, NULL, 0x600 } } },
	{ ML_SF_TRUNCATED, { MMAP, { ML_FK_NATIVE, NULL, CORECLR, NULL, 0x500 },
			     { ML_FK_NATIVE, NULL, CORECLR, NULL, 0x700 } } },
};

#define H 0x7e0000000000ULL	/* the handler's leaks */
#define GC 0x7f0000000000ULL	/* the GC's reservation */
#define GC_SIZE (512 * MiB)
#define MISC 0x7e8000000000ULL

static char tmpdir[] = "/tmp/test-group.XXXXXX";
static char path[256];

static u64 pc_of(u32 id, u32 k)
{
	return 0x7fa000000000ULL + (u64)id * 0x100000 + k * 0x40 + 7;
}

static int put_stack(struct rec_writer *w, u32 id)
{
	const struct stack_case *c = &stacks[id - 1];
	u64 pcs[6];
	u32 n = 0;
	int err = 0;

	for (u32 k = 0; k < 6; k++)
		pcs[k] = pc_of(id, k);
	while (n < 6 && (c->f[n].sym || c->f[n].mod || c->f[n].kind))
		n++;
	if (id == 1)
		n = 5;	/* its last frame: ML_FK_UNKNOWN, nothing known */
	if (id == 13)
		n = 3;
	for (u32 k = 0; k < n && !err; k++) {
		struct ml_rec_frame f = { .return_address = k > 0 };

		if (c->f[k].kind == ML_FK_UNKNOWN)
			continue;	/* no FRAME record: an address only */
		f.f.pc = pcs[k];
		f.f.kind = c->f[k].kind;
		f.f.symbol = (char *)c->f[k].sym;
		f.f.module = (char *)c->f[k].mod;
		f.f.tier = (char *)c->f[k].tier;
		f.f.offset = c->f[k].sym ? 0x10 : c->f[k].offset;
		err = rec_put_frame(w, MS(5000), &f);
	}
	if (!err) {
		struct ml_rec_stack st = { .id = id, .flags = c->flags, .n = n, .pcs = pcs };

		err = rec_put_stack(w, MS(0), &st);
	}
	return err;
}

static int put_op(struct rec_writer *w, u32 kind, u32 stack, u64 t, u64 addr,
		  u64 len, u32 prot)
{
	struct ml_op op = { .kind = kind, .stack_id = stack, .time = t, .tid = 7 };

	if (kind == ML_OP_MMAP) {
		op.args[1] = len;
		op.args[2] = prot;
		op.args[3] = MAP_PRIVATE | MAP_ANONYMOUS;
		op.args[4] = (u64)-1;
		op.ret = (s64)addr;
	} else {
		op.args[0] = addr;
		op.args[1] = len;
		op.args[2] = prot;
	}
	return rec_put_op(w, &op);
}

static int write_recording(void)
{
	struct ml_rec_target tg = { .pid = 4242, .nspid = 4242, .start_time = T0,
				    .command = (char *)"dotnet App.dll",
				    .comm = (char *)"dotnet" };
	struct ml_rec_end end = { .stopped_by = ML_STOP_SIGNAL, .target_alive = 1,
				  .end_time = MS(6000), .events = 20, .exit_status = -1 };
	struct rec_writer *w;
	u64 t = 10;
	int err = rec_writer_open(&w, path);

	if (err)
		return err;
	err = rec_put_target(w, T0, &tg);
	for (u32 id = 1; id <= ARRAY_SIZE(stacks); id++)
		err = err ?: put_stack(w, id);
	/* the handler: 3 + 2 + 1 leaks of 1 MiB */
	for (int i = 0; i < 6; i++)
		err = err ?: put_op(w, ML_OP_MMAP, i < 3 ? 1 : i < 5 ? 2 : 3, MS(t++),
				    H + (u64)i * 2 * MiB, MiB, RW);
	err = err ?: put_op(w, ML_OP_MMAP, 4, MS(t++), MISC, 512 * KiB, RW);
	err = err ?: put_op(w, ML_OP_MMAP, 5, MS(t++), MISC + MiB, 256 * KiB, RW);
	err = err ?: put_op(w, ML_OP_MMAP, 6, MS(t++), MISC + 2 * MiB, 128 * KiB, RW);
	err = err ?: put_op(w, ML_OP_MMAP, 7, MS(t++), GC, GC_SIZE, PROT_NONE);
	err = err ?: put_op(w, ML_OP_MPROTECT, 8, MS(t++), GC, 8 * MiB, RW);
	err = err ?: put_op(w, ML_OP_MMAP, 9, MS(t++), MISC + 4 * MiB, 64 * KiB, RW);
	err = err ?: put_op(w, ML_OP_MMAP, 10, MS(t++), MISC + 5 * MiB, 32 * KiB, RW);
	err = err ?: put_op(w, ML_OP_MMAP, 11, MS(t++), MISC + 6 * MiB, 32 * KiB, RW);
	err = err ?: put_op(w, ML_OP_MMAP, 12, MS(t++), MISC + 7 * MiB, 16 * KiB, RW);
	err = err ?: put_op(w, ML_OP_MMAP, 13, MS(t++), MISC + 8 * MiB, 16 * KiB, RW);
	err = err ?: put_op(w, ML_OP_MMAP, 14, MS(t++), MISC + 9 * MiB, 4 * KiB, RW);
	err = err ?: put_op(w, ML_OP_MMAP, 15, MS(t++), MISC + 10 * MiB, 4 * KiB, RW);
	err = err ?: rec_put_end(w, MS(6000), &end);
	if (err) {
		rec_writer_abort(w);
		return err;
	}
	return rec_writer_close(w);
}

static const struct ml_site *site_of(const struct ml_result *r, u32 stack_id)
{
	for (size_t i = 0; i < r->nsites; i++)
		for (size_t v = 0; v < r->sites[i].nvariants; v++)
			if (r->sites[i].variants[v].stack_id == stack_id)
				return &r->sites[i];
	return NULL;
}

static char *emit(const char *format, const struct ml_result *r, u32 top)
{
	struct report_opts o = { .top = top };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc;

	if (!f)
		return NULL;
	rc = report_find(format)->emit(f, r, &o);
	fclose(f);
	if (rc) {
		free(buf);
		return NULL;
	}
	return buf;
}

static struct ml_result *load(unsigned flags)
{
	struct ml_result *r = NULL;
	int err = analysis_load_by(path, flags, &r);

	T_CHECKF("loads", err == 0 && r, "flags %#x: err %d", flags, err);
	return r;
}

static void test_default(void)
{
	struct ml_result *r = load(0);
	const struct ml_site *h, *gc;
	size_t ranked;

	if (!r)
		return;
	h = site_of(r, 1);
	T_CHECK("default: tiers, R2R and the junk tail are one site",
		h && h == site_of(r, 2) && h == site_of(r, 3));
	T_CHECKF("default: that site holds the 6 leaks", h && h->bytes == 6 * MiB &&
		 h->mappings == 6 && h->nregions == 6 && h->nvariants == 3,
		 "%llu bytes, %llu mappings, %zu variants",
		 h ? (unsigned long long)h->bytes : 0,
		 h ? (unsigned long long)h->mappings : 0, h ? h->nvariants : 0);
	T_CHECK("default: variants largest first, with their tiers",
		h && h->nvariants == 3 && h->variants[0].stack_id == 1 &&
		!strcmp(h->variants[0].tiers, "QuickJitted") &&
		h->variants[1].stack_id == 2 &&
		!strcmp(h->variants[1].tiers, "OptimizedTier1+QuickJitted") &&
		h->variants[2].stack_id == 3 && !strcmp(h->variants[2].tiers, "R2R+QuickJitted") &&
		h->variants[2].bytes == MiB && !strcmp(h->variants[0].differs, "QuickJitted") &&
		!strcmp(h->variants[1].differs, "OptimizedTier1 at #2") &&
		!strcmp(h->variants[2].differs, "R2R at #2"));
	T_CHECK("default: regions in address order",
		h && h->nregions == 6 && h->regions[0].start == H &&
		h->regions[5].start == H + 10 * MiB);
	T_CHECK("default: another method stays apart", site_of(r, 4) &&
		site_of(r, 4) != h && site_of(r, 4)->nvariants == 1);
	T_CHECK("default: two callers of one library function stay apart",
		site_of(r, 5) && site_of(r, 5) != site_of(r, 6));
	T_CHECK("default: past an async step, how it was scheduled does not split",
		site_of(r, 10) && site_of(r, 10) == site_of(r, 11) &&
		site_of(r, 10)->bytes == 64 * KiB &&
		!strcmp(site_of(r, 10)->variants[1].differs, "outer frames"));
	T_CHECK("default: the handler ranks first", r->nsites && &r->sites[0] == h);

	/* the GC: the commit labelled from its reservation, both apart */
	gc = site_of(r, 8);
	T_CHECKF("gc: a commit in the GC's reservation is labelled",
		 gc && gc->label && !strcmp(gc->label, LABEL_GC_COMMIT), "label %s",
		 gc && gc->label ? gc->label : "(none)");
	T_CHECK("gc: the reservation is labelled", site_of(r, 7) && site_of(r, 7)->label &&
		!strcmp(site_of(r, 7)->label, LABEL_GC_RESERVE));
	T_CHECK("gc: commit, reservation and the runtime's thread are the runtime's",
		gc && gc->runtime && site_of(r, 7)->runtime && site_of(r, 9) &&
		site_of(r, 9)->runtime && !h->runtime && !site_of(r, 4)->runtime);
	T_CHECK("runtime: its start-up from the apphost is the runtime's",
		site_of(r, 12) && site_of(r, 12)->runtime);
	T_CHECK("runtime: an unknown frame in a whole walk is not the runtime's",
		site_of(r, 13) && !site_of(r, 13)->runtime);
	T_CHECK("runtime: cut-short walks in the runtime are its own, apart",
		site_of(r, 14) && site_of(r, 14)->runtime && site_of(r, 15) &&
		site_of(r, 15) != site_of(r, 14));
	ranked = report_nshown(r, &(struct report_opts){ .top = 0 });
	T_CHECKF("gc: apart: last, not ranked", r->runtime_apart && r->nruntime == 6 &&
		 ranked == r->nsites - 6 && gc >= r->sites + ranked,
		 "%zu runtime, %zu ranked of %zu", r->nruntime, ranked, r->nsites);
	T_CHECKF("gc: runtime totals", r->runtime_bytes == GC_SIZE + 88 * KiB &&
		 r->runtime_reserved_bytes == GC_SIZE - 8 * MiB && r->runtime_mappings == 6,
		 "%llu bytes, %llu reserved", (unsigned long long)r->runtime_bytes,
		 (unsigned long long)r->runtime_reserved_bytes);

	{
		char *t = emit("text", r, 0);

		T_CHECK("text: the variants line",
			t && strstr(t, "  3 variants: QuickJitted: 3.0 MiB (stack 1), "
				    "OptimizedTier1 at #2: 2.0 MiB (stack 2), "
				    "R2R at #2: 1.0 MiB (stack 3, cut short)\n"));
		T_CHECK("text: the runtime line in the header",
			t && strstr(t, "\nruntime:  8.1 MiB in 6 mappings + 504.0 MiB reserved, "
				    "6 sites of the runtime's own"));
		T_CHECK("text: the runtime's sites listed apart, labelled",
			t && strstr(t, "the runtime's own memory, not ranked") &&
			strstr(t, "8.0 MiB in 1 mapping \u2014 " LABEL_GC_COMMIT));
		T_CHECK("text: no ranked site is the runtime's",
			t && !strstr(t, ", runtime\n"));
		free(t);
	}
	{
		char *j = emit("json", r, 0);
		json_t *doc = j ? json_loads(j, 0, NULL) : NULL;
		json_t *s0 = json_array_get(json_object_get(doc, "sites"), 0);
		json_t *v = json_object_get(s0, "variants");
		json_t *rt = json_object_get(doc, "runtime");

		T_CHECK("json: parses", doc != NULL);
		T_CHECK("json: the top site lists 3 variants with tiers",
			json_array_size(v) == 3 &&
			json_integer_value(json_object_get(json_array_get(v, 1), "stack_id")) == 2 &&
			!strcmp(json_string_value(json_object_get(json_array_get(v, 1), "tiers")) ?: "",
				"OptimizedTier1+QuickJitted") &&
			!strcmp(json_string_value(json_object_get(json_array_get(v, 1), "differs")) ?: "",
				"OptimizedTier1 at #2") &&
			json_is_false(json_object_get(s0, "runtime")));
		T_CHECK("json: runtime apart, its sites listed there",
			json_integer_value(json_object_get(rt, "bytes")) == (json_int_t)(GC_SIZE + 88 * KiB) &&
			json_is_false(json_object_get(rt, "ranked")) &&
			json_array_size(json_object_get(rt, "sites")) == 6 &&
			json_array_size(json_object_get(doc, "sites")) == r->nsites - 6);
		json_decref(doc);
		free(j);
	}
	analysis_free(r);
}

static void test_include_runtime(void)
{
	struct ml_result *r = load(ANALYSIS_INCLUDE_RUNTIME);

	if (!r)
		return;
	T_CHECK("include runtime: the GC commit ranks by its size (first)",
		r->nsites && r->sites[0].stack_id == 8 && r->sites[0].runtime &&
		!r->runtime_apart &&
		report_nshown(r, &(struct report_opts){ .top = 0 }) == r->nsites);
	{
		char *t = emit("text", r, 0);

		T_CHECK("include runtime: text says it is ranked",
			t && strstr(t, "ranked with the rest") && strstr(t, ", runtime\n"));
		free(t);
	}
	analysis_free(r);
}

static void test_stack(void)
{
	struct ml_result *r = load(ANALYSIS_GROUP_STACK);

	if (!r)
		return;
	T_CHECKF("stack: one site per stack", r->nsites == ARRAY_SIZE(stacks) &&
		 site_of(r, 1) != site_of(r, 2) && site_of(r, 1)->nvariants == 1 &&
		 site_of(r, 1)->bytes == 3 * MiB, "%zu sites", r->nsites);
	analysis_free(r);
}

static void test_function(void)
{
	struct ml_result *r = load(ANALYSIS_GROUP_FUNCTION);

	if (!r)
		return;
	T_CHECK("function: the library function's callers are one site",
		site_of(r, 5) && site_of(r, 5) == site_of(r, 6) &&
		site_of(r, 5)->bytes == 384 * KiB && site_of(r, 5)->nvariants == 2);
	T_CHECK("function: the handler is one site, Other another",
		site_of(r, 1) && site_of(r, 1) == site_of(r, 3) &&
		site_of(r, 1) != site_of(r, 4));
	T_CHECK("function: the runtime's thread keeps its own site",
		site_of(r, 9) && site_of(r, 9)->nvariants == 1);
	analysis_free(r);
}

static void test_module(void)
{
	struct ml_result *r = load(ANALYSIS_GROUP_MODULE);

	if (!r)
		return;
	T_CHECK("module: the handler and Other are the program's module",
		site_of(r, 1) && site_of(r, 1) == site_of(r, 4) &&
		site_of(r, 1)->bytes == 6 * MiB + 512 * KiB);
	T_CHECK("module: libpool.so is another",
		site_of(r, 5) && site_of(r, 5) == site_of(r, 6) && site_of(r, 5) != site_of(r, 1));
	analysis_free(r);
}

static void test_thread(void)
{
	struct ml_result *r = load(ANALYSIS_BY_THREAD);

	if (!r)
		return;
	T_CHECK("thread: composes with the default (one thread: same sites)",
		r->by_thread && site_of(r, 1) && site_of(r, 1) == site_of(r, 3) &&
		site_of(r, 1)->tid == 7);
	analysis_free(r);
}

int main(void)
{
	int err;

	if (!mkdtemp(tmpdir)) {
		T_CHECK("mkdtemp", false);
		T_END();
	}
	snprintf(path, sizeof(path), "%s/group.mlk", tmpdir);
	err = write_recording();
	T_CHECKF("recording written", err == 0, "err %d", err);
	if (!err) {
		test_default();
		test_include_runtime();
		test_stack();
		test_function();
		test_module();
		test_thread();
	}
	unlink(path);
	rmdir(tmpdir);
	T_END();
}
