// SPDX-License-Identifier: MIT
/*
 * The profile formats (folded, pprof, speedscope, html) and --group-by
 * thread, from a small synthetic recording written with the real
 * rec_writer: folded against golden files (tests/golden/), pprof decoded
 * back with protobuf-c, speedscope and the page's data parsed with
 * jansson. A frame name from a hostile target ("</script>", U+2028, ';',
 * a newline) must not break any of them.
 *
 * `test-formats --write-recording PATH` only writes the recording (the
 * end-to-end test renders it in Chromium).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jansson.h>
#include <zlib.h>

#include "harness.h"
#include "record/record.h"
#include "report/analysis.h"
#include "report/profile.pb-c.h"
#include "report/report.h"
#include "util.h"

#define KiB 1024ULL
#define MiB (1024ULL * KiB)
#define T0 (100ULL * 1000000000ULL)
#define MS(x) (T0 + (u64)(x) * 1000000ULL)

#define A 0x7e0000000000ULL
#define EVIL "Evil;Na\nme</script><script>alert(1)</script>\xe2\x80\xa8x"
#define EVIL_SHOWN "Evil;Na?me</script><script>alert(1)</script>\xe2\x80\xa8x"

static char tmpdir[] = "/tmp/test-formats.XXXXXX";

static int put_mmap(struct rec_writer *w, u32 stack, u32 tid, u64 t, u64 addr,
		    u64 len, u32 prot)
{
	struct ml_op op = { .kind = ML_OP_MMAP, .stack_id = stack, .time = t, .tid = tid };

	op.args[1] = len;
	op.args[2] = prot;
	op.args[3] = MAP_PRIVATE | MAP_ANONYMOUS;
	op.args[4] = (u64)-1;
	op.ret = (s64)addr;
	return rec_put_op(w, &op);
}

static int put_frame(struct rec_writer *w, u64 pc, bool ra, u32 kind, const char *sym,
		     const char *mod, const char *file, u32 line, u64 offset)
{
	struct ml_rec_frame f = { .return_address = ra };

	f.f.pc = pc;
	f.f.kind = kind;
	f.f.line = line;
	f.f.offset = offset;
	f.f.symbol = (char *)sym;
	f.f.module = (char *)mod;
	f.f.file = (char *)file;
	return rec_put_frame(w, MS(5000), &f);
}

static int put_stack(struct rec_writer *w, u32 id, const u64 *pcs, u32 n)
{
	struct ml_rec_stack s = { .id = id, .n = n, .pcs = (u64 *)pcs };

	return rec_put_stack(w, MS(0), &s);
}

/*
 * stack 1 __mmap <- leak_fn (app.c:42) <- main: 2 MiB by thread 100, then
 *         1 MiB by thread 200
 * stack 2 EVIL (JIT) <- main: 512 KiB, thread 100
 * stack 3 reserve_fn: 1 MiB PROT_NONE only, thread 100
 * stack 4 no STACK record: 64 KiB, thread 300
 * stack 5 libx.so+0x1234 <- an unnamed pc: 128 KiB, thread 100
 */
