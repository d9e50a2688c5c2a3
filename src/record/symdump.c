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
#include <strings.h>
#include <sys/mman.h>

#include <libiberty/demangle.h>
/* libiberty.h defines its own ARRAY_SIZE; mapleak.h's is the same. */
#undef ARRAY_SIZE

#include "symbols/r2r.h"
#include "record/symdump.h"
#include "symbols/symtab-int.h"
#include "util/vec.h"
#include "util/range.h"

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

/* As name_native() in symtab.c: C++/Rust/D demangled, versions dropped. */
static char *clean_name(const char *sym)
{
	char *dm = NULL;

	if (sym[0] == '_')
		dm = cplus_demangle(sym, DMGL_PARAMS | DMGL_ANSI);
	return dm ? dm : strndup(sym, strcspn(sym, "@"));
}

/* A defined function of the module's symbol table (name borrowed). */
struct fsym {
	u64 addr;
	u64 size;
	const char *name;
	int rank;		/* which of several names at one address wins */
};

static int cmp_fsym(const void *a, const void *b)
{
	const struct fsym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return y->rank - x->rank;	/* best first */
}

/*
 * The module's functions, one per start address, in ONE pass over its
 * symbol table: dwfl_module_addrinfo() scans the whole table per call,
 * so calling it per function is quadratic (minutes on libjvm.so). Of
 * several names at one address, prefer what addrinfo would: global over
 * weak over local, sized over unsized.
 */
static int module_funcs(Dwfl_Module *mod, struct fsym **out, size_t *n)
{
	int nsym = dwfl_module_getsymtab(mod);
	struct fsym *v;
	size_t k = 0, m = 0;

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
		int bind = GELF_ST_BIND(s.st_info);

		if (!name || !name[0] || shndx == SHN_UNDEF || !addr ||
		    (type != STT_FUNC && type != STT_GNU_IFUNC))
			continue;
		v[k++] = (struct fsym){
			.addr = addr, .size = s.st_size, .name = name,
			.rank = (bind == STB_GLOBAL ? 4 : bind == STB_WEAK ? 2 : 0) +
				(s.st_size ? 1 : 0),
		};
	}
	qsort(v, k, sizeof(*v), cmp_fsym);
	for (size_t i = 0; i < k; i++)
		if (m == 0 || v[i].addr != v[m - 1].addr)
			v[m++] = v[i];
	*out = v;
	*n = m;
	return 0;
}

