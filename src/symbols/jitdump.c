/* SPDX-License-Identifier: MIT */
/*
 * jitdump reader (tools/perf/Documentation/jitdump-specification.txt).
 *
 * A byte-at-a-time state machine over the file: header, then records
 * {u32 id, u32 total_size, u64 timestamp} + payload. Of a CODE_LOAD only
 * the 40 fixed payload bytes and the NUL-terminated name are kept; the
 * entry is made as soon as the name is complete, so a record cut in its
 * code bytes (a writer that died, or .NET 10's EFAULT on an uncommitted
 * stub block) still names its code. The code byte count is never taken
 * from code_size: .NET's block-stub records carry no code bytes at all,
 * and the record's total_size is the only framing that holds.
 *
 * Bounded for files the target writes: names live in an arena (a moved
 * entry shares its name), a CODE_MOVE finds its code through a hash of
 * (code_index, address) in O(1), lookups go through util/ivindex (O(log^2
 * n) whatever the ranges), and the JITDUMP_*_MAX caps stop the reading.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "symbols/jitdump.h"
#include "util/arena.h"
#include "util/ivindex.h"
#include "util/vec.h"

#define JD_PREFIX	16u
#define JD_LOAD_FIXED	40u	/* pid, tid, vma, code_addr, code_size, code_index */
#define JD_MOVE_FIXED	48u	/* pid, tid, vma, old, new, code_size, code_index */
/* A header larger than this is not a jitdump we understand. */
#define JD_HEADER_MAX	(1u << 20)
#define JD_READ_CHUNK	(64u * 1024)

enum jd_step {
	JD_S_HEADER,		/* gathering the 40-byte header */
	JD_S_PREFIX,		/* gathering a record prefix */
	JD_S_FIXED,		/* gathering a record's fixed payload */
	JD_S_NAME,		/* reading a CODE_LOAD name up to its NUL */
	JD_S_SKIP,		/* skipping the rest of a record (or header) */
	JD_S_STOP,		/* bad header or lost framing: ignore the rest */
};

/* (code_index, start) -> the latest entry there not moved away. */
struct jd_slot {
	u32 key;		/* an entry with this key, + 1; 0: empty slot */
	u32 head;		/* the latest such entry not moved, + 1; 0: none */
	u64 hash;		/* the key's: most probes and rehashes stop here */
};

struct jitdump {
	struct jitdump_entry *ent;
	u32 *prev;		/* per entry: the previous one of its key, + 1 */
	size_t n, cap;
	u64 serial;		/* last serial handed out */
	struct ml_arena names;
	struct jd_slot *slots;
	size_t nslots, used;	/* nslots: a power of two */
	struct ivindex *ix;	/* entry i is interval i */
	unsigned capped;
	u64 read;		/* bytes read by jitdump_read_fd() */
	const volatile sig_atomic_t *cancel;

	/* parse state */
	enum jd_step step;
	enum jitdump_state state;
	bool swap;		/* the writer's byte order is not ours */
	bool timed;
	u32 pid;
	u8 buf[JD_MOVE_FIXED];	/* the largest part gathered at once */
	u32 have, want;
	u32 rec_id;
	u64 rec_left;		/* bytes of the current record (or header) left */
	u64 rec_time;
	u64 code_addr, code_size, code_index;
	char name[JITDUMP_NAME_MAX + 1];
	u32 nlen;
	u64 offset;
	struct jitdump_stats stats;
};

