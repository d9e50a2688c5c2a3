/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

int ml_read_fd(int fd, size_t max, bool truncate, char **out, size_t *len)
{
	size_t cap = max < 4096 ? max : 4096, n = 0;
	char *buf = malloc(cap + 1), *nb;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t r;

		if (n == cap) {
			if (cap >= max) {
				if (truncate)
					break;
				free(buf);
				return -EFBIG;
			}
			cap = cap * 2 < max ? cap * 2 : max;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = errno;

			free(buf);
			return -err;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*out = buf;
	if (len)
		*len = n;
	return 0;
}

char *ml_read_file(const char *path, size_t max, size_t *len)
{
	char *buf = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (ml_read_fd(fd, max, true, &buf, len))
		buf = NULL;
	close(fd);
	return buf;
}

int ml_parse_pid(const char *s, pid_t *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > INT_MAX)
		return -EINVAL;
	*out = (pid_t)v;
	return 0;
}

u64 ml_now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (u64)ts.tv_sec * 1000000000ull + (u64)ts.tv_nsec;
}

int ml_parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "KMGTP";
	unsigned long long v;
	const char *u;
	char *end;
	int shift = 0;

	errno = 0;
	if (!s || !(*s >= '0' && *s <= '9'))
		return -EINVAL;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	if (*end && (u = strchr(units, *end & ~0x20))) {
		shift = 10 * (int)(u - units + 1);
		end++;
		if (end[0] == 'i' && end[1] == 'B')
			end += 2;
		else if (end[0] == 'B' || end[0] == 'b')
			end++;
	} else if (*end == 'B' || *end == 'b') {
		end++;
	}
	if (*end)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

/*
 * How many bytes at p pass unescaped: 1 for printable ASCII, 2 to 4 for
 * a well-formed UTF-8 sequence (shortest form, no surrogate, at most
 * U+10FFFF) that is not a C1 control; 0 when *p must be escaped.
 */
static size_t safe_len(const unsigned char *p)
{
	unsigned int c = p[0], cp, min;
	size_t n;

	if (c >= 0x20 && c < 0x7f)
		return c == '\\' ? 0 : 1;
	if (c < 0xc2 || c > 0xf4)
		return 0;
	if (c < 0xe0) {
		n = 2, cp = c & 0x1f, min = 0x80;
	} else if (c < 0xf0) {
		n = 3, cp = c & 0x0f, min = 0x800;
	} else {
		n = 4, cp = c & 0x07, min = 0x10000;
	}
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)	/* also stops at the NUL */
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
	    (cp >= 0x80 && cp <= 0x9f))
		return 0;
	return n;
}

/* The one escaping loop: calls put for each run of output bytes. */
static int esc_walk(const char *s, int (*put)(void *ctx, const char *b, size_t n),
		    void *ctx)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;

	while (p && *p) {
		size_t n = 0, k;
		char e[4] = { '\\', 'x', 0, 0 };

		while (p[n] && (k = safe_len(p + n)) > 0)
			n += k;
		if (n && put(ctx, (const char *)p, n))
			return EOF;
		p += n;
		if (!*p)
			break;
		if (*p == '\\') {
			if (put(ctx, "\\\\", 2))
				return EOF;
		} else {
			e[2] = hex[*p >> 4];
			e[3] = hex[*p & 15];
			if (put(ctx, e, 4))
				return EOF;
		}
		p++;
	}
	return 0;
}

static int put_file(void *ctx, const char *b, size_t n)
{
	return fwrite(b, 1, n, ctx) == n ? 0 : EOF;
}

int ml_fputs_esc(const char *s, FILE *f)
{
	return esc_walk(s, put_file, f);
}

struct esc_buf {
	char *p;
	size_t n;
};

static int put_buf(void *ctx, const char *b, size_t n)
{
	struct esc_buf *eb = ctx;

	memcpy(eb->p + eb->n, b, n);
	eb->n += n;
	return 0;
}

char *ml_esc(const char *s)
{
	/* at most 4 output bytes per input byte */
	struct esc_buf eb = { malloc(4 * strlen(s ? s : "") + 1), 0 };

	if (!eb.p)
		return NULL;
	esc_walk(s, put_buf, &eb);
	eb.p[eb.n] = '\0';
	return eb.p;
}
