// SPDX-License-Identifier: MIT
/*
 * The recording file: see docs/recording-format.md for the layout.
 *
 * Every field is encoded explicitly, little endian, so the file does not
 * depend on the compiler's struct layout or the host's byte order. The
 * reader trusts nothing: each size and count is checked against what is
 * left of the record before anything is allocated.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "record/record.h"
#include "util.h"
#include "util/vec.h"

#define HDR_SIZE	24u		/* version 1 header */
#define HDR_MAX		65536u		/* a longer header is damage, not growth */
#define PREFIX_SIZE	16u		/* u32 type, u32 size, u64 time */
#define STR_MAX		65536u		/* longest string stored; longer ones are cut */
#define STR_NULL	0xffffffffu	/* length of a NULL string */
#define WBUF_SIZE	(1u << 20)
#define MARK_STEP	4096u
#define RCHUNK		(1u << 20)	/* reader grows its buffer by what arrived */

/* Fixed parts of array elements as version 1 writes them. Readers accept
 * larger elements (newer writers) and skip the bytes they do not know. */
#define MAPS_ESIZE	48u
#define RESIDENT_ESIZE	32u
#define SYM_ESIZE	16u		/* JITSYMS, MODSYMS: start, size (+ name) */
#define FCOUNT_ESIZE	16u		/* FOLD: stack_id, pad, calls */
#define FDELTA_ESIZE	24u		/* FOLD: stack_id, pad, tick, delta */
#define PATCH_ESIZE	48u		/* PATCH: a region and its tid */

/* ML_REC_OP value mask: args[0..5], ret, aux; only non-zero ones stored. */
#define OP_NVALS	8

/* ------------------------------------------------------------------ */
/* little-endian helpers */

static void le32(u8 *p, u32 v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (u8)(v >> (8 * i));
}

static void le64(u8 *p, u64 v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (u8)(v >> (8 * i));
}

