// SPDX-License-Identifier: MIT
/*
 * report/: synthetic recordings written with the real rec_writer, loaded
 * with analysis_load(), checked site by site; JSON parsed back with
 * jansson; text checked for the lines an engineer reads.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "record/record.h"
#include "report/analysis.h"
#include "report/formats.h"
#include "report/report.h"
#include "track/stacks.h"

#define KiB 1024ULL
#define MiB (1024ULL * KiB)
/* The tables are of a 4 KiB-page machine (x86-64, most arm64). */
#define PG 4096ULL
#define T0 (100ULL * 1000000000ULL)
#define MS(x) (T0 + (u64)(x) * 1000000ULL)

/* addresses of the scenario */
#define A 0x7e0000000000ULL	/* stack 1: four 1 MiB leaks */
#define B 0x7e1000000000ULL	/* stack 2: mapped and unmapped */
#define C 0x7e2000000000ULL	/* stack 3: partial munmap */
#define D 0x7e3000000000ULL	/* stack 4 reserves, stack 5 commits */
#define E 0x7e4000000000ULL	/* stack 6: split by its own mprotect */

static const u64 s1_pcs[] = { 0x7f0000001234, 0x7f1000002000, 0x7f2000003000,
			      0x7f3000004000, 0x7f4000005000 };

static char tmpdir[] = "/tmp/test-report.XXXXXX";

struct scenario {
	bool resident;
	bool end;
	bool check;
	bool target_alive;
	u64 lost;
};

static int put_mmap(struct rec_writer *w, u32 stack, u64 t, u64 addr, u64 len,
		    u32 prot)
{
	struct ml_op op = { .kind = ML_OP_MMAP, .stack_id = stack, .time = t,
			    .tid = 4242 };

	op.args[1] = len;
	op.args[2] = prot;
	op.args[3] = MAP_PRIVATE | MAP_ANONYMOUS;
	op.args[4] = (u64)-1;
	op.ret = (s64)addr;
	return rec_put_op(w, &op);
}

static int put_range_op(struct rec_writer *w, u32 kind, u32 stack, u64 t,
			u64 addr, u64 len, u32 prot)
{
	struct ml_op op = { .kind = kind, .stack_id = stack, .time = t, .tid = 4242 };

	op.args[0] = addr;
	op.args[1] = len;
	op.args[2] = prot;
	return rec_put_op(w, &op);
}

static int put_frame(struct rec_writer *w, u64 pc, bool ra, u32 kind,
		     const char *sym, const char *mod, const char *file, u32 line,
		     const char *tier)
{
	struct ml_rec_frame f = { .return_address = ra };

	f.f.pc = pc;
	f.f.kind = kind;
	f.f.line = line;
	f.f.symbol = (char *)sym;
	f.f.module = (char *)mod;
	f.f.file = (char *)file;
	f.f.tier = (char *)tier;
	return rec_put_frame(w, MS(5000), &f);
}

static int put_stack(struct rec_writer *w, u32 id, const u64 *pcs, u32 n, u32 flags)
{
	struct ml_rec_stack s = { .id = id, .flags = flags, .n = n, .pcs = (u64 *)pcs };

	return rec_put_stack(w, MS(0), &s);
}

/* Writes the scenario; returns 0 or the first error. */
static int write_recording(const char *path, const struct scenario *sc)
{
	struct rec_writer *w;
	struct ml_rec_target tg = {
		.pid = 4242, .nspid = 4242, .stack_size = 16384,
		.start_time = T0, .start_realtime = 1700000000ULL * 1000000000ULL,
		.command = (char *)"dotnet MyConsoleApp.dll", .comm = (char *)"dotnet",
	};
	struct maps_entry me[] = {
		{ .start = 0x400000, .end = 0x401000, .prot = PROT_READ | PROT_EXEC,
		  .path = (char *)"/opt/app/app" },
		{ .start = 0x600000, .end = 0x602000, .prot = PROT_READ | PROT_WRITE,
		  .path = (char *)"/opt/app/app" },
		{ .start = 0x700000000000, .end = 0x700000001000,
		  .prot = PROT_READ | PROT_WRITE },
		{ .start = 0x7ffc00000000, .end = 0x7ffc00021000,
		  .prot = PROT_READ | PROT_WRITE, .path = (char *)"[stack]" },
	};
	struct ml_rec_maps maps = { .purpose = ML_MAPS_BASELINE, .n = ARRAY_SIZE(me), .e = me };
	static const u64 s3[] = { 0x7f5000000100 }, s4[] = { 0x7f5000000200 },
		s5[] = { 0x7f5000000300 }, s6[] = { 0x7f5000000400 }, s2[] = { 0x7f5000000500 };
	struct ml_rec_resident_entry re[] = {
		{ A, A + MiB, MiB, 0 },
		{ A + MiB, A + 2 * MiB, MiB, 0 },
		{ 0x600000, 0x602000, 8192, 0 },	/* baseline: not a site's */
		{ A + 4 * MiB, A + 5 * MiB, MiB, 0 },
		{ A + 8 * MiB, A + 9 * MiB, 512 * KiB, 0 },
		{ C, C + 3 * PG, 3 * PG, 0 },
		{ C + 5 * PG, C + 8 * PG, 2 * PG, 0 },
		{ D, D + 4 * PG, 2 * PG, 0 },
		{ E, E + 4 * PG, 3 * PG, 0 },	/* spans three pieces: prorated */
	};
	struct ml_rec_resident res = { .n = ARRAY_SIZE(re), .e = re };
	struct ml_rec_check chk = { .kernel_pages = 1052, .model_pages = 1052,
				    .reconciled = sc->lost ? 1 : 0 };
	struct ml_rec_end end = { .stopped_by = ML_STOP_EXIT,
				  .target_alive = sc->target_alive,
				  .end_time = MS(5500), .events = 20,
				  .lost = sc->lost, .exit_status = -1 };
	int err = rec_writer_open(&w, path);

	if (err)
		return err;
	err = rec_put_target(w, T0, &tg);
	err = err ?: rec_put_maps(w, T0, &maps);
	err = err ?: rec_put_note(w, T0, "no perf map: start the target with DOTNET_PerfMapEnabled=1");
	err = err ?: put_stack(w, 1, s1_pcs, ARRAY_SIZE(s1_pcs), 0);
	err = err ?: put_stack(w, 2, s2, 1, 0);
	err = err ?: put_stack(w, 3, s3, 1, ML_SF_TRUNCATED);
	err = err ?: put_stack(w, 4, s4, 1, 0);
	err = err ?: put_stack(w, 5, s5, 1, 0);
	err = err ?: put_stack(w, 6, s6, 1, 0);
	/* stack 1: adjacent leaks at different times stay separate mappings */
	err = err ?: put_mmap(w, 1, MS(100), A, MiB, PROT_READ | PROT_WRITE);
	err = err ?: put_mmap(w, 1, MS(200), A + MiB, MiB, PROT_READ | PROT_WRITE);
	err = err ?: put_mmap(w, 1, MS(300), A + 4 * MiB, MiB, PROT_READ | PROT_WRITE);
	err = err ?: put_mmap(w, 2, MS(400), B, 8 * PG, PROT_READ | PROT_WRITE);
	err = err ?: put_range_op(w, ML_OP_MUNMAP, 0, MS(500), B, 8 * PG, 0);
	err = err ?: put_mmap(w, 3, MS(600), C, 8 * PG, PROT_READ | PROT_WRITE);
	err = err ?: put_range_op(w, ML_OP_MUNMAP, 0, MS(700), C + 3 * PG, 2 * PG, 0);
	err = err ?: put_mmap(w, 4, MS(800), D, 16 * PG, PROT_NONE);
	err = err ?: put_range_op(w, ML_OP_MPROTECT, 5, MS(900), D, 4 * PG,
				  PROT_READ | PROT_WRITE);
	err = err ?: put_mmap(w, 6, MS(1000), E, 4 * PG, PROT_READ | PROT_WRITE);
	err = err ?: put_range_op(w, ML_OP_MPROTECT, 6, MS(1100), E + PG, PG, PROT_READ);
	err = err ?: put_range_op(w, ML_OP_MUNMAP, 0, MS(1200), 0x700000000000, PG, 0);
	if (sc->lost)
		err = err ?: rec_put_lost(w, MS(1300), sc->lost);
	err = err ?: put_mmap(w, 1, MS(3400), A + 8 * MiB, MiB, PROT_READ | PROT_WRITE);

	err = err ?: put_frame(w, s1_pcs[0], false, ML_FK_NATIVE, "mmap_allocation",
			       "/opt/app/libExample_18_1_5.so", "/src/demo/Example.c", 17, NULL);
	/* same pc named as a return address: must not be used for pcs[0] */
	err = err ?: put_frame(w, s1_pcs[0], true, ML_FK_NATIVE, "WRONG_ra", NULL, NULL, 0, NULL);
	err = err ?: put_frame(w, s1_pcs[1], true, ML_FK_STUB, "IL_STUB_PInvoke", NULL, NULL, 0, NULL);
	err = err ?: put_frame(w, s1_pcs[1], false, ML_FK_NATIVE, "WRONG_pc", NULL, NULL, 0, NULL);
	err = err ?: put_frame(w, s1_pcs[2], true, ML_FK_JIT, "MyConsoleApp.Program::MyTest()",
			       "MyConsoleApp", NULL, 0, "QuickJitted");
	err = err ?: put_frame(w, s1_pcs[3], true, ML_FK_UNKNOWN, NULL, "/memfd:doublemapper",
			       NULL, 0, NULL);
	/* s1_pcs[4] has no FRAME record */
	err = err ?: put_frame(w, s3[0], false, ML_FK_NATIVE, "grow_pool", "/usr/lib/libpool.so",
			       NULL, 0, NULL);

	if (sc->resident)
		err = err ?: rec_put_resident(w, MS(5500), &res);
	if (sc->check)
		err = err ?: rec_put_check(w, MS(5500), &chk);
	if (sc->end)
		err = err ?: rec_put_end(w, MS(5500), &end);
	if (err) {
		rec_writer_abort(w);
		return err;
	}
	return rec_writer_close(w);
}

