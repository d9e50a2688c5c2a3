/* SPDX-License-Identifier: MIT */
/*
 * /proc/PID/maps parser. The text comes from outside (a live kernel, a
 * fixture, a fuzzer): every field is bounded, and a line that does not fit
 * the format is skipped and counted instead of failing the whole parse.
 *
 *   start-end perms offset major:minor inode   path
 *   7f1c2a000000-7f1c2a021000 rw-p 00000000 00:00 0    [heap]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util.h"
#include "track/procmaps.h"
#include "util/vec.h"

/* PATH_MAX plus " (deleted)" and escapes; a longer path is not the kernel's. */
#define PM_MAX_PATH 8192
/* The largest maps file we are willing to hold (65530 maps x ~4 KiB lines). */
#define PM_MAX_FILE (512u << 20)

struct cursor {
	const char *p;
	const char *end;
};

/* At most maxdigits hex digits; rejects an empty field. */
static bool take_hex(struct cursor *c, unsigned maxdigits, u64 *out)
{
	u64 v = 0;
	unsigned nd = 0;
	int d;

	while (c->p < c->end && (d = ml_hexval(*c->p)) >= 0) {
		if (++nd > maxdigits)
			return false;
		v = (v << 4) | (u64)d;
		c->p++;
	}
	*out = v;
	return nd > 0;
}

static bool take_dec(struct cursor *c, u64 *out)
{
	u64 v = 0;
	unsigned nd = 0;

	while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
		unsigned d = (unsigned)(*c->p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
		nd++;
		c->p++;
	}
	*out = v;
	return nd > 0;
}

static bool take_char(struct cursor *c, char ch)
{
	if (c->p >= c->end || *c->p != ch)
		return false;
	c->p++;
	return true;
}

/* One or more blanks between fields. */
static bool take_blanks(struct cursor *c)
{
	const char *s = c->p;

	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
		c->p++;
	return c->p > s;
}

static bool take_perms(struct cursor *c, u32 *prot, u32 *shared)
{
	const char *s = c->p;

	if (c->end - s < 4)
		return false;
	if ((s[0] != 'r' && s[0] != '-') || (s[1] != 'w' && s[1] != '-') ||
	    (s[2] != 'x' && s[2] != '-') || (s[3] != 's' && s[3] != 'p'))
		return false;
	*prot = (s[0] == 'r' ? PROT_READ : 0) | (s[1] == 'w' ? PROT_WRITE : 0) |
		(s[2] == 'x' ? PROT_EXEC : 0);
	*shared = s[3] == 's';
	c->p += 4;
	return true;
}

/*
 * Parses one line (without its newline). Returns 1 with *e filled (path
 * allocated), 0 for a malformed line, -ENOMEM.
 */
static int parse_line(const char *s, size_t len, struct maps_entry *e)
{
	struct cursor c = { s, s + len };
	u64 major, minor;
	const char *path;
	size_t plen;

	memset(e, 0, sizeof(*e));
	if (memchr(s, '\0', len))
		return 0;
	if (!take_hex(&c, 16, &e->start) || !take_char(&c, '-') ||
	    !take_hex(&c, 16, &e->end) || !take_blanks(&c) ||
	    !take_perms(&c, &e->prot, &e->shared) || !take_blanks(&c) ||
	    !take_hex(&c, 16, &e->offset) || !take_blanks(&c) ||
	    !take_hex(&c, 8, &major) || !take_char(&c, ':') ||
	    !take_hex(&c, 8, &minor) || !take_blanks(&c) ||
	    !take_dec(&c, &e->inode))
		return 0;
	if (e->start >= e->end)
		return 0;
	e->dev_major = (u32)major;
	e->dev_minor = (u32)minor;

	/* The path is everything after the padding, spaces included. */
	if (c.p < c.end && !take_blanks(&c))
		return 0;
	path = c.p;
	plen = (size_t)(c.end - c.p);
	if (plen > PM_MAX_PATH)
		return 0;
	if (plen > 0) {
		e->path = strndup(path, plen);
		if (!e->path)
			return -ENOMEM;
	}
	return 1;
}

int procmaps_parse(const char *buf, size_t len, struct maps_entry **out,
		   size_t *n, size_t *bad)
{
	struct maps_entry *v = NULL;
	size_t cnt = 0, cap = 0, nbad = 0;
	const char *p = buf, *end = buf ? buf + len : buf;
	int ret = 0;

	*out = NULL;
	*n = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct maps_entry e;
		int r;

		/* Blank lines carry nothing and are not an error. */
		if (ll == 0)
			goto next;
		r = parse_line(p, ll, &e);
		if (r < 0) {
			ret = r;
			goto fail;
		}
		if (r == 0) {
			nbad++;
			goto next;
		}
		if (ML_VEC_GROW(v, cap, cnt + 1)) {
			free(e.path);
			ret = -ENOMEM;
			goto fail;
		}
		v[cnt++] = e;
next:
		p = nl ? nl + 1 : end;
	}
	*out = v;
	*n = cnt;
	if (bad)
		*bad = nbad;
	return 0;
fail:
	procmaps_free(v, cnt);
	return ret;
}

void procmaps_free(struct maps_entry *e, size_t n)
{
	if (!e)
		return;
	for (size_t i = 0; i < n; i++)
		free(e[i].path);
	free(e);
}

/* maps of an open /proc/PID (AT_FDCWD: of the path given). */
static int read_maps(int dirfd, const char *name, struct maps_entry **out,
		     size_t *n)
{
	char *buf = NULL;
	size_t len = 0;
	int fd, ret;

	*out = NULL;
	*n = 0;
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = ml_read_fd(fd, PM_MAX_FILE, false, &buf, &len);
	close(fd);
	if (ret < 0)
		return ret;
	ret = procmaps_parse(buf, len, out, n, NULL);
	free(buf);
	return ret;
}

int procmaps_read(pid_t pid, struct maps_entry **out, size_t *n)
{
	char path[64];

	if (pid > 0)
		snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/maps");
	return read_maps(AT_FDCWD, path, out, n);
}

int procmaps_read_at(int procfd, struct maps_entry **out, size_t *n)
{
	return read_maps(procfd, "maps", out, n);
}
