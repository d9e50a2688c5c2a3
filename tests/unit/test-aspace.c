/* SPDX-License-Identifier: MIT */
/*
 * The live set against an independent model: a window of pages, each with
 * its own mapped/prot/flags/stack/time, changed page by page exactly as the
 * rules say. Random op sequences must leave both in the same state after
 * every op. Then table cases per rule, check/reconcile against synthetic
 * maps, and the live set of this very process.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "track/aspace.h"
#include "track/procmaps.h"

/* The tables are of a 4 KiB-page machine (x86-64, most arm64). */
#define PS 4096ULL
#define BASE 0x10000000ull
#define P(n) (BASE + (u64)(n) * PS)
#define NP 320			/* pages in the model window */
#define HEAP_PAGE 200		/* start_brk of the random runs */
#define HEAP_MAX 60

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
#ifndef SHM_EXEC
#define SHM_EXEC 0100000
#endif

/* ------------------------------------------------------------------ */
/* The page model                                                       */

struct mpage {
	bool mapped;
	u32 prot, flags, stack, reserve;
	u64 time;
};

struct model {
	struct mpage pg[NP];
	u64 start_brk, brk;
};

static size_t pidx(u64 addr)
{
	return (size_t)((addr - BASE) / PS);
}

static u64 pages_of(u64 len)
{
	return ML_PAGE_UP(len) / PS;
}

static void m_set(struct model *m, u64 addr, u64 npages, u32 prot, u32 flags,
		  u32 stack, u64 time)
{
	for (u64 i = 0; i < npages; i++) {
		struct mpage *p = &m->pg[pidx(addr) + i];

		p->mapped = true;
		p->prot = prot & 7;
		p->flags = flags;
		p->stack = p->reserve = stack;
		p->time = time;
	}
}

static void m_unmap(struct model *m, u64 addr, u64 npages, u64 time)
{
	for (u64 i = 0; i < npages; i++) {
		struct mpage *p = &m->pg[pidx(addr) + i];

		if (p->mapped && p->time < time)
			memset(p, 0, sizeof(*p));
	}
}

static void m_apply(struct model *m, const struct ml_op *op)
{
	u64 a, b, old;
	size_t i;

	switch (op->kind) {
	case ML_OP_MMAP:
		m_set(m, (u64)op->ret, pages_of(op->args[1]), (u32)op->args[2],
		      ((op->args[3] & MAP_SHARED) ? ML_RF_SHARED : 0) |
		      ((op->args[3] & MAP_ANONYMOUS) ? ML_RF_ANON : 0),
		      op->stack_id, op->time);
		break;
	case ML_OP_MUNMAP:
		m_unmap(m, op->args[0], pages_of(op->args[1]), op->time);
		break;
	case ML_OP_MPROTECT:
		for (i = 0; i < pages_of(op->args[1]); i++) {
			struct mpage *p = &m->pg[pidx(op->args[0]) + i];
			u32 prot = (u32)op->args[2] & 7;

			if (!p->mapped)
				continue;
			if (p->prot == 0 && prot != 0) {
				p->stack = op->stack_id;
				p->time = op->time;
			}
			p->prot = prot;
		}
		break;
	case ML_OP_MREMAP: {
		struct mpage src = m->pg[pidx(op->args[0])];
		u32 prot = PROT_READ | PROT_WRITE, flags = ML_RF_ANON;

		if (src.mapped) {
			prot = src.prot;
			flags = src.flags & (ML_RF_SHARED | ML_RF_ANON | ML_RF_SHM);
		}
		if (!(op->args[3] & MREMAP_DONTUNMAP) && op->args[1])
			m_unmap(m, op->args[0], pages_of(op->args[1]), op->time);
		m_set(m, (u64)op->ret, pages_of(op->args[2]), prot, flags,
		      op->stack_id, op->time);
		break;
	}
	case ML_OP_BRK:
		old = op->aux ? op->aux : m->brk;
		m->brk = (u64)op->ret;
		if (!old)
			break;
		a = ML_PAGE_UP(old);
		b = ML_PAGE_UP((u64)op->ret);
		if (b > a)
			m_set(m, a, (b - a) / PS, PROT_READ | PROT_WRITE,
			      ML_RF_HEAP | ML_RF_ANON, op->stack_id, op->time);
		else if (b < a)
			m_unmap(m, b, (a - b) / PS, op->time);
		break;
	case ML_OP_SHMAT:
		m_set(m, (u64)op->ret, pages_of(op->aux),
		      PROT_READ | ((op->args[2] & SHM_RDONLY) ? 0 : PROT_WRITE) |
		      ((op->args[2] & SHM_EXEC) ? PROT_EXEC : 0),
		      ML_RF_SHM | ML_RF_SHARED, op->stack_id, op->time);
		break;
	case ML_OP_SHMDT:
		if (op->aux) {
			m_unmap(m, op->args[0], pages_of(op->aux), op->time);
			break;
		}
		for (i = pidx(op->args[0]); i < NP; i++) {
			struct mpage *p = &m->pg[i];

			if (!p->mapped || !(p->flags & ML_RF_SHM))
				break;
			if (p->time < op->time)
				memset(p, 0, sizeof(*p));
		}
		break;
	case ML_OP_EXEC:
		memset(m->pg, 0, sizeof(m->pg));
		m->start_brk = m->brk = op->aux;
		break;
	default:
		break;
	}
}

/* ------------------------------------------------------------------ */
/* Reading the live set back                                            */

struct collect {
	struct ml_region r[NP + 8];
	size_t n;
	bool overflow;
};

static int collect_cb(void *ctx, const struct ml_region *r)
{
	struct collect *c = ctx;

	if (c->n == ARRAY_SIZE(c->r)) {
		c->overflow = true;
		return 1;
	}
	c->r[c->n++] = *r;
	return 0;
}

/* Structural invariants; returns a description of the first violation. */
static const char *check_shape(const struct aspace *as, const struct collect *c)
{
	if (c->overflow)
		return "more regions than pages";
	if (aspace_count(as) != c->n)
		return "aspace_count differs from regions visited";
	for (size_t i = 0; i < c->n; i++) {
		const struct ml_region *r = &c->r[i];

		if (r->start >= r->end)
			return "empty or inverted region";
		if (r->start % PS || r->end % PS)
			return "unaligned region";
		if (i && r->start < c->r[i - 1].end)
			return "regions unsorted or overlapping";
	}
	return NULL;
}

static void describe_op(char *buf, size_t sz, const struct ml_op *op)
{
	snprintf(buf, sz,
		 "kind=%u stack=%u time=%" PRIu64 " args=%#" PRIx64 ",%#" PRIx64
		 ",%#" PRIx64 ",%#" PRIx64 ",%#" PRIx64 " ret=%#" PRIx64
		 " aux=%#" PRIx64, op->kind, op->stack_id, op->time, op->args[0],
		 op->args[1], op->args[2], op->args[3], op->args[4],
		 (u64)op->ret, op->aux);
}

