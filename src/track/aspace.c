/* SPDX-License-Identifier: MIT */
/*
 * The live set: a red-black tree of non-overlapping regions keyed by start.
 * Every change is expressed with three primitives: cut (remove a range,
 * trimming or splitting nodes), place (cut, then insert one node) and
 * protect (split where something changes, then set prot). Adjacent regions
 * are never merged: each mapping stays countable.
 *
 * A node split needs memory, and an op must change nothing when it fails,
 * so every op first reserves the few spare nodes it can need (at most
 * three: one split per cut, one per place, two per protect).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>

#include <bsd/sys/tree.h>

#include "track/aspace.h"
#include "util/vec.h"

#define PROT_MASK (PROT_READ | PROT_WRITE | PROT_EXEC)
#define SPARE_OP 4		/* nodes one op may need */
#define SLAB_NODES 256		/* nodes allocated at once, for locality */

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
#ifndef SHM_EXEC
#define SHM_EXEC 0100000
#endif

struct node {
	RB_ENTRY(node) rb;
	struct ml_region r;
};

RB_HEAD(rtree, node);

static int node_cmp(struct node *a, struct node *b)
{
	return a->r.start < b->r.start ? -1 : a->r.start > b->r.start;
}

/* libbsd leaves __unused undefined (glibc has struct members so named). */
#define __unused __attribute__((unused))
RB_GENERATE_STATIC(rtree, node, rb, node_cmp)
#undef __unused

/* Nodes come from slabs and return to a free list: a tree walk then
 * touches fewer pages than with one malloc per node. */
struct slab {
	struct slab *next;
	struct node nodes[SLAB_NODES];
};

struct aspace {
	struct rtree root;
	size_t count;
	u64 start_brk, brk;
	struct node *spare;	/* free nodes, linked through rb.rbe_left */
	size_t nspare;
	struct slab *slabs;
	/* optional: committed bytes gained or lost by a stack */
	void (*on_bytes)(void *ctx, u32 stack_id, s64 delta);
	void *on_bytes_ctx;
};

/* Bytes that count for a site: the PROT_NONE part is only reserved. */
static void account(struct aspace *as, const struct ml_region *r, u64 start,
		    u64 end, int sign)
{
	if (as->on_bytes && r->prot != PROT_NONE && end > start)
		as->on_bytes(as->on_bytes_ctx, r->stack_id, sign * (s64)(end - start));
}

int aspace_new(struct aspace **out)
{
	struct aspace *as = calloc(1, sizeof(*as));

	*out = NULL;
	if (!as)
		return -ENOMEM;
	RB_INIT(&as->root);
	*out = as;
	return 0;
}

static void release(struct aspace *as, struct node *n)
{
	n->rb.rbe_left = as->spare;
	as->spare = n;
	as->nspare++;
}

static int reserve(struct aspace *as, size_t k)
{
	struct slab *sl;

	while (as->nspare < k) {
		sl = malloc(sizeof(*sl));
		if (!sl)
			return -ENOMEM;
		sl->next = as->slabs;
		as->slabs = sl;
		/* Pushed in reverse so nodes are taken in address order. */
		for (size_t i = SLAB_NODES; i > 0; i--)
			release(as, &sl->nodes[i - 1]);
	}
	return 0;
}

/* Only called after reserve(): never fails. */
static struct node *take(struct aspace *as)
{
	struct node *n = as->spare;

	as->spare = n->rb.rbe_left;
	as->nspare--;
	return n;
}

static void clear(struct aspace *as)
{
	struct node *n, *next;

	for (n = RB_MIN(rtree, &as->root); n; n = next) {
		next = RB_NEXT(rtree, &as->root, n);
		account(as, &n->r, n->r.start, n->r.end, -1);
		RB_REMOVE(rtree, &as->root, n);
		release(as, n);
	}
	as->count = 0;
}

void aspace_free(struct aspace *as)
{
	struct slab *sl, *next;

	if (!as)
		return;
	for (sl = as->slabs; sl; sl = next) {
		next = sl->next;
		free(sl);
	}
	free(as);
}

/* The first node ending after addr, in address order: one descent finds
 * both the last node starting at or before addr and the first after it. */
static struct node *first_overlap(const struct aspace *as, u64 addr)
{
	struct node *n = RB_ROOT(&as->root), *floor = NULL, *ceil = NULL;

