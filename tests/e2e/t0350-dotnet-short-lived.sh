#!/bin/bash
# A short-lived .NET program in launch mode (issue "names a user can
# trust"): `mapleak record -- dotnet MyConsoleApp.dll --exit` leaks 64 MiB
# (Main -> MyTest -> IL_STUB_PInvoke -> mmap_allocation) and returns from
# Main at once, so the runtime is gone a moment after the leak, often
# before mapleak's periodic read of its perf map. Every managed frame must
# still be named, in every run, from what the runtime wrote before it
# exited; and no /tmp/perf-PID.map (nor .NET 8's perfinfo-PID.map) that
# mapleak's DOTNET_PerfMapEnabled=3 caused is left behind.
#
# On .NET 10 (the SDK's runtime, `dotnet APP.dll`) and on .NET 8 (the
# seed article's runtime, a self-contained build of the same source).
# Each runtime: SHORT_RUNS runs (default 5; the proof in docs used 20)
# as `mapleak record -- APP`, then 2 as the seed article ran it, with the
# user's own DOTNET_PerfMapEnabled=1, whose files are the user's and stay.
E2E_TIMEOUT=${E2E_TIMEOUT:-600}
. "$(dirname "$0")/lib.sh"

require_root
require_bpf
require_python
require_dotnet
require_mapleak
require_fixture libExample-small.so dotnet/MyConsoleApp8/MyConsoleApp

RUNS=${SHORT_RUNS:-5}
LINE=$(mmap_line)
LIB=$FIX/libExample-small.so

# The .NET 8 build really runs .NET 8 (its own runtime, not the SDK's).
v8=$(grep -o 'Microsoft.NETCore.App.Runtime.linux-x64/[0-9.]*' \
	"$FIX/dotnet/MyConsoleApp8/MyConsoleApp.deps.json" | head -n1 | cut -d/ -f2)
case $v8 in
8.*) ok "the .NET 8 fixture is self-contained with runtime $v8" ;;
*) not_ok "the .NET 8 fixture is self-contained with a .NET 8 runtime: expected 8.x, got '$v8'" ;;
esac

# run RT I ENV: one launch; RT is 10 or 8, ENV "" (mapleak sets the
# variable) or "user" (DOTNET_PerfMapEnabled=1 set by the user).
run() {
	local rt=$1 i=$2 how=$3 tag="net$1 run $2"
	local data=$T/$rt-$i-$how.data app env=(env -u DOTNET_PerfMapEnabled
		-u COMPlus_PerfMapEnabled DOTNET_CLI_TELEMETRY_OPTOUT=1) pid rc f left=

	if [ "$rt" = 10 ]; then
		app=(dotnet "$FIX/dotnet/MyConsoleApp/MyConsoleApp.dll")
	else
		app=("$FIX/dotnet/MyConsoleApp8/MyConsoleApp")
	fi
	if [ "$how" = user ]; then
		env+=(DOTNET_PerfMapEnabled=1)
		tag="$tag, the user's DOTNET_PerfMapEnabled=1"
	fi
	timeout 120 "${env[@]}" "$MAPLEAK" record -o "$data" -- "${app[@]}" --exit "$LIB" \
		>"$T/rec.out" 2>"$T/rec.err" </dev/null
	rc=$?
	pid=$(sed -n 's/^mapleak: recording pid \([0-9]*\) .*/\1/p' "$T/rec.err")
	if [ "$rc" != 0 ] || [ -z "$pid" ]; then
		not_ok "$tag: mapleak record exits 0 and names the pid: got exit $rc"
		show "$T/rec.err"
		return
	fi
	note "$tag: pid $pid, $(grep -o 'in [0-9.]* s' "$T/rec.err")"
	if ! grep -q '^MyConsoleApp: leaked, exiting' "$T/rec.out"; then
		not_ok "$tag: the app leaked and exited by itself"
		show "$T/rec.out"
		show "$T/rec.err"
	fi
	report_json "$data" "$T/$rt-$i.json" || return
	pycheck "$T/$rt-$i.json" "$LINE" "$pid" "$tag" "$rt" <<'PY'
import sys
from report_checks import *

path, line, pid, tag, rt = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
r = load_json(path)
t = r.get("target") or {}
check(t.get("pid") == pid and r.get("stopped_by") == "exit",
      "%s: the recording ends when the program exits" % tag,
      "pid %d, stopped_by exit" % pid, "pid %s, stopped_by %s"
      % (t.get("pid"), r.get("stopped_by")))
sites = r.get("sites") or []
top = sites[0] if sites else {}
frames = top.get("frames") or []
check(top.get("bytes") == 64 << 20 and top.get("mappings") == 16,
      "%s: the top site is the 64 MiB leak in 16 mappings" % tag,
      "67108864 bytes in 16 mappings", site_str(top) if top else "no site")
chain = ["mmap_allocation", "IL_STUB_PInvoke",
         "MyConsoleApp.Program::MyTest", "MyConsoleApp.Program::Main"]
i = find_in_order(frames, [sym_is("mmap_allocation")] +
                  [sym_has(c) for c in chain[1:]])
check(i is not None, "%s: every managed frame is named, in order: %s"
      % (tag, " <- ".join(chain)), " <- ".join(chain), stack_str(frames, 12))
if i is not None:
    mm = frames[i[0]]
    check(mm.get("line") == line, "%s: mmap_allocation at Example.c:%d" % (tag, line),
          line, mm.get("line"))
    bad = [k for k in range(i[0], i[-1] + 1) if unnamed(frames[k])]
    check(not bad, "%s: no unnamed frame from mmap_allocation to Main" % tag,
          "none", "%s in %s" % (bad, stack_str(frames, 12)))
    kinds = [frames[k].get("kind") for k in i[1:]]
    check(kinds == ["jit"] * 3, "%s: the managed frames are JIT code" % tag,
          ["jit"] * 3, kinds)
# Which runtime ran: its libcoreclr.so is in the stack below Main.
mods = [f.get("module") or "" for f in frames]
core = [m for m in mods if m.endswith("/libcoreclr.so")]
want = "/MyConsoleApp8/" if rt == "8" else "/Microsoft.NETCore.App/10."
check(core and want in core[0], "%s: runs on .NET %s" % (tag, rt),
      "libcoreclr.so under ..." + want, core[0] if core else "no libcoreclr frame")
PY
	for f in "/tmp/perf-$pid.map" "/tmp/perfinfo-$pid.map" "/tmp/jit-$pid.dump"; do
		[ -e "$f" ] && left="$left $f"
	done
	if [ "$how" = user ]; then
		# The user's own setting: the files are theirs, mapleak leaves them.
		if [ -e "/tmp/perf-$pid.map" ]; then
			ok "$tag: the perf map the user asked for is left to the user"
		else
			not_ok "$tag: the perf map the user asked for is left to the user: /tmp/perf-$pid.map is gone"
		fi
	elif [ -z "$left" ]; then
		ok "$tag: no perf map, perfinfo or jitdump file left in /tmp"
	else
		not_ok "$tag: no perf map, perfinfo or jitdump file left in /tmp: found$left"
	fi
	rm -f "/tmp/perf-$pid.map" "/tmp/perfinfo-$pid.map" "/tmp/jit-$pid.dump"
}

for rt in 10 8; do
	for i in $(seq "$RUNS"); do
		run "$rt" "$i" ""
	done
	for i in 1 2; do
		run "$rt" "$i" user
	done
done
finish