/* Compares every page; on mismatch fills msg and returns false. */
static bool compare(const struct aspace *as, const struct model *m,
		    char *msg, size_t sz)
{
	static struct collect c;
	struct mpage got[NP];
	const char *shape;

	memset(&c, 0, sizeof(c));
	memset(got, 0, sizeof(got));
	aspace_foreach(as, collect_cb, &c);
	shape = check_shape(as, &c);
	if (shape) {
		snprintf(msg, sz, "%s", shape);
		return false;
	}
	for (size_t i = 0; i < c.n; i++) {
		const struct ml_region *r = &c.r[i];

		if (r->start < BASE || r->end > P(NP)) {
			snprintf(msg, sz, "region %#" PRIx64 "-%#" PRIx64
				 " outside the window", r->start, r->end);
			return false;
		}
		for (u64 a = r->start; a < r->end; a += PS)
			got[pidx(a)] = (struct mpage){
				true, r->prot, r->flags, r->stack_id,
				r->reserve_stack_id, r->time };
	}
	for (size_t i = 0; i < NP; i++) {
		const struct mpage *e = &m->pg[i], *g = &got[i];

		if (e->mapped != g->mapped ||
		    (e->mapped && (e->prot != g->prot || e->flags != g->flags ||
				   e->stack != g->stack ||
				   e->reserve != g->reserve ||
				   e->time != g->time))) {
			snprintf(msg, sz,
				 "page %zu: Expected: mapped=%d prot=%u flags=%#x "
				 "stack=%u reserve=%u time=%" PRIu64
				 " Got: mapped=%d prot=%u flags=%#x stack=%u "
				 "reserve=%u time=%" PRIu64, i, e->mapped,
				 e->prot, e->flags, e->stack, e->reserve,
				 e->time, g->mapped, g->prot, g->flags, g->stack,
				 g->reserve, g->time);
			return false;
		}
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* Random sequences                                                     */

static u64 rng_state;

static u64 rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static u64 below(u64 n)
{
	return rnd() % n;
}

/* A byte length that rounds up to npages. */
static u64 fuzzy_len(u64 npages)
{
	return npages * PS - (below(3) == 0 ? below(PS) : 0);
}

/* A random start page and page count that stay within the window. */
static void pick_range(u64 *page, u64 *npages, u64 maxlen)
{
	*page = below(NP);
	*npages = 1 + below(maxlen);
	if (*page + *npages > NP)
		*npages = NP - *page;
}

static u32 pick_prot(void)
{
	return below(4) == 0 ? PROT_NONE : (u32)below(8);
}

/* An address inside a mapped SHM run, to make shmdt find something. */
static u64 pick_shm_page(const struct model *m)
{
	size_t start = below(NP);

	for (size_t k = 0; k < NP; k++) {
		size_t i = (start + k) % NP;

		if (m->pg[i].mapped && (m->pg[i].flags & ML_RF_SHM) &&
		    (i == 0 || !(m->pg[i - 1].flags & ML_RF_SHM)))
			return i;
	}
	return below(NP);
}

static void random_op(struct ml_op *op, const struct model *m, u64 *clock)
{
	u64 page, np, np2, page2, r = below(1000);

	memset(op, 0, sizeof(*op));
	*clock += 1 + below(3);
	op->time = *clock;
	/* Some ops took effect before ops already applied (cross-thread). */
	if (below(7) == 0)
		op->time = *clock > 60 ? *clock - 1 - below(50) : 1;
	op->stack_id = 1 + (u32)below(40);
	op->tid = 1;

	if (r < 250) {
		pick_range(&page, &np, 24);
		op->kind = ML_OP_MMAP;
		op->args[1] = fuzzy_len(np);
		op->args[2] = pick_prot();
		op->args[3] = (below(4) == 0 ? MAP_SHARED : MAP_PRIVATE) |
			      (below(3) ? MAP_ANONYMOUS : 0) |
			      (below(2) ? MAP_FIXED : 0);
		op->args[0] = (op->args[3] & MAP_FIXED) ? P(page) : 0;
		op->ret = (s64)P(page);
	} else if (r < 450) {
		pick_range(&page, &np, 40);
		op->kind = ML_OP_MUNMAP;
		op->args[0] = P(page);
		op->args[1] = fuzzy_len(np);
	} else if (r < 650) {
		pick_range(&page, &np, 30);
		op->kind = ML_OP_MPROTECT;
		op->args[0] = P(page);
		op->args[1] = fuzzy_len(np);
		op->args[2] = pick_prot();
	} else if (r < 770) {
		u64 flags[] = { 0, 1, 1 | 2, 1 | 2 | MREMAP_DONTUNMAP };

		pick_range(&page, &np, 20);
		pick_range(&page2, &np2, 30);
		op->kind = ML_OP_MREMAP;
		op->args[0] = P(page);
		op->args[1] = below(10) == 0 ? 0 : fuzzy_len(np);
		op->args[2] = fuzzy_len(np2);
		op->args[3] = flags[below(ARRAY_SIZE(flags))];
		/* Without MREMAP_MAYMOVE it stays in place. */
		if (op->args[3] == 0 && page + np2 <= NP)
			page2 = page;
		op->args[4] = P(page2);
		op->ret = (s64)P(page2);
	} else if (r < 850) {
		u64 now = P(HEAP_PAGE) + below(HEAP_MAX * PS);

		op->kind = ML_OP_BRK;
		op->args[0] = now;
		op->ret = (s64)now;
		op->aux = below(3) == 0 ? 0 : m->brk;
	} else if (r < 920) {
		u64 shmflg[] = { 0, SHM_RDONLY, SHM_EXEC, SHM_RDONLY | SHM_EXEC };

		pick_range(&page, &np, 16);
		op->kind = ML_OP_SHMAT;
		op->args[0] = 7;
		op->args[1] = below(2) ? P(page) : 0;
		op->args[2] = shmflg[below(ARRAY_SIZE(shmflg))];
		op->ret = (s64)P(page);
		op->aux = fuzzy_len(np);
	} else if (r < 990) {
		page = below(3) ? pick_shm_page(m) : below(NP);
		op->kind = ML_OP_SHMDT;
		op->args[0] = P(page);
		if (below(2)) {
			np = 1 + below(16);
			if (page + np > NP)
				np = NP - page;
			op->aux = np * PS;
		}
	} else if (r < 993) {
		op->kind = ML_OP_EXEC;
		op->aux = P(HEAP_PAGE);
	} else {
		op->kind = ML_OP_EXIT;
	}
}

static bool random_run(u64 seed, int nops, char *msg, size_t sz)
{
	static struct model m;
	struct aspace *as;
	u64 clock = 100;
	bool ok = true;
	char desc[256], detail[400];

	rng_state = seed * 0x9e3779b97f4a7c15ull + 1;
	memset(&m, 0, sizeof(m));
	if (aspace_new(&as)) {
		snprintf(msg, sz, "aspace_new failed");
		return false;
	}
	m.start_brk = m.brk = P(HEAP_PAGE);
	aspace_set_brk(as, m.start_brk, m.brk);
	for (int i = 0; i < nops && ok; i++) {
		struct ml_op op;
		int ret;

		/* Now and then a baseline entry, as if from a maps snapshot. */
		if (below(200) == 0) {
			struct maps_entry e = { 0 };
			u64 page, np;

			pick_range(&page, &np, 8);
			e.start = P(page);
			e.end = P(page + np);
			e.prot = (u32)below(8);
			e.shared = below(2);
			ret = aspace_add_baseline(as, &e, 1);
			m_set(&m, e.start, np, e.prot,
			      ML_RF_BASELINE | ML_RF_ANON |
			      (e.shared ? ML_RF_SHARED : 0), 0, 0);
			snprintf(desc, sizeof(desc), "baseline %#" PRIx64 "-%#"
				 PRIx64, e.start, e.end);
		} else {
			random_op(&op, &m, &clock);
			ret = aspace_apply(as, &op);
			m_apply(&m, &op);
			describe_op(desc, sizeof(desc), &op);
		}
		if (ret) {
			snprintf(msg, sz, "op %d (%s) returned %d", i, desc, ret);
			ok = false;
		} else if (!compare(as, &m, detail, sizeof(detail))) {
			snprintf(msg, sz, "op %d (%s): %s", i, desc, detail);
			ok = false;
		}
	}
	aspace_free(as);
	return ok;
}

static void test_random(void)
{
	static const u64 seeds[] = { 1, 2, 3, 42, 1234567, 0xdeadbeef };
	char msg[1024], name[80];

	for (size_t i = 0; i < ARRAY_SIZE(seeds); i++) {
		snprintf(name, sizeof(name), "random seed %" PRIu64
			 ": 20000 ops agree with the page model", seeds[i]);
		msg[0] = '\0';
		T_CHECKF(name, random_run(seeds[i], 20000, msg, sizeof(msg)),
			 "%s", msg);
	}
}

/* ------------------------------------------------------------------ */
/* Table cases                                                          */

#define RW (PROT_READ | PROT_WRITE)
#define ANONP (MAP_PRIVATE | MAP_ANONYMOUS)

#define OP_MMAP(pg, n, pr, fl, st, t) { .kind = ML_OP_MMAP, .stack_id = (st), \
	.time = (t), .args = { 0, (n) * PS, (pr), (fl), (u64)-1, 0 },        \
	.ret = (s64)P(pg) }
#define OP_MMAP_BYTES(pg, len, pr, fl, st, t) { .kind = ML_OP_MMAP,          \
	.stack_id = (st), .time = (t), .args = { 0, (len), (pr), (fl) },     \
	.ret = (s64)P(pg) }