static int write_recording(const char *path)
{
	static const u64 s1[] = { 0x7f0000001000, 0x401100, 0x401200 };
	static const u64 s2[] = { 0x7f1000000100, 0x401210 };
	static const u64 s3[] = { 0x401300 };
	static const u64 s5[] = { 0x7f2000001234, 0x7f5000000900 };
	struct ml_rec_target tg = {
		.pid = 777, .nspid = 777, .stack_size = 16384, .start_time = T0,
		.start_realtime = 1700000000ULL * 1000000000ULL,
		.command = (char *)"app --serve", .comm = (char *)"app",
	};
	struct maps_entry me[] = {
		{ .start = 0x400000, .end = 0x402000, .prot = PROT_READ | PROT_EXEC,
		  .path = (char *)"/opt/app/app" },
		{ .start = 0x7f0000000000, .end = 0x7f0000100000, .prot = PROT_READ | PROT_EXEC,
		  .offset = 0x28000, .path = (char *)"/usr/lib/x86_64-linux-gnu/libc.so.6" },
	};
	struct ml_rec_maps maps = { .purpose = ML_MAPS_BASELINE, .n = ARRAY_SIZE(me), .e = me };
	struct ml_rec_end end = { .stopped_by = ML_STOP_EXIT, .target_alive = 0,
				  .end_time = MS(5000), .events = 6, .exit_status = -1 };
	struct rec_writer *w;
	int err = rec_writer_open(&w, path);

	if (err)
		return err;
	err = rec_put_target(w, T0, &tg);
	err = err ?: rec_put_maps(w, T0, &maps);
	err = err ?: put_stack(w, 1, s1, ARRAY_SIZE(s1));
	err = err ?: put_stack(w, 2, s2, ARRAY_SIZE(s2));
	err = err ?: put_stack(w, 3, s3, ARRAY_SIZE(s3));
	err = err ?: put_stack(w, 5, s5, ARRAY_SIZE(s5));
	err = err ?: put_mmap(w, 1, 100, MS(100), A, 2 * MiB, PROT_READ | PROT_WRITE);
	err = err ?: put_mmap(w, 1, 200, MS(1500), A + 16 * MiB, MiB, PROT_READ | PROT_WRITE);
	err = err ?: put_mmap(w, 2, 100, MS(2000), A + 32 * MiB, 512 * KiB, PROT_READ | PROT_WRITE);
	err = err ?: put_mmap(w, 3, 100, MS(2100), A + 48 * MiB, MiB, PROT_NONE);
	err = err ?: put_mmap(w, 4, 300, MS(2200), A + 64 * MiB, 64 * KiB, PROT_READ);
	err = err ?: put_mmap(w, 5, 100, MS(2300), A + 80 * MiB, 128 * KiB, PROT_READ | PROT_WRITE);
	err = err ?: put_frame(w, s1[0], false, ML_FK_NATIVE, "__mmap",
			       "/usr/lib/x86_64-linux-gnu/libc.so.6", NULL, 0, 0x10);
	err = err ?: put_frame(w, s1[1], true, ML_FK_NATIVE, "leak_fn", "/opt/app/app",
			       "/src/app.c", 42, 0x20);
	err = err ?: put_frame(w, s1[2], true, ML_FK_NATIVE, "main", "/opt/app/app",
			       "/src/app.c", 10, 0x30);
	err = err ?: put_frame(w, s2[0], false, ML_FK_JIT, EVIL, "[jit]", NULL, 0, 0);
	err = err ?: put_frame(w, s2[1], true, ML_FK_NATIVE, "main", "/opt/app/app",
			       "/src/app.c", 11, 0x40);
	err = err ?: put_frame(w, s3[0], false, ML_FK_NATIVE, "reserve_fn", "/opt/app/app",
			       "/src/app.c", 60, 0x50);
	err = err ?: put_frame(w, s5[0], false, ML_FK_NATIVE, NULL, "/usr/lib/libx.so",
			       NULL, 0, 0x1234);
	err = err ?: rec_put_end(w, MS(5000), &end);
	if (err) {
		rec_writer_abort(w);
		return err;
	}
	return rec_writer_close(w);
}

static char *emit(const char *format, const struct ml_result *r, int *rc, size_t *len)
{
	const struct report_ops *ops = report_find(format);
	struct report_opts o = { .top = 0 };
	char *buf = NULL;
	FILE *f;

	*rc = -EINVAL;
	*len = 0;
	if (!ops)
		return NULL;
	f = open_memstream(&buf, len);
	if (!f)
		return NULL;
	*rc = ops->emit(f, r, &o);
	fclose(f);
	return buf;
}

/* tests/golden/NAME: next to this source, or found from the binary
 * (build/tests/test-formats). */
