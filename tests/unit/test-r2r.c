/* SPDX-License-Identifier: MIT */
/*
 * ReadyToRun method names (symbols/r2r.c) and the ECMA-335 metadata reader
 * (symbols/meta.c) on the installed .NET framework's own assemblies, plus
 * every truncation and a sweep of byte damage over a real image (nothing
 * read outside it; run under ASan by `make check SANITIZE=address`).
 *
 *   test-r2r                 the tests
 *   test-r2r dump FILE.dll   "START END NAME" for every method with code
 *                            (tests/e2e compare it with what the runtime
 *                            says)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "symbols/meta.h"
#include "symbols/pe.h"
#include "symbols/r2r.h"

#define FW_ROOT "/usr/share/dotnet/shared/Microsoft.NETCore.App"

struct file {
	void *p;
	size_t len;
};

static int map_file(const char *path, struct file *f)
{
	struct stat sb;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0 || sb.st_size <= 0) {
		close(fd);
		return -EINVAL;
	}
	f->len = (size_t)sb.st_size;
	f->p = mmap(NULL, f->len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	return f->p == MAP_FAILED ? -errno : 0;
}

static int dump(const char *path)
{
	struct file f;
	struct r2r *r;
	struct r2r_stats st;
	int ret = map_file(path, &f);

	if (ret == 0)
		ret = r2r_open(f.p, f.len, &r);
	if (ret) {
		fprintf(stderr, "test-r2r: %s: %s\n", path, strerror(-ret));
		return 1;
	}
	r2r_get_stats(r, &st);
	for (u32 i = 0; i < st.methods; i++) {
		const char *name;
		u32 s, e;

		if (r2r_method(r, i, &name, &s, &e) == 0)
			printf("%x %x %s\n", s, e, name);
	}
	r2r_free(r);
	return 0;
}

/* The newest framework folder, or NULL (no runtime: tests skip). */
static char *framework(void)
{
	DIR *d = opendir(FW_ROOT);
	struct dirent *e;
	char *best = NULL;

	if (!d)
		return NULL;
	while ((e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		if (!best || strverscmp(e->d_name, best) > 0) {
			free(best);
			best = strdup(e->d_name);
		}
	}
	closedir(d);
	if (best) {
		char *p;

		if (asprintf(&p, "%s/%s", FW_ROOT, best) < 0)
			p = NULL;
		free(best);
		return p;
	}
	return NULL;
}

static bool has_method(struct r2r *r, const char *want, u32 *start)
{
	struct r2r_stats st;

	r2r_get_stats(r, &st);
	for (u32 i = 0; i < st.methods; i++) {
		const char *name;
		u32 s, e;

		if (r2r_method(r, i, &name, &s, &e) == 0 && !strcmp(name, want)) {
			if (start)
				*start = s;
			return true;
		}
	}
	return false;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "dump"))
		return dump(argv[2]);
	T_END();
}
