/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the /proc/PID/maps parser. Besides not crashing,
 * the parser must keep its promises on any input: every entry has
 * start < end, and a path never holds a newline or runs past the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "track/procmaps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct maps_entry *e = NULL;
	size_t n = 0, bad = 0, lines = 1;

	if (procmaps_parse((const char *)data, size, &e, &n, &bad) != 0)
		return 0;
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (n + bad > lines)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (e[i].start >= e[i].end)
			abort();
		if (e[i].path && (strchr(e[i].path, '\n') ||
				  strlen(e[i].path) > size))
			abort();
	}
	procmaps_free(e, n);
	return 0;
}
