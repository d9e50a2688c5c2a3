/* SPDX-License-Identifier: MIT */
/*
 * Readable names for HotSpot and V8 perf-map entries. See runtimes.h;
 * what mapleak does so that those runtimes write them is src/runtime/.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/runtimes.h"
#include "util.h"

static bool has_suffix_n(const char *s, size_t n, const char *suf)
{
	size_t m = strlen(suf);

	return n >= m && memcmp(s + n - m, suf, m) == 0;
}

/* ---- names ---- */

#define RT_NAME_MAX 4096

static int set_n(char **dst, const char *s, size_t n)
{
	free(*dst);
	*dst = strndup(s, n);
	return *dst ? 0 : -ENOMEM;
}

static bool is_ident(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '$';
}

/* V8: "TYPE:[marker]NAME FILE:LINE:COL" (JS, LazyCompile, Function, Eval,
 * Script) or "TYPE:NAME" for runtime code (Builtin, Stub...). */
static int name_v8(const char *name, size_t len, struct ml_frame *f)
{
	static const char *const js[] = { "JS:", "LazyCompile:", "Function:",
					   "Eval:", "Script:" };
	static const char *const code[] = { "Builtin:", "BytecodeHandler:",
					    "Stub:", "RegExp:", "Handler:",
					    "KeyedLoadIC:", "KeyedStoreIC:",
					    "LoadIC:", "StoreIC:", "CallIC:" };
	const char *p = NULL, *sp, *end = name + len, *tier = NULL;
	const char *file, *fe, *c1 = NULL, *c2 = NULL;
	size_t nlen;

	for (size_t i = 0; i < ARRAY_SIZE(js) && !p; i++)
		if (!strncmp(name, js[i], strlen(js[i])))
			p = name + strlen(js[i]);
	if (!p) {
		for (size_t i = 0; i < ARRAY_SIZE(code); i++)
			if (!strncmp(name, code[i], strlen(code[i]))) {
				f->kind = ML_FK_STUB;
				return set_n(&f->symbol, name, len) ? -ENOMEM : 1;
			}
		return 0;
	}
	switch (*p) {
	case '*': tier = "optimized"; break;	/* TurboFan */
	case '+': tier = "maglev"; break;
	case '^': tier = "baseline"; break;	/* Sparkplug */
	case '~': tier = "interpreted"; break;	/* Ignition */
	}
	if (tier)
		p++;
	sp = memchr(p, ' ', (size_t)(end - p));
	nlen = sp ? (size_t)(sp - p) : (size_t)(end - p);
	f->kind = ML_FK_JIT;
	if (nlen == 0 ? set_n(&f->symbol, "(anonymous)", 11) : set_n(&f->symbol, p, nlen))
		return -ENOMEM;
	if (tier && set_n(&f->tier, tier, strlen(tier)))
		return -ENOMEM;
	if (!sp)
		return 1;
	/* "FILE:LINE:COL" or "FILE:LINE"; a file may hold ':' (node:fs). */
	file = sp + 1;
	fe = end;
	for (const char *q = end; q > file; q--) {
		if (q[-1] != ':')
			continue;
		if (!c2)
			c2 = q - 1;
		else if (!c1) {
			c1 = q - 1;
			break;
		}
	}
	if (c1 && c2) {
		bool digits = c1 + 1 < c2 && c2 + 1 < end;

		for (const char *q = c1 + 1; q < end && digits; q++)
			digits = q == c2 || isdigit((unsigned char)*q);
		if (digits) {
			long l = strtol(c1 + 1, NULL, 10);

			if (l > 0 && l < INT32_MAX)
				f->line = (u32)l;
			fe = c1;
		}
	}
	if (fe > file && set_n(&f->file, file, (size_t)(fe - file)))
		return -ENOMEM;
	return 1;
}

/* "Lcom/foo/Bar;::method" (perf-map-agent, older tools). */
static int name_jvm_sig(const char *name, size_t len, struct ml_frame *f)
{
	const char *semi = memchr(name, ';', len);
	char *s;

	if (len < 5 || name[0] != 'L' || !semi || semi[1] != ':' ||
	    semi[2] != ':')
		return 0;
	for (const char *q = name + 1; q < semi; q++)
		if (!is_ident(*q) && *q != '/')
			return 0;
	s = strndup(name + 1, len - 1);
	if (!s)
		return -ENOMEM;
	for (char *q = s; *q && q < s + (semi - name - 1); q++)
		if (*q == '/')
			*q = '.';
	/* drop the ';' */
	memmove(s + (semi - name - 1), s + (semi - name), strlen(s + (semi - name)) + 1);
	free(f->symbol);
	f->symbol = s;
	f->kind = ML_FK_JIT;
	return 1;
}

/* HotSpot 17+: "RET pkg.Class.method(ARGS)"; RET has no space. */
static int name_hotspot(const char *name, size_t len, struct ml_frame *f)
{
	const char *open = memchr(name, '(', len), *sp, *dot = NULL;

	static const char *const stubs[] = { "I2C/C2I adapters", "vtable chunks",
					     "itable chunks",
					     "native signature handlers" };

	if (len == 11 && !memcmp(name, "Interpreter", 11)) {
		f->kind = ML_FK_STUB;
		return set_n(&f->symbol, "[interpreted Java]", 18) ? -ENOMEM : 1;
	}
	/* HotSpot's generated code that is no Java method. */
	for (size_t i = 0; i < ARRAY_SIZE(stubs); i++)
		if (!strcmp(name, stubs[i]))
			goto stub;
	if (!strncmp(name, "StubRoutines (", 14) ||
	    has_suffix_n(name, len, " Runtime1 stub") ||
	    has_suffix_n(name, len, "Blob"))
		goto stub;
	if (!open || name[len - 1] != ')')
		return 0;
	sp = memchr(name, ' ', (size_t)(open - name));
	if (!sp || sp == name)
		return 0;
	/* The return type: a Java type name, maybe an array. */
	for (const char *q = name; q < sp; q++)
		if (!is_ident(*q) && *q != '.' && *q != '[' && *q != ']')
			return 0;
	for (const char *q = sp + 1; q < open; q++) {
		if (*q == '.')
			dot = q;
		else if (!is_ident(*q) && *q != '<' && *q != '>')
			return 0;
	}
	if (!dot || dot == sp + 1 || dot + 1 == open)
		return 0;
	f->kind = ML_FK_JIT;
	return set_n(&f->symbol, sp + 1, (size_t)(name + len - sp - 1)) ? -ENOMEM : 1;
stub:
	f->kind = ML_FK_STUB;
	return set_n(&f->symbol, name, len) ? -ENOMEM : 1;
}

int runtimes_name_jit(const char *name, struct ml_frame *f)
{
	size_t len = strnlen(name, RT_NAME_MAX);
	int r;

	if (len == 0)
		return 0;
	r = name_v8(name, len, f);
	if (r == 0)
		r = name_hotspot(name, len, f);
	if (r == 0)
		r = name_jvm_sig(name, len, f);
	return r;
}
