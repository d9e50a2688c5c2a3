/* SPDX-License-Identifier: MIT */
/*
 * The one event format every collector produces: shared by the BPF
 * program (mapleak.bpf.c) and user space. Fixed-width types only, so the
 * same layout holds on both sides.
 */
#ifndef MAPLEAK_EVENTS_H
#define MAPLEAK_EVENTS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#include "arch/arch.h"

/* Kinds of address-space change; pkey_mprotect arrives as ML_OP_MPROTECT. */
enum ml_op_kind {
	ML_OP_MMAP = 1,		/* args: addr len prot flags fd off; ret = address */
	ML_OP_MUNMAP = 2,	/* args: addr len */
	ML_OP_MREMAP = 3,	/* args: old_addr old_len new_len flags new_addr; ret = address */
	ML_OP_MPROTECT = 4,	/* args: addr len prot */
	ML_OP_BRK = 5,		/* args: requested brk; ret = resulting brk; aux = brk before */
	ML_OP_SHMAT = 6,	/* args: shmid addr flags; ret = address; aux = segment size */
	ML_OP_SHMDT = 7,	/* args: addr; aux = bytes detached (0: unknown) */
	ML_OP_EXEC = 8,		/* a new address space; aux = start_brk */
	ML_OP_EXIT = 9,		/* the whole thread group exited */
	ML_OP_FORK = 10,	/* it started a new process (not traced); aux = its pid */
	ML_OP_MAX
};

/*
 * Does this successful call map memory (so that the event carries a stack
 * and the change gets an origin)? One answer for the BPF program, which
 * copies the stack, and user space, which unwinds it. aux: brk before.
 */
static inline int ml_op_maps_memory(__u32 kind, __s64 ret, __u64 aux)
{
	switch (kind) {
	case ML_OP_MMAP: case ML_OP_MREMAP: case ML_OP_MPROTECT:
	case ML_OP_SHMAT:
		return 1;
	case ML_OP_BRK:
		return (__u64)ret > aux;	/* grew */
	}
	return 0;
}

/* ml_event_hdr.flags */
#define ML_EVF_STACK_TRUNCATED	0x1	/* stack copy stopped before stack_size */
#define ML_EVF_STACK_FAULT	0x2	/* a chunk of the stack could not be read */
#define ML_EVF_ORDER_LOCK	0x4	/* t_order is the mmap_lock write acquisition */

/* The user registers (ML_NREGS, ML_REG_SP/BP/IP) are the architecture's,
 * in DWARF numbering: src/arch/. */

#define ML_STACK_DEFAULT	16384
#define ML_STACK_MAX		65536

/*
 * One ring-buffer record: header then stack_len bytes copied from the
 * user stack at regs[ML_REG_SP] (only for calls that map memory).
 */
struct ml_event_hdr {
	__u32 kind;		/* enum ml_op_kind */
	__u32 flags;		/* ML_EVF_* */
	__u32 tgid;		/* host pid */
	__u32 tid;		/* host tid */
	__u64 t_enter;		/* CLOCK_MONOTONIC ns at syscall entry */
	__u64 t_exit;		/* CLOCK_MONOTONIC ns at syscall exit */
	__u64 t_order;		/* when the change took effect (see docs/design.md) */
	__u64 mm;		/* kernel mm_struct address: the address-space id */
	__u64 args[6];
	__s64 ret;
	__u64 aux;
	__u64 regs[ML_NREGS];
	__u32 stack_len;	/* bytes of stack that follow */
	__u32 nr;		/* syscall number */
};

#endif