static char *read_golden(const char *name)
{
	char path[PATH_MAX], exe[PATH_MAX];
	ssize_t n;
	char *s;

	snprintf(path, sizeof(path), "tests/golden/%s", name);
	if ((s = ml_read_file(path, 1 << 20, NULL)))
		return s;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	snprintf(path, sizeof(path), "%.*s/../../tests/golden/%s",
		 (int)(strrchr(exe, '/') - exe), exe, name);
	return ml_read_file(path, 1 << 20, NULL);
}

static void check_golden(const char *what, const char *golden, const char *got)
{
	char *want = read_golden(golden);

	T_CHECKF(what, want && got && !strcmp(want, got),
		 "\n--- expected (tests/golden/%s):\n%s--- got:\n%s", golden,
		 want ? want : "(missing)\n", got ? got : "(null)\n");
	free(want);
}

static void test_folded(const struct ml_result *r, const struct ml_result *rt)
{
	size_t len;
	int rc;
	char *s = emit("folded", r, &rc, &len);

	T_CHECKF("folded: emits", rc == 0 && s, "rc %d", rc);
	check_golden("folded: matches the golden file", "folded.txt", s);
	free(s);
	s = emit("folded", rt, &rc, &len);
	T_CHECKF("folded --group-by thread: emits", rc == 0 && s, "rc %d", rc);
	check_golden("folded --group-by thread: matches the golden file",
		     "folded-thread.txt", s);
	free(s);
}

static void test_group_by_thread(const struct ml_result *rt)
{
	u64 t100 = 0, t200 = 0, t300 = 0;

	T_CHECKF("group-by thread: stack 1 splits in two sites (6 in all)",
		 rt->nsites == 6, "got %zu", rt->nsites);
	for (size_t i = 0; i < rt->nsites; i++) {
		const struct ml_site *s = &rt->sites[i];

		if (s->tid == 100)
			t100 += s->bytes;
		else if (s->tid == 200)
			t200 += s->bytes;
		else if (s->tid == 300)
			t300 += s->bytes;
	}
	{
		size_t len;
		int rc;
		char *txt = emit("text", rt, &rc, &len), *js = emit("json", rt, &rc, &len);
		json_t *doc = js ? json_loads(js, 0, NULL) : NULL;
		json_t *t0 = json_array_get(json_object_get(doc, "threads"), 0);

		T_CHECKF("group-by thread: text lists per-thread totals, largest first",
			 txt && strstr(txt, "\nthreads:\n  thread 100 ") &&
			 strstr(txt, "  thread 200         1.0 MiB in 1 mapping, 1 site\n") &&
			 strstr(txt, "  thread 100         2.6 MiB + 1.0 MiB reserved in 4 mappings, 4 sites\n") &&
			 strstr(txt, "thread 100 ") < strstr(txt, "thread 200 "),
			 "\n%s", txt ? txt : "(null)");
		T_CHECK("group-by thread: JSON threads[0] is thread 100 with its bytes",
			json_integer_value(json_object_get(t0, "tid")) == 100 &&
			json_integer_value(json_object_get(t0, "bytes")) ==
			(json_int_t)(2 * MiB + 512 * KiB + MiB + 128 * KiB) &&
			json_integer_value(json_object_get(t0, "sites")) == 4);
		T_CHECK("group-by thread: JSON sites carry their tid",
			json_integer_value(json_object_get(json_array_get(
				json_object_get(doc, "sites"), 0), "tid")) == 100);
		json_decref(doc);
		free(txt);
		free(js);
	}
	T_CHECKF("group-by thread: per-thread bytes",
		 t100 == 2 * MiB + 512 * KiB + MiB + 128 * KiB && t200 == MiB &&
		 t300 == 64 * KiB, "100: %llu, 200: %llu, 300: %llu",
		 (unsigned long long)t100, (unsigned long long)t200,
		 (unsigned long long)t300);
}

