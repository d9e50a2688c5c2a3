/* SPDX-License-Identifier: MIT */
/*
 * Everything that differs between architectures, in one place: syscall
 * numbers of the calls mapleak traces, the user registers an event
 * carries (in DWARF numbering, what libdwfl unwinds from), pt_regs access
 * for the BPF program, the ELF machine of those registers, and the
 * smallest page size. An architecture is one header next to this one
 * (x86.h, arm64.h) plus a vmlinux_<arch>.h fallback in src/collect/.
 *
 * Shared by the BPF program (clang -target bpf -D__TARGET_ARCH_<arch>)
 * and user space (the compiler's own target macros).
 */
#ifndef MAPLEAK_ARCH_H
#define MAPLEAK_ARCH_H

#if defined(__TARGET_ARCH_x86) || (!defined(__bpf__) && defined(__x86_64__))
#include "arch/x86.h"
#elif defined(__TARGET_ARCH_arm64) || (!defined(__bpf__) && defined(__aarch64__))
#include "arch/arm64.h"
#else
#error "mapleak: unsupported architecture (add src/arch/<arch>.h)"
#endif

/*
 * Each header defines:
 *   ML_ARCH_NAME              "x86_64", "aarch64"
 *   ML_NR_mmap ... ML_NR_pkey_mprotect   syscall numbers
 *   ML_NREGS                  registers in ml_event_hdr.regs
 *   ML_DWARF_NREGS            how many of them, from DWARF register 0,
 *                             libdwfl takes as the initial frame
 *   ML_REG_SP, ML_REG_BP, ML_REG_IP   their indexes (BP: the frame
 *                             pointer, x29 on arm64)
 *   ML_ELF_MACHINE            EM_* of those registers
 *   ML_ARCH_PAGE_MIN          the smallest page size (BPF copy chunks;
 *                             user space asks sysconf for the real one)
 * and, in the BPF program only (vmlinux.h included):
 *   ml_arch_syscall_args(regs, args)  the six arguments at sys_enter
 *   ml_arch_syscall_nr(regs)          the call number at sys_exit
 *   ml_arch_fill_regs(out, regs)      ml_event_hdr.regs from pt_regs
 */

#endif