static char *path_in_tmp(const char *name)
{
	static char buf[8][256];
	static int i;
	char *p = buf[i++ % 8];

	snprintf(p, 256, "%s/%s", tmpdir, name);
	return p;
}

static const struct ml_site *site_by_stack(const struct ml_result *r, u32 id)
{
	size_t i;

	for (i = 0; i < r->nsites; i++)
		if (r->sites[i].stack_id == id)
			return &r->sites[i];
	return NULL;
}

static bool has_note(const struct ml_result *r, const char *needle)
{
	size_t i;

	for (i = 0; i < r->nnotes; i++)
		if (strstr(r->notes[i], needle))
			return true;
	return false;
}

/* Emits into memory; returns the text (free it) or NULL. */
static char *emit(const char *format, const struct ml_result *r, u32 top,
		  bool regions, int *rc)
{
	const struct report_ops *ops = report_find(format);
	struct report_opts o = { .top = top, .regions = regions };
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	*rc = -EINVAL;
	if (!ops)
		return NULL;
	f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	*rc = ops->emit(f, r, &o);
	fclose(f);
	return buf;
}

static void test_full(void)
{
	struct scenario sc = { .resident = true, .end = true, .check = true,
			       .target_alive = true };
	const char *p = path_in_tmp("full.mlk");
	const struct ml_site *s;
	struct ml_result *r = NULL;
	int err;

	err = write_recording(p, &sc);
	T_CHECKF("full: recording written", err == 0, "err %d", err);
	err = analysis_load(p, &r);
	T_CHECKF("full: loads", err == 0 && r, "err %d", err);
	if (err || !r)
		return;

	T_CHECK("full: target", r->have_target && r->target.pid == 4242 &&
		!strcmp(r->target.command, "dotnet MyConsoleApp.dll"));
	T_CHECKF("full: duration from END", r->duration_s > 5.4999 && r->duration_s < 5.5001,
		 "got %f", r->duration_s);
	T_CHECK("full: events and lost", r->events == 20 && r->lost == 0);
	T_CHECKF("full: 5 sites (the freed one is gone)", r->nsites == 5, "got %zu", r->nsites);
	T_CHECK("full: only the recorded note", r->nnotes == 1 &&
		strstr(r->notes[0], "DOTNET_PerfMapEnabled"));
	if (r->nsites != 5)
		goto out;
	T_CHECKF("full: ranked by committed bytes, ties by stack id",
		 r->sites[0].stack_id == 1 && r->sites[1].stack_id == 3 &&
		 r->sites[2].stack_id == 5 && r->sites[3].stack_id == 6 &&
		 r->sites[4].stack_id == 4, "got %u %u %u %u %u",
		 r->sites[0].stack_id, r->sites[1].stack_id, r->sites[2].stack_id,
		 r->sites[3].stack_id, r->sites[4].stack_id);

	s = site_by_stack(r, 1);
	T_CHECKF("full: leak site bytes/mappings", s->bytes == 4 * MiB &&
		 s->reserved_bytes == 0 && s->mappings == 4 && s->nregions == 4,
		 "bytes %llu mappings %llu", (unsigned long long)s->bytes,
		 (unsigned long long)s->mappings);
	T_CHECKF("full: leak site since", s->first_time == 100000000ULL &&
		 s->last_time == 3400000000ULL, "got %llu..%llu",
		 (unsigned long long)s->first_time, (unsigned long long)s->last_time);
	T_CHECKF("full: leak site resident", s->resident_known &&
		 s->resident_bytes == 3 * MiB + 512 * KiB, "got %llu",
		 (unsigned long long)s->resident_bytes);
	T_CHECK("full: leak site frames", s->nframes == 5 &&
		s->frames[0].pc == s1_pcs[0] && s->frames[0].kind == ML_FK_NATIVE &&
		!strcmp(s->frames[0].symbol, "mmap_allocation") &&
		!strcmp(s->frames[0].file, "/src/demo/Example.c") && s->frames[0].line == 17 &&
		s->frames[1].kind == ML_FK_STUB &&
		!strcmp(s->frames[1].symbol, "IL_STUB_PInvoke") &&
		s->frames[2].kind == ML_FK_JIT && !strcmp(s->frames[2].tier, "QuickJitted") &&
		s->frames[3].kind == ML_FK_UNKNOWN && !s->frames[3].symbol &&
		!strcmp(s->frames[3].module, "/memfd:doublemapper") &&
		s->frames[4].pc == s1_pcs[4] && s->frames[4].kind == ML_FK_UNKNOWN &&
		!s->frames[4].symbol && !s->frames[4].module && !s->frames[4].file);

	s = site_by_stack(r, 3);
	T_CHECKF("full: partial munmap leaves two pieces", s->bytes == 6 * PG &&
		 s->mappings == 2 && s->resident_known && s->resident_bytes == 5 * PG &&
		 (s->stack_flags & ML_SF_TRUNCATED), "bytes %llu mappings %llu res %llu",
		 (unsigned long long)s->bytes, (unsigned long long)s->mappings,
		 (unsigned long long)s->resident_bytes);
	s = site_by_stack(r, 4);
	T_CHECKF("full: reservation keeps the PROT_NONE rest", s->bytes == 12 * PG &&
		 s->reserved_bytes == 12 * PG && s->mappings == 1 && !s->resident_known,
		 "bytes %llu reserved %llu", (unsigned long long)s->bytes,
		 (unsigned long long)s->reserved_bytes);
	s = site_by_stack(r, 5);
	T_CHECKF("full: commit goes to the mprotect caller", s->bytes == 4 * PG &&
		 s->reserved_bytes == 0 && s->mappings == 1 && s->first_time == 900000000ULL &&
		 s->resident_bytes == 2 * PG, "bytes %llu", (unsigned long long)s->bytes);
	s = site_by_stack(r, 6);
	T_CHECKF("full: mprotect pieces of one call count once", s->bytes == 4 * PG &&
		 s->nregions == 3 && s->mappings == 1 && s->resident_known &&
		 s->resident_bytes == 3 * PG, "regions %zu mappings %llu res %llu",
		 s->nregions, (unsigned long long)s->mappings,
		 (unsigned long long)s->resident_bytes);
	T_CHECK("full: freed site absent", site_by_stack(r, 2) == NULL);

	T_CHECKF("full: baseline (pseudo and unmapped regions dropped)",
		 r->baseline_bytes == 3 * PG && r->baseline_mappings == 2 && r->nbaseline == 2,
		 "bytes %llu mappings %llu", (unsigned long long)r->baseline_bytes,
		 (unsigned long long)r->baseline_mappings);
	T_CHECKF("full: live totals", r->live_bytes == 4 * MiB + 26 * PG &&
		 r->live_reserved_bytes == 12 * PG && r->live_mappings == 9,
		 "bytes %llu mappings %llu", (unsigned long long)r->live_bytes,
		 (unsigned long long)r->live_mappings);
out:
	analysis_free(r);
}