static uint8_t *gunzip(const uint8_t *in, size_t len, size_t *out_len)
{
	z_stream zs = { 0 };
	size_t cap = 1 << 20;
	uint8_t *out = malloc(cap);
	int zr;

	if (!out || inflateInit2(&zs, 15 + 16) != Z_OK) {
		free(out);
		return NULL;
	}
	zs.next_in = (uint8_t *)in;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	zr = inflate(&zs, Z_FINISH);
	inflateEnd(&zs);
	if (zr != Z_STREAM_END) {
		free(out);
		return NULL;
	}
	*out_len = zs.total_out;
	return out;
}

static const char *pstr(const Perftools__Profiles__Profile *p, int64_t i)
{
	return i >= 0 && (size_t)i < p->n_string_table ? p->string_table[i] : "(bad index)";
}

static void test_pprof(const struct ml_result *r, const struct ml_result *rt)
{
	size_t len, rawlen = 0;
	int rc;
	char *gz = emit("pprof", r, &rc, &len);
	uint8_t *raw = NULL;
	Perftools__Profiles__Profile *p = NULL;
	int64_t space = 0, reserved = 0, mappings = 0;
	bool leak_fn = false, mapping_ok = false, evil = false, ids_ok = true;

	T_CHECKF("pprof: emits", rc == 0 && gz, "rc %d", rc);
	T_CHECK("pprof: gzip magic", gz && len > 2 && (uint8_t)gz[0] == 0x1f &&
		(uint8_t)gz[1] == 0x8b);
	if (gz)
		raw = gunzip((uint8_t *)gz, len, &rawlen);
	T_CHECK("pprof: gunzips", raw != NULL);
	if (raw)
		p = perftools__profiles__profile__unpack(NULL, rawlen, raw);
	T_CHECK("pprof: decodes as perftools.profiles.Profile", p != NULL);
	if (!p)
		goto out;
	T_CHECK("pprof: string_table[0] is \"\"", p->n_string_table && !p->string_table[0][0]);
	T_CHECKF("pprof: sample types space/bytes, mappings/count, resident/bytes, reserved/bytes",
		 p->n_sample_type == 4 &&
		 !strcmp(pstr(p, p->sample_type[0]->type), "space") &&
		 !strcmp(pstr(p, p->sample_type[0]->unit), "bytes") &&
		 !strcmp(pstr(p, p->sample_type[1]->type), "mappings") &&
		 !strcmp(pstr(p, p->sample_type[1]->unit), "count") &&
		 !strcmp(pstr(p, p->sample_type[2]->type), "resident") &&
		 !strcmp(pstr(p, p->sample_type[3]->type), "reserved"),
		 "%zu types", p->n_sample_type);
	T_CHECK("pprof: default sample type is space",
		!strcmp(pstr(p, p->default_sample_type), "space"));
	T_CHECKF("pprof: one sample per site", p->n_sample == r->nsites,
		 "%zu samples, %zu sites", p->n_sample, r->nsites);
	for (size_t i = 0; i < p->n_sample; i++) {
		const Perftools__Profiles__Sample *s = p->sample[i];

		if (s->n_value != 4)
			continue;
		space += s->value[0];
		mappings += s->value[1];
		reserved += s->value[3];
		for (size_t k = 0; k < s->n_location_id; k++)
			if (!s->location_id[k] || s->location_id[k] > p->n_location)
				ids_ok = false;
	}
	T_CHECKF("pprof: space adds up to the committed live bytes",
		 (u64)space == r->live_bytes - r->live_reserved_bytes, "%lld",
		 (long long)space);
	T_CHECKF("pprof: reserved adds up to the PROT_NONE bytes",
		 (u64)reserved == r->live_reserved_bytes, "%lld", (long long)reserved);
	T_CHECKF("pprof: mappings add up", (u64)mappings == r->live_mappings, "%lld",
		 (long long)mappings);
	for (size_t i = 0; i < p->n_location; i++) {
		const Perftools__Profiles__Location *l = p->location[i];

		if (l->id != i + 1 || l->n_line != 1 || !l->line[0]->function_id ||
		    l->line[0]->function_id > p->n_function)
			ids_ok = false;
		else {
			const Perftools__Profiles__Function *f =
				p->function[l->line[0]->function_id - 1];

			if (!strcmp(pstr(p, f->name), "leak_fn") &&
			    !strcmp(pstr(p, f->filename), "/src/app.c") &&
			    l->line[0]->line == 42 && l->address == 0x401100)
				leak_fn = true;
			if (!strcmp(pstr(p, f->name), EVIL_SHOWN))
				evil = true;
		}
	}
	T_CHECK("pprof: ids are dense and every reference resolves", ids_ok);
	T_CHECK("pprof: leak_fn has its file, line and address", leak_fn);
	T_CHECK("pprof: a hostile name is kept (control byte replaced)", evil);
	for (size_t i = 0; i < p->n_mapping; i++)
		if (!strcmp(pstr(p, p->mapping[i]->filename), "/usr/lib/x86_64-linux-gnu/libc.so.6") &&
		    p->mapping[i]->memory_start == 0x7f0000000000 &&
		    p->mapping[i]->memory_limit == 0x7f0000100000 &&
		    p->mapping[i]->file_offset == 0x28000)
			mapping_ok = true;
	T_CHECK("pprof: mapping[0] is the main binary",
		p->n_mapping && !strcmp(pstr(p, p->mapping[0]->filename), "/opt/app/app"));
	T_CHECK("pprof: libc's mapping has its range and offset from the maps", mapping_ok);
	perftools__profiles__profile__free_unpacked(p, NULL);
	p = NULL;
	free(raw);
	raw = NULL;
	free(gz);

	/* by thread: a "thread" label on every sample */
	gz = emit("pprof", rt, &rc, &len);
	if (gz)
		raw = gunzip((uint8_t *)gz, len, &rawlen);
	if (raw)
		p = perftools__profiles__profile__unpack(NULL, rawlen, raw);
	T_CHECK("pprof --group-by thread: decodes", p != NULL);
	if (p) {
		bool labels = p->n_sample == rt->nsites;

		for (size_t i = 0; labels && i < p->n_sample; i++)
			labels = p->sample[i]->n_label == 1 &&
				 !strcmp(pstr(p, p->sample[i]->label[0]->key), "thread") &&
				 p->sample[i]->label[0]->num == rt->sites[i].tid;
		T_CHECK("pprof --group-by thread: each sample has its thread label", labels);
	}
out:
	if (p)
		perftools__profiles__profile__free_unpacked(p, NULL);
	free(raw);
	free(gz);
}

