#!/bin/bash
# Terminal escapes: a target (run by an unprivileged user) whose comm,
# command line, mapped file name and perf-map JIT name hold ESC
# sequences, \r, C1 controls (U+009B as UTF-8) and invalid UTF-8. What
# mapleak prints in text (record's stderr, report, resolve -p, resolve -i)
# holds no raw control byte and only valid UTF-8 without C1 controls,
# and each evil string is still shown, escaped as \xNN.
E2E_TIMEOUT=${E2E_TIMEOUT:-150}
. "$(dirname "$0")/lib.sh"

require_root
require_bpf
require_python
require_mapleak
[ "$(uname -m)" = x86_64 ] || skip_all "the JIT stub is x86-64 machine code"
sec_user

cat >"$T/evil.py" <<'PY'
import ctypes, mmap, os, sys, time
EVIL = b"\x1b]0;PWNED\x07\x1b[2J\r\xc2\x9b31m\xff"
libc = ctypes.CDLL(None, use_errno=True)
libc.prctl(15, ctypes.c_char_p(b"\x1b[2Jev\r\xc2\x9bil"), 0, 0, 0)  # PR_SET_NAME
print("ready", flush=True)
sys.stdin.readline()
# a file whose name is evil, mapped while traced
path = os.path.join(sys.argv[1].encode(), b"map" + EVIL)
with open(path, "w+b") as f:
    f.write(b"x" * 4096)
    f.flush()
    m = mmap.mmap(f.fileno(), 4096)
# "JIT code" named by the perf map: mmap(NULL, 64K, RW, PRIVATE|ANON)
code = bytes([0xb8, 9, 0, 0, 0, 0x31, 0xff, 0xbe, 0, 0, 1, 0, 0xba, 3, 0, 0, 0,
              0x41, 0xba, 0x22, 0, 0, 0, 0x49, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff,
              0x45, 0x31, 0xc9, 0x0f, 0x05, 0xc3])
jit = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
jit.write(code)
addr = ctypes.addressof(ctypes.c_char.from_buffer(jit))
with open("/tmp/perf-%d.map" % os.getpid(), "wb") as pm:
    pm.write(b"%x %x Evil::JIT%s\n" % (addr, 4096, EVIL))
leak = ctypes.CFUNCTYPE(ctypes.c_void_p)(addr)()
print("jit %x %x" % (addr, leak), flush=True)
time.sleep(600)
PY
chmod 644 "$T/evil.py"

make_fifo in
start_bg tgt "$T/in.fifo" setpriv --reuid="$SEC_UID" --regid="$SEC_GID" --clear-groups \
	--no-new-privs env -i PATH=/usr/bin:/bin HOME="$T/home" TMPDIR=/tmp \
	python3 "$T/evil.py" "$T/home" $'arg\e[2J\r\xc2\x9b\xff'
TGT=$BG_PID
track_pid_file "$T/tgt.pid"
wait_for 10 grep -q '^ready' "$T/tgt.out" || { show "$T/tgt.err"; bail "the evil target starts"; }

start_bg rec /dev/null "$MAPLEAK" record -o "$T/evil.data" --duration 5 -p "$TGT"
REC=$BG_PID
wait_recording "$REC" "$T/rec.err" || bail "mapleak records the evil target"
echo go >&"$FIFO_FD"
wait_for 10 grep -q '^jit ' "$T/tgt.out" || { show "$T/tgt.err"; bail "the evil target runs its JIT stub"; }
ADDR=0x$(sed -n 's/^jit \([0-9a-f]*\) .*/\1/p' "$T/tgt.out")
if wait_exit "$REC" 30; then
	check_rc "mapleak record -p (evil target)" 0 "$EXIT_STATUS" "$T/rec.err"
else
	not_ok "mapleak record ends after --duration 5"
	stop_pid "$REC"
