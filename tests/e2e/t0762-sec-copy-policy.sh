#!/bin/bash
# Security: which of a target's files mapleak copies before mapping them
# (t0760). A library owned by root, not writable by group or others, is
# mapped as it is for an unprivileged target; the same library is copied
# (mapleak maps a sealed memfd, never the file) for that user's target in
# a user namespace of its own, whose root there may write other files.
E2E_TIMEOUT=${E2E_TIMEOUT:-120}
. "$(dirname "$0")/lib.sh"

require_root
require_bpf
require_mapleak
CC=${CC:-cc}
command -v "$CC" >/dev/null 2>&1 || skip_all "no C compiler ($CC)"
command -v unshare >/dev/null 2>&1 || skip_all "unshare (util-linux) is not installed"
sec_user

D=$T/rootlib		# root's, mode 0755/0644
mkdir "$D"
cat >"$D/lib.c" <<'C'
#include <stddef.h>
#include <sys/mman.h>

int policy_entry(int k)
{
	int n = 0;

	for (int i = 0; i < k; i++)
		n += mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) != MAP_FAILED;
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
	int (*entry)(int) = h ? (int (*)(int))dlsym(h, "policy_entry") : NULL;
	char line[16];

	if (!entry)
		return 1;
	printf("target: pid %d ready\n", (int)getpid());
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	printf("target: leaked %d\n", entry(4));
	fflush(stdout);
	pause();
	return 0;
}
C
"$CC" -O1 -shared -fPIC -o "$D/libpolicy.so" "$D/lib.c" &&
	"$CC" -O1 -o "$D/target" "$D/main.c" -ldl ||
	bail "setup: build the library and the target"
chmod 0644 "$D/libpolicy.so"
as_user unshare --user --map-current-user true 2>"$T/unshare.err" ||
	bail "setup: the test user can make a user namespace: $(head -1 "$T/unshare.err")"

# run NAME [PREFIX...]: the target (as the test user, PREFIX before it)
# leaks from libpolicy.so while mapleak records; leaves mapleak's maps at
# that time in $T/NAME.maps.
run() {
	local name=$1 fd tgt rec
	shift
	make_fifo "in-$name"
	fd=$FIFO_FD
	start_bg "tgt-$name" "$T/in-$name.fifo" setpriv --reuid="$SEC_UID" \
		--regid="$SEC_GID" --clear-groups --no-new-privs env -i \
		PATH=/usr/bin:/bin "$@" "$D/target" "$D/libpolicy.so"
	tgt=$BG_PID
	wait_for 10 grep -q '^target: pid .* ready' "$T/tgt-$name.out" || {
		show "$T/tgt-$name.err"
		bail "$name: the target starts"
	}
	# unshare execs the target: the pid it printed is the one to trace.
	tgt=$(sed -n 's/^target: pid \([0-9]*\) ready/\1/p' "$T/tgt-$name.out")
	start_bg "rec-$name" /dev/null "$MAPLEAK" record -o "$T/$name.data" -p "$tgt"
	rec=$BG_PID
	wait_recording "$rec" "$T/rec-$name.err" || return 1
	echo go >&"$fd"
	wait_for 30 grep -q '^target: leaked' "$T/tgt-$name.out" ||
		not_ok "$name: the target leaks within 30 s"
	# Names are read at the end: the library is mapped by then.
	sleep 1
	cp "/proc/$rec/maps" "$T/$name.maps"
	kill -INT "$rec"
	wait_exit "$rec" 60
	check_rc "$name: mapleak record" 0 "$EXIT_STATUS" "$T/rec-$name.err"
	stop_pid "$tgt"
}

run plain
if grep -q "$D/libpolicy.so" "$T/plain.maps" &&
	! grep -q 'memfd:mapleak-stable' "$T/plain.maps"; then
	ok "a root-owned library of an unprivileged target is mapped as it is"
else
	not_ok "a root-owned library of an unprivileged target is mapped as it is"
	grep -E 'libpolicy|memfd' "$T/plain.maps" | sed 's/^/#   /'
fi

run userns unshare --user --map-current-user
if ! grep -q "$D/libpolicy.so" "$T/userns.maps" &&
	grep -q 'memfd:mapleak-stable' "$T/userns.maps"; then
	ok "for a target in its own user namespace, the library is copied"
else
	not_ok "for a target in its own user namespace, the library is copied"
	grep -E 'libpolicy|memfd' "$T/userns.maps" | sed 's/^/#   /'
fi

finish
