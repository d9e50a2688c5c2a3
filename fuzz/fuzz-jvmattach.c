/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the HotSpot attach reply's status line
 * (jvm_attach_parse_reply): the bytes come from whatever listens on the
 * JVM's socket. Checks the output offset stays inside the reply.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "symbols/jvmattach.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int status = 0, n;

	n = jvm_attach_parse_reply((const char *)data, size, &status);
	if (n > 0 && ((size_t)n > size || data[n - 1] != '\n'))
		abort();
	if (n <= 0 && n != -EBADMSG)
		abort();
	return 0;
}