static void test_speedscope(const struct ml_result *r)
{
	size_t len;
	int rc;
	char *s = emit("speedscope", r, &rc, &len);
	json_error_t je;
	json_t *doc = s ? json_loads(s, 0, &je) : NULL, *frames, *p0, *v;
	json_int_t sum = 0;
	bool root_main = false, leak_fn = false;
	size_t i, k;

	T_CHECKF("speedscope: emits valid JSON", rc == 0 && doc, "rc %d: %s", rc,
		 doc ? "" : je.text);
	if (!doc)
		goto out;
	T_CHECK("speedscope: $schema", !strcmp(json_string_value(json_object_get(doc, "$schema")) ?: "",
					      "https://www.speedscope.app/file-format-schema.json"));
	frames = json_object_get(json_object_get(doc, "shared"), "frames");
	T_CHECKF("speedscope: one profile per value (4)",
		 json_array_size(json_object_get(doc, "profiles")) == 4, "%zu",
		 json_array_size(json_object_get(doc, "profiles")));
	p0 = json_array_get(json_object_get(doc, "profiles"), 0);
	T_CHECK("speedscope: the first profile is in bytes",
		!strcmp(json_string_value(json_object_get(p0, "unit")) ?: "", "bytes"));
	json_array_foreach(json_object_get(p0, "weights"), i, v)
		sum += json_integer_value(v);
	T_CHECKF("speedscope: weights add up to the committed live bytes",
		 (u64)sum == r->live_bytes - r->live_reserved_bytes, "%lld", (long long)sum);
	T_CHECK("speedscope: endValue is the total",
		json_integer_value(json_object_get(p0, "endValue")) == sum);
	json_array_foreach(json_object_get(p0, "samples"), i, v) {
		json_t *fi = json_array_get(v, 0), *f = json_array_get(frames, json_integer_value(fi));

		if (i == 0 && !strcmp(json_string_value(json_object_get(f, "name")) ?: "", "main"))
			root_main = true;
	}
	json_array_foreach(frames, k, v)
		if (!strcmp(json_string_value(json_object_get(v, "name")) ?: "", "leak_fn") &&
		    !strcmp(json_string_value(json_object_get(v, "file")) ?: "", "/src/app.c") &&
		    json_integer_value(json_object_get(v, "line")) == 42)
			leak_fn = true;
	T_CHECK("speedscope: stacks are root first (the top site starts at main)", root_main);
	T_CHECK("speedscope: frames carry file and line", leak_fn);
out:
	json_decref(doc);
	free(s);
}

