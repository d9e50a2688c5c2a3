/* SPDX-License-Identifier: MIT */
/*
 * Modules and maps of one target process, and its lifecycle. The other
 * jobs are files of their own, sharing symtab-int.h: the target's files
 * (symtab-files.c), JIT sources (symtab-perfmap.c, symtab-jitdump.c),
 * naming (symtab-name.c, symtab-jitname.c, symtab-r2r.c,
 * symtab-hotspot.c). Calls go one way: from here down to those.
 *
 * One Dwfl per target for its whole life. Modules come from our own
 * /proc/PID/maps snapshot (dwfl_linux_proc_report/find_elf would need the
 * live process, or ptrace-stop it): each executable mapping of an ELF file
 * is opened through /proc/PID/map_files (deleted files too) and handed to
 * dwfl_report_elf, which keeps the descriptor, so naming still works once
 * the target is gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"
#include "symbols/elfload.h"
#include "symbols/stable.h"
#include "symbols/symtab-int.h"
#include "target/proc.h"
#include "util/vec.h"
#include "util/range.h"

static char *debuginfo_path;	/* NULL: libdwfl's default search path */

/* What find_elf hands to libdwfl for a module we reported by range. */
struct st_elfsrc {
	int fd;
	char *file;
};

/*
 * Modules are reported by their mapped range (dwfl_report_module, as
 * libdwfl's own /proc reader does) and their ELF handed over here when
 * libdwfl first needs it: dwfl_report_elf would compute the range from
 * p_memsz, which for lld-linked libraries (.NET's libhostpolicy.so) runs
 * past the mapped pages into the next library, and libdwfl then refuses
 * that next library (libc!) as overlapping.
 */
static int st_find_elf(Dwfl_Module *mod, void **userdata, const char *modname,
		       Dwarf_Addr base, char **file_name, Elf **elfp)
{
	struct st_elfsrc *src = *userdata;
	int fd;

	if (!src || src->fd < 0)
		return dwfl_build_id_find_elf(mod, userdata, modname, base,
					      file_name, elfp);
	fd = src->fd;
	src->fd = -1;		/* libdwfl owns it now */
	*file_name = src->file;
	src->file = NULL;
	*elfp = NULL;
	return fd;
}

/*
 * Separate debug info by build id only, from the host's debug folders
 * (absolute, root's). libdwfl's standard search also follows the ELF's
 * .gnu_debuglink, a name the target's file chooses, looked up next to that
 * file (folders the target may own) and opened with a plain open(): a FIFO
 * there hangs mapleak, a device or a "../" name is opened as root.
 */
static int st_find_debuginfo(Dwfl_Module *mod, void **userdata,
			     const char *modname, Dwarf_Addr base,
			     const char *file_name, const char *debuglink_file,
			     GElf_Word debuglink_crc, char **debuginfo_file_name)
{
	return dwfl_build_id_find_debuginfo(mod, userdata, modname, base,
					    file_name, debuglink_file,
					    debuglink_crc, debuginfo_file_name);
}

static const Dwfl_Callbacks st_callbacks = {
	/* Never dwfl_linux_proc_find_elf: it may ptrace-stop the target. */
	.find_elf = st_find_elf,
	.find_debuginfo = st_find_debuginfo,
	.section_address = dwfl_offline_section_address,
	.debuginfo_path = &debuginfo_path,
};

/* ---- small helpers ---- */

/* The one /proc/PID/maps reader (track/procmaps.c), through procfd. */
static int read_maps(struct symtab *st, struct maps_entry **out, size_t *n)
{
	int ret = procmaps_read_at(st->tg.procfd, out, n);

	return ret == -ENOENT ? -ESRCH : ret;
}

const struct maps_entry *st_find_map(const struct symtab *st, u64 addr)
{
	ssize_t i = ML_RANGE_FIND(st->maps, st->nmaps, start, end, addr);

	return i >= 0 ? &st->maps[i] : NULL;
}

bool st_is_code(const struct symtab *st, u64 addr)
{
	const struct maps_entry *m;

	if (!st->maps)
		return true;	/* no snapshot: nothing to judge by */
	m = st_find_map(st, addr);
	return m && (m->prot & PROT_EXEC);
}

/* ---- the unwinder's view of the modules (unwind/unwind.h) ---- */

