/* SPDX-License-Identifier: MIT */
/*
 * PE/COFF headers, bounded (see pe.h). Offsets from the Microsoft PE
 * format specification: DOS header e_lfanew at 0x3c; COFF header right
 * after "PE\0\0" (Machine 0, NumberOfSections 2, SizeOfOptionalHeader 16);
 * optional header magic 0x10b (PE32) or 0x20b (PE32+), ImageBase at 28
 * (u32) or 24 (u64), SizeOfHeaders at 60 in both; 40-byte section headers
 * (VirtualSize 8, VirtualAddress 12, SizeOfRawData 16, PointerToRawData
 * 20, Characteristics 36); NumberOfRvaAndSizes at 92 (PE32) or 108
 * (PE32+), the data directories (RVA, size) right after it, the CLI
 * header the 15th (index 14).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symbols/pe.h"

#define DOS_HDR_SIZE	64u
#define COFF_HDR_SIZE	20u
#define OPT_MIN_SIZE	64u	/* up to SizeOfHeaders, both kinds */
#define SEC_HDR_SIZE	40u
#define PE32_MAGIC	0x10bu
#define PE32P_MAGIC	0x20bu
#define DIR_CLR		14u

static u16 rd16(const unsigned char *p)
{
	return (u16)(p[0] | p[1] << 8);
}

static u32 rd32(const unsigned char *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static u64 rd64(const unsigned char *p)
{
	return (u64)rd32(p) | (u64)rd32(p + 4) << 32;
}

/*
 * How many bytes the headers need, as far as buf[0..len) tells: 0 with
 * *need set (which may exceed len: read more and ask again), or -ENOEXEC.
 */
static int headers_size(const unsigned char *b, size_t len, u64 *need)
{
	u64 lfanew, nsec, optsz;

	if (len < DOS_HDR_SIZE) {
		*need = DOS_HDR_SIZE;
		return len >= 2 && (b[0] != 'M' || b[1] != 'Z') ? -ENOEXEC : 0;
	}
	if (b[0] != 'M' || b[1] != 'Z')
		return -ENOEXEC;
	lfanew = rd32(b + 0x3c);
	if (lfanew + 4 + COFF_HDR_SIZE > PE_HEADERS_MAX)
		return -ENOEXEC;
	if (lfanew + 4 + COFF_HDR_SIZE > len) {
		*need = lfanew + 4 + COFF_HDR_SIZE;
		return 0;
	}
	if (memcmp(b + lfanew, "PE\0\0", 4) != 0)
		return -ENOEXEC;
	nsec = rd16(b + lfanew + 4 + 2);
	optsz = rd16(b + lfanew + 4 + 16);
	if (nsec > PE_SECTIONS_MAX || optsz < OPT_MIN_SIZE)
		return -ENOEXEC;
	*need = lfanew + 4 + COFF_HDR_SIZE + optsz + nsec * SEC_HDR_SIZE;
	return *need > PE_HEADERS_MAX ? -ENOEXEC : 0;
}

/* The CLI header's data directory, when the optional header (optsz
 * bytes, inside the buffer) holds it. */
static void read_clr_dir(struct pe_image *pe, const unsigned char *opt,
			 u32 optsz)
{
	u32 ndir_at = pe->pe32plus ? 108 : 92;

	if (optsz < ndir_at + 4 + (DIR_CLR + 1) * 8 ||
	    rd32(opt + ndir_at) <= DIR_CLR)
		return;
	pe->clr_rva = rd32(opt + ndir_at + 4 + DIR_CLR * 8);
	pe->clr_size = rd32(opt + ndir_at + 8 + DIR_CLR * 8);
}

int pe_parse(const void *buf, size_t len, struct pe_image **out)
{
	const unsigned char *b = buf, *coff, *opt, *sh;
	struct pe_image *pe;
	u64 need = 0;
	u16 magic;
	int ret;

	*out = NULL;
	ret = headers_size(b, len, &need);
	if (ret < 0 || need > len)
		return -ENOEXEC;
	coff = b + rd32(b + 0x3c) + 4;
	opt = coff + COFF_HDR_SIZE;
	magic = rd16(opt);
	if (magic != PE32_MAGIC && magic != PE32P_MAGIC)
		return -ENOEXEC;
	pe = calloc(1, sizeof(*pe));
	if (!pe)
		return -ENOMEM;
	pe->machine = rd16(coff);
	pe->pe32plus = magic == PE32P_MAGIC;
	pe->image_base = pe->pe32plus ? rd64(opt + 24) : rd32(opt + 28);
	pe->size_of_headers = rd32(opt + 60);
	pe->nsections = rd16(coff + 2);
	read_clr_dir(pe, opt, rd16(coff + 16));
	if (pe->nsections) {
		pe->sections = calloc(pe->nsections, sizeof(*pe->sections));
		if (!pe->sections) {
			free(pe);
			return -ENOMEM;
		}
	}
	sh = opt + rd16(coff + 16);
	for (u32 i = 0; i < pe->nsections; i++, sh += SEC_HDR_SIZE) {
		struct pe_section *s = &pe->sections[i];

		memcpy(s->name, sh, 8);
		s->name[8] = '\0';
		s->vsize = rd32(sh + 8);
		s->vaddr = rd32(sh + 12);
		s->raw_size = rd32(sh + 16);
		s->raw_off = rd32(sh + 20);
		s->flags = rd32(sh + 36);
	}
	*out = pe;
	return 0;
}

int pe_read_fd(int fd, struct pe_image **out)
{
	size_t have = 0, want = 4096;
	unsigned char *buf = NULL, *nb;
	u64 need = 0;
	int ret;

	*out = NULL;
	/* At most three rounds: the DOS header, e_lfanew's place, the table. */
	for (int round = 0; round < 4; round++) {
		nb = realloc(buf, want);
		if (!nb) {
			free(buf);
			return -ENOMEM;
		}
		buf = nb;
		while (have < want) {
			ssize_t r = pread(fd, buf + have, want - have, (off_t)have);

			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				ret = -errno;
				goto out;
			}
			if (r == 0)
				break;
			have += (size_t)r;
		}
		ret = headers_size(buf, have, &need);
		if (ret < 0)
			goto out;
		if (need <= have) {
			ret = pe_parse(buf, have, out);
			goto out;
		}
		if (have < want)	/* the file ends before its headers */
			break;
		want = (size_t)need;
	}
	ret = -ENOEXEC;
out:
	free(buf);
	return ret;
}

