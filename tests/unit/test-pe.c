/* SPDX-License-Identifier: MIT */
/*
 * PE headers (symbols/pe.c) and ReadyToRun naming (symbols/symtab-r2r.c):
 * synthetic images built here byte by byte (PE32+ laid out as crossgen2
 * lays out System.Private.CoreLib.dll, PE32, damaged ones, every
 * truncation), the real System.Private.CoreLib.dll when the .NET runtime
 * is installed, and a .dll mapped executable into this very process and
 * named through symtab as a frame would be.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"
#include "symbols/pe.h"
#include "symbols/symtab.h"

#define IMG_SIZE 0x3000u

static void w16(unsigned char *p, u16 v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void w32(unsigned char *p, u32 v)
{
	w16(p, (u16)v);
	w16(p + 2, (u16)(v >> 16));
}

static void w64(unsigned char *p, u64 v)
{
	w32(p, (u32)v);
	w32(p + 4, (u32)(v >> 32));
}

struct sec {
	const char *name;
	u32 vaddr, vsize, raw_off, raw_size, flags;
};

/* Crossgen2's layout for Linux: headers in 0x200, .text raw at 0x200
 * mapped at RVA 0x10200 (file offset 0 at RVA 0x10000), then .data. */
static const struct sec corelib_like[] = {
	{ ".text", 0x10200, 0x1d94, 0x200, 0x1e00, 0x60000020 },
	{ ".data", 0x14000, 0x2c5, 0x2000, 0x400, 0xc0000040 },
	{ ".reloc", 0x16000, 0x3e4, 0x2400, 0x400, 0x42000040 },
};

/* Writes a PE into img (IMG_SIZE bytes); returns the headers' end. */
static size_t build_pe(unsigned char *img, u32 lfanew, bool plus,
		       const struct sec *s, u16 n)
{
	u16 optsz = plus ? 240 : 224;
	unsigned char *coff = img + lfanew + 4, *opt = coff + 20, *sh;

	memset(img, 0, IMG_SIZE);
	img[0] = 'M';
	img[1] = 'Z';
	w32(img + 0x3c, lfanew);
	memcpy(img + lfanew, "PE\0\0", 4);
	w16(coff, 0xfd1d);	/* x86-64 ^ the Linux R2R machine salt */
	w16(coff + 2, n);
	w16(coff + 16, optsz);
	w16(coff + 18, 0x2022);
	w16(opt, plus ? 0x20b : 0x10b);
	if (plus)
		w64(opt + 24, 0x180000000ull);
	else
		w32(opt + 28, 0x10000000u);
	w32(opt + 32, 0x200);
	w32(opt + 36, 0x200);
	w32(opt + 60, 0x200);
	sh = opt + optsz;
	for (u16 i = 0; i < n; i++, sh += 40) {
		memcpy(sh, s[i].name, strlen(s[i].name));
		w32(sh + 8, s[i].vsize);
		w32(sh + 12, s[i].vaddr);
		w32(sh + 16, s[i].raw_size);
		w32(sh + 20, s[i].raw_off);
		w32(sh + 36, s[i].flags);
	}
	return (size_t)(sh - img);
}