static void test_html(const struct ml_result *r)
{
	static const char start[] = "const DATA = ";
	size_t len;
	int rc;
	char *s = emit("html", r, &rc, &len), *d, *e;
	json_t *doc = NULL, *v;
	json_error_t je;
	bool evil = false;
	size_t i;

	T_CHECKF("html: emits", rc == 0 && s, "rc %d", rc);
	if (!s)
		return;
	T_CHECK("html: the hostile name cannot open a script", !strstr(s, "<script>alert"));
	T_CHECK("html: no raw U+2028 (ends a JavaScript line in old engines)",
		!memmem(s, len, "\xe2\x80\xa8", 3));
	d = strstr(s, start);
	e = d ? strstr(d, "</script>") : NULL;
	T_CHECK("html: the data block is there", d && e);
	if (d && e) {
		d += strlen(start);
		T_CHECK("html: the data holds no '<' at all", !memchr(d, '<', (size_t)(e - d)));
		doc = json_loadb(d, (size_t)(e - d), JSON_DISABLE_EOF_CHECK, &je);
	}
	T_CHECKF("html: the data is JSON", doc != NULL, "%s", doc ? "" : je.text);
	json_array_foreach(json_object_get(doc, "frames"), i, v)
		if (!strcmp(json_string_value(json_object_get(v, "n")) ?: "", EVIL_SHOWN))
			evil = true;
	T_CHECK("html: the hostile name reads back exactly (as text, escaped)", evil);
	T_CHECKF("html: one entry per site", json_array_size(json_object_get(doc, "sites")) ==
		 r->nsites, "%zu", json_array_size(json_object_get(doc, "sites")));
	v = json_array_get(json_object_get(json_array_get(json_object_get(doc, "sites"), 0), "g"), 1);
	T_CHECK("html: the top site's growth reaches its 3 MiB at +1.5 s",
		json_integer_value(json_array_get(v, 1)) == (json_int_t)(3 * MiB) &&
		json_real_value(json_array_get(v, 0)) > 1.49 &&
		json_real_value(json_array_get(v, 0)) < 1.51);
	json_decref(doc);
	free(s);
}

