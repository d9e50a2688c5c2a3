// SPDX-License-Identifier: MIT
/* String interning: FNV-1a hash, open addressing, doubling at half full. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report/intern.h"
#include "util/vec.h"

static size_t hash(const char *s)
{
	u64 h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return (size_t)(h ^ (h >> 32));
}

static int rehash(struct intern *t, size_t nslots)
{
	u32 *ns = calloc(nslots, sizeof(*ns));
	size_t i, j;

	if (!ns)
		return -ENOMEM;
	for (i = 0; i < t->n; i++) {
		for (j = hash(t->keys[i]) & (nslots - 1); ns[j];
		     j = (j + 1) & (nslots - 1))
			;
		ns[j] = (u32)i + 1;
	}
	free(t->slots);
	t->slots = ns;
	t->nslots = nslots;
	return 0;
}

int intern_put(struct intern *t, const char *key, u32 *idx, bool *added)
{
	size_t j;
	char *copy;

	if (added)
		*added = false;
	if ((t->n + 1) * 2 > t->nslots &&
	    rehash(t, t->nslots ? t->nslots * 2 : 64))
		return -ENOMEM;
	for (j = hash(key) & (t->nslots - 1); t->slots[j];
	     j = (j + 1) & (t->nslots - 1))
		if (!strcmp(t->keys[t->slots[j] - 1], key)) {
			*idx = t->slots[j] - 1;
			return 0;
		}
	if (t->n >= UINT32_MAX - 1)
		return -ENOMEM;
	if (ML_VEC_GROW(t->keys, t->keys_cap, t->n + 1))
		return -ENOMEM;
	copy = strdup(key);
	if (!copy)
		return -ENOMEM;
	t->keys[t->n] = copy;
	t->slots[j] = (u32)t->n + 1;
	*idx = (u32)t->n++;
	if (added)
		*added = true;
	return 0;
}

void intern_clear(struct intern *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->keys[i]);
	free(t->keys);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}
