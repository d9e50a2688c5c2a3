// SPDX-License-Identifier: GPL-2.0
/* Micro-benchmark of BPF helper costs on this kernel (bench/helpercost). */
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
char LICENSE[] SEC("license") = "GPL";

volatile __u32 tgid_sel;
volatile __u32 mode;
__u64 sink;

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} ts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 32768);
	__type(key, __u32);
	__type(value, __u64);
} lru SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 << 20);
} rb SEC(".maps");

struct buf { __u8 b[4096]; };
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct buf);
} scratch SEC(".maps");

SEC("tp_btf/sys_enter")
int BPF_PROG(hc, struct pt_regs *regs, long id)
{
	struct task_struct *task;
	__u32 zero = 0, tid;
	struct buf *b;
	__u64 *v;
	void *r;

	if (id != 110)	/* getppid */
		return 0;
	task = bpf_get_current_task_btf();
	if (task->tgid != tgid_sel)
		return 0;
	switch (mode) {
	case 1:
		sink += bpf_ktime_get_ns();
		break;
	case 2:
		sink += bpf_ktime_get_ns(); sink += bpf_ktime_get_ns();
		sink += bpf_ktime_get_ns(); sink += bpf_ktime_get_ns();
		break;
	case 3:
		v = bpf_task_storage_get(&ts, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (v) (*v)++;
		break;
	case 4:
		tid = task->pid;
		v = bpf_map_lookup_elem(&lru, &tid);
		if (v) (*v)++; else { __u64 one = 1; bpf_map_update_elem(&lru, &tid, &one, 0); }
		break;
	case 5: case 6: case 7:
		b = bpf_map_lookup_elem(&scratch, &zero);
		if (!b) return 0;
		bpf_probe_read_user(b->b, mode == 5 ? 64 : mode == 6 ? 640 : 4096, (void *)regs->sp);
		break;
	case 8:
		b = bpf_map_lookup_elem(&scratch, &zero);
		if (!b) return 0;
		bpf_ringbuf_output(&rb, b, 896, BPF_RB_NO_WAKEUP);
		break;
	case 9:
		r = bpf_ringbuf_reserve(&rb, 256, 0);
		if (r) bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
		break;
	case 10:
		b = bpf_map_lookup_elem(&scratch, &zero);
		if (!b) return 0;
		bpf_ringbuf_output(&rb, b, 256, BPF_RB_NO_WAKEUP);
		break;
	case 11:
		sink += bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA);
		break;
	case 12:
		sink += bpf_ktime_get_boot_ns();
		break;
	case 13:
		sink += bpf_jiffies64();
		break;
	}
	return 0;
}
