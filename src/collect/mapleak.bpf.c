// SPDX-License-Identifier: GPL-2.0
/*
 * mapleak's kernel side: the mapping syscalls of chosen thread groups,
 * filtered here, as ml_event_hdr records (+ a user stack copy for calls
 * that map memory) in one ring buffer. The build force-includes vmlinux.h
 * (the running kernel's, else src/collect/vmlinux_<arch>.h).
 */
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "events.h"

char LICENSE[] SEC("license") = "GPL";

/* Syscall numbers, pt_regs access and the page size: src/arch/. */
#define PAGE		ML_ARCH_PAGE_MIN
/* Kept above mm->start_stack (argc, the first argv pointers): the frames
 * all lie below it; env strings and auxv above are useless to unwind. */
#define ABOVE_START	256
#define HDR		sizeof(struct ml_event_hdr)

/* Tuning, set by user space before load. */
const volatile __u32 stack_size = ML_STACK_DEFAULT;
const volatile __u64 wakeup_bytes = 1 << 20;	/* wake the reader past this */
/*
 * Set by user space once the mmap_lock hook is attached: the lock time
 * then serves as entry, order and exit time (a clock read costs 40-80 ns
 * here, and there would be three per syscall).
 */
volatile __u32 lock_hook_on;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);		/* tgid */
	__type(value, __u8);
} targets SEC(".maps");

/*
 * A thread's syscall between enter and exit, in task-local storage: created
 * at the first traced syscall of a thread of a traced group, freed with the
 * task (no tid reuse, no eviction). Its absence is the quick "not traced"
 * answer for every other task: one pointer load, no hashing. Kept after
 * exit (nr = -1) so the hot path updates in place.
 */
struct pending {
	__u64 args[6];
	__u64 t_enter;
	__u64 t_order;		/* 0 until the mmap_lock write acquisition */
	__u64 aux;
	__u64 stack_lo;		/* cached stack VMA of this thread */
	__u64 stack_hi;
	__s32 nr;		/* -1: none pending */
	__u32 flags;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct pending);
} pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

/*
 * A record is built here, then copied into the ring with its exact length
 * by bpf_ringbuf_output: reserving the maximum, or slack for variable-size
 * reads, spreads records over more ring pages, and each fresh page costs
 * more than the extra copy. One slot per CPU (user space sizes the array;
 * too big for a per-CPU map); a program does not re-enter itself on a CPU.
 */
struct record {
	struct ml_event_hdr h;
	__u8 stack[ML_STACK_MAX + PAGE];	/* + PAGE: tail-read bound */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);		/* set to the CPU count before load */
	__type(key, __u32);
	__type(value, struct record);
} scratch SEC(".maps");

static __always_inline void count_lost(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&lost, &zero);

	if (n)
		(*n)++;
}

static __always_inline int traced_nr(long nr)
{
	switch (nr) {
	case ML_NR_mmap: case ML_NR_mprotect: case ML_NR_munmap: case ML_NR_brk:
	case ML_NR_mremap: case ML_NR_shmat: case ML_NR_shmdt: case ML_NR_pkey_mprotect:
		return 1;
	}
	return 0;
}

static __always_inline __u32 nr_kind(long nr)
{
	switch (nr) {
	case ML_NR_mmap: return ML_OP_MMAP;
	case ML_NR_munmap: return ML_OP_MUNMAP;
	case ML_NR_mremap: return ML_OP_MREMAP;
	case ML_NR_mprotect: case ML_NR_pkey_mprotect: return ML_OP_MPROTECT;
	case ML_NR_brk: return ML_OP_BRK;
	case ML_NR_shmat: return ML_OP_SHMAT;
	case ML_NR_shmdt: return ML_OP_SHMDT;
	}
	return 0;
}

/*
 * One wake-up per batch: only the record that makes the pending data cross
 * the threshold wakes the reader (a woken reader drains the ring). Waking
 * on every record past the threshold costs the target an IPI per event
 * whenever the reader falls behind; the reader's poll timeout catches any
 * rest.
 */
