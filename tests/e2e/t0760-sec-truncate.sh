#!/bin/bash
# Security: a target cannot kill mapleak with SIGBUS by truncating a file
# mapleak has mapped. An unprivileged user's program dlopens a library the
# user owns (built with -g3: its .debug_* sections, .symtab and section
# headers lie past the loaded segments), leaks mappings from inside it
# while mapleak records, and meanwhile cuts the library file back to its
# loaded segments and writes the tail back, again and again, ending cut.
# The target survives (it never touches the bytes past the cut); a mapleak
# that mapped the file itself would fault on the missing pages when it
# names frames from .symtab. mapleak reads such a file from a sealed copy
# made when it first opened it: it ends normally, writes its report, and
# names the library's static function from the copy's .symtab.
E2E_TIMEOUT=${E2E_TIMEOUT:-150}
. "$(dirname "$0")/lib.sh"

require_root
require_bpf
require_python
require_mapleak
CC=${CC:-cc}
command -v "$CC" >/dev/null 2>&1 || skip_all "no C compiler ($CC)"
command -v readelf >/dev/null 2>&1 || skip_all "readelf (binutils) is not installed"
sec_user

D=$T/home/w
mkdir "$D"
cat >"$D/lib.c" <<'C'
#include <stddef.h>
#include <sys/mman.h>

/* Static: its name is in .symtab only, past the cut. */
static __attribute__((noinline, noclone)) void *sigbus_hidden_leak(size_t n)
{
	char *p = mmap(NULL, n, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p != MAP_FAILED)
		p[0] = 1;
	__asm__ volatile("" ::: "memory");
	return p;
}

int sigbus_entry(int k)
{
	int n = 0;

	for (int i = 0; i < k; i++)
		n += sigbus_hidden_leak(1 << 20) != MAP_FAILED;
	return n;
}
C
cat >"$D/main.c" <<'C'
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *lib = argv[1];
	off_t cut = atoll(argv[2]);
	int rounds = atoi(argv[3]), fd, leaked = 0;
	struct stat sb;
	char *all, line[16];
	void *h = dlopen(lib, RTLD_NOW);
	int (*entry)(int) = h ? (int (*)(int))dlsym(h, "sigbus_entry") : NULL;

	fd = open(lib, O_RDWR);
	if (!entry || fd < 0 || fstat(fd, &sb) || sb.st_size <= cut ||
	    !(all = malloc(sb.st_size)) ||
	    pread(fd, all, sb.st_size, 0) != sb.st_size) {
		fprintf(stderr, "target: setup failed\n");
		return 1;
	}
	printf("target: pid %d ready\n", (int)getpid());
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	leaked += entry(4);
	usleep(300000);
	for (int i = 0; i < rounds; i++) {
		/* Cut the tail mapleak reads names from; put it back. */
		if (ftruncate(fd, cut))
			return 1;
		leaked += entry(1);
		usleep(30000);
		if (pwrite(fd, all + cut, sb.st_size - cut, cut) !=
		    sb.st_size - cut)
			return 1;
		leaked += entry(1);
		usleep(30000);
	}
	if (ftruncate(fd, cut))
		return 1;
	leaked += entry(2);
	printf("target: leaked %d, file cut to %lld of %lld bytes\n", leaked,
	       (long long)cut, (long long)sb.st_size);
	fflush(stdout);
	pause();
	return 0;
}
C
"$CC" -g3 -O1 -shared -fPIC -fno-omit-frame-pointer -o "$D/libsb.so" "$D/lib.c" &&
	"$CC" -O1 -o "$D/target" "$D/main.c" -ldl ||
	bail "setup: build the library and the target"
# The end of the loaded segments, rounded up to a page: the target's own
# mappings stay whole after the cut.
END=0
while read -r _ off _ _ fsz _; do
	[ $((off + fsz)) -gt "$END" ] && END=$((off + fsz))
done < <(readelf -lW "$D/libsb.so" | awk '$1 == "LOAD"')
PG=$(getconf PAGESIZE)
CUT=$(((END + PG - 1) / PG * PG))
SIZE=$(stat -c %s "$D/libsb.so")
[ "$SIZE" -ge $((CUT + 2 * PG)) ] ||
	bail "setup: the library has at least two pages past its loaded segments ($SIZE, cut at $CUT)"
chown -R "$SEC_UID:$SEC_GID" "$D"

make_fifo in
FD=$FIFO_FD
start_bg tgt "$T/in.fifo" setpriv --reuid="$SEC_UID" --regid="$SEC_GID" \
	--clear-groups --no-new-privs env -i PATH=/usr/bin:/bin \
	"$D/target" "$D/libsb.so" "$CUT" 40
TGT=$BG_PID
wait_for 10 grep -q '^target: pid .* ready' "$T/tgt.out" || {
	show "$T/tgt.err"
	bail "setup: the target starts"
}

start_bg rec /dev/null "$MAPLEAK" record -o "$T/rec.data" -p "$TGT"
REC=$BG_PID
wait_recording "$REC" "$T/rec.err" || exit 1
echo go >&"$FD"
if wait_for 60 grep -q '^target: leaked' "$T/tgt.out"; then
	ok "the target cuts and rewrites its library while mapleak records"
	note "$(grep '^target: leaked' "$T/tgt.out")"
else
	not_ok "the target cuts and rewrites its library while mapleak records"
	show "$T/tgt.err"
fi
sleep 0.5
cp "/proc/$REC/maps" "$T/rec.maps" 2>/dev/null
if [ -s "$T/rec.maps" ] && ! grep -q "$D/libsb.so" "$T/rec.maps"; then
	ok "mapleak never maps the user's library itself (a sealed copy)"
else
	not_ok "mapleak never maps the user's library itself (a sealed copy)"
	grep -E 'libsb|memfd' "$T/rec.maps" | sed 's/^/#   /'
fi
kill -INT "$REC" 2>/dev/null
if ! wait_exit "$REC" 60; then
	not_ok "mapleak ends within 60 s of SIGINT"
	finish
fi
check_rc "mapleak record survives the cut library" 0 "$EXIT_STATUS" "$T/rec.err"
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
names = set()
def walk(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k in ("function", "name", "symbol") and isinstance(v, str):
                names.add(v)
            walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
walk(r)
check(any("sigbus_hidden_leak" in n for n in names),
      "the library's static function is named from the copy's .symtab",
      "a frame named sigbus_hidden_leak", sorted(n for n in names if "sigbus" in n) or "none")
PY

finish