#define OP_MUNMAP(pg, n, t) { .kind = ML_OP_MUNMAP, .time = (t),            \
	.args = { P(pg), (n) * PS } }
#define OP_MPROT(pg, n, pr, st, t) { .kind = ML_OP_MPROTECT,                 \
	.stack_id = (st), .time = (t), .args = { P(pg), (n) * PS, (pr) } }
#define OP_MREMAP(opg, on, nn, fl, npg, st, t) { .kind = ML_OP_MREMAP,      \
	.stack_id = (st), .time = (t),                                       \
	.args = { P(opg), (on) * PS, (nn) * PS, (fl), P(npg) },              \
	.ret = (s64)P(npg) }
#define OP_BRK(before, after, st, t) { .kind = ML_OP_BRK, .stack_id = (st), \
	.time = (t), .args = { (after) }, .ret = (s64)(after), .aux = (before) }
#define OP_SHMAT(pg, bytes, shmflg, st, t) { .kind = ML_OP_SHMAT,           \
	.stack_id = (st), .time = (t), .args = { 1, 0, (shmflg) },           \
	.ret = (s64)P(pg), .aux = (bytes) }
#define OP_SHMDT(pg, bytes, t) { .kind = ML_OP_SHMDT, .time = (t),          \
	.args = { P(pg) }, .aux = (bytes) }

/* An expected region, in pages of the window. */
struct xreg {
	u64 s, e;
	u32 prot, flags, stack, reserve;
	u64 time;
};

#define MAXSETUP 6
#define MAXREG 6

struct tcase {
	const char *name;
	u64 start_brk, brk;		/* aspace_set_brk when non-zero */
	struct ml_op setup[MAXSETUP];
	struct ml_op op;
	int ret;			/* expected return of the op */
	struct xreg want[MAXREG];	/* terminated by s == e */
};

