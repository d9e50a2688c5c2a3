/* SPDX-License-Identifier: MIT */
/*
 * Folding (record/fold.c): the same events fed to two recorders, one
 * writing every op and one folding windows of a few ops, must give the
 * same report: sites, bytes, regions, calls, timelines, growth, threads.
 * A child process really maps and unmaps, so the final check against
 * /proc/CHILD/maps also holds for both.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "util.h"
#include "record/recorder.h"
#include "report/analysis.h"
#include "record/fold.h"

struct child {
	pid_t pid;
	int cmd, reply;
};

/* "m LEN" maps and answers the address; "u ADDR LEN" unmaps;
 * "p ADDR LEN PROT" mprotects. */
static __attribute__((noinline)) void child_loop(int in, int out)
{
	char line[128];
	FILE *f = fdopen(in, "r");

	while (f && fgets(line, sizeof(line), f)) {
		unsigned long a = 0, len = 0, prot = 0;
		void *p = NULL;
		char ans[32];

		if (sscanf(line, "m %lu", &len) == 1)
			p = mmap(NULL, len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		else if (sscanf(line, "u %lx %lu", &a, &len) == 2)
			munmap((void *)a, len);
		else if (sscanf(line, "p %lx %lu %lu", &a, &len, &prot) == 3)
			mprotect((void *)a, len, (int)prot);
		snprintf(ans, sizeof(ans), "%lx\n", (unsigned long)p);
		if (write(out, ans, strlen(ans)) < 0)
			break;
	}
	_exit(0);
}

static int child_start(struct child *c)
{
	int a[2], b[2];

	if (pipe(a) || pipe(b))
		return -errno;
	c->pid = fork();
	if (c->pid < 0)
		return -errno;
	if (c->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(a[1]);
		close(b[0]);
		child_loop(a[0], b[1]);
	}
	close(a[0]);
	close(b[1]);
	c->cmd = a[1];
	c->reply = b[0];
	return 0;
}

__attribute__((format(printf, 2, 3)))
static unsigned long child_do(struct child *c, const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	ssize_t n;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (write(c->cmd, buf, strlen(buf)) < 0)
		return 0;
	n = read(c->reply, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtoul(buf, NULL, 16);
}

static void child_end(struct child *c)
{
	close(c->cmd);
	close(c->reply);
	waitpid(c->pid, NULL, 0);
}

static __attribute__((noinline)) void site_grow(void) { __asm__ volatile(""); }
static __attribute__((noinline)) void site_churn(void) { __asm__ volatile(""); }
static __attribute__((noinline)) void site_mixed(void) { __asm__ volatile(""); }

/* One event to every recorder, at time t, from thread tid. */
static void feed(struct recorder **r, int nr, pid_t pid, u32 tid, u64 t, u32 kind,
		 u64 a0, u64 a1, u64 a2, u64 a3, s64 ret, void (*pc)(void))
{
	struct ml_event_hdr ev = { 0 };

	ev.kind = kind;
	ev.tgid = (u32)pid;
	ev.tid = tid;
	ev.t_enter = ev.t_exit = t;
	ev.args[0] = a0;
	ev.args[1] = a1;
	ev.args[2] = a2;
	ev.args[3] = a3;
	ev.args[4] = (u64)-1;
	ev.ret = ret;
	ev.regs[ML_REG_IP] = pc ? (u64)(uintptr_t)pc + 1 : 0;
	for (int i = 0; i < nr; i++)
		recorder_feed(r[i], &ev, NULL, 0);
}

#define TICK (100ull * 1000 * 1000)

static int same_sites(const struct ml_result *a, const struct ml_result *b,
		      char *why, size_t len)
{
	if (a->nsites != b->nsites || a->live_bytes != b->live_bytes ||
	    a->live_mappings != b->live_mappings || a->baseline_bytes != b->baseline_bytes) {
		snprintf(why, len, "totals: %zu/%zu sites, %llu/%llu bytes", a->nsites,
			 b->nsites, (unsigned long long)a->live_bytes,
			 (unsigned long long)b->live_bytes);
		return 0;
	}
	for (size_t i = 0; i < a->nsites; i++) {
		const struct ml_site *x = &a->sites[i], *y = &b->sites[i];

		if (x->stack_id != y->stack_id || x->bytes != y->bytes ||
		    x->reserved_bytes != y->reserved_bytes || x->mappings != y->mappings ||
		    /* relative to each recorder's start, microseconds apart */
		    llabs((long long)(x->first_time - y->first_time)) > (long long)TICK / 2 ||
		    llabs((long long)(x->last_time - y->last_time)) > (long long)TICK / 2 ||
		    x->resident_known != y->resident_known ||
		    (x->label || y->label) != (x->label && y->label) ||
		    x->calls != y->calls || x->tid != y->tid ||
		    x->growth_bytes_per_s != y->growth_bytes_per_s ||
		    x->ntimeline != y->ntimeline || x->nregions != y->nregions) {
			snprintf(why, len, "site %zu: stack %u/%u bytes %llu/%llu calls "
				 "%llu/%llu growth %g/%g regions %zu/%zu tid %u/%u", i,
				 x->stack_id, y->stack_id, (unsigned long long)x->bytes,
				 (unsigned long long)y->bytes, (unsigned long long)x->calls,
				 (unsigned long long)y->calls, x->growth_bytes_per_s,
				 y->growth_bytes_per_s, x->nregions, y->nregions, x->tid, y->tid);
			return 0;
		}
		for (size_t k = 0; k < x->ntimeline; k++)
			if (x->timeline[k].bytes != y->timeline[k].bytes) {
				snprintf(why, len, "site %zu timeline point %zu: %lld/%lld", i, k,
					 (long long)x->timeline[k].bytes,
					 (long long)y->timeline[k].bytes);
				return 0;
			}
		for (size_t k = 0; k < x->nregions; k++) {
			const struct ml_region *p = &x->regions[k], *q = &y->regions[k];

			if (p->start != q->start || p->end != q->end || p->prot != q->prot ||
			    p->flags != q->flags || p->stack_id != q->stack_id ||
			    p->reserve_stack_id != q->reserve_stack_id || p->time != q->time) {
				snprintf(why, len, "site %zu region %zu: %llx-%llx/%llx-%llx "
					 "prot %u/%u time %llu/%llu", i, k,
					 (unsigned long long)p->start, (unsigned long long)p->end,
					 (unsigned long long)q->start, (unsigned long long)q->end,
					 p->prot, q->prot, (unsigned long long)p->time,
					 (unsigned long long)q->time);
				return 0;
			}
		}
	}
	return 1;
}

/* path and the path.old the writer made of the scratch file */
static void unlink_both(const char *path)
{
	char old[256];

	unlink(path);
	snprintf(old, sizeof(old), "%s.old", path);
	unlink(old);
}

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : st.st_size;
}

/*
 * A workload like tests/fixtures/growth: one site grows, one churns, one
 * maps, mprotects and partly unmaps at random. Times are synthetic: tick
 * k of the run, at most 40 ms into it, so both recorders (which started
 * a few microseconds apart) put every change in the same tick.
 */
static void test_equal(unsigned seed, u32 window, u64 max_size)
{
	const u64 pg = 4096;
	char pf[] = "/tmp/mapleak-test-fold.XXXXXX", pu[] = "/tmp/mapleak-test-fold.XXXXXX";
	struct recorder_opts of = { .no_collector = true, .fold_window = window,
				    .max_size = max_size };
	struct recorder_opts ou = { .no_collector = true, .no_fold = true };
	struct recorder *r[2] = { NULL, NULL };
	struct recorder_summary s[2];
	struct ml_result *res[2][2] = { { NULL } };
	unsigned long held[32] = { 0 }, hlen[32] = { 0 };
	struct child c;
	char name[160], why[256] = "";
	u64 base, t;
	int fdf = mkstemp(pf), fdu = mkstemp(pu);

	close(fdf);
	close(fdu);
	of.output = pf;
	ou.output = pu;
	srand(seed);
	/* a first command: the child's stdio buffers exist before the
	 * baselines, which must be the same for both recorders */
	if (child_start(&c) || (child_do(&c, "x\n"), 0) || recorder_new(&r[0], &of) || recorder_new(&r[1], &ou) ||
	    recorder_open_output(r[0]) || recorder_open_output(r[1]) ||
	    recorder_attach(r[0], c.pid) || recorder_attach(r[1], c.pid)) {
		T_CHECK("fold: setup", 0);
		goto out;
	}
	base = ml_now_ns(CLOCK_MONOTONIC);
	for (u64 k = 0; k < 6; k++) {
		for (u64 j = 0; j < 200; j++) {
			u32 tid = (u32)c.pid + (u32)(j % 3);
			unsigned long a;
			int slot = rand() % 32;

			t = base + k * TICK + j * 200000;	/* up to 40 ms into tick k */
			if (j % 20 == 0) {		/* grow: kept */
				a = child_do(&c, "m %llu\n", (unsigned long long)(16 * pg));
				feed(r, 2, c.pid, tid, t, ML_OP_MMAP, 0, 16 * pg,
				     PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				     (s64)a, site_grow);
			} else if (j % 2) {		/* churn: map, unmap */
				a = child_do(&c, "m %llu\n", (unsigned long long)(8 * pg));
				feed(r, 2, c.pid, tid, t, ML_OP_MMAP, 0, 8 * pg,
				     PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				     (s64)a, site_churn);
				child_do(&c, "u %lx %llu\n", a, (unsigned long long)(8 * pg));
				feed(r, 2, c.pid, tid, t + 1000, ML_OP_MUNMAP, a, 8 * pg, 0, 0, 0,
				     NULL);
			} else if (!held[slot]) {	/* mixed: map */
				hlen[slot] = (1 + (unsigned long)(rand() % 16)) * pg;
				held[slot] = child_do(&c, "m %lu\n", hlen[slot]);
				feed(r, 2, c.pid, tid, t, ML_OP_MMAP, 0, hlen[slot],
				     PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				     (s64)held[slot], site_mixed);
			} else {			/* mixed: mprotect or unmap a part */
				u64 pages = hlen[slot] / pg, first = (u64)rand() % pages;
				u64 n = 1 + (u64)rand() % (pages - first);
				unsigned long p = held[slot] + first * pg;

				if (rand() % 2 || n == pages) {
					child_do(&c, "u %lx %llu\n", p, (unsigned long long)(n * pg));
					feed(r, 2, c.pid, tid, t, ML_OP_MUNMAP, p, n * pg, 0, 0, 0,
					     NULL);
					held[slot] = 0;
				} else {
					int prot = rand() % 2 ? PROT_NONE : PROT_READ;

					child_do(&c, "p %lx %llu %d\n", p,
						 (unsigned long long)(n * pg), prot);
					feed(r, 2, c.pid, tid, t, ML_OP_MPROTECT, p, n * pg,
					     (u64)prot, 0, 0, site_mixed);
				}
			}
		}
		recorder_drain(r[0], true);
		recorder_drain(r[1], true);
	}
	/* the end comes after the last synthetic time */
	while (ml_now_ns(CLOCK_MONOTONIC) < base + 6 * TICK)
		usleep(10000);
	recorder_finish(r[0], ML_STOP_SIGNAL, &s[0]);
	recorder_finish(r[1], ML_STOP_SIGNAL, &s[1]);
	snprintf(name, sizeof(name), "fold (seed %u, window %u): both live sets match "
		 "/proc/PID/maps", seed, window);
	T_CHECK(name, s[0].checked && s[1].checked && !s[0].chk.missing_pages &&
		!s[0].chk.extra_pages && !s[1].chk.missing_pages && !s[1].chk.extra_pages);

	/* past --max-size the threads of folded ops are not kept */
	for (int g = 0; g < (max_size ? 1 : 2); g++) {
		/* timelines over the same span: the two ENDs differ a little */
		struct analysis_opts ao = { .flags = g ? ANALYSIS_BY_THREAD : 0,
					    .span_ns = 6 * TICK };
		int e0 = analysis_load_opts(pf, &ao, &res[g][0]);
		int e1 = analysis_load_opts(pu, &ao, &res[g][1]);

		snprintf(name, sizeof(name), "fold (seed %u, window %u%s): both recordings load",
			 seed, window, g ? ", by thread" : "");
		T_CHECKF(name, !e0 && !e1, "got %d %d", e0, e1);
		if (e0 || e1)
			goto out;
		snprintf(name, sizeof(name), "fold (seed %u, window %u%s): same report folded "
			 "and unfolded", seed, window, g ? ", by thread" : "");
		T_CHECKF(name, same_sites(res[g][0], res[g][1], why, sizeof(why)), "%s", why);
	}
	if (max_size) {
		snprintf(name, sizeof(name), "fold (seed %u, window %u, --max-size %llu): "
			 "a note says what was folded", seed, window,
			 (unsigned long long)max_size);
		{
			int found = 0;

			for (size_t i = 0; i < res[0][0]->nnotes; i++)
				found |= strstr(res[0][0]->notes[i], "--max-size") != NULL;
			T_CHECK(name, found);
		}
	}
	snprintf(name, sizeof(name), "fold (seed %u, window %u): ops were folded",
		 seed, window);
	T_CHECKF(name, res[0][0]->folded_ops > 0 && res[0][1]->folded_ops == 0,
		 "folded %llu, unfolded %llu", (unsigned long long)res[0][0]->folded_ops,
		 (unsigned long long)res[0][1]->folded_ops);
	snprintf(name, sizeof(name), "fold (seed %u, window %u): the folded file is smaller",
		 seed, window);
	T_CHECKF(name, file_size(pf) < file_size(pu), "%lld vs %lld",
		 (long long)file_size(pf), (long long)file_size(pu));
	snprintf(name, sizeof(name), "fold (seed %u, window %u): the grow site has a rising "
		 "timeline", seed, window);
	{
		const struct ml_site *gs = NULL;

		for (size_t i = 0; i < res[0][0]->nsites; i++)
			if (res[0][0]->sites[i].calls == 60)
				gs = &res[0][0]->sites[i];
		T_CHECKF(name, gs && gs->growth_bytes_per_s > 0 && gs->ntimeline &&
			 gs->timeline[gs->ntimeline - 1].bytes == (s64)(60 * 16 * pg),
			 "site %s", gs ? "found, wrong figures" : "with 60 calls not found");
	}
out:
	for (int g = 0; g < 2; g++) {
		analysis_free(res[g][0]);
		analysis_free(res[g][1]);
	}
	child_end(&c);
	recorder_free(r[0]);
	recorder_free(r[1]);
	unlink_both(pf);
	unlink_both(pu);
}

static int count_op(void *ctx, const struct ml_op *op)
{
	(*(u64 *)ctx)++;
	return 0;
}

static int count_fold(void *ctx, u64 time, const struct ml_rec_fold *f)
{
	*(u64 *)ctx += f->ops;
	return 0;
}

/* A quiet target: folder_tick() writes the window once its first op is
 * older than the horizon, not before, so a recorder killed then loses
 * nothing of it. */
static void test_tick(void)
{
	char path[] = "/tmp/mapleak-test-fold.XXXXXX";
	struct rec_visitor v = { .op = count_op, .fold = count_fold };
	struct rec_writer *w = NULL;
	struct aspace *as = NULL;
	struct folder *f = NULL;
	u64 seen = 0, t0 = 1000000000ull;
	int fd = mkstemp(path), err;

	close(fd);
	if (aspace_new(&as) || folder_new(&f, as, 0, 0) || rec_writer_open(&w, path)) {
		T_CHECK("tick: setup", 0);
		goto out;
	}
	for (u64 i = 0; i < 10; i++) {
		struct ml_op op = { .kind = ML_OP_MMAP, .stack_id = 1, .time = t0 + i,
				    .args = { 0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS },
				    .ret = (s64)(0x100000 + (i % 2) * 0x1000) };

		folder_apply(f, w, &op);
	}
	T_CHECK("tick: within the horizon, nothing is written",
		folder_tick(f, w, t0 + FOLD_HORIZON_NS) == 0 && rec_writer_flush(w) == 0);
	err = rec_read(path, &v, &seen, NULL);
	T_CHECKF("tick: the file has no op yet", err == 0 && seen == 0, "err %d, %llu ops",
		 err, (unsigned long long)seen);
	T_CHECK("tick: past the horizon, the window goes out",
		folder_tick(f, w, t0 + FOLD_HORIZON_NS + 1) == 0 && rec_writer_flush(w) == 0);
	seen = 0;
	err = rec_read(path, &v, &seen, NULL);
	T_CHECKF("tick: all 10 ops are in the file (as ops or folded)", err == 0 && seen == 10,
		 "err %d, %llu ops", err, (unsigned long long)seen);
out:
	if (w)
		rec_writer_close(w);
	folder_free(f);
	aspace_free(as);
	unlink_both(path);
}

int main(void)
{
	test_tick();
	const char *seed = getenv("MAPLEAK_TEST_SEED");
	unsigned base = seed ? (unsigned)strtoul(seed, NULL, 0) : 1;

	test_equal(base, 16, 0);
	test_equal(base + 1, 64, 0);
	test_equal(base + 2, 1000, 0);
	/* capped at once: everything after the first window waits for the end */
	test_equal(base + 3, 64, 1);
	T_END();
}