static int dump_module(struct dump *d, Dwfl_Module *mod)
{
	struct ml_rec_modsyms m = { 0 };
	Dwarf_Addr lo, hi, bias = 0;
	const char *modname;
	struct fsym *funcs = NULL;
	size_t nfuncs = 0, i = 0;
	struct ml_rec_sym *e = NULL;
	int rc;

	modname = dwfl_module_info(mod, NULL, &lo, &hi, NULL, NULL, NULL, NULL);
	if (!modname || !dwfl_module_getelf(mod, &bias))
		return 0;
	rc = module_funcs(mod, &funcs, &nfuncs);
	if (rc)
		return rc;
	m.lo = lo;
	m.hi = hi;
	m.bias = bias;
	m.module = (char *)modname;
	if (!charge(d, modname))
		goto out;
	if (nfuncs) {
		e = calloc(nfuncs < SYMDUMP_CHUNK ? nfuncs : SYMDUMP_CHUNK,
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
		while (m.n < SYMDUMP_CHUNK && i < nfuncs) {
			char *clean = clean_name(funcs[i].name);

			if (!clean) {
				rc = -ENOMEM;
				break;
			}
			if (!charge(d, clean)) {
				free(clean);
				i = nfuncs;
				break;
			}
			e[m.n++] = (struct ml_rec_sym){ funcs[i].addr - bias,
							funcs[i].size, clean };
			i++;
		}
		if (rc == 0)
			rc = rec_put_modsyms(d->w, d->time, &m);
		d->stats->syms += m.n;
		for (size_t k = 0; k < m.n; k++)
			free(e[k].name);
	} while (rc == 0 && i < nfuncs);
out:
	free(e);
	free(funcs);
	return rc;
}

/* ---- ReadyToRun code (.dll mappings) ---- */

/* The maps entry holding addr in st's latest snapshot, or NULL. */
static const struct maps_entry *dll_map(const struct symtab *st, u64 addr)
{
	ssize_t i = ML_RANGE_FIND(st->maps, st->nmaps, start, end, addr);

	return i >= 0 ? &st->maps[i] : NULL;
}

/*
 * The methods of a .dll code mapping, as a MODSYMS table: starts are
 * RVAs, bias the address of RVA 0 there (resolve -i tells them from ELF
 * modules by the ".dll" path).
 */
static int dump_r2r(struct dump *d, struct symtab *st, const struct maps_entry *m)
{
	struct ml_rec_modsyms t = { .lo = m->start, .hi = m->end,
				    .module = m->path };
	struct ml_rec_sym *e;
	struct r2r_stats rs;
	struct r2r *r;
	u64 bias = 0;
	u32 i = 0;
	int rc = st_r2r_methods(st, m, &r, &bias);

	if (rc || !r || !charge(d, m->path))
		return rc;
	r2r_get_stats(r, &rs);
	e = calloc(SYMDUMP_CHUNK, sizeof(*e));
	if (!e)
		return -ENOMEM;
	t.bias = bias;
	d->stats->modules++;
	do {
		t.e = e;
		t.n = 0;
		for (; t.n < SYMDUMP_CHUNK && i < rs.methods && rc == 0; i++) {
			const char *name;
			u32 s, end;

			rc = r2r_method(r, i, &name, &s, &end);
			if (rc == -ENOENT) {
				rc = 0;
				continue;
			}
			/* only what this mapping holds */
			if (rc || bias + s < m->start || bias + end > m->end)
				continue;
			if (!charge(d, name)) {
				i = rs.methods;
				break;
			}
			e[t.n++] = (struct ml_rec_sym){ s, end - s, (char *)name };
		}
		if (rc == 0 && t.n)
			rc = rec_put_modsyms(d->w, d->time, &t);
		d->stats->syms += t.n;
	} while (rc == 0 && i < rs.methods && d->budget);
	free(e);
	return rc;
}

static bool is_dll_path(const char *path)
{
	size_t n = path ? strlen(path) : 0;

	if (n > 10 && !strcmp(path + n - 10, " (deleted)"))
		n -= 10;
	return n > 4 && !strncasecmp(path + n - 4, ".dll", 4);
}

/* Every .dll code mapping that holds a pc of a stack, once each. */
static int dump_dlls(struct dump *d, struct symtab *st,
		     const struct stackdb *stacks)
{
	u32 count = stackdb_count(stacks);
	bool *done;
	int rc = 0;

	if (!st->nmaps)
		return 0;
	done = calloc(st->nmaps, sizeof(*done));
	if (!done)
		return -ENOMEM;
	for (u32 id = 1; id <= count && rc == 0 && d->budget; id++) {
		u32 n = 0, fl = 0;
		const u64 *pcs = stackdb_get(stacks, id, &n, &fl);

		for (u32 k = 0; pcs && k < n && rc == 0; k++) {
			u64 addr = k > 0 && pcs[k] ? pcs[k] - 1 : pcs[k];
			const struct maps_entry *m = dll_map(st, addr);

			if (!m || done[m - st->maps] || !(m->prot & PROT_EXEC) ||
			    !is_dll_path(m->path) ||
			    (st->dwfl && dwfl_addrmodule(st->dwfl, addr)))
				continue;
			done[m - st->maps] = true;
			rc = dump_r2r(d, st, m);
		}
	}
	free(done);
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
			if (ML_VEC_GROW(mods, cap, nmods + 1)) {
				free(mods);
				return -ENOMEM;
			}
			mods[nmods++] = mod;
		}
	}
	for (size_t j = 0; j < nmods && rc == 0 && d.budget; j++)
		rc = dump_module(&d, mods[j]);
	free(mods);
	if (rc == 0 && d.budget)
		rc = dump_dlls(&d, st, stacks);
	return rc;
}
