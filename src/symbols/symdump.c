/* SPDX-License-Identifier: MIT */
/*
 * The symbol tables a recording carries for mapleak resolve -i.
 *
 * Module symbols are saved as symtab_name() would name them: for each
 * distinct function start, the name libdwfl picks at that address (the
 * preferred alias: global over weak over local), demangled, "@VERSION"
 * dropped. Starts are ELF addresses (before the load bias), so a table
 * says what the file says and the record says where it was loaded.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libiberty/demangle.h>
/* libiberty.h defines its own ARRAY_SIZE; mapleak.h's is the same. */
#undef ARRAY_SIZE

#include "symbols/symdump.h"
#include "symbols/symtab-int.h"

struct dump {
	struct rec_writer *w;
	u64 time;
	struct symdump_stats *stats;
	u64 budget;		/* payload bytes left */
};

/* Charges one symbol to the budget; false once it is spent. */
static bool charge(struct dump *d, const char *name)
{
	u64 cost = 16 + 4 + (name ? strlen(name) : 0);

	if (cost > d->budget) {
		d->stats->cut = true;
		d->budget = 0;
		return false;
	}
	d->budget -= cost;
	d->stats->bytes += cost;
	return true;
}

/* ---- JIT names: the perf map as read, in order ---- */

static int dump_jit(struct dump *d, const struct perfmap *pm)
{
	size_t total = perfmap_count(pm), done = 0;
	struct ml_rec_sym *e;
	int rc = 0;

	if (total == 0)
		return 0;
	e = calloc(total < SYMDUMP_CHUNK ? total : SYMDUMP_CHUNK, sizeof(*e));
	if (!e)
		return -ENOMEM;
	while (done < total && rc == 0 && d->budget) {
		struct ml_rec_jitsyms j = { .e = e };

		while (j.n < SYMDUMP_CHUNK && done < total) {
			const struct perfmap_entry *pe = perfmap_entry_at(pm, done);

			if (!charge(d, pe->name))
				break;
			e[j.n++] = (struct ml_rec_sym){ pe->start, pe->size, pe->name };
			done++;
		}
		if (j.n)
			rc = rec_put_jitsyms(d->w, d->time, &j);
		d->stats->jit += j.n;
	}
	free(e);
	return rc;
}

/* ---- native modules ---- */

struct msym {
	u64 start;		/* address in the target */
	u64 size;
	char *name;		/* owned */
};

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* As name_native() in symtab.c: C++/Rust/D demangled, versions dropped. */
static char *clean_name(const char *sym)
{
	char *dm = NULL;

	if (sym[0] == '_')
		dm = cplus_demangle(sym, DMGL_PARAMS | DMGL_ANSI);
	return dm ? dm : strndup(sym, strcspn(sym, "@"));
}

