/* SPDX-License-Identifier: MIT */
/* How much of a range is in RAM or swap, from /proc/PID/pagemap. */
#ifndef MAPLEAK_RESIDENT_H
#define MAPLEAK_RESIDENT_H

#include "mapleak.h"

/* Opens /proc/PID/pagemap (pid <= 0: this process). Returns an fd or -errno
 * (-ENOENT/-ESRCH when the process is gone, -EACCES). */
int resident_open(pid_t pid);

/*
 * Counts resident and swapped bytes of [start, end) (widened to whole
 * pages). Unmapped pages count as neither. Returns 0 or -errno; on error
 * *resident and *swapped are left unchanged.
 */
int resident_measure(int pagemap_fd, u64 start, u64 end, u64 *resident,
		     u64 *swapped);

#endif
