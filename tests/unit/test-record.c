// SPDX-License-Identifier: MIT
/*
 * Tests of the recording file: round trips, truncation at every byte,
 * seeded corruption, forward compatibility, .old rotation, write errors.
 *
 * `test-record --seeds DIR` instead writes the fuzz seeds of
 * fuzz/corpus/record/ (valid recordings and damaged variants).
 *
 * Decoded records are compared as text dumps: every field printed, NULL
 * strings as (null), so a field lost or altered anywhere shows up.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "record/record.h"

/* ---- dumps ---- */

static void dstr(FILE *f, const char *s)
{
	if (s)
		fprintf(f, " \"%s\"", s);
	else
		fprintf(f, " (null)");
}

static void dump_target(FILE *f, u64 time, const struct ml_rec_target *t)
{
	fprintf(f, "target %lu %u %u %u %u %lu %lu", (unsigned long)time, t->pid,
		t->nspid, t->launched, t->stack_size,
		(unsigned long)t->start_time, (unsigned long)t->start_realtime);
	dstr(f, t->command);
	dstr(f, t->comm);
}

static void dump_maps(FILE *f, u64 time, const struct ml_rec_maps *m)
{
	fprintf(f, "maps %lu %u %zu", (unsigned long)time, m->purpose, m->n);
	for (size_t i = 0; i < m->n; i++) {
		const struct maps_entry *e = &m->e[i];

		fprintf(f, " [%lx %lx %lx %lu %u %u %u %u", (unsigned long)e->start,
			(unsigned long)e->end, (unsigned long)e->offset,
			(unsigned long)e->inode, e->prot, e->shared,
			e->dev_major, e->dev_minor);
		dstr(f, e->path);
		fprintf(f, "]");
	}
}

static void dump_op(FILE *f, const struct ml_op *op)
{
	fprintf(f, "op %u %u %lu %u %u", op->kind, op->stack_id,
		(unsigned long)op->time, op->tid, op->flags);
	for (int i = 0; i < 6; i++)
		fprintf(f, " %lx", (unsigned long)op->args[i]);
	fprintf(f, " %ld %lx", (long)op->ret, (unsigned long)op->aux);
}

static void dump_stack(FILE *f, u64 time, const struct ml_rec_stack *s)
{
	fprintf(f, "stack %lu %u %u %u", (unsigned long)time, s->id, s->flags, s->n);
	for (u32 i = 0; i < s->n; i++)
		fprintf(f, " %lx", (unsigned long)s->pcs[i]);
}

static void dump_frame(FILE *f, u64 time, const struct ml_rec_frame *fr)
{
	fprintf(f, "frame %lu %lx %u %u %lu %u", (unsigned long)time,
		(unsigned long)fr->f.pc, fr->f.kind, fr->f.line,
		(unsigned long)fr->f.offset, fr->return_address);
	dstr(f, fr->f.symbol);
	dstr(f, fr->f.module);
	dstr(f, fr->f.file);
	dstr(f, fr->f.tier);
	fprintf(f, " sid %u frame %u", fr->stack_id, fr->frame);
}

static void dump_resident(FILE *f, u64 time, const struct ml_rec_resident *r)
{
	fprintf(f, "resident %lu %zu", (unsigned long)time, r->n);
	for (size_t i = 0; i < r->n; i++)
		fprintf(f, " [%lx %lx %lu %lu]", (unsigned long)r->e[i].start,
			(unsigned long)r->e[i].end, (unsigned long)r->e[i].resident,
			(unsigned long)r->e[i].swapped);
}

static void dump_check(FILE *f, u64 time, const struct ml_rec_check *c)
{
	fprintf(f, "check %lu %lu %lu %lu %lu %lu %lx %lx %u", (unsigned long)time,
		(unsigned long)c->kernel_pages, (unsigned long)c->model_pages,
		(unsigned long)c->missing_pages, (unsigned long)c->extra_pages,
		(unsigned long)c->prot_mismatch_pages,
		(unsigned long)c->first_missing, (unsigned long)c->first_extra,
		c->reconciled);
}

static void dump_end(FILE *f, u64 time, const struct ml_rec_end *e)
{
	fprintf(f, "end %lu %u %u %lu %lu %lu %d", (unsigned long)time,
		e->stopped_by, e->target_alive, (unsigned long)e->end_time,
		(unsigned long)e->events, (unsigned long)e->lost, e->exit_status);
}

static void dump_brk(FILE *f, u64 time, const struct ml_rec_brk *b)
{
	fprintf(f, "brk %lu %lx %lx", (unsigned long)time,
		(unsigned long)b->start_brk, (unsigned long)b->brk);
}

static void dump_lost(FILE *f, u64 time, u64 lost)
{
	fprintf(f, "lost %lu %lu", (unsigned long)time, (unsigned long)lost);
}

static void dump_note(FILE *f, u64 time, const char *text)
{
	fprintf(f, "note %lu", (unsigned long)time);
	dstr(f, text);
}

/* ---- a list of dumps: what was written, what was read ---- */

struct log {
	char **s;
	size_t n, cap;
	size_t stop_at;		/* visitor returns 42 at this record (0: never) */
};

static FILE *log_begin(char **buf, size_t *len)
{
	FILE *f = open_memstream(buf, len);

	if (!f)
		abort();
	return f;
}

/* buf is read after fclose(): open_memstream sets it only then */
static int log_end(struct log *l, FILE *f, char **buf)
{
	fclose(f);
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->s = realloc(l->s, l->cap * sizeof(*l->s));
		if (!l->s)
			abort();
	}
	l->s[l->n++] = *buf;
	return l->stop_at && l->n == l->stop_at ? 42 : 0;
}

static void log_free(struct log *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->s[i]);
	free(l->s);
	memset(l, 0, sizeof(*l));
}

/* Do a's first n entries equal b's first n? */
static bool log_prefix_eq(const struct log *a, const struct log *b, size_t n)
{
	if (a->n < n || b->n < n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(a->s[i], b->s[i]) != 0)
			return false;
	return true;
}

#define LOGGED(call) do {						\
	char *buf_; size_t len_; FILE *f_ = log_begin(&buf_, &len_);	\
	call;								\
	return log_end(ctx, f_, &buf_);					\
} while (0)