static u32 get_le32(const u8 *p)
{
	u32 v = 0;

	for (int i = 3; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static u64 get_le64(const u8 *p)
{
	u64 v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static u64 pad8(u64 n)
{
	return (n + 7) & ~(u64)7;
}

/* ------------------------------------------------------------------ */
/* writer */

struct rec_writer {
	int fd;
	int dirfd;		/* the destination's folder: names are taken in it */
	int err;		/* first write error, sticky */
	bool placed;		/* our file is at the destination name */
	bool rotated;		/* base.old holds the previous file */
	dev_t dev;		/* our file, to remove only it on abort */
	ino_t ino;
	char *base;		/* the destination's last component */
	char *old_base;
	u64 pos;		/* bytes put: written + buffered */
	u64 written;		/* bytes in the file */
	u64 whole;		/* pos at the end of the last whole record */
	u64 sound;		/* file offset up to which it holds whole records */
	/* Record ends in the buffer, one every MARK_STEP bytes or more: how
	 * far back a partly written buffer is cut. */
	u64 marks[WBUF_SIZE / MARK_STEP + 8];
	u32 nmarks;
	size_t len;
	u8 buf[WBUF_SIZE];
};

/* Writes p[0..n); *done gets what was written, also on an error. */
static int write_all(int fd, const u8 *p, size_t n, size_t *done)
{
	*done = 0;
	while (n > 0) {
		ssize_t r = write(fd, p, n);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EIO;
		p += r;
		n -= (size_t)r;
		*done += (size_t)r;
	}
	return 0;
}

int rec_writer_flush(struct rec_writer *w)
{
	size_t done;
	int rc;

	if (w->err || w->len == 0)
		return w->err;
	if (w->fd < 0) {	/* a discarding writer */
		w->len = 0;
		w->nmarks = 0;
		return 0;
	}
	rc = write_all(w->fd, w->buf, w->len, &done);
	w->written += done;
	w->len = 0;
	if (rc == 0) {
		w->sound = w->whole;
		w->nmarks = 0;
		return 0;
	}
	w->err = rc;
	/*
	 * A full disk takes part of a buffer: the file would end inside a
	 * record. Cut it back to the last record end it holds (within
	 * MARK_STEP), so that it reads to its end (a recording without END),
	 * and give the space back.
	 */
	for (u32 i = 0; i < w->nmarks; i++)
		if (w->marks[i] <= w->written && w->marks[i] > w->sound)
			w->sound = w->marks[i];
	if (w->whole <= w->written && w->whole > w->sound)
		w->sound = w->whole;
	rc = ftruncate(w->fd, (off_t)w->sound);
	(void)rc;
	return w->err;
}

static void w_bytes(struct rec_writer *w, const void *data, size_t n)
{
	const u8 *p = data;

	while (n > 0 && !w->err) {
		size_t room = sizeof(w->buf) - w->len;
		size_t k = n < room ? n : room;

		memcpy(w->buf + w->len, p, k);
		w->len += k;
		w->pos += k;
		p += k;
		n -= k;
		if (w->len == sizeof(w->buf))
			rec_writer_flush(w);
	}
}

static void w_u32(struct rec_writer *w, u32 v)
{
	u8 b[4];

	le32(b, v);
	w_bytes(w, b, sizeof(b));
}

static void w_u64(struct rec_writer *w, u64 v)
{
	u8 b[8];

	le64(b, v);
	w_bytes(w, b, sizeof(b));
}

static size_t str_len(const char *s)
{
	size_t n;

	if (!s)
		return 0;
	n = strlen(s);
	return n > STR_MAX ? STR_MAX : n;
}

/* Encoded size of a string: u32 length + bytes. */
static u64 str_size(const char *s)
{
	return 4 + str_len(s);
}

static void w_str(struct rec_writer *w, const char *s)
{
	if (!s) {
		w_u32(w, STR_NULL);
		return;
	}
	size_t n = str_len(s);

	w_u32(w, (u32)n);
	w_bytes(w, s, n);
}

/*
 * Starts a record of payload_len bytes. The caller then writes exactly
 * payload_len bytes and calls rec_end() with the same length.
 */
static int rec_begin(struct rec_writer *w, u32 type, u64 time, u64 payload_len)
{
	u64 size = pad8(PREFIX_SIZE + payload_len);

	if (w->err)
		return w->err;
	if (size > ML_REC_MAX_SIZE)
		return -E2BIG;
	w_u32(w, type);
	w_u32(w, (u32)size);
	w_u64(w, time);
	return w->err;
}

static int rec_end(struct rec_writer *w, u64 payload_len)
{
	static const u8 zero[8];
	u64 pad = pad8(PREFIX_SIZE + payload_len) - (PREFIX_SIZE + payload_len);

	w_bytes(w, zero, (size_t)pad);
	if (w->err)
		return w->err;
	w->whole = w->pos;
	if (w->whole - (w->nmarks ? w->marks[w->nmarks - 1] : w->sound) >= MARK_STEP &&
	    w->nmarks < ARRAY_SIZE(w->marks))
		w->marks[w->nmarks++] = w->whole;
	return 0;
}

static char *str_concat(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	char *s = malloc(na + nb + 1);

	if (s) {
		memcpy(s, a, na);
		memcpy(s + na, b, nb + 1);
	}
	return s;
}

static void writer_free(struct rec_writer *w)
{
	if (w->dirfd >= 0)
		close(w->dirfd);
	free(w->base);
	free(w->old_base);
	free(w);
}

/*
 * May name be replaced (moved to .old, or have our file put in its
 * place)? In a sticky folder (/tmp) anyone can plant a name: another
 * user's file or link is refused, as fs.protected_regular would, so that
 * nobody chooses what root moves. With dest, only a regular file or a
 * link may be there: a FIFO, a device or a socket is a mistake (or a trap)
 * that writing would block on or pass to something else.
 */
static int check_name(int dirfd, const struct stat *dir, const char *name,
		      bool dest, bool *exists)
{
	struct stat sb;

	*exists = false;
	if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	*exists = true;
	if ((dir->st_mode & S_ISVTX) && sb.st_uid != geteuid() &&
	    sb.st_uid != dir->st_uid)
		return -EPERM;
	if (dest && S_ISDIR(sb.st_mode))
		return -EISDIR;
	if (dest && !S_ISREG(sb.st_mode) && !S_ISLNK(sb.st_mode))
		return -EINVAL;
	return 0;
}

/* rename that fails rather than replace, where the file system can. */
static int rename_noreplace(int dirfd, const char *from, const char *to)
{
	if (renameat2(dirfd, from, dirfd, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;
	return renameat(dirfd, from, dirfd, to) ? -errno : 0;
}

/* A new file in dirfd, never an existing one, never through a link. */
static int create_temp(int dirfd, const char *base, char **name)
{
	struct timespec ts;

	for (unsigned int i = 0; i < 100; i++) {
		int fd;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		free(*name);
		if (asprintf(name, "%s.tmp%05x", base,
			     (unsigned int)(ts.tv_nsec ^ getpid() ^ i * 7919) & 0xfffff) < 0) {
			*name = NULL;
			return -ENOMEM;
		}
		fd = openat(dirfd, *name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
			    O_CLOEXEC, 0600);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

int rec_writer_open(struct rec_writer **out, const char *path)
{
	struct rec_writer *w;
	struct stat dir, sb;
	const char *slash = strrchr(path, '/');
	char *dname = NULL, *tmp = NULL;
	u8 hdr[HDR_SIZE];
	bool existed, old_existed;
	int rc;

	*out = NULL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fd = -1;
	w->dirfd = -1;
	w->base = strdup(slash ? slash + 1 : path);
	dname = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) :
		strdup(".");
	if (!w->base || !dname || !(w->old_base = str_concat(w->base, ".old"))) {
		rc = -ENOMEM;
		goto fail;
	}
	if (!w->base[0] || !strcmp(w->base, ".") || !strcmp(w->base, "..")) {
		rc = -EISDIR;
		goto fail;
	}
	/* Every later step is relative to this folder: it cannot be swapped. */
	w->dirfd = open(dname, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (w->dirfd < 0 || fstat(w->dirfd, &dir) < 0) {
		rc = -errno;
		goto fail;
	}
	rc = check_name(w->dirfd, &dir, w->base, true, &existed);
	if (!rc && existed)
		rc = check_name(w->dirfd, &dir, w->old_base, false, &old_existed);
	if (rc)
		goto fail;

	/* 0600: a recording holds command lines and addresses of the target. */
	w->fd = create_temp(w->dirfd, w->base, &tmp);
	if (w->fd < 0) {
		rc = w->fd;
		goto fail;
	}
	if (fchmod(w->fd, 0600) < 0 || fstat(w->fd, &sb) < 0) {
		rc = -errno;
		goto fail_tmp;
	}
	w->dev = sb.st_dev;
	w->ino = sb.st_ino;

	/* The header first: what appears at the destination reads. */
	memcpy(hdr, ML_REC_MAGIC, 8);
	le32(hdr + 8, ML_REC_VERSION);
	le32(hdr + 12, HDR_SIZE);
	le32(hdr + 16, 0);	/* flags */
	le32(hdr + 20, 0);	/* reserved */
	w_bytes(w, hdr, sizeof(hdr));
	w->whole = w->pos;
	rc = rec_writer_flush(w);
	if (rc)
		goto fail_tmp;

	/* Names are moved, never opened: a link there is replaced, not
	 * followed. An existing file or link becomes .old. */
	if (existed) {
		if (renameat(w->dirfd, w->base, w->dirfd, w->old_base) < 0) {
			rc = -errno;
			goto fail_tmp;
		}
		w->rotated = true;
	}
	rc = rename_noreplace(w->dirfd, tmp, w->base);
	if (rc)
		goto fail_tmp;
	w->placed = true;
	free(tmp);
	free(dname);
	*out = w;
	return 0;

fail_tmp:
	unlinkat(w->dirfd, tmp, 0);
	if (w->rotated)
		rename_noreplace(w->dirfd, w->old_base, w->base);
fail:
	if (w->fd >= 0)
		close(w->fd);
	free(tmp);
	free(dname);
	writer_free(w);
	return rc;
}

int rec_writer_open_discard(struct rec_writer **out)
{
	struct rec_writer *w = calloc(1, sizeof(*w));

	*out = w;
	if (!w)
		return -ENOMEM;
	w->fd = -1;
	w->dirfd = -1;
	return 0;
}

int rec_writer_close(struct rec_writer *w)
{
	int rc;

	if (!w)
		return 0;
	rc = rec_writer_flush(w);
	/* close() can report a delayed write error (NFS, quotas). */
	if (w->fd >= 0 && close(w->fd) < 0 && rc == 0)
		rc = -errno;
	writer_free(w);
	return rc;
}

int rec_writer_error(const struct rec_writer *w)
{
	return w ? w->err : 0;
}

void rec_writer_abort(struct rec_writer *w)
{
	struct stat sb;

	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	/* only our file: something else may have taken the name since */
	if (w->placed &&
	    fstatat(w->dirfd, w->base, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    sb.st_dev == w->dev && sb.st_ino == w->ino)
		unlinkat(w->dirfd, w->base, 0);
	if (w->rotated)
		rename_noreplace(w->dirfd, w->old_base, w->base);
	writer_free(w);
}

int rec_put_target(struct rec_writer *w, u64 time, const struct ml_rec_target *t)
{
	u64 len = 4 * 4 + 2 * 8 + str_size(t->command) + str_size(t->comm);
	int rc = rec_begin(w, ML_REC_TARGET, time, len);

	if (rc)
		return rc;
	w_u32(w, t->pid);
	w_u32(w, t->nspid);
	w_u32(w, t->launched);
	w_u32(w, t->stack_size);
	w_u64(w, t->start_time);
	w_u64(w, t->start_realtime);
	w_str(w, t->command);
	w_str(w, t->comm);
	return rec_end(w, len);
}

int rec_put_maps(struct rec_writer *w, u64 time, const struct ml_rec_maps *m)
{
	u64 len = 16;
	int rc;

	if (m->n > 0 && !m->e)
		return -EINVAL;
	if (m->n > UINT32_MAX)
		return -E2BIG;
	for (size_t i = 0; i < m->n; i++) {
		len += MAPS_ESIZE + str_size(m->e[i].path);
		if (len > ML_REC_MAX_SIZE)
			return -E2BIG;
	}
	rc = rec_begin(w, ML_REC_MAPS, time, len);
	if (rc)
		return rc;
	w_u32(w, m->purpose);
	w_u32(w, (u32)m->n);
	w_u32(w, MAPS_ESIZE);
	w_u32(w, 0);
	for (size_t i = 0; i < m->n; i++) {
		const struct maps_entry *e = &m->e[i];

		w_u64(w, e->start);
		w_u64(w, e->end);
		w_u64(w, e->offset);
		w_u64(w, e->inode);
		w_u32(w, e->prot);
		w_u32(w, e->shared);
		w_u32(w, e->dev_major);
		w_u32(w, e->dev_minor);
		w_str(w, e->path);
	}
	return rec_end(w, len);
}

int rec_put_op(struct rec_writer *w, const struct ml_op *op)
{
	u64 vals[OP_NVALS];
	u32 mask = 0;
	u64 len;
	int rc;

	/* The most frequent record: store only the non-zero values (an munmap
	 * is 56 bytes, the worst case 104). The time is the prefix's. */
	for (int i = 0; i < 6; i++)
		vals[i] = op->args[i];
	vals[6] = (u64)op->ret;
	vals[7] = op->aux;
	for (int i = 0; i < OP_NVALS; i++)
		if (vals[i])
			mask |= 1u << i;
	len = 5 * 4 + 8 * (u64)__builtin_popcount(mask);
	rc = rec_begin(w, ML_REC_OP, op->time, len);
	if (rc)
		return rc;
	w_u32(w, op->kind);
	w_u32(w, op->stack_id);
	w_u32(w, op->tid);
	w_u32(w, op->flags);
	w_u32(w, mask);
	for (int i = 0; i < OP_NVALS; i++)
		if (mask & (1u << i))
			w_u64(w, vals[i]);
	return rec_end(w, len);
}

int rec_put_stack(struct rec_writer *w, u64 time, const struct ml_rec_stack *s)
{
	u64 len = 16 + 8 * (u64)s->n;
	int rc;

	if (s->n > 0 && !s->pcs)
		return -EINVAL;
	rc = rec_begin(w, ML_REC_STACK, time, len);
	if (rc)
		return rc;
	w_u32(w, s->id);
	w_u32(w, s->flags);
	w_u32(w, s->n);
	w_u32(w, 0);
	for (u32 i = 0; i < s->n; i++)
		w_u64(w, s->pcs[i]);
	return rec_end(w, len);
}

int rec_put_frame(struct rec_writer *w, u64 time, const struct ml_rec_frame *f)
{
	const struct ml_frame *fr = &f->f;
	u64 len = 8 + 4 + 4 + 8 + 4 + 4 + str_size(fr->symbol) +
		  str_size(fr->module) + str_size(fr->file) + str_size(fr->tier) +
		  4 + 4;
	int rc = rec_begin(w, ML_REC_FRAME, time, len);

	if (rc)
		return rc;
	w_u64(w, fr->pc);
	w_u32(w, fr->kind);
	w_u32(w, fr->line);
	w_u64(w, fr->offset);
	w_u32(w, f->return_address);
	w_u32(w, 0);
	w_str(w, fr->symbol);
	w_str(w, fr->module);
	w_str(w, fr->file);
	w_str(w, fr->tier);
	w_u32(w, f->stack_id);	/* appended: older readers ignore it */
	w_u32(w, f->frame);	/* appended too */
	return rec_end(w, len);
}

u64 rec_writer_size(const struct rec_writer *w)
{
	return w->pos;
}

int rec_put_fold(struct rec_writer *w, u64 time, const struct ml_rec_fold *f)
{
	u64 len;
	int rc;

	if ((f->ncounts && !f->counts) || (f->ndeltas && !f->deltas))
		return -EINVAL;
	if (f->ncounts > (ML_REC_MAX_SIZE / 2) / FCOUNT_ESIZE ||
	    f->ndeltas > (ML_REC_MAX_SIZE / 2) / FDELTA_ESIZE)
		return -E2BIG;
	len = 32 + 16 + (u64)f->ncounts * FCOUNT_ESIZE +
	      (u64)f->ndeltas * FDELTA_ESIZE;
	rc = rec_begin(w, ML_REC_FOLD, time, len);
	if (rc)
		return rc;
	w_u64(w, f->first_time);
	w_u64(w, f->ops);
	w_u64(w, f->start_brk);
	w_u64(w, f->brk);
	w_u32(w, (u32)f->ncounts);
	w_u32(w, FCOUNT_ESIZE);
	w_u32(w, (u32)f->ndeltas);
	w_u32(w, FDELTA_ESIZE);
	for (size_t i = 0; i < f->ncounts; i++) {
		w_u32(w, f->counts[i].stack_id);
		w_u32(w, 0);
		w_u64(w, f->counts[i].calls);
	}
	for (size_t i = 0; i < f->ndeltas; i++) {
		w_u32(w, f->deltas[i].stack_id);
		w_u32(w, 0);
		w_u64(w, f->deltas[i].tick);
		w_u64(w, (u64)f->deltas[i].delta);
	}
	return rec_end(w, len);
}

int rec_put_patch(struct rec_writer *w, u64 time, const struct ml_rec_patch *p)
{
	u64 len;
	int rc;

	if (p->n > 0 && !p->e)
		return -EINVAL;
	if (p->n > ML_PATCH_MAX)
		return -E2BIG;
	len = 24 + (u64)p->n * PATCH_ESIZE;
	rc = rec_begin(w, ML_REC_PATCH, time, len);
	if (rc)
		return rc;
	w_u64(w, p->start);
	w_u64(w, p->end);
	w_u32(w, (u32)p->n);
	w_u32(w, PATCH_ESIZE);
	for (size_t i = 0; i < p->n; i++) {
		const struct ml_region *r = &p->e[i].r;

		w_u64(w, r->start);
		w_u64(w, r->end);
		w_u32(w, r->prot);
		w_u32(w, r->flags);
		w_u32(w, r->stack_id);
		w_u32(w, r->reserve_stack_id);
		w_u64(w, r->time);
		w_u32(w, p->e[i].tid);
		w_u32(w, 0);
	}
	return rec_end(w, len);
}

int rec_put_lost(struct rec_writer *w, u64 time, u64 lost_total)
{
	int rc = rec_begin(w, ML_REC_LOST, time, 8);

	if (rc)
		return rc;
	w_u64(w, lost_total);
	return rec_end(w, 8);
}

int rec_put_resident(struct rec_writer *w, u64 time, const struct ml_rec_resident *r)
{
	u64 len;
	int rc;

	if (r->n > 0 && !r->e)
		return -EINVAL;
	if (r->n > (ML_REC_MAX_SIZE - 8) / RESIDENT_ESIZE)
		return -E2BIG;
	len = 8 + (u64)r->n * RESIDENT_ESIZE;
	rc = rec_begin(w, ML_REC_RESIDENT, time, len);
	if (rc)
		return rc;
	w_u32(w, (u32)r->n);
	w_u32(w, RESIDENT_ESIZE);
	for (size_t i = 0; i < r->n; i++) {
		w_u64(w, r->e[i].start);
		w_u64(w, r->e[i].end);
		w_u64(w, r->e[i].resident);
		w_u64(w, r->e[i].swapped);
	}
	return rec_end(w, len);
}

int rec_put_check(struct rec_writer *w, u64 time, const struct ml_rec_check *c)
{
	u64 len = 7 * 8 + 8;
	int rc = rec_begin(w, ML_REC_CHECK, time, len);

	if (rc)
		return rc;
	w_u64(w, c->kernel_pages);
	w_u64(w, c->model_pages);
	w_u64(w, c->missing_pages);
	w_u64(w, c->extra_pages);
	w_u64(w, c->prot_mismatch_pages);
	w_u64(w, c->first_missing);
	w_u64(w, c->first_extra);
	w_u32(w, c->reconciled);
	w_u32(w, 0);
	return rec_end(w, len);
}

int rec_put_end(struct rec_writer *w, u64 time, const struct ml_rec_end *e)
{
	u64 len = 4 + 4 + 3 * 8 + 4 + 4;
	int rc = rec_begin(w, ML_REC_END, time, len);

	if (rc)
		return rc;
	w_u32(w, e->stopped_by);
	w_u32(w, e->target_alive);
	w_u64(w, e->end_time);
	w_u64(w, e->events);
	w_u64(w, e->lost);
	w_u32(w, (u32)e->exit_status);
	w_u32(w, 0);
	return rec_end(w, len);
}

int rec_put_brk(struct rec_writer *w, u64 time, const struct ml_rec_brk *b)
{
	int rc = rec_begin(w, ML_REC_BRK, time, 16);

	if (rc)
		return rc;
	w_u64(w, b->start_brk);
	w_u64(w, b->brk);
	return rec_end(w, 16);
}

int rec_put_note(struct rec_writer *w, u64 time, const char *text)
{
	u64 len = str_size(text);
	int rc = rec_begin(w, ML_REC_NOTE, time, len);

	if (rc)
		return rc;
	w_str(w, text);
	return rec_end(w, len);
}

/* Size of n symbols, or 0 when they would not fit in one record. */
static u64 syms_size(const struct ml_rec_sym *e, size_t n, u64 len)
{
	for (size_t i = 0; i < n; i++) {
		len += SYM_ESIZE + str_size(e[i].name);
		if (len > ML_REC_MAX_SIZE)
			return 0;
	}
	return len;
}

static void w_syms(struct rec_writer *w, const struct ml_rec_sym *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		w_u64(w, e[i].start);
		w_u64(w, e[i].size);
		w_str(w, e[i].name);
	}
}

int rec_put_jitsyms(struct rec_writer *w, u64 time, const struct ml_rec_jitsyms *j)
{
	u64 len;
	int rc;

	if (j->n > 0 && !j->e)
		return -EINVAL;
	if (j->n > UINT32_MAX)
		return -E2BIG;
	len = syms_size(j->e, j->n, 8);
	if (!len)
		return -E2BIG;
	rc = rec_begin(w, ML_REC_JITSYMS, time, len);
	if (rc)
		return rc;
	w_u32(w, (u32)j->n);
	w_u32(w, SYM_ESIZE);
	w_syms(w, j->e, j->n);
	return rec_end(w, len);
}

int rec_put_modsyms(struct rec_writer *w, u64 time, const struct ml_rec_modsyms *m)
{
	u64 len;
	int rc;

	if (m->n > 0 && !m->e)
		return -EINVAL;
	if (m->n > UINT32_MAX)
		return -E2BIG;
	len = syms_size(m->e, m->n, 3 * 8 + 2 * 4 + str_size(m->module));
	if (!len)
		return -E2BIG;
	rc = rec_begin(w, ML_REC_MODSYMS, time, len);
	if (rc)
		return rc;
	w_u64(w, m->lo);
	w_u64(w, m->hi);
	w_u64(w, m->bias);
	w_u32(w, (u32)m->n);
	w_u32(w, SYM_ESIZE);
	w_str(w, m->module);
	w_syms(w, m->e, m->n);
	return rec_end(w, len);
}

/* ------------------------------------------------------------------ */
/* payload decoding: a cursor over one record's payload */

struct dec {
	const u8 *p;
	size_t left;
	bool bad;		/* ran past the end or met an absurd value */
};

static u32 d_u32(struct dec *d)
{
	u32 v;

	if (d->bad || d->left < 4) {
		d->bad = true;
		return 0;
	}
	v = get_le32(d->p);
	d->p += 4;
	d->left -= 4;
	return v;
}

static u64 d_u64(struct dec *d)
{
	u64 v;

	if (d->bad || d->left < 8) {
		d->bad = true;
		return 0;
	}
	v = get_le64(d->p);
	d->p += 8;
	d->left -= 8;
	return v;
}

static void d_skip(struct dec *d, u64 n)
{
	if (d->bad || d->left < n) {
		d->bad = true;
		return;
	}
	d->p += n;
	d->left -= (size_t)n;
}

/* Returns 0 (*out may be NULL for a NULL string) or -ENOMEM. */
static int d_str(struct dec *d, char **out)
{
	u32 n = d_u32(d);

	*out = NULL;
	if (d->bad || n == STR_NULL)
		return 0;
	if (n > STR_MAX || n > d->left) {
		d->bad = true;
		return 0;
	}
	*out = malloc((size_t)n + 1);
	if (!*out)
		return -ENOMEM;
	memcpy(*out, d->p, n);
	(*out)[n] = '\0';
	d->p += n;
	d->left -= n;
	return 0;
}

/* Is there room for count elements of at least min_each bytes? Checked
 * before allocating so that a damaged count cannot ask for gigabytes. */
static bool d_room(struct dec *d, u64 count, u64 min_each)
{
	if (d->bad || (min_each && count > d->left / min_each)) {
		d->bad = true;
		return false;
	}
	return true;
}

/* Each decoder returns 0, -EBADMSG (damaged payload) or -ENOMEM, and
 * leaves what it allocated for its *_release() to free either way. */

static int dec_target(struct dec *d, struct ml_rec_target *t)
{
	int rc;

	t->pid = d_u32(d);
	t->nspid = d_u32(d);
	t->launched = d_u32(d);
	t->stack_size = d_u32(d);
	t->start_time = d_u64(d);
	t->start_realtime = d_u64(d);
	rc = d_str(d, &t->command);
	if (!rc)
		rc = d_str(d, &t->comm);
	return rc ? rc : d->bad ? -EBADMSG : 0;
}

static void target_release(struct ml_rec_target *t)
{
	free(t->command);
	free(t->comm);
}

static int dec_maps(struct dec *d, struct ml_rec_maps *m)
{
	u32 n, esize;

	m->purpose = d_u32(d);
	n = d_u32(d);
	esize = d_u32(d);
	d_u32(d);
	if (esize < MAPS_ESIZE)
		d->bad = true;
	/* each entry: esize fixed bytes and at least a string length */
	if (!d_room(d, n, (u64)esize + 4))
		return -EBADMSG;
	if (n > 0) {
		m->e = calloc(n, sizeof(*m->e));
		if (!m->e)
			return -ENOMEM;
	}
	for (u32 i = 0; i < n; i++) {
		struct maps_entry *e = &m->e[i];
		int rc;

		e->start = d_u64(d);
		e->end = d_u64(d);
		e->offset = d_u64(d);
		e->inode = d_u64(d);
		e->prot = d_u32(d);
		e->shared = d_u32(d);
		e->dev_major = d_u32(d);
		e->dev_minor = d_u32(d);
		d_skip(d, esize - MAPS_ESIZE);
		rc = d_str(d, &e->path);
		m->n = i + 1;	/* so that release frees this path too */
		if (rc)
			return rc;
		if (d->bad)
			return -EBADMSG;
	}
	return d->bad ? -EBADMSG : 0;
}

static void maps_release(struct ml_rec_maps *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->e[i].path);
	free(m->e);
}

static int dec_op(struct dec *d, struct ml_op *op)
{
	u32 mask;
	u64 vals[OP_NVALS] = { 0 };

	op->kind = d_u32(d);
	op->stack_id = d_u32(d);
	op->tid = d_u32(d);
	op->flags = d_u32(d);
	mask = d_u32(d);
	/* values of bits we do not know follow ours: ignored as a tail */
	for (int i = 0; i < OP_NVALS; i++)
		if (mask & (1u << i))
			vals[i] = d_u64(d);
	for (int i = 0; i < 6; i++)
		op->args[i] = vals[i];
	op->ret = (s64)vals[6];
	op->aux = vals[7];
	return d->bad ? -EBADMSG : 0;
}

static int dec_stack(struct dec *d, struct ml_rec_stack *s)
{
	s->id = d_u32(d);
	s->flags = d_u32(d);
	s->n = d_u32(d);
	d_u32(d);
	if (!d_room(d, s->n, 8)) {
		s->n = 0;
		return -EBADMSG;
	}
	if (s->n > 0) {
		s->pcs = malloc((size_t)s->n * sizeof(*s->pcs));
		if (!s->pcs)
			return -ENOMEM;
	}
	for (u32 i = 0; i < s->n; i++)
		s->pcs[i] = d_u64(d);
	return d->bad ? -EBADMSG : 0;
}

static int dec_frame(struct dec *d, struct ml_rec_frame *f)
{
	struct ml_frame *fr = &f->f;
	int rc;

	fr->pc = d_u64(d);
	fr->kind = d_u32(d);
	fr->line = d_u32(d);
	fr->offset = d_u64(d);
	f->return_address = d_u32(d);
	d_u32(d);
	rc = d_str(d, &fr->symbol);
	if (!rc)
		rc = d_str(d, &fr->module);
	if (!rc)
		rc = d_str(d, &fr->file);
	if (!rc)
		rc = d_str(d, &fr->tier);
	/* Appended field: absent in older recordings (0, any stack). */
	if (!rc && !d->bad && d->left >= 4)
		f->stack_id = d_u32(d);
	if (!rc && !d->bad && d->left >= 4)
		f->frame = d_u32(d);
	return rc ? rc : d->bad ? -EBADMSG : 0;
}

static void frame_release(struct ml_rec_frame *f)
{
	free(f->f.symbol);
	free(f->f.module);
	free(f->f.file);
	free(f->f.tier);
}

static int dec_resident(struct dec *d, struct ml_rec_resident *r)
{
	u32 n = d_u32(d);
	u32 esize = d_u32(d);

	if (esize < RESIDENT_ESIZE)
		d->bad = true;
	if (!d_room(d, n, esize))
		return -EBADMSG;
	if (n > 0) {
		r->e = calloc(n, sizeof(*r->e));
		if (!r->e)
			return -ENOMEM;
	}
	r->n = n;
	for (u32 i = 0; i < n; i++) {
		r->e[i].start = d_u64(d);
		r->e[i].end = d_u64(d);
		r->e[i].resident = d_u64(d);
		r->e[i].swapped = d_u64(d);
		d_skip(d, esize - RESIDENT_ESIZE);
	}
	return d->bad ? -EBADMSG : 0;
}

/* n symbols of esize fixed bytes and a name each; *out and *nout are
 * set as far as decoded, for syms_release(). */
static int dec_syms(struct dec *d, u32 n, u32 esize, struct ml_rec_sym **out,
		    size_t *nout)
{
	if (esize < SYM_ESIZE)
		d->bad = true;
	if (!d_room(d, n, (u64)esize + 4))
		return -EBADMSG;
	if (n > 0) {
		*out = calloc(n, sizeof(**out));
		if (!*out)
			return -ENOMEM;
	}
	for (u32 i = 0; i < n; i++) {
		struct ml_rec_sym *e = &(*out)[i];
		int rc;

		e->start = d_u64(d);
		e->size = d_u64(d);
		d_skip(d, esize - SYM_ESIZE);
		rc = d_str(d, &e->name);
		*nout = i + 1;
		if (rc)
			return rc;
		if (d->bad)
			return -EBADMSG;
	}
	return d->bad ? -EBADMSG : 0;
}

static void syms_release(struct ml_rec_sym *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(e[i].name);
	free(e);
}

static int dec_jitsyms(struct dec *d, struct ml_rec_jitsyms *j)
{
	u32 n = d_u32(d);
	u32 esize = d_u32(d);

	return dec_syms(d, n, esize, &j->e, &j->n);
}

static int dec_modsyms(struct dec *d, struct ml_rec_modsyms *m)
{
	u32 n, esize;
	int rc;

	m->lo = d_u64(d);
	m->hi = d_u64(d);
	m->bias = d_u64(d);
	n = d_u32(d);
	esize = d_u32(d);
	rc = d_str(d, &m->module);
	if (rc)
		return rc;
	return dec_syms(d, n, esize, &m->e, &m->n);
}

static int dec_check(struct dec *d, struct ml_rec_check *c)
{
	c->kernel_pages = d_u64(d);
	c->model_pages = d_u64(d);
	c->missing_pages = d_u64(d);
	c->extra_pages = d_u64(d);
	c->prot_mismatch_pages = d_u64(d);
	c->first_missing = d_u64(d);
	c->first_extra = d_u64(d);
	c->reconciled = d_u32(d);
	return d->bad ? -EBADMSG : 0;
}

static int dec_end(struct dec *d, struct ml_rec_end *e)
{
	e->stopped_by = d_u32(d);
	e->target_alive = d_u32(d);
	e->end_time = d_u64(d);
	e->events = d_u64(d);
	e->lost = d_u64(d);
	e->exit_status = (s32)d_u32(d);
	return d->bad ? -EBADMSG : 0;
}

static int dec_fold(struct dec *d, struct ml_rec_fold *f)
{
	u32 nc, ce, nd, de;

	f->first_time = d_u64(d);
	f->ops = d_u64(d);
	f->start_brk = d_u64(d);
	f->brk = d_u64(d);
	nc = d_u32(d);
	ce = d_u32(d);
	nd = d_u32(d);
	de = d_u32(d);
	if (ce < FCOUNT_ESIZE || de < FDELTA_ESIZE)
		d->bad = true;
	if (!d_room(d, nc, ce))
		return -EBADMSG;
	if (nc) {
		f->counts = calloc(nc, sizeof(*f->counts));
		if (!f->counts)
			return -ENOMEM;
	}
	f->ncounts = nc;
	for (u32 i = 0; i < nc; i++) {
		f->counts[i].stack_id = d_u32(d);
		d_u32(d);
		f->counts[i].calls = d_u64(d);
		d_skip(d, ce - FCOUNT_ESIZE);
	}
	if (!d_room(d, nd, de))
		return -EBADMSG;
	if (nd) {
		f->deltas = calloc(nd, sizeof(*f->deltas));
		if (!f->deltas)
			return -ENOMEM;
	}
	f->ndeltas = nd;
	for (u32 i = 0; i < nd; i++) {
		f->deltas[i].stack_id = d_u32(d);
		d_u32(d);
		f->deltas[i].tick = d_u64(d);
		f->deltas[i].delta = (s64)d_u64(d);
		d_skip(d, de - FDELTA_ESIZE);
	}
	return d->bad ? -EBADMSG : 0;
}

static int dec_patch(struct dec *d, struct ml_rec_patch *p)
{
	u32 n, esize;

	p->start = d_u64(d);
	p->end = d_u64(d);
	n = d_u32(d);
	esize = d_u32(d);
	if (esize < PATCH_ESIZE || p->end < p->start)
		d->bad = true;
	if (!d_room(d, n, esize))
		return -EBADMSG;
	if (n) {
		p->e = calloc(n, sizeof(*p->e));
		if (!p->e)
			return -ENOMEM;
	}
	p->n = n;
	for (u32 i = 0; i < n; i++) {
		struct ml_region *r = &p->e[i].r;

		r->start = d_u64(d);
		r->end = d_u64(d);
		r->prot = d_u32(d);
		r->flags = d_u32(d);
		r->stack_id = d_u32(d);
		r->reserve_stack_id = d_u32(d);
		r->time = d_u64(d);
		p->e[i].tid = d_u32(d);
		d_u32(d);
		d_skip(d, esize - PATCH_ESIZE);
	}
	return d->bad ? -EBADMSG : 0;
}

/*
 * Decodes one payload and calls the visitor. Returns 0 to go on (the
 * record was accepted, skipped or damaged, as counted in st), or a value
 * that stops reading: -ENOMEM or the visitor's non-zero return.
 */
static int dispatch(u32 type, u64 time, const u8 *payload, size_t len,
		    const struct rec_visitor *v, void *ctx,
		    struct rec_read_status *st)
{
	struct dec d = { .p = payload, .left = len };
	int rc, ret = 0;

#define VISIT(cb, ...) do {						\
	if (rc == 0) {							\
		st->records++;						\
		if (v->cb)						\
			ret = v->cb(ctx, __VA_ARGS__);			\
	}								\
} while (0)

	switch (type) {
	case ML_REC_TARGET: {
		struct ml_rec_target t = { 0 };

		rc = dec_target(&d, &t);
		VISIT(target, time, &t);
		target_release(&t);
		break;
	}
	case ML_REC_MAPS: {
		struct ml_rec_maps m = { 0 };

		rc = dec_maps(&d, &m);
		VISIT(maps, time, &m);
		maps_release(&m);
		break;
	}
	case ML_REC_OP: {
		struct ml_op op = { .time = time };

		rc = dec_op(&d, &op);
		VISIT(op, &op);
		break;
	}
	case ML_REC_STACK: {
		struct ml_rec_stack s = { 0 };

		rc = dec_stack(&d, &s);
		VISIT(stack, time, &s);
		free(s.pcs);
		break;
	}
	case ML_REC_FRAME: {
		struct ml_rec_frame f = { 0 };

		rc = dec_frame(&d, &f);
		VISIT(frame, time, &f);
		frame_release(&f);
		break;
	}
	case ML_REC_LOST: {
		u64 lost = d_u64(&d);

		rc = d.bad ? -EBADMSG : 0;
		VISIT(lost, time, lost);
		break;
	}
	case ML_REC_RESIDENT: {
		struct ml_rec_resident r = { 0 };

		rc = dec_resident(&d, &r);
		VISIT(resident, time, &r);
		free(r.e);
		break;
	}
	case ML_REC_CHECK: {
		struct ml_rec_check c = { 0 };

		rc = dec_check(&d, &c);
		VISIT(check, time, &c);
		break;
	}
	case ML_REC_END: {
		struct ml_rec_end e = { 0 };

		rc = dec_end(&d, &e);
		VISIT(end, time, &e);
		break;
	}
	case ML_REC_BRK: {
		struct ml_rec_brk b;

		b.start_brk = d_u64(&d);
		b.brk = d_u64(&d);
		rc = d.bad ? -EBADMSG : 0;
		VISIT(brk, time, &b);
		break;
	}
	case ML_REC_NOTE: {
		char *text;

		rc = d_str(&d, &text);
		if (!rc && d.bad)
			rc = -EBADMSG;
		VISIT(note, time, text);
		free(text);
		break;
	}
	case ML_REC_JITSYMS: {
		struct ml_rec_jitsyms j = { 0 };

		rc = dec_jitsyms(&d, &j);
		VISIT(jitsyms, time, &j);
		syms_release(j.e, j.n);
		break;
	}
	case ML_REC_MODSYMS: {
		struct ml_rec_modsyms m = { 0 };

		rc = dec_modsyms(&d, &m);
		VISIT(modsyms, time, &m);
		free(m.module);
		syms_release(m.e, m.n);
		break;
	}
	case ML_REC_FOLD: {
		struct ml_rec_fold f = { 0 };

		rc = dec_fold(&d, &f);
		VISIT(fold, time, &f);
		free(f.counts);
		free(f.deltas);
		break;
	}
	case ML_REC_PATCH: {
		struct ml_rec_patch pa = { 0 };

		rc = dec_patch(&d, &pa);
		VISIT(patch, time, &pa);
		free(pa.e);
		break;
	}
	default:
		st->skipped_unknown++;
		return 0;
	}
#undef VISIT

	if (rc == -EBADMSG) {
		st->bad_records++;
		return 0;
	}
	return rc ? rc : ret;
}

/* ------------------------------------------------------------------ */
/* reading: the same loop over a file or a memory buffer */

struct src {
	const u8 *mem;		/* memory mode */
	size_t mem_len, pos;
	FILE *f;		/* file mode */
	u8 *buf;
	size_t cap;
};

/*
 * Makes up to n next bytes available at *out and consumes them. Returns
 * how many (fewer than n at the end of the input) or -errno. The file
 * buffer grows only with what actually arrives, so a damaged size cannot
 * make us allocate more than the file holds.
 */
static ssize_t src_get(struct src *s, size_t n, const u8 **out)
{
	size_t got = 0;

	if (s->mem) {
		size_t k = s->mem_len - s->pos < n ? s->mem_len - s->pos : n;

		*out = s->mem + s->pos;
		s->pos += k;
		return (ssize_t)k;
	}
	errno = 0;
	while (got < n) {
		size_t want = n - got < RCHUNK ? n - got : RCHUNK;
		size_t r;

		if (ML_VEC_GROW(s->buf, s->cap, got + want))
			return -ENOMEM;
		r = fread(s->buf + got, 1, want, s->f);
		got += r;
		if (r < want) {
			if (ferror(s->f))
				return ml_neg_errno();
			break;
		}
	}
	*out = s->buf;
	return (ssize_t)got;
}

/* Consumes n bytes without keeping them. Returns how many, or -errno. */
static ssize_t src_skip(struct src *s, size_t n)
{
	size_t done = 0;

	if (s->mem) {
		const u8 *p;

		return src_get(s, n, &p);
	}
	while (done < n) {
		const u8 *p;
		size_t want = n - done < RCHUNK ? n - done : RCHUNK;
		ssize_t r = src_get(s, want, &p);

		if (r < 0)
			return r;
		done += (size_t)r;
		if ((size_t)r < want)
			break;
	}
	return (ssize_t)done;
}

static int read_all(struct src *s, const struct rec_visitor *v, void *ctx,
		    struct rec_read_status *st)
{
	static const struct rec_visitor none;
	const u8 *p;
	ssize_t r;
	u32 hsize;
	u64 off;

	memset(st, 0, sizeof(*st));
	if (!v)
		v = &none;

	r = src_get(s, HDR_SIZE, &p);
	if (r < 0)
		return (int)r;
	if (r < (ssize_t)HDR_SIZE || memcmp(p, ML_REC_MAGIC, 8) != 0)
		return -EBADMSG;
	hsize = get_le32(p + 12);
	if (get_le32(p + 8) != ML_REC_VERSION || hsize < HDR_SIZE ||
	    hsize > HDR_MAX || hsize % 8 != 0)
		return -EBADMSG;
	/* flags and reserved carry nothing a version 1 reader must know */
	r = src_skip(s, hsize - HDR_SIZE);
	if (r < 0)
		return (int)r;
	if ((size_t)r < hsize - HDR_SIZE)
		return -EBADMSG;
	off = hsize;
	st->good_bytes = off;

	for (;;) {
		u32 type, size;
		u64 time;
		int rc;

		r = src_get(s, PREFIX_SIZE, &p);
		if (r < 0)
			return (int)r;
		if (r == 0)
			return 0;	/* clean end between records */
		if (r < (ssize_t)PREFIX_SIZE) {
			st->truncated = 1;
			return -ENODATA;
		}
		type = get_le32(p);
		size = get_le32(p + 4);
		time = get_le64(p + 8);
		/* a damaged size loses the next record's position: stop */
		if (size < PREFIX_SIZE || size % 8 != 0 || size > ML_REC_MAX_SIZE)
			return -ENODATA;

		if (type < ML_REC_TARGET || type > ML_REC_PATCH) {
			r = src_skip(s, size - PREFIX_SIZE);
			if (r < 0)
				return (int)r;
			if ((size_t)r < size - PREFIX_SIZE) {
				st->truncated = 1;
				return -ENODATA;
			}
			st->skipped_unknown++;
		} else {
			r = src_get(s, size - PREFIX_SIZE, &p);
			if (r < 0)
				return (int)r;
			if ((size_t)r < size - PREFIX_SIZE) {
				st->truncated = 1;
				return -ENODATA;
			}
			rc = dispatch(type, time, p, size - PREFIX_SIZE, v, ctx, st);
			if (rc)
				return rc;
		}
		off += size;
		st->good_bytes = off;
	}
}

int rec_read_mem(const void *buf, size_t len, const struct rec_visitor *v,
		 void *ctx, struct rec_read_status *st)
{
	/* a non-NULL pointer selects memory mode even for an empty buffer */
	static const u8 empty;
	struct src s = { .mem = buf ? buf : &empty, .mem_len = buf ? len : 0 };
	struct rec_read_status dummy;

	return read_all(&s, v, ctx, st ? st : &dummy);
}

int rec_read(const char *path, const struct rec_visitor *v, void *ctx,
	     struct rec_read_status *st)
{
	struct rec_read_status dummy;
	struct src s = { 0 };
	int rc;

	s.f = fopen(path, "rbe");
	if (!s.f)
		return -errno;
	rc = read_all(&s, v, ctx, st ? st : &dummy);
	free(s.buf);
	fclose(s.f);
	return rc;
}
