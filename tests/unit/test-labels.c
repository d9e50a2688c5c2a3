// SPDX-License-Identifier: MIT
/*
 * Region labels (report/labels.c): a synthetic recording, written with the
 * real rec_writer, holds one site per rule (thread stacks, malloc arena,
 * large malloc, .NET GC by symbol and by size, JIT code in the W^X double
 * mapping, [anon:NAME], a plain file mapping, the jitdump marker) and
 * baseline regions named by /proc/PID/maps; the report must label each,
 * and leave the rest unlabeled, in the result, the JSON (parsed back) and
 * the text. A second recording has no final maps snapshot (the target
 * exited): baseline names come from the baseline snapshot, live regions
 * from their flags only.
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
#include "report/labels.h"
#include "report/report.h"

#define MiB (1024ull * 1024)
#define GiB (1024ull * MiB)
/* The tables are of a 4 KiB-page machine (x86-64, most arm64). */
#define PG 4096ULL
#define T0 (100ull * 1000000000ull)
#define MS(x) (T0 + (u64)(x) * 1000000ull)
#define RW (PROT_READ | PROT_WRITE)
#define RX (PROT_READ | PROT_EXEC)

/* One site per rule: its stack id is its index + 1, its region at ADDR(i). */
#define ADDR(i) (0x7e0000000000ull + (u64)(i) * 0x10000000000ull)

struct fr {
	const char *sym, *mod;
};

struct site_case {
	const char *what;
	u64 len;
	u32 prot;
	bool shared_file;	/* MAP_SHARED of an fd (else private anonymous) */
	const char *final_path;	/* what the final maps show there */
	struct fr frames[5];
	const char *want;	/* expected site label, NULL: none */
};

static const struct site_case cases[] = {
	{ "thread stacks", 8 * MiB, RW, false, NULL,
	  { { "__mmap", "libc.so.6" }, { "allocate_stack", "libc.so.6" },
	    { "pthread_create", "libc.so.6" }, { "start_workers", "app" } },
	  LABEL_THREAD_STACKS },
	{ "malloc arena (innermost wins over malloc)", 64 * MiB, PROT_NONE, false, NULL,
	  { { "__mmap", "libc.so.6" }, { "alloc_new_heap", "libc.so.6" },
	    { "_int_new_arena", "libc.so.6" }, { "malloc", "libc.so.6" } },
	  LABEL_MALLOC_ARENA },
	{ "large malloc", 2 * MiB, RW, false, NULL,
	  { { "__mmap", "libc.so.6" }, { "sysmalloc", "libc.so.6" },
	    { "_int_malloc", "libc.so.6" }, { "malloc", "libc.so.6" },
	    { "load_table", "app" } },
	  LABEL_LARGE_MALLOC },
	{ ".NET GC by symbol", 16 * MiB, PROT_NONE, false, NULL,
	  { { "__mmap", "libc.so.6" },
	    { "GCToOSInterface::VirtualReserve(unsigned long, unsigned long, unsigned int, unsigned short)",
	      "libcoreclr.so" } },
	  LABEL_GC_RESERVE },
	{ ".NET GC by size (stripped runtime)", 2 * GiB, PROT_NONE, false, NULL,
	  { { "__mmap", "libc.so.6" }, { NULL, "/usr/share/dotnet/libcoreclr.so" } },
	  LABEL_GC_RESERVE },
	{ "small runtime reservation: nothing", 1 * MiB, PROT_NONE, false, NULL,
	  { { "__mmap", "libc.so.6" }, { NULL, "/usr/share/dotnet/libcoreclr.so" } },
	  NULL },
	{ "JIT code (W^X double mapping)", 64 * 1024, RX, true,
	  "/memfd:doublemapper (deleted)",
	  { { "__mmap", "libc.so.6" }, { NULL, "libcoreclr.so" } },
	  LABEL_JIT_CODE },
	{ "[anon:NAME]", 4 * MiB, RW, false, "[anon:image cache]",
	  { { "__mmap", "libc.so.6" }, { "cache_grow", "app" } },
	  "[anon:image cache]" },
	{ "a file: no label, its path", 1 * MiB, PROT_READ, true, "/data/table.bin",
	  { { "__mmap", "libc.so.6" }, { "open_table", "app" } },
	  NULL },
	{ "jitdump marker (not a site)", PG, RX, true, "/tmp/jit-4242.dump",
	  { { "__mmap", "libc.so.6" }, { NULL, "libcoreclr.so" } },
	  NULL },
	{ "a library's data mapped by the dynamic loader", 2 * MiB, RW, false, NULL,
	  { { "__mmap", "ld-linux-x86-64.so.2" },
	    { "_dl_map_object_from_fd", "ld-linux-x86-64.so.2" },
	    { "_dl_map_object", "ld-linux-x86-64.so.2" }, { "dlopen", "libc.so.6" } },
	  LABEL_LIBRARY },
};
#define MARKER_CASE 9