static int v_target(void *ctx, u64 t, const struct ml_rec_target *x) { LOGGED(dump_target(f_, t, x)); }
static int v_maps(void *ctx, u64 t, const struct ml_rec_maps *x) { LOGGED(dump_maps(f_, t, x)); }
static int v_op(void *ctx, const struct ml_op *x) { LOGGED(dump_op(f_, x)); }
static int v_stack(void *ctx, u64 t, const struct ml_rec_stack *x) { LOGGED(dump_stack(f_, t, x)); }
static int v_frame(void *ctx, u64 t, const struct ml_rec_frame *x) { LOGGED(dump_frame(f_, t, x)); }
static int v_lost(void *ctx, u64 t, u64 x) { LOGGED(dump_lost(f_, t, x)); }
static int v_resident(void *ctx, u64 t, const struct ml_rec_resident *x) { LOGGED(dump_resident(f_, t, x)); }
static int v_check(void *ctx, u64 t, const struct ml_rec_check *x) { LOGGED(dump_check(f_, t, x)); }
static int v_end(void *ctx, u64 t, const struct ml_rec_end *x) { LOGGED(dump_end(f_, t, x)); }
static int v_brk(void *ctx, u64 t, const struct ml_rec_brk *x) { LOGGED(dump_brk(f_, t, x)); }
static int v_note(void *ctx, u64 t, const char *x) { LOGGED(dump_note(f_, t, x)); }

static const struct rec_visitor logger = {
	.target = v_target, .maps = v_maps, .op = v_op, .stack = v_stack,
	.frame = v_frame, .lost = v_lost, .resident = v_resident,
	.check = v_check, .end = v_end, .brk = v_brk, .note = v_note,
};

/* ---- writing a sample, logging what was written ---- */

/* Writes each record and logs its dump in exp (may be NULL). */
struct sample {
	struct rec_writer *w;
	struct log *exp;
	int rc;			/* first put error */
};

#define PUT(s, put, dump) do {						\
	int rc_ = (put);						\
	if (rc_ && !(s)->rc)						\
		(s)->rc = rc_;						\
	if ((s)->exp) {							\
		char *buf_; size_t len_; FILE *f_ = log_begin(&buf_, &len_); \
		dump;							\
		log_end((s)->exp, f_, &buf_);				\
	}								\
} while (0)

static u64 rng_state;

static u64 rng(void)
{
	/* xorshift64: reproducible from the seed, no libc state */
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* One record of every type; big makes the arrays large (several MiB,
 * past the writer's buffer) instead of a few entries. */
static void put_all(struct sample *s, bool big)
{
	static char cmd[] = "/usr/bin/app --flag 'a b'";
	static char comm[] = "app";
	struct ml_rec_target t = {
		.pid = 4242, .nspid = 7, .launched = 1, .stack_size = 16384,
		.start_time = 123456789012ull, .start_realtime = 1700000000123456789ull,
		.command = cmd, .comm = comm,
	};
	struct ml_rec_target t2 = { .pid = UINT32_MAX, .command = NULL, .comm = (char *)"" };
	size_t nmaps = big ? 20000 : 3, nres = big ? 30000 : 2;
	u32 npcs = big ? 300000 : 4;
	struct maps_entry *me = calloc(nmaps, sizeof(*me));
	struct ml_rec_resident_entry *re = calloc(nres, sizeof(*re));
	u64 *pcs = calloc(npcs, sizeof(*pcs));
	char path[64];

	if (!me || !re || !pcs)
		abort();
	for (size_t i = 0; i < nmaps; i++) {
		me[i].start = 0x7f0000000000ull + i * 0x10000;
		me[i].end = me[i].start + 0x3000;
		me[i].offset = i * 4096;
		me[i].inode = 1000 + i;
		me[i].prot = (u32)(i % 8);
		me[i].shared = (u32)(i % 2);
		me[i].dev_major = 8;
		me[i].dev_minor = (u32)i;
		snprintf(path, sizeof(path), "/lib/lib%zu.so", i);
		/* anonymous (NULL), empty and named paths */
		me[i].path = i % 3 == 0 ? NULL : i % 3 == 1 ? strdup("") : strdup(path);
	}
	for (size_t i = 0; i < nres; i++) {
		re[i].start = 0x1000 * i;
		re[i].end = re[i].start + 0x1000;
		re[i].resident = i * 3;
		re[i].swapped = UINT64_MAX - i;
	}
	for (u32 i = 0; i < npcs; i++)
		pcs[i] = 0x400000 + 17ull * i;

	struct ml_rec_maps m = { .purpose = ML_MAPS_BASELINE, .n = nmaps, .e = me };
	struct ml_rec_maps m0 = { .purpose = ML_MAPS_FINAL, .n = 0, .e = NULL };
	struct ml_op op = {
		.kind = ML_OP_MMAP, .stack_id = 5, .time = 200, .tid = 4243,
		.flags = ML_EVF_STACK_TRUNCATED,
		.args = { 0, 8192, 3, 0x22, UINT64_MAX, 0 }, .ret = 0x7f1234560000ll,
		.aux = 0,
	};
	struct ml_op op_full = {
		.kind = ML_OP_MREMAP, .stack_id = UINT32_MAX, .time = UINT64_MAX,
		.tid = 1, .flags = 7, .args = { 1, 2, 3, 4, 5, 6 }, .ret = -12,
		.aux = 9,
	};
	struct ml_op op_zero = { .kind = ML_OP_EXIT };
	struct ml_rec_stack st = { .id = 5, .flags = 1, .n = npcs, .pcs = pcs };
	struct ml_rec_stack st0 = { .id = 6, .flags = 0, .n = 0, .pcs = NULL };
	struct ml_rec_frame fr = {
		.f = { .pc = 0x401234, .kind = ML_FK_JIT, .line = 77, .offset = 0x34,
		       .symbol = (char *)"Foo::Bar(int)", .module = (char *)"/usr/lib/libfoo.so",
		       .file = (char *)"foo.cc", .tier = (char *)"OptimizedTier1" },
		.return_address = 1, .stack_id = 9, .frame = 3,
	};
	struct ml_rec_frame fr0 = { .f = { .pc = 1, .symbol = (char *)"" } };
	struct ml_rec_resident r = { .n = nres, .e = re };
	struct ml_rec_resident r0 = { 0 };
	struct ml_rec_check c = { 1, 2, 3, 4, 5, 0x7000, 0x8000, 6 };
	struct ml_rec_end e = {
		.stopped_by = ML_STOP_SIGNAL, .target_alive = 1, .end_time = 999,
		.events = 1u << 31, .lost = 3, .exit_status = -1,
	};
	struct ml_rec_brk b = { .start_brk = 0x555500000000ull, .brk = 0x555500021000ull };

	PUT(s, rec_put_target(s->w, 100, &t), dump_target(f_, 100, &t));
	PUT(s, rec_put_target(s->w, 101, &t2), dump_target(f_, 101, &t2));
	PUT(s, rec_put_maps(s->w, 102, &m), dump_maps(f_, 102, &m));
	PUT(s, rec_put_maps(s->w, 103, &m0), dump_maps(f_, 103, &m0));
	PUT(s, rec_put_brk(s->w, 104, &b), dump_brk(f_, 104, &b));
	PUT(s, rec_put_op(s->w, &op), dump_op(f_, &op));
	PUT(s, rec_put_op(s->w, &op_full), dump_op(f_, &op_full));
	PUT(s, rec_put_op(s->w, &op_zero), dump_op(f_, &op_zero));
	PUT(s, rec_put_stack(s->w, 105, &st), dump_stack(f_, 105, &st));
	PUT(s, rec_put_stack(s->w, 106, &st0), dump_stack(f_, 106, &st0));
	PUT(s, rec_put_frame(s->w, 107, &fr), dump_frame(f_, 107, &fr));
	PUT(s, rec_put_frame(s->w, 108, &fr0), dump_frame(f_, 108, &fr0));
	PUT(s, rec_put_lost(s->w, 109, 12345), dump_lost(f_, 109, 12345));
	PUT(s, rec_put_resident(s->w, 110, &r), dump_resident(f_, 110, &r));
	PUT(s, rec_put_resident(s->w, 111, &r0), dump_resident(f_, 111, &r0));
	PUT(s, rec_put_check(s->w, 112, &c), dump_check(f_, 112, &c));
	PUT(s, rec_put_note(s->w, 113, "lost 3 events: reconciled"), dump_note(f_, 113, "lost 3 events: reconciled"));
	PUT(s, rec_put_note(s->w, 114, NULL), dump_note(f_, 114, NULL));
	PUT(s, rec_put_note(s->w, 115, ""), dump_note(f_, 115, ""));
	PUT(s, rec_put_end(s->w, 116, &e), dump_end(f_, 116, &e));

	for (size_t i = 0; i < nmaps; i++)
		free(me[i].path);
	free(me);
	free(re);
	free(pcs);
}

static char tmpdir[] = "/tmp/mapleak-test-record.XXXXXX";

static char *tpath(const char *name)
{
	static char buf[4][256];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", tmpdir, name);
	return buf[k];
}

static u8 *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	u8 *buf = NULL;
	long n;

	*len = 0;
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n)
			*len = (size_t)n;
	}
	fclose(f);
	return buf;
}