int jitdump_new(struct jitdump **out)
{
	struct jitdump *jd = calloc(1, sizeof(*jd));

	*out = jd;
	if (!jd)
		return -ENOMEM;
	if (ivindex_new(&jd->ix, JITDUMP_DEPTH) < 0) {
		free(jd);
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

static void free_names(struct jitdump *jd)
{
	ml_arena_clear(&jd->names);
}

void jitdump_reset(struct jitdump *jd)
{
	u64 serial = jd->serial;
	struct ivindex *ix = jd->ix;
	const volatile sig_atomic_t *cancel = jd->cancel;

	free_names(jd);
	free(jd->ent);
	free(jd->prev);
	free(jd->slots);
	ivindex_reset(ix);
	memset(jd, 0, sizeof(*jd));
	jd->serial = serial;	/* an old serial must never name a new entry */
	jd->ix = ix;
	jd->cancel = cancel;
}

void jitdump_free(struct jitdump *jd)
{
	if (!jd)
		return;
	jitdump_reset(jd);
	ivindex_free(jd->ix);
	free(jd);
}

void jitdump_set_cancel(struct jitdump *jd, const volatile sig_atomic_t *flag)
{
	jd->cancel = flag;
}

unsigned jitdump_capped(const struct jitdump *jd)
{
	return jd->capped;
}

bool jitdump_deep(const struct jitdump *jd)
{
	return ivindex_deep(jd->ix);
}

u64 jitdump_probes(const struct jitdump *jd)
{
	return ivindex_probes(jd->ix);
}

u64 jitdump_offset(const struct jitdump *jd)
{
	return jd->offset;
}

enum jitdump_state jitdump_state(const struct jitdump *jd)
{
	return jd->state;
}

const struct jitdump_stats *jitdump_stats(const struct jitdump *jd)
{
	return &jd->stats;
}

bool jitdump_timed(const struct jitdump *jd)
{
	return jd->timed;
}

u32 jitdump_pid(const struct jitdump *jd)
{
	return jd->pid;
}

size_t jitdump_count(const struct jitdump *jd)
{
	return jd->n;
}

const struct jitdump_entry *jitdump_entry_at(const struct jitdump *jd, size_t i)
{
	return i < jd->n ? &jd->ent[i] : NULL;
}

/* ---- decoding ---- */

static u32 get32(const struct jitdump *jd, const u8 *p)
{
	u32 v;

	memcpy(&v, p, 4);
	return jd->swap ? __builtin_bswap32(v) : v;
}

static u64 get64(const struct jitdump *jd, const u8 *p)
{
	u64 v;

	memcpy(&v, p, 8);
	return jd->swap ? __builtin_bswap64(v) : v;
}

static void cap_hit(struct jitdump *jd, unsigned which)
{
	jd->capped |= which;
	jd->step = JD_S_STOP;	/* the state stays READING: the data was fine */
}

/* A copy of name in the arena, or NULL (out of memory, or the cap). */
static char *keep_name(struct jitdump *jd, const char *name, size_t nlen)
{
	bool capped = false;
	char *d = ml_arena_strndup(&jd->names, name, nlen, JITDUMP_NAMES_MAX, &capped);

	if (capped)
		cap_hit(jd, JITDUMP_CAP_NAMES);
	return d;
}

static u64 key_hash(u64 code_index, u64 start)
{
	/* splitmix64's finalizer over both */
	u64 h = code_index * 0x9E3779B97F4A7C15ull ^ start;

	h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ull;
	h = (h ^ (h >> 27)) * 0x94D049BB133111EBull;
	return h ^ (h >> 31);
}

/* The slot of hash h (of code_index, start): its own, or the empty one
 * it would take. The table is never full (see key_grow). */
static struct jd_slot *slot_of(struct jitdump *jd, u64 h, u64 code_index,
			       u64 start)
{
	size_t mask = jd->nslots - 1, i = h & mask;

	for (;; i = (i + 1) & mask) {
		struct jd_slot *sl = &jd->slots[i];
		const struct jitdump_entry *k;

		if (!sl->key) {
			sl->hash = h;	/* for the caller that takes it */
			return sl;
		}
		if (sl->hash != h)
			continue;
		k = &jd->ent[sl->key - 1];
		if (k->code_index == code_index && k->start == start)
			return sl;
	}
}

static struct jd_slot *key_slot(struct jitdump *jd, u64 code_index, u64 start)
{
	return slot_of(jd, key_hash(code_index, start), code_index, start);
}

/* Keeps the table at most 3/4 full (the hash spreads keys well). */
static int key_grow(struct jitdump *jd)
{
	struct jd_slot *old = jd->slots;
	size_t nold = jd->nslots, nnew = nold ? nold * 2 : 1024;

	if (jd->used + 1 <= nold / 4 * 3)
		return 0;
	jd->slots = calloc(nnew, sizeof(*jd->slots));
	if (!jd->slots) {
		jd->slots = old;
		return -ENOMEM;
	}
	jd->nslots = nnew;
	for (size_t i = 0; i < nold; i++) {
		size_t j, mask = nnew - 1;

		if (!old[i].key)
			continue;
		/* keys are distinct: the first empty slot is its place */
		for (j = old[i].hash & mask; jd->slots[j].key; j = (j + 1) & mask)
			;
		jd->slots[j] = old[i];
	}
	free(old);
	return 0;
}

/* name: kept in the arena already (a move) or copied there (a load). */
static int add_entry(struct jitdump *jd, u64 start, u64 size, u64 time,
		     u64 code_index, const char *name, size_t nlen,
		     bool name_kept)
{
	struct jitdump_entry *e;
	struct jd_slot *sl;
	char *kept;
	u32 i;

	if (jd->n >= JITDUMP_ENTRIES_MAX) {
		cap_hit(jd, JITDUMP_CAP_ENTRIES);
		return 0;
	}
	if (jd->n == jd->cap) {
		/* two arrays of one capacity: both grow alike from it */
		size_t ce = jd->cap, cp = jd->cap;

		if (ML_VEC_GROW(jd->ent, ce, jd->n + 1) ||
		    ML_VEC_GROW(jd->prev, cp, jd->n + 1))
			return -ENOMEM;
		jd->cap = ce;
	}
	if (key_grow(jd) < 0)
		return -ENOMEM;
	kept = name_kept ? (char *)name : keep_name(jd, name, nlen);
	if (!kept)
		return jd->capped ? 0 : -ENOMEM;
	/* Saturate: a range reaching the top of the address space is odd
	 * but harmless. */
	if (size > UINT64_MAX - start)
		size = UINT64_MAX - start;
	if (ivindex_add(jd->ix, start, start + size) < 0)
		return -ENOMEM;
	i = (u32)jd->n;
	e = &jd->ent[i];
	memset(e, 0, sizeof(*e));
	e->name = kept;
	e->start = start;
	e->size = size;
	e->time = jd->timed ? time : 0;
	e->code_index = code_index;
	e->serial = ++jd->serial;
	jd->n++;
	sl = key_slot(jd, code_index, start);
	if (!sl->key) {
		sl->key = i + 1;
		jd->used++;
	}
	jd->prev[i] = sl->head;
	sl->head = i + 1;
	return 0;
}

/* The name is complete (NUL seen, or the record ended without one). */
static int end_load(struct jitdump *jd, bool nul_seen)
{
	if (!nul_seen || jd->code_size == 0) {
		jd->stats.bad++;
		return 0;
	}
	jd->stats.loads++;
	return add_entry(jd, jd->code_addr, jd->code_size, jd->rec_time,
			 jd->code_index, jd->name, jd->nlen, false);
}

/* CODE_MOVE: the code of code_index left old_addr for new_addr. The
 * latest entry of that key not moved yet heads its chain (moved ones
 * leave it), so a move costs O(1) however many came before. */
static int do_move(struct jitdump *jd)
{
	u64 old = get64(jd, jd->buf + 16), to = get64(jd, jd->buf + 24);
	u64 size = get64(jd, jd->buf + 32), idx = get64(jd, jd->buf + 40);
	struct jitdump_entry *e;
	struct jd_slot *sl;
	u32 oi;
	int ret;

	sl = jd->nslots ? key_slot(jd, idx, old) : NULL;
	if (!sl || !sl->head) {
		jd->stats.bad++;	/* a move of code we never saw loaded */
		return 0;
	}
	if (size == 0) {
		jd->stats.bad++;
		return 0;
	}
	oi = sl->head - 1;
	ret = add_entry(jd, to, size, jd->rec_time, idx, jd->ent[oi].name, 0,
			true);
	if (ret < 0 || (jd->capped & JITDUMP_CAP_ENTRIES))
		return ret;
	e = &jd->ent[oi];
	e->moved_at = jd->timed && jd->rec_time ? jd->rec_time : 1;
	/* Off its chain; the table may have moved. A move to the same place
	 * put the new entry in front of it. */
	sl = key_slot(jd, idx, old);
	if (sl->head == oi + 1)
		sl->head = jd->prev[oi];
	else
		jd->prev[sl->head - 1] = jd->prev[oi];
	jd->stats.moves++;
	return 0;
}

static void stop(struct jitdump *jd, enum jitdump_state why)
{
	jd->step = JD_S_STOP;
	jd->state = why;
}

static void header_done(struct jitdump *jd)
{
	u32 magic, version, size;
	u64 flags;

	memcpy(&magic, jd->buf, 4);
	if (magic == JITDUMP_MAGIC)
		jd->swap = false;
	else if (magic == __builtin_bswap32(JITDUMP_MAGIC))
		jd->swap = true;
	else {
		stop(jd, JITDUMP_BAD_HEADER);
		return;
	}
	version = get32(jd, jd->buf + 4);
	size = get32(jd, jd->buf + 8);
	if (version < 1 || size < JITDUMP_HEADER_SIZE || size > JD_HEADER_MAX) {
		stop(jd, JITDUMP_BAD_HEADER);
		return;
	}
	jd->pid = get32(jd, jd->buf + 20);
	flags = get64(jd, jd->buf + 32);
	/* bit 0: timestamps from the CPU's counter, not CLOCK_MONOTONIC */
	jd->timed = !(flags & 1);
	jd->state = JITDUMP_READING;
	/* A larger header (a later version) is skipped like a record tail. */
	jd->rec_left = size - JITDUMP_HEADER_SIZE;
	jd->step = JD_S_SKIP;
}

static void prefix_done(struct jitdump *jd)
{
	u32 id = get32(jd, jd->buf), size = get32(jd, jd->buf + 4);

	if (jd->stats.records >= JITDUMP_RECORDS_MAX) {
		cap_hit(jd, JITDUMP_CAP_RECORDS);
		return;
	}
	jd->stats.records++;
	if (size < JD_PREFIX) {	/* 0 included: the framing is lost */
		stop(jd, JITDUMP_ENDED);
		return;
	}
	jd->rec_id = id;
	jd->rec_time = get64(jd, jd->buf + 8);
	jd->rec_left = size - JD_PREFIX;
	jd->have = 0;
	jd->step = JD_S_SKIP;
	if (id == JITDUMP_CODE_LOAD || id == JITDUMP_CODE_MOVE) {
		jd->want = id == JITDUMP_CODE_LOAD ? JD_LOAD_FIXED : JD_MOVE_FIXED;
		if (jd->rec_left < jd->want)
			jd->stats.bad++;
		else
			jd->step = JD_S_FIXED;
	} else {
		jd->stats.unknown++;
	}
}

static int fixed_done(struct jitdump *jd)
{
	jd->rec_left -= jd->want;
	jd->step = JD_S_SKIP;
	if (jd->rec_id == JITDUMP_CODE_MOVE)
		return do_move(jd);
	/* vma (offset 8) is where perf maps the code; .NET and V8 write
	 * vma == code_addr. The executable address is code_addr. */
	jd->code_addr = get64(jd, jd->buf + 16);
	jd->code_size = get64(jd, jd->buf + 24);
	jd->code_index = get64(jd, jd->buf + 32);
	jd->nlen = 0;
	jd->step = JD_S_NAME;
	if (jd->rec_left == 0) {
		jd->step = JD_S_SKIP;
		return end_load(jd, false);
	}
	return 0;
}

/* Gathers up to want bytes into buf; true when complete. */
static bool gather(struct jitdump *jd, const u8 **p, size_t *len)
{
	u32 take = jd->want - jd->have;

	if (take > *len)
		take = (u32)*len;
	memcpy(jd->buf + jd->have, *p, take);
	jd->have += take;
	*p += take;
	*len -= take;
	return jd->have == jd->want;
}

int jitdump_feed(struct jitdump *jd, const void *data, size_t len)
{
	const u8 *p = data;
	int ret = 0;

	jd->offset += len;
	while (len > 0 && ret == 0) {
		switch (jd->step) {
		case JD_S_HEADER:
			jd->want = JITDUMP_HEADER_SIZE;
			if (gather(jd, &p, &len))
				header_done(jd);
			break;
		case JD_S_PREFIX:
			jd->want = JD_PREFIX;
			if (gather(jd, &p, &len))
				prefix_done(jd);
			break;
		case JD_S_FIXED:
			if (gather(jd, &p, &len))
				ret = fixed_done(jd);
			break;
		case JD_S_NAME: {
			size_t take = len < jd->rec_left ? len : (size_t)jd->rec_left;
			const u8 *nul = memchr(p, '\0', take);
			size_t part = nul ? (size_t)(nul - p) : take;
			size_t room = JITDUMP_NAME_MAX - jd->nlen;

			memcpy(jd->name + jd->nlen, p, part < room ? part : room);
			jd->nlen += (u32)(part < room ? part : room);
			if (nul)
				part++;
			p += part;
			len -= part;
			jd->rec_left -= part;
			if (nul || jd->rec_left == 0) {
				jd->step = JD_S_SKIP;
				ret = end_load(jd, nul != NULL);
			}
			break;
		}
		case JD_S_SKIP: {
			size_t take = len < jd->rec_left ? len : (size_t)jd->rec_left;

			p += take;
			len -= take;
			jd->rec_left -= take;
			break;
		}
		case JD_S_STOP:
			return 0;
		}
		if (jd->step == JD_S_SKIP && jd->rec_left == 0) {
			jd->step = JD_S_PREFIX;
			jd->have = 0;
		}
	}
	return ret;
}

int jitdump_read_fd(struct jitdump *jd, int fd, u64 max_bytes)
{
	struct stat sb;
	u64 end;
	u8 *buf;
	int ret = 0;

	if (fstat(fd, &sb) < 0)
		return -errno;
	if ((u64)sb.st_size < jd->offset)
		jitdump_reset(jd);	/* truncated: being rewritten */
	if (jd->step == JD_S_STOP || (u64)sb.st_size == jd->offset)
		return 0;
	end = (u64)sb.st_size;
	if (max_bytes && end - jd->offset > max_bytes)
		end = jd->offset + max_bytes;
	buf = malloc(JD_READ_CHUNK);
	if (!buf)
		return -ENOMEM;
	while (jd->offset < end && ret == 0 && jd->step != JD_S_STOP) {
		u64 want = end - jd->offset;
		ssize_t r;

		if (jd->cancel && *jd->cancel) {
			ret = -EINTR;
			break;
		}
		if (jd->read >= JITDUMP_READ_MAX) {
			cap_hit(jd, JITDUMP_CAP_READ);
			break;
		}

		/* Code bytes are never needed: step over them unread. */
		if (jd->step == JD_S_SKIP && jd->rec_left > JD_READ_CHUNK) {
			u64 skip = jd->rec_left < want ? jd->rec_left : want;

			jd->rec_left -= skip;
			jd->offset += skip;
			if (jd->rec_left == 0) {
				jd->step = JD_S_PREFIX;
				jd->have = 0;
			}
			continue;
		}

		if (want > JD_READ_CHUNK)
			want = JD_READ_CHUNK;
		r = pread(fd, buf, (size_t)want, (off_t)jd->offset);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			ret = -errno;
		else if (r == 0)
			break;
		else {
			jd->read += (u64)r;
			ret = jitdump_feed(jd, buf, (size_t)r);
		}
	}
	free(buf);
	return ret;
}

/* ---- lookups ---- */

/* Of the entries containing addr, the one better() prefers. */
typedef bool (*jd_better)(const struct jitdump_entry *cand,
			  const struct jitdump_entry *best, u64 time);

static const struct jitdump_entry *scan(struct jitdump *jd, u64 addr, u64 time,
					jd_better better)
{
	u32 cand[IVINDEX_FIND_MAX(JITDUMP_DEPTH)];
	const struct jitdump_entry *best = NULL;
	int n = ivindex_find(jd->ix, addr, cand, ARRAY_SIZE(cand));

	for (int i = 0; i < n; i++) {
		const struct jitdump_entry *e = &jd->ent[cand[i]];

		if (!best || better(e, best, time))
			best = e;
	}
	return best;
}

/* Latest in the file; an entry moved away loses to one still there. */
static bool better_latest(const struct jitdump_entry *c,
			  const struct jitdump_entry *b, u64 unused)
{
	if (!c->moved_at != !b->moved_at)
		return !c->moved_at;
	return c->serial > b->serial;
}

/* Rank of an entry for time t: 2 there at t, 1 loaded after t, 0 moved
 * away before t. Within 2 the latest load wins, within 1 the earliest. */
static int rank_at(const struct jitdump_entry *e, u64 t)
{
	if (e->time > t)
		return 1;
	return e->moved_at && e->moved_at <= t ? 0 : 2;
}

static bool better_at(const struct jitdump_entry *c,
		      const struct jitdump_entry *b, u64 t)
{
	int rc = rank_at(c, t), rb = rank_at(b, t);

	if (rc != rb)
		return rc > rb;
	if (c->time != b->time)
		return rc == 1 ? c->time < b->time : c->time > b->time;
	return rc == 1 ? c->serial < b->serial : c->serial > b->serial;
}

const struct jitdump_entry *jitdump_lookup(struct jitdump *jd, u64 addr)
{
	return scan(jd, addr, 0, better_latest);
}

const struct jitdump_entry *jitdump_lookup_at(struct jitdump *jd, u64 addr,
					      u64 time)
{
	if (!jd->timed || time == UINT64_MAX)
		return jitdump_lookup(jd, addr);
	return scan(jd, addr, time, better_at);
}
