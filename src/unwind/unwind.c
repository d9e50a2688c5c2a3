/* SPDX-License-Identifier: MIT */
/*
 * Unwinding one stack snapshot with libdwfl: DWARF CFI where a module has
 * it, and libdwfl's own frame-pointer fallback (ebl_unwind) for pcs
 * outside any module (JIT code) or without CFI. The target is never
 * touched: registers come from the event and memory_read serves only the
 * copied stack [sp, sp + len).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "track/stacks.h"
#include "unwind/unwind.h"

/* The sample being unwound: what memory_read may serve. */
struct uw_sample {
	pid_t tid;
	const u64 *regs;
	const unsigned char *stack;
	u64 sp;
	u32 len;
	bool beyond;		/* the walk wanted bytes past the snapshot */
	bool read_failed;	/* any read outside the snapshot */
	u32 nreads;		/* stack words the walk read (for the cache) */
	bool reads_overflow;	/* more than fit read_addr: do not cache */
	u64 read_addr[32];
	u64 read_val[32];
};

struct uc_entry;

struct unwinder {
	const struct unwind_modules *mods;
	Dwfl *attached;		/* the Dwfl our callbacks are attached to */
	struct uw_sample cur;
	/* frame pointers of the walk (the cache stores them) */
	u64 fps[ML_STACK_MAX_FRAMES];
	struct uc_entry *ucache;
	u64 mod_gen, maps_gen;	/* of the modules, read at each walk */
	u64 uc_hits, uc_misses;
};

static pid_t cb_next_thread(Dwfl *dwfl, void *dwfl_arg, void **thread_argp)
{
	struct unwinder *u = dwfl_arg;

	(void)dwfl;
	if (*thread_argp)
		return 0;	/* the one thread of the sample, already given */
	*thread_argp = u;
	return u->cur.tid;
}

static bool cb_get_thread(Dwfl *dwfl, pid_t tid, void *dwfl_arg,
			  void **thread_argp)
{
	struct unwinder *u = dwfl_arg;

	(void)dwfl;
	if (tid != u->cur.tid)
		return false;
	*thread_argp = u;
	return true;
}

static bool cb_memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result,
			   void *dwfl_arg)
{
	struct unwinder *u = dwfl_arg;
	const struct uw_sample *s = &u->cur;

	(void)dwfl;
	if (addr >= s->sp && s->len >= sizeof(*result) &&
	    addr - s->sp <= s->len - sizeof(*result)) {
		memcpy(result, s->stack + (addr - s->sp), sizeof(*result));
		if (u->cur.nreads < ARRAY_SIZE(u->cur.read_addr)) {
			u->cur.read_addr[u->cur.nreads] = addr;
			u->cur.read_val[u->cur.nreads++] = *result;
		} else {
			u->cur.reads_overflow = true;
		}
		return true;
	}
	u->cur.read_failed = true;
	if (addr >= s->sp)
		u->cur.beyond = true;
	return false;
}

static bool cb_set_initial_registers(Dwfl_Thread *thread, void *thread_arg)
{
	struct unwinder *u = thread_arg;
	Dwarf_Word regs[ML_NREGS];

	/* The event's order is the DWARF order: copy as is. */
	for (int i = 0; i < ML_NREGS; i++)
		regs[i] = u->cur.regs[i];
	if (!dwfl_thread_state_registers(thread, 0, ML_DWARF_NREGS, regs))
		return false;
	dwfl_thread_state_register_pc(thread, u->cur.regs[ML_REG_IP]);
	return true;
}

static const Dwfl_Thread_Callbacks unwind_callbacks = {
	.next_thread = cb_next_thread,
	.get_thread = cb_get_thread,
	.memory_read = cb_memory_read,
	.set_initial_registers = cb_set_initial_registers,
};

struct walk {
	const struct unwind_modules *mods;
	u64 *pcs;
	u64 *fps;		/* rbp of each frame, 0: unknown */
	u32 max;
	u32 n;
	bool zero;		/* reached pc 0: the frame-pointer chain's end */
	bool not_code;		/* a return address outside executable code */
};