static json_t *get(json_t *o, const char *path)
{
	char key[64];
	const char *dot;

	while (o && (dot = strchr(path, '.'))) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		o = json_object_get(o, key);
		path = dot + 1;
	}
	return o ? json_object_get(o, path) : NULL;
}

static bool is_int(json_t *v, long long want)
{
	return json_is_integer(v) && json_integer_value(v) == want;
}

static bool is_str(json_t *v, const char *want)
{
	return json_is_string(v) && !strcmp(json_string_value(v), want);
}

static void test_json(void)
{
	struct scenario sc = { .resident = true, .end = true, .check = true,
			       .target_alive = true };
	const char *p = path_in_tmp("json.mlk");
	struct ml_result *r = NULL;
	json_error_t jerr;
	json_t *doc, *sites, *s0, *fr, *v;
	char *out;
	int rc;

	if (write_recording(p, &sc) || analysis_load(p, &r)) {
		T_CHECK("json: scenario loads", false);
		return;
	}
	out = emit("json", r, 0, false, &rc);
	T_CHECKF("json: emitted", rc == 0 && out, "rc %d", rc);
	doc = out ? json_loads(out, 0, &jerr) : NULL;
	T_CHECKF("json: one valid document", doc != NULL, "%s", out ? jerr.text : "");
	if (!doc)
		goto out;
	T_CHECK("json: target", is_int(get(doc, "target.pid"), 4242) &&
		is_str(get(doc, "target.command"), "dotnet MyConsoleApp.dll"));
	v = get(doc, "duration_s");
	T_CHECK("json: duration_s is a number", json_is_number(v) &&
		json_number_value(v) > 5.4999 && json_number_value(v) < 5.5001);
	T_CHECK("json: stopped_by", is_str(get(doc, "stopped_by"), "exit"));
	T_CHECK("json: events", is_int(get(doc, "events.total"), 20) &&
		is_int(get(doc, "events.lost"), 0));
	T_CHECK("json: baseline", is_int(get(doc, "baseline.bytes"), 3 * PG) &&
		is_int(get(doc, "baseline.mappings"), 2));
	T_CHECK("json: live", is_int(get(doc, "live.bytes"), 4 * MiB + 26 * PG) &&
		is_int(get(doc, "live.mappings"), 9));
	T_CHECK("json: check agrees", json_is_true(get(doc, "check.agree")) &&
		is_int(get(doc, "check.kernel_pages"), 1052));
	T_CHECK("json: notes", json_array_size(get(doc, "notes")) == 1);
	T_CHECK("json: no baseline_regions without --regions",
		get(doc, "baseline_regions") == NULL);
	sites = get(doc, "sites");
	T_CHECK("json: all sites with top 0", json_array_size(sites) == 5);
	s0 = json_array_get(sites, 0);
	T_CHECK("json: site 0 sizes", is_int(get(s0, "bytes"), 4 * MiB) &&
		is_int(get(s0, "reserved_bytes"), 0) &&
		is_int(get(s0, "resident_bytes"), 3 * MiB + 512 * KiB) &&
		is_int(get(s0, "mappings"), 4));
	T_CHECK("json: no regions without --regions", get(s0, "regions") == NULL);
	fr = get(s0, "frames");
	T_CHECK("json: 5 frames", json_array_size(fr) == 5);
	v = json_array_get(fr, 0);
	T_CHECK("json: native frame", is_str(get(v, "address"), "0x7f0000001234") &&
		is_str(get(v, "symbol"), "mmap_allocation") &&
		is_str(get(v, "module"), "/opt/app/libExample_18_1_5.so") &&
		is_str(get(v, "file"), "/src/demo/Example.c") &&
		is_int(get(v, "line"), 17) && is_str(get(v, "kind"), "native"));
	v = json_array_get(fr, 2);
	T_CHECK("json: jit frame", is_str(get(v, "kind"), "jit") &&
		is_str(get(v, "symbol"), "MyConsoleApp.Program::MyTest()") &&
		json_is_null(get(v, "file")) && json_is_null(get(v, "line")));
	v = json_array_get(fr, 4);
	T_CHECK("json: unknown frame has nulls", is_str(get(v, "kind"), "unknown") &&
		json_is_null(get(v, "symbol")) && json_is_null(get(v, "module")) &&
		json_is_null(get(v, "file")) && json_is_null(get(v, "line")));
	v = json_array_get(sites, 4);
	T_CHECK("json: resident null where unknown", json_is_null(get(v, "resident_bytes")) &&
		is_int(get(v, "reserved_bytes"), 12 * PG));
	json_decref(doc);
	free(out);

	out = emit("json", r, 2, true, &rc);
	doc = out ? json_loads(out, 0, &jerr) : NULL;
	T_CHECK("json --top 2 --regions: valid", rc == 0 && doc);
	if (!doc)
		goto out;
	sites = get(doc, "sites");
	T_CHECK("json --top 2: two sites", json_array_size(sites) == 2 &&
		is_int(get(doc, "sites_total"), 5));
	v = get(json_array_get(sites, 1), "regions");
	T_CHECK("json --regions: site regions", json_array_size(v) == 2 &&
		is_str(get(json_array_get(v, 0), "start"), "0x7e2000000000") &&
		is_int(get(json_array_get(v, 0), "size"), 3 * PG) &&
		is_str(get(json_array_get(v, 0), "prot"), "rw-"));
	v = get(doc, "baseline_regions");
	T_CHECK("json --regions: baseline regions", json_array_size(v) == 2 &&
		is_str(get(json_array_get(v, 0), "prot"), "r-x") &&
		is_str(get(json_array_get(v, 0), "start"), "0x400000"));
	json_decref(doc);
out:
	free(out);
	analysis_free(r);
}

