#!/bin/bash
# The seed scenario rendered in every report format, each read by the
# tool it is for: folded (flame graph input), pprof (go tool pprof -top,
# protoc --decode), speedscope (its JSON Schema, python3-jsonschema), html
# (headless Chromium: runs without errors, the DOM holds the 1 GiB frames).
# Then --group-by thread and --fail-over both ways (exit 3 over, 0 under).
# the watchdog starts in lib.sh: a leak of 1 GiB takes 20 s on a loaded machine
E2E_TIMEOUT=${E2E_TIMEOUT:-240}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/formats-lib.sh"

require_root
require_bpf
require_python
require_mapleak
require_fixture libExample.so seed-fp
require_chromium
command -v go >/dev/null 2>&1 || skip_all "go is not installed (Debian package golang-go)"
command -v protoc >/dev/null 2>&1 || skip_all "protoc is not installed (Debian package protobuf-compiler)"
python3 -c 'import jsonschema' 2>/dev/null ||
	skip_all "python3-jsonschema is not installed"

DATA=$T/seed.data
GIB=$((1 << 30))

# ---- record the seed, launch mode, until it has leaked ----
make_fifo in
start_bg rec "$T/in.fifo" "$MAPLEAK" record -o "$DATA" -- "$FIX/seed-fp" \
	--pid-file "$T/seed.pid"
REC=$BG_PID
track_pid_file "$T/seed.pid"
wait_recording "$REC" "$T/rec.err" || finish
echo go >&"$FIFO_FD"
wait_for 120 grep -q '^seed: leaked' "$T/rec.out" ||
	bail "the seed reports its leak within 120 s"
kill -INT "$REC"
wait_exit "$REC" 60 || bail "mapleak record ends within 60 s of SIGINT"
check_rc "mapleak record -- seed-fp" 0 "$EXIT_STATUS" "$T/rec.err" || finish
SEED_PID=$(pid_from_file "$T/seed.pid")

report() {	# report NAME ARGS...: mapleak report -i DATA ARGS, expecting 0
	local name=$1 rc
	shift
	timeout 60 "$MAPLEAK" report -i "$DATA" "$@" >"$T/$name.out" 2>"$T/$name.err"
	rc=$?
	check_rc "mapleak report $*" 0 "$rc" "$T/$name.err"
}

# ---- folded ----
report folded --format folded
top=$(head -n1 "$T/folded.out")
bytes=${top##* }
stack=${top% *}
case $stack in
*";main;MyTest;mmap_allocation;"*) ok "folded: the top line is main;MyTest;mmap_allocation, root first" ;;
*) not_ok "folded: the top line is main;MyTest;mmap_allocation, root first: got '$stack'" ;;
esac
if [ "$bytes" -ge "$GIB" ] 2>/dev/null; then
	ok "folded: the top line holds >= 1 GiB ($bytes)"
else
	not_ok "folded: the top line holds >= 1 GiB: got '$bytes'"
fi
if awk '!/^[^ ].* [0-9]+$/ { bad++ } END { exit bad > 0 }' "$T/folded.out"; then
	ok "folded: every line is 'frames count'"
else
	not_ok "folded: every line is 'frames count'"
	show "$T/folded.out"
fi

# ---- pprof ----
report pprof --format pprof -o "$T/seed.pb.gz"
HOME=$T PPROF_TMPDIR=$T timeout 120 go tool pprof -top -sample_index=space "$T/seed.pb.gz" \
	>"$T/pprof.top" 2>"$T/pprof.err"
check_rc "go tool pprof -top reads the profile" 0 $? "$T/pprof.err"
# "1GB" or "1024MB": pprof's own units; the cum column of mmap_allocation
if awk '$NF == "mmap_allocation" && ($4 ~ /^1(\.0+)?GB$/ || $4 ~ /^102[0-9](\.[0-9]+)?MB$/) { f = 1 }
	END { exit !f }' "$T/pprof.top"; then
	ok "pprof: mmap_allocation holds 1 GiB (cum)"
else
	not_ok "pprof: mmap_allocation holds 1 GiB (cum)"
	show "$T/pprof.top" 25
fi
grep -q '^Type: space' "$T/pprof.top" && ok "pprof: the default sample type is space" ||
	not_ok "pprof: the default sample type is space"