static void test_synthetic(void)
{
	static unsigned char img[IMG_SIZE];
	struct pe_image *pe = NULL;
	const struct pe_section *sec;
	size_t hend;
	u32 rva = 0;
	int rc;

	hend = build_pe(img, 0x80, true, corelib_like, 3);
	rc = pe_parse(img, IMG_SIZE, &pe);
	T_CHECKF("pe: a PE32+ image parses", rc == 0 && pe, "rc %d", rc);
	if (!pe)
		return;
	T_CHECKF("pe: machine, PE32+, image base, 3 sections",
		 pe->machine == 0xfd1d && pe->pe32plus &&
		 pe->image_base == 0x180000000ull && pe->nsections == 3,
		 "machine %#x plus %d base %#llx n %u", pe->machine,
		 pe->pe32plus, (unsigned long long)pe->image_base,
		 pe->nsections);
	T_CHECK("pe: section names and fields",
		!strcmp(pe->sections[0].name, ".text") &&
		!strcmp(pe->sections[2].name, ".reloc") &&
		pe->sections[0].vaddr == 0x10200 &&
		pe->sections[0].raw_off == 0x200 &&
		pe->sections[1].raw_size == 0x400 &&
		pe->sections[0].flags == 0x60000020);

	{
		static const struct { u64 off; int rc; u32 rva; const char *sec; } t[] = {
			{ 0x200, 0, 0x10200, ".text" },		/* first byte of .text */
			{ 0x1234, 0, 0x11234, ".text" },
			{ 0x1fff, 0, 0x11fff, ".text" },	/* last byte */
			{ 0x2000, 0, 0x14000, ".data" },	/* next section */
			{ 0x27ff, 0, 0x163ff, ".reloc" },
			{ 0x1ff, -ENOENT, 0, NULL },		/* the headers */
			{ 0x0, -ENOENT, 0, NULL },
			{ 0x2800, -ENOENT, 0, NULL },		/* past the raw data */
			{ 0xffffffffffull, -ENOENT, 0, NULL },
		};
		for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
			char name[96];

			rva = 0;
			sec = NULL;
			rc = pe_offset_to_rva(pe, t[i].off, &rva, &sec);
			snprintf(name, sizeof(name), "pe: file offset %#llx -> %s",
				 (unsigned long long)t[i].off,
				 t[i].rc ? "no section" : t[i].sec);
			T_CHECKF(name, rc == t[i].rc &&
				 (rc || (rva == t[i].rva && sec &&
					 !strcmp(sec->name, t[i].sec))),
				 "expected rc %d rva %#x, got rc %d rva %#x",
				 t[i].rc, t[i].rva, rc, rva);
		}
	}
	pe_free(pe);
	pe = NULL;

	/* Every cut inside the headers is refused, never read past. */
	{
		bool all = true;

		for (size_t len = 0; len < hend; len++) {
			unsigned char *cut = malloc(len ? len : 1);

			memcpy(cut, img, len);
			rc = pe_parse(cut, len, &pe);
			if (rc != -ENOEXEC || pe)
				all = false;
			pe_free(pe);
			pe = NULL;
			free(cut);
		}
		T_CHECK("pe: every truncation of the headers is -ENOEXEC", all);
		rc = pe_parse(img, hend, &pe);
		T_CHECKF("pe: the headers alone are enough", rc == 0, "rc %d", rc);
		pe_free(pe);
		pe = NULL;
	}

	build_pe(img, 0x40, false, corelib_like, 2);
	rc = pe_parse(img, IMG_SIZE, &pe);
	T_CHECKF("pe: a PE32 image parses (32-bit image base)",
		 rc == 0 && pe && !pe->pe32plus && pe->image_base == 0x10000000u &&
		 pe->nsections == 2, "rc %d", rc);
	pe_free(pe);
	pe = NULL;

	build_pe(img, 0x40, true, NULL, 0);
	rc = pe_parse(img, IMG_SIZE, &pe);
	T_CHECKF("pe: no sections: parses, no offset has an RVA",
		 rc == 0 && pe && pe->nsections == 0 &&
		 pe_offset_to_rva(pe, 0x200, &rva, NULL) == -ENOENT, "rc %d", rc);
	pe_free(pe);
	pe = NULL;
}

static void expect_bad(const char *name, unsigned char *img, size_t len)
{
	struct pe_image *pe = NULL;
	int rc = pe_parse(img, len, &pe);

	T_CHECKF(name, rc == -ENOEXEC && !pe, "rc %d", rc);
	pe_free(pe);
}

