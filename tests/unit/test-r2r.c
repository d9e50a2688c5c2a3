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
#include <limits.h>
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
	struct file f = { 0 };
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
	fprintf(stderr, "# %s: R2R %u.%u, %u runtime functions, %u methods "
		"(%u generic instances), %u entries skipped\n", path, st.major,
		st.minor, st.funcs, st.methods, st.instance, st.skipped);
	for (u32 i = 0; i < st.methods; i++) {
		const char *name;
		u32 s, e;

		if (r2r_method(r, i, &name, &s, &e) == 0)
			printf("%x %x %s\n", s, e, name);
	}
	r2r_free(r);
	return 0;
}

/* The newest version folder under root, or NULL. */
static char *newest(const char *root)
{
	DIR *d = opendir(root);
	struct dirent *e;
	char *best = NULL, *p = NULL;

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
	if (best && asprintf(&p, "%s/%s", root, best) < 0)
		p = NULL;
	free(best);
	return p;
}

/* The newest framework folder: $DOTNET_ROOT, beside the dotnet in PATH,
 * or FW_ROOT; NULL (no runtime: the tests skip). */
static char *framework(void)
{
	const char *env = getenv("DOTNET_ROOT");
	char *path = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
	char *fw = NULL, *root, *save = NULL;

	if (env && asprintf(&root, "%s/shared/Microsoft.NETCore.App", env) >= 0) {
		fw = newest(root);
		free(root);
	}
	for (char *dir = path ? strtok_r(path, ":", &save) : NULL; dir && !fw;
	     dir = strtok_r(NULL, ":", &save)) {
		char *exe, *real;

		if (asprintf(&exe, "%s/dotnet", dir) < 0)
			break;
		real = realpath(exe, NULL);
		free(exe);
		if (real && strrchr(real, '/')) {
			*strrchr(real, '/') = '\0';
			if (asprintf(&root, "%s/shared/Microsoft.NETCore.App", real) >= 0) {
				fw = newest(root);
				free(root);
			}
		}
		free(real);
	}
	free(path);
	return fw ? fw : newest(FW_ROOT);
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

/* Every assembly of the framework: the ones with ReadyToRun code open,
 * every method is named, their code ranges are ordered and apart. */
static void test_framework(const char *fw)
{
	DIR *d = opendir(fw);
	struct dirent *e;
	u32 dlls = 0, with_code = 0, bad = 0, unnamed = 0, disorder = 0;
	u64 methods = 0;
	char first_bad[256] = "";

	if (!d) {
		T_SKIP("framework", "cannot open the framework folder");
		return;
	}
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		struct file f;
		struct r2r *r;
		struct r2r_stats st;
		char *path;
		u32 prev_end = 0;
		int ret;

		if (n < 5 || strcmp(e->d_name + n - 4, ".dll"))
			continue;
		if (asprintf(&path, "%s/%s", fw, e->d_name) < 0)
			continue;
		ret = map_file(path, &f);
		free(path);
		if (ret)
			continue;
		dlls++;
		ret = r2r_open(f.p, f.len, &r);
		if (ret == 0) {
			with_code++;
			r2r_get_stats(r, &st);
			methods += st.methods;
			for (u32 i = 0; i < st.methods; i++) {
				const char *name;
				u32 s, end;

				if (r2r_method(r, i, &name, &s, &end) < 0 ||
				    !strstr(name, "::") || !strchr(name, '('))
					unnamed++;
				if (s >= end || s < prev_end)
					disorder++;
				prev_end = end;
			}
			r2r_free(r);
		} else if (ret != -ENOENT) {	/* -ENOENT: IL only (facades) */
			if (!bad++)
				snprintf(first_bad, sizeof(first_bad), "%s: %s",
					 e->d_name, strerror(-ret));
		}
		munmap(f.p, f.len);
	}
	closedir(d);
	printf("# %u assemblies, %u with ReadyToRun code, %llu methods\n",
	       dlls, with_code, (unsigned long long)methods);
	T_CHECKF("framework: every assembly reads (ReadyToRun or IL only)",
		 bad == 0, "Expected: 0 failures; Got: %u (%s)", bad, first_bad);
	T_CHECKF("framework: most assemblies have ReadyToRun code",
		 dlls >= 50 && with_code * 2 > dlls,
		 "Expected: > half of >= 50; Got: %u of %u", with_code, dlls);
	T_CHECKF("framework: every method is named \"Type::Method(args)\"",
		 methods > 50000 && unnamed == 0,
		 "Expected: > 50000 methods, 0 unnamed; Got: %llu, %u unnamed",
		 (unsigned long long)methods, unnamed);
	T_CHECKF("framework: method code ranges are ordered and apart",
		 disorder == 0, "Expected: 0; Got: %u", disorder);
}

/* System.IO.MemoryMappedFiles.dll: the methods a view's mmap goes
 * through, found by name, and found again by any RVA inside them. */
