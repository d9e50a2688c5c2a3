/* SPDX-License-Identifier: MIT */
/*
 * The BPF collector: traces the mapping syscalls of chosen thread groups,
 * filtered in the kernel, into one ring buffer.
 */
#ifndef MAPLEAK_COLLECT_H
#define MAPLEAK_COLLECT_H

#include "mapleak.h"

struct collector;

/*
 * The oldest kernel the BPF program loads on, from what it uses: tp_btf
 * (5.5), the BPF ring buffer (5.8), task storage and
 * bpf_get_current_task_btf (5.11), bpf_find_vma (5.17), and
 * sched_process_exit's group_dead argument (6.18), which ml_exit reads
 * (the verifier refuses an argument the tracepoint lacks). The mmap_lock
 * tracepoints (5.10) are optional. One place for the message, README and
 * docs/design.md.
 */
#define ML_MIN_KERNEL "6.18"

/*
 * The ring buffer's size: a power of two (the kernel's rule, which also
 * makes it a whole number of pages from 64 KiB up on every page size).
 * 64 KiB holds a few records with the default stack copy; 2 GiB is the
 * largest power of two the kernel's 32-bit max_entries can name (Linux
 * 6.18 maps it). The one rule: collector_open() refuses anything else,
 * and `record --buffer-size` says so.
 */
#define ML_RINGBUF_MIN		(64UL << 10)
#define ML_RINGBUF_MAX		(2UL << 30)
#define ML_RINGBUF_DEFAULT	(64UL << 20)

static inline bool ml_ringbuf_size_ok(u64 size)
{
	return size >= ML_RINGBUF_MIN && size <= ML_RINGBUF_MAX &&
	       !(size & (size - 1));
}

struct collect_opts {
	u32 stack_size;		/* bytes of user stack to copy (<= ML_STACK_MAX) */
	size_t ringbuf_size;	/* bytes, ml_ringbuf_size_ok(); 0 = default */
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