static const struct maps_entry baseline[] = {
	{ .start = 0x500000, .end = 0x600000, .prot = RW, .path = (char *)"[heap]" },
	{ .start = 0x7d0000000000, .end = 0x7d0000100000, .prot = RW,
	  .path = (char *)"[anon:dotnet-loader]" },
	{ .start = 0x7d0000200000, .end = 0x7d0000210000, .prot = RX, .shared = 1,
	  .path = (char *)"/memfd:doublemapper (deleted)" },
	{ .start = 0x7d0000300000, .end = 0x7d0000301000, .prot = RX },
	{ .start = 0x7d0000400000, .end = 0x7d0000401000, .prot = RX,
	  .path = (char *)"/tmp/jit-4242.dump" },
	{ .start = 0x7d0000500000, .end = 0x7d0000600000, .prot = PROT_READ,
	  .path = (char *)"/usr/lib/libfoo.so" },
	{ .start = 0x7d0000700000, .end = 0x7d0000800000, .prot = RW },
};
static const char *const baseline_want[][2] = {	/* label, path */
	{ LABEL_BRK_HEAP, "[heap]" },
	{ "[anon:dotnet-loader]", "[anon:dotnet-loader]" },
	{ LABEL_JIT_CODE, "/memfd:doublemapper (deleted)" },
	{ LABEL_JIT_CODE, NULL },
	{ LABEL_JITDUMP_MARKER, "/tmp/jit-4242.dump" },
	{ NULL, "/usr/lib/libfoo.so" },
	{ NULL, NULL },
};

static char tmpdir[] = "/tmp/test-labels.XXXXXX";

/* One site per stack, every site ranked: each case is its own site
 * (the stripped runtime's cases share a module offset). */
#define LABELS_LOAD (ANALYSIS_GROUP_STACK | ANALYSIS_INCLUDE_RUNTIME)

static int put_site(struct rec_writer *w, size_t i)
{
	const struct site_case *c = &cases[i];
	struct ml_op op = { .kind = ML_OP_MMAP, .stack_id = (u32)i + 1,
			    .time = MS(100 + i), .tid = 4242 };
	u64 pcs[5];
	struct ml_rec_stack st = { .id = (u32)i + 1, .pcs = pcs };
	int err = 0;

	for (u32 k = 0; k < 5 && c->frames[k].mod; k++) {
		struct ml_rec_frame f = { .return_address = k > 0 };

		pcs[k] = 0x7f0000000000ull + i * 0x1000 + k * 0x10;
		f.f.pc = pcs[k];
		f.f.kind = ML_FK_NATIVE;
		f.f.symbol = (char *)c->frames[k].sym;
		f.f.module = (char *)c->frames[k].mod;
		f.f.offset = c->frames[k].sym ? 0x10 : 0x4242;
		st.n = k + 1;
		err = err ?: rec_put_frame(w, MS(5000), &f);
	}
	err = err ?: rec_put_stack(w, MS(0), &st);
	op.args[1] = c->len;
	op.args[2] = c->prot;
	op.args[3] = c->shared_file ? MAP_SHARED : MAP_PRIVATE | MAP_ANONYMOUS;
	op.args[4] = c->shared_file ? 7 : (u64)-1;
	op.ret = (s64)ADDR(i);
	return err ?: rec_put_op(w, &op);
}

