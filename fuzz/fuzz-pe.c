/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the PE header reader (symbols/pe.c): any bytes are
 * parsed; an accepted image's section table must lie inside the input,
 * and offset -> RVA lookups (at every section's edges and at offsets
 * taken from the input) must agree with a plain reference scan.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/pe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static u32 rd32(const uint8_t *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static void check(const struct pe_image *pe, u64 off)
{
	const struct pe_section *sec = NULL, *want = NULL;
	u32 rva = 0;
	int rc = pe_offset_to_rva(pe, off, &rva, &sec);

	for (u32 i = 0; i < pe->nsections && !want; i++) {
		const struct pe_section *s = &pe->sections[i];

		if (off >= s->raw_off && off < (u64)s->raw_off + s->raw_size)
			want = s;
	}
	if (!want || (u64)want->vaddr + (off - want->raw_off) > UINT32_MAX) {
		if (rc != -ENOENT)
			abort();
		return;
	}
	if (rc != 0 || sec != want || rva != want->vaddr + (off - want->raw_off))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pe_image *pe = NULL;
	u32 lfanew;
	u16 optsz;

	if (pe_parse(data, size, &pe) != 0) {
		if (pe)
			abort();
		return 0;
	}
	/* Accepted: the whole section table was inside the input. */
	lfanew = rd32(data + 0x3c);
	optsz = (u16)(data[lfanew + 20] | data[lfanew + 21] << 8);
	if ((u64)lfanew + 24 + optsz + (u64)pe->nsections * 40 > size)
		abort();
	for (u32 i = 0; i < pe->nsections; i++) {
		const struct pe_section *s = &pe->sections[i];

		if (s->name[8] != '\0')
			abort();
		check(pe, s->raw_off);
		check(pe, (u64)s->raw_off + s->raw_size);
		if (s->raw_off)
			check(pe, s->raw_off - 1);
		if (s->raw_size)
			check(pe, (u64)s->raw_off + s->raw_size - 1);
	}
	for (size_t i = 0; i + 4 <= size && i < 256; i += 4)
		check(pe, rd32(data + size - 4 - i));
	check(pe, 0);
	check(pe, UINT64_MAX);
	pe_free(pe);
	return 0;
}