	while (n) {
		if (n->r.start <= addr) {
			floor = n;
			n = RB_RIGHT(n, rb);
		} else {
			ceil = n;
			n = RB_LEFT(n, rb);
		}
	}
	return floor && floor->r.end > addr ? floor : ceil;
}

/* Splits n at addr (n->r.start < addr < n->r.end); returns the right part. */
static struct node *split(struct aspace *as, struct node *n, u64 addr)
{
	struct node *m = take(as);

	m->r = n->r;
	m->r.start = addr;
	n->r.end = addr;
	RB_INSERT(rtree, &as->root, m);
	as->count++;
	return m;
}

/*
 * Removes [start, end) from the regions it touches. With before != NULL
 * only regions born earlier than *before are touched: a newer region is a
 * later mapping that the unmap could not have removed.
 */
static void cut(struct aspace *as, u64 start, u64 end, const u64 *before)
{
	struct node *n, *next;

	/* An empty range would otherwise split the node around start. */
	if (start >= end)
		return;
	for (n = first_overlap(as, start); n && n->r.start < end; n = next) {
		next = RB_NEXT(rtree, &as->root, n);
		if (before && n->r.time >= *before)
			continue;
		account(as, &n->r, n->r.start > start ? n->r.start : start,
			n->r.end < end ? n->r.end : end, -1);
		if (n->r.start < start) {
			if (n->r.end > end) {
				split(as, n, end);
				n->r.end = start;
				return;
			}
			n->r.end = start;
		} else if (n->r.end > end) {
			/* Trimming the front keeps the tree order: no overlap. */
			n->r.start = end;
		} else {
			RB_REMOVE(rtree, &as->root, n);
			release(as, n);
			as->count--;
		}
	}
}

/* Puts r in, replacing whatever was there (the kernel already unmapped it). */
static void place(struct aspace *as, const struct ml_region *r)
{
	struct node *n;

	cut(as, r->start, r->end, NULL);
	n = take(as);
	n->r = *r;
	RB_INSERT(rtree, &as->root, n);
	as->count++;
	account(as, r, r->start, r->end, 1);
}

/*
 * Sets prot on [start, end). With commit != NULL, parts going from
 * PROT_NONE to accessible take the committing op's stack and time.
 * Nodes whose state does not change are not split.
 */
static void protect(struct aspace *as, u64 start, u64 end, u32 prot,
		    const struct ml_op *commit)
{
	struct node *n, *next;

	for (n = first_overlap(as, start); n && n->r.start < end; n = next) {
		bool is_commit = commit && n->r.prot == PROT_NONE &&
				 prot != PROT_NONE;

		next = RB_NEXT(rtree, &as->root, n);
		if (n->r.prot == prot)
			continue;
		if (n->r.start < start)
			n = split(as, n, start);
		if (n->r.end > end)
			split(as, n, end);
		account(as, &n->r, n->r.start, n->r.end, -1);
		n->r.prot = prot;
		if (is_commit) {
			n->r.stack_id = commit->stack_id;
			n->r.time = commit->time;
		}
		account(as, &n->r, n->r.start, n->r.end, 1);
	}
}

/* [addr, addr + PAGE_UP(len)) if addr is aligned and nothing overflows. */
static bool range_of(u64 addr, u64 len, u64 *start, u64 *end)
{
	if (addr & (ML_PAGE_SIZE - 1) || len == 0 ||
	    len > UINT64_MAX - (ML_PAGE_SIZE - 1))
		return false;
	len = ML_PAGE_UP(len);
	if (addr > UINT64_MAX - len)
		return false;
	*start = addr;
	*end = addr + len;
	return true;
}

static void new_region(struct ml_region *r, u64 start, u64 end, u32 prot,
		       u32 flags, const struct ml_op *op)
{
	r->start = start;
	r->end = end;
	r->prot = prot & PROT_MASK;
	r->flags = flags;
	r->stack_id = op->stack_id;
	r->reserve_stack_id = op->stack_id;
	r->time = op->time;
}