static int write_recording(const char *path, bool final)
{
	struct ml_rec_target tg = {
		.pid = 4242, .nspid = 4242, .stack_size = 16384, .start_time = T0,
		.command = (char *)"dotnet App.dll", .comm = (char *)"dotnet",
	};
	struct ml_rec_maps bm = { .purpose = ML_MAPS_BASELINE,
				  .n = ARRAY_SIZE(baseline),
				  .e = (struct maps_entry *)baseline };
	struct maps_entry fe[ARRAY_SIZE(baseline) + ARRAY_SIZE(cases)];
	struct ml_rec_maps fm = { .purpose = ML_MAPS_FINAL, .e = fe };
	struct ml_rec_end end = { .stopped_by = ML_STOP_SIGNAL, .target_alive = final,
				  .end_time = MS(6000), .events = ARRAY_SIZE(cases),
				  .exit_status = -1 };
	struct rec_writer *w;
	int err = rec_writer_open(&w, path);

	if (err)
		return err;
	err = rec_put_target(w, T0, &tg);
	err = err ?: rec_put_maps(w, MS(1), &bm);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		err = err ?: put_site(w, i);
	/* The final snapshot: the baseline, then the sites, by address. */
	memcpy(fe, baseline, sizeof(baseline));
	fm.n = ARRAY_SIZE(baseline);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct maps_entry *e = &fe[fm.n++];

		memset(e, 0, sizeof(*e));
		e->start = ADDR(i);
		e->end = ADDR(i) + ML_PAGE_UP(cases[i].len);
		e->prot = cases[i].prot;
		e->shared = cases[i].shared_file;
		e->path = (char *)cases[i].final_path;
	}
	if (final)
		err = err ?: rec_put_maps(w, MS(5900), &fm);
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
		if (r->sites[i].stack_id == stack_id)
			return &r->sites[i];
	return NULL;
}

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static char *emit(const char *format, const struct ml_result *r)
{
	struct report_opts o = { .top = 0, .regions = true };
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

static const char *jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static void check_result(const struct ml_result *r)
{
	char name[160];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct ml_site *s = site_of(r, (u32)i + 1);

		snprintf(name, sizeof(name), "site label: %s", cases[i].what);
		if (i == MARKER_CASE) {
			T_CHECK(name, !s);
			continue;
		}
		T_CHECKF(name, s && str_eq(s->label, cases[i].want),
			 "expected %s, got %s", cases[i].want ? cases[i].want : "(none)",
			 s ? (s->label ? s->label : "(none)") : "(no site)");
		snprintf(name, sizeof(name), "region path: %s", cases[i].what);
		T_CHECKF(name, s && s->rinfo && s->nregions == 1 &&
			 str_eq(s->rinfo[0].path, cases[i].final_path),
			 "expected %s", cases[i].final_path ? cases[i].final_path : "(none)");
	}
	T_CHECKF("baseline regions: one per non-pseudo entry",
		 r->nbaseline == ARRAY_SIZE(baseline) && r->baseline_rinfo,
		 "got %zu", r->nbaseline);
	for (size_t i = 0; r->baseline_rinfo && i < r->nbaseline &&
	     i < ARRAY_SIZE(baseline); i++) {
		snprintf(name, sizeof(name), "baseline %s: label %s, path %s",
			 baseline[i].path ? baseline[i].path : "(anonymous)",
			 baseline_want[i][0] ? baseline_want[i][0] : "(none)",
			 baseline_want[i][1] ? baseline_want[i][1] : "(none)");
		T_CHECKF(name, str_eq(r->baseline_rinfo[i].label, baseline_want[i][0]) &&
			 str_eq(r->baseline_rinfo[i].path, baseline_want[i][1]),
			 "got %s, %s", r->baseline_rinfo[i].label ?: "(none)",
			 r->baseline_rinfo[i].path ?: "(none)");
	}
}

static void check_json(const struct ml_result *r)
{
	char *out = emit("json", r);
	json_error_t jerr;
	json_t *doc = out ? json_loads(out, 0, &jerr) : NULL;
	json_t *sites = json_object_get(doc, "sites"), *v;
	size_t i, labeled = 0, threads = 0;
	bool all_keys = json_array_size(sites) > 0;

	T_CHECK("json: parses", doc != NULL);
	json_array_foreach(sites, i, v) {
		json_t *rg = json_array_get(json_object_get(v, "regions"), 0);

		all_keys = all_keys && json_object_get(v, "label") &&
			   json_object_get(rg, "label") && json_object_get(rg, "path");
		labeled += jstr(v, "label") != NULL;
		if (jstr(v, "label") && !strcmp(jstr(v, "label"), LABEL_THREAD_STACKS))
			threads++;
	}
	T_CHECK("json: every site and region has \"label\" (and \"path\")", all_keys);
	T_CHECKF("json: labeled sites", labeled == 8 && threads == 1,
		 "labeled %zu, thread stacks %zu", labeled, threads);
	v = json_array_get(json_object_get(doc, "baseline_regions"), 1);
	T_CHECK("json: a baseline region keeps its [anon:NAME]",
		str_eq(jstr(v, "label"), "[anon:dotnet-loader]"));
	json_decref(doc);
	free(out);
}

