/* SPDX-License-Identifier: MIT */
/* ml_fputs_esc()/ml_esc(): what reaches a terminal; ml_task_kind(). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "harness.h"
#include "mapleak.h"
#include "util.h"
#include "target/proc.h"

static const struct {
	const char *in, *want, *why;
} cases[] = {
	{ "plain text 1+2=3", "plain text 1+2=3", "printable ASCII passes" },
	{ "", "", "empty string" },
	{ "\x1b]0;title\x07", "\\x1b]0;title\\x07", "ESC and BEL (window title)" },
	{ "a\rb\nc\td", "a\\x0db\\x0ac\\x09d", "CR, LF and TAB" },
	{ "del\x7f", "del\\x7f", "DEL" },
	{ "\xc2\x9b" "31m", "\\xc2\\x9b31m", "C1 CSI as UTF-8 (U+009B)" },
	{ "\xc2\x80 \xc2\x9f", "\\xc2\\x80 \\xc2\\x9f", "C1 range ends" },
	{ "\x9b" "2J", "\\x9b2J", "a lone C1 byte (invalid UTF-8)" },
	{ "caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x98\x80",
	  "valid UTF-8 (2, 3 and 4 bytes) passes" },
	{ "\xc2\xa0", "\xc2\xa0", "U+00A0, just past C1, passes" },
	{ "\xff\xfe", "\\xff\\xfe", "bytes never in UTF-8" },
	{ "\xc0\xaf", "\\xc0\\xaf", "overlong encoding" },
	{ "\xed\xa0\x80", "\\xed\\xa0\\x80", "UTF-16 surrogate" },
	{ "\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80", "past U+10FFFF" },
	{ "\xe2\x80", "\\xe2\\x80", "sequence cut by the end" },
	{ "\xe2\x80" "A", "\\xe2\\x80A", "sequence cut by ASCII" },
	{ "C:\\x1b", "C:\\\\x1b", "a backslash is doubled: no look-alike escape" },
};

static void test_escape(void)
{
	char name[160];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *got = ml_esc(cases[i].in), *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		snprintf(name, sizeof(name), "ml_esc: %s", cases[i].why);
		T_CHECKF(name, got && !strcmp(got, cases[i].want),
			 "Expected \"%s\", got \"%s\"", cases[i].want, got ? got : "(null)");
		snprintf(name, sizeof(name), "ml_fputs_esc: %s", cases[i].why);
		T_CHECK(name, f && ml_fputs_esc(cases[i].in, f) == 0 && fclose(f) == 0 &&
			buf && !strcmp(buf, cases[i].want));
		free(got);
		free(buf);
	}
}

/* Every byte value, in every position: the output has no control byte
 * and no C1 code point, whatever the input. */
static void test_escape_all_bytes(void)
{
	char in[4];
	int bad = 0;

	for (int a = 1; a < 256; a++) {
		for (int b = 1; b < 256; b += 3) {
			char *o;

			in[0] = (char)a, in[1] = (char)b, in[2] = '\0';
			o = ml_esc(in);
			for (const unsigned char *p = (const unsigned char *)o; o && *p; p++)
				if (*p < 0x20 || *p == 0x7f ||
				    (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
					bad++;
			free(o);
		}
	}
	T_CHECKF("ml_esc: no control byte or C1 out of any two bytes", bad == 0,
		 "%d outputs with one", bad);
}

static void *sleeper(void *arg)
{
	*(pid_t *)arg = (pid_t)syscall(SYS_gettid);
	pause();
	return NULL;
}

static void test_task_kind(void)
{
	enum ml_task_kind kind = ML_TASK_ZOMBIE;
	pid_t tgid = 0, tid = 0;
	pthread_t th;
	int rc;

	rc = ml_task_kind(getpid(), &kind, &tgid);
	T_CHECKF("task kind: this process", rc == 0 && kind == ML_TASK_PROCESS &&
		 tgid == getpid(), "rc %d kind %d tgid %d", rc, kind, (int)tgid);
	if (pthread_create(&th, NULL, sleeper, &tid) == 0) {
		while (!__atomic_load_n(&tid, __ATOMIC_SEQ_CST))
			usleep(1000);
		rc = ml_task_kind(tid, &kind, &tgid);
		T_CHECKF("task kind: another thread of it", rc == 0 &&
			 kind == ML_TASK_THREAD && tgid == getpid(),
			 "rc %d kind %d tgid %d", rc, kind, (int)tgid);
		pthread_cancel(th);
		pthread_join(th, NULL);
	}
	rc = ml_task_kind(2, &kind, &tgid);
	if (rc == 0 && access("/proc/2/exe", F_OK) != 0) {
		/* a host's pid 2 is kthreadd */
		T_CHECKF("task kind: kthreadd", kind == ML_TASK_KERNEL, "kind %d", kind);
	} else {
		/* a pid namespace: not a failure, nothing to check */
		printf("# pid 2 is not a kernel thread here: kthreadd not checked\n");
	}
	T_CHECK("task kind: no such task is -ENOENT",
		ml_task_kind(0x3fffffff, &kind, &tgid) == -ENOENT);
}

int main(void)
{
	test_escape();
	test_escape_all_bytes();
	test_task_kind();
	T_END();
}
