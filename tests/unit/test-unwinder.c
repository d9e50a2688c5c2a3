/* SPDX-License-Identifier: MIT */
/*
 * The unwinder's own API over a fake struct unwind_modules (no symtab, no
 * process): a Dwfl without modules, so the walk follows a hand-built
 * frame-pointer chain in a made-up stack. Checks what the unwinder asks of
 * the modules (is_code ends the walk at junk, generations drop cached
 * walks, a new Dwfl is attached again) and what it returns (pcs, frame
 * pointers, flags).
 */
#include <elf.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "track/stacks.h"
#include "unwind/unwind.h"

#define CODE_LO		0x400000ull	/* the fake's only code range */
#define CODE_HI		0x500000ull
#define SP		0x7ff000000000ull	/* where the made-up stack was */
#define TID		4242

struct fake {
	Dwfl *dwfl;
	Elf *arch;
	Elf64_Ehdr eh;
	u64 mod_gen, maps_gen;
	unsigned is_code_calls;
};

static Dwfl *f_dwfl(void *ctx, Elf **arch, pid_t *pid)
{
	struct fake *f = ctx;

	*arch = f->arch;
	*pid = getpid();
	return f->dwfl;
}

static bool f_is_code(void *ctx, u64 addr)
{
	struct fake *f = ctx;

	f->is_code_calls++;
	return addr >= CODE_LO && addr < CODE_HI;
}

static void f_gens(void *ctx, u64 *mod_gen, u64 *maps_gen)
{
	const struct fake *f = ctx;

	*mod_gen = f->mod_gen;
	*maps_gen = f->maps_gen;
}

static const Dwfl_Callbacks no_modules = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
};

/* An ELF header naming the machine of the registers, as symtab makes. */
static int fake_init(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	elf_version(EV_CURRENT);
	memcpy(f->eh.e_ident, ELFMAG, SELFMAG);
	f->eh.e_ident[EI_CLASS] = ELFCLASS64;
	f->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	f->eh.e_ident[EI_VERSION] = EV_CURRENT;
	f->eh.e_type = ET_EXEC;
	f->eh.e_machine = ML_ELF_MACHINE;
	f->eh.e_version = EV_CURRENT;
	f->eh.e_ehsize = sizeof(f->eh);
	f->arch = elf_memory((char *)&f->eh, sizeof(f->eh));
	f->dwfl = dwfl_begin(&no_modules);
	f->mod_gen = f->maps_gen = 1;
	return f->arch && f->dwfl ? 0 : -ENOMEM;
}

static void fake_release(struct fake *f)
{
	if (f->dwfl)
		dwfl_end(f->dwfl);
	if (f->arch)
		elf_end(f->arch);
}

/*
 * A stack of three frame records [saved fp, return address], each 0x20
 * above the last; the outermost returns to ret3 (junk unless code).
 */
struct chain {
	u64 regs[ML_NREGS];
	u64 stack[32];
	u64 fp[3];		/* the frame pointer of frames 0, 1, 2 */
	u64 ret[3];
};

static void chain_build(struct chain *c, u64 ret3)
{
	memset(c, 0, sizeof(*c));
	c->ret[0] = CODE_LO + 0x1000;
	c->ret[1] = CODE_LO + 0x2000;
	c->ret[2] = ret3;
	for (int i = 0; i < 3; i++)
		c->fp[i] = SP + 0x10 + 0x20 * (u64)i;
	for (int i = 0; i < 3; i++) {
		u64 at = (c->fp[i] - SP) / 8;

		c->stack[at] = i < 2 ? c->fp[i + 1] : SP + 0x200;
		c->stack[at + 1] = c->ret[i];
	}
	c->regs[ML_REG_IP] = CODE_LO + 0x100;
	c->regs[ML_REG_SP] = SP;
	c->regs[ML_REG_BP] = c->fp[0];
}

static int walk(struct unwinder *u, const struct chain *c, u32 len, u32 evf,
		u64 *pcs, u64 *fps, u32 max, u32 *n, u32 *sf)
{
	return unwinder_walk(u, TID, c->regs, c->stack, len, evf, pcs, fps,
			     max, n, sf);
}

static void test_walk(struct unwinder *u, struct fake *f)
{
	struct chain c;
	u64 pcs[16], fps[16];
	u32 n = 0, sf = 0;
	int ret;

	/* The third return address is junk: the walk ends before it. */
	chain_build(&c, 0x3);
	ret = walk(u, &c, sizeof(c.stack), 0, pcs, fps, 16, &n, &sf);
	T_CHECKF("walk: pcs along the frame-pointer chain",
		 ret == 0 && n == 3 && pcs[0] == c.regs[ML_REG_IP] &&
		 pcs[1] == c.ret[0] && pcs[2] == c.ret[1],
		 "ret %d n %u pcs %#llx %#llx %#llx", ret, n,
		 (unsigned long long)pcs[0], (unsigned long long)pcs[1],
		 (unsigned long long)pcs[2]);
	T_CHECKF("walk: frame pointers of each frame",
		 n == 3 && fps[0] == c.fp[0] && fps[1] == c.fp[1] &&
		 fps[2] == c.fp[2], "fps %#llx %#llx %#llx",
		 (unsigned long long)fps[0], (unsigned long long)fps[1],
		 (unsigned long long)fps[2]);
	T_CHECKF("walk: junk return address is a truncation, asked of is_code",
		 sf == ML_SF_TRUNCATED && f->is_code_calls >= 3,
		 "sflags %#x is_code calls %u", sf, f->is_code_calls);

	/* All code: the walk reads past the copy, which the event says was
	 * cut short. */
	chain_build(&c, CODE_LO + 0x3000);
	ret = walk(u, &c, sizeof(c.stack), ML_EVF_STACK_TRUNCATED, pcs, fps,
		   16, &n, &sf);
	T_CHECKF("walk: beyond a truncated copy",
		 ret == 0 && n == 4 && pcs[3] == c.ret[2] &&
		 sf == ML_SF_TRUNCATED, "ret %d n %u sflags %#x", ret, n, sf);
	ret = walk(u, &c, sizeof(c.stack), 0, pcs, fps, 16, &n, &sf);
	T_CHECKF("walk: beyond a whole copy is an error",
		 ret == 0 && n == 4 && sf == ML_SF_UNWIND_ERR,
		 "ret %d n %u sflags %#x", ret, n, sf);
	ret = walk(u, &c, sizeof(c.stack), 0, pcs, NULL, 2, &n, &sf);
	T_CHECK("walk: max frames, fps not wanted", ret == 0 && n == 2);
	ret = unwinder_walk(u, 0, c.regs, c.stack, sizeof(c.stack), 0, pcs,
			    NULL, 16, &n, &sf);
	T_CHECK("walk: tid 0 is -EINVAL", ret == -EINVAL);
}