static bool has(const char *text, const char *needle)
{
	bool ok = text && strstr(text, needle);

	if (!ok)
		printf("# missing: %s\n", needle);
	return ok;
}

static void test_text(void)
{
	struct scenario sc = { .resident = true, .end = true, .check = true,
			       .target_alive = true };
	const char *p = path_in_tmp("text.mlk");
	struct ml_result *r = NULL;
	char *out;
	int rc;

	if (write_recording(p, &sc) || analysis_load(p, &r)) {
		T_CHECK("text: scenario loads", false);
		return;
	}
	out = emit("text", r, 2, false, &rc);
	T_CHECK("text: emitted", rc == 0 && out);
	T_CHECK("text: target", has(out, "pid 4242 'dotnet MyConsoleApp.dll'"));
	T_CHECK("text: duration and events", has(out, "5.5s") && has(out, "20 events, 0 lost"));
	T_CHECK("text: live totals", has(out, "4.1 MiB in 9 mappings + 48.0 KiB reserved"));
	T_CHECK("text: baseline", has(out, "12.0 KiB in 2 mappings"));
	T_CHECK("text: check", has(out, "check:    live set + baseline match /proc/4242/maps exactly (1052 pages)"));
	T_CHECK("text: note", has(out, "note:     no perf map"));
	T_CHECK("text: one-line summary of the top site",
		has(out, "#1 4.0 MiB in 4 mappings, held by mmap_allocation "
			 "(libExample_18_1_5.so, Example.c:17) <- IL_STUB_PInvoke <- "
			 "MyConsoleApp.Program::MyTest()\n"));
	T_CHECK("text: site 1 header", has(out, "#1  4.0 MiB in 4 mappings, resident 3.5 MiB, +0.1s..+3.4s\n"));
	T_CHECK("text: native frame", has(out, "  #0 mmap_allocation (libExample_18_1_5.so) Example.c:17\n"));
	T_CHECK("text: stub frame", has(out, "  #1 IL_STUB_PInvoke [stub]\n"));
	T_CHECK("text: jit frame", has(out, "  #2 MyConsoleApp.Program::MyTest() [jit QuickJitted, MyConsoleApp]\n"));
	T_CHECK("text: unknown frame in memfd", has(out, "  #3 0x7f3000004000 [unknown] (in /memfd:doublemapper)\n"));
	T_CHECK("text: unknown frame", has(out, "  #4 0x7f4000005000 [unknown]\n"));
	T_CHECK("text: site 2 truncated", has(out, "#2  24.0 KiB in 2 mappings, resident 20.0 KiB, at +0.6s\n") &&
		has(out, "  #0 grow_pool (libpool.so)\n") && has(out, "(stack truncated)"));
	T_CHECK("text: not shown summary", has(out, "... and 3 more sites holding 32.0 KiB + 48.0 KiB reserved; use --top 0\n"));
	T_CHECK("text: no regions without --regions", out && !strstr(out, "regions:"));
	T_CHECK("text: no lost warning", out && !strstr(out, "LOST"));
	free(out);

	out = emit("text", r, 0, true, &rc);
	T_CHECK("text --top 0 --regions: all sites, no summary",
		rc == 0 && has(out, "#5  0 B in 1 mapping + 48.0 KiB reserved") &&
		!strstr(out, "more site"));
	T_CHECK("text --regions: regions listed",
		has(out, "    0x7e3000004000-0x7e3000010000 --- ") &&
		has(out, "baseline regions:\n    0x400000-0x401000 r-x "));
	free(out);
	analysis_free(r);
}

/* ---- the headline ---- */

#define N ML_FK_NATIVE
#define J ML_FK_JIT
#define S ML_FK_STUB

/* Frames "symbol|module|kind", innermost first; "" symbol = unnamed. */
struct hf {
	const char *sym, *mod;
	u32 kind;
	const char *file;
	u32 line;
};

static void make_site(struct ml_site *s, struct ml_frame *fr,
		      const struct hf *h, size_t n)
{
	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < n; i++)
		fr[i] = (struct ml_frame){
			.pc = 0x7f0000001000 + i * 0x10, .kind = h[i].kind,
			.offset = 0x40, .symbol = h[i].sym[0] ? (char *)h[i].sym : NULL,
			.module = (char *)h[i].mod, .file = (char *)h[i].file,
			.line = h[i].line };
	s->frames = fr;
	s->nframes = (u32)n;
	s->bytes = 1 << 20;
	s->mappings = 1;
}

/* The headline's symbols joined by ' ', "+" when more follow. */
static const char *headline_of(const struct hf *h, size_t n, size_t max)
{
	static char buf[512];
	struct ml_frame fr[16];
	struct ml_site s;
	u32 idx[16];
	bool more;
	size_t k, len = 0;

	make_site(&s, fr, h, n);
	k = report_headline(&s, idx, max, &more);
	buf[0] = '\0';
	for (size_t i = 0; i < k; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s",
					i ? " " : "",
					fr[idx[i]].symbol ? fr[idx[i]].symbol : "?");
	if (more)
		snprintf(buf + len, sizeof(buf) - len, " +");
	return buf;
}