static int spit(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (!f)
		return -1;
	ok = fwrite(buf, 1, len, f) == len;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* Writes a recording of put_all() to path; logs the records in exp. */
static int make_sample(const char *path, bool big, struct log *exp)
{
	struct sample s = { .exp = exp };
	int rc = rec_writer_open(&s.w, path);

	if (rc)
		return rc;
	put_all(&s, big);
	rc = rec_writer_close(s.w);
	return s.rc ? s.rc : rc;
}

/* Offsets where records end, found by walking the sizes: an independent
 * view of the framing. Returns how many. */
static size_t record_ends(const u8 *buf, size_t len, size_t *ends, size_t max)
{
	size_t off = 24, n = 0;

	while (off + 16 <= len && n < max) {
		u32 size = (u32)buf[off + 4] | (u32)buf[off + 5] << 8 |
			   (u32)buf[off + 6] << 16 | (u32)buf[off + 7] << 24;

		if (size < 16 || off + size > len)
			break;
		off += size;
		ends[n++] = off;
	}
	return n;
}

static void le32_at(u8 *p, u32 v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (u8)(v >> (8 * i));
}

static void le64_at(u8 *p, u64 v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (u8)(v >> (8 * i));
}

/* Builds header + the given raw records into a malloc'd buffer. */
static u8 *with_records(const u8 *head, size_t head_len, const u8 *rec,
			size_t rec_len, const u8 *tail, size_t tail_len, size_t *len)
{
	u8 *b = malloc(head_len + rec_len + tail_len);

	if (!b)
		abort();
	memcpy(b, head, head_len);
	if (rec_len)
		memcpy(b + head_len, rec, rec_len);
	if (tail_len)
		memcpy(b + head_len + rec_len, tail, tail_len);
	*len = head_len + rec_len + tail_len;
	return b;
}

/* Reads a copy of exactly len bytes, so that ASan sees any over-read. */
static int read_exact(const u8 *buf, size_t len, struct log *got,
		      struct rec_read_status *st)
{
	u8 *copy = malloc(len ? len : 1);
	int rc;

	if (!copy)
		abort();
	memcpy(copy, buf, len);
	rc = rec_read_mem(copy, len, &logger, got, st);
	free(copy);
	return rc;
}

/* ---- tests ---- */

static void test_roundtrip(bool big)
{
	const char *path = tpath(big ? "big.rec" : "small.rec");
	struct log exp = { 0 }, got = { 0 }, got2 = { 0 };
	struct rec_read_status st;
	size_t len;
	u8 *buf;
	int rc;

	rc = make_sample(path, big, &exp);
	T_CHECKF(big ? "roundtrip big: write" : "roundtrip: write", rc == 0,
		 "Expected 0, got %d", rc);

	rc = rec_read(path, &logger, &got, &st);
	T_CHECKF(big ? "roundtrip big: rec_read returns 0" : "roundtrip: rec_read returns 0",
		 rc == 0 && !st.truncated && st.bad_records == 0 &&
		 st.skipped_unknown == 0, "rc %d truncated %d bad %lu",
		 rc, st.truncated, (unsigned long)st.bad_records);
	T_CHECKF(big ? "roundtrip big: every field of every record" :
		 "roundtrip: every field of every record",
		 got.n == exp.n && log_prefix_eq(&got, &exp, exp.n) &&
		 st.records == exp.n, "Expected %zu records, got %zu (%lu)",
		 exp.n, got.n, (unsigned long)st.records);

	buf = slurp(path, &len);
	rc = buf ? read_exact(buf, len, &got2, &st) : -1;
	T_CHECKF(big ? "roundtrip big: rec_read_mem agrees" : "roundtrip: rec_read_mem agrees",
		 rc == 0 && got2.n == exp.n && log_prefix_eq(&got2, &exp, exp.n) &&
		 st.good_bytes == len, "rc %d, %zu records", rc, got2.n);
	if (!big && got.n > 0)
		T_CHECKF("roundtrip: NULL and empty strings differ",
			 strstr(got.s[1], "(null) \"\"") != NULL, "Got '%s'", got.s[1]);
	free(buf);
	log_free(&exp);
	log_free(&got);
	log_free(&got2);
}

static void test_truncation(void)
{
	const char *path = tpath("trunc.rec");
	struct log exp = { 0 };
	size_t len, ends[64], nends, bad_cuts = 0, bad_file_cuts = 0;
	u8 *buf;

	if (make_sample(path, false, &exp) != 0 || !(buf = slurp(path, &len))) {
		T_CHECK("truncation: sample", 0);
		return;
	}
	nends = record_ends(buf, len, ends, ARRAY_SIZE(ends));
	T_CHECKF("truncation: sample framing", nends == exp.n && ends[nends - 1] == len,
		 "Expected %zu records ending at %zu, found %zu", exp.n, len, nends);

	for (size_t cut = 0; cut <= len; cut++) {
		struct log got = { 0 };
		struct rec_read_status st;
		size_t k = 0, boundary = 24;
		int rc = read_exact(buf, cut, &got, &st);
		bool ok;

		while (k < nends && ends[k] <= cut)
			boundary = ends[k++];
		if (cut < 24)
			ok = rc == -EBADMSG && got.n == 0;
		else if (cut == boundary)
			ok = rc == 0 && !st.truncated;
		else
			ok = rc == -ENODATA && st.truncated;
		ok = ok && (cut < 24 || (got.n == k && st.records == k &&
					 st.good_bytes == boundary &&
					 log_prefix_eq(&got, &exp, k)));
		if (!ok) {
			if (bad_cuts++ < 3)
				printf("# cut %zu: rc %d, %zu records, good %lu\n",
				       cut, rc, got.n, (unsigned long)st.good_bytes);
		}
		log_free(&got);

		/* the same through a file, every 7th cut (files are slower) */
		if (cut % 7 == 0 || cut == len) {
			struct log gf = { 0 };
			const char *tp = tpath("cut.rec");
			int rf;

			spit(tp, buf, cut);
			rf = rec_read(tp, &logger, &gf, &st);
			if (rf != rc || gf.n != (cut < 24 ? 0 : k))
				bad_file_cuts++;
			log_free(&gf);
		}
	}
	T_CHECKF("truncation: every cut of the memory buffer delivers exactly the complete records",
		 bad_cuts == 0, "%zu of %zu cuts wrong", bad_cuts, len + 1);
	T_CHECKF("truncation: cut files read the same", bad_file_cuts == 0,
		 "%zu cuts wrong", bad_file_cuts);
	free(buf);
	log_free(&exp);
}

static void test_corruption(void)
{
	const char *path = tpath("corrupt.rec");
	struct log exp = { 0 };
	size_t len, ends[64], nends, odd = 0, payload_odd = 0;
	u8 *buf, *v;
	const int variants = 5000;

	if (make_sample(path, false, &exp) != 0 || !(buf = slurp(path, &len))) {
		T_CHECK("corruption: sample", 0);
		return;
	}
	nends = record_ends(buf, len, ends, ARRAY_SIZE(ends));
	v = malloc(len);
	rng_state = 0x9e3779b97f4a7c15ull;
	for (int i = 0; i < variants; i++) {
		struct rec_read_status st;
		struct log got = { 0 };
		size_t vlen = len;
		int flips = 1 + (int)(rng() % 8), rc;

		memcpy(v, buf, len);
		for (int j = 0; j < flips; j++) {
			size_t at = rng() % len;

			/* half set a random byte, half an extreme value */
			v[at] = (u8)(rng() & 1 ? rng() : (rng() & 1 ? 0xff : 0));
		}
		if (i % 4 == 0)
			vlen = rng() % (len + 1);
		rc = read_exact(v, vlen, &got, &st);
		if ((rc != 0 && rc != -ENODATA && rc != -EBADMSG) ||
		    st.good_bytes > vlen || got.n != st.records)
			odd++;
		log_free(&got);
	}
	T_CHECKF("corruption: 5000 seeded variants end cleanly within the buffer",
		 odd == 0, "%zu variants returned something odd", odd);

	/* Damage inside payloads only: framing holds, so every record is
	 * either delivered or counted bad, and reading goes on to the end. */
	for (int i = 0; i < variants; i++) {
		struct rec_read_status st;
		struct log got = { 0 };
		size_t r = rng() % nends, start = r ? ends[r - 1] : 24;
		size_t plen = ends[r] - start - 16;
		int rc;

		if (plen == 0)
			continue;
		memcpy(v, buf, len);
		for (int j = 0; j < 4; j++)
			v[start + 16 + rng() % plen] = (u8)rng();
		rc = read_exact(v, len, &got, &st);
		if (rc != 0 || st.records + st.bad_records != nends ||
		    got.n != st.records || st.good_bytes != len)
			payload_odd++;
		log_free(&got);
	}
	T_CHECKF("corruption: damaged payloads are skipped, the rest delivered",
		 payload_odd == 0, "%zu variants wrong", payload_odd);
	free(v);
	free(buf);
	log_free(&exp);
}

/* Raw header and records for hand-made files. */
static const u8 hdr_v1[24] = { 'M', 'A', 'P', 'L', 'E', 'A', 'K', 0,
			       1, 0, 0, 0, 24, 0, 0, 0 };

static void raw_prefix(u8 *p, u32 type, u32 size, u64 time)
{
	le32_at(p, type);
	le32_at(p + 4, size);
	le64_at(p + 8, time);
}

static void test_unknown_and_compat(void)
{
	const char *path = tpath("compat.rec");
	struct log exp = { 0 }, got = { 0 };
	struct rec_read_status st;
	size_t len, ends[64], nends, n;
	u8 *buf, *b, rec[96] = { 0 };
	int rc;

	if (make_sample(path, false, &exp) != 0 || !(buf = slurp(path, &len))) {
		T_CHECK("compat: sample", 0);
		return;
	}
	nends = record_ends(buf, len, ends, ARRAY_SIZE(ends));

	/* an unknown type between the 3rd and 4th record */
	raw_prefix(rec, 0x4000, 40, 7);
	memset(rec + 16, 0xee, 24);
	b = with_records(buf, ends[2], rec, 40, buf + ends[2], len - ends[2], &n);
	rc = read_exact(b, n, &got, &st);
	T_CHECKF("unknown type in the middle is skipped, the rest delivered",
		 rc == 0 && st.skipped_unknown == 1 && got.n == exp.n &&
		 log_prefix_eq(&got, &exp, exp.n), "rc %d skipped %lu records %zu",
		 rc, (unsigned long)st.skipped_unknown, got.n);
	free(b);
	log_free(&got);

	/* a longer brk payload (a newer writer): tail ignored */
	raw_prefix(rec, ML_REC_BRK, 16 + 32, 9);
	le64_at(rec + 16, 0x1000);
	le64_at(rec + 24, 0x5000);
	memset(rec + 32, 0xab, 16);
	b = with_records(hdr_v1, 24, rec, 48, NULL, 0, &n);
	rc = read_exact(b, n, &got, &st);
	T_CHECKF("longer payload than known is accepted",
		 rc == 0 && got.n == 1 && strcmp(got.s[0], "brk 9 1000 5000") == 0,
		 "rc %d, %zu records '%s'", rc, got.n, got.n ? got.s[0] : "");
	free(b);
	log_free(&got);

	/* an op carrying a value of a mask bit we do not know (bit 8) */
	memset(rec, 0, sizeof(rec));
	raw_prefix(rec, ML_REC_OP, 16 + 40, 300);
	le32_at(rec + 16, ML_OP_MUNMAP);
	le32_at(rec + 20, 3);
	le32_at(rec + 24, 77);
	le32_at(rec + 28, 0);
	le32_at(rec + 32, 0x1 | 0x2 | 0x100);
	le64_at(rec + 36, 0x7000);
	le64_at(rec + 44, 0x2000);
	le64_at(rec + 52, 0xdead);	/* the unknown value, then padding */
	b = with_records(hdr_v1, 24, rec, 56, NULL, 0, &n);
	rc = read_exact(b, n, &got, &st);
	T_CHECKF("op with an unknown value bit reads its known values",
		 rc == 0 && got.n == 1 &&
		 strcmp(got.s[0], "op 2 3 300 77 0 7000 2000 0 0 0 0 0 0") == 0,
		 "rc %d '%s'", rc, got.n ? got.s[0] : "");
	free(b);
	log_free(&got);

	/* a shorter payload is damage: counted, skipped, the next delivered */
	raw_prefix(rec, ML_REC_BRK, 24, 9);
	le64_at(rec + 16, 0x1000);
	raw_prefix(rec + 24, ML_REC_LOST, 24, 10);
	le64_at(rec + 40, 5);
	b = with_records(hdr_v1, 24, rec, 48, NULL, 0, &n);
	rc = read_exact(b, n, &got, &st);
	T_CHECKF("shorter payload counted bad and skipped",
		 rc == 0 && st.bad_records == 1 && got.n == 1 &&
		 strcmp(got.s[0], "lost 10 5") == 0, "rc %d bad %lu", rc,
		 (unsigned long)st.bad_records);
	free(b);
	log_free(&got);

	/* absurd counts and lengths: bad records, no huge allocation */
	memset(rec, 0, sizeof(rec));
	raw_prefix(rec, ML_REC_MAPS, 32, 1);
	le32_at(rec + 20, UINT32_MAX);	/* n */
	le32_at(rec + 24, UINT32_MAX);	/* element size */
	raw_prefix(rec + 32, ML_REC_STACK, 32, 2);
	le32_at(rec + 32 + 24, 0x10000000);	/* n pcs */
	raw_prefix(rec + 64, ML_REC_NOTE, 24, 3);
	le32_at(rec + 80, 0x7fffffff);	/* string length */
	b = with_records(hdr_v1, 24, rec, 88, NULL, 0, &n);
	rc = read_exact(b, n, &got, &st);
	T_CHECKF("absurd counts and string lengths are bad records",
		 rc == 0 && st.bad_records == 3 && got.n == 0, "rc %d bad %lu",
		 rc, (unsigned long)st.bad_records);
	free(b);
	log_free(&got);

	/* damaged sizes: stop, keeping what came before */
	static const u32 sizes[] = { 0, 8, 20, 36, ML_REC_MAX_SIZE + 8, UINT32_MAX };
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		char name[64];

		raw_prefix(rec, ML_REC_LOST, 24, 1);
		le64_at(rec + 16, 1);
		raw_prefix(rec + 24, ML_REC_LOST, sizes[i], 2);
		le64_at(rec + 40, 2);
		raw_prefix(rec + 48, ML_REC_LOST, 24, 3);
		le64_at(rec + 64, 3);
		b = with_records(hdr_v1, 24, rec, 72, NULL, 0, &n);
		rc = read_exact(b, n, &got, &st);
		snprintf(name, sizeof(name), "record size %u stops with -ENODATA", sizes[i]);
		T_CHECKF(name, rc == -ENODATA && got.n == 1 && !st.truncated &&
			 st.good_bytes == 48, "rc %d, %zu records, good %lu", rc,
			 got.n, (unsigned long)st.good_bytes);
		free(b);
		log_free(&got);
	}

	/* headers */
	u8 h[40];
	memcpy(h, hdr_v1, 24);
	h[3] = 'X';
	T_CHECK("bad magic is -EBADMSG", rec_read_mem(h, 24, NULL, NULL, &st) == -EBADMSG);
	memcpy(h, hdr_v1, 24);
	h[8] = 2;
	T_CHECK("unknown version is -EBADMSG", rec_read_mem(h, 24, NULL, NULL, &st) == -EBADMSG);
	memcpy(h, hdr_v1, 24);
	h[12] = 20;
	T_CHECK("header size below 24 is -EBADMSG", rec_read_mem(h, 24, NULL, NULL, &st) == -EBADMSG);
	h[12] = 32;
	T_CHECK("header cut short is -EBADMSG", rec_read_mem(h, 24, NULL, NULL, &st) == -EBADMSG);
	memset(h + 24, 0x5a, 8);
	raw_prefix(rec, ML_REC_LOST, 24, 4);
	le64_at(rec + 16, 8);
	b = with_records(h, 32, rec, 24, NULL, 0, &n);
	rc = read_exact(b, n, &got, &st);
	T_CHECKF("longer header is skipped by its size", rc == 0 && got.n == 1 &&
		 strcmp(got.s[0], "lost 4 8") == 0, "rc %d", rc);
	free(b);
	log_free(&got);
	T_CHECK("empty input is -EBADMSG", rec_read_mem("", 0, NULL, NULL, &st) == -EBADMSG);
	T_CHECK("header alone reads as an empty recording",
		rec_read_mem(hdr_v1, 24, NULL, NULL, &st) == 0 && st.records == 0);

	/* a visitor's non-zero return stops reading and is returned */
	got.stop_at = 3;
	rc = read_exact(buf, len, &got, &st);
	T_CHECKF("visitor return stops reading", rc == 42 && got.n == 3, "rc %d, %zu", rc, got.n);
	log_free(&got);
	T_CHECK("missing file is -ENOENT",
		rec_read(tpath("nonexistent.rec"), &logger, &got, &st) == -ENOENT);
	T_CHECK("a directory is an I/O error, not a recording",
		rec_read(tmpdir, &logger, &got, &st) == -EISDIR);
	(void)nends;
	free(buf);
	log_free(&exp);
}