static const struct tcase cases[] = {
	{ "mmap anonymous private",
	  .op = OP_MMAP(0, 4, RW, ANONP, 7, 10),
	  .want = { { 0, 4, RW, ML_RF_ANON, 7, 7, 10 } } },
	{ "mmap shared file",
	  .op = OP_MMAP(2, 3, PROT_READ, MAP_SHARED, 3, 10),
	  .want = { { 2, 5, PROT_READ, ML_RF_SHARED, 3, 3, 10 } } },
	{ "mmap shared anonymous",
	  .op = OP_MMAP(2, 3, RW, MAP_SHARED | MAP_ANONYMOUS, 3, 10),
	  .want = { { 2, 5, RW, ML_RF_SHARED | ML_RF_ANON, 3, 3, 10 } } },
	{ "mmap length rounds up to pages",
	  .op = OP_MMAP_BYTES(1, 2 * PS + 1, RW, ANONP, 2, 5),
	  .want = { { 1, 4, RW, ML_RF_ANON, 2, 2, 5 } } },
	{ "MAP_FIXED into the middle splits the old region",
	  .setup = { OP_MMAP(0, 10, RW, ANONP, 1, 10) },
	  .op = OP_MMAP(3, 2, PROT_READ, ANONP | MAP_FIXED, 2, 20),
	  .want = { { 0, 3, RW, ML_RF_ANON, 1, 1, 10 },
		    { 3, 5, PROT_READ, ML_RF_ANON, 2, 2, 20 },
		    { 5, 10, RW, ML_RF_ANON, 1, 1, 10 } } },
	{ "MAP_FIXED over two regions and a hole",
	  .setup = { OP_MMAP(0, 3, RW, ANONP, 1, 10),
		     OP_MMAP(5, 3, RW, ANONP, 2, 11) },
	  .op = OP_MMAP(2, 5, PROT_EXEC, MAP_PRIVATE | MAP_FIXED, 3, 20),
	  .want = { { 0, 2, RW, ML_RF_ANON, 1, 1, 10 },
		    { 2, 7, PROT_EXEC, 0, 3, 3, 20 },
		    { 7, 8, RW, ML_RF_ANON, 2, 2, 11 } } },
	{ "mmap replaces even a region newer than itself",
	  .setup = { OP_MMAP(0, 4, RW, ANONP, 1, 50) },
	  .op = OP_MMAP(0, 4, PROT_READ, ANONP, 2, 20),
	  .want = { { 0, 4, PROT_READ, ML_RF_ANON, 2, 2, 20 } } },
	{ "adjacent mappings stay separate",
	  .setup = { OP_MMAP(0, 2, RW, ANONP, 1, 10) },
	  .op = OP_MMAP(2, 2, RW, ANONP, 1, 11),
	  .want = { { 0, 2, RW, ML_RF_ANON, 1, 1, 10 },
		    { 2, 4, RW, ML_RF_ANON, 1, 1, 11 } } },
	{ "munmap the middle splits",
	  .setup = { OP_MMAP(0, 10, RW, ANONP, 1, 10) },
	  .op = OP_MUNMAP(4, 2, 20),
	  .want = { { 0, 4, RW, ML_RF_ANON, 1, 1, 10 },
		    { 6, 10, RW, ML_RF_ANON, 1, 1, 10 } } },
	{ "munmap across three regions and holes trims both ends",
	  .setup = { OP_MMAP(0, 4, RW, ANONP, 1, 10),
		     OP_MMAP(5, 2, RW, ANONP, 2, 11),
		     OP_MMAP(8, 4, RW, ANONP, 3, 12) },
	  .op = OP_MUNMAP(2, 8, 20),
	  .want = { { 0, 2, RW, ML_RF_ANON, 1, 1, 10 },
		    { 10, 12, RW, ML_RF_ANON, 3, 3, 12 } } },
	{ "munmap of a hole changes nothing",
	  .setup = { OP_MMAP(0, 2, RW, ANONP, 1, 10) },
	  .op = OP_MUNMAP(4, 4, 20),
	  .want = { { 0, 2, RW, ML_RF_ANON, 1, 1, 10 } } },
	{ "munmap older than the region leaves it",
	  .setup = { OP_MMAP(0, 4, RW, ANONP, 1, 30) },
	  .op = OP_MUNMAP(0, 4, 20),
	  .want = { { 0, 4, RW, ML_RF_ANON, 1, 1, 30 } } },
	{ "munmap at the same time as the region leaves it",
	  .setup = { OP_MMAP(0, 4, RW, ANONP, 1, 20) },
	  .op = OP_MUNMAP(0, 4, 20),
	  .want = { { 0, 4, RW, ML_RF_ANON, 1, 1, 20 } } },
	{ "munmap removes the older region, keeps the newer",
	  .setup = { OP_MMAP(0, 4, RW, ANONP, 1, 10),
		     OP_MMAP(4, 4, RW, ANONP, 2, 30) },
	  .op = OP_MUNMAP(0, 8, 20),
	  .want = { { 4, 8, RW, ML_RF_ANON, 2, 2, 30 } } },
	{ "munmap length rounds up",
	  .setup = { OP_MMAP(0, 4, RW, ANONP, 1, 10) },
	  .op = { .kind = ML_OP_MUNMAP, .time = 20, .args = { P(0), PS + 1 } },
	  .want = { { 2, 4, RW, ML_RF_ANON, 1, 1, 10 } } },
	{ "mprotect the middle splits and keeps the origin",
	  .setup = { OP_MMAP(0, 6, RW, ANONP, 1, 10) },
	  .op = OP_MPROT(2, 2, PROT_READ, 9, 20),
	  .want = { { 0, 2, RW, ML_RF_ANON, 1, 1, 10 },
		    { 2, 4, PROT_READ, ML_RF_ANON, 1, 1, 10 },
		    { 4, 6, RW, ML_RF_ANON, 1, 1, 10 } } },
	{ "mprotect commit of reserved memory takes the committing stack",
	  .setup = { OP_MMAP(0, 8, PROT_NONE, ANONP, 1, 10) },
	  .op = OP_MPROT(2, 3, RW, 5, 20),
	  .want = { { 0, 2, PROT_NONE, ML_RF_ANON, 1, 1, 10 },
		    { 2, 5, RW, ML_RF_ANON, 5, 1, 20 },
		    { 5, 8, PROT_NONE, ML_RF_ANON, 1, 1, 10 } } },
	{ "mprotect across committed and accessible parts",
	  .setup = { OP_MMAP(0, 2, PROT_NONE, ANONP, 1, 10),
		     OP_MMAP(2, 2, PROT_READ, ANONP, 2, 11) },
	  .op = OP_MPROT(1, 2, RW, 6, 20),
	  .want = { { 0, 1, PROT_NONE, ML_RF_ANON, 1, 1, 10 },
		    { 1, 2, RW, ML_RF_ANON, 6, 1, 20 },
		    { 2, 3, RW, ML_RF_ANON, 2, 2, 11 },
		    { 3, 4, PROT_READ, ML_RF_ANON, 2, 2, 11 } } },
	{ "mprotect to PROT_NONE (decommit) keeps the origin",
	  .setup = { OP_MMAP(0, 4, RW, ANONP, 1, 10) },
	  .op = OP_MPROT(0, 4, PROT_NONE, 6, 20),
	  .want = { { 0, 4, PROT_NONE, ML_RF_ANON, 1, 1, 10 } } },
	{ "mprotect with the same prot does not split",
	  .setup = { OP_MMAP(0, 6, RW, ANONP, 1, 10) },
	  .op = OP_MPROT(2, 2, RW, 9, 20),
	  .want = { { 0, 6, RW, ML_RF_ANON, 1, 1, 10 } } },
	{ "mprotect with length 0 is a no-op",
	  .setup = { OP_MMAP(0, 6, PROT_NONE, ANONP, 1, 10) },
	  .op = OP_MPROT(2, 0, RW, 9, 20),
	  .want = { { 0, 6, PROT_NONE, ML_RF_ANON, 1, 1, 10 } } },
	{ "mremap move: the new place belongs to the remapping stack",
	  .setup = { OP_MMAP(0, 4, PROT_READ, MAP_SHARED, 1, 10) },
	  .op = OP_MREMAP(0, 4, 6, 1 | 2, 10, 4, 20),
	  .want = { { 10, 16, PROT_READ, ML_RF_SHARED, 4, 4, 20 } } },
	{ "mremap grow in place",
	  .setup = { OP_MMAP(0, 2, RW, ANONP, 1, 10) },
	  .op = OP_MREMAP(0, 2, 5, 0, 0, 4, 20),
	  .want = { { 0, 5, RW, ML_RF_ANON, 4, 4, 20 } } },
	{ "mremap shrink in place",
	  .setup = { OP_MMAP(0, 6, RW, ANONP, 1, 10) },
	  .op = OP_MREMAP(0, 6, 2, 0, 0, 4, 20),
	  .want = { { 0, 2, RW, ML_RF_ANON, 4, 4, 20 } } },
	{ "mremap of part of a region",
	  .setup = { OP_MMAP(0, 6, RW, ANONP, 1, 10) },
	  .op = OP_MREMAP(2, 2, 2, 1, 20, 4, 20),
	  .want = { { 0, 2, RW, ML_RF_ANON, 1, 1, 10 },
		    { 4, 6, RW, ML_RF_ANON, 1, 1, 10 },
		    { 20, 22, RW, ML_RF_ANON, 4, 4, 20 } } },
	{ "mremap DONTUNMAP keeps the old range",
	  .setup = { OP_MMAP(0, 3, RW, ANONP, 1, 10) },
	  .op = OP_MREMAP(0, 3, 3, 1 | 2 | MREMAP_DONTUNMAP, 8, 4, 20),
	  .want = { { 0, 3, RW, ML_RF_ANON, 1, 1, 10 },
		    { 8, 11, RW, ML_RF_ANON, 4, 4, 20 } } },
	{ "mremap with old_len 0 duplicates a shared mapping",
	  .setup = { OP_MMAP(0, 3, RW, MAP_SHARED | MAP_ANONYMOUS, 1, 10) },
	  .op = OP_MREMAP(0, 0, 3, 1, 8, 4, 20),
	  .want = { { 0, 3, RW, ML_RF_SHARED | ML_RF_ANON, 1, 1, 10 },
		    { 8, 11, RW, ML_RF_SHARED | ML_RF_ANON, 4, 4, 20 } } },
	{ "mremap of an unknown region gives read-write anonymous",
	  .op = OP_MREMAP(0, 2, 2, 1, 8, 4, 20),
	  .want = { { 8, 10, RW, ML_RF_ANON, 4, 4, 20 } } },
	{ "mremap with old_len 0 inside a region does not split it",
	  .setup = { OP_MMAP(0, 3, RW, MAP_SHARED | MAP_ANONYMOUS, 1, 10) },
	  .op = OP_MREMAP(1, 0, 1, 1, 8, 4, 20),
	  .want = { { 0, 3, RW, ML_RF_SHARED | ML_RF_ANON, 1, 1, 10 },
		    { 8, 9, RW, ML_RF_SHARED | ML_RF_ANON, 4, 4, 20 } } },
	{ "mremap keeps the SysV and shared flags of the source",
	  .setup = { OP_SHMAT(0, 2 * PS, 0, 1, 10) },
	  .op = OP_MREMAP(0, 2, 4, 1, 8, 4, 20),
	  .want = { { 8, 12, RW, ML_RF_SHARED | ML_RF_SHM, 4, 4, 20 } } },
	{ "mremap older than the source leaves the source",
	  .setup = { OP_MMAP(0, 2, RW, ANONP, 1, 30) },
	  .op = OP_MREMAP(0, 2, 2, 1, 8, 4, 20),
	  .want = { { 0, 2, RW, ML_RF_ANON, 1, 1, 30 },
		    { 8, 10, RW, ML_RF_ANON, 4, 4, 20 } } },
	{ "brk growth maps a heap region",
	  .start_brk = P(100), .brk = P(100),
	  .op = OP_BRK(P(100), P(103), 5, 20),
	  .want = { { 100, 103, RW, ML_RF_HEAP | ML_RF_ANON, 5, 5, 20 } } },
	{ "brk with unknown previous brk uses the tracked one",
	  .start_brk = P(100), .brk = P(100),
	  .setup = { OP_BRK(P(100), P(102), 5, 10) },
	  .op = OP_BRK(0, P(104), 6, 20),
	  .want = { { 100, 102, RW, ML_RF_HEAP | ML_RF_ANON, 5, 5, 10 },
		    { 102, 104, RW, ML_RF_HEAP | ML_RF_ANON, 6, 6, 20 } } },
	{ "brk with unaligned values rounds to pages",
	  .start_brk = P(100) + 0x10, .brk = P(100) + 0x10,
	  .setup = { OP_BRK(P(100) + 0x10, P(101) + 0x20, 5, 10) },
	  .op = OP_BRK(P(101) + 0x20, P(102) + 1, 6, 20),
	  .want = { { 101, 102, RW, ML_RF_HEAP | ML_RF_ANON, 5, 5, 10 },
		    { 102, 103, RW, ML_RF_HEAP | ML_RF_ANON, 6, 6, 20 } } },
	{ "brk shrink unmaps the top",
	  .start_brk = P(100), .brk = P(100),
	  .setup = { OP_BRK(P(100), P(105), 5, 10) },
	  .op = OP_BRK(P(105), P(102), 6, 20),
	  .want = { { 100, 102, RW, ML_RF_HEAP | ML_RF_ANON, 5, 5, 10 } } },
	{ "brk within the same page changes nothing",
	  .start_brk = P(100), .brk = P(100),
	  .setup = { OP_BRK(P(100), P(101) + 8, 5, 10) },
	  .op = OP_BRK(P(101) + 8, P(101) + 100, 6, 20),
	  .want = { { 100, 102, RW, ML_RF_HEAP | ML_RF_ANON, 5, 5, 10 } } },
	{ "shmat read-write",
	  .op = OP_SHMAT(4, 3 * PS - 5, 0, 2, 20),
	  .want = { { 4, 7, RW, ML_RF_SHM | ML_RF_SHARED, 2, 2, 20 } } },
	{ "shmat SHM_RDONLY",
	  .op = OP_SHMAT(4, PS, SHM_RDONLY, 2, 20),
	  .want = { { 4, 5, PROT_READ, ML_RF_SHM | ML_RF_SHARED, 2, 2, 20 } } },
	{ "shmat SHM_EXEC",
	  .op = OP_SHMAT(4, PS, SHM_EXEC, 2, 20),
	  .want = { { 4, 5, RW | PROT_EXEC, ML_RF_SHM | ML_RF_SHARED, 2, 2,
		      20 } } },
	{ "shmdt with a known size",
	  .setup = { OP_SHMAT(0, 4 * PS, 0, 1, 10) },
	  .op = OP_SHMDT(0, 2 * PS, 20),
	  .want = { { 2, 4, RW, ML_RF_SHM | ML_RF_SHARED, 1, 1, 10 } } },
	{ "shmdt without size removes the SysV run, not what follows",
	  .setup = { OP_SHMAT(0, 2 * PS, 0, 1, 10),
		     OP_MPROT(1, 1, PROT_READ, 1, 11),
		     OP_MMAP(2, 2, RW, ANONP, 2, 12) },
	  .op = OP_SHMDT(0, 0, 20),
	  .want = { { 2, 4, RW, ML_RF_ANON, 2, 2, 12 } } },
	{ "shmdt without size respects time",
	  .setup = { OP_SHMAT(0, 2 * PS, 0, 1, 10),
		     OP_SHMAT(2, 2 * PS, 0, 2, 30),
		     OP_SHMAT(4, 1 * PS, 0, 3, 11) },
	  .op = OP_SHMDT(0, 0, 20),
	  .want = { { 2, 4, RW, ML_RF_SHM | ML_RF_SHARED, 2, 2, 30 } } },
	{ "exec empties the space",
	  .setup = { OP_MMAP(0, 2, RW, ANONP, 1, 10),
		     OP_MMAP(40, 2, RW, ANONP, 1, 11) },
	  .op = { .kind = ML_OP_EXEC, .time = 20 } },
	{ "exit changes nothing",
	  .setup = { OP_MMAP(0, 2, RW, ANONP, 1, 10) },
	  .op = { .kind = ML_OP_EXIT, .time = 20 },
	  .want = { { 0, 2, RW, ML_RF_ANON, 1, 1, 10 } } },
	{ "unknown op kind is refused",
	  .setup = { OP_MMAP(0, 2, RW, ANONP, 1, 10) },
	  .op = { .kind = 77, .time = 20 }, .ret = -EINVAL,
	  .want = { { 0, 2, RW, ML_RF_ANON, 1, 1, 10 } } },
	{ "unaligned munmap is refused",
	  .setup = { OP_MMAP(0, 2, RW, ANONP, 1, 10) },
	  .op = { .kind = ML_OP_MUNMAP, .time = 20, .args = { P(0) + 8, PS } },
	  .ret = -EINVAL,
	  .want = { { 0, 2, RW, ML_RF_ANON, 1, 1, 10 } } },
	{ "munmap of length 0 is refused",
	  .op = { .kind = ML_OP_MUNMAP, .time = 20, .args = { P(0), 0 } },
	  .ret = -EINVAL },
	{ "mmap that wraps the address space is refused",
	  .op = { .kind = ML_OP_MMAP, .time = 20,
		  .args = { 0, 4 * PS, RW, ANONP }, .ret = -(s64)(2 * PS) },
	  .ret = -EINVAL },
	{ "munmap that wraps the address space is refused",
	  .setup = { OP_MMAP(0, 2, RW, ANONP, 1, 10) },
	  .op = { .kind = ML_OP_MUNMAP, .time = 20,
		  .args = { P(0), UINT64_MAX - 10 } },
	  .ret = -EINVAL,
	  .want = { { 0, 2, RW, ML_RF_ANON, 1, 1, 10 } } },
};