static int frame_cb(Dwfl_Frame *state, void *arg)
{
	struct walk *w = arg;
	Dwarf_Addr pc;

	if (!dwfl_frame_pc(state, &pc, NULL))
		return DWARF_CB_ABORT;
	if (pc == 0) {
		w->zero = true;
		return DWARF_CB_ABORT;
	}
	if (w->n == 0) {
		w->n = 1;	/* pcs[0] is already the event's ip */
	} else {
		Dwarf_Word bp;

		/*
		 * A frame-pointer walk through code that does not keep
		 * frame pointers reads data as return addresses (0x3,
		 * 0xcccc..., a stack address): the walk ends there rather
		 * than split sites on junk. The call is just before pc.
		 */
		if (!w->mods->is_code(w->mods->ctx, pc - 1)) {
			w->not_code = true;
			return DWARF_CB_ABORT;
		}
		/* An interpreted Java frame's Method* sits below its rbp. */
		w->fps[w->n] = dwfl_frame_reg(state, ML_REG_BP, &bp) == 0 ? bp : 0;
		w->pcs[w->n++] = pc;
	}
	return w->n < w->max ? DWARF_CB_OK : DWARF_CB_ABORT;
}

/* The modules' Dwfl with our callbacks attached, or NULL: *err. */
static Dwfl *attach(struct unwinder *u, int *err)
{
	Elf *arch = NULL;
	pid_t pid = 0;
	Dwfl *dwfl = u->mods->dwfl(u->mods->ctx, &arch, &pid);

	*err = 0;
	if (!dwfl) {
		*err = -ESRCH;
		return NULL;
	}
	/* dwfl_pid() is -1 until a dwfl_attach_state(): a new Dwfl (after
	 * exec, or one at the address of a freed one) is attached again. */
	if (dwfl == u->attached && dwfl_pid(dwfl) > 0)
		return dwfl;
	if (dwfl_pid(dwfl) > 0) {
		*err = -EBUSY;	/* another unwinder's */
		return NULL;
	}
	if (!dwfl_attach_state(dwfl, arch, pid, &unwind_callbacks, u)) {
		*err = -ENOMEM;
		return NULL;
	}
	u->attached = dwfl;
	return dwfl;
}

/*
 * The unwind cache. A walk is a pure function of the modules, the
 * registers it starts from and the stack words it reads. Loops that map
 * memory repeat the same walk: same ip, sp and rbp, same return addresses
 * and saved registers at the same places. So a walk is cached under
 * (ip, sp, rbp, snapshot length) with the words it read, and reused when
 * every one of those words is unchanged and no module changed. Other
 * callee-saved registers are not compared: CFI of x86-64 code computes
 * frame addresses from rsp or rbp (realigned frames use rbp), so they do
 * not change which pcs come out. Cuts unwinding from microseconds to a
 * few compares in the common case.
 */
#define UC_SLOTS	4096	/* direct-mapped, power of two */
#define UC_MAX_PCS	64	/* longer walks are not cached */

struct uc_entry {
	u64 gen;		/* 0: empty (mod_gen starts at 1 once used) */
	u64 ip, sp, bp;
	u32 len;
	u32 nreads;
	u32 npcs;
	u32 sflags;
	u32 ev_flags;		/* the result's flags depend on them */
	u64 maps_gen;		/* a walk cut at non-code: the maps it saw */
	u32 max;		/* a walk cut at max frames: that max */
	u64 read_addr[32];
	u64 read_val[32];
	u64 pcs[UC_MAX_PCS];
	u64 fps[UC_MAX_PCS];
};

static struct uc_entry *uc_slot(struct unwinder *u, const u64 *regs, u32 len)
{
	u64 h = regs[ML_REG_IP] * 0x9E3779B97F4A7C15ull;

	h ^= (regs[ML_REG_SP] + len) * 0xC2B2AE3D27D4EB4Full;
	h ^= regs[ML_REG_BP] * 0x165667B19E3779F9ull;
	h ^= h >> 29;
	return &u->ucache[h & (UC_SLOTS - 1)];
}

static bool uc_lookup(struct unwinder *u, const u64 *regs, const unsigned char *stack,
		      u32 len, u32 ev_flags, u64 *pcs, u32 max, u32 *n, u32 *sflags)
{
	const struct uc_entry *e;
	u64 sp = regs[ML_REG_SP];

	if (!u->ucache)
		return false;
	e = uc_slot(u, regs, len);
	if (e->gen != u->mod_gen + 1 || e->ip != regs[ML_REG_IP] || e->sp != sp ||
	    e->bp != regs[ML_REG_BP] || e->len != len || e->npcs > max ||
	    e->ev_flags != ev_flags ||
	    (e->maps_gen && e->maps_gen != u->maps_gen) ||
	    (e->max && e->max != max))
		return false;
	for (u32 i = 0; i < e->nreads; i++) {
		u64 v;

		/* same sp and len: every recorded address is inside the copy */
		memcpy(&v, stack + (e->read_addr[i] - sp), sizeof(v));
		if (v != e->read_val[i])
			return false;
	}
	memcpy(pcs, e->pcs, e->npcs * sizeof(*pcs));
	memcpy(u->fps, e->fps, e->npcs * sizeof(*u->fps));
	*n = e->npcs;
	*sflags = e->sflags;
	return true;
}