fi
PC=$(printf '0x%x' $((ADDR + 35)))	# the return from the syscall
timeout 30 "$MAPLEAK" report -i "$T/evil.data" --top 0 --regions >"$T/report.txt" 2>"$T/report.err"
check_rc "mapleak report (text)" 0 $? "$T/report.err"
timeout 30 "$MAPLEAK" resolve -p "$TGT" "$PC" >"$T/resolve-p.txt" 2>"$T/resolve-p.err"
check_rc "mapleak resolve -p (text)" 0 $? "$T/resolve-p.err"
timeout 30 "$MAPLEAK" resolve -i "$T/evil.data" "$PC" >"$T/resolve-i.txt" 2>"$T/resolve-i.err"
check_rc "mapleak resolve -i (text)" 0 $? "$T/resolve-i.err"
# JSON: a name that is not UTF-8 is cleaned, never refused (one frame
# formatter for report and resolve)
timeout 30 "$MAPLEAK" resolve -i "$T/evil.data" --format json "$PC" \
	>"$T/resolve-i.json" 2>"$T/resolve-i-json.err"
check_rc "mapleak resolve -i --format json (a name not UTF-8)" 0 $? "$T/resolve-i-json.err"
timeout 30 "$MAPLEAK" report -i "$T/evil.data" --format json --top 0 \
	>"$T/report.json" 2>"$T/report-json.err"
check_rc "mapleak report --format json (a name not UTF-8)" 0 $? "$T/report-json.err"
timeout 30 "$MAPLEAK" report -i $'\e]0;PWNED\a\r.data' >"$T/err-arg.txt" 2>"$T/err-arg.err"
check_rc "mapleak report -i ESC-named missing file" 1 $? "$T/err-arg.err"

pycheck "$T" <<'PY'
import os, re, sys
from report_checks import check
T = sys.argv[1]
BAD = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]")

def clean(name):
    data = open(os.path.join(T, name), "rb").read()
    m = BAD.search(data)
    check(m is None, "%s: no raw control byte" % name, "none",
          m and repr(data[max(0, m.start() - 30):m.end() + 30]))
    try:
        text = data.decode("utf-8")
        c1 = [c for c in text if 0x80 <= ord(c) <= 0x9f]
        check(not c1, "%s: no C1 control (U+0080..U+009F)" % name, "none",
              [hex(ord(c)) for c in c1[:5]])
    except UnicodeDecodeError as e:
        check(False, "%s: valid UTF-8" % name, "valid",
              "%s near %r" % (e.reason, data[max(0, e.start - 30):e.end + 30]))
    return data

def shows(name, data, what):
    check(what.encode() in data, "%s shows %s escaped" % (name, what), what,
          "not found")

d = clean("rec.err")
shows("rec.err", d, r"(\x1b[2Jev\x0d\xc2\x9bil)")
d = clean("report.txt")
shows("report.txt", d, r"Evil::JIT\x1b]0;PWNED\x07\x1b[2J\x0d\xc2\x9b31m\xff")
shows("report.txt", d, r"map\x1b]0;PWNED\x07")
shows("report.txt", d, r"arg\x1b[2J\x0d\xc2\x9b\xff")
for n in ("resolve-p.txt", "resolve-i.txt"):
    d = clean(n)
    shows(n, d, r"Evil::JIT\x1b]0;PWNED\x07\x1b[2J\x0d\xc2\x9b31m\xff")
for n in ("report.err", "resolve-p.err", "resolve-i.err"):
    clean(n)
import json
rj = json.load(open(os.path.join(T, "resolve-i.json")))
a = rj["addresses"]
check(len(a) == 1 and (a[0]["symbol"] or "").startswith("Evil::JIT") and
      a[0]["kind"] == "jit", "resolve-i.json names the JIT code despite invalid UTF-8",
      "Evil::JIT...", a)
pj = json.load(open(os.path.join(T, "report.json")))
syms = [f["symbol"] for s in pj["sites"] for f in s["frames"] if f["symbol"]]
ev = [x for x in syms if x.startswith("Evil::JIT")]
check(ev and ev[0] == a[0]["symbol"],
      "report.json and resolve-i.json write the same cleaned name",
      a[0]["symbol"], ev)
d = clean("err-arg.err")
shows("err-arg.err", d, r"\x1b]0;PWNED\x07\x0d.data")
PY
finish