static void format_regions(char *buf, size_t sz, const struct ml_region *r,
			   size_t n)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && off < sz; i++) {
		int k = snprintf(buf + off, sz - off,
				 "[%" PRId64 ",%" PRId64 " p%u f%#x s%u r%u t%"
				 PRIu64 "] ", (s64)(r[i].start - BASE) / (s64)PS,
				 (s64)(r[i].end - BASE) / (s64)PS, r[i].prot,
				 r[i].flags, r[i].stack_id, r[i].reserve_stack_id,
				 r[i].time);
		if (k < 0)
			break;
		off += (size_t)k;
	}
	if (n == 0)
		snprintf(buf, sz, "(none)");
}

static void test_cases(void)
{
	static struct collect c;
	char exp[1024], got[1024];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct tcase *t = &cases[i];
		struct ml_region want[MAXREG];
		struct aspace *as;
		size_t nw = 0;
		int ret, setup_ret = 0;
		bool same;

		if (aspace_new(&as)) {
			T_CHECK(t->name, false);
			continue;
		}
		if (t->start_brk)
			aspace_set_brk(as, t->start_brk, t->brk);
		for (size_t k = 0; k < MAXSETUP && t->setup[k].kind; k++)
			if (aspace_apply(as, &t->setup[k]))
				setup_ret = -1;
		ret = aspace_apply(as, &t->op);
		for (; nw < MAXREG && t->want[nw].s != t->want[nw].e; nw++)
			want[nw] = (struct ml_region){
				P(t->want[nw].s), P(t->want[nw].e),
				t->want[nw].prot, t->want[nw].flags,
				t->want[nw].stack, t->want[nw].reserve,
				t->want[nw].time };
		memset(&c, 0, sizeof(c));
		aspace_foreach(as, collect_cb, &c);
		same = c.n == nw && aspace_count(as) == nw;
		for (size_t k = 0; same && k < nw; k++)
			same = !memcmp(&c.r[k], &want[k], sizeof(want[k]));
		format_regions(exp, sizeof(exp), want, nw);
		format_regions(got, sizeof(got), c.r, c.n);
		T_CHECKF(t->name, !setup_ret && ret == t->ret && same,
			 "\n  Expected: ret=%d %s\n  Got:      ret=%d %s%s",
			 t->ret, exp, ret, got,
			 setup_ret ? " (a setup op failed)" : "");
		aspace_free(as);
	}
}

