/* SPDX-License-Identifier: MIT */
/* x86-64 (see arch.h). Include arch/arch.h, not this. */
#ifndef MAPLEAK_ARCH_X86_H
#define MAPLEAK_ARCH_X86_H

#define ML_ARCH_NAME		"x86_64"

/* arch/x86/entry/syscalls/syscall_64.tbl */
#define ML_NR_mmap		9
#define ML_NR_mprotect		10
#define ML_NR_munmap		11
#define ML_NR_brk		12
#define ML_NR_mremap		25
#define ML_NR_shmat		30
#define ML_NR_shmdt		67
#define ML_NR_pkey_mprotect	329

/* DWARF numbering (x86-64 psABI): rax rdx rcx rbx rsi rdi rbp rsp
 * r8..r15, then 16 = the return address column, which holds rip. */
#define ML_NREGS		17
#define ML_DWARF_NREGS		17
#define ML_REG_BP		6
#define ML_REG_SP		7
#define ML_REG_IP		16

#define ML_ELF_MACHINE		62	/* EM_X86_64 */
#define ML_ARCH_PAGE_MIN	4096

#ifdef __bpf__
static __always_inline void ml_arch_syscall_args(const struct pt_regs *regs,
						 __u64 args[6])
{
	args[0] = regs->di;
	args[1] = regs->si;
	args[2] = regs->dx;
	args[3] = regs->r10;	/* the syscall ABI's 4th, not rcx */
	args[4] = regs->r8;
	args[5] = regs->r9;
}

static __always_inline long ml_arch_syscall_nr(const struct pt_regs *regs)
{
	return regs->orig_ax;
}

static __always_inline void ml_arch_fill_regs(__u64 out[ML_NREGS],
					      const struct pt_regs *regs)
{
	out[0] = regs->ax;
	out[1] = regs->dx;
	out[2] = regs->cx;
	out[3] = regs->bx;
	out[4] = regs->si;
	out[5] = regs->di;
	out[6] = regs->bp;
	out[7] = regs->sp;
	out[8] = regs->r8;
	out[9] = regs->r9;
	out[10] = regs->r10;
	out[11] = regs->r11;
	out[12] = regs->r12;
	out[13] = regs->r13;
	out[14] = regs->r14;
	out[15] = regs->r15;
	out[16] = regs->ip;
}
#endif

#endif
