#!/bin/bash
# Native names a user can trust (issue 6, items 1, 6, 7).
#
# 1. The seed linked by ld.bfd (gcc) and by lld (clang), whose segments
#    share file pages (the layout of .NET's libraries, where names were a
#    function off): the stack is mmap_allocation (Example.c, the mmap
#    line) <- MyTest <- main, and every frame of the fixture's files agrees
#    with addr2line at nm(symbol) + offset.
# 6. No frame outside a known mapping (junk return addresses end a walk).
#    resolve -p names an address of the lld library the same way.
# 7. The headline names the program's frames: through a stripped library
#    (an unnamed frame) and malloc, "held by hidden_lib_entry <-
#    leak_via_lib <- main"; through malloc alone, "held by leak_big";
#    the full stack below still lists malloc and the unnamed frame.
# Three recordings and their reports: more than the default minute on a
# loaded machine.
E2E_TIMEOUT=${E2E_TIMEOUT:-180}
. "$(dirname "$0")/lib.sh"

require_root
require_bpf
require_python
require_mapleak
require_fixture libExample.so seed-fp lld/libExample.so lld/seed \
	libhidden.so headline
command -v addr2line >/dev/null && command -v nm >/dev/null ||
	bail "addr2line and nm (binutils) are installed"

LINE=$(mmap_line)

# record NAME PROGRAM ARG...: launch mode, until the program exits.
record() {
	local name=$1
	shift
	timeout 60 "$MAPLEAK" record -o "$T/$name.data" -- "$@" \
		>"$T/$name.out" 2>"$T/$name.err"
	check_rc "$name: mapleak record" 0 $? "$T/$name.err" || return 1
}

seed() {
	local v=$1 exe=$2
	note "seed linked by $v"
	record "seed-$v" "$exe" --no-wait --exit-after 1 || return
	report_json "$T/seed-$v.data" "$T/seed-$v.json" || return
	pycheck "$T/seed-$v.json" "$LINE" "$v" "$(dirname "$exe")" <<'PY'
import subprocess, sys
from report_checks import *
path, line, v, fixdir = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
r = load_json(path)
top = check_seed_site(r, line, inner=["MyTest", "main"])
frames = (top or {}).get("frames") or []

def nm_value(module, sym):
    out = subprocess.run(["nm", "--defined-only", module], capture_output=True,
                         text=True).stdout
    for l in out.splitlines():
        f = l.split()
        if len(f) == 3 and f[2] == sym:
            return int(f[0], 16)
    return None

checked = 0
for i, fr in enumerate(frames):
    mod = fr.get("module") or ""
    if not mod.startswith(fixdir + "/") or not fr.get("symbol"):
        continue
    sv = nm_value(mod, fr["symbol"])
    if not check(sv is not None, "%s: nm knows %s" % (v, fr["symbol"]),
                 fr["symbol"], None):
        continue
    # A return address (frames past #0): addr2line names the call.
    elf = sv + fr.get("offset", 0) - (1 if i > 0 else 0)
    out = subprocess.run(["addr2line", "-f", "-e", mod, hex(elf)],
                         capture_output=True, text=True).stdout.split("\n")
    fn, where = (out + ["", ""])[:2]
    check(fn == fr["symbol"], "%s: addr2line at %s+%#x is %s" %
          (v, base(mod), elf, fr["symbol"]), fr["symbol"], fn)
    # No DWARF (crt1's _start): addr2line knows no line either.
    want = ("%s:%s" % (base(fr.get("file")), fr.get("line"))
            if fr.get("file") else "??:?")
    got = base(where.split(" ")[0]).replace("??:0", "??:?")
    check(got == want, "%s: %s's file:line is addr2line's" % (v, fr["symbol"]),
          want, got)
    checked += 1
check(checked >= 3, "%s: mmap_allocation, MyTest and main checked" % v,
      ">= 3", checked)
check(all(fr.get("module") for fr in frames),
      "%s: every frame is in a mapping (no junk)" % v, "modules",
      stack_str(frames))
PY
}

