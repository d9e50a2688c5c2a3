/* SPDX-License-Identifier: MIT */
/*
 * Interpreted Java frames of a HotSpot JVM (symbols/hotspot.c reads the
 * JVM's layout): which frames of a walk are the interpreter's, and the
 * Method* each ran. The target's memory is read through /proc/PID/mem
 * (root; the fd opened through the pinned /proc/PID, so no pid reuse).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symbols/hotspot.h"
#include "symbols/symtab-int.h"
#include "util.h"

#define RETRY_FIRST_NS	(10ull * 1000 * 1000)
#define RETRY_MAX_NS	(2000ull * 1000 * 1000)
#define JVM_SYMS	40	/* JDK 17 exports 28 */
/* Reading the tables fails while libjvm.so's initializers have not run
 * yet; past this many tries (~10 s) they never will: a reader on a JVM
 * whose tables are malformed must not cost a table walk every 2 s. */
#define OPEN_TRIES	12

struct st_hotspot {
	int memfd;
	struct hotspot *hs;
	bool dead;		/* not a HotSpot JVM we can read: stop trying */
	u64 interp_lo, interp_hi;	/* 0, 0: not known yet */
	u64 call_stub_ret;	/* 0: unknown */
	u64 cc_lo, cc_hi;	/* the code cache, 0, 0: unknown */
	bool no_fp;		/* runs without -XX:+PreserveFramePointer */
	u64 next_try;		/* CLOCK_MONOTONIC */
	u64 backoff;
	u32 open_fails;
	/* the gHotSpotVM* symbols of libjvm.so, found once */
	u32 nsyms;
	char *sym_name[JVM_SYMS];
	u64 sym_addr[JVM_SYMS];
};

void st_hotspot_free(struct symtab *st)
{
	struct st_hotspot *h = st->hsp;

	if (!h)
		return;
	hotspot_free(h->hs);
	if (h->memfd >= 0)
		close(h->memfd);
	for (u32 i = 0; i < h->nsyms; i++)
		free(h->sym_name[i]);
	free(h);
	st->hsp = NULL;
}

static int mem_read(void *ctx, u64 addr, void *buf, size_t len)
{
	struct st_hotspot *h = ctx;
	ssize_t got;

	if (addr > (u64)INT64_MAX || len > (u64)INT64_MAX - addr)
		return -EFAULT;
	got = pread(h->memfd, buf, len, (off_t)addr);
	if (got < 0)
		return -errno;
	return (size_t)got == len ? 0 : -EIO;
}

static int sym_lookup(void *ctx, const char *name, u64 *addr)
{
	struct st_hotspot *h = ctx;

	for (u32 i = 0; i < h->nsyms; i++)
		if (!strcmp(h->sym_name[i], name)) {
			*addr = h->sym_addr[i];
			return 0;
		}
	return -ENOENT;
}

/* The gHotSpotVM* symbols of the libjvm.so module, or -ENOENT. */
static int find_syms(struct symtab *st, struct st_hotspot *h)
{
	Dwfl_Module *mod = NULL;
	int nsym;

	for (size_t i = 0; i < st->nmods && !mod; i++) {
		const char *slash = strrchr(st->mods[i].name, '/');

		if (!strcmp(slash ? slash + 1 : st->mods[i].name, "libjvm.so"))
			mod = dwfl_addrmodule(st->dwfl, st->mods[i].lo);
	}
	if (!mod)
		return -ENOENT;
	nsym = dwfl_module_getsymtab(mod);
	for (int i = 0; i < nsym && h->nsyms < JVM_SYMS; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *name = dwfl_module_getsym_info(mod, i, &sym, &addr,
							   NULL, NULL, NULL);

		if (!name || strncmp(name, "gHotSpotVM", 10) ||
		    GELF_ST_TYPE(sym.st_info) != STT_OBJECT || sym.st_shndx == SHN_UNDEF)
			continue;
		h->sym_name[h->nsyms] = strdup(name);
		if (!h->sym_name[h->nsyms])
			return -ENOMEM;
		h->sym_addr[h->nsyms++] = addr;
	}
	return h->nsyms ? 0 : -ENOENT;
}

/* The JVM's layout and interpreter, once the JVM has made them. */
static struct st_hotspot *ready(struct symtab *st)
{
	struct st_hotspot *h = st->hsp;
	u64 now;
	int err;