static void test_op_size(void)
{
	const char *path = tpath("op.rec");
	struct rec_writer *w;
	struct ml_op munmap_op = { .kind = ML_OP_MUNMAP, .stack_id = 1, .time = 5,
				   .tid = 2, .args = { 0x7f0000000000ull, 4096 } };
	struct ml_op worst = { .kind = 1, .args = { 1, 2, 3, 4, 5, 6 }, .ret = 7, .aux = 8 };
	struct stat sb;
	off_t one;

	if (rec_writer_open(&w, path) != 0) {
		T_CHECK("op size: open", 0);
		return;
	}
	rec_put_op(w, &munmap_op);
	rec_writer_flush(w);
	one = stat(path, &sb) == 0 ? sb.st_size - 24 : -1;
	rec_put_op(w, &worst);
	rec_writer_close(w);
	T_CHECKF("op: an munmap is 56 bytes", one == 56, "Got %ld", (long)one);
	T_CHECKF("op: the worst case is 104 bytes",
		 stat(path, &sb) == 0 && sb.st_size - 24 - one == 104,
		 "Got %ld", (long)(sb.st_size - 24 - one));
}

static void test_long_string(void)
{
	const char *path = tpath("long.rec");
	struct log got = { 0 };
	struct rec_read_status st;
	struct rec_writer *w;
	char *s = malloc(100001);
	int rc;

	memset(s, 'x', 100000);
	s[100000] = '\0';
	rc = rec_writer_open(&w, path);
	if (!rc) {
		rc = rec_put_note(w, 1, s);
		rc = rec_writer_close(w) ?: rc;
	}
	if (!rc)
		rc = rec_read(path, &logger, &got, &st);
	/* "note 1 \"" + 65536 x + "\"" */
	T_CHECKF("a string past 64 KiB is stored cut at 64 KiB",
		 rc == 0 && got.n == 1 && strlen(got.s[0]) == 8 + 65536 + 1,
		 "rc %d len %zu", rc, got.n ? strlen(got.s[0]) : 0);
	log_free(&got);
	free(s);
}

