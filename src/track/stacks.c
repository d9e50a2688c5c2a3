/* SPDX-License-Identifier: MIT */
/*
 * Stack interning. Entries live in an array indexed by id (get is O(1));
 * an open-addressing table of ids, keyed by a hash of (pcs, flags), finds
 * an existing stack. PCs are copied into chunks that never move, so a
 * pointer returned by stackdb_get stays valid until stackdb_free.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "track/stacks.h"

#define SD_CHUNK_PCS 65536	/* >= ML_STACK_MAX_FRAMES */
#define SD_MAX_ID 0x7fffffffu
/* stackdb_put from a damaged file must not make us allocate gigabytes. */
#define SD_MAX_GAP (1u << 20)

struct sd_entry {
	const u64 *pcs;
	u32 n;
	u32 flags;
	u32 hash;
	bool used;		/* false for ids a loaded recording skipped */
};

struct sd_chunk {
	struct sd_chunk *next;
	size_t used;
	u64 pcs[SD_CHUNK_PCS];
};

struct stackdb {
	struct sd_entry *ent;	/* ent[id], ent[0] unused */
	u32 count;		/* highest id */
	u32 cap;		/* allocated entries */
	u32 *table;		/* ids; 0 = empty slot */
	u32 tmask;		/* table size - 1 */
	u32 tused;
	struct sd_chunk *chunks;
};

