/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "util/arena.h"

#define ARENA_CHUNK	(1u << 20)
#define ARENA_FIRST	4096u

struct ml_arena_chunk {
	struct ml_arena_chunk *next;
	size_t used, size;
	char data[];
};

char *ml_arena_strndup(struct ml_arena *a, const char *s, size_t n, size_t max,
		       bool *capped)
{
	struct ml_arena_chunk *c = a->head;
	char *d;

	if (n >= max || a->bytes > max - n - 1) {
		*capped = true;
		return NULL;
	}
	if (!c || c->size - c->used < n + 1) {
		/* as big as what is kept so far, from 4 KiB to 1 MiB */
		size_t size = a->bytes < ARENA_CHUNK ? a->bytes : ARENA_CHUNK;

		if (size < ARENA_FIRST)
			size = ARENA_FIRST;
		if (size < n + 1)
			size = n + 1;
		c = malloc(sizeof(*c) + size);
		if (!c)
			return NULL;
		c->next = a->head;
		c->used = 0;
		c->size = size;
		a->head = c;
	}
	d = c->data + c->used;
	memcpy(d, s, n);
	d[n] = '\0';
	c->used += n + 1;
	a->bytes += n + 1;
	return d;
}

void ml_arena_clear(struct ml_arena *a)
{
	while (a->head) {
		struct ml_arena_chunk *c = a->head;

		a->head = c->next;
		free(c);
	}
	a->bytes = 0;
}