void pe_free(struct pe_image *pe)
{
	if (!pe)
		return;
	free(pe->sections);
	free(pe);
}

int pe_offset_to_rva(const struct pe_image *pe, u64 off, u32 *rva,
		     const struct pe_section **sec)
{
	if (sec)
		*sec = NULL;
	for (u32 i = 0; i < pe->nsections; i++) {
		const struct pe_section *s = &pe->sections[i];
		u64 r;

		if (off < s->raw_off || off - s->raw_off >= s->raw_size)
			continue;
		r = (u64)s->vaddr + (off - s->raw_off);
		if (r > UINT32_MAX)
			return -ENOENT;
		*rva = (u32)r;
		if (sec)
			*sec = s;
		return 0;
	}
	/* Not the headers either: they hold no code, and where they are
	 * mapped depends on the loader. */
	return -ENOENT;
}

int pe_rva_to_offset(const struct pe_image *pe, u32 rva, u32 len, u64 *off)
{
	for (u32 i = 0; i < pe->nsections; i++) {
		const struct pe_section *s = &pe->sections[i];

		if (rva < s->vaddr || rva - s->vaddr >= s->raw_size ||
		    (u64)(rva - s->vaddr) + len > s->raw_size)
			continue;
		*off = (u64)s->raw_off + (rva - s->vaddr);
		return 0;
	}
	return -ENOENT;
}