static u32 hash_stack(const u64 *pcs, u32 n, u32 flags)
{
	u64 h = 0x9e3779b97f4a7c15ull ^ ((u64)n << 32 | flags);

	for (u32 i = 0; i < n; i++) {
		h ^= pcs[i];
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 29;
	return (u32)h;
}

int stackdb_new(struct stackdb **out)
{
	struct stackdb *db = calloc(1, sizeof(*db));

	*out = NULL;
	if (!db)
		return -ENOMEM;
	db->table = calloc(1024, sizeof(*db->table));
	if (!db->table) {
		free(db);
		return -ENOMEM;
	}
	db->tmask = 1023;
	*out = db;
	return 0;
}

void stackdb_free(struct stackdb *db)
{
	struct sd_chunk *c, *next;

	if (!db)
		return;
	for (c = db->chunks; c; c = next) {
		next = c->next;
		free(c);
	}
	free(db->ent);
	free(db->table);
	free(db);
}

static bool same(const struct sd_entry *e, const u64 *pcs, u32 n, u32 flags,
		 u32 hash)
{
	return e->hash == hash && e->n == n && e->flags == flags &&
	       (n == 0 || memcmp(e->pcs, pcs, n * sizeof(*pcs)) == 0);
}

static u32 lookup(const struct stackdb *db, const u64 *pcs, u32 n, u32 flags,
		  u32 hash)
{
	for (u32 i = hash & db->tmask;; i = (i + 1) & db->tmask) {
		u32 id = db->table[i];

		if (!id)
			return 0;
		if (same(&db->ent[id], pcs, n, flags, hash))
			return id;
	}
}

static void table_add(u32 *table, u32 mask, u32 hash, u32 id)
{
	u32 i = hash & mask;

	while (table[i])
		i = (i + 1) & mask;
	table[i] = id;
}

/* Keeps the table at most half full so probes stay short. */
static int table_reserve(struct stackdb *db)
{
	u32 nsize, *nt;

	if ((u64)(db->tused + 1) * 2 <= (u64)db->tmask + 1)
		return 0;
	if (db->tmask >= 0x7fffffffu)
		return -ENOMEM;
	nsize = (db->tmask + 1) * 2;
	nt = calloc(nsize, sizeof(*nt));
	if (!nt)
		return -ENOMEM;
	for (u32 i = 0; i <= db->tmask; i++)
		if (db->table[i])
			table_add(nt, nsize - 1, db->ent[db->table[i]].hash,
				  db->table[i]);
	free(db->table);
	db->table = nt;
	db->tmask = nsize - 1;
	return 0;
}

static int ent_reserve(struct stackdb *db, u32 id)
{
	struct sd_entry *ne;
	u32 ncap;

	if (id < db->cap)
		return 0;
	ncap = db->cap ? db->cap : 256;
	while (ncap <= id)
		ncap = ncap > SD_MAX_ID / 2 ? SD_MAX_ID + 1 : ncap * 2;
	ne = reallocarray(db->ent, ncap, sizeof(*ne));
	if (!ne)
		return -ENOMEM;
	memset(ne + db->cap, 0, (size_t)(ncap - db->cap) * sizeof(*ne));
	db->ent = ne;
	db->cap = ncap;
	return 0;
}

static const u64 *copy_pcs(struct stackdb *db, const u64 *pcs, u32 n)
{
	struct sd_chunk *c = db->chunks;
	u64 *dst;

	if (n == 0)
		return NULL;
	if (!c || SD_CHUNK_PCS - c->used < n) {
		c = malloc(sizeof(*c));
		if (!c)
			return NULL;
		c->used = 0;
		c->next = db->chunks;
		db->chunks = c;
	}
	dst = c->pcs + c->used;
	memcpy(dst, pcs, n * sizeof(*pcs));
	c->used += n;
	return dst;
}

/* Stores the stack under id; the caller checked id is free. */
static int store(struct stackdb *db, u32 id, const u64 *pcs, u32 n,
		 u32 flags, u32 hash, bool index)
{
	struct sd_entry *e;
	const u64 *copy;
	int ret;

	ret = ent_reserve(db, id);
	if (!ret && index)
		ret = table_reserve(db);
	if (ret)
		return ret;
	copy = copy_pcs(db, pcs, n);
	if (n && !copy)
		return -ENOMEM;
	e = &db->ent[id];
	e->pcs = copy;
	e->n = n;
	e->flags = flags;
	e->hash = hash;
	e->used = true;
	if (index) {
		table_add(db->table, db->tmask, hash, id);
		db->tused++;
	}
	if (id > db->count)
		db->count = id;
	return 0;
}

int stackdb_intern(struct stackdb *db, const u64 *pcs, u32 n, u32 flags,
		   u32 *id, bool *is_new)
{
	u32 hash, found;
	int ret;

	if (n > ML_STACK_MAX_FRAMES || (n && !pcs))
		return -EINVAL;
	hash = hash_stack(pcs, n, flags);
	found = lookup(db, pcs, n, flags, hash);
	if (found) {
		*id = found;
		if (is_new)
			*is_new = false;
		return 0;
	}
	if (db->count >= SD_MAX_ID)
		return -ENOSPC;
	ret = store(db, db->count + 1, pcs, n, flags, hash, true);
	if (ret)
		return ret;
	*id = db->count;
	if (is_new)
		*is_new = true;
	return 0;
}

const u64 *stackdb_get(const struct stackdb *db, u32 id, u32 *n, u32 *flags)
{
	static const u64 empty[1];
	const struct sd_entry *e;

	if (!db || id == 0 || id > db->count || !db->ent[id].used)
		return NULL;
	e = &db->ent[id];
	if (n)
		*n = e->n;
	if (flags)
		*flags = e->flags;
	/* Non-NULL even for an empty stack: NULL means "no such id". */
	return e->pcs ? e->pcs : empty;
}

u32 stackdb_count(const struct stackdb *db)
{
	return db ? db->count : 0;
}

int stackdb_put(struct stackdb *db, u32 id, const u64 *pcs, u32 n, u32 flags)
{
	u32 hash;

	if (id == 0 || id > SD_MAX_ID || n > ML_STACK_MAX_FRAMES ||
	    (n && !pcs))
		return -EINVAL;
	if (id > db->count && id - db->count > SD_MAX_GAP)
		return -ERANGE;
	hash = hash_stack(pcs, n, flags);
	if (id <= db->count && db->ent[id].used)
		return same(&db->ent[id], pcs, n, flags, hash) ? 0 : -EEXIST;
	/* A duplicate of a stack already known keeps the first id in the index. */
	return store(db, id, pcs, n, flags, hash,
		     lookup(db, pcs, n, flags, hash) == 0);
}
