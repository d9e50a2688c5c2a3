/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the HotSpot layout reader (symbols/hotspot.c): the
 * input is a JVM's memory, as a hostile target could make it. It sits at
 * address IMG; its first 11 words are the addresses of the gHotSpotVM*
 * variables (in the order of names[] below), the next 4 words Method*s to
 * name. Checks that every name is a bounded C string and that reads stay
 * bounded.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/hotspot.h"

#define IMG 0x10000000ull
#define MAX_READS 2000000	/* far above the reader's own bounds */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {
	"gHotSpotVMStructs", "gHotSpotVMStructEntryArrayStride",
	"gHotSpotVMStructEntryTypeNameOffset", "gHotSpotVMStructEntryFieldNameOffset",
	"gHotSpotVMStructEntryIsStaticOffset", "gHotSpotVMStructEntryOffsetOffset",
	"gHotSpotVMStructEntryAddressOffset", "gHotSpotVMTypes",
	"gHotSpotVMTypeEntryArrayStride", "gHotSpotVMTypeEntryTypeNameOffset",
	"gHotSpotVMTypeEntrySizeOffset",
};

struct img {
	const uint8_t *data;
	size_t size;
	u64 reads;
};

static int img_read(void *ctx, u64 addr, void *buf, size_t len)
{
	struct img *m = ctx;

	if (++m->reads > MAX_READS)
		abort();	/* a loop the bounds should have stopped */
	if (addr < IMG || addr - IMG > m->size || len > m->size - (addr - IMG))
		return -EFAULT;
	memcpy(buf, m->data + (addr - IMG), len);
	return 0;
}

static int img_sym(void *ctx, const char *name, u64 *addr)
{
	struct img *m = ctx;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i])) {
			if ((i + 1) * 8 > m->size)
				return -ENOENT;
			memcpy(addr, m->data + i * 8, 8);
			return 0;
		}
	return -ENOENT;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct img m = { .data = data, .size = size };
	struct hotspot *hs = NULL;
	char out[64];
	u64 lo, hi;
	bool v;

	/* the descriptor formatter on the raw bytes too */
	if (size >= 3) {
		size_t a = data[0] % size, b = data[1] % size;

		(void)hotspot_format_method((const char *)data, a, (const char *)data, b,
					    (const char *)data + 2, size - 2, out,
					    sizeof(out));
	}
	if (hotspot_open(&hs, img_read, img_sym, &m))
		return 0;
	for (size_t i = 11; i < 15 && (i + 1) * 8 <= size; i++) {
		u64 method;
		int err;
		const char *name;

		memcpy(&method, data + i * 8, 8);
		name = hotspot_method_name(hs, method, &err);
		if (name && strnlen(name, 4096) >= 4096)
			abort();
		if (!name && err == 0)
			abort();
	}
	(void)hotspot_interpreter(hs, &lo, &hi);
	(void)hotspot_call_stub_return(hs, &lo);
	(void)hotspot_code_cache(hs, &lo, &hi);
	(void)hotspot_flag_bool(hs, "PreserveFramePointer", &v);
	hotspot_free(hs);
	return 0;
}
