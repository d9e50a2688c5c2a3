// SPDX-License-Identifier: MIT
/*
 * The BPF collector, user side: loads mapleak.bpf.c through its skeleton,
 * feeds tgids to the in-kernel filter and drains the ring buffer. Links
 * are fd based and never pinned, so a killed mapleak leaves nothing
 * attached.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "collect/collect.h"
#ifdef __clang_analyzer__
/*
 * Static analysis only (make lint), never compiled: bpftool's generated
 * skeleton frees its half-built state on error with libbpf's
 * bpf_object__destroy_skeleton(), which the analyzer, seeing a system
 * header, assumes frees nothing ("Potential leak of memory pointed to by
 * 's'" in mapleak.skel.h, a file no NOLINT can go into). Declared here,
 * the call lets the pointer escape, as it does at run time.
 */
void ml_analyzer_destroy_skeleton(struct bpf_object_skeleton *s);
#define bpf_object__destroy_skeleton ml_analyzer_destroy_skeleton
#endif
#include "mapleak.skel.h"


/* The arch header's table (what the BPF program filters on) is the C
 * library's for the machine this is built for. */
_Static_assert(ML_NR_mmap == SYS_mmap && ML_NR_munmap == SYS_munmap &&
	       ML_NR_mremap == SYS_mremap && ML_NR_mprotect == SYS_mprotect &&
	       ML_NR_brk == SYS_brk && ML_NR_shmat == SYS_shmat &&
	       ML_NR_shmdt == SYS_shmdt && ML_NR_pkey_mprotect == SYS_pkey_mprotect,
	       "src/arch/ syscall numbers differ from <sys/syscall.h>");

struct collector {
	struct mapleak_bpf *skel;
	struct ring_buffer *rb;
	collector_cb cb;	/* valid during collector_poll() only */
	void *cb_ctx;
	int handled;
	int cb_err;
	int ncpus;
};

/* libbpf prints through this; modules must not print, so keep the last
 * message for collector_last_error(). */
static char last_msg[512];

/* libbpf's print callback: fmt is libbpf's own, a vprintf format. */
__attribute__((format(printf, 2, 0)))
static int keep_print(enum libbpf_print_level level, const char *fmt,
		      va_list ap)
{
	size_t n;

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(last_msg, sizeof(last_msg), fmt, ap);
	n = strlen(last_msg);
	if (n && last_msg[n - 1] == '\n')
		last_msg[n - 1] = '\0';
	return 0;
}

const char *collector_last_error(void)
{
	return last_msg;
}

/* Whether the running kernel's BTF has a type of this name. */
static bool kernel_has_type(struct btf *vmlinux, const char *name)
{
	return vmlinux && btf__find_by_name_kind(vmlinux, name, BTF_KIND_TYPEDEF) > 0;
}

/* Turns a load/attach failure into the errno the header promises. */
static int open_error(int err)
{
	if (err > 0)
		err = -err;
	if (err == -EPERM || (err == -EACCES && geteuid() != 0))
		return -EPERM;
	if (err == 0)
		return -EINVAL;
	return err;
}

static int on_sample(void *ctx, void *data, size_t size);