#define HL(h, max) headline_of(h, ARRAY_SIZE(h), max)
#define HEQ(name, got, want) T_CHECKF(name, !strcmp(got, want), \
				      "Expected: '%s' Got: '%s'", want, got)

static void test_headline(void)
{
	static const char *libc = "/usr/lib/x86_64-linux-gnu/libc.so.6";
	static const char *ld = "/usr/lib64/ld-linux-x86-64.so.2";
	static const char *app = "/opt/app/bin/app";
	const struct hf sqlite[] = {
		{ "__mmap", libc, N, NULL, 0 }, { "", "/usr/lib/libsqlite3.so.0", N, NULL, 0 },
		{ "", "/usr/lib/libsqlite3.so.0", N, NULL, 0 },
		{ "sqlite3_step", "/usr/lib/libsqlite3.so.0", N, NULL, 0 },
		{ "", "/usr/lib/libsqlite3.so.0", N, NULL, 0 },
		{ "run_query", app, N, NULL, 0 }, { "main", app, N, NULL, 0 },
		{ "__libc_start_call_main", libc, N, NULL, 0 }, { "_start", app, N, NULL, 0 },
	};
	const struct hf big_malloc[] = {
		{ "__mmap", libc, N, NULL, 0 }, { "sysmalloc", libc, N, NULL, 0 },
		{ "_int_malloc", libc, N, NULL, 0 }, { "__libc_malloc", libc, N, NULL, 0 },
		{ "leak_big", app, N, NULL, 0 }, { "main", app, N, NULL, 0 },
		{ "__libc_start_call_main", libc, N, NULL, 0 },
	};
	const struct hf cxx_new[] = {
		{ "mmap64", libc, N, NULL, 0 }, { "__libc_malloc", libc, N, NULL, 0 },
		{ "operator new(unsigned long)", "/usr/lib/libstdc++.so.6", N, NULL, 0 },
		{ "Cache::grow()", app, N, NULL, 0 }, { "main", app, N, NULL, 0 },
	};
	const struct hf printf_buf[] = {
		{ "__mmap", libc, N, NULL, 0 }, { "sysmalloc", libc, N, NULL, 0 },
		{ "__libc_malloc", libc, N, NULL, 0 }, { "_IO_file_doallocate", libc, N, NULL, 0 },
		{ "printf", libc, N, NULL, 0 }, { "main", app, N, NULL, 0 },
	};
	const struct hf numpy[] = {
		{ "__mmap", libc, N, NULL, 0 }, { "__libc_malloc", libc, N, NULL, 0 },
		{ "", "/py/numpy/_multiarray_umath.so", N, NULL, 0 },
		{ "PyArray_NewFromDescr_int", "/py/numpy/_multiarray_umath.so", N, NULL, 0 },
		{ "", "/usr/bin/python3.11", N, NULL, 0 },
		{ "_PyEval_EvalFrameDefault", "/usr/bin/python3.11", N, NULL, 0 },
	};
	const struct hf dotnet[] = {
		{ "__mmap", libc, N, NULL, 0 },
		{ "mmap_allocation", "/opt/app/libExample.so", N, "/src/Example.c", 27 },
		{ "IL_STUB_PInvoke", "[jit]", S, NULL, 0 },
		{ "MyConsoleApp.Program::MyTest()", "MyConsoleApp", J, NULL, 0 },
		{ "MyConsoleApp.Program::Main(string[])", "MyConsoleApp", J, NULL, 0 },
		{ "", "/usr/share/dotnet/libcoreclr.so", N, NULL, 0 },
		{ "coreclr_execute_assembly", "/usr/share/dotnet/libcoreclr.so", N, NULL, 0 },
		{ "run_app_for_context", "/usr/share/dotnet/libhostpolicy.so", N, NULL, 0 },
		{ "main", "/usr/share/dotnet/dotnet", N, NULL, 0 },
		{ "__libc_start_call_main", libc, N, NULL, 0 },
	};
	const struct hf gc[] = {
		{ "__mmap", libc, N, NULL, 0 }, { "", "/usr/share/dotnet/libcoreclr.so", N, NULL, 0 },
		{ "", "/usr/share/dotnet/libcoreclr.so", N, NULL, 0 },
		{ "App.Cache::Fill()", "App", J, NULL, 0 }, { "App.Program::Main(string[])", "App", J, NULL, 0 },
	};
	const struct hf unnamed[] = {
		{ "", "/memfd:doublemapper (deleted)", N, NULL, 0 }, { "", NULL, 0, NULL, 0 },
	};
	const struct hf loader[] = {
		{ "__mmap64", ld, N, NULL, 0 }, { "_dl_map_segments", ld, N, NULL, 0 },
		{ "_dl_map_object", ld, N, NULL, 0 }, { "_dl_start_user", ld, N, NULL, 0 },
	};
	const struct hf node_only[] = {
		{ "__mmap", libc, N, NULL, 0 },
		{ "sysmalloc_mmap.constprop.0", libc, N, NULL, 0 },
		{ "sysmalloc", libc, N, NULL, 0 }, { "__libc_calloc", libc, N, NULL, 0 },
		{ "node::NodeArrayBufferAllocator::Allocate(unsigned long)",
		  "/usr/bin/node", N, NULL, 0 },
		{ "Builtins_JSEntry", "/usr/bin/node", N, NULL, 0 },
		{ "", NULL, 0, NULL, 0 },
		{ "__libc_start_call_main", libc, N, NULL, 0 },
	};
	const struct hf rt_thread[] = {
		{ "__mmap", libc, N, NULL, 0 }, { "pthread_create", libc, N, NULL, 0 },
		{ "", "/usr/share/dotnet/libcoreclr.so", N, NULL, 0 },
		{ "coreclr_initialize", "/usr/share/dotnet/libcoreclr.so", N, NULL, 0 },
		{ "", "/usr/share/dotnet/dotnet", N, NULL, 0 },
		{ "__libc_start_call_main", libc, N, NULL, 0 },
	};
	const struct hf deep[] = {
		{ "mmap", libc, N, NULL, 0 }, { "f1", app, N, NULL, 0 }, { "f2", app, N, NULL, 0 },
		{ "f3", app, N, NULL, 0 }, { "", app, N, NULL, 0 }, { "f4", app, N, NULL, 0 },
		{ "f5", app, N, NULL, 0 }, { "f6", app, N, NULL, 0 }, { "f7", app, N, NULL, 0 },
	};
	const struct hf deep_end[] = {
		{ "mmap", libc, N, NULL, 0 }, { "f1", app, N, NULL, 0 }, { "f2", app, N, NULL, 0 },
		{ "start_thread", libc, N, NULL, 0 }, { "f9", app, N, NULL, 0 },
	};

	HEQ("headline: past unnamed sqlite frames", HL(sqlite, 6),
	    "sqlite3_step run_query main");
	HEQ("headline: past malloc's innards", HL(big_malloc, 6), "leak_big main");
	HEQ("headline: past operator new", HL(cxx_new, 6), "Cache::grow() main");
	HEQ("headline: the libc call the program made", HL(printf_buf, 6),
	    "printf main");
	HEQ("headline: the numpy caller", HL(numpy, 6),
	    "PyArray_NewFromDescr_int _PyEval_EvalFrameDefault");
	HEQ("headline: .NET, not the runtime below Main", HL(dotnet, 6),
	    "mmap_allocation IL_STUB_PInvoke MyConsoleApp.Program::MyTest() "
	    "MyConsoleApp.Program::Main(string[])");
	HEQ("headline: GC growth names the managed caller", HL(gc, 6),
	    "App.Cache::Fill() App.Program::Main(string[])");
	HEQ("headline: nothing named: frame 0", HL(unnamed, 6), "?");
	HEQ("headline: only the loader: its innermost named frame",
	    HL(loader, 6), "_dl_map_segments");
	HEQ("headline: a runtime's own allocation: its first named frame",
	    HL(node_only, 6), "node::NodeArrayBufferAllocator::Allocate(unsigned long) +");
	HEQ("headline: a runtime's thread: pthread_create and the runtime",
	    HL(rt_thread, 6), "pthread_create coreclr_initialize");
	HEQ("headline: at most max, then more", HL(deep, 4), "f1 f2 f3 f4 +");
	HEQ("headline: exactly max, nothing more", HL(deep, 7),
	    "f1 f2 f3 f4 f5 f6 f7");
	HEQ("headline: stops at the thread entry", HL(deep_end, 2), "f1 f2");

	/* Through the text format: file:line of JIT code, as JSON has it. */
	{
		const struct hf node[] = {
			{ "mmap", libc, N, NULL, 0 },
			{ "node::ArrayBufferAllocator::Allocate", "/usr/bin/node", N, NULL, 0 },
			{ "leak", "[jit]", J, "/srv/app/leak.js", 12 },
			{ "", NULL, 0, NULL, 0 },
			{ "main", "[jit]", J, "/srv/app/leak.js", 30 },
		};
		struct ml_frame fr[8];
		struct ml_site site;
		struct ml_result res;
		char *out = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&out, &len);

		make_site(&site, fr, node, ARRAY_SIZE(node));
		memset(&res, 0, sizeof(res));
		res.sites = &site;
		res.nsites = 1;
		T_CHECK("headline text: emitted",
			f && report_find("text")->emit(f, &res, NULL) == 0);
		if (f)
			fclose(f);
		T_CHECK("headline text: JIT file:line, node internals skipped",
			has(out, "#1 1.0 MiB in 1 mapping, held by leak (leak.js:12) "
				 "<- main (leak.js:30)\n"));
		T_CHECK("headline text: full stack keeps every frame",
			has(out, "  #1 node::ArrayBufferAllocator::Allocate (node)\n") &&
			has(out, "  #2 leak [jit] leak.js:12\n") &&
			has(out, "  #3 0x7f0000001030 [unknown]\n"));
		free(out);
	}
}