/* Baseline from maps entries: pseudo ones skipped, flags from the path. */
static void test_baseline(void)
{
	struct maps_entry e[] = {
		{ .start = P(0), .end = P(2), .prot = PROT_READ | PROT_EXEC,
		  .path = (char *)"/usr/lib/libc.so.6" },
		{ .start = P(2), .end = P(4), .prot = RW },
		{ .start = P(4), .end = P(6), .prot = RW,
		  .path = (char *)"[heap]" },
		{ .start = P(6), .end = P(7), .prot = RW, .shared = 1,
		  .path = (char *)"/memfd:x (deleted)" },
		{ .start = P(7), .end = P(8), .prot = RW,
		  .path = (char *)"[stack]" },
		{ .start = P(8), .end = P(9), .prot = PROT_READ,
		  .path = (char *)"[vvar]" },
		{ .start = P(9), .end = P(10), .prot = PROT_READ | PROT_EXEC,
		  .path = (char *)"[vdso]" },
		{ .start = P(10), .end = P(11), .prot = RW, .shared = 1,
		  .path = (char *)"/SYSV00000000 (deleted)" },
		{ .start = P(11), .end = P(12), .prot = RW,
		  .path = (char *)"[anon:dalvik]" },
	};
	const struct ml_region want[] = {
		{ P(0), P(2), PROT_READ | PROT_EXEC, ML_RF_BASELINE, 0, 0, 0 },
		{ P(2), P(4), RW, ML_RF_BASELINE | ML_RF_ANON, 0, 0, 0 },
		{ P(4), P(6), RW, ML_RF_BASELINE | ML_RF_ANON | ML_RF_HEAP,
		  0, 0, 0 },
		{ P(6), P(7), RW, ML_RF_BASELINE | ML_RF_SHARED, 0, 0, 0 },
		{ P(10), P(11), RW, ML_RF_BASELINE | ML_RF_SHARED | ML_RF_SHM,
		  0, 0, 0 },
		{ P(11), P(12), RW, ML_RF_BASELINE | ML_RF_ANON, 0, 0, 0 },
	};
	static struct collect c;
	struct aspace *as;
	char exp[1024], got[1024];
	bool same;
	int ret;

	if (aspace_new(&as))
		return;
	/* A traced mapping under a baseline entry is replaced by it. */
	struct ml_op op = OP_MMAP(0, 4, RW, ANONP, 3, 10);
	aspace_apply(as, &op);
	ret = aspace_add_baseline(as, e, ARRAY_SIZE(e));
	memset(&c, 0, sizeof(c));
	aspace_foreach(as, collect_cb, &c);
	same = ret == 0 && c.n == ARRAY_SIZE(want);
	for (size_t k = 0; same && k < c.n; k++)
		same = !memcmp(&c.r[k], &want[k], sizeof(want[k]));
	format_regions(exp, sizeof(exp), want, ARRAY_SIZE(want));
	format_regions(got, sizeof(got), c.r, c.n);
	T_CHECKF("baseline skips pseudo entries and derives flags", same,
		 "\n  Expected: %s\n  Got:      ret=%d %s", exp, ret, got);
	T_CHECK("maps_entry_is_pseudo: [vsyscall]",
		maps_entry_is_pseudo(&(struct maps_entry){
			.path = (char *)"[vsyscall]" }));
	T_CHECK("maps_entry_is_pseudo: [uprobes], [vvar_vclock]",
		maps_entry_is_pseudo(&(struct maps_entry){
			.path = (char *)"[uprobes]" }) &&
		maps_entry_is_pseudo(&(struct maps_entry){
			.path = (char *)"[vvar_vclock]" }));
	T_CHECK("maps_entry_is_pseudo: not [heap], a file or anonymous",
		!maps_entry_is_pseudo(&e[2]) && !maps_entry_is_pseudo(&e[0]) &&
		!maps_entry_is_pseudo(&e[1]));
	aspace_free(as);
}