int collector_open(struct collector **out, const struct collect_opts *o)
{
	size_t rbsize = o && o->ringbuf_size ? o->ringbuf_size : ML_RINGBUF_DEFAULT;
	u32 stack = o ? o->stack_size : ML_STACK_DEFAULT;
	struct btf *vmlinux;
	struct collector *c;
	int err;

	*out = NULL;
	if (stack > ML_STACK_MAX || !ml_ringbuf_size_ok(rbsize))
		return -EINVAL;
	libbpf_set_print(keep_print);

	/* No kernel BTF: neither tp_btf nor CO-RE can work. */
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
		return errno == EACCES ? -EPERM : -EOPNOTSUPP;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->ncpus = libbpf_num_possible_cpus();
	if (c->ncpus <= 0) {
		err = c->ncpus ? c->ncpus : -EINVAL;
		goto fail;
	}

	c->skel = mapleak_bpf__open();
	if (!c->skel) {
		err = open_error(-errno);
		goto fail;
	}
	c->skel->rodata->stack_size = stack;
	/* Wake the reader once 1/64 of the ring is pending; it also drains
	 * on its own poll timeout. */
	c->skel->rodata->wakeup_bytes = rbsize / 64;
	err = bpf_map__set_max_entries(c->skel->maps.events, rbsize);
	if (!err)	/* one record-building slot per CPU */
		err = bpf_map__set_max_entries(c->skel->maps.scratch, (u32)c->ncpus);
	if (err)
		goto fail_errno;

	/* The ordering hook is optional: skip it on kernels without it. */
	vmlinux = btf__load_vmlinux_btf();
	if (!kernel_has_type(vmlinux, "btf_trace_mmap_lock_acquire_returned"))
		bpf_program__set_autoload(c->skel->progs.ml_mmap_lock, false);
	btf__free(vmlinux);

	err = mapleak_bpf__load(c->skel);
	if (err)
		goto fail_errno;

	c->skel->links.ml_sys_enter = bpf_program__attach(c->skel->progs.ml_sys_enter);
	c->skel->links.ml_sys_exit = bpf_program__attach(c->skel->progs.ml_sys_exit);
	c->skel->links.ml_exec = bpf_program__attach(c->skel->progs.ml_exec);
	/* optional: only tells the user about child processes */
	c->skel->links.ml_fork = bpf_program__attach(c->skel->progs.ml_fork);
	c->skel->links.ml_exit = bpf_program__attach(c->skel->progs.ml_exit);
	if (!c->skel->links.ml_sys_enter || !c->skel->links.ml_sys_exit ||
	    !c->skel->links.ml_exec || !c->skel->links.ml_exit) {
		err = -errno;
		goto fail_errno;
	}
	if (bpf_program__autoload(c->skel->progs.ml_mmap_lock))
		/* NULL on failure: events then fall back to enter/exit times. */
		c->skel->links.ml_mmap_lock =
			bpf_program__attach(c->skel->progs.ml_mmap_lock);
	if (c->skel->links.ml_mmap_lock)
		c->skel->bss->lock_hook_on = 1;

	c->rb = ring_buffer__new(bpf_map__fd(c->skel->maps.events), on_sample, c,
				 NULL);
	if (!c->rb) {
		err = -errno;
		goto fail_errno;
	}
	*out = c;
	return 0;

fail_errno:
	err = open_error(err ? err : -errno);
fail:
	collector_close(c);
	return err;
}

void collector_close(struct collector *c)
{
	if (!c)
		return;
	ring_buffer__free(c->rb);
	mapleak_bpf__destroy(c->skel);	/* detaches every link */
	free(c);
}

int collector_add_tgid(struct collector *c, pid_t tgid)
{
	u32 key = (u32)tgid;
	u8 one = 1;

	if (tgid <= 0)
		return -EINVAL;
	if (bpf_map_update_elem(bpf_map__fd(c->skel->maps.targets), &key, &one,
				BPF_ANY))
		return -errno;
	return 0;
}

static int on_sample(void *ctx, void *data, size_t size)
{
	struct collector *c = ctx;
	const struct ml_event_hdr *ev = data;
	int err;

	/* The kernel side is ours, but never trust a length blindly. */
	if (size < sizeof(*ev) || ev->stack_len > size - sizeof(*ev))
		return 0;
	err = c->cb(c->cb_ctx, ev, ev->stack_len ? (const u8 *)data + sizeof(*ev) : NULL,
		    ev->stack_len);
	if (err < 0) {
		c->cb_err = err;
		return err;
	}
	c->handled++;
	return 0;
}

int collector_poll(struct collector *c, int timeout_ms, collector_cb cb, void *ctx)
{
	int err;

	if (!c) {	/* no collection (events are fed): nothing arrives */
		if (timeout_ms > 0)
			usleep((useconds_t)timeout_ms * 1000);
		return 0;
	}
	c->cb = cb;
	c->cb_ctx = ctx;
	c->handled = 0;
	c->cb_err = 0;

	err = ring_buffer__poll(c->rb, timeout_ms);
	/* Records submitted without a wake-up are not signalled: drain them. */
	if (err >= 0)
		err = ring_buffer__consume(c->rb);
	c->cb = NULL;
	if (c->cb_err)
		return c->cb_err;
	if (err < 0)
		return err == -EINTR ? -EINTR : err;
	return c->handled;
}

/* Runs the kernel skipped because the program was already running on that
 * CPU (a preempted program): events lost without our counter seeing them. */
static u64 prog_misses(const struct bpf_program *prog)
{
	struct bpf_prog_info info;
	u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
		return 0;
	return info.recursion_misses;
}

u64 collector_lost(struct collector *c)
{
	u64 *vals, sum = 0;
	u32 zero = 0;
	int i;

	if (!c)
		return 0;
	vals = calloc((size_t)c->ncpus, sizeof(*vals));
	if (vals && bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.lost), &zero, vals) == 0)
		for (i = 0; i < c->ncpus; i++)
			sum += vals[i];
	free(vals);
	return sum + prog_misses(c->skel->progs.ml_sys_enter) +
	       prog_misses(c->skel->progs.ml_sys_exit) +
	       prog_misses(c->skel->progs.ml_exec) + prog_misses(c->skel->progs.ml_exit);
}

int collector_fd(struct collector *c)
{
	return ring_buffer__epoll_fd(c->rb);
}