HOME=$T timeout 120 go tool pprof -top -sample_index=mappings "$T/seed.pb.gz" \
	>"$T/pprof-m.top" 2>"$T/pprof-m.err"
if awk '$NF == "mmap_allocation" && $4 == 256 { f = 1 } END { exit !f }' "$T/pprof-m.top"; then
	ok "pprof: mmap_allocation holds 256 mappings (sample type mappings)"
else
	not_ok "pprof: mmap_allocation holds 256 mappings (sample type mappings)"
	show "$T/pprof-m.top" 25
fi
gzip -dc "$T/seed.pb.gz" >"$T/seed.pb" || not_ok "pprof: the file is gzip"
protoc --proto_path="$ROOT/src/report" --decode=perftools.profiles.Profile profile.proto \
	<"$T/seed.pb" >"$T/seed.pb.txt" 2>"$T/protoc.err"
check_rc "protoc --decode=perftools.profiles.Profile" 0 $? "$T/protoc.err"
pycheck "$T/seed.pb.txt" <<'PY'
import re, sys
from report_checks import check
t = open(sys.argv[1]).read()
strings = re.findall(r'^string_table: "(.*)"$', t, re.M)
check(strings[:1] == [""], "protoc: string_table[0] is empty", '""', strings[:1])
for s in ("space", "mappings", "resident", "reserved", "mmap_allocation", "MyTest"):
    check(s in strings, "protoc: string table holds %r" % s)
check(any(s.endswith("Example.c") for s in strings), "protoc: a file name ends in Example.c")
check(any(s.endswith("libExample.so") for s in strings), "protoc: the module libExample.so is a mapping")
check(re.search(r'^mapping \{\n  id: 1\n', t, re.M) is not None, "protoc: mapping 1 exists")
check(re.search(r'build_id: [1-9]', t) is not None, "protoc: some mapping carries a build id")
PY

# ---- speedscope ----
report speedscope --format speedscope -o "$T/seed.speedscope.json"
pycheck "$T/seed.speedscope.json" "$ROOT/tests/data/speedscope-schema.json" "$GIB" <<'PY'
import json, sys
import jsonschema
from report_checks import check
doc = json.load(open(sys.argv[1]))
schema = json.load(open(sys.argv[2]))
gib = int(sys.argv[3])
try:
    jsonschema.validate(doc, schema)
    check(True, "speedscope: valid against the speedscope file-format schema")
except jsonschema.ValidationError as e:
    check(False, "speedscope: valid against the speedscope file-format schema", "valid", e.message)
profs = doc.get("profiles", [])
check([p.get("unit") for p in profs] == ["bytes", "none", "bytes", "bytes"],
      "speedscope: one profile per sample type", "bytes,none,bytes,bytes",
      [p.get("unit") for p in profs])
frames = doc["shared"]["frames"]
p0 = profs[0]
top = max(range(len(p0["weights"])), key=lambda i: p0["weights"][i])
names = [frames[i]["name"] for i in p0["samples"][top]]
check(p0["weights"][top] >= gib, "speedscope: the heaviest sample is >= 1 GiB", ">= %d" % gib, p0["weights"][top])
check("mmap_allocation" in names and names.index("main") < names.index("MyTest") < names.index("mmap_allocation"),
      "speedscope: its stack is main -> MyTest -> mmap_allocation, root first", None, names)
PY

# ---- html ----
report html --format html -o "$T/seed.html"
if grep -qiE '<(script|link|img|iframe)[^>]+(src|href)=' "$T/seed.html"; then
	not_ok "html: the page loads nothing from elsewhere"
else
	ok "html: the page loads nothing from elsewhere"
fi
chromium_load "$T/seed.html" seed-html shot
check_rc "chromium loads the page" 0 $? "$T/seed-html.log"
check_console seed-html
pycheck "$T/seed-html.dom" "$GIB" <<'PY'
import sys
from dom_checks import load_dom, check_page_ran
from report_checks import check
d = load_dom(sys.argv[1])
gib = int(sys.argv[2])
check_page_ran(d, "html")
by = {}
for f in d.frames:
    by[f["name"]] = max(by.get(f["name"], 0), f["bytes"])
for n in ("mmap_allocation", "MyTest", "main"):
    check(by.get(n, 0) >= gib, "html: the flame graph has a %s frame of >= 1 GiB" % n, ">= %d" % gib, by.get(n))
