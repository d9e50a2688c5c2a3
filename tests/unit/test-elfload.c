// SPDX-License-Identifier: MIT
/*
 * The address -> ELF address rule (symbols/elfload.c) and the names it
 * gives (symtab), checked three ways:
 *
 *  1. program-header tables where segments share file pages (lld), the
 *     classic ld.bfd layout, RELRO, split and ET_EXEC mappings;
 *  2. a program and a library built here by each linker (ld.bfd, gold,
 *     lld, mold), PIE and not, and with a non-zero base (as prelink
 *     leaves a library): the running child reports, from the dynamic
 *     loader (dl_iterate_phdr), the ELF address of pcs in its functions;
 *     mapleak names the live pcs, addr2line and nm name the ELF addresses.
 *     The library is stripped after linking, so its hidden function has
 *     no symbol and mapleak's module offset must be the ELF address;
 *  3. the installed .NET runtime, loaded into this process: the return
 *     address of the call to mmap64@plt is in SystemNative_MMap, and
 *     libcoreclr.so offsets are ELF addresses.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* Check names are short; a cut one is harmless. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#include "harness.h"
#include "symbols/elfload.h"
#include "symbols/symtab.h"

static char tmpdir[] = "/tmp/mapleak-test-elfload.XXXXXX";

/* ---- 1. tables ---- */

#define R PF_R
#define RX (PF_R | PF_X)
#define RW (PF_R | PF_W)

/* libSystem.Native.so of .NET 10 (lld): the read-only segment's file
 * range runs into the page where the code's file range starts. */
static const struct elfload_seg lld_native[] = {
	{ 0x0, 0x0, 0xb40c, 0xb40c, 0x1000, R },
	{ 0xc410, 0xb410, 0xaeb0, 0xaeb0, 0x1000, RX },
	{ 0x182c0, 0x162c0, 0x830, 0xd40, 0x1000, RW },
	{ 0x19af0, 0x16af0, 0x78, 0x1b8, 0x1000, RW },
};

/* ld.bfd without separate code: text and data share a file page. */
static const struct elfload_seg bfd_classic[] = {
	{ 0x0, 0x0, 0x1d00, 0x1d00, 0x200000, RX },
	{ 0x201df0, 0x1df0, 0x260, 0x270, 0x200000, RW },
};

/* Two segments that start in the same file page. */
static const struct elfload_seg one_page[] = {
	{ 0x0, 0x0, 0x500, 0x500, 0x1000, R },
	{ 0x1500, 0x500, 0x400, 0x400, 0x1000, RX },
};

