/* SPDX-License-Identifier: MIT */
/* arm64 (see arch.h). Include arch/arch.h, not this. */
#ifndef MAPLEAK_ARCH_ARM64_H
#define MAPLEAK_ARCH_ARM64_H

#define ML_ARCH_NAME		"aarch64"

/* include/uapi/asm-generic/unistd.h: one mmap (no mmap2 on 64-bit) */
#define ML_NR_shmat		196
#define ML_NR_shmdt		197
#define ML_NR_brk		214
#define ML_NR_munmap		215
#define ML_NR_mremap		216
#define ML_NR_mmap		222
#define ML_NR_mprotect		226
#define ML_NR_pkey_mprotect	288

/* DWARF numbering (AADWARF64): x0..x30 = 0..30 (x29 the frame pointer,
 * x30 the link register), sp = 31; the pc is kept after them (32) and
 * handed to libdwfl on its own (dwfl_thread_state_register_pc). */
#define ML_NREGS		33
#define ML_DWARF_NREGS		32
#define ML_REG_BP		29
#define ML_REG_SP		31
#define ML_REG_IP		32

#define ML_ELF_MACHINE		183	/* EM_AARCH64 */
/* 4K, 16K or 64K by kernel configuration: 4K chunks are within a page
 * on any of them. */
#define ML_ARCH_PAGE_MIN	4096

#ifdef __bpf__
static __always_inline void ml_arch_syscall_args(const struct pt_regs *regs,
						 __u64 args[6])
{
	/* at sys_enter x0 still holds the first argument (orig_x0 too) */
	for (int i = 0; i < 6; i++)
		args[i] = regs->regs[i];
}

static __always_inline long ml_arch_syscall_nr(const struct pt_regs *regs)
{
	return regs->syscallno;
}

static __always_inline void ml_arch_fill_regs(__u64 out[ML_NREGS],
					      const struct pt_regs *regs)
{
	for (int i = 0; i < 31; i++)
		out[i] = regs->regs[i];
	out[31] = regs->sp;
	out[32] = regs->pc;
}
#endif

#endif