static void test_no_resident_lost(void)
{
	struct scenario sc = { .end = true, .check = true, .lost = 7 };
	const char *p = path_in_tmp("gone.mlk");
	struct ml_result *r = NULL;
	json_error_t jerr;
	json_t *doc = NULL, *sites;
	size_t i, nnull = 0;
	bool any = false;
	char *out;
	int rc;

	if (write_recording(p, &sc) || analysis_load(p, &r)) {
		T_CHECK("no resident: scenario loads", false);
		return;
	}
	for (i = 0; i < r->nsites; i++)
		any |= r->sites[i].resident_known;
	T_CHECK("no resident: every site unknown", r->nsites == 5 && !any);
	T_CHECK("lost: total kept", r->lost == 7);
	out = emit("json", r, 0, false, &rc);
	doc = out ? json_loads(out, 0, &jerr) : NULL;
	sites = get(doc, "sites");
	for (i = 0; i < json_array_size(sites); i++)
		nnull += json_is_null(get(json_array_get(sites, i), "resident_bytes"));
	T_CHECK("no resident: JSON resident_bytes null", doc && nnull == 5);
	T_CHECK("lost: JSON events.lost", is_int(get(doc, "events.lost"), 7));
	json_decref(doc);
	free(out);
	out = emit("text", r, 0, false, &rc);
	T_CHECK("no resident: text says why", has(out, "resident n/a (target exited)"));
	T_CHECK("lost: text warns loudly", has(out, "WARNING:  7 events LOST") &&
		has(out, "reconciled with /proc/4242/maps 1 time "));
	free(out);
	analysis_free(r);
}

static void test_cut_short(void)
{
	struct scenario sc = { .resident = true, .check = true, .target_alive = true };
	const char *p = path_in_tmp("noend.mlk");
	struct ml_result *r = NULL;
	json_error_t jerr;
	json_t *doc;
	char *out;
	off_t size;
	int fd, err, rc;

	/* no END record: the recorder stopped without finishing */
	err = write_recording(p, &sc);
	err = err ?: analysis_load(p, &r);
	T_CHECKF("no end: loads", err == 0 && r, "err %d", err);
	if (!r)
		return;
	T_CHECK("no end: note", !r->have_end && has_note(r, "did not finish"));
	T_CHECKF("no end: duration from the last op", r->duration_s > 3.3999 &&
		 r->duration_s < 3.4001, "got %f", r->duration_s);
	T_CHECK("no end: sites still there", r->nsites == 5 && r->sites[0].bytes == 4 * MiB);
	out = emit("json", r, 0, false, &rc);
	doc = out ? json_loads(out, 0, &jerr) : NULL;
	T_CHECK("no end: JSON stopped_by null", rc == 0 && doc && json_is_null(get(doc, "stopped_by")));
	json_decref(doc);
	free(out);
	analysis_free(r);
	r = NULL;

	/* killed inside a record: the sound prefix is used */
	fd = open(p, O_RDWR);
	size = fd >= 0 ? lseek(fd, 0, SEEK_END) : -1;
	err = size > 8 ? ftruncate(fd, size - 5) : -1;
	if (fd >= 0)
		close(fd);
	T_CHECK("cut short: file truncated", err == 0);
	err = analysis_load(p, &r);
	T_CHECKF("cut short: loads", err == 0 && r, "err %d", err);
	if (!r)
		return;
	T_CHECK("cut short: note says so", has_note(r, "cut short") &&
		r->read_status.truncated);
	T_CHECK("cut short: leak still found", r->nsites >= 1 &&
		r->sites[0].stack_id == 1 && r->sites[0].bytes == 4 * MiB);
	analysis_free(r);
}