static int apply_mmap(struct aspace *as, const struct ml_op *op)
{
	struct ml_region r;
	u64 start, end;
	u32 flags = 0;

	if (op->ret < 0 || !range_of((u64)op->ret, op->args[1], &start, &end))
		return -EINVAL;
	if (op->args[3] & MAP_SHARED)
		flags |= ML_RF_SHARED;
	if (op->args[3] & MAP_ANONYMOUS)
		flags |= ML_RF_ANON;
	new_region(&r, start, end, (u32)op->args[2], flags, op);
	place(as, &r);
	return 0;
}

static int apply_munmap(struct aspace *as, const struct ml_op *op)
{
	u64 start, end;

	if (!range_of(op->args[0], op->args[1], &start, &end))
		return -EINVAL;
	cut(as, start, end, &op->time);
	return 0;
}

static int apply_mprotect(struct aspace *as, const struct ml_op *op)
{
	u64 start, end;

	/* mprotect(addr, 0, prot) succeeds and changes nothing. */
	if (op->args[1] == 0 && !(op->args[0] & (ML_PAGE_SIZE - 1)))
		return 0;
	if (!range_of(op->args[0], op->args[1], &start, &end))
		return -EINVAL;
	protect(as, start, end, (u32)op->args[2] & PROT_MASK, op);
	return 0;
}

static int apply_mremap(struct aspace *as, const struct ml_op *op)
{
	u64 old_start = op->args[0], old_end = op->args[0];
	u32 prot = PROT_READ | PROT_WRITE, flags = ML_RF_ANON;
	const struct node *old;
	struct ml_region r;
	u64 start, end;

	if (op->ret < 0 || !range_of((u64)op->ret, op->args[2], &start, &end))
		return -EINVAL;
	/* old_len 0 duplicates a shared mapping and unmaps nothing. */
	if (op->args[1] && !range_of(op->args[0], op->args[1], &old_start,
				     &old_end))
		return -EINVAL;
	if (old_start & (ML_PAGE_SIZE - 1))
		return -EINVAL;
	old = first_overlap(as, op->args[0]);
	if (old && old->r.start <= op->args[0]) {
		prot = old->r.prot;
		/* Baseline marks describe the origin, which is now this op. */
		flags = old->r.flags & (ML_RF_SHARED | ML_RF_ANON | ML_RF_SHM);
	}
	if (!(op->args[3] & MREMAP_DONTUNMAP))
		cut(as, old_start, old_end, &op->time);
	new_region(&r, start, end, prot, flags, op);
	place(as, &r);
	return 0;
}

static int apply_brk(struct aspace *as, const struct ml_op *op)
{
	u64 old = op->aux ? op->aux : as->brk, now = (u64)op->ret;
	u64 a = ML_PAGE_UP(old), b = ML_PAGE_UP(now);
	struct ml_region r;

	if (op->ret < 0 || now > UINT64_MAX - ML_PAGE_SIZE ||
	    old > UINT64_MAX - ML_PAGE_SIZE)
		return -EINVAL;
	as->brk = now;
	/* Without a known previous brk there is no range to account. */
	if (old == 0)
		return 0;
	if (b > a) {
		new_region(&r, a, b, PROT_READ | PROT_WRITE,
			   ML_RF_HEAP | ML_RF_ANON, op);
		place(as, &r);
	} else if (b < a) {
		cut(as, b, a, &op->time);
	}
	return 0;
}

static int apply_shmat(struct aspace *as, const struct ml_op *op)
{
	u32 prot = PROT_READ;
	struct ml_region r;
	u64 start, end;

	if (op->ret < 0 || !range_of((u64)op->ret, op->aux, &start, &end))
		return -EINVAL;
	if (!(op->args[2] & SHM_RDONLY))
		prot |= PROT_WRITE;
	if (op->args[2] & SHM_EXEC)
		prot |= PROT_EXEC;
	new_region(&r, start, end, prot, ML_RF_SHM | ML_RF_SHARED, op);
	place(as, &r);
	return 0;
}

static int apply_shmdt(struct aspace *as, const struct ml_op *op)
{
	u64 addr = op->args[0], start, end, pos;
	struct node *n, *next;

	if (op->aux) {
		if (!range_of(addr, op->aux, &start, &end))
			return -EINVAL;
		cut(as, start, end, &op->time);
		return 0;
	}
	if (addr & (ML_PAGE_SIZE - 1))
		return -EINVAL;
	/* Size unknown: the contiguous run of SysV segments from addr. */
	pos = addr;
	for (n = first_overlap(as, addr); n; n = next) {
		u64 piece_end = n->r.end;

		if (n->r.start > pos || !(n->r.flags & ML_RF_SHM))
			break;
		next = RB_NEXT(rtree, &as->root, n);
		cut(as, pos, piece_end, &op->time);
		pos = piece_end;
	}
	return 0;
}