static bool file_has_note(const char *path, const char *text)
{
	struct log got = { 0 };
	struct rec_read_status st;
	char want[128];
	bool ok;

	snprintf(want, sizeof(want), "note 1 \"%s\"", text);
	ok = rec_read(path, &logger, &got, &st) == 0 && got.n == 1 &&
	     strcmp(got.s[0], want) == 0;
	log_free(&got);
	return ok;
}

static int write_note_file(const char *path, const char *text)
{
	struct rec_writer *w;
	int rc = rec_writer_open(&w, path);

	if (rc)
		return rc;
	rec_put_note(w, 1, text);
	return rec_writer_close(w);
}

static void test_rotation(void)
{
	char *path = tpath("rot.rec"), old[300];
	struct rec_writer *w;
	struct stat sb;

	snprintf(old, sizeof(old), "%s.old", path);
	T_CHECK("rotation: first write", write_note_file(path, "first") == 0);
	T_CHECK("rotation: file mode 0600",
		stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	T_CHECK("rotation: no .old for a new file", access(old, F_OK) != 0);
	T_CHECK("rotation: second write", write_note_file(path, "second") == 0);
	T_CHECK("rotation: previous file moved to .old",
		file_has_note(old, "first") && file_has_note(path, "second"));

	if (rec_writer_open(&w, path) == 0) {
		rec_put_note(w, 1, "third");
		rec_writer_abort(w);
	}
	T_CHECK("rotation: abort restores the previous file",
		file_has_note(path, "second") && access(old, F_OK) != 0);

	unlink(path);
	if (rec_writer_open(&w, path) == 0)
		rec_writer_abort(w);
	T_CHECK("rotation: abort of a new file removes it", access(path, F_OK) != 0);

	T_CHECK("rotation: unwritable directory is an error",
		rec_writer_open(&w, "/nonexistent-dir/x.rec") == -ENOENT && !w);
}

/* A file holding text; true when it still does. */
static bool has_text(const char *path, const char *text)
{
	size_t len;
	u8 *b = slurp(path, &len);
	bool ok = b && len == strlen(text) && !memcmp(b, text, len);

	free(b);
	return ok;
}

static int write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* Links are replaced, never followed; FIFOs and devices are refused. */
static void test_unsafe_destinations(void)
{
	const char *victim = tpath("victim.txt"), *link = tpath("link.rec");
	char old[300];
	struct rec_writer *w = NULL;
	struct stat sb;
	int rc;

	snprintf(old, sizeof(old), "%s.old", link);
	if (write_text(victim, "precious\n") || symlink(victim, link)) {
		T_CHECK("link: setup", 0);
		return;
	}
	rc = write_note_file(link, "mine");
	T_CHECKF("link: recording written", rc == 0, "Got %d", rc);
	T_CHECK("link: the link's target is unchanged", has_text(victim, "precious\n"));
	T_CHECK("link: a new regular file of mode 0600 took its place",
		lstat(link, &sb) == 0 && S_ISREG(sb.st_mode) &&
		(sb.st_mode & 0777) == 0600 && file_has_note(link, "mine"));
	T_CHECK("link: the link itself became .old",
		lstat(old, &sb) == 0 && S_ISLNK(sb.st_mode));

	unlink(tpath("fifo.rec"));
	if (mkfifo(tpath("fifo.rec"), 0600) == 0) {
		/* open() of a FIFO without a reader would block here */
		rc = rec_writer_open(&w, tpath("fifo.rec"));
		T_CHECKF("fifo: refused with -EINVAL, not opened", rc == -EINVAL && !w,
			 "Got %d", rc);
		T_CHECK("fifo: left in place",
			lstat(tpath("fifo.rec"), &sb) == 0 && S_ISFIFO(sb.st_mode));
	}
	rc = rec_writer_open(&w, "/dev/null");
	T_CHECKF("device: /dev/null refused with -EINVAL", rc == -EINVAL && !w,
		 "Got %d", rc);
	T_CHECK("device: /dev/null left alone",
		stat("/dev/null", &sb) == 0 && S_ISCHR(sb.st_mode));
	rc = rec_writer_open(&w, tmpdir);
	T_CHECKF("folder: refused with -EISDIR", rc == -EISDIR && !w, "Got %d", rc);

	/* no temporary file is left behind by any of these */
	{
		char cmd[400];

		snprintf(cmd, sizeof(cmd), "ls %s | grep -q '\\.tmp'", tmpdir);
		T_CHECK("no temporary file left", system(cmd) != 0);
	}
}

/* In a sticky folder (/tmp), another user's file or link is not replaced. */
static void test_sticky_folder(void)
{
	const char *dir = tpath("sticky");
	char file[300], old[300], victim[300];
	struct rec_writer *w = NULL;
	int rc;

	if (geteuid() != 0) {
		T_SKIP("sticky folder", "needs root to make another user's file");
		return;
	}
	snprintf(file, sizeof(file), "%s/x.rec", dir);
	snprintf(old, sizeof(old), "%s/x.rec.old", dir);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	if (mkdir(dir, 0777) || chmod(dir, 01777) || write_text(victim, "root's\n") ||
	    symlink(victim, file) || lchown(file, 65534, 65534)) {
		T_CHECK("sticky folder: setup", 0);
		return;
	}
	rc = rec_writer_open(&w, file);
	T_CHECKF("sticky folder: another user's link is refused with -EPERM",
		 rc == -EPERM && !w, "Got %d", rc);
	T_CHECK("sticky folder: the link's target is unchanged",
		has_text(victim, "root's\n"));
	unlink(file);
	if (write_text(file, "ours\n") == 0 && symlink(victim, old) == 0 &&
	    lchown(old, 65534, 65534) == 0) {
		rc = rec_writer_open(&w, file);
		T_CHECKF("sticky folder: another user's .old is refused with -EPERM",
			 rc == -EPERM && !w, "Got %d", rc);
		T_CHECK("sticky folder: our file is unchanged", has_text(file, "ours\n"));
	}
	unlink(old);
	rc = write_note_file(file, "again");
	T_CHECKF("sticky folder: our own file is replaced", rc == 0 &&
		 file_has_note(file, "again") && has_text(old, "ours\n"), "Got %d", rc);
	unlink(file);
	unlink(old);
	unlink(victim);
	rmdir(dir);
}

/*
 * A write error (a full disk; here the file size limit, which needs no
 * root) is kept, returned by every later put, and the file is cut back to
 * its last whole record: it reads to its end, without END.
 */
static void test_write_error(void)
{
	const char *path = tpath("full.rec");
	struct rlimit old, lim = { 200000, 200000 };
	struct rec_writer *w = NULL;
	struct rec_read_status st;
	struct log got = { 0 };
	char text[100];
	int rc, put_rc = 0, first = 0, n = 0;
	struct stat sb;

	memset(text, 'n', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	signal(SIGXFSZ, SIG_IGN);
	if (getrlimit(RLIMIT_FSIZE, &old) || rec_writer_open(&w, path)) {
		T_CHECK("write error: open", 0);
		return;
	}
	lim.rlim_max = old.rlim_max;
	if (setrlimit(RLIMIT_FSIZE, &lim)) {
		rec_writer_abort(w);
		T_SKIP("write error", "cannot lower RLIMIT_FSIZE");
		return;
	}
	/* 2.4 MB of notes: the 1 MiB buffer fills twice */
	for (n = 0; n < 20000 && !put_rc; n++)
		put_rc = rec_put_note(w, (u64)n, text);
	first = rec_writer_error(w);
	rc = rec_put_lost(w, 1, 1);
	T_CHECKF("write error: the put that hit it returns it", put_rc == -EFBIG,
		 "Got %d after %d notes", put_rc, n);
	T_CHECKF("write error: kept, and later puts fail at once",
		 first == -EFBIG && rc == -EFBIG, "Got %d, %d", first, rc);
	T_CHECK("write error: close returns it", rec_writer_close(w) == -EFBIG);
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_DFL);

	rc = rec_read(path, &logger, &got, &st);
	T_CHECKF("write error: the file is cut at a record boundary (within 8 KiB of the limit) and reads to its end",
		 rc == 0 && !st.truncated && st.records > 100 &&
		 stat(path, &sb) == 0 && sb.st_size <= 200000 &&
		 sb.st_size > 200000 - 8192 &&
		 (u64)sb.st_size == st.good_bytes,
		 "Got rc %d, truncated %d, %llu records, good %llu, size %lld", rc,
		 st.truncated, (unsigned long long)st.records,
		 (unsigned long long)st.good_bytes, (long long)sb.st_size);
	log_free(&got);
	unlink(path);
}

static void test_put_errors(void)
{
	struct rec_writer *w;
	struct ml_rec_maps m = { .n = 2, .e = NULL };
	struct ml_rec_stack s = { .n = 2, .pcs = NULL };

	if (rec_writer_open(&w, tpath("err.rec")) != 0) {
		T_CHECK("put errors: open", 0);
		return;
	}
	T_CHECK("put: array without entries is -EINVAL",
		rec_put_maps(w, 1, &m) == -EINVAL && rec_put_stack(w, 1, &s) == -EINVAL);
	s.n = ML_REC_MAX_SIZE / 8;
	s.pcs = (u64 *)&s;	/* never read: the size is refused first */
	T_CHECK("put: record over ML_REC_MAX_SIZE is -E2BIG", rec_put_stack(w, 1, &s) == -E2BIG);
	T_CHECK("put: writer still usable after a refused record",
		rec_put_lost(w, 1, 1) == 0 && rec_writer_close(w) == 0);
}

/* ---- FOLD and PATCH (record/fold.c) ---- */

struct fp_got {
	int folds, patches;
	struct ml_rec_fold f;
	struct ml_rec_fold_count c[2];
	struct ml_rec_fold_delta d[3];
	struct ml_rec_patch p;
	struct ml_rec_patch_region e[2];
	u64 ftime, ptime;
};

static int fp_fold(void *ctx, u64 time, const struct ml_rec_fold *f)
{
	struct fp_got *g = ctx;

	g->folds++;
	g->ftime = time;
	g->f = *f;
	for (size_t i = 0; i < f->ncounts && i < 2; i++)
		g->c[i] = f->counts[i];
	for (size_t i = 0; i < f->ndeltas && i < 3; i++)
		g->d[i] = f->deltas[i];
	return 0;
}

static int fp_patch(void *ctx, u64 time, const struct ml_rec_patch *p)
{
	struct fp_got *g = ctx;

	g->patches++;
	g->ptime = time;
	g->p = *p;
	for (size_t i = 0; i < p->n && i < 2; i++)
		g->e[i] = p->e[i];
	return 0;
}

static const struct rec_visitor fp_visitor = { .fold = fp_fold, .patch = fp_patch };

/* Writes a FOLD with two counts and three changes (one negative) and a
 * PATCH with two regions; returns the file's bytes. */
static u8 *make_fold_patch(size_t *len)
{
	const char *path = tpath("fold.rec");
	struct ml_rec_fold_count c[2] = { { 7, 3 }, { 9, 1ull << 40 } };
	struct ml_rec_fold_delta d[3] = {
		{ 7, 0, 4096 }, { 7, 12, -8192 }, { 9, 1ull << 33, INT64_MIN + 1 },
	};
	struct ml_rec_fold f = {
		.first_time = 100, .ops = 5, .start_brk = 0x1000, .brk = 0x3000,
		.ncounts = 2, .counts = c, .ndeltas = 3, .deltas = d,
	};
	struct ml_rec_patch_region e[2] = {
		{ { 0x10000, 0x12000, 3, ML_RF_ANON, 7, 7, 150 }, 42 },
		{ { 0x13000, 0x14000, 0, ML_RF_ANON | ML_RF_SHARED, 9, 8, 160 }, 0 },
	};
	struct ml_rec_patch p = { .start = 0xf000, .end = 0x15000, .n = 2, .e = e };
	struct rec_writer *w;

	if (rec_writer_open(&w, path))
		return NULL;
	if (rec_put_fold(w, 200, &f) || rec_put_patch(w, 200, &p) || rec_writer_close(w))
		return NULL;
	return slurp(path, len);
}

static void test_fold_patch(void)
{
	struct fp_got g = { 0 };
	struct rec_read_status st;
	size_t len = 0;
	u8 *buf = make_fold_patch(&len);
	int rc;

	T_CHECK("fold/patch: written", buf != NULL);
	if (!buf)
		return;
	rc = rec_read_mem(buf, len, &fp_visitor, &g, &st);
	T_CHECKF("fold/patch: read back", rc == 0 && g.folds == 1 && g.patches == 1 &&
		 !st.bad_records, "rc %d folds %d patches %d bad %lu", rc, g.folds,
		 g.patches, (unsigned long)st.bad_records);
	T_CHECK("fold: every field", g.ftime == 200 && g.f.first_time == 100 &&
		g.f.ops == 5 && g.f.start_brk == 0x1000 && g.f.brk == 0x3000 &&
		g.f.ncounts == 2 && g.f.ndeltas == 3 &&
		g.c[0].stack_id == 7 && g.c[0].calls == 3 && g.c[1].stack_id == 9 &&
		g.c[1].calls == 1ull << 40 && g.d[0].stack_id == 7 && g.d[0].tick == 0 &&
		g.d[0].delta == 4096 && g.d[1].tick == 12 && g.d[1].delta == -8192 &&
		g.d[2].stack_id == 9 && g.d[2].tick == 1ull << 33 &&
		g.d[2].delta == INT64_MIN + 1);
	T_CHECK("patch: every field", g.ptime == 200 && g.p.start == 0xf000 &&
		g.p.end == 0x15000 && g.p.n == 2 && g.e[0].r.start == 0x10000 &&
		g.e[0].r.end == 0x12000 && g.e[0].r.prot == 3 &&
		g.e[0].r.flags == ML_RF_ANON && g.e[0].r.stack_id == 7 &&
		g.e[0].r.time == 150 && g.e[0].tid == 42 && g.e[1].r.prot == 0 &&
		g.e[1].r.reserve_stack_id == 8 && g.e[1].tid == 0);
	/* a count that the payload cannot hold: the record is skipped */
	le32_at(buf + 24 + 16 + 32, 0x10000000);
	memset(&g, 0, sizeof(g));
	rc = rec_read_mem(buf, len, &fp_visitor, &g, &st);
	T_CHECKF("fold: an impossible count skips the record, not the file",
		 rc == 0 && g.folds == 0 && g.patches == 1 && st.bad_records == 1,
		 "rc %d folds %d patches %d bad %lu", rc, g.folds, g.patches,
		 (unsigned long)st.bad_records);
	free(buf);
}

/* ---- fuzz seeds ---- */

static int write_seeds(const char *dir)
{
	const char *path = tpath("seed.rec");
	size_t len, ends[64], nends, n;
	u8 *buf, *b, rec[64] = { 0 };
	char out[512];
	int fails = 0;

	if (make_sample(path, false, NULL) != 0 || !(buf = slurp(path, &len)))
		return 1;
	nends = record_ends(buf, len, ends, ARRAY_SIZE(ends));

#define SEED(name, data, size) do {					\
	snprintf(out, sizeof(out), "%s/%s", dir, name);			\
	fails += spit(out, data, size) != 0;				\
} while (0)
	SEED("all-types.rec", buf, len);
	SEED("header-only.rec", buf, 24);
	SEED("cut-mid-record.rec", buf, ends[3] + 10);
	/* each record alone after a header, so mutations focus on one type */
	for (size_t i = 0; i < nends; i++) {
		size_t start = i ? ends[i - 1] : 24;
		char name[64];

		snprintf(name, sizeof(name), "one-%02zu-type%u.rec", i, buf[start]);
		b = with_records(buf, 24, buf + start, ends[i] - start, NULL, 0, &n);
		SEED(name, b, n);
		free(b);
	}
	/* damaged variants */
	b = with_records(buf, len, NULL, 0, NULL, 0, &n);
	le32_at(b + ends[1] + 4, 12);	/* size not a multiple of 8 */
	SEED("bad-size.rec", b, n);
	memcpy(b, buf, len);
	le32_at(b + ends[2] + 16 + 4, UINT32_MAX);	/* maps count */
	SEED("bad-count.rec", b, n);
	memcpy(b, buf, len);
	le32_at(b + 24 + 16 + 32, 0x100000);	/* target command length */
	SEED("bad-string.rec", b, n);
	memcpy(b, buf, len);
	b[3] = 'X';
	SEED("bad-magic.rec", b, n);
	free(b);
	raw_prefix(rec, 0x4000, 32, 1);
	b = with_records(buf, ends[1], rec, 32, buf + ends[1], len - ends[1], &n);
	SEED("unknown-type.rec", b, n);
	free(b);
	raw_prefix(rec, ML_REC_BRK, 48, 9);
	le64_at(rec + 16, 0x1000);
	le64_at(rec + 24, 0x5000);
	b = with_records(hdr_v1, 24, rec, 48, NULL, 0, &n);
	SEED("long-payload.rec", b, n);
	free(b);
	b = make_fold_patch(&n);
	if (b)
		SEED("fold-patch.rec", b, n);
	fails += !b;
	free(b);
#undef SEED
	free(buf);
	return fails ? 1 : 0;
}

static void cleanup(void)
{
	static const char *names[] = {
		"big.rec", "small.rec", "trunc.rec", "cut.rec", "corrupt.rec",
		"compat.rec", "op.rec", "long.rec", "rot.rec", "rot.rec.old",
		"full.rec", "err.rec", "seed.rec", "err.rec.old", "victim.txt",
		"link.rec", "link.rec.old", "fifo.rec", "fold.rec",
	};

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
	if (argc == 3 && strcmp(argv[1], "--seeds") == 0)
		return write_seeds(argv[2]);

	test_roundtrip(false);
	test_roundtrip(true);
	test_truncation();
	test_corruption();
	test_unknown_and_compat();
	test_op_size();
	test_long_string();
	test_rotation();
	test_unsafe_destinations();
	test_sticky_folder();
	test_write_error();
	test_put_errors();
	test_fold_patch();
	T_END();
}