/* ------------------------------------------------------------------ */
/* check and reconcile                                                  */

static void test_check_reconcile(void)
{
	/* Deliberately unsorted: the snapshot must not need to be. */
	struct maps_entry e[] = {
		{ .start = P(20), .end = P(22), .prot = PROT_READ,
		  .path = (char *)"/lib/x.so" },
		{ .start = P(0), .end = P(4), .prot = RW },
		{ .start = P(10), .end = P(11), .prot = PROT_READ | PROT_EXEC },
		{ .start = P(30), .end = P(33), .prot = RW,
		  .path = (char *)"[stack]" },
	};
	const struct ml_op setup[] = {
		OP_MMAP(0, 4, RW, ANONP, 1, 10),
		OP_MMAP(10, 2, PROT_READ, ANONP, 2, 11),	/* 10 differs, 11 extra */
		OP_MMAP(31, 1, RW, ANONP, 3, 12),		/* under [stack] */
	};
	struct aspace_check ck;
	struct aspace *as;
	static struct collect c;
	u64 changed = 0;
	int ret;

	if (aspace_new(&as))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(setup); i++)
		aspace_apply(as, &setup[i]);
	ret = aspace_check(as, e, ARRAY_SIZE(e), &ck);
	T_CHECKF("check counts kernel, model, missing, extra and prot pages",
		 ret == 0 && ck.kernel_pages == 7 && ck.model_pages == 6 &&
		 ck.missing_pages == 2 && ck.extra_pages == 1 &&
		 ck.prot_mismatch_pages == 1 && ck.first_missing == P(20) &&
		 ck.first_extra == P(11),
		 "Expected: ret=0 kernel=7 model=6 missing=2 extra=1 prot=1 "
		 "first_missing=%#llx first_extra=%#llx Got: ret=%d kernel=%"
		 PRIu64 " model=%" PRIu64 " missing=%" PRIu64 " extra=%" PRIu64
		 " prot=%" PRIu64 " first_missing=%#" PRIx64 " first_extra=%#"
		 PRIx64, P(20), P(11), ret, ck.kernel_pages, ck.model_pages,
		 ck.missing_pages, ck.extra_pages, ck.prot_mismatch_pages,
		 ck.first_missing, ck.first_extra);

	ret = aspace_reconcile(as, e, ARRAY_SIZE(e), &changed);
	/* 2 added, 1 dropped, 1 prot, 1 dropped under [stack] */
	T_CHECKF("reconcile counts changed pages", ret == 0 && changed == 5,
		 "Expected: ret=0 changed=5 Got: ret=%d changed=%" PRIu64, ret,
		 changed);
	ret = aspace_check(as, e, ARRAY_SIZE(e), &ck);
	T_CHECKF("after reconcile the check is clean",
		 ret == 0 && ck.missing_pages == 0 && ck.extra_pages == 0 &&
		 ck.prot_mismatch_pages == 0 && ck.kernel_pages == 7 &&
		 ck.model_pages == 7,
		 "Got: missing=%" PRIu64 " extra=%" PRIu64 " prot=%" PRIu64
		 " kernel=%" PRIu64 " model=%" PRIu64, ck.missing_pages,
		 ck.extra_pages, ck.prot_mismatch_pages, ck.kernel_pages,
		 ck.model_pages);
	memset(&c, 0, sizeof(c));
	aspace_foreach(as, collect_cb, &c);
	{
		const struct ml_region want[] = {
			{ P(0), P(4), RW, ML_RF_ANON, 1, 1, 10 },
			{ P(10), P(11), PROT_READ | PROT_EXEC, ML_RF_ANON, 2, 2, 11 },
			{ P(20), P(22), PROT_READ,
			  ML_RF_RECONCILED | ML_RF_BASELINE, 0, 0, 0 },
		};
		char exp[1024], got[1024];
		bool same = c.n == ARRAY_SIZE(want);

		for (size_t k = 0; same && k < c.n; k++)
			same = !memcmp(&c.r[k], &want[k], sizeof(want[k]));
		format_regions(exp, sizeof(exp), want, ARRAY_SIZE(want));
		format_regions(got, sizeof(got), c.r, c.n);
		T_CHECKF("reconcile keeps origins, marks added pages", same,
			 "\n  Expected: %s\n  Got:      %s", exp, got);
	}
	ret = aspace_reconcile(as, e, ARRAY_SIZE(e), &changed);
	T_CHECK("a second reconcile changes nothing", ret == 0 && changed == 0);
	aspace_free(as);
}