static void test_cache(struct unwinder *u, struct fake *f)
{
	struct chain c;
	u64 pcs[16], fps[16], h0, h1, h2, m;
	u32 n = 0, sf = 0, calls;

	chain_build(&c, 0x3);
	walk(u, &c, sizeof(c.stack), 0, pcs, fps, 16, &n, &sf);
	unwinder_stats(u, &h0, &m);
	calls = f->is_code_calls;
	memset(fps, 0, sizeof(fps));
	walk(u, &c, sizeof(c.stack), 0, pcs, fps, 16, &n, &sf);
	unwinder_stats(u, &h1, &m);
	T_CHECKF("cache: a repeated walk is a hit with the same answer",
		 h1 == h0 + 1 && calls == f->is_code_calls && n == 3 &&
		 pcs[2] == c.ret[1] && fps[2] == c.fp[2] &&
		 sf == ML_SF_TRUNCATED, "hits %llu -> %llu n %u",
		 (unsigned long long)h0, (unsigned long long)h1, n);
	f->mod_gen++;
	walk(u, &c, sizeof(c.stack), 0, pcs, fps, 16, &n, &sf);
	unwinder_stats(u, &h2, &m);
	T_CHECK("cache: modules changed, walked again", h2 == h1 && n == 3);
	/* A walk cut at non-code depends on the maps too. */
	f->maps_gen++;
	walk(u, &c, sizeof(c.stack), 0, pcs, fps, 16, &n, &sf);
	unwinder_stats(u, &h1, &m);
	T_CHECK("cache: maps read again, a cut walk is walked again", h1 == h2);
}

static void test_modules_change(struct unwinder *u, struct fake *f)
{
	const struct unwind_modules mods = {
		.ctx = f, .dwfl = f_dwfl, .is_code = f_is_code, .gens = f_gens,
	};
	struct unwinder *other = NULL;
	struct chain c;
	u64 pcs[16];
	u32 n = 0, sf = 0;
	int ret;
	Dwfl *old = f->dwfl;

	chain_build(&c, 0x3);
	/* After exec the modules are a new Dwfl: attached again. */
	f->dwfl = dwfl_begin(&no_modules);
	f->mod_gen++;
	dwfl_end(old);
	ret = walk(u, &c, sizeof(c.stack), 0, pcs, NULL, 16, &n, &sf);
	T_CHECKF("new Dwfl: walks", ret == 0 && n == 3 && sf == ML_SF_TRUNCATED,
		 "ret %d n %u sflags %#x", ret, n, sf);

	/* Another unwinder cannot take a Dwfl ours is attached to. */
	c.regs[ML_REG_IP] += 4;	/* not the cached walk */
	T_CHECK("second unwinder: new", unwinder_new(&other, &mods) == 0);
	ret = walk(other, &c, sizeof(c.stack), 0, pcs, NULL, 16, &n, &sf);
	T_CHECK("second unwinder: pc only, flagged",
		ret == 0 && n == 1 && sf == ML_SF_UNWIND_ERR);
	unwinder_free(other);

	/* No modules yet (or the process is gone): pc only, flagged. */
	old = f->dwfl;
	f->dwfl = NULL;
	f->mod_gen++;
	ret = walk(u, &c, sizeof(c.stack), 0, pcs, NULL, 16, &n, &sf);
	T_CHECK("no Dwfl: pc only, flagged",
		ret == 0 && n == 1 && pcs[0] == c.regs[ML_REG_IP] &&
		sf == ML_SF_UNWIND_ERR);
	f->dwfl = old;
}

int main(void)
{
	struct fake f;
	struct unwind_modules mods;
	struct unwinder *u = NULL;

	if (fake_init(&f) < 0) {
		T_CHECK("fake modules", false);
		T_END();
	}
	mods = (struct unwind_modules){
		.ctx = &f, .dwfl = f_dwfl, .is_code = f_is_code, .gens = f_gens,
	};
	T_CHECK("unwinder_new", unwinder_new(&u, &mods) == 0);
	if (!u)
		T_END();
	test_walk(u, &f);
	test_cache(u, &f);
	test_modules_change(u, &f);
	unwinder_free(u);
	unwinder_free(NULL);
	fake_release(&f);
	T_END();
}