static void uc_store(struct unwinder *u, const u64 *regs, u32 len, u32 ev_flags,
		     const u64 *pcs, u32 n, u32 max, u32 sflags, bool cut)
{
	struct uc_entry *e;

	if (u->cur.reads_overflow || n > UC_MAX_PCS)
		return;
	if (!u->ucache) {
		u->ucache = calloc(UC_SLOTS, sizeof(*u->ucache));
		if (!u->ucache)
			return;	/* no cache is only slower */
	}
	e = uc_slot(u, regs, len);
	e->gen = u->mod_gen + 1;
	e->ip = regs[ML_REG_IP];
	e->sp = regs[ML_REG_SP];
	e->bp = regs[ML_REG_BP];
	e->len = len;
	e->nreads = u->cur.nreads;
	memcpy(e->read_addr, u->cur.read_addr, e->nreads * sizeof(u64));
	memcpy(e->read_val, u->cur.read_val, e->nreads * sizeof(u64));
	e->npcs = n;
	e->sflags = sflags;
	e->ev_flags = ev_flags;
	e->maps_gen = cut ? u->maps_gen : 0;
	e->max = n == max ? max : 0;
	memcpy(e->pcs, pcs, n * sizeof(*pcs));
	memcpy(e->fps, u->fps, n * sizeof(*u->fps));
}

int unwinder_new(struct unwinder **out, const struct unwind_modules *mods)
{
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	(*out)->mods = mods;
	return 0;
}

void unwinder_free(struct unwinder *u)
{
	if (!u)
		return;
	free(u->ucache);
	free(u);
}

void unwinder_stats(const struct unwinder *u, u64 *hits, u64 *misses)
{
	*hits = u->uc_hits;
	*misses = u->uc_misses;
}

int unwinder_walk(struct unwinder *u, pid_t tid, const u64 regs[ML_NREGS],
		  const void *stack, u32 stack_len, u32 ev_flags,
		  u64 *pcs, u64 *fps, u32 max, u32 *n, u32 *sflags)
{
	struct walk w = { .mods = u->mods, .pcs = pcs, .fps = u->fps, .max = max };
	Dwfl *dwfl;
	int ret;

	*n = 0;
	*sflags = 0;
	if (max > ARRAY_SIZE(u->fps))
		max = w.max = ARRAY_SIZE(u->fps);
	if (max == 0 || tid <= 0)
		return -EINVAL;
	u->mods->gens(u->mods->ctx, &u->mod_gen, &u->maps_gen);
	pcs[0] = regs[ML_REG_IP];
	u->fps[0] = regs[ML_REG_BP];
	*n = 1;
	if (stack && uc_lookup(u, regs, stack, stack_len, ev_flags, pcs, max, n, sflags)) {
		u->uc_hits++;
		goto out;
	}
	u->uc_misses++;
	dwfl = attach(u, &ret);
	if (!dwfl) {
		*sflags = ML_SF_UNWIND_ERR;
		if (ret == -ENOMEM)
			return ret;
		goto out;
	}
	u->cur = (struct uw_sample){
		.tid = tid,
		.regs = regs,
		.stack = stack,
		.sp = regs[ML_REG_SP],
		.len = stack ? stack_len : 0,
	};
	ret = dwfl_getthread_frames(dwfl, tid, frame_cb, &w);
	if (w.n > 1)
		*n = w.n;
	/*
	 * 0: the outermost frame (CFI says the return address is undefined)
	 * but libdwfl 0.188 also ends "cleanly" when reading the return
	 * address failed, hence read_failed. DWARF_CB_ABORT: we stopped.
	 */
	if (w.not_code) {
		*sflags = ML_SF_TRUNCATED;
	} else if (!w.zero && w.n < max && (ret == -1 || u->cur.read_failed)) {
		if (u->cur.beyond && (ev_flags & ML_EVF_STACK_TRUNCATED))
			*sflags = ML_SF_TRUNCATED;
		else
			*sflags = ML_SF_UNWIND_ERR;
	}
	/* A walk cut at non-code depends on the maps too: kept for as
	 * long as they are. */
	if (stack)
		uc_store(u, regs, stack_len, ev_flags, pcs, *n, max, *sflags,
			 w.not_code);
	u->cur.stack = NULL;
	u->cur.regs = NULL;
out:
	if (fps)
		memcpy(fps, u->fps, *n * sizeof(*fps));
	return 0;
}
