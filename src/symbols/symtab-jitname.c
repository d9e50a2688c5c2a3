/* SPDX-License-Identifier: MIT */
/*
 * Names of JIT code from perf-map names (.NET, HotSpot, V8): pure string
 * work on a name and a start, no target. Moved out of symtab.c so that
 * the other symtab files (symtab-r2r.c) reach it without calling back
 * into symtab.c.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/runtimes.h"
#include "symbols/symtab-int.h"

static int set_str(char **dst, const char *s, size_t n)
{
	*dst = strndup(s, n);
	return *dst ? 0 : -ENOMEM;
}

/* "stub<N> Kind<...>" (.NET <= 9) or "stub Kind<...>" (.NET 10). */
static bool is_dotnet_stub(const char *name)
{
	const char *p = name + 4;

	if (!has_prefix(name, "stub"))
		return false;
	if (*p == '<') {
		if (!isdigit((unsigned char)*++p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
		if (*p++ != '>')
			return false;
	}
	return *p == ' ';
}

/*
 * "[instance ]RET [Assembly] Ns.Type::Method(args)[Tier]": symbol is
 * "Ns.Type::Method(args)", module the assembly, tier the tier. False when
 * the name does not have that shape (Java, Node...).
 */
static bool split_dotnet(const char *name, struct ml_frame *f, int *err)
{
	const char *asm_open = strstr(name, " [");
	const char *asm_close, *sym, *end, *tier = NULL;

	if (!asm_open || asm_open == name)
		return false;
	asm_close = strchr(asm_open + 2, ']');
	if (!asm_close || asm_close == asm_open + 2 || asm_close[1] != ' ' ||
	    memchr(asm_open + 2, '[', (size_t)(asm_close - asm_open - 2)))
		return false;
	sym = asm_close + 2;
	if (!strstr(sym, "::"))
		return false;
	end = sym + strlen(sym);
	if (end > sym && end[-1] == ']') {
		const char *t = end - 1;

		while (t > sym && t[-1] != '[')
			t--;
		/* A tier is a plain word after the argument list. */
		if (t > sym + 1 && t[-2] == ')' && t < end - 1) {
			bool word = true;

			for (const char *q = t; q < end - 1 && word; q++)
				word = isalnum((unsigned char)*q) || *q == '-';
			if (word) {
				tier = t;
				end = t - 1;
			}
		}
	}
	*err = set_str(&f->symbol, sym, (size_t)(end - sym));
	if (!*err)
		*err = set_str(&f->module, asm_open + 2,
			       (size_t)(asm_close - asm_open - 2));
	if (!*err && tier)
		*err = set_str(&f->tier, tier, strlen(tier) - 1);
	return true;
}

int st_name_jit(const struct perfmap_entry *e, u64 pc, struct ml_frame *f)
{
	const char *name = e->name;
	int err = 0;

	f->offset = pc - e->start;
	if (is_dotnet_stub(name)) {
		f->kind = ML_FK_STUB;
		if (set_str(&f->symbol, name, strlen(name)) < 0 ||
		    set_str(&f->module, "[jit]", 5) < 0)
			return -ENOMEM;
		return 0;
	}
	f->kind = ML_FK_JIT;
	if (split_dotnet(name, f, &err))
		return err;
	/* HotSpot and V8 names, made readable (symbols/runtimes.c). */
	err = runtimes_name_jit(name, f);
	if (err < 0)
		return err;
	if (err > 0)
		return set_str(&f->module, "[jit]", 5);
	if (set_str(&f->symbol, name, strlen(name)) < 0 ||
	    set_str(&f->module, "[jit]", 5) < 0)
		return -ENOMEM;
	return 0;
}

int symtab_name_jit(const char *name, u64 start, u64 pc, struct ml_frame *out)
{
	struct perfmap_entry e = { .start = start, .name = (char *)name };

	memset(out, 0, sizeof(*out));
	out->pc = pc;
	if (st_name_jit(&e, pc, out) < 0) {
		ml_frame_release(out);
		return -ENOMEM;
	}
	return 0;
}