leak = [f for f in d.frames if f["name"] == "mmap_allocation"]
check(leak and "GiB" in leak[0]["text"], "html: the leak's frame shows its size in its label",
      "'... GiB'", leak[0]["text"] if leak else None)
check("live:" in d.head and "1.0 GiB" in d.head, "html: the report header is on the page", "live: ... 1.0 GiB", d.head[:300])
PY
# search and zoom, driven through the page's #search= and #zoom= links
chromium_load "$T/seed.html#search=MyTest" search
check_rc "chromium loads the page with #search=MyTest" 0 $? "$T/search.log"
chromium_load "$T/seed.html#zoom=MyTest" zoom
check_rc "chromium loads the page with #zoom=MyTest" 0 $? "$T/zoom.log"
check_console search
check_console zoom
pycheck "$T/search.dom" "$T/zoom.dom" "$GIB" <<'PY'
import re, sys
from dom_checks import load_dom, check_page_ran
from report_checks import check
s, z, gib = load_dom(sys.argv[1]), load_dom(sys.argv[2]), int(sys.argv[3])
check_page_ran(s, "search")
m = sorted({f["name"] for f in s.frames if f["match"]})
check(m == ["MyTest"], "search: exactly the MyTest frames are highlighted", ["MyTest"], m)
check(int(s.flame.get("data-matched", "0")) >= gib, "search: the status counts >= 1 GiB matched",
      ">= %d" % gib, s.flame.get("data-matched"))
check_page_ran(z, "zoom")
check(z.flame.get("data-zoom") == "MyTest", "zoom: the view is zoomed to MyTest", "MyTest", z.flame.get("data-zoom"))
def width(f):
    w = re.search(r"width:\s*([0-9.]+)px", f["style"])
    return float(w.group(1)) if w else 0
mt = [f for f in z.frames if f["name"] == "MyTest" and not f["dim"]]
full = max((width(f) for f in z.frames), default=0)
check(mt and width(mt[0]) >= full * 0.99, "zoom: MyTest spans the whole width", full, [width(f) for f in mt])
dim = sorted({f["name"] for f in z.frames if f["dim"]})
check("main" in dim and "_start" in dim and "MyTest" not in dim,
      "zoom: its callers are drawn dimmed, below it", "main, _start dimmed", dim)
PY
[ -s "$T/seed-html.png" ] && ok "html: a screenshot was taken ($(stat -c %s "$T/seed-html.png") bytes)" ||
	not_ok "html: a screenshot was taken"

# ---- --group-by thread ----
report thread --group-by thread
if grep -qE "^  thread $SEED_PID +1\.0 GiB" "$T/thread.out"; then
	ok "group-by thread: the seed's main thread holds 1.0 GiB"
else
	not_ok "group-by thread: the seed's main thread holds 1.0 GiB"
	show "$T/thread.out" 30
fi
report thread-folded --group-by thread --format folded
head -n1 "$T/thread-folded.out" | grep -q "^thread $SEED_PID;" &&
	ok "group-by thread: folded stacks start at the thread" ||
	not_ok "group-by thread: folded stacks start at the thread: $(head -c 200 "$T/thread-folded.out")"

# ---- --fail-over ----
timeout 60 "$MAPLEAK" report -i "$DATA" --fail-over 100M >"$T/over.out" 2>"$T/over.err"
check_rc "--fail-over 100M with a 1 GiB leak" 3 $? "$T/over.err"
grep -q "over the limit of 100.0 MiB" "$T/over.err" && ok "--fail-over says why" ||
	{ not_ok "--fail-over says why"; show "$T/over.err"; }
[ -s "$T/over.out" ] && ok "--fail-over still prints the report" ||
	not_ok "--fail-over still prints the report"
timeout 60 "$MAPLEAK" report -i "$DATA" --fail-over 2G >"$T/under.out" 2>"$T/under.err"
check_rc "--fail-over 2G with a 1 GiB leak" 0 $? "$T/under.err"
timeout 60 "$MAPLEAK" report -i "$DATA" --fail-over lots >/dev/null 2>"$T/bad.err"
check_rc "--fail-over with a bad size is a usage error" 2 $? "$T/bad.err"

ours "$SEED_PID" && stop_pid "$SEED_PID"
finish
