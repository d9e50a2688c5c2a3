#!/bin/bash
# Security: the copies mapleak makes of files a target may modify
# (t0760) are capped. An unprivileged user's library is padded (sparse)
# past 512 MiB: mapleak does not copy it, says so in a note (printed and
# in the report), and records normally; the target runs on.
E2E_TIMEOUT=${E2E_TIMEOUT:-120}
. "$(dirname "$0")/lib.sh"

require_root
require_bpf
require_python
require_mapleak
CC=${CC:-cc}
command -v "$CC" >/dev/null 2>&1 || skip_all "no C compiler ($CC)"
sec_user

D=$T/home/w
mkdir "$D"
cat >"$D/lib.c" <<'C'
#include <stddef.h>
#include <sys/mman.h>

int cap_entry(int k)
{
	int n = 0;

	for (int i = 0; i < k; i++) {
		char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		n += p != MAP_FAILED;
	}
	return n;
}
C
cat >"$D/main.c" <<'C'
#include <dlfcn.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	void *h = dlopen(argv[1], RTLD_NOW);
	int (*entry)(int) = h ? (int (*)(int))dlsym(h, "cap_entry") : NULL;
	char line[16];

	if (!entry) {
		fprintf(stderr, "target: %s\n", dlerror());
		return 1;
	}
	printf("target: pid %d ready\n", (int)getpid());
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	printf("target: leaked %d\n", entry(8));
	fflush(stdout);
	pause();
	return 0;
}
C
"$CC" -g -O1 -shared -fPIC -o "$D/libcap.so" "$D/lib.c" &&
	"$CC" -O1 -o "$D/target" "$D/main.c" -ldl &&
	truncate -s 600M "$D/libcap.so" ||
	bail "setup: build the library (600 MiB, sparse) and the target"
chown -R "$SEC_UID:$SEC_GID" "$D"

make_fifo in
FD=$FIFO_FD
start_bg tgt "$T/in.fifo" setpriv --reuid="$SEC_UID" --regid="$SEC_GID" \
	--clear-groups --no-new-privs env -i PATH=/usr/bin:/bin \
	"$D/target" "$D/libcap.so"
TGT=$BG_PID
wait_for 10 grep -q '^target: pid .* ready' "$T/tgt.out" || {
	show "$T/tgt.err"
	bail "setup: the target starts"
}

start_bg rec /dev/null "$MAPLEAK" record -o "$T/rec.data" -p "$TGT"
REC=$BG_PID
wait_recording "$REC" "$T/rec.err" || exit 1
echo go >&"$FD"
wait_for 30 grep -q '^target: leaked' "$T/tgt.out" ||
	not_ok "the target leaks within 30 s"
sleep 0.5
kill -INT "$REC" 2>/dev/null
if ! wait_exit "$REC" 60; then
	not_ok "mapleak ends within 60 s of SIGINT"
	finish
fi
check_rc "mapleak record with an over-the-cap library" 0 "$EXIT_STATUS" "$T/rec.err"
if grep -q 'maps a file it may modify over 512 MiB' "$T/rec.err"; then
	ok "mapleak says it did not copy the library"
else
	not_ok "mapleak says it did not copy the library: no note"
	show "$T/rec.err"
fi
if alive "$TGT"; then
	ok "the target still runs"
else
	not_ok "the target still runs"
fi

report_json "$T/rec.data" "$T/rec.json" || finish
pycheck "$T/rec.json" "$TGT" <<'PY'
import sys
from report_checks import *
path, pid = sys.argv[1], int(sys.argv[2])
r = load_json(path)
common(r, stopped_by="signal", alive=True, pid=pid)
notes = r.get("notes") or []
hit = [n for n in notes if "over 512 MiB" in n]
check(len(hit) == 1, "the report's notes hold the cap note once", 1, notes)
check(sum(s.get("bytes", 0) for s in r.get("sites") or []) >= 8 << 20,
      "the leak is recorded all the same", ">= 8 MiB in sites",
      sum(s.get("bytes", 0) for s in r.get("sites") or []))
PY

finish
