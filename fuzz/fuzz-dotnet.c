/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the parsers of outside bytes in src/symbols/dotnet.c:
 * the first input byte picks one, the rest is its input.
 *   0: a diagnostics IPC reply (from the target's socket)
 *   1: /proc/PID/environ (the target's environment)
 *   2: /proc/PID/stat
 * Oracles: a decoded reply is exactly as long as it says and well formed;
 * parsed strings are terminated and within their buffers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/dotnet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_reply(const uint8_t *d, size_t n)
{
	u32 hr = 0;
	int size = dotnet_ipc_reply_size(d, n);

	if (size >= 0 && (n < DOTNET_IPC_HDR_SIZE || size < (int)DOTNET_IPC_HDR_SIZE))
		abort();
	if (dotnet_ipc_parse_reply(d, n, &hr) == 0) {
		if (size != (int)n || n < DOTNET_IPC_HDR_SIZE + 4 ||
		    memcmp(d, DOTNET_IPC_MAGIC, sizeof(DOTNET_IPC_MAGIC)) ||
		    d[16] != DOTNET_IPC_SET_SERVER ||
		    (d[17] != DOTNET_IPC_RESP_OK && d[17] != DOTNET_IPC_RESP_ERROR))
			abort();
		if (d[17] == DOTNET_IPC_RESP_ERROR && !(hr & 0x80000000u))
			abort();
	}
}

static void fuzz_env(const uint8_t *d, size_t n)
{
	struct dotnet_env e;

	dotnet_env_parse((const char *)d, n, &e);
	if (e.perfmap < -1 ||
	    !memchr(e.diag_off, '\0', sizeof(e.diag_off)) ||
	    !memchr(e.tmpdir, '\0', sizeof(e.tmpdir)) ||
	    !memchr(e.perfmap_dir, '\0', sizeof(e.perfmap_dir)))
		abort();
	/* A named culprit is always one of the settings that turn IPC off. */
	if (e.diag_off[0] && !strstr(e.diag_off, "EnableDiagnostics"))
		abort();
}

static void fuzz_stat(const uint8_t *d, size_t n)
{
	u64 v = 0;

	if (dotnet_stat_starttime((const char *)d, n, &v) == 0 && !memchr(d, ')', n))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	if (size == 0)
		return 0;
	/* An exact-size copy: reads past the end are caught by ASan. */
	copy = malloc(size - 1 ? size - 1 : 1);
	if (!copy)
		return 0;
	memcpy(copy, data + 1, size - 1);
	switch (data[0] % 3) {
	case 0:
		fuzz_reply(copy, size - 1);
		break;
	case 1:
		fuzz_env(copy, size - 1);
		break;
	default:
		fuzz_stat(copy, size - 1);
		break;
	}
	free(copy);
	return 0;
}
