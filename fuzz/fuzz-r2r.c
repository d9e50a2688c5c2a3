/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the ReadyToRun reader (symbols/r2r.c) and the
 * ECMA-335 metadata reader under it (symbols/meta.c): any bytes as a whole
 * .dll. An accepted image's methods are all named (or refused), their
 * ranges ordered and apart, and a lookup inside each range finds it; RVAs
 * taken from the input are looked up too. ASan/UBSan catch any read
 * outside the input.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/r2r.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct r2r *r = NULL;
	struct r2r_stats st;
	u32 prev_end = 0;
	int rc;

	/* a copy of exactly size bytes: a read past it is caught */
	uint8_t *b = malloc(size ? size : 1);

	if (!b)
		return 0;
	memcpy(b, data, size);
	rc = r2r_open(b, size, &r);
	if (rc != 0) {
		if (r || (rc != -ENOEXEC && rc != -ENOENT && rc != -EBADMSG &&
			  rc != -ENOMEM))
			abort();
		free(b);
		return 0;
	}
	r2r_get_stats(r, &st);
	if (st.methods > st.funcs)
		abort();
	for (u32 i = 0; i < st.methods; i++) {
		const char *name = NULL, *n2 = NULL;
		u32 s = 0, e = 0, s2 = 0;

		rc = r2r_method(r, i, &name, &s, &e);
		if (rc == -ENOENT)
			continue;
		if (rc != 0 || !name || strlen(name) > 4 * 4096)
			abort();
		if (e < s || s < prev_end)
			abort();
		prev_end = e;
		if (e > s && (r2r_lookup(r, s, &n2, &s2) != 0 || s2 != s ||
			      strcmp(n2, name)))
			abort();
	}
	for (size_t i = 0; i + 4 <= size && i < 512; i += 4) {
		const char *name;
		u32 s;
		u32 rva = (u32)data[i] | (u32)data[i + 1] << 8 |
			  (u32)data[i + 2] << 16 | (u32)data[i + 3] << 24;

		r2r_lookup(r, rva, &name, &s);
	}
	(void)r2r_assembly(r);
	r2r_free(r);
	free(b);
	return 0;
}