static void test_tables(void)
{
	const u64 s = 0x7f0000000000ULL;
	struct elfload_map m;
	bool exact;
	u64 b;

	/* The executable mapping .NET's loader makes: offset 0xb000. */
	m = (struct elfload_map){ s + 0xc000, 0xb000, PROT_READ | PROT_EXEC };
	T_CHECK("lld: r-x picks the PF_X segment",
		elfload_segment(lld_native, 4, &m) == 1);
	b = elfload_bias(lld_native, 4, true, &m, &exact);
	T_CHECKF("lld: r-x bias", b == s && exact, "got %#llx",
		 (unsigned long long)b);
	/* The old rule (first PT_LOAD holding the offset) was 0x1000 off. */
	T_CHECK("lld: read-only segment holds the r-x offset too",
		lld_native[0].offset + lld_native[0].filesz > 0xb000);

	m = (struct elfload_map){ s, 0, PROT_READ };
	T_CHECK("lld: r-- at 0", elfload_segment(lld_native, 4, &m) == 0 &&
		elfload_bias(lld_native, 4, true, &m, NULL) == s);

	/* RELRO made read-only: still the first RW segment. */
	m = (struct elfload_map){ s + 0x18000, 0x16000, PROT_READ };
	T_CHECK("lld: RELRO r-- picks its RW segment",
		elfload_segment(lld_native, 4, &m) == 2 &&
		elfload_bias(lld_native, 4, true, &m, NULL) == s);
	/* .data shares that file page: its rw- mapping could be either RW
	 * segment (elfload.h); the first wins, whose bias differs by the
	 * page between them. Names need only the executable mapping. */
	m = (struct elfload_map){ s + 0x19000, 0x16000, PROT_READ | PROT_WRITE };
	T_CHECK("lld: .data rw- is ambiguous, first RW segment",
		elfload_segment(lld_native, 4, &m) == 2);

	/* The second part of a code mapping split by mprotect. */
	m = (struct elfload_map){ s + 0xd000, 0xc000, PROT_READ | PROT_EXEC };
	T_CHECK("lld: split r-x part", elfload_segment(lld_native, 4, &m) == 1 &&
		elfload_bias(lld_native, 4, true, &m, NULL) == s);

	m = (struct elfload_map){ s + 0x201000, 0x1000, PROT_READ | PROT_WRITE };
	T_CHECK("bfd classic: rw- shares the code's page",
		elfload_segment(bfd_classic, 2, &m) == 1 &&
		elfload_bias(bfd_classic, 2, true, &m, NULL) == s);
	m = (struct elfload_map){ s, 0, PROT_READ | PROT_EXEC };
	T_CHECK("bfd classic: r-x", elfload_segment(bfd_classic, 2, &m) == 0 &&
		elfload_bias(bfd_classic, 2, true, &m, NULL) == s);

	m = (struct elfload_map){ s + 0x1000, 0, PROT_READ | PROT_EXEC };
	T_CHECK("one page: r-x at offset 0 is the code segment",
		elfload_segment(one_page, 2, &m) == 1 &&
		elfload_bias(one_page, 2, true, &m, NULL) == s);
	m = (struct elfload_map){ s, 0, PROT_READ };
	T_CHECK("one page: r-- at offset 0 is the read-only segment",
		elfload_segment(one_page, 2, &m) == 0 &&
		elfload_bias(one_page, 2, true, &m, NULL) == s);

	m = (struct elfload_map){ 0x401000, 0x1000, PROT_READ | PROT_EXEC };
	T_CHECK("ET_EXEC: bias 0",
		elfload_bias(bfd_classic, 2, false, &m, &exact) == 0 && exact);

	m = (struct elfload_map){ s + 0x5000, 0x40000, PROT_READ | PROT_EXEC };
	b = elfload_bias(lld_native, 4, true, &m, &exact);
	T_CHECK("no segment holds the offset: start - offset, not exact",
		b == s + 0x5000 - 0x40000 && !exact);
}

/* ---- helpers ---- */