	if (!h) {
		h = calloc(1, sizeof(*h));
		if (!h)
			return NULL;
		h->memfd = -1;
		h->backoff = RETRY_FIRST_NS;
		st->hsp = h;
	}
	if (h->dead)
		return NULL;
	if (h->interp_hi)
		return h;
	now = ml_now_ns(CLOCK_MONOTONIC);
	if (now < h->next_try)
		return NULL;
	/* Not ready (libjvm.so not mapped yet, the interpreter not yet
	 * generated): look again later, less and less often. */
	h->next_try = now + h->backoff;
	h->backoff = h->backoff * 2 < RETRY_MAX_NS ? h->backoff * 2 : RETRY_MAX_NS;
	if (!h->nsyms) {
		err = find_syms(st, h);
		if (err == -ENOMEM)
			return NULL;
		if (err)
			return NULL;	/* maybe not mapped yet */
	}
	if (h->memfd < 0) {
		h->memfd = openat(target_procfd(&st->tg), "mem", O_RDONLY | O_CLOEXEC);
		if (h->memfd < 0) {
			h->dead = true;
			return NULL;
		}
	}
	if (!h->hs) {
		err = hotspot_open(&h->hs, mem_read, sym_lookup, h);
		if (err == -ENOENT || (err && err != -ENOMEM &&
					       ++h->open_fails >= OPEN_TRIES))
			h->dead = true;	/* no tables, or never readable */
		if (err)
			return NULL;
	}
	err = hotspot_interpreter(h->hs, &h->interp_lo, &h->interp_hi);
	if (err && err != -EAGAIN && err != -EIO && err != -EFAULT)
		h->dead = true;
	if (err) {
		h->interp_lo = h->interp_hi = 0;
		return NULL;
	}
	/* generated with the interpreter; without it that frame is only
	 * unnamed */
	if (hotspot_call_stub_return(h->hs, &h->call_stub_ret))
		h->call_stub_ret = 0;
	/* Gaps are marked only when both are known for sure. */
	{
		bool pfp = true;

		if (hotspot_code_cache(h->hs, &h->cc_lo, &h->cc_hi) ||
		    hotspot_flag_bool(h->hs, "PreserveFramePointer", &pfp))
			h->cc_lo = h->cc_hi = 0;
		h->no_fp = h->cc_hi && !pfp;
	}
	return h;
}

u32 symtab_java_methods(struct symtab *st, const u64 *pcs, const u64 *fps, u32 n,
			const void *stack, u64 sp, u32 len, u64 *methods)
{
	struct st_hotspot *h = st->hsp;
	u32 found = 0;

	memset(methods, 0, n * sizeof(*methods));
	if (!stack || n < 2 || !st->dwfl)
		return 0;
	if ((!h || !h->interp_hi) && !(h = ready(st)))
		return 0;	/* ready() is rate-limited: cheap when not a JVM */
	for (u32 i = 1; i < n; i++) {
		u64 pc = pcs[i] - 1, fp = fps[i], slot, m;

		if (pc < h->interp_lo || pc >= h->interp_hi || !fp)
			continue;
		slot = fp + (u64)(s64)HOTSPOT_FRAME_METHOD_OFFSET;
		if (slot < sp || slot - sp > (u64)len - 8 || len < 8)
			continue;
		memcpy(&m, (const unsigned char *)stack + (slot - sp), 8);
		methods[i] = m;
		found += m != 0;
	}
	return found;
}

static bool in_code_cache(const struct st_hotspot *h, u64 addr)
{
	return addr >= h->cc_lo && addr < h->cc_hi;
}

u32 symtab_java_gaps(struct symtab *st, u64 *pcs, u32 n, u32 max, u64 *methods)
{
	const struct st_hotspot *h = st->hsp;

	if (!h || !h->no_fp)
		return n;
	/* the last frame too: a walk from compiled code through a garbage
	 * rbp ends there, and what it skipped is the rest of the stack */
	for (u32 i = 1; i < n && n < max; i++) {
		u64 a = pcs[i] - 1, callee = i > 1 ? pcs[i - 1] - 1 : pcs[0];

		if (!in_code_cache(h, a) || (a >= h->interp_lo && a < h->interp_hi) ||
		    a + 1 == h->call_stub_ret || pcs[i - 1] == ML_PC_GAP ||
		    !in_code_cache(h, callee))
			continue;
		memmove(pcs + i + 2, pcs + i + 1, (n - i - 1) * sizeof(*pcs));
		memmove(methods + i + 2, methods + i + 1, (n - i - 1) * sizeof(*methods));
		pcs[i + 1] = ML_PC_GAP;
		methods[i + 1] = 0;
		n++;
		i++;
	}
	return n;
}

int st_hotspot_name(struct symtab *st, u64 addr, struct ml_frame *out)
{
	const struct st_hotspot *h = st->hsp;
	const char *name;

	if (!h || !h->interp_hi)
		return 0;
	if (addr >= h->interp_lo && addr < h->interp_hi)
		name = "[interpreted Java]";	/* its method was not read */
	else if (h->call_stub_ret && addr + 1 == h->call_stub_ret)
		name = "StubRoutines::call_stub";	/* C++ calling Java */
	else
		return 0;
	out->kind = ML_FK_STUB;
	free(out->symbol);
	out->symbol = strdup(name);
	return out->symbol ? 1 : -ENOMEM;
}

int symtab_java_method(struct symtab *st, u64 method, struct ml_frame *out)
{
	struct st_hotspot *h = st->hsp;
	const char *name;
	int err;

	if (!h || !h->hs)
		return -ENOENT;
	name = hotspot_method_name(h->hs, method, &err);
	if (!name)
		return err == -ENOMEM ? -ENOMEM : -ENOENT;
	ml_frame_release(out);
	memset(out, 0, sizeof(*out));
	out->kind = ML_FK_JIT;
	out->symbol = strdup(name);
	out->tier = strdup("interpreted");
	if (!out->symbol || !out->tier) {
		ml_frame_release(out);
		return -ENOMEM;
	}
	return 0;
}
