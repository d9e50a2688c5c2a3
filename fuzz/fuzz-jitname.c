/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the JVM/V8 perf-map name parser
 * (runtimes_name_jit) and the runtime detection from maps text: both
 * read outside data. Checks that a named frame has a symbol.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime.h"
#include "symbols/runtimes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ml_frame f = { 0 };
	char *s = malloc(size + 1);
	int r;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';		/* perf-map names are C strings */
	r = runtimes_name_jit(s, &f);
	if (r > 0 && !f.symbol)
		abort();
	if (r == 0 && (f.symbol || f.file || f.tier))
		abort();
	ml_frame_release(&f);
	(void)runtimes_detect_maps(s, size, s);
	free(s);
	return 0;
}