static void test_damaged(void)
{
	static unsigned char img[IMG_SIZE];

	build_pe(img, 0x80, true, corelib_like, 3);
	img[1] = 'X';
	expect_bad("pe: no MZ", img, IMG_SIZE);

	build_pe(img, 0x80, true, corelib_like, 3);
	w32(img + 0x3c, 0xfffffff0u);
	expect_bad("pe: e_lfanew far past the end", img, IMG_SIZE);

	build_pe(img, 0x80, true, corelib_like, 3);
	w32(img + 0x3c, IMG_SIZE - 10);
	expect_bad("pe: e_lfanew leaves no room for the COFF header", img, IMG_SIZE);

	build_pe(img, 0x80, true, corelib_like, 3);
	img[0x82] = 'X';
	expect_bad("pe: no PE signature", img, IMG_SIZE);

	build_pe(img, 0x80, true, corelib_like, 3);
	w16(img + 0x80 + 4 + 20, 0x107);
	expect_bad("pe: optional header magic neither PE32 nor PE32+", img, IMG_SIZE);

	build_pe(img, 0x80, true, corelib_like, 3);
	w16(img + 0x80 + 4 + 16, 16);
	expect_bad("pe: optional header too small for SizeOfHeaders", img, IMG_SIZE);

	build_pe(img, 0x80, true, corelib_like, 3);
	w16(img + 0x80 + 4 + 2, 400);	/* 400 sections: past the buffer */
	expect_bad("pe: section table past the end", img, IMG_SIZE);

	build_pe(img, 0x80, true, corelib_like, 3);
	w16(img + 0x80 + 4 + 2, 0xffff);
	expect_bad("pe: 65535 sections refused", img, IMG_SIZE);

	{
		/* A section whose raw range wraps 32 bits, RVA past 4 GiB. */
		static const struct sec wrap[] = {
			{ ".text", 0xfffff000u, 0x2000, 0x200, 0x2000, 0x60000020 },
		};
		struct pe_image *pe = NULL;
		u32 rva = 0;

		build_pe(img, 0x80, true, wrap, 1);
		T_CHECK("pe: an RVA past 32 bits is refused",
			pe_parse(img, IMG_SIZE, &pe) == 0 &&
			pe_offset_to_rva(pe, 0x200, &rva, NULL) == 0 &&
			rva == 0xfffff000u &&
			pe_offset_to_rva(pe, 0x1200, &rva, NULL) == -ENOENT);
		pe_free(pe);
	}
}

static const char *tmpdir(void)
{
	static char dir[64];

	if (!dir[0] && !mkdtemp(strcpy(dir, "/tmp/mapleak-test-pe.XXXXXX")))
		dir[0] = '\0';
	return dir;
}

static int write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	bool ok;

	if (fd < 0)
		return -errno;
	ok = write(fd, buf, len) == (ssize_t)len;
	close(fd);
	return ok ? 0 : -EIO;
}