static void test_mmf(const char *fw)
{
	static const char *const want[] = {
		"System.IO.MemoryMappedFiles.MemoryMappedView::CreateView("
		"class Microsoft.Win32.SafeHandles.SafeMemoryMappedFileHandle,"
		"valuetype System.IO.MemoryMappedFiles.MemoryMappedFileAccess,"
		"int64,int64)",
		"System.IO.MemoryMappedFiles.MemoryMappedFile::CreateViewAccessor("
		"int64,int64,valuetype System.IO.MemoryMappedFiles.MemoryMappedFileAccess)",
		"Interop+Sys::MMap(native int,uint64,valuetype Interop/Sys/"
		"MemoryMappedProtections,valuetype Interop/Sys/MemoryMappedFlags,"
		"class [System.Runtime]Microsoft.Win32.SafeHandles.SafeFileHandle,int64)",
	};
	struct file f;
	struct r2r *r;
	char *path;
	int ret;

	if (asprintf(&path, "%s/System.IO.MemoryMappedFiles.dll", fw) < 0)
		return;
	ret = map_file(path, &f);
	free(path);
	if (ret) {
		T_SKIP("mmf", "no System.IO.MemoryMappedFiles.dll");
		return;
	}
	ret = r2r_open(f.p, f.len, &r);
	T_CHECKF("mmf: System.IO.MemoryMappedFiles.dll opens", ret == 0,
		 "Expected: 0; Got: %s", strerror(-ret));
	if (ret == 0) {
		T_CHECK("mmf: the assembly's name",
			r2r_assembly(r) &&
			!strcmp(r2r_assembly(r), "System.IO.MemoryMappedFiles"));
		for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
			const char *name = NULL, *n2 = NULL, *n3 = NULL;
			u32 start = 0, s2 = 0, s3 = 0, end = 0;
			struct r2r_stats st;
			bool found = has_method(r, want[i], &start);

			T_CHECKF(want[i], found, "Expected: a method named so");
			if (!found)
				continue;
			r2r_get_stats(r, &st);
			for (u32 k = 0; k < st.methods; k++)
				if (r2r_method(r, k, &name, &s2, &end) == 0 && s2 == start)
					break;
			T_CHECKF("mmf: its first, middle and last byte name it",
				 r2r_lookup(r, start, &n2, &s2) == 0 && s2 == start &&
				 !strcmp(n2, want[i]) &&
				 r2r_lookup(r, start + (end - start) / 2, &n3, &s3) == 0 &&
				 s3 == start && !strcmp(n3, want[i]) &&
				 r2r_lookup(r, end - 1, &n3, &s3) == 0 && s3 == start,
				 "Got: %s at 0x%x", n2 ? n2 : "(none)", s2);
			T_CHECK("mmf: the byte past it is another method's or none",
				r2r_lookup(r, end, &n3, &s3) != 0 || s3 != start);
		}
		T_CHECK("mmf: an RVA in the headers names nothing",
			r2r_lookup(r, 0x10, &(const char *){ NULL }, &(u32){ 0 }) == -ENOENT);
		r2r_free(r);
	}
	munmap(f.p, f.len);
}

/* System.Private.CoreLib.dll: generic code from InstanceMethodEntryPoints
 * is named with its instantiation (System.__Canon for shared code). */
static void test_corelib(const char *fw)
{
	struct file f;
	struct r2r *r;
	struct r2r_stats st;
	char *path;
	int ret;

	if (asprintf(&path, "%s/System.Private.CoreLib.dll", fw) < 0)
		return;
	ret = map_file(path, &f);
	free(path);
	if (ret) {
		T_SKIP("corelib", "no System.Private.CoreLib.dll");
		return;
	}
	ret = r2r_open(f.p, f.len, &r);
	T_CHECKF("corelib: opens", ret == 0, "Got: %s", strerror(-ret));
	if (ret == 0) {
		r2r_get_stats(r, &st);
		printf("# CoreLib: R2R %u.%u, %u runtime functions, %u methods "
		       "(%u generic instances), %u entries skipped\n", st.major,
		       st.minor, st.funcs, st.methods, st.instance, st.skipped);
		T_CHECK("corelib: generic instances read",
			st.instance > 1000 && st.methods > st.instance);
		T_CHECK("corelib: few entries skipped",
			st.skipped * 100 < st.methods);
		T_CHECK("corelib: List<__Canon>.Add is there",
			has_method(r, "System.Collections.Generic.List`1[System.__Canon]::Add(!0)", NULL));
		T_CHECK("corelib: String.Concat(string,string)",
			has_method(r, "System.String::Concat(string,string)", NULL));
		T_CHECK("corelib: Dictionary<__Canon,__Canon>.TryGetValue",
			has_method(r, "System.Collections.Generic.Dictionary`2[System.__Canon,"
				   "System.__Canon]::TryGetValue(!0,!1&)", NULL));
		r2r_free(r);
	}
	munmap(f.p, f.len);
}

/* A damaged image never reads outside its bytes (ASan) and never names
 * from garbage silently: every cut, and bytes changed one at a time over
 * the ReadyToRun header, tables and metadata. */