static Dwfl *um_dwfl(void *ctx, Elf **arch, pid_t *pid)
{
	struct symtab *st = ctx;

	*arch = st->arch_elf;
	*pid = st->pid;
	return st->dwfl;
}

static bool um_is_code(void *ctx, u64 addr)
{
	return st_is_code(ctx, addr);
}

static void um_gens(void *ctx, u64 *mod_gen, u64 *maps_gen)
{
	const struct symtab *st = ctx;

	*mod_gen = st->mod_gen;
	*maps_gen = st->maps_gen;
}

const struct unwind_modules *symtab_unwind_modules(struct symtab *st)
{
	return &st->umods;
}

bool st_is_dll(const char *path)
{
	size_t n = strlen(path);

	if (has_suffix(path, ST_DELETED))
		n -= strlen(ST_DELETED);
	return n >= 4 && strncasecmp(path + n - 4, ".dll", 4) == 0;
}

/* Where JIT code lives: anonymous memory or .NET's W^X double mapping. */
bool st_is_jit_mapping(const struct maps_entry *m)
{
	const char *p = m->path;

	return !p || has_prefix(p, "[anon") || has_prefix(p, "//anon") ||
	       has_prefix(p, "/dev/zero") || has_prefix(p, "/anon_hugepage") ||
	       has_prefix(p, "/memfd:");
}

/* An executable file mapping worth opening as ELF. */
static bool is_elf_candidate(const struct maps_entry *m)
{
	return (m->prot & PROT_EXEC) && m->path && m->path[0] == '/' &&
	       !has_prefix(m->path, "/memfd:") && !has_prefix(m->path, "/dev/") &&
	       !has_prefix(m->path, "/SYSV") && !has_prefix(m->path, "//anon") &&
	       !has_prefix(m->path, "/anon_hugepage") && !st_is_dll(m->path);
}

/* ---- modules ---- */

struct candidate {
	int fd;
	char *name;		/* maps path */
	char *file;		/* where libdwfl may look for debuglinks */
	u64 bias, lo, hi;
	bool et_dyn;
};

static bool seen_has(const struct symtab *st, const struct maps_entry *m)
{
	size_t lo = 0, hi = st->nseen;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (st->seen[mid].start < m->start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < st->nseen && st->seen[lo].start == m->start &&
	       st->seen[lo].end == m->end && st->seen[lo].offset == m->offset &&
	       st->seen[lo].inode == m->inode;
}

/*
 * The target lives in a user namespace of its own (a rootless container):
 * its root there may write the files of every uid the namespace maps, not
 * only of its own uids, so it is taken as root for stable_reopen().
 */
static bool own_userns(const struct symtab *st)
{
	struct stat a, b;

	if (fstatat(st->tg.procfd, "ns/user", &a, 0) < 0 ||
	    stat("/proc/self/ns/user", &b) < 0)
		return false;	/* no namespaces: the same one */
	return a.st_ino != b.st_ino || a.st_dev != b.st_dev;
}

/* Load bias and range of the ELF in fd mapped by m (symbols/elfload.c).
 * Fills c; 0 or -ENOEXEC. */
static int elf_layout(int fd, const struct maps_entry *m, struct candidate *c)
{
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	struct elfload_map em = { m->start, m->offset, m->prot };
	struct elfload_layout l;
	int ret;

	ret = elf ? elfload_layout(elf, &em, &l) : -ENOEXEC;
	if (elf)
		elf_end(elf);
	if (ret < 0)
		return ret == -ENOMEM ? ret : -ENOEXEC;
	c->et_dyn = l.et_dyn;
	c->bias = l.bias;
	c->lo = l.lo;
	c->hi = l.hi;
	return 0;
}

static bool overlaps(u64 alo, u64 ahi, u64 blo, u64 bhi)
{
	return alo < bhi && blo < ahi;
}

/* Examines executable mapping m; a usable ELF becomes a candidate. */
static int examine(struct symtab *st, const struct maps_entry *m,
		   struct candidate *c)
{
	char magic[4];
	size_t plen;
	int fd;

	fd = st_open_mapping(st, m);
	if (fd < 0)
		return fd;
	if (pread(fd, magic, 4, 0) != 4 || memcmp(magic, ELFMAG, SELFMAG) != 0) {
		close(fd);
		return -ENOEXEC;
	}
	/* From here on the file is mapped (libelf, libdwfl): a copy if the
	 * target could truncate it under us (SIGBUS) or change it. */
	fd = st_stable(st, fd);
	if (fd < 0)
		return fd == -ENOMEM ? fd : -ENOEXEC;
	if (elf_layout(fd, m, c) < 0) {
		close(fd);
		return -ENOEXEC;
	}
	c->fd = fd;
	c->name = strdup(m->path);
	plen = strlen(m->path);
	if (has_suffix(m->path, ST_DELETED))
		plen -= strlen(ST_DELETED);
	if (st->root_is_host)
		c->file = strndup(m->path, plen);
	else if (asprintf(&c->file, "/proc/%d/root%.*s", (int)st->pid,
			  (int)plen, m->path) < 0)
		c->file = NULL;
	if (!c->name || !c->file) {
		free(c->name);
		free(c->file);
		close(fd);
		return -ENOMEM;
	}
	return 0;
}

static void free_candidates(struct candidate *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (c[i].fd >= 0)
			close(c[i].fd);
		free(c[i].name);
		free(c[i].file);
	}
	free(c);
}