int aspace_apply(struct aspace *as, const struct ml_op *op)
{
	if (reserve(as, SPARE_OP))
		return -ENOMEM;
	switch (op->kind) {
	case ML_OP_MMAP:
		return apply_mmap(as, op);
	case ML_OP_MUNMAP:
		return apply_munmap(as, op);
	case ML_OP_MPROTECT:
		return apply_mprotect(as, op);
	case ML_OP_MREMAP:
		return apply_mremap(as, op);
	case ML_OP_BRK:
		return apply_brk(as, op);
	case ML_OP_SHMAT:
		return apply_shmat(as, op);
	case ML_OP_SHMDT:
		return apply_shmdt(as, op);
	case ML_OP_EXEC:
		clear(as);
		as->start_brk = as->brk = op->aux;
		return 0;
	case ML_OP_EXIT:
		return 0;
	default:
		return -EINVAL;
	}
}

void aspace_set_brk(struct aspace *as, u64 start_brk, u64 brk)
{
	as->start_brk = start_brk;
	as->brk = brk;
}

void aspace_get_brk(const struct aspace *as, u64 *start_brk, u64 *brk)
{
	*start_brk = as->start_brk;
	*brk = as->brk;
}

void aspace_set_hook(struct aspace *as,
		     void (*on_bytes)(void *ctx, u32 stack_id, s64 delta), void *ctx)
{
	as->on_bytes = on_bytes;
	as->on_bytes_ctx = ctx;
}

int aspace_patch(struct aspace *as, u64 start, u64 end,
		 const struct ml_region *r, size_t n)
{
	/* all the nodes first, so that a failure changes nothing */
	if (reserve(as, 2 + n))
		return -ENOMEM;
	cut(as, start, end, NULL);
	for (size_t i = 0; i < n; i++) {
		if (r[i].start >= r[i].end || r[i].start < start || r[i].end > end)
			continue;	/* a damaged record: outside its range */
		place(as, &r[i]);
	}
	return 0;
}

int aspace_foreach_in(const struct aspace *as, u64 start, u64 end,
		      int (*cb)(void *ctx, const struct ml_region *r), void *ctx)
{
	const struct node *n;
	int ret;

	for (n = first_overlap(as, start); n && n->r.start < end;
	     n = RB_NEXT(rtree, (struct rtree *)&as->root, (struct node *)n)) {
		ret = cb(ctx, &n->r);
		if (ret)
			return ret;
	}
	return 0;
}

size_t aspace_count(const struct aspace *as)
{
	return as ? as->count : 0;
}

int aspace_foreach(const struct aspace *as,
		   int (*cb)(void *ctx, const struct ml_region *r), void *ctx)
{
	struct rtree *root = (struct rtree *)&as->root;
	struct node *n;

	RB_FOREACH(n, rtree, root) {
		int ret = cb(ctx, &n->r);

		if (ret)
			return ret;
	}
	return 0;
}

bool maps_entry_is_pseudo(const struct maps_entry *e)
{
	static const char *const names[] = {
		"[stack]", "[vdso]", "[vvar]", "[vvar_vclock]", "[vsyscall]",
		"[uprobes]",
	};

	if (!e->path)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(e->path, names[i]))
			return true;
	/* Kernels before 4.5 named thread stacks "[stack:TID]". */
	return !strncmp(e->path, "[stack:", 7);
}

