/* SPDX-License-Identifier: MIT */
/*
 * Small facts about a process from /proc, each read bounded (the
 * target writes its comm and command line: callers escape them before
 * printing). NULL or 0 when the process is gone.
 */
#ifndef MAPLEAK_PROC_H
#define MAPLEAK_PROC_H

#include <stdbool.h>
#include <sys/types.h>

#include "mapleak.h"

char *proc_cmdline(pid_t pid);		/* NULs as spaces; free() it */
char *proc_comm(pid_t pid);		/* free() it */
u32 proc_nspid(pid_t pid);		/* innermost NSpid, else pid */
u64 proc_start_brk(pid_t pid);
bool proc_alive(pid_t pid);		/* exists, not a zombie */

#endif