static int write_file(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* First line of a shell command's output, without its newline. */
static int sh_line(char *out, size_t size, int skip, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int sh_line(char *out, size_t size, int skip, const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	FILE *p;
	int ret = -1;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	out[0] = '\0';
	while (fgets(out, (int)size, p)) {
		if (skip-- > 0)
			continue;
		out[strcspn(out, "\n")] = '\0';
		ret = 0;
		break;
	}
	while (fgetc(p) != EOF)
		;
	if (pclose(p) != 0)
		ret = -1;
	return ret;
}

static bool have_tool(const char *t)
{
	char buf[256];

	return sh_line(buf, sizeof(buf), 0, "command -v %s", t) == 0;
}

/* nm value of a defined symbol, or UINT64_MAX. */
static u64 nm_value(const char *file, const char *sym)
{
	char buf[256];

	if (sh_line(buf, sizeof(buf), 0,
		    "{ nm --defined-only '%s'; nm -D --defined-only '%s'; } "
		    "2>/dev/null | awk '{s = $3; sub(/@.*/, \"\", s); "
		    "if (s == \"%s\") {print $1; exit}}'",
		    file, file, sym) < 0 || !buf[0])
		return UINT64_MAX;
	return strtoull(buf, NULL, 16);
}

static const char *base_name(const char *p)
{
	const char *s = p ? strrchr(p, '/') : NULL;

	return s ? s + 1 : p;
}

/* ---- 2. every linker ---- */

static const char lib_src[] =
	"#include <stdint.h>\n"
	"#define NI __attribute__((noinline))\n"
	"static NI uintptr_t here(void)\n"
	"{\n"
	"\treturn (uintptr_t)__builtin_return_address(0);\n"
	"}\n"
	"NI uintptr_t lib_exported(void)\n"
	"{\n"
	"\tuintptr_t r = here();\n"
	"\treturn r;\n"
	"}\n"
	"static NI uintptr_t lib_hidden(void)\n"
	"{\n"
	"\tuintptr_t r = here();\n"
	"\treturn r;\n"
	"}\n"
	"NI uintptr_t lib_hidden_entry(void)\n"
	"{\n"
	"\treturn lib_hidden();\n"
	"}\n";

static const char main_src[] =
	"#define _GNU_SOURCE\n"
	"#include <link.h>\n"
	"#include <stdint.h>\n"
	"#include <stdio.h>\n"
	"#include <unistd.h>\n"
	"#define NI __attribute__((noinline))\n"
	"uintptr_t lib_exported(void);\n"
	"uintptr_t lib_hidden_entry(void);\n"
	"static char exe[4096];\n"
	"struct q { uintptr_t pc, elf; const char *path; };\n"
	"static int cb(struct dl_phdr_info *i, size_t sz, void *data)\n"
	"{\n"
	"\tstruct q *q = data;\n"
	"\tfor (int k = 0; k < i->dlpi_phnum; k++) {\n"
	"\t\tconst ElfW(Phdr) *p = &i->dlpi_phdr[k];\n"
	"\t\tif (p->p_type == PT_LOAD && q->pc >= i->dlpi_addr + p->p_vaddr &&\n"
	"\t\t    q->pc < i->dlpi_addr + p->p_vaddr + p->p_memsz) {\n"
	"\t\t\tq->elf = q->pc - i->dlpi_addr;\n"
	"\t\t\tq->path = i->dlpi_name[0] ? i->dlpi_name : exe;\n"
	"\t\t\treturn 1;\n"
	"\t\t}\n"
	"\t}\n"
	"\treturn 0;\n"
	"}\n"
	"static void show(const char *fn, uintptr_t pc)\n"
	"{\n"
	"\tstruct q q = { pc, 0, 0 };\n"
	"\tif (dl_iterate_phdr(cb, &q) == 1)\n"
	"\t\tprintf(\"%s %lx %lx %s\\n\", fn, (unsigned long)pc,\n"
	"\t\t       (unsigned long)q.elf, q.path);\n"
	"}\n"
	"static NI uintptr_t here(void)\n"
	"{\n"
	"\treturn (uintptr_t)__builtin_return_address(0);\n"
	"}\n"
	"static NI uintptr_t main_probe(void)\n"
	"{\n"
	"\tuintptr_t r = here();\n"
	"\treturn r;\n"
	"}\n"
	"int main(void)\n"
	"{\n"
	"\tchar c;\n"
	"\tssize_t n = readlink(\"/proc/self/exe\", exe, sizeof(exe) - 1);\n"
	"\tif (n > 0) exe[n] = 0;\n"
	"\tshow(\"main_probe\", main_probe());\n"
	"\tshow(\"lib_exported\", lib_exported());\n"
	"\tshow(\"lib_hidden\", lib_hidden_entry());\n"
	"\tprintf(\"ready\\n\");\n"
	"\tfflush(stdout);\n"
	"\treturn read(0, &c, 1) < 0;\n"
	"}\n";

struct linker {
	const char *name;
	const char *cc;
	const char *flags;	/* for the library and the program */
	const char *lib_flags;	/* the library only */
	const char *exe_flags;	/* the program only */
	const char *need;	/* a tool the build needs */
};

static const struct linker linkers[] = {
	{ "bfd-pie", "gcc", "-fuse-ld=bfd", "", "-fPIE -pie", "ld.bfd" },
	{ "bfd-nopie", "gcc", "-fuse-ld=bfd", "", "-fno-pie -no-pie", "ld.bfd" },
	/* A library with a non-zero base address, as prelink leaves one. */
	{ "bfd-based", "gcc", "-fuse-ld=bfd", "-Wl,-Ttext-segment=0x10000000",
	  "-fPIE -pie", "ld.bfd" },
	{ "gold-pie", "gcc", "-fuse-ld=gold", "", "-fPIE -pie", "ld.gold" },
	{ "gold-nopie", "gcc", "-fuse-ld=gold", "", "-fno-pie -no-pie", "ld.gold" },
	{ "lld-pie", "clang", "-fuse-ld=lld", "", "-fPIE -pie", "ld.lld" },
	{ "lld-nopie", "clang", "-fuse-ld=lld", "", "-fno-pie -no-pie", "ld.lld" },
	{ "lld-based", "clang", "-fuse-ld=lld", "-Wl,--image-base=0x10000000",
	  "-fPIE -pie", "ld.lld" },
	{ "mold-pie", "gcc", "-fuse-ld=mold", "", "-fPIE -pie", "mold" },
	{ "mold-nopie", "gcc", "-fuse-ld=mold", "", "-fno-pie -no-pie", "mold" },
};

struct probe {
	char fn[64];
	u64 pc, elf;
	char path[512];
};

/* Starts the program; reads what it reports until "ready". */
static pid_t start_probe(const char *exe, struct probe *pr, int max, int *n,
			 int *hold)
{
	int out[2], in[2];
	char line[1024];
	FILE *f;
	pid_t pid;

	if (pipe(out) < 0 || pipe(in) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execl(exe, exe, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	*hold = in[1];
	f = fdopen(out[0], "r");
	*n = 0;
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long long pc, elf;

		if (strcmp(line, "ready\n") == 0)
			break;
		if (*n < max && sscanf(line, "%63s %llx %llx %511s", pr[*n].fn,
				       &pc, &elf, pr[*n].path) == 4) {
			pr[*n].pc = pc;
			pr[*n].elf = elf;
			(*n)++;
		}
	}
	if (f)
		fclose(f);
	return pid;
}

static void check_probe(const struct linker *l, struct symtab *st,
			const struct probe *p, const char *debug_copy)
{
	/* The unstripped file is what addr2line and nm read. */
	const char *file = strstr(p->path, "/libprobe.so") ? debug_copy : p->path;
	bool stripped_hidden = file == debug_copy &&
			       strcmp(p->fn, "lib_hidden") == 0;
	struct ml_frame f;
	char name[256], want[256], line[512], t[1024];
	u64 sv;

	if (symtab_name(st, p->pc, true, &f) < 0) {
		snprintf(t, sizeof(t), "%s: %s named", l->name, p->fn);
		T_CHECK(t, false);
		return;
	}
	/* addr2line names the call (a return address is past it). */
	if (sh_line(want, sizeof(want), 0, "addr2line -f -e '%s' %#llx", file,
		    (unsigned long long)p->elf - 1) < 0)
		want[0] = '\0';
	snprintf(t, sizeof(t), "%s: %s: addr2line agrees with the loader",
		 l->name, p->fn);
	T_CHECKF(t, strcmp(want, p->fn) == 0, "addr2line says '%s'", want);
	snprintf(name, sizeof(name), "%s", f.symbol ? f.symbol : "");
	snprintf(t, sizeof(t), "%s: %s: module %s", l->name, p->fn,
		 base_name(p->path));
	T_CHECKF(t, f.module && strcmp(base_name(f.module), base_name(p->path)) == 0,
		 "got module '%s'", f.module ? f.module : "(null)");
	if (stripped_hidden) {
		/* No symbol left: the offset is the ELF address. */
		snprintf(t, sizeof(t), "%s: %s stripped: module+0x%llx", l->name,
			 p->fn, (unsigned long long)p->elf);
		T_CHECKF(t, !f.symbol && f.offset == p->elf,
			 "got '%s'+%#llx", name, (unsigned long long)f.offset);
	} else {
		snprintf(t, sizeof(t), "%s: %s: mapleak's name is addr2line's",
			 l->name, p->fn);
		T_CHECKF(t, strcmp(name, want) == 0, "mapleak '%s' addr2line '%s'",
			 name, want);
		sv = nm_value(file, p->fn);
		snprintf(t, sizeof(t), "%s: %s: nm value + offset = ELF address",
			 l->name, p->fn);
		T_CHECKF(t, sv != UINT64_MAX && sv + f.offset == p->elf,
			 "nm %#llx + %#llx != %#llx", (unsigned long long)sv,
			 (unsigned long long)f.offset, (unsigned long long)p->elf);
	}
	/* file:line of the call, where DWARF is left. */
	if (!stripped_hidden && file != debug_copy) {
		if (sh_line(line, sizeof(line), 0, "addr2line -e '%s' %#llx", file,
			    (unsigned long long)p->elf - 1) < 0)
			line[0] = '\0';
		snprintf(want, sizeof(want), "%s:%u",
			 f.file ? base_name(f.file) : "?", f.line);
		snprintf(t, sizeof(t), "%s: %s: file:line is addr2line's",
			 l->name, p->fn);
		T_CHECKF(t, strncmp(base_name(line), want, strlen(want)) == 0 &&
			 (base_name(line)[strlen(want)] == '\0' ||
			  base_name(line)[strlen(want)] == ' '),
			 "mapleak %s addr2line %s", want, line);
	}
	ml_frame_release(&f);
}

static void test_linker(const struct linker *l)
{
	char dir[512], exe[600], lib[600], dbg[600], t[1024], buf[256];
	struct probe pr[8];
	struct symtab *st = NULL;
	int n = 0, hold = -1, status, err;
	pid_t pid;

	snprintf(dir, sizeof(dir), "%s/%s", tmpdir, l->name);
	snprintf(lib, sizeof(lib), "%s/libprobe.so", dir);
	snprintf(dbg, sizeof(dbg), "%s/libprobe.debug.so", dir);
	snprintf(exe, sizeof(exe), "%s/probe", dir);
	snprintf(t, sizeof(t), "%s: build", l->name);
	if (sh_line(buf, sizeof(buf), 0,
		    "mkdir -p %s && cd %s && "
		    "%s -g -O0 -fno-optimize-sibling-calls -fno-inline -fPIC -shared %s %s "
		    "-o libprobe.so ../lib.c && "
		    "%s -g -O0 -fno-optimize-sibling-calls -fno-inline %s %s -o probe "
		    "../main.c -L. -lprobe -Wl,-rpath,'$ORIGIN' && "
		    "cp libprobe.so libprobe.debug.so && strip libprobe.so && "
		    "echo built 2>&1",
		    dir, dir, l->cc, l->flags, l->lib_flags, l->cc, l->flags,
		    l->exe_flags) < 0) {
		T_CHECKF(t, false, "cannot build with %s %s", l->cc, l->flags);
		return;
	}
	T_CHECK(t, strcmp(buf, "built") == 0);
	pid = start_probe(exe, pr, 8, &n, &hold);
	snprintf(t, sizeof(t), "%s: the program reports 3 pcs", l->name);
	T_CHECKF(t, pid > 0 && n == 3, "got %d", n);
	if (pid > 0 && n == 3) {
		err = symtab_open(&st, pid);
		snprintf(t, sizeof(t), "%s: symtab_open", l->name);
		T_CHECKF(t, err == 0, "%s", strerror(-err));
		for (int i = 0; st && i < n; i++)
			check_probe(l, st, &pr[i], dbg);
		symtab_close(st);
	}
	if (hold >= 0)
		close(hold);
	if (pid > 0)
		waitpid(pid, &status, 0);
}

static void test_linkers(void)
{
	if (write_file("lib.c", lib_src) < 0 || write_file("main.c", main_src) < 0) {
		T_CHECK("sources written", false);
		return;
	}
	for (size_t i = 0; i < sizeof(linkers) / sizeof(linkers[0]); i++) {
		const struct linker *l = &linkers[i];

		/* scripts/install-deps.sh installs every one of them. */
		if (!have_tool(l->need) || !have_tool(l->cc)) {
			char t[128];

			snprintf(t, sizeof(t), "%s: %s installed", l->name, l->need);
			T_CHECK(t, false);
			continue;
		}
		test_linker(l);
	}
}

/* ---- 3. the installed .NET runtime ---- */

static int find_runtime(char *out, size_t size)
{
	const char *base = "/usr/share/dotnet/shared/Microsoft.NETCore.App";
	DIR *d = opendir(base);
	struct dirent *e;
	int ret = -1;

	if (!d)
		return -1;
	/* Any version: the checks read the files, not known answers. */
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(out, size, "%s/%s", base, e->d_name);
			ret = 0;
			break;
		}
	closedir(d);
	return ret;
}

struct dlq {
	const char *suffix;
	u64 bias;
	bool found;
};

static int dl_cb(struct dl_phdr_info *i, size_t sz, void *data)
{
	struct dlq *q = data;
	size_t n = strlen(i->dlpi_name), m = strlen(q->suffix);

	if (n >= m && strcmp(i->dlpi_name + n - m, q->suffix) == 0) {
		q->bias = i->dlpi_addr;
		q->found = true;
		return 1;
	}
	return 0;
}

/* The loader's bias of a library loaded in this process. */
static int loader_bias(const char *suffix, u64 *bias)
{
	struct dlq q = { suffix, 0, false };

	dl_iterate_phdr(dl_cb, &q);
	*bias = q.bias;
	return q.found ? 0 : -1;
}

static void test_dotnet(void)
{
	char rt[400], lib[512], buf[512];
	void *h1, *h2;
	u64 b1, b2, call, mmap_fn, next = UINT64_MAX;
	struct symtab *st = NULL;
	struct ml_frame f;
	int err;

	if (find_runtime(rt, sizeof(rt)) < 0) {
		T_SKIP(".NET runtime", "not installed");
		return;
	}
	snprintf(lib, sizeof(lib), "%s/libSystem.Native.so", rt);
	h1 = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	snprintf(lib, sizeof(lib), "%s/libcoreclr.so", rt);
	h2 = dlopen(lib, RTLD_LAZY | RTLD_LOCAL);
	T_CHECK(".NET: libraries loaded", h1 && h2);
	if (!h1 || !h2 || loader_bias("/libSystem.Native.so", &b1) < 0 ||
	    loader_bias("/libcoreclr.so", &b2) < 0)
		return;
	err = symtab_open(&st, getpid());
	T_CHECKF(".NET: symtab_open on this process", err == 0, "%s",
		 strerror(-err));
	if (err)
		return;

	/* objdump: the call to mmap64@plt, and the function around it. */
	snprintf(lib, sizeof(lib), "%s/libSystem.Native.so", rt);
	if (sh_line(buf, sizeof(buf), 0,
		    "objdump -d --no-show-raw-insn '%s' | "
		    "awk '/call.*<mmap64@plt>/ {sub(\":\", \"\", $1); print $1; exit}'",
		    lib) < 0 || !buf[0]) {
		T_CHECK(".NET: objdump finds the call to mmap64@plt", false);
		goto out;
	}
	call = strtoull(buf, NULL, 16);
	/* The call's length: the next instruction's address. */
	if (sh_line(buf, sizeof(buf), 0,
		    "objdump -d --no-show-raw-insn --start-address=%#llx "
		    "--stop-address=%#llx '%s' | awk '/^ *[0-9a-f]+:/ {n++; "
		    "if (n == 2) {sub(\":\", \"\", $1); print $1; exit}}'",
		    (unsigned long long)call, (unsigned long long)call + 32,
		    lib) == 0 && buf[0])
		next = strtoull(buf, NULL, 16);
	mmap_fn = UINT64_MAX;
	if (sh_line(buf, sizeof(buf), 0,
		    "nm -D --defined-only '%s' | awk '$3 == \"SystemNative_MMap\" "
		    "{print $1}'", lib) == 0 && buf[0])
		mmap_fn = strtoull(buf, NULL, 16);
	T_CHECK(".NET: the call is in SystemNative_MMap per nm",
		next != UINT64_MAX && mmap_fn != UINT64_MAX && mmap_fn < call &&
		call - mmap_fn < 0x400);
	if (next != UINT64_MAX && symtab_name(st, b1 + next, true, &f) == 0) {
		T_CHECKF(".NET: mapleak names the mmap64 call SystemNative_MMap",
			 f.symbol && strcmp(f.symbol, "SystemNative_MMap") == 0 &&
			 f.offset == next - mmap_fn, "got %s+%#llx",
			 f.symbol ? f.symbol : "(none)",
			 (unsigned long long)f.offset);
		ml_frame_release(&f);
	}

	/* libcoreclr.so: an exported function, and code no symbol covers,
	 * whose module offset must be its ELF address. */
	snprintf(lib, sizeof(lib), "%s/libcoreclr.so", rt);
	if (sh_line(buf, sizeof(buf), 0,
		    "nm -D --defined-only '%s' | awk '$3 ~ /^coreclr_initialize/ "
		    "{print $1}'", lib) == 0 && buf[0]) {
		u64 v = strtoull(buf, NULL, 16);

		if (symtab_name(st, b2 + v + 0x10, false, &f) == 0) {
			T_CHECKF(".NET: coreclr_initialize+0x10",
				 f.symbol && strcmp(f.symbol, "coreclr_initialize") == 0 &&
				 f.offset == 0x10, "got %s+%#llx",
				 f.symbol ? f.symbol : "(none)",
				 (unsigned long long)f.offset);
			ml_frame_release(&f);
		}
	} else {
		T_CHECK(".NET: nm finds coreclr_initialize", false);
	}
	/* The first call instruction past the last exported code symbol
	 * below 0x300000: stripped, no symbol holds it. */
	if (sh_line(buf, sizeof(buf), 0,
		    "objdump -d --no-show-raw-insn --start-address=0x300000 "
		    "--stop-address=0x300400 '%s' | "
		    "awk '/^ *[0-9a-f]+:.*call/ {sub(\":\", \"\", $1); print $1; exit}'",
		    lib) == 0 && buf[0]) {
		u64 a = strtoull(buf, NULL, 16);

		if (symtab_name(st, b2 + a, false, &f) == 0) {
			T_CHECKF(".NET: libcoreclr.so offset is the ELF address",
				 (!f.symbol && f.offset == a) ||
				 (f.symbol && nm_value(lib, f.symbol) + f.offset == a),
				 "got %s+%#llx for %#llx",
				 f.symbol ? f.symbol : "libcoreclr.so",
				 (unsigned long long)f.offset,
				 (unsigned long long)a);
			ml_frame_release(&f);
		}
	} else {
		T_CHECK(".NET: objdump finds code in libcoreclr.so", false);
	}
out:
	symtab_close(st);
}

int main(void)
{
	char cmd[128];

	test_tables();
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_linkers();
	test_dotnet();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	T_END();
}
