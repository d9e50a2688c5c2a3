// SPDX-License-Identifier: MIT
/* bench/helpercost: CPU ns per getppid() with the hc program doing
 * `mode` work, interleaved rounds, median. Needs root. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <bpf/libbpf.h>
#include "hc.skel.h"

static double per_call(long n)
{
	struct timespec a, b;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
	return ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n;
}

static int nop(void *c, void *d, size_t n) { (void)c; (void)d; (void)n; return 0; }

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static const char *names[] = { "empty", "1 ktime_get_ns", "4 ktime_get_ns",
		"task_storage_get", "lru lookup", "probe_read_user 64", "probe_read_user 640",
		"probe_read_user 4096", "ringbuf_output 896", "ringbuf reserve+submit 256",
		"ringbuf_output 256", "ringbuf_query", "ktime_get_boot_ns", "jiffies64" };
	int nm = sizeof(names) / sizeof(names[0]), R = argc > 1 ? atoi(argv[1]) : 9;
	long n = 200000;
	double t[16][64], off[64];
	struct hc_bpf *s = hc_bpf__open_and_load();
	struct ring_buffer *rb;

	if (!s || hc_bpf__attach(s))
		return 1;
	rb = ring_buffer__new(bpf_map__fd(s->maps.rb), nop, NULL, NULL);
	s->bss->tgid_sel = getpid();
	for (int r = 0; r < R; r++) {
		s->bss->tgid_sel = 0;
		off[r] = per_call(n);
		s->bss->tgid_sel = getpid();
		for (int m = 0; m < nm; m++) {
			s->bss->mode = m;
			t[m][r] = per_call(n);
			ring_buffer__consume(rb);
		}
	}
	qsort(off, R, sizeof(double), cmp);
	printf("getppid untraced-by-filter: %.0f ns\n", off[R / 2]);
	for (int m = 0; m < nm; m++) {
		qsort(t[m], R, sizeof(double), cmp);
		printf("%-28s %6.0f ns (+%.0f over empty)\n", names[m], t[m][R / 2],
		       t[m][R / 2] - t[0][R / 2]);
	}
	return 0;
}
