/* SPDX-License-Identifier: MIT */
/*
 * The BPF collector: traces the mapping syscalls of chosen thread groups,
 * filtered in the kernel, into one ring buffer.
 */
#ifndef MAPLEAK_COLLECT_H
#define MAPLEAK_COLLECT_H

#include "mapleak.h"

struct collector;

struct collect_opts {
	u32 stack_size;		/* bytes of user stack to copy (<= ML_STACK_MAX) */
	size_t ringbuf_size;	/* bytes, power of two; 0 = default */
};

/*
 * Loads and attaches the BPF programs. -EPERM without CAP_BPF/CAP_PERFMON
 * (or root), -ENOSYS/-EOPNOTSUPP when the kernel lacks BPF, BTF or a
 * needed hook. Tracing is filtered to nothing until collector_add_tgid().
 */
int collector_open(struct collector **out, const struct collect_opts *o);
void collector_close(struct collector *c);	/* NULL is a no-op; detaches */

/* Starts tracing every thread of tgid (host pid), present and future. */
int collector_add_tgid(struct collector *c, pid_t tgid);

typedef int (*collector_cb)(void *ctx, const struct ml_event_hdr *ev,
			    const void *stack, size_t size);

/* Waits up to timeout_ms for events and hands each to cb (in ring order).
 * Returns the number of events handled, or -errno (-EINTR on a signal). */
int collector_poll(struct collector *c, int timeout_ms, collector_cb cb, void *ctx);

/* Events dropped in the kernel so far (ring buffer full). */
u64 collector_lost(struct collector *c);

/* The epoll fd behind the ring buffer, for a caller's own loop. */
int collector_fd(struct collector *c);

/* libbpf's last warning or error text ("" if none), kept because modules
 * do not print; for the command's error message after a failed open. */
const char *collector_last_error(void);

#endif