static bool has_prefix(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static u32 entry_flags(const struct maps_entry *e)
{
	u32 flags = e->shared ? ML_RF_SHARED : 0;

	if (!e->path)
		return flags | ML_RF_ANON;
	if (!strcmp(e->path, "[heap]"))
		return flags | ML_RF_HEAP | ML_RF_ANON;
	/* Named anonymous memory (prctl PR_SET_VMA_ANON_NAME), shared anon. */
	if (has_prefix(e->path, "[anon:") || has_prefix(e->path, "[anon_shmem:") ||
	    has_prefix(e->path, "/dev/zero (deleted)"))
		return flags | ML_RF_ANON;
	if (has_prefix(e->path, "/SYSV"))
		return flags | ML_RF_SHM;
	return flags;
}

/* Page-aligned bounds of an entry; false for an empty or inverted one. */
static bool entry_range(const struct maps_entry *e, u64 *start, u64 *end)
{
	if (e->end > UINT64_MAX - ML_PAGE_SIZE)
		return false;
	*start = ML_PAGE_DOWN(e->start);
	*end = ML_PAGE_UP(e->end);
	return *start < *end;
}

int aspace_add_baseline(struct aspace *as, const struct maps_entry *e,
			size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct ml_region r = { 0 };

		if (maps_entry_is_pseudo(&e[i]) ||
		    !entry_range(&e[i], &r.start, &r.end))
			continue;
		if (reserve(as, SPARE_OP))
			return -ENOMEM;
		r.prot = e[i].prot & PROT_MASK;
		r.flags = entry_flags(&e[i]) | ML_RF_BASELINE;
		r.stack_id = r.reserve_stack_id = ML_STACK_BASELINE;
		place(as, &r);
	}
	return 0;
}

/*
 * Comparison with a snapshot: the kernel's intervals (K), the pseudo
 * intervals both sides ignore (P) and the tree are swept together over
 * their boundaries, so the cost is O(entries + regions) whatever the size
 * of the address space.
 */
struct iv {
	u64 start, end;
	u32 prot;
	u32 flags;
};

struct snapshot {
	struct iv *k, *p;
	size_t nk, np;
};