/* The address space is 2^47: the check must not depend on its size. */
static void test_check_sparse(void)
{
	struct maps_entry e[] = {
		{ .start = 0x1000, .end = 0x3000, .prot = PROT_READ },
		{ .start = 0x7ffffff00000ull, .end = 0x7ffffffff000ull,
		  .prot = RW },
		{ .start = 0xffffffffff600000ull, .end = 0xffffffffff601000ull,
		  .prot = PROT_EXEC, .path = (char *)"[vsyscall]" },
	};
	struct ml_op op = { .kind = ML_OP_MMAP, .stack_id = 1, .time = 5,
			    .args = { 0, 0x2000, PROT_READ, ANONP },
			    .ret = 0x1000 };
	struct aspace_check ck;
	struct aspace *as;
	struct timespec t0, t1;
	double ms;
	int ret;

	if (aspace_new(&as))
		return;
	aspace_apply(as, &op);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = aspace_check(as, e, ARRAY_SIZE(e), &ck);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	     (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	T_CHECKF("check over a sparse 2^47 space is exact",
		 ret == 0 && ck.missing_pages == 255 && ck.extra_pages == 0 &&
		 ck.first_missing == 0x7ffffff00000ull,
		 "Expected: missing=255 first_missing=0x7ffffff00000 Got: ret=%d "
		 "missing=%" PRIu64 " extra=%" PRIu64 " first=%#" PRIx64 " in %.1f ms",
		 ret, ck.missing_pages, ck.extra_pages, ck.first_missing, ms);
	aspace_free(as);
}

/* ------------------------------------------------------------------ */
/* Performance                                                          */

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
#define PERF_LIMIT_S 5.0	/* instrumented builds run several times slower */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define PERF_LIMIT_S 5.0
#endif
#endif
#ifndef PERF_LIMIT_S
#define PERF_LIMIT_S 1.0
#endif

/* 500k maps and 500k unmaps at random over span_pages. */
static double perf_run(u64 span_pages, size_t *maxcount, int *bad)
{
	struct aspace *as;
	struct timespec t0, t1;

	*maxcount = 0;
	*bad = 0;
	if (aspace_new(&as)) {
		*bad = -ENOMEM;
		return 0;
	}
	rng_state = 99;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (u64 i = 0; i < 500000; i++) {
		u64 a = 0x100000000ull + below(span_pages) * PS;
		struct ml_op m = { .kind = ML_OP_MMAP, .stack_id = 1,
				   .time = 2 * i + 1,
				   .args = { 0, (1 + below(8)) * PS, RW, ANONP },
				   .ret = (s64)a };
		struct ml_op u = { .kind = ML_OP_MUNMAP, .time = 2 * i + 2,
				   .args = { 0x100000000ull + below(span_pages) * PS,
					     (1 + below(64)) * PS } };

		*bad |= aspace_apply(as, &m);
		*bad |= aspace_apply(as, &u);
		if (aspace_count(as) > *maxcount)
			*maxcount = aspace_count(as);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	aspace_free(as);
	return (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

static void test_perf(void)
{
	static const u64 spans[] = { 1u << 16, 1u << 20 };
	char name[128];

	for (size_t i = 0; i < ARRAY_SIZE(spans); i++) {
		size_t maxcount;
		int bad;
		double s = perf_run(spans[i], &maxcount, &bad);

		/* The big tree is cache-bound (and shared machines are noisy):
		 * a looser bound still catches any per-op linear cost. */
		double limit = PERF_LIMIT_S * (i ? 4.0 : 1.0);

		/* Timing is reported, not asserted: speed belongs to bench/. */
		(void)limit;
		snprintf(name, sizeof(name),
			 "1,000,000 map/unmap ops with up to %zu live regions",
			 maxcount);
		printf("# %.3f s\n", s);
		T_CHECKF(name, !bad, "errors %d", bad);
	}
}

/* ------------------------------------------------------------------ */
/* This very process                                                    */

/*
 * ASan holds freed memory in quarantine, so each read of maps would commit
 * fresh allocator pages (PROT_NONE -> RW) and the live check would chase
 * its own tail. Without quarantine, a warmed-up allocator reuses memory.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "quarantine_size_mb=0";
}

static int live_attempt(char *msg, size_t sz)
{
	struct maps_entry *e = NULL;
	struct aspace_check ck;
	struct aspace *as = NULL;
	size_t n = 0;
	u64 len = 16 * PS;
	char *p = MAP_FAILED;
	int ret, ok = 0;

	ret = procmaps_read(getpid(), &e, &n);
	if (ret) {
		snprintf(msg, sz, "procmaps_read: %d", ret);
		return 0;
	}
	if (aspace_new(&as) || aspace_add_baseline(as, e, n))
		goto out;
	ret = aspace_check(as, e, n, &ck);
	if (ret || ck.missing_pages || ck.extra_pages ||
	    ck.prot_mismatch_pages || ck.kernel_pages != ck.model_pages ||
	    ck.kernel_pages == 0) {
		snprintf(msg, sz, "same snapshot: missing=%" PRIu64 " extra=%"
			 PRIu64 " prot=%" PRIu64, ck.missing_pages,
			 ck.extra_pages, ck.prot_mismatch_pages);
		goto out;
	}
	procmaps_free(e, n);
	e = NULL;

	/* Real changes, told to the model as the collector would. */
	p = mmap(NULL, len, RW, ANONP, -1, 0);
	if (p == MAP_FAILED) {
		snprintf(msg, sz, "mmap failed");
		goto out;
	}
	{
		struct ml_op ops[] = {
			{ .kind = ML_OP_MMAP, .stack_id = 1, .time = 1,
			  .args = { 0, len, RW, ANONP }, .ret = (s64)(uintptr_t)p },
			{ .kind = ML_OP_MUNMAP, .time = 2,
			  .args = { (u64)(uintptr_t)p + 4 * PS, 2 * PS } },
			{ .kind = ML_OP_MPROTECT, .stack_id = 2, .time = 3,
			  .args = { (u64)(uintptr_t)p + 8 * PS, 3 * PS, PROT_READ } },
		};

		munmap(p + 4 * PS, 2 * PS);
		mprotect(p + 8 * PS, 3 * PS, PROT_READ);
		for (size_t i = 0; i < ARRAY_SIZE(ops); i++)
			aspace_apply(as, &ops[i]);
	}
	ret = procmaps_read(0, &e, &n);
	if (ret) {
		snprintf(msg, sz, "procmaps_read: %d", ret);
		goto out;
	}
	ret = aspace_check(as, e, n, &ck);
	if (ret || ck.missing_pages || ck.extra_pages || ck.prot_mismatch_pages) {
		snprintf(msg, sz, "after mmap/munmap/mprotect: missing=%" PRIu64
			 " (first %#" PRIx64 ") extra=%" PRIu64 " (first %#"
			 PRIx64 ") prot=%" PRIu64, ck.missing_pages,
			 ck.first_missing, ck.extra_pages, ck.first_extra,
			 ck.prot_mismatch_pages);
		goto out;
	}
	ok = 1;
out:
	if (p != MAP_FAILED)
		munmap(p, len);
	procmaps_free(e, n);
	aspace_free(as);
	return ok;
}

static void test_live(void)
{
	struct maps_entry *e = NULL;
	size_t n = 0;
	char msg[512] = "";
	int ok = 0;

	/* Warm the allocator up so reading maps does not itself map memory. */
	if (procmaps_read(0, &e, &n) == 0)
		procmaps_free(e, n);
	/* Allocators (ASan's, glibc's) may map between two reads: retry. */
	for (int i = 0; i < 3 && !ok; i++)
		ok = live_attempt(msg, sizeof(msg));
	T_CHECKF("this process: baseline + real changes match /proc/self/maps",
		 ok, "%s", msg);
}

int main(void)
{
	if (ml_page_size() != PS) {
		T_SKIP("page-size tables", "this machine's pages are not 4 KiB");
		T_END();
	}
	test_cases();
	test_baseline();
	test_check_reconcile();
	test_check_sparse();
	test_random();
	test_perf();
	test_live();
	T_END();
}
