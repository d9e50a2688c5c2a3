/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the one /proc/PID/status parser (target/proc.c).
 * The file is the kernel's, but its Name line is the target's comm, and
 * the parser must keep its promises on any input: it reads only the
 * bytes given (ASan sees an over-read: the input is not NUL-terminated),
 * an NSpid or Tgid it reports is a positive pid, and without an NSpid
 * line the pid is the caller's.
 */
#include <stdint.h>
#include <stdlib.h>

#include "target/proc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proc_status ps;
	int rc = proc_status_parse((const char *)data, size, 4242, &ps);

	if (rc != 0 && rc != -5)	/* -EIO: not a status file */
		abort();
	if ((ps.have & PROC_HAVE_NSPID) ? ps.nspid <= 0 : ps.nspid != 4242)
		abort();
	if ((ps.have & PROC_HAVE_TGID) ? ps.tgid <= 0 : ps.tgid != 0)
		abort();
	if (rc == 0 && !(ps.have & (PROC_HAVE_TGID | PROC_HAVE_UIDS)))
		abort();
	return 0;
}