static void test_read_fd(void)
{
	static unsigned char img[IMG_SIZE * 4];
	char path[128];
	struct pe_image *pe = NULL;
	int fd, rc;

	/* e_lfanew past the first 4 KiB read: pe_read_fd reads again. */
	memset(img, 0, sizeof(img));
	build_pe(img + 0, 0x80, true, corelib_like, 3);
	{
		unsigned char hdr[IMG_SIZE];

		build_pe(hdr, 0x80, true, corelib_like, 3);
		memcpy(img, hdr, 64);
		w32(img + 0x3c, 0x1100);
		memcpy(img + 0x1100, hdr + 0x80, 4 + 20 + 240 + 3 * 40);
	}
	snprintf(path, sizeof(path), "%s/far.dll", tmpdir());
	rc = write_file(path, img, 0x1100 + 4 + 20 + 240 + 3 * 40);
	fd = rc ? -1 : open(path, O_RDONLY | O_CLOEXEC);
	rc = fd < 0 ? -errno : pe_read_fd(fd, &pe);
	T_CHECKF("pe: read from a file whose headers start past 4 KiB",
		 rc == 0 && pe && pe->nsections == 3 &&
		 pe->sections[1].vaddr == 0x14000, "rc %d", rc);
	pe_free(pe);
	pe = NULL;
	if (fd >= 0)
		close(fd);
	unlink(path);

	/* The same file cut inside its section table. */
	snprintf(path, sizeof(path), "%s/cut.dll", tmpdir());
	rc = write_file(path, img, 0x1100 + 4 + 20 + 240 + 40);
	fd = rc ? -1 : open(path, O_RDONLY | O_CLOEXEC);
	rc = fd < 0 ? -errno : pe_read_fd(fd, &pe);
	T_CHECKF("pe: a file ending inside its section table is -ENOEXEC",
		 rc == -ENOEXEC && !pe, "rc %d", rc);
	pe_free(pe);
	if (fd >= 0)
		close(fd);
	unlink(path);

	/* An ELF is not a PE. */
	fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	pe = NULL;
	rc = fd < 0 ? -errno : pe_read_fd(fd, &pe);
	T_CHECKF("pe: an ELF file is -ENOEXEC", rc == -ENOEXEC, "rc %d", rc);
	if (fd >= 0)
		close(fd);
}

/* The installed runtime's CoreLib, when there is one. */
static bool find_corelib(char *path, size_t len)
{
	const char *base = "/usr/share/dotnet/shared/Microsoft.NETCore.App";
	DIR *d = opendir(base);
	struct dirent *e;
	bool found = false;

	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, len, "%s/%s/System.Private.CoreLib.dll", base,
			 e->d_name);
		found = access(path, R_OK) == 0;
	}
	closedir(d);
	return found;
}