/*
 * One JIT pc in two stacks: a method re-used its address (tiering), so
 * stack 2 carries its own FRAME (stack_id 2) and stack 1 the pc's generic
 * one. And the jitdump marker mapping (jit-PID.dump, one page r-x) is not
 * a site.
 */
static void test_jit_reuse_and_marker(void)
{
	static const u64 pcs[] = { 0x7f9000000100, 0x7f9000001000 };
	const char *p = path_in_tmp("jitreuse.mlk");
	struct ml_rec_target tg = { .pid = 4242, .nspid = 4242, .start_time = T0,
				    .command = (char *)"app", .comm = (char *)"app" };
	struct maps_entry fin[] = {
		{ .start = A, .end = A + MiB, .prot = PROT_READ | PROT_WRITE },
		{ .start = B, .end = B + MiB, .prot = PROT_READ | PROT_WRITE },
		{ .start = C, .end = C + PG, .prot = PROT_READ | PROT_EXEC,
		  .path = (char *)"/tmp/jit-4242.dump" },
	};
	struct ml_rec_maps fm = { .purpose = ML_MAPS_FINAL, .n = 3, .e = fin };
	struct ml_rec_frame f = { .return_address = 1 };
	struct ml_result *r = NULL;
	struct rec_writer *w;
	struct ml_op op = { .kind = ML_OP_MMAP, .stack_id = 3, .time = MS(1), .tid = 1 };
	const struct ml_site *s1 = NULL, *s2 = NULL;
	int err;

	err = rec_writer_open(&w, p);
	if (err) {
		T_CHECK("jit reuse: writer", false);
		return;
	}
	err = rec_put_target(w, T0, &tg);
	err = err ?: put_stack(w, 1, pcs, 2, 0);
	err = err ?: put_stack(w, 2, pcs, 2, 0);
	err = err ?: put_stack(w, 3, pcs, 1, 0);
	err = err ?: put_mmap(w, 1, MS(2), A, MiB, PROT_READ | PROT_WRITE);
	err = err ?: put_mmap(w, 2, MS(3), B, MiB, PROT_READ | PROT_WRITE);
	/* the runtime's marker: a file mapping of one page, read+exec */
	op.args[1] = 40;
	op.args[2] = PROT_READ | PROT_EXEC;
	op.args[3] = MAP_PRIVATE;
	op.args[4] = 5;
	op.ret = (s64)C;
	err = err ?: rec_put_op(w, &op);
	err = err ?: put_frame(w, pcs[0], false, ML_FK_NATIVE, "mmap", "libc.so.6",
			       NULL, 0, NULL);
	err = err ?: put_frame(w, pcs[1], true, ML_FK_JIT, "App.Program::Work()",
			       "App", NULL, 0, "QuickJitted");
	f.f.pc = pcs[1];
	f.f.kind = ML_FK_JIT;
	f.f.symbol = (char *)"App.Program::Work()";
	f.f.module = (char *)"App";
	f.f.tier = (char *)"OptimizedTier1";
	f.stack_id = 2;
	err = err ?: rec_put_frame(w, MS(5000), &f);
	err = err ?: rec_put_maps(w, MS(4000), &fm);
	err = err ?: rec_writer_close(w);
	/* by default the two tiers of Work() are one site, two variants */
	err = err ?: analysis_load(p, &r);
	T_CHECKF("jit reuse: tiers merge by default", err == 0 && r && r->nsites == 1 &&
		 r->sites[0].nvariants == 2 && r->sites[0].bytes == 2 * MiB,
		 "err %d, %zu sites", err, r ? r->nsites : 0);
	analysis_free(r);
	r = NULL;
	err = err ?: analysis_load_by(p, ANALYSIS_GROUP_STACK, &r);
	T_CHECKF("jit reuse: loads", err == 0 && r, "err %d", err);
	if (!r)
		return;
	for (size_t i = 0; i < r->nsites; i++) {
		if (r->sites[i].stack_id == 1)
			s1 = &r->sites[i];
		if (r->sites[i].stack_id == 2)
			s2 = &r->sites[i];
	}
	T_CHECK("jit reuse: two sites, no marker site", r->nsites == 2 && s1 && s2);
	T_CHECK("jit reuse: stack 1 has the generic name",
		s1 && s1->nframes == 2 && s1->frames[1].tier &&
		!strcmp(s1->frames[1].tier, "QuickJitted"));
	T_CHECK("jit reuse: stack 2 has its own name",
		s2 && s2->nframes == 2 && s2->frames[1].tier &&
		!strcmp(s2->frames[1].tier, "OptimizedTier1"));
	T_CHECK("jit reuse: the generic frame still names the first pc",
		s2 && s2->frames[0].symbol && !strcmp(s2->frames[0].symbol, "mmap"));
	T_CHECK("marker: not live, and a note says so",
		r->live_bytes == 2 * MiB && has_note(r, "jitdump marker"));
	analysis_free(r);
}

/*
 * Interpreted Java: one interpreter return address twice in a stack, each
 * frame running another method, named per (stack, frame index); another
 * stack with the same pcs keeps the generic name; a gap marker is a frame
 * of kind gap.
 */