seed gcc "$FIX/seed-fp"
seed lld "$FIX/lld/seed"

# resolve -p shares the rule: an address in the lld library, from the
# loader's base (its first mapping: the library's lowest p_vaddr is 0).
note "resolve -p on the lld seed"
make_fifo resolve
start_bg seed-resolve "$T/resolve.fifo" "$FIX/lld/seed" --pid-file "$T/resolve.pid"
track_pid_file "$T/resolve.pid"
if wait_for 20 grep -q '^seed: pid' "$T/seed-resolve.out"; then
	pid=$(pid_from_file "$T/resolve.pid")
	lo=$(awk '/\/lld\/libExample\.so$/ {split($1, a, "-"); print a[1]; exit}' "/proc/$pid/maps")
	sv=$(nm --defined-only "$FIX/lld/libExample.so" | awk '$3 == "mmap_allocation" {print $1}')
	addr=$(printf '%x' $((0x$lo + 0x$sv + 5)))
	timeout 30 "$MAPLEAK" resolve -p "$pid" "$addr" >"$T/resolve.txt" 2>&1
	if grep -q "mmap_allocation+0x5 .*Example\.c:" "$T/resolve.txt"; then
		ok "resolve -p: $addr is mmap_allocation+0x5 (Example.c)"
	else
		not_ok "resolve -p: $addr is mmap_allocation+0x5"
		show "$T/resolve.txt"
	fi
	echo go >&"$FIFO_FD"
	stop_pid "$pid"
else
	not_ok "resolve: the lld seed started"
	show "$T/seed-resolve.err"
fi

note "headline through a stripped library and malloc"
if record headline "$FIX/headline" --exit-after 1; then
	timeout 60 "$MAPLEAK" report -i "$T/headline.data" >"$T/headline.txt" \
		2>"$T/headline.txt.err"
	check_rc "headline: mapleak report" 0 $? "$T/headline.txt.err"
	if grep -Eq '^#[0-9] 48\.[0-9] MiB in 1 mapping, held by hidden_lib_entry \(libhidden\.so\) <- leak_via_lib \(headline, headline\.c:[0-9]+\) <- main \(headline' "$T/headline.txt"; then
		ok "headline: 'held by hidden_lib_entry (libhidden.so) <- leak_via_lib <- main', past malloc and the unnamed frame"
	else
		not_ok "headline: 'held by hidden_lib_entry (libhidden.so) <- leak_via_lib <- main'"
		show "$T/headline.txt" 30
	fi
	if grep -Eq '^#[0-9] 32\.[0-9] MiB in 1 mapping, held by leak_big \(headline, headline\.c:[0-9]+\) <- main \(headline' "$T/headline.txt"; then
		ok "headline: 'held by leak_big <- main', not malloc"
	else
		not_ok "headline: 'held by leak_big <- main'"
		show "$T/headline.txt" 30
	fi
	report_json "$T/headline.data" "$T/headline.json" &&
		pycheck "$T/headline.json" <<'PY'
import sys
from report_checks import *
r = load_json(sys.argv[1])
sites = r.get("sites") or []
# (the first malloc also grows the heap by brk: a smaller site)
lib = [s for s in sites if find_in_order(s.get("frames") or [],
                                         [sym_is("hidden_lib_entry")])
       and s.get("bytes", 0) >= 48 << 20]
if check(len(lib) == 1, "one 48 MiB site through hidden_lib_entry", 1,
         len(lib)):
    fr = lib[0]["frames"]
    i = find_in_order(fr, [sym_has("malloc"), lambda f: unnamed(f) and
                           base(f.get("module")) == "libhidden.so",
                           sym_is("hidden_lib_entry"), sym_is("leak_via_lib"),
                           sym_is("main")])
    check(i is not None, "the full stack keeps malloc and the unnamed frame",
          "malloc <- libhidden.so+0x.. <- hidden_lib_entry <- leak_via_lib <- main",
          stack_str(fr))
    check(all(f.get("module") for f in fr), "every frame is in a mapping",
          "modules", stack_str(fr))
PY
fi
finish