/* Remembers src so that drop_modules() frees what libdwfl never took. */
static int track_src(struct symtab *st, struct st_elfsrc *src)
{
	if (ML_VEC_GROW(st->srcs, st->capsrcs, st->nsrcs + 1)) {
		if (src->fd >= 0)
			close(src->fd);
		free(src->file);
		free(src);
		return -ENOMEM;
	}
	st->srcs[st->nsrcs++] = src;
	return 0;
}

static int add_module(struct symtab *st, const char *name, u64 lo, u64 hi,
		      u64 bias)
{
	struct st_module *nm;

	if (ML_VEC_GROW(st->mods, st->capmods, st->nmods + 1))
		return -ENOMEM;
	nm = &st->mods[st->nmods];
	nm->name = strdup(name);
	if (!nm->name)
		return -ENOMEM;
	nm->lo = lo;
	nm->hi = hi;
	nm->bias = bias;
	st->nmods++;
	return 0;
}

/*
 * Reports the candidates. Modules stay after their file is unmapped (a
 * stack recorded earlier may still need them) unless a new module takes
 * over their addresses: then libdwfl is told the whole list again.
 */
static bool is_known(const struct symtab *st, const struct candidate *c)
{
	for (size_t j = 0; j < st->nmods; j++)
		if (st->mods[j].bias == c->bias &&
		    strcmp(st->mods[j].name, c->name) == 0)
			return true;
	return false;
}