static void test_damage(const char *fw)
{
	struct file f;
	unsigned char *copy;
	char *path;
	u32 opened = 0, runs = 0;
	int ret;

	if (asprintf(&path, "%s/System.Runtime.CompilerServices.VisualC.dll", fw) < 0)
		return;
	ret = map_file(path, &f);
	free(path);
	if (ret) {
		T_SKIP("damage", "no System.Runtime.CompilerServices.VisualC.dll");
		return;
	}
	copy = malloc(f.len);
	if (!copy) {
		munmap(f.p, f.len);
		return;
	}
	/* every cut, each in a buffer of exactly that size (ASan sees it) */
	for (size_t len = 0; len < f.len; len += len < 4096 ? 7 : 61) {
		unsigned char *b = malloc(len ? len : 1);
		struct r2r *r;

		if (!b)
			break;
		memcpy(b, f.p, len);
		if (r2r_open(b, len, &r) == 0) {
			struct r2r_stats st;
			const char *name;
			u32 s, e;

			opened++;
			r2r_get_stats(r, &st);
			for (u32 i = 0; i < st.methods; i++)
				r2r_method(r, i, &name, &s, &e);
			r2r_free(r);
		}
		free(b);
		runs++;
	}
	T_CHECKF("damage: every cut is refused or read within its bytes",
		 runs > 100, "Got: %u runs, %u opened", runs, opened);
	runs = 0;
	for (size_t at = 0; at < f.len; at += 3) {
		struct r2r *r;

		memcpy(copy, f.p, f.len);
		copy[at] ^= (unsigned char)(0x5a + at);
		if (r2r_open(copy, f.len, &r) == 0) {
			struct r2r_stats st;
			const char *name;
			u32 s, e;

			r2r_get_stats(r, &st);
			for (u32 i = 0; i < st.methods; i++)
				r2r_method(r, i, &name, &s, &e);
			for (u32 rva = 0; rva < 0x20000; rva += 0x101)
				r2r_lookup(r, rva, &name, &s);
			r2r_free(r);
		}
		runs++;
	}
	T_CHECKF("damage: a changed byte anywhere is refused or read safely",
		 runs > 1000, "Got: %u runs", runs);
	free(copy);
	munmap(f.p, f.len);
}

/* Signatures: compressed integers at their limits, and nesting capped. */
static void test_sig(void)
{
	static const unsigned char ok1[] = { 0x7f }, ok2[] = { 0xbf, 0xff },
		ok4[] = { 0xdf, 0xff, 0xff, 0xff }, bad[] = { 0xe0, 0, 0, 0 },
		short2[] = { 0x80 };
	struct meta_sig s;
	u32 v = 0;
	unsigned char deep[200];
	struct meta_str b = { 0 };

	s = (struct meta_sig){ ok1, ok1 + 1 };
	T_CHECK("sig: 1-byte integer", meta_sig_uint(&s, &v) == 0 && v == 0x7f);
	s = (struct meta_sig){ ok2, ok2 + 2 };
	T_CHECK("sig: 2-byte integer", meta_sig_uint(&s, &v) == 0 && v == 0x3fff);
	s = (struct meta_sig){ ok4, ok4 + 4 };
	T_CHECK("sig: 4-byte integer", meta_sig_uint(&s, &v) == 0 && v == 0x1fffffff);
	s = (struct meta_sig){ bad, bad + 4 };
	T_CHECK("sig: 111xxxxx refused", meta_sig_uint(&s, &v) == -EBADMSG);
	s = (struct meta_sig){ short2, short2 + 1 };
	T_CHECK("sig: cut integer refused", meta_sig_uint(&s, &v) == -EBADMSG);
	/* SZARRAY of SZARRAY of ... int32: past the depth cap, refused */
	memset(deep, 0x1d, sizeof(deep));
	deep[sizeof(deep) - 1] = 0x08;
	s = (struct meta_sig){ deep, deep + sizeof(deep) };
	T_CHECK("sig: nesting past the cap refused",
		meta_sig_type(NULL, &s, META_STYLE_SIG, false, &b) == -EBADMSG);
	free(b.s);
	b = (struct meta_str){ 0 };
	s = (struct meta_sig){ deep + sizeof(deep) - 3, deep + sizeof(deep) };
	T_CHECK("sig: int32[][] formats",
		meta_sig_type(NULL, &s, META_STYLE_SIG, false, &b) == 0 &&
		b.s && !strcmp(b.s, "int32[][]"));
	free(b.s);
}

int main(int argc, char **argv)
{
	char *fw;

	if (argc == 3 && !strcmp(argv[1], "dump"))
		return dump(argv[2]);
	test_sig();
	fw = framework();
	if (!fw) {
		T_SKIP("framework", "no .NET runtime in " FW_ROOT);
	} else {
		printf("# framework: %s\n", fw);
		test_framework(fw);
		test_mmf(fw);
		test_corelib(fw);
		test_damage(fw);
		free(fw);
	}
	T_END();
}
