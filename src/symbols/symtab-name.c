/* SPDX-License-Identifier: MIT */
/*
 * Naming a pc of the target (symtab_name): native code through libdwfl
 * (symbol, demangled, file:line), JIT code from the jitdump and perf map,
 * ReadyToRun code (symtab-r2r.c), HotSpot's interpreter
 * (symtab-hotspot.c). Reads the symtab; changes only the JIT sources it
 * reads again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <libiberty/demangle.h>
/* libiberty.h defines its own ARRAY_SIZE; mapleak.h's is the same. */
#undef ARRAY_SIZE

#include "symbols/symtab-int.h"

static int set_str(char **dst, const char *s, size_t n)
{
	*dst = strndup(s, n);
	return *dst ? 0 : -ENOMEM;
}

/*
 * file:line of addr from the CU whose ranges hold it. libdw 0.188 finds a
 * CU only through .debug_aranges, which clang does not emit by default:
 * without this, clang-built code has no lines. 0, or -ENOENT.
 */
static int cu_line(Dwfl_Module *mod, u64 addr, const char **file, int *lineno)
{
	Dwarf_Addr bias = 0;
	Dwarf *dw = dwfl_module_getdwarf(mod, &bias);
	Dwarf_CU *cu = NULL;
	Dwarf_Die cudie;
	u8 type;

	if (!dw)
		return -ENOENT;
	while (dwarf_get_units(dw, cu, &cu, NULL, &type, &cudie, NULL) == 0) {
		Dwarf_Line *l;

		if (type != DW_UT_compile && type != DW_UT_partial &&
		    type != DW_UT_skeleton)
			continue;
		if (dwarf_haspc(&cudie, addr - bias) != 1)
			continue;
		l = dwarf_getsrc_die(&cudie, addr - bias);
		*file = l ? dwarf_linesrc(l, NULL, NULL) : NULL;
		if (!*file || dwarf_lineno(l, lineno) != 0)
			return -ENOENT;
		return 0;
	}
	return -ENOENT;
}

static int name_native(Dwfl_Module *mod, u64 pc, u64 addr, struct ml_frame *f)
{
	const char *modname, *sym, *file;
	GElf_Off off;
	GElf_Sym s;
	Dwfl_Line *line;
	int lineno = 0;

	f->kind = ML_FK_NATIVE;
	modname = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL,
				   NULL);
	if (modname && set_str(&f->module, modname, strlen(modname)) < 0)
		return -ENOMEM;
	sym = dwfl_module_addrinfo(mod, addr, &off, &s, NULL, NULL, NULL);
	if (sym) {
		char *dm = NULL;

		/* Mangled names start with '_' (C++ _Z, Rust _R, D _D). */
		if (sym[0] == '_')
			dm = cplus_demangle(sym, DMGL_PARAMS | DMGL_ANSI);
		if (dm)
			f->symbol = dm;
		else if (set_str(&f->symbol, sym, strcspn(sym, "@")) < 0)
			return -ENOMEM;	/* "memcpy@@GLIBC_2.14": version dropped */
		f->offset = pc - (addr - off);
	} else {
		Dwarf_Addr bias = 0;

		/* No symbol (a stripped runtime such as libcoreclr.so): the file
		 * address still finds it in a separate debug file later. */
		if (dwfl_module_getelf(mod, &bias))
			f->offset = pc - bias;
	}
	line = dwfl_module_getsrc(mod, addr);
	file = line ? dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL) : NULL;
	if (!line && cu_line(mod, addr, &file, &lineno) < 0)
		file = NULL;
	if (file && set_str(&f->file, file, strlen(file)) < 0)
		return -ENOMEM;
	if (file && lineno > 0)
		f->line = (u32)lineno;
	return 0;
}

/* time: CLOCK_MONOTONIC ns, or UINT64_MAX for "the latest name". */
static int name_pc(struct symtab *st, u64 pc, bool return_address, u64 time,
		   struct ml_frame *out)
{
	/* A return address is past the call: name the call itself. */
	u64 addr = return_address && pc > 0 ? pc - 1 : pc;
	const struct maps_entry *m;
	const struct perfmap_entry *e;
	Dwfl_Module *mod;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	out->pc = pc;
	out->kind = ML_FK_UNKNOWN;
	if (pc == ML_PC_GAP) {
		out->kind = ML_FK_GAP;
		ret = set_str(&out->symbol, ML_GAP_TEXT, strlen(ML_GAP_TEXT));
		goto out;
	}
	mod = st->dwfl ? dwfl_addrmodule(st->dwfl, addr) : NULL;
	if (mod) {
		ret = name_native(mod, pc, addr, out);
		goto out;
	}
	m = st_find_map(st, addr);
	if (m && m->path && st_is_dll(m->path)) {
		/* ReadyToRun code: never in the perf map (symtab-r2r.c). */
		ret = st_r2r_name(st, m, pc, addr, time, out);
		goto out;
	}
	if (!m || st_is_jit_mapping(m)) {
		/* The jitdump first: it knows when each method was loaded. */
		const struct jitdump_entry *j = st_jitdump_lookup(st, addr, time);

		e = j ? NULL : perfmap_lookup(st->pm, addr);
		/* Code compiled since the last read: look once more. */
		if (!j && !e && symtab_update_jit(st) == 0) {
			j = st_jitdump_lookup(st, addr, time);
			e = j ? NULL : perfmap_lookup(st->pm, addr);
		}
		if (j) {
			struct perfmap_entry je = { .start = j->start,
						    .name = j->name };

			ret = st_name_jit(&je, pc, out);
			goto out;
		}
		if (e) {
			ret = st_name_jit(e, pc, out);
			goto out;
		}
	}
	/* No perf map (-Xint, a JVM that exited): what the JVM's own
	 * layout tells (symtab-hotspot.c). */
	ret = st_hotspot_name(st, addr, out);
	if (ret)
		goto out;
	if (m)
		ret = set_str(&out->module, m->path ? m->path : "[anon]",
			      strlen(m->path ? m->path : "[anon]"));
out:
	if (ret < 0) {
		ml_frame_release(out);
		return -ENOMEM;
	}
	return 0;
}

int symtab_name(struct symtab *st, u64 pc, bool return_address,
		struct ml_frame *out)
{
	return name_pc(st, pc, return_address, UINT64_MAX, out);
}

int symtab_name_at(struct symtab *st, u64 pc, bool return_address, u64 time,
		   struct ml_frame *out)
{
	return name_pc(st, pc, return_address, time, out);
}