static __always_inline __u64 wake_flags(__u64 size)
{
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);

	return avail < wakeup_bytes && avail + size >= wakeup_bytes ?
	       BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

struct vma_range {
	__u64 start;
	__u64 end;
};

static long vma_cb(struct task_struct *task, struct vm_area_struct *vma,
		   void *data)
{
	struct vma_range *r = data;

	r->start = vma->vm_start;
	r->end = vma->vm_end;
	return 0;
}

/* The VMA containing addr, or {0, 0} (none, or mmap_lock contended). */
static __always_inline struct vma_range find_vma(__u64 addr)
{
	struct vma_range r = {};

	bpf_find_vma(bpf_get_current_task_btf(), addr, vma_cb, &r, 0);
	return r;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(ml_sys_enter, struct pt_regs *regs, long id)
{
	struct task_struct *task;
	struct pending *p;

	if (!traced_nr(id))
		return 0;
	task = bpf_get_current_task_btf();
	p = bpf_task_storage_get(&pending, task, 0, 0);
	if (!p) {
		/* A task without storage: untraced, or the first traced
		 * syscall of this thread. */
		__u32 tgid = task->tgid;

		if (!bpf_map_lookup_elem(&targets, &tgid))
			return 0;
		p = bpf_task_storage_get(&pending, task, 0,
					 BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (!p) {
			count_lost();
			return 0;
		}
	}
	ml_arch_syscall_args(regs, p->args);
	p->t_order = 0;
	p->flags = 0;
	p->aux = 0;
	if (id == ML_NR_brk) {
		p->aux = task->mm->brk;
	} else if (id == ML_NR_shmdt) {
		struct vma_range r = find_vma(p->args[0]);

		if (r.start == p->args[0])
			p->aux = r.end - r.start;
	}
	p->nr = id;
	p->t_enter = lock_hook_on ? 0 : bpf_ktime_get_ns();
	return 0;
}

/*
 * The first successful mmap_lock write acquisition inside a traced
 * syscall is when its change takes effect: ordering by it makes
 * cross-thread unmap/re-map races exact.
 */
SEC("tp_btf/mmap_lock_acquire_returned")
int BPF_PROG(ml_mmap_lock, struct mm_struct *mm, bool write, bool success)
{
	struct task_struct *task;
	struct pending *p;

	/* Fires on every mmap_lock acquisition (page faults included):
	 * leave in a few instructions unless this is the first write
	 * acquisition inside a traced syscall of the current task. */
	if (!write || !success)
		return 0;
	task = bpf_get_current_task_btf();
	p = bpf_task_storage_get(&pending, task, 0, 0);
	if (!p || p->nr < 0 || p->t_order || mm != task->mm)
		return 0;
	p->t_order = bpf_ktime_get_ns();
	p->flags |= ML_EVF_ORDER_LOCK;
	return 0;
}

/*
 * Copies len (<= ML_STACK_MAX) bytes of user stack from sp into buf, page
 * by page: bpf_probe_read_user fails whole on any fault, and stacks have
 * holes (pages a big frame reserved but never touched). A failing page is
 * left zeroed by the helper, which is what an untouched anonymous page
 * holds, and the copy goes on; with stop_on_fault (stack end unknown) it
 * ends there instead. Each read costs ~200 ns whatever its size, so the
 * whole range is tried in one read first. Returns bytes copied.
 */
static __always_inline __u32 copy_stack(__u8 *buf, __u64 sp, __u32 len,
					int stop_on_fault, int *fault)
{
	__u32 off, n, i;

	barrier_var(len);
	if (len > ML_STACK_MAX)
		len = ML_STACK_MAX;
	if (!bpf_probe_read_user(buf, len, (void *)sp))
		return len;

	n = (PAGE - (sp & (PAGE - 1))) & (PAGE - 1);
	if (n > len)
		n = len;
	barrier_var(n);		/* keep the mask: the verifier needs it */
	n &= PAGE - 1;
	if (n && bpf_probe_read_user(buf, n, (void *)sp)) {
		*fault = 1;
		if (stop_on_fault)
			return 0;
	}
	off = n;

#pragma clang loop unroll(disable)
	for (i = 0; i < ML_STACK_MAX / PAGE; i++) {
		if (off + PAGE > len || off > ML_STACK_MAX - PAGE)
			break;
		if (bpf_probe_read_user(buf + off, PAGE, (void *)(sp + off))) {
			*fault = 1;
			if (stop_on_fault)
				return off;
		}
		off += PAGE;
	}
	if (off < len && off <= ML_STACK_MAX) {
		n = len - off;	/* < PAGE: the loop took the rest */
		barrier_var(n);
		n &= PAGE - 1;
		if (bpf_probe_read_user(buf + off, n, (void *)(sp + off))) {
			*fault = 1;
			if (stop_on_fault)
				return off;
		}
		off += n;
	}
	return off;
}

/* Every field but stack_len (the ring is not zeroed). */
static __always_inline void fill_hdr(struct ml_event_hdr *h, __u32 kind,
				     __u32 flags, struct task_struct *task,
				     struct pending *p, __u64 now, long ret,
				     struct pt_regs *regs, long id)
{
	int i;

	h->kind = kind;
	h->flags = flags;
	h->tgid = task->tgid;
	h->tid = task->pid;
	/* No entry time read (lock_hook_on): the lock time, else the exit. */
	h->t_enter = p->t_enter ? p->t_enter :
		     (flags & ML_EVF_ORDER_LOCK) ? p->t_order : now;
	h->t_exit = now;
	if (!(flags & ML_EVF_ORDER_LOCK))
		h->t_order = (kind == ML_OP_MUNMAP || kind == ML_OP_SHMDT) ?
			     h->t_enter : now;
	else
		h->t_order = p->t_order;
	h->mm = (__u64)task->mm;
	for (i = 0; i < 6; i++)
		h->args[i] = p->args[i];
	h->ret = ret;
	h->aux = p->aux;
	if (kind == ML_OP_SHMAT) {
		struct vma_range r = find_vma(ret);

		h->aux = r.start == (__u64)ret ? r.end - r.start : 0;
	}
	ml_arch_fill_regs(h->regs, regs);
	h->nr = id;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(ml_sys_exit, struct pt_regs *regs, long ret)
{
	long id = ml_arch_syscall_nr(regs);
	__u64 now, sp = 0, want = 0, avail = 0;
	__u32 kind, len = 0, flags, got, cpu;
	struct task_struct *task;
	struct ml_event_hdr *h;
	struct record *rec;
	struct pending *p;
	int fault = 0;

	if (!traced_nr(id))
		return 0;
	task = bpf_get_current_task_btf();
	/* a lookup never fails on recursion: only creation can */
	p = bpf_task_storage_get(&pending, task, 0, 0);
	if (!p || p->nr != id)
		return 0;	/* untraced, or entered before tracing began */
	p->nr = -1;
	kind = nr_kind(id);

	switch (kind) {
	case ML_OP_MMAP: case ML_OP_MREMAP: case ML_OP_SHMAT:
		if (ret < 0 && ret >= -4095)
			return 0;
		break;
	case ML_OP_BRK:
		break;		/* "fails" by returning the old brk */
	default:
		if (ret != 0)
			return 0;
	}
	now = (p->flags & ML_EVF_ORDER_LOCK) ? p->t_order : bpf_ktime_get_ns();

	flags = p->flags;
	if (ml_op_maps_memory(kind, ret, p->aux)) {
		want = stack_size;
		if (want > ML_STACK_MAX)
			want = ML_STACK_MAX;
		sp = regs->sp;
		/* Copy only up to the stack VMA's end: a cached range per
		 * thread spares a VMA lookup on most events. */
		if (!(sp >= p->stack_lo && sp < p->stack_hi)) {
			struct vma_range r = find_vma(sp);
			__u64 top = task->mm->start_stack + ABOVE_START;

			if (sp < top && top < r.end)
				r.end = top;	/* main thread's stack */
			p->stack_lo = r.start;
			p->stack_hi = r.end;
		}
		if (sp >= p->stack_lo && sp < p->stack_hi)
			avail = p->stack_hi - sp;
		/* unknown (lock contended): copy until a fault */
		len = avail && avail < want ? avail : want;
	}

	if (!want) {
		/* No stack: build the record in place in the ring (one
		 * fixed-size reservation, no scratch copy). The wake-up
		 * decision looks at the data pending before this record. */
		__u64 wf = wake_flags(HDR);

		h = bpf_ringbuf_reserve(&events, HDR, 0);
		if (!h) {
			count_lost();
			return 0;
		}
		fill_hdr(h, kind, flags, task, p, now, ret, regs, id);
		h->stack_len = 0;
		bpf_ringbuf_submit(h, wf);
		return 0;
	}

	cpu = bpf_get_smp_processor_id();
	rec = bpf_map_lookup_elem(&scratch, &cpu);
	if (!rec) {
		count_lost();
		return 0;
	}
	h = &rec->h;
	fill_hdr(h, kind, flags, task, p, now, ret, regs, id);

	got = 0;
	if (len)
		got = copy_stack(rec->stack, sp, len, !avail, &fault);
	if (fault)
		flags |= ML_EVF_STACK_FAULT;
	/* Truncated: the stack goes on past what we copied (or may). */
	if (want && (!avail || got < avail))
		flags |= ML_EVF_STACK_TRUNCATED;
	h->flags = flags;
	h->stack_len = got;
	barrier_var(got);
	if (got > ML_STACK_MAX)
		got = ML_STACK_MAX;
	if (bpf_ringbuf_output(&events, rec, HDR + got, wake_flags(HDR + got)))
		count_lost();
	return 0;
}

static __always_inline void emit_simple(struct task_struct *task, __u32 kind,
					__u64 aux)
{
	struct ml_event_hdr *h;
	__u64 now = bpf_ktime_get_ns();

	h = bpf_ringbuf_reserve(&events, sizeof(*h), 0);
	if (!h) {
		count_lost();
		return;
	}
	__builtin_memset(h, 0, sizeof(*h));
	h->kind = kind;
	h->tgid = task->tgid;
	h->tid = task->pid;
	h->t_enter = now;
	h->t_exit = now;
	h->t_order = now;
	h->mm = (__u64)task->mm;
	h->aux = aux;
	/* Rare and significant: wake the reader now. */
	bpf_ringbuf_submit(h, BPF_RB_FORCE_WAKEUP);
}

/* A traced process starting another process: not traced (one process
 * per recording), but the user must hear of it (`-- sh -c`, `dotnet run`). */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(ml_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 tgid = parent->tgid;

	if (child->tgid == parent->tgid ||
	    !bpf_map_lookup_elem(&targets, &tgid))
		return 0;	/* a thread, or not ours */
	emit_simple(parent, ML_OP_FORK, child->tgid);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(ml_exec, struct task_struct *task, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	__u32 tgid = task->tgid;
	struct mm_struct *mm;
	struct pending *p;

	if (!bpf_map_lookup_elem(&targets, &tgid))
		return 0;
	/* the cached stack range belonged to the old address space */
	p = bpf_task_storage_get(&pending, task, 0, 0);
	if (p) {
		p->stack_lo = 0;
		p->stack_hi = 0;
	}
	mm = task->mm;
	emit_simple(task, ML_OP_EXEC, mm ? mm->start_brk : 0);
	return 0;
}

/* 6.18 passes group_dead: true for the last thread of the group, before
 * exit_mm(), so task->mm is still the address space that dies. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(ml_exit, struct task_struct *task, bool group_dead)
{
	__u32 tgid;

	/* per-thread state goes with the task_struct */
	if (!group_dead)
		return 0;
	tgid = task->tgid;
	if (!bpf_map_lookup_elem(&targets, &tgid))
		return 0;
	emit_simple(task, ML_OP_EXIT, 0);
	bpf_map_delete_elem(&targets, &tgid);
	return 0;
}