static void test_corelib(void)
{
	char path[512];
	struct pe_image *pe = NULL;
	const struct pe_section *text = NULL, *sec = NULL;
	u32 rva = 0;
	int fd, rc;

	if (!find_corelib(path, sizeof(path))) {
		T_SKIP("pe: the real System.Private.CoreLib.dll", "no .NET runtime under /usr/share/dotnet");
		return;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	rc = fd < 0 ? -errno : pe_read_fd(fd, &pe);
	if (fd >= 0)
		close(fd);
	T_CHECKF("pe: System.Private.CoreLib.dll parses (PE32+)",
		 rc == 0 && pe && pe->pe32plus && pe->nsections >= 1,
		 "%s: rc %d", path, rc);
	if (!pe)
		return;
	for (u32 i = 0; i < pe->nsections; i++)
		if (!strcmp(pe->sections[i].name, ".text"))
			text = &pe->sections[i];
	T_CHECK("pe: CoreLib has an executable .text section",
		text && (text->flags & 0x20000000u) && text->raw_size > 0);
	if (text) {
		rc = pe_offset_to_rva(pe, text->raw_off + 0x100, &rva, &sec);
		T_CHECKF("pe: CoreLib .text offset -> RVA",
			 rc == 0 && sec == text && rva == text->vaddr + 0x100,
			 "rc %d rva %#x", rc, rva);
	}
	pe_free(pe);
}

/*
 * A .dll mapped r-x into this process, as the .NET loader maps R2R code:
 * symtab names a pc in it "[name.dll]+0xRVA", kind r2r, even after the
 * file is unmapped and removed (the section table was read up front).
 */
static void test_symtab_r2r(void)
{
	static unsigned char img[IMG_SIZE];
	char path[128];
	struct symtab *st = NULL;
	struct ml_frame f;
	void *map;
	int fd, rc;

	build_pe(img, 0x80, true, corelib_like, 3);
	snprintf(path, sizeof(path), "%s/Fake.R2R.dll", tmpdir());
	if (write_file(path, img, IMG_SIZE) < 0) {
		T_CHECK("r2r: temporary .dll written", false);
		return;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	map = fd < 0 ? MAP_FAILED :
	      mmap(NULL, IMG_SIZE, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	if (fd >= 0)
		close(fd);
	if (map == MAP_FAILED) {
		T_CHECK("r2r: the .dll maps read+exec", false);
		return;
	}
	rc = symtab_open(&st, getpid());
	T_CHECKF("r2r: symtab of this process", rc == 0, "rc %d", rc);
	munmap(map, IMG_SIZE);
	unlink(path);
	if (rc)
		return;
	/* A return address 0x1234 into the mapping (file offset 0x1234). */
	rc = symtab_name(st, (u64)(uintptr_t)map + 0x1234, true, &f);
	T_CHECKF("r2r: named [Fake.R2R.dll]+0x11234, kind r2r, module the path",
		 rc == 0 && f.kind == ML_FK_R2R && f.symbol &&
		 !strcmp(f.symbol, "[Fake.R2R.dll]+0x11234") && f.module &&
		 strstr(f.module, "Fake.R2R.dll"),
		 "rc %d kind %u symbol %s module %s", rc, f.kind,
		 f.symbol ? f.symbol : "(null)", f.module ? f.module : "(null)");
	ml_frame_release(&f);
	/* Offset 0x100 is in the headers' page: no section, still r2r. */
	rc = symtab_name(st, (u64)(uintptr_t)map + 0x100, false, &f);
	T_CHECKF("r2r: outside every section: kind r2r, no symbol, module kept",
		 rc == 0 && f.kind == ML_FK_R2R && !f.symbol && f.module,
		 "rc %d kind %u symbol %s", rc, f.kind, f.symbol ? f.symbol : "(null)");
	ml_frame_release(&f);
	symtab_close(st);
}

/* The CLI header's directory and RVA -> file offset (symbols/r2r.c). */
static void test_clr_and_rva(void)
{
	static unsigned char img[IMG_SIZE];
	struct pe_image *pe = NULL;
	u64 off = 0;

	build_pe(img, 0x80, true, corelib_like, 3);
	/* PE32+: NumberOfRvaAndSizes at 108, directory 14 at 112 + 14 * 8 */
	w32(img + 0x80 + 24 + 108, 16);
	w32(img + 0x80 + 24 + 112 + 14 * 8, 0x10208);
	w32(img + 0x80 + 24 + 112 + 14 * 8 + 4, 0x48);
	T_CHECK("pe: the CLI header's directory is read",
		pe_parse(img, IMG_SIZE, &pe) == 0 && pe->clr_rva == 0x10208 &&
		pe->clr_size == 0x48);
	if (!pe)
		return;
	T_CHECK("pe: RVA -> file offset in .text",
		pe_rva_to_offset(pe, 0x10208, 0x48, &off) == 0 && off == 0x208);
	T_CHECK("pe: RVA -> file offset, the last bytes of .text's raw data",
		pe_rva_to_offset(pe, 0x10200 + 0x1e00 - 4, 4, &off) == 0 &&
		off == 0x2000 - 4);
	T_CHECK("pe: a range past a section's raw data is refused",
		pe_rva_to_offset(pe, 0x10200 + 0x1e00 - 4, 8, &off) == -ENOENT);
	T_CHECK("pe: an RVA in no section is refused",
		pe_rva_to_offset(pe, 0x100, 4, &off) == -ENOENT &&
		pe_rva_to_offset(pe, 0xfffffff0u, 0x20, &off) == -ENOENT);
	pe_free(pe);
	/* fewer directories than 15: no CLI header */
	w32(img + 0x80 + 24 + 108, 14);
	T_CHECK("pe: no CLI header when the directories stop before it",
		pe_parse(img, IMG_SIZE, &pe) == 0 && pe->clr_rva == 0);
	pe_free(pe);
}

int main(void)
{
	test_synthetic();
	test_clr_and_rva();
	test_damaged();
	test_read_fd();
	test_corelib();
	test_symtab_r2r();
	rmdir(tmpdir());
	T_END();
}