static int report(struct symtab *st, struct candidate *c, size_t nc)
{
	bool rebuild = false;
	size_t keep = 0;
	int ret = 0;

	st->mod_gen++;	/* cached unwinds may depend on what changes here */

	/* Another executable mapping of a module we have (mprotect split). */
	for (size_t i = 0; i < nc; i++)
		if (c[i].fd >= 0 && is_known(st, &c[i])) {
			close(c[i].fd);
			c[i].fd = -1;
		}
	for (size_t i = 0; i < nc && !rebuild; i++)
		for (size_t j = 0; j < st->nmods && c[i].fd >= 0; j++)
			if (overlaps(c[i].lo, c[i].hi, st->mods[j].lo,
				     st->mods[j].hi))
				rebuild = true;
	if (rebuild) {
		dwfl_report_begin(st->dwfl);
		for (size_t j = 0; j < st->nmods; j++) {
			struct st_module *m = &st->mods[j];
			bool hit = false;

			for (size_t i = 0; i < nc && !hit; i++)
				hit = c[i].fd >= 0 &&
				      overlaps(c[i].lo, c[i].hi, m->lo, m->hi);
			if (hit || !dwfl_report_module(st->dwfl, m->name,
						       m->lo, m->hi)) {
				free(m->name);
				continue;
			}
			st->mods[keep++] = *m;
		}
		st->nmods = keep;
	} else {
		dwfl_report_begin_add(st->dwfl);
	}
	for (size_t i = 0; i < nc; i++) {
		Dwfl_Module *mod;
		Dwarf_Addr lo, hi;

		/* Two executable mappings of one file: one module. */
		bool dup = c[i].fd < 0;

		for (size_t j = 0; j < st->nmods && !dup; j++)
			dup = overlaps(c[i].lo, c[i].hi, st->mods[j].lo,
				       st->mods[j].hi);
		if (dup)
			continue;
		/* Clip the range at the next module or candidate: see
		 * st_find_elf() for why. */
		u64 end = c[i].hi;
		struct st_elfsrc *src;
		void **ud = NULL;

		for (size_t j = 0; j < nc; j++)
			if (j != i && c[j].lo > c[i].lo && c[j].lo < end)
				end = c[j].lo;
		for (size_t j = 0; j < st->nmods; j++)
			if (st->mods[j].lo > c[i].lo && st->mods[j].lo < end)
				end = st->mods[j].lo;
		src = malloc(sizeof(*src));
		if (!src) {
			ret = -ENOMEM;
			break;
		}
		mod = dwfl_report_module(st->dwfl, c[i].name, c[i].lo, end);
		if (!mod || !dwfl_module_info(mod, &ud, &lo, &hi, NULL, NULL,
					      NULL, NULL) || !ud || *ud) {
			free(src);
			continue;
		}
		src->fd = c[i].fd;
		src->file = strdup(c[i].file ? c[i].file : c[i].name);
		*ud = src;
		c[i].fd = -1;	/* src owns it, then libdwfl */
		ret = track_src(st, src);
		if (ret < 0)
			break;
		ret = add_module(st, c[i].name, lo, hi, c[i].bias);
		if (ret < 0)
			break;
	}
	if (dwfl_report_end(st->dwfl, NULL, NULL) != 0 && ret == 0)
		ret = -ENOMEM;
	return ret;
}

static int cmp_seen(const void *a, const void *b)
{
	const struct st_seen *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Re-reads maps; examines executable mappings not seen before. */
static int load_maps(struct symtab *st)
{
	struct maps_entry *maps;
	struct candidate *cand = NULL;
	struct st_seen *seen = NULL;
	size_t nmaps, nc = 0, ns = 0;
	int ret;

	ret = read_maps(st, &maps, &nmaps);
	if (ret < 0)
		return ret;
	cand = calloc(nmaps + 1, sizeof(*cand));
	seen = calloc(nmaps + 1, sizeof(*seen));
	if (!cand || !seen) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nmaps; i++) {
		const struct maps_entry *m = &maps[i];

		/* ReadyToRun code: its PE section table, while it can be read. */
		if ((m->prot & PROT_EXEC) && m->path && st_is_dll(m->path) &&
		    st_r2r_note(st, m) == -ENOMEM) {
			ret = -ENOMEM;
			goto out;
		}
		if (!is_elf_candidate(m))
			continue;
		seen[ns++] = (struct st_seen){ m->start, m->end, m->offset,
					       m->inode };
		if (seen_has(st, m))
			continue;
		cand[nc].fd = -1;
		ret = examine(st, m, &cand[nc]);
		if (ret == -ENOMEM)
			goto out;
		if (ret == 0)
			nc++;
	}
	ret = 0;
	if (nc > 0)
		ret = report(st, cand, nc);
	qsort(seen, ns, sizeof(*seen), cmp_seen);
	free(st->seen);
	st->seen = seen;
	st->nseen = ns;
	seen = NULL;
	procmaps_free(st->maps, st->nmaps);
	st->maps = maps;
	st->nmaps = nmaps;
	maps = NULL;
	st->maps_gen++;
out:
	free_candidates(cand, nc);
	free(seen);
	procmaps_free(maps, nmaps);
	return ret;
}

/* ---- lifecycle ---- */

/* An ELF header that tells dwfl_attach_state the machine, whatever the
 * modules (there may be none yet, or only JIT code). */
static int make_arch_elf(struct symtab *st)
{
	Elf64_Ehdr *eh = calloc(1, sizeof(*eh));

	if (!eh)
		return -ENOMEM;
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = ML_ELF_MACHINE;	/* the machine of the event registers */
	eh->e_version = EV_CURRENT;
	eh->e_ehsize = sizeof(*eh);
	st->arch_img = eh;
	st->arch_elf = elf_memory((char *)eh, sizeof(*eh));
	return st->arch_elf ? 0 : -ENOMEM;
}