static void test_parse_size(void)
{
	static const struct { const char *s; int rc; u64 v; } c[] = {
		{ "0", 0, 0 }, { "1048576", 0, 1048576 }, { "512K", 0, 512 * KiB },
		{ "100M", 0, 100 * MiB }, { "1G", 0, 1024 * MiB }, { "1GiB", 0, 1024 * MiB },
		{ "2gb", 0, 2048 * MiB }, { "10B", 0, 10 }, { "", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 }, { "1X", -EINVAL, 0 }, { "1.5G", -EINVAL, 0 },
		{ "M", -EINVAL, 0 }, { "99999999999P", -ERANGE, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		uint64_t v = 0;
		int rc = ml_parse_size(c[i].s, &v);
		char name[64];

		snprintf(name, sizeof(name), "ml_parse_size '%s'", c[i].s);
		T_CHECKF(name, rc == c[i].rc && (rc || v == c[i].v), "rc %d, value %llu",
			 rc, (unsigned long long)v);
	}
}

/* A recording where nothing stayed mapped: every format still emits a
 * valid, empty document. */
static void test_empty(void)
{
	static const char *const formats[] = { "folded", "pprof", "speedscope", "html" };
	struct ml_rec_target tg = { .pid = 1, .start_time = T0, .command = (char *)"x" };
	struct ml_rec_end end = { .stopped_by = ML_STOP_EXIT, .end_time = MS(10) };
	struct ml_result *r = NULL;
	struct rec_writer *w;
	char path[300];
	int err;

	snprintf(path, sizeof(path), "%s/empty.mlk", tmpdir);
	err = rec_writer_open(&w, path);
	err = err ?: rec_put_target(w, T0, &tg);
	err = err ?: rec_put_end(w, MS(10), &end);
	err = err ?: rec_writer_close(w);
	err = err ?: analysis_load(path, &r);
	T_CHECKF("empty: a recording with no live mapping loads", !err && r && !r->nsites,
		 "err %d", err);
	for (size_t i = 0; r && i < ARRAY_SIZE(formats); i++) {
		size_t len;
		int rc;
		char *out = emit(formats[i], r, &rc, &len), name[64];
		bool valid = rc == 0;

		if (valid && !strcmp(formats[i], "folded"))
			valid = len == 0;
		if (valid && !strcmp(formats[i], "speedscope")) {
			json_t *d = json_loadb(out, len, 0, NULL);

			valid = d && json_array_size(json_object_get(d, "profiles")) == 4;
			json_decref(d);
		}
		if (valid && !strcmp(formats[i], "pprof")) {
			size_t rawlen;
			uint8_t *raw = gunzip((uint8_t *)out, len, &rawlen);
			Perftools__Profiles__Profile *p = raw ?
				perftools__profiles__profile__unpack(NULL, rawlen, raw) : NULL;

			valid = p && p->n_sample == 0 && p->n_sample_type == 4;
			if (p)
				perftools__profiles__profile__free_unpacked(p, NULL);
			free(raw);
		}
		if (valid && !strcmp(formats[i], "html"))
			valid = strstr(out, "\"sites\":[]") != NULL;
		snprintf(name, sizeof(name), "empty: %s emits a valid empty document", formats[i]);
		T_CHECKF(name, valid, "rc %d, %zu bytes", rc, len);
		free(out);
	}
	analysis_free(r);
	unlink(path);
}

int main(int argc, char **argv)
{
	struct ml_result *r = NULL, *rt = NULL;
	char path[300];
	int err;

	if (argc == 3 && !strcmp(argv[1], "--write-recording"))
		return write_recording(argv[2]) ? 1 : 0;
	test_parse_size();
	T_CHECK("report_find knows the profile formats",
		report_find("folded") && report_find("pprof") && report_find("speedscope") &&
		report_find("html") && report_find("pprof")->binary &&
		!report_find("folded")->binary);
	if (!mkdtemp(tmpdir)) {
		T_CHECK("mkdtemp", false);
		T_END();
	}
	snprintf(path, sizeof(path), "%s/f.mlk", tmpdir);
	err = write_recording(path);
	T_CHECKF("recording written", !err, "err %d", err);
	err = err ?: analysis_load(path, &r);
	err = err ?: analysis_load_by(path, ANALYSIS_BY_THREAD, &rt);
	T_CHECKF("recording loads, by stack and by thread", !err && r && rt, "err %d", err);
	if (!err) {
		test_folded(r, rt);
		test_group_by_thread(rt);
		test_pprof(r, rt);
		test_speedscope(r);
		test_html(r);
	}
	analysis_free(r);
	analysis_free(rt);
	unlink(path);
	test_empty();
	rmdir(tmpdir);
	T_END();
}
