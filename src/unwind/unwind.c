/* SPDX-License-Identifier: MIT */
/*
 * Unwinding one stack snapshot with libdwfl: DWARF CFI where a module has
 * it, and libdwfl's own frame-pointer fallback (ebl_unwind) for pcs
 * outside any module (JIT code) or without CFI. The target is never
 * touched: registers come from the event and memory_read serves only the
 * copied stack [sp, sp + len).
 */
#include <errno.h>
#include <string.h>

#include "symbols/symtab-int.h"
#include "track/stacks.h"

static pid_t cb_next_thread(Dwfl *dwfl, void *dwfl_arg, void **thread_argp)
{
	struct symtab *st = dwfl_arg;

	(void)dwfl;
	if (*thread_argp)
		return 0;	/* the one thread of the sample, already given */
	*thread_argp = st;
	return st->cur.tid;
}

static bool cb_get_thread(Dwfl *dwfl, pid_t tid, void *dwfl_arg,
			  void **thread_argp)
{
	struct symtab *st = dwfl_arg;

	(void)dwfl;
	if (tid != st->cur.tid)
		return false;
	*thread_argp = st;
	return true;
}

static bool cb_memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result,
			   void *dwfl_arg)
{
	struct symtab *st = dwfl_arg;
	const struct st_sample *s = &st->cur;

	(void)dwfl;
	if (addr >= s->sp && s->len >= sizeof(*result) &&
	    addr - s->sp <= s->len - sizeof(*result)) {
		memcpy(result, s->stack + (addr - s->sp), sizeof(*result));
		return true;
	}
	st->cur.read_failed = true;
	if (addr >= s->sp)
		st->cur.beyond = true;
	return false;
}

static bool cb_set_initial_registers(Dwfl_Thread *thread, void *thread_arg)
{
	struct symtab *st = thread_arg;
	Dwarf_Word regs[ML_NREGS];

	/* The event's order is the DWARF order: copy as is. */
	for (int i = 0; i < ML_NREGS; i++)
		regs[i] = st->cur.regs[i];
	if (!dwfl_thread_state_registers(thread, 0, ML_NREGS, regs))
		return false;
	dwfl_thread_state_register_pc(thread, st->cur.regs[ML_REG_IP]);
	return true;
}

static const Dwfl_Thread_Callbacks unwind_callbacks = {
	.next_thread = cb_next_thread,
	.get_thread = cb_get_thread,
	.memory_read = cb_memory_read,
	.set_initial_registers = cb_set_initial_registers,
};

struct walk {
	u64 *pcs;
	u32 max;
	u32 n;
	bool zero;		/* reached pc 0: the frame-pointer chain's end */
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
	if (w->n == 0)
		w->n = 1;	/* pcs[0] is already the event's ip */
	else
		w->pcs[w->n++] = pc;
	return w->n < w->max ? DWARF_CB_OK : DWARF_CB_ABORT;
}

static int attach(struct symtab *st)
{
	if (st->attached)
		return 0;
	if (!st->dwfl)
		return -ESRCH;
	if (!dwfl_attach_state(st->dwfl, st->arch_elf, st->pid,
			       &unwind_callbacks, st))
		return -ENOMEM;
	st->attached = true;
	return 0;
}

int symtab_unwind(struct symtab *st, pid_t tid, const u64 regs[ML_NREGS],
		  const void *stack, u32 stack_len, u32 ev_flags,
		  u64 *pcs, u32 max, u32 *n, u32 *sflags)
{
	struct walk w = { .pcs = pcs, .max = max };
	int ret;

	*n = 0;
	*sflags = 0;
	if (max == 0 || tid <= 0)
		return -EINVAL;
	pcs[0] = regs[ML_REG_IP];
	*n = 1;
	ret = attach(st);
	if (ret < 0) {
		*sflags = ML_SF_UNWIND_ERR;
		return ret == -ENOMEM ? ret : 0;
	}
	st->cur = (struct st_sample){
		.tid = tid,
		.regs = regs,
		.stack = stack,
		.sp = regs[ML_REG_SP],
		.len = stack ? stack_len : 0,
	};
	ret = dwfl_getthread_frames(st->dwfl, tid, frame_cb, &w);
	if (w.n > 1)
		*n = w.n;
	/*
	 * 0: the outermost frame (CFI says the return address is undefined)
	 * but libdwfl 0.188 also ends "cleanly" when reading the return
	 * address failed, hence read_failed. DWARF_CB_ABORT: we stopped.
	 */
	if (!w.zero && w.n < max && (ret == -1 || st->cur.read_failed)) {
		if (st->cur.beyond && (ev_flags & ML_EVF_STACK_TRUNCATED))
			*sflags = ML_SF_TRUNCATED;
		else
			*sflags = ML_SF_UNWIND_ERR;
	}
	st->cur.stack = NULL;
	st->cur.regs = NULL;
	return 0;
}