static int iv_cmp(const void *a, const void *b)
{
	const struct iv *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Sorts and clips overlaps so a damaged snapshot cannot double count. */
static size_t iv_normalize(struct iv *v, size_t n)
{
	size_t out = 0;
	u64 prev_end = 0;

	qsort(v, n, sizeof(*v), iv_cmp);
	for (size_t i = 0; i < n; i++) {
		if (v[i].start < prev_end)
			v[i].start = prev_end;
		if (v[i].start >= v[i].end)
			continue;
		prev_end = v[i].end;
		v[out++] = v[i];
	}
	return out;
}

static int snapshot_build(struct snapshot *s, const struct maps_entry *e,
			  size_t n)
{
	memset(s, 0, sizeof(*s));
	s->k = calloc(n ? n : 1, sizeof(*s->k));
	s->p = calloc(n ? n : 1, sizeof(*s->p));
	if (!s->k || !s->p) {
		free(s->k);
		free(s->p);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct iv v;

		if (!entry_range(&e[i], &v.start, &v.end))
			continue;
		v.prot = e[i].prot & PROT_MASK;
		v.flags = entry_flags(&e[i]);
		if (maps_entry_is_pseudo(&e[i]))
			s->p[s->np++] = v;
		else
			s->k[s->nk++] = v;
	}
	s->nk = iv_normalize(s->k, s->nk);
	s->np = iv_normalize(s->p, s->np);
	return 0;
}

static void snapshot_release(struct snapshot *s)
{
	free(s->k);
	free(s->p);
}

/* One stretch [start, end) over which K, P and the model do not change. */
struct seg {
	u64 start, end;
	const struct iv *k;		/* kernel interval, or NULL */
	bool pseudo;
	const struct ml_region *m;	/* model region, or NULL */
};

static int sweep(const struct aspace *as, const struct snapshot *s,
		 int (*cb)(void *ctx, const struct seg *g), void *ctx)
{
	struct rtree *root = (struct rtree *)&as->root;
	struct node *m = RB_MIN(rtree, root);
	size_t ki = 0, pi = 0;
	u64 pos = 0;

	for (;;) {
		u64 next = UINT64_MAX;
		struct seg g = { 0 };
		int ret;

		while (ki < s->nk && s->k[ki].end <= pos)
			ki++;
		while (pi < s->np && s->p[pi].end <= pos)
			pi++;
		while (m && m->r.end <= pos)
			m = RB_NEXT(rtree, root, m);
		if (ki == s->nk && pi == s->np && !m)
			return 0;
		if (ki < s->nk) {
			if (s->k[ki].start <= pos) {
				g.k = &s->k[ki];
				next = s->k[ki].end;
			} else {
				next = s->k[ki].start;
			}
		}
		if (pi < s->np) {
			u64 b = s->p[pi].start <= pos ? s->p[pi].end :
							s->p[pi].start;

			g.pseudo = s->p[pi].start <= pos;
			if (b < next)
				next = b;
		}
		if (m) {
			u64 b = m->r.start <= pos ? m->r.end : m->r.start;

			if (m->r.start <= pos)
				g.m = &m->r;
			if (b < next)
				next = b;
		}
		if (g.k || g.pseudo || g.m) {
			g.start = pos;
			g.end = next;
			ret = cb(ctx, &g);
			if (ret)
				return ret;
		}
		pos = next;
	}
}

static int check_seg(void *ctx, const struct seg *g)
{
	struct aspace_check *c = ctx;
	u64 pages = (g->end - g->start) / ML_PAGE_SIZE;

	if (g->pseudo)
		return 0;
	if (g->k)
		c->kernel_pages += pages;
	if (g->m)
		c->model_pages += pages;
	if (g->k && !g->m) {
		c->missing_pages += pages;
		if (!c->first_missing)
			c->first_missing = g->start;
	} else if (g->m && !g->k) {
		c->extra_pages += pages;
		if (!c->first_extra)
			c->first_extra = g->start;
	} else if (g->k->prot != g->m->prot) {
		c->prot_mismatch_pages += pages;
	}
	return 0;
}

int aspace_check(const struct aspace *as, const struct maps_entry *e, size_t n,
		 struct aspace_check *out)
{
	struct snapshot s;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = snapshot_build(&s, e, n);
	if (ret)
		return ret;
	ret = sweep(as, &s, check_seg, out);
	snapshot_release(&s);
	return ret;
}

/* Reconciliation first lists what to change, then changes it: the sweep
 * walks the tree and must not see it move. */
enum fix_kind { FIX_DROP, FIX_ADD, FIX_PROT };

struct fix {
	u64 start, end;
	u32 kind;
	u32 prot;
	u32 flags;
};

struct fixes {
	struct fix *v;
	size_t n, cap;
	u64 pages;
};

static int fix_add(struct fixes *f, const struct seg *g, enum fix_kind kind)
{
	if (ML_VEC_GROW(f->v, f->cap, f->n + 1))
		return -ENOMEM;
	f->v[f->n++] = (struct fix){
		.start = g->start, .end = g->end, .kind = kind,
		.prot = g->k ? g->k->prot : 0, .flags = g->k ? g->k->flags : 0,
	};
	f->pages += (g->end - g->start) / ML_PAGE_SIZE;
	return 0;
}

static int reconcile_seg(void *ctx, const struct seg *g)
{
	struct fixes *f = ctx;

	/* The model never holds pseudo regions: drop what overlaps them. */
	if (g->pseudo)
		return g->m ? fix_add(f, g, FIX_DROP) : 0;
	if (g->k && !g->m)
		return fix_add(f, g, FIX_ADD);
	if (g->m && !g->k)
		return fix_add(f, g, FIX_DROP);
	if (g->k->prot != g->m->prot)
		return fix_add(f, g, FIX_PROT);
	return 0;
}

int aspace_reconcile(struct aspace *as, const struct maps_entry *e, size_t n,
		     u64 *changed_pages)
{
	struct fixes f = { 0 };
	struct snapshot s;
	int ret;

	*changed_pages = 0;
	ret = snapshot_build(&s, e, n);
	if (ret)
		return ret;
	ret = sweep(as, &s, reconcile_seg, &f);
	snapshot_release(&s);
	for (size_t i = 0; !ret && i < f.n; i++) {
		const struct fix *x = &f.v[i];
		struct ml_region r = { 0 };

		if (reserve(as, SPARE_OP)) {
			ret = -ENOMEM;
			break;
		}
		switch (x->kind) {
		case FIX_DROP:
			cut(as, x->start, x->end, NULL);
			break;
		case FIX_ADD:
			r.start = x->start;
			r.end = x->end;
			r.prot = x->prot;
			r.flags = x->flags | ML_RF_RECONCILED | ML_RF_BASELINE;
			r.stack_id = r.reserve_stack_id = ML_STACK_BASELINE;
			place(as, &r);
			break;
		case FIX_PROT:
			protect(as, x->start, x->end, x->prot, NULL);
			break;
		}
	}
	free(f.v);
	if (!ret)
		*changed_pages = f.pages;
	return ret;
}
