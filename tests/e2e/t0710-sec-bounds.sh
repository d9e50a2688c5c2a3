#!/bin/bash
# Security (issue 7): files an unprivileged target writes for mapleak (its
# perf map and jitdump, read by root) are bounded in size and time. The
# target (tests/fixtures/hostile-jit.c, run as a fresh unprivileged user)
# writes a 512 MiB perf map of 4096-byte names and a jitdump of 300k
# CODE_LOADs and 300k CODE_MOVEs, both with an entry spanning the whole
# address space and entries nested over its one JIT frame, then leaks
# 64 MiB through that JIT frame. mapleak must start recording and end in
# bounded time, keep its peak memory bounded, find the leak with the JIT
# frame named, lose no events, and say which caps were hit; and end soon
# on Ctrl-C while it reads those files.
E2E_TIMEOUT=${E2E_TIMEOUT:-180}
. "$(dirname "$0")/lib.sh"

require_root
require_bpf
require_python
require_mapleak
require_fixture hostile-jit

START_MAX=30		# s from `record -p` to "recording" (was: minutes)
STOP_MAX=30		# s from SIGINT to exit
RSS_MAX_MIB=400		# peak RSS (was: more than the 512 MiB perf map)

sec_user
make_fifo in
fd=$FIFO_FD
start_bg hostile "$T/in.fifo" setpriv --reuid="$SEC_UID" --regid="$SEC_GID" \
	--clear-groups --no-new-privs env -i PATH=/usr/bin:/bin TMPDIR=/tmp \
	"$FIX/hostile-jit"
pid=$BG_PID
echo "$pid" >"$T/hostile.pid"
track_pid_file "$T/hostile.pid"	# its /tmp files go at exit
if ! wait_for 90 grep -q '^hostile: pid .* ready' "$T/hostile.out"; then
	grep -q unsupported "$T/hostile.out" && skip_all "the hostile target is x86-64 only"
	show "$T/hostile.out"
	show "$T/hostile.err"
	bail "the hostile target writes its files and says it is ready"
fi
ok "the target (uid $SEC_UID) wrote $(du -m "/tmp/perf-$pid.map" | cut -f1) MiB of perf map and $(du -m "/tmp/jit-$pid.dump" | cut -f1) MiB of jitdump"

hwm_kib() {
	awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}

data=$T/rec.data
t0=$(date +%s%N)
start_bg rec /dev/null "$MAPLEAK" record -o "$data" -p "$pid"
rec=$BG_PID
if ! wait_for "$START_MAX" recording "$T/rec.err"; then
	not_ok "mapleak starts recording within $START_MAX s of the hostile files (it read them for $(( ($(date +%s%N) - t0) / 1000000000 )) s)"
	note "peak RSS so far: $(( $(hwm_kib "$rec" || echo 0) / 1024 )) MiB"
	show "$T/rec.err"
	finish
fi
ok "mapleak records within $START_MAX s ($(( ($(date +%s%N) - t0) / 1000000 )) ms)"

echo go >&"$fd"
if ! wait_for 60 grep -q '^hostile: leaked' "$T/hostile.out"; then
	show "$T/hostile.out"
	bail "the target leaks within 60 s of the trigger"
fi
sleep 0.5
peak=$(hwm_kib "$rec")
t1=$(date +%s%N)
kill -INT "$rec"
while alive "$rec"; do
	h=$(hwm_kib "$rec")
	[ -n "$h" ] && peak=$h
	[ $(( ($(date +%s%N) - t1) / 1000000000 )) -ge "$STOP_MAX" ] && break
	sleep 0.05
done
if ! wait_exit "$rec" 1; then
	not_ok "mapleak ends within $STOP_MAX s of SIGINT"
	finish
fi
ok "mapleak ends within $STOP_MAX s of SIGINT ($(( ($(date +%s%N) - t1) / 1000000 )) ms)"
check_rc "mapleak record -p (hostile JIT files)" 0 "$EXIT_STATUS" "$T/rec.err"
peak=${peak:-0}
if [ "$peak" -gt 0 ] && [ "$peak" -le $((RSS_MAX_MIB * 1024)) ]; then
	ok "peak RSS $((peak / 1024)) MiB <= $RSS_MAX_MIB MiB"
else
	not_ok "peak RSS: expected 1..$RSS_MAX_MIB MiB, got $((peak / 1024)) MiB"
fi
for what in "perf map of pid $pid: over" "jitdump of pid $pid: over"; do
	if grep -q "^mapleak: note: $what" "$T/rec.err"; then
		ok "a note says a cap was hit: $(grep -m1 "^mapleak: note: $what" "$T/rec.err")"
	else
		not_ok "a note on stderr starts with '$what'"
		show "$T/rec.err"
	fi
done

# Ctrl-C while mapleak reads the files at its start: it ends soon (the
# reads stop between chunks; the final ones are bounded by the caps).
start_bg rec2 /dev/null "$MAPLEAK" record -o "$T/rec2.data" -p "$pid"
rec2=$BG_PID
sleep 0.5
t2=$(date +%s%N)
kill -INT "$rec2"
if wait_exit "$rec2" "$STOP_MAX"; then
	ok "SIGINT during the first reads: mapleak ends within $STOP_MAX s ($(( ($(date +%s%N) - t2) / 1000000 )) ms)"
	check_rc "mapleak record -p stopped while reading" 0 "$EXIT_STATUS" "$T/rec2.err"
else
	not_ok "SIGINT during the first reads: mapleak ends within $STOP_MAX s"
fi

report_json "$data" "$T/rec.json" || finish
pycheck "$T/rec.json" "$pid" <<'PY'
import sys
from report_checks import *
path, pid = sys.argv[1], int(sys.argv[2])
r = load_json(path)
common(r, stopped_by="signal", alive=True, pid=pid)
notes = r.get("notes") or []
check(any(n.startswith("perf map of pid %d: over" % pid) for n in notes),
      "the report keeps the perf map cap note", "a 'perf map ... over' note", notes)
check(any(n.startswith("jitdump of pid %d: over" % pid) for n in notes),
      "the report keeps the jitdump cap note", "a 'jitdump ... over' note", notes)
sites = r.get("sites") or []
leak = [s for s in sites
        if find_in_order(s.get("frames") or [], [sym_is("hostile_leak")])]
if check(len(leak) == 1, "one site holds hostile_leak's mapping", 1, len(leak)):
    s = leak[0]
    frames = s.get("frames") or []
    check(s.get("bytes") == 64 << 20, "the leak site holds 64 MiB",
          64 << 20, s.get("bytes"))
    got = find_in_order(frames, [sym_is("hostile_leak"),
                                 sym_has("hostile_jit_trampoline"), sym_is("main")])
    check(got is not None and got[2] - got[0] == 2,
          "hostile_leak <- the JIT trampoline (named from the jitdump) <- main",
          "hostile_leak <- hostile_jit_trampoline <- main", stack_str(frames))
PY
finish
