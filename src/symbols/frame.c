/* SPDX-License-Identifier: MIT */
/* struct ml_frame owns its strings. */
#include <stdlib.h>

#include "mapleak.h"

void ml_frame_release(struct ml_frame *f)
{
	if (!f)
		return;
	free(f->symbol);
	free(f->module);
	free(f->file);
	free(f->tier);
	f->symbol = f->module = f->file = f->tier = NULL;
}