static void test_java_frames(void)
{
	static const u64 pcs[] = { 0x7f9000000100, 0x7f9000002000, 0x7f9000002000,
				   ML_PC_GAP, 0x7f9000003000 };
	const char *p = path_in_tmp("javaframes.mlk");
	struct ml_rec_target tg = { .pid = 4242, .nspid = 4242, .start_time = T0,
				    .command = (char *)"java", .comm = (char *)"java" };
	struct ml_rec_frame f = { .return_address = 1 };
	struct ml_result *r = NULL;
	struct rec_writer *w;
	const struct ml_site *s1 = NULL, *s2 = NULL;
	int err;

	err = rec_writer_open(&w, p);
	if (err) {
		T_CHECK("java frames: writer", false);
		return;
	}
	err = rec_put_target(w, T0, &tg);
	err = err ?: put_stack(w, 1, pcs, 5, 0);
	err = err ?: put_stack(w, 2, pcs, 3, 0);
	err = err ?: put_mmap(w, 1, MS(2), A, MiB, PROT_READ | PROT_WRITE);
	err = err ?: put_mmap(w, 2, MS(3), B, 2 * MiB, PROT_READ | PROT_WRITE);
	err = err ?: put_frame(w, pcs[0], false, ML_FK_NATIVE, "mmap", "libc.so.6",
			       NULL, 0, NULL);
	err = err ?: put_frame(w, pcs[1], true, ML_FK_STUB, "[interpreted Java]",
			       NULL, NULL, 0, NULL);
	err = err ?: put_frame(w, pcs[3], true, ML_FK_GAP, ML_GAP_TEXT, NULL, NULL, 0,
			       NULL);
	err = err ?: put_frame(w, pcs[4], true, ML_FK_NATIVE, "JavaMain", "libjli.so",
			       NULL, 0, NULL);
	f.f.kind = ML_FK_JIT;
	f.f.tier = (char *)"interpreted";
	f.stack_id = 1;
	f.f.pc = pcs[1];
	f.frame = 2;
	f.f.symbol = (char *)"A.leak(long)";
	err = err ?: rec_put_frame(w, MS(5000), &f);
	f.frame = 3;
	f.f.symbol = (char *)"A.main(java.lang.String[])";
	err = err ?: rec_put_frame(w, MS(5000), &f);
	err = err ?: rec_writer_close(w);
	err = err ?: analysis_load(p, &r);
	T_CHECKF("java frames: loads", err == 0 && r, "err %d", err);
	if (!r)
		return;
	for (size_t i = 0; i < r->nsites; i++) {
		if (r->sites[i].stack_id == 1)
			s1 = &r->sites[i];
		if (r->sites[i].stack_id == 2)
			s2 = &r->sites[i];
	}
	T_CHECK("java frames: two sites", r->nsites == 2 && s1 && s2);
	T_CHECK("java frames: the same pc names another method in each frame",
		s1 && s1->nframes == 5 && s1->frames[1].symbol && s1->frames[2].symbol &&
		!strcmp(s1->frames[1].symbol, "A.leak(long)") &&
		!strcmp(s1->frames[2].symbol, "A.main(java.lang.String[])") &&
		s1->frames[1].tier && !strcmp(s1->frames[1].tier, "interpreted"));
	T_CHECK("java frames: the gap marker is a frame of kind gap",
		s1 && s1->nframes == 5 && s1->frames[3].kind == ML_FK_GAP &&
		!strcmp(report_frame_kind_name(s1->frames[3].kind), "gap") &&
		s1->frames[4].symbol && !strcmp(s1->frames[4].symbol, "JavaMain"));
	T_CHECK("java frames: another stack keeps the generic name",
		s2 && s2->nframes == 3 && s2->frames[1].symbol &&
		!strcmp(s2->frames[1].symbol, "[interpreted Java]") &&
		s2->frames[2].symbol && !strcmp(s2->frames[2].symbol, "[interpreted Java]"));
	analysis_free(r);
}

static void test_errors(void)
{
	const char *p = path_in_tmp("garbage");
	struct ml_result *r = (struct ml_result *)&r;	/* must be reset */
	FILE *f = fopen(p, "w");
	int err;

	if (f) {
		fputs("this is not a recording, just some text long enough\n", f);
		fclose(f);
	}
	err = analysis_load(p, &r);
	T_CHECKF("errors: not a recording", err == -EBADMSG && r == NULL, "err %d", err);
	err = analysis_load(path_in_tmp("does-not-exist"), &r);
	T_CHECKF("errors: missing file", err == -ENOENT && r == NULL, "err %d", err);
	analysis_free(NULL);
	T_CHECK("errors: analysis_free(NULL)", true);
}

static void test_write_error(void)
{
	struct scenario sc = { .resident = true, .end = true, .check = true,
			       .target_alive = true };
	const char *p = path_in_tmp("full2.mlk");
	struct report_opts o = { 0 };
	struct ml_result *r = NULL;
	FILE *f;

	if (write_recording(p, &sc) || analysis_load(p, &r)) {
		T_CHECK("write error: scenario loads", false);
		return;
	}
	f = fopen("/dev/full", "w");
	if (!f) {
		T_SKIP("write error", "no /dev/full");
	} else {
		int rt = report_find("text")->emit(f, r, &o);
		int rj;

		clearerr(f);
		rj = report_find("json")->emit(f, r, &o);
		T_CHECKF("write error: text returns -errno", rt == -ENOSPC, "got %d", rt);
		T_CHECKF("write error: json returns -errno", rj < 0, "got %d", rj);
		fclose(f);
	}
	analysis_free(r);
}

static void test_human_size(void)
{
	static const struct { u64 in; const char *want; } cases[] = {
		{ 0, "0 B" }, { 12, "12 B" }, { 1023, "1023 B" },
		{ 1024, "1.0 KiB" }, { 1536, "1.5 KiB" }, { 512 * KiB, "512.0 KiB" },
		{ MiB - 1, "1.0 MiB" }, { 4 * MiB + 26 * PG, "4.1 MiB" },
		{ 1ULL << 30, "1.0 GiB" }, { 3ULL << 29, "1.5 GiB" },
		{ 5ULL << 40, "5.0 TiB" }, { 1ULL << 50, "1024.0 TiB" },
		{ UINT64_MAX, "16777216.0 TiB" },
	};
	char buf[32], name[64];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		report_human_size(cases[i].in, buf, sizeof(buf));
		snprintf(name, sizeof(name), "human size %llu", (unsigned long long)cases[i].in);
		T_CHECKF(name, !strcmp(buf, cases[i].want), "Expected: %s Got: %s",
			 cases[i].want, buf);
	}
	report_human_size(1ULL << 30, buf, 4);
	T_CHECK("human size: bounded by len", !strcmp(buf, "1.0"));
}

static void test_tables(void)
{
	T_CHECK("report_find text", report_find("text") &&
		!strcmp(report_find("text")->name, "text"));
	T_CHECK("report_find json", report_find("json") &&
		!strcmp(report_find("json")->name, "json"));
	T_CHECK("report_find unknown", !report_find("xml") && !report_find(NULL));
	T_CHECK("frame kind names",
		!strcmp(report_frame_kind_name(ML_FK_NATIVE), "native") &&
		!strcmp(report_frame_kind_name(ML_FK_JIT), "jit") &&
		!strcmp(report_frame_kind_name(ML_FK_R2R), "r2r") &&
		!strcmp(report_frame_kind_name(ML_FK_STUB), "stub") &&
		!strcmp(report_frame_kind_name(ML_FK_UNKNOWN), "unknown") &&
		!strcmp(report_frame_kind_name(99), "unknown"));
}

static void cleanup(void)
{
	static const char *const names[] = { "full.mlk", "json.mlk", "text.mlk",
		"gone.mlk", "noend.mlk", "garbage", "full2.mlk" };
	char old[300];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		unlink(path_in_tmp(names[i]));
		snprintf(old, sizeof(old), "%s.old", path_in_tmp(names[i]));
		unlink(old);
	}
	rmdir(tmpdir);
}

int main(void)
{
	if (ml_page_size() != PG) {
		T_SKIP("page-size tables", "this machine's pages are not 4 KiB");
		T_END();
	}
	if (!mkdtemp(tmpdir)) {
		T_CHECK("mkdtemp", false);
		T_END();
	}
	test_tables();
	test_human_size();
	test_full();
	test_json();
	test_text();
	test_headline();
	test_no_resident_lost();
	test_cut_short();
	test_jit_reuse_and_marker();
	test_java_frames();
	test_errors();
	test_write_error();
	cleanup();
	T_END();
}
