#!/bin/bash
# The BPF program cross-compiles for arm64 (make bpf-arm64: compile only,
# against the minimal src/collect/vmlinux_arm64.h) into an object libbpf
# opens, with the same programs as the native one and the arm64 pt_regs
# in its CO-RE types (not x86's: the arch header was followed).
cd "$(dirname "$0")/.."
O=${O:-build}
rc=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; rc=1; }

out=$(make --no-print-directory -s bpf-arm64 2>&1)
if [ $? -ne 0 ] || [ ! -s "$O/arm64/mapleak.bpf.o" ]; then
	printf '%s\n' "$out" | head -20 | sed 's/^/# /'
	bad "make bpf-arm64 compiles the BPF program for arm64"
	exit 1
fi
ok "make bpf-arm64 compiles the BPF program for arm64"

obj=$O/arm64/mapleak.bpf.o
# e_machine (offset 18, little endian) 247 = EM_BPF
mach=$(od -An -tu2 -j18 -N2 "$obj" | tr -d ' ')
[ "$mach" = 247 ] && ok "it is an eBPF object" || bad "it is an eBPF object (e_machine $mach)"

# bpftool parses it with libbpf (sections, maps, BTF) as the loader would
if bpftool gen skeleton "$obj" name ml_arm64 >/dev/null 2>"$O/arm64/skel.err"; then
	ok "libbpf opens it (bpftool gen skeleton)"
else
	sed 's/^/# /' "$O/arm64/skel.err" | head; bad "libbpf opens it (bpftool gen skeleton)"
fi

progs() { llvm-readelf -S "$1" | grep -o 'tp_btf/[a-z_]*' | sort -u; }
if [ -s "$O/mapleak.bpf.o" ]; then
	if [ "$(progs "$obj")" = "$(progs "$O/mapleak.bpf.o")" ] && [ -n "$(progs "$obj")" ]; then
		ok "same programs as the native object: $(progs "$obj" | tr '\n' ' ')"
	else
		bad "same programs as the native object: arm64 [$(progs "$obj" | tr '\n' ' ')], native [$(progs "$O/mapleak.bpf.o" | tr '\n' ' ')]"
	fi
fi

btf=$(bpftool btf dump file "$obj" 2>/dev/null)
if grep -q "'syscallno'" <<<"$btf" && ! grep -q "'orig_ax'" <<<"$btf"; then
	ok "it reads arm64's pt_regs (syscallno), not x86's (orig_ax)"
else
	bad "it reads arm64's pt_regs (syscallno), not x86's (orig_ax)"
fi

# The arm64 syscall numbers are the kernel's generic table's (the native
# ones are checked against <sys/syscall.h> where collect.c is compiled).
chk=$(mktemp)
cat >"$chk" <<'C'
#include <asm-generic/unistd.h>
#include "arch/arm64.h"
#define SAME(n) _Static_assert(ML_NR_##n == __NR_##n, #n);
SAME(mmap) SAME(munmap) SAME(mremap) SAME(mprotect) SAME(brk)
SAME(shmat) SAME(shmdt) SAME(pkey_mprotect)
C
if ${CC:-cc} -fsyntax-only -Isrc -x c "$chk" 2>"$chk.err"; then
	ok "arm64 syscall numbers match asm-generic/unistd.h"
else
	sed 's/^/# /' "$chk.err" | head; bad "arm64 syscall numbers match asm-generic/unistd.h"
fi
rm -f "$chk" "$chk.err"
exit $rc