static void check_text(const struct ml_result *r)
{
	char *out = emit("text", r);

	T_CHECK("text: site header ends with its label",
		out && strstr(out, ", at +0.1s \u2014 thread stacks\n"));
	T_CHECK("text: region line shows label and file",
		out && strstr(out, "  JIT code  /memfd:doublemapper (deleted)\n"));
	T_CHECK("text: [anon:NAME] shown once",
		out && strstr(out, "  [anon:dotnet-loader]\n") &&
		!strstr(out, "[anon:dotnet-loader]  [anon:dotnet-loader]"));
	T_CHECK("text: a file mapping shows its path",
		out && strstr(out, "  /data/table.bin\n"));
	free(out);
}

static void test_with_final(void)
{
	char path[64];
	struct ml_result *r = NULL;
	int rc;

	snprintf(path, sizeof(path), "%s/final.mlk", tmpdir);
	rc = write_recording(path, true);
	rc = rc ?: analysis_load_by(path, LABELS_LOAD, &r);
	T_CHECKF("recording with final maps loads", rc == 0 && r, "rc %d", rc);
	if (!r)
		return;
	check_result(r);
	T_CHECK("the jitdump marker is not live",
		r->live_mappings == ARRAY_SIZE(cases) - 1);
	check_json(r);
	check_text(r);
	analysis_free(r);
	unlink(path);
}

static void test_without_final(void)
{
	char path[64];
	struct ml_result *r = NULL;
	const struct ml_site *s;
	int rc;

	snprintf(path, sizeof(path), "%s/nofinal.mlk", tmpdir);
	rc = write_recording(path, false);
	rc = rc ?: analysis_load_by(path, LABELS_LOAD, &r);
	T_CHECKF("recording without final maps loads", rc == 0 && r, "rc %d", rc);
	if (!r)
		return;
	T_CHECK("no final maps: baseline [anon:NAME] from the baseline snapshot",
		r->baseline_rinfo && r->nbaseline > 1 &&
		str_eq(r->baseline_rinfo[1].label, "[anon:dotnet-loader]"));
	s = site_of(r, 1);
	T_CHECK("no final maps: stack rules still label (thread stacks)",
		s && str_eq(s->label, LABEL_THREAD_STACKS));
	s = site_of(r, 9);
	T_CHECK("no final maps: a live file mapping has no path (never guessed)",
		s && s->rinfo && !s->rinfo[0].path && !s->label);
	analysis_free(r);
	unlink(path);
}

static void test_rules(void)
{
	struct ml_region anon_x = { .start = 0x1000, .end = 0x2000, .prot = RX,
				    .flags = ML_RF_ANON };
	struct ml_region file_x = { .start = 0x1000, .end = 0x2000, .prot = RX };
	struct ml_region big = { .start = 0x1000, .end = 0x3000, .prot = RX };
	struct maps_entry jd = { .path = (char *)"/tmp/jit-12.dump (deleted)" };
	struct maps_entry notjd = { .path = (char *)"/tmp/jit-.dump" };
	const char *rl[2] = { LABEL_JIT_CODE, NULL };
	struct ml_frame fr = { .kind = ML_FK_JIT, .symbol = (char *)"malloc" };

	T_CHECK("rule: anonymous executable memory is JIT code",
		str_eq(label_region(&anon_x, NULL), LABEL_JIT_CODE));
	T_CHECK("rule: a file mapped executable is not",
		label_region(&file_x, NULL) == NULL);
	T_CHECK("rule: jit-N.dump (deleted), one page r-x: the marker",
		str_eq(label_region(&file_x, &jd), LABEL_JITDUMP_MARKER));
	T_CHECK("rule: jit-N.dump of two pages is not the marker",
		label_region(&big, &jd) == NULL);
	T_CHECK("rule: jit-.dump (no pid) is not a jitdump",
		!label_is_jitdump_path(notjd.path));
	T_CHECK("rule: regions that disagree give no common label",
		label_site(NULL, 0, rl, 2, 0) == NULL);
	T_CHECK("rule: only native frames name glibc functions",
		label_site(&fr, 1, rl + 1, 1, 0) == NULL);
}

int main(void)
{
	if (ml_page_size() != PG) {
		T_SKIP("page-size tables", "this machine's pages are not 4 KiB");
		T_END();
	}
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_rules();
	test_with_final();
	test_without_final();
	rmdir(tmpdir);
	T_END();
}