/* The distinct start addresses of the module's defined functions. */
static int func_starts(Dwfl_Module *mod, u64 **out, size_t *n)
{
	int nsym = dwfl_module_getsymtab(mod);
	u64 *v;
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if (nsym <= 0)
		return 0;
	v = malloc((size_t)nsym * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (int i = 0; i < nsym; i++) {
		GElf_Sym s;
		GElf_Addr addr;
		GElf_Word shndx;
		const char *name = dwfl_module_getsym_info(mod, i, &s, &addr,
							   &shndx, NULL, NULL);
		int type = GELF_ST_TYPE(s.st_info);

		if (!name || !name[0] || shndx == SHN_UNDEF || !addr ||
		    (type != STT_FUNC && type != STT_GNU_IFUNC))
			continue;
		v[k++] = addr;
	}
	qsort(v, k, sizeof(*v), cmp_u64);
	*n = 0;
	for (size_t i = 0; i < k; i++)
		if (i == 0 || v[i] != v[i - 1])
			v[(*n)++] = v[i];
	*out = v;
	return 0;
}

static int dump_module(struct dump *d, Dwfl_Module *mod)
{
	struct ml_rec_modsyms m = { 0 };
	Dwarf_Addr lo, hi, bias = 0;
	const char *modname;
	u64 *starts = NULL;
	size_t nstarts = 0, i = 0;
	struct ml_rec_sym *e = NULL;
	int rc;

	modname = dwfl_module_info(mod, NULL, &lo, &hi, NULL, NULL, NULL, NULL);
	if (!modname || !dwfl_module_getelf(mod, &bias))
		return 0;
	rc = func_starts(mod, &starts, &nstarts);
	if (rc)
		return rc;
	m.lo = lo;
	m.hi = hi;
	m.bias = bias;
	m.module = (char *)modname;
	if (!charge(d, modname))
		goto out;
	if (nstarts) {
		e = calloc(nstarts < SYMDUMP_CHUNK ? nstarts : SYMDUMP_CHUNK,
			   sizeof(*e));
		if (!e) {
			rc = -ENOMEM;
			goto out;
		}
	}
	d->stats->modules++;
	/* An empty table still says "this module, no symbols". */
	do {
		m.e = e;
		m.n = 0;
		while (m.n < SYMDUMP_CHUNK && i < nstarts) {
			GElf_Off off = 0;
			GElf_Sym s;
			const char *name = dwfl_module_addrinfo(mod, starts[i], &off,
							       &s, NULL, NULL, NULL);
			char *clean;

			i++;
			if (!name || off != 0)
				continue;	/* inside a larger preferred symbol */
			clean = clean_name(name);
			if (!clean) {
				rc = -ENOMEM;
				break;
			}
			if (!charge(d, clean)) {
				free(clean);
				i = nstarts;
				break;
			}
			e[m.n++] = (struct ml_rec_sym){ starts[i - 1] - bias,
							s.st_size, clean };
		}
		if (rc == 0)
			rc = rec_put_modsyms(d->w, d->time, &m);
		d->stats->syms += m.n;
		for (size_t k = 0; k < m.n; k++)
			free(e[k].name);
	} while (rc == 0 && i < nstarts);
out:
	free(e);
	free(starts);
	return rc;
}

int symdump_write(struct rec_writer *w, u64 time, struct symtab *st,
		  const struct stackdb *stacks, struct symdump_stats *stats)
{
	struct dump d = { .w = w, .time = time, .stats = stats,
			  .budget = SYMDUMP_MAX_BYTES };
	Dwfl_Module **mods = NULL;
	size_t nmods = 0, cap = 0;
	u32 count = stackdb_count(stacks);
	int rc;

	memset(stats, 0, sizeof(*stats));
	rc = dump_jit(&d, st->pm);
	if (rc || !st->dwfl)
		return rc;
	/* The modules that hold a pc of a stack, each once. */
	for (u32 id = 1; id <= count; id++) {
		u32 n = 0, fl = 0;
		const u64 *pcs = stackdb_get(stacks, id, &n, &fl);

		for (u32 k = 0; pcs && k < n; k++) {
			u64 addr = k > 0 && pcs[k] ? pcs[k] - 1 : pcs[k];
			Dwfl_Module *mod = dwfl_addrmodule(st->dwfl, addr);
			bool dup = !mod;

			for (size_t j = 0; j < nmods && !dup; j++)
				dup = mods[j] == mod;
			if (dup)
				continue;
			if (nmods == cap) {
				size_t ncap = cap ? cap * 2 : 16;
				Dwfl_Module **nm = reallocarray(mods, ncap, sizeof(*nm));

				if (!nm) {
					free(mods);
					return -ENOMEM;
				}
				mods = nm;
				cap = ncap;
			}
			mods[nmods++] = mod;
		}
	}
	for (size_t j = 0; j < nmods && rc == 0 && d.budget; j++)
		rc = dump_module(&d, mods[j]);
	free(mods);
	return rc;
}