static void drop_modules(struct symtab *st)
{
	st_r2r_free(st);
	if (st->dwfl)
		dwfl_end(st->dwfl);
	st->dwfl = NULL;
	for (size_t i = 0; i < st->nsrcs; i++) {
		if (st->srcs[i]->fd >= 0)
			close(st->srcs[i]->fd);
		free(st->srcs[i]->file);
		free(st->srcs[i]);
	}
	free(st->srcs);
	st->srcs = NULL;
	st->nsrcs = st->capsrcs = 0;
	st->stable_bytes = 0;	/* the copies went with libdwfl and the pes */
	for (size_t i = 0; i < st->nmods; i++)
		free(st->mods[i].name);
	free(st->mods);
	st->mods = NULL;
	st->nmods = st->capmods = 0;
	free(st->seen);
	st->seen = NULL;
	st->nseen = 0;
	procmaps_free(st->maps, st->nmaps);
	st->maps = NULL;
	st->nmaps = 0;
}

static void drop_jit(struct symtab *st)
{
	if (st->pmfd >= 0)
		close(st->pmfd);
	st->pmfd = -1;
	st->pmoff = 0;
	st->pm_read = false;
	st->pm_partial = false;
	st->pm_capped = false;
	if (st->pm)
		perfmap_reset(st->pm);
	st_jitdump_drop(st);
}

static int start_image(struct symtab *st)
{
	char root[8];
	ssize_t n;
	int ret;

	/* NSpid, uids and the held root (st_open_in_root) of this image */
	ret = target_refresh(&st->tg);
	if (ret < 0)
		return ret;
	st->own_userns = own_userns(st);
	n = readlinkat(st->tg.procfd, "root", root, sizeof(root));
	st->root_is_host = n == 1 && root[0] == '/';
	st->dwfl = dwfl_begin(&st_callbacks);
	if (!st->dwfl)
		return -ENOMEM;
	st->maps_dirty = false;
	return load_maps(st);
}

int symtab_open(struct symtab **out, pid_t pid)
{
	struct symtab *st;
	int ret;

	*out = NULL;
	if (pid <= 0)
		return -EINVAL;
	elf_version(EV_CURRENT);
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->pid = pid;
	st->pmfd = -1;
	st->umods = (struct unwind_modules){
		.ctx = st, .dwfl = um_dwfl, .is_code = um_is_code, .gens = um_gens,
	};
	ret = target_open(&st->tg, pid);
	if (ret < 0) {
		free(st);
		return ret;
	}
	ret = make_arch_elf(st);
	if (ret == 0)
		ret = perfmap_new(&st->pm);
	if (ret == 0)
		ret = st_jitdump_init(st);
	if (ret == 0)
		ret = start_image(st);
	if (ret < 0) {
		symtab_close(st);
		return ret;
	}
	*out = st;
	return 0;
}

void symtab_close(struct symtab *st)
{
	if (!st)
		return;
	drop_modules(st);
	drop_jit(st);
	st_hotspot_free(st);
	perfmap_free(st->pm);
	st_jitdump_free(st);
	if (st->arch_elf)
		elf_end(st->arch_elf);
	free(st->arch_img);
	target_release(&st->tg);
	free(st);
}

void symtab_maps_changed(struct symtab *st)
{
	st->maps_dirty = true;
}

int symtab_refresh(struct symtab *st)
{
	if (!st->maps_dirty)
		return 0;
	st->maps_dirty = false;
	if (!st->dwfl)
		return start_image(st);
	return load_maps(st);
}

int symtab_reset(struct symtab *st)
{
	st->mod_gen++;
	st_hotspot_free(st);	/* a new image: another JVM, or none */
	drop_modules(st);
	drop_jit(st);
	return start_image(st);
}

bool symtab_maps_have(const struct symtab *st, const char *suffix)
{
	size_t ns = strlen(suffix);

	for (size_t i = 0; i < st->nmaps; i++) {
		const char *p = st->maps[i].path;
		size_t n;

		if (!p)
			continue;	/* anonymous: no name to match */
		n = strlen(p);
		if (has_suffix(p, ST_DELETED))
			n -= strlen(ST_DELETED);
		if (n >= ns && !memcmp(p + n - ns, suffix, ns))
			return true;
	}
	return false;
}
