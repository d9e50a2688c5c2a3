#!/bin/bash
# make demo: the seed scenario, recorded and reported.
#
# A small C program (tests/fixtures/seed.c) calls main -> MyTest ->
# mmap_allocation() in libExample.so, which maps 256 blocks of 4 MiB,
# touches them and never unmaps them: 1 GiB leaked. mapleak launches it,
# records every mapping change with its call stack, and reports which
# stacks still hold memory.
#
# The recording stops (as Ctrl-C would) once the seed says it has leaked,
# or after DEMO_SECONDS (default 60) on a machine too slow for that.
#
# Environment: MAPLEAK_BUILD (default build), DEMO_SECONDS (default 60).
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${MAPLEAK_BUILD:-$ROOT/build}
MAPLEAK=$BUILD/mapleak
SEED=$BUILD/fixtures/seed-fp
OUT=$BUILD/demo
SECONDS_=${DEMO_SECONDS:-60}

die() {
	echo "demo: $*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "mapleak traces with BPF: run the demo as root (sudo make demo)"
[ -x "$MAPLEAK" ] || die "'$MAPLEAK' is missing: run 'make'"
[ -x "$SEED" ] || die "'$SEED' is missing: run 'make fixtures'"

if [ -t 1 ]; then
	B=$'\e[1m' D=$'\e[2m' R=$'\e[0m'
else
	B= D= R=
fi

# Show paths relative to the top folder when they are inside it.
rel() {
	case $1 in
	"$ROOT"/*) echo "${1#"$ROOT"/}" ;;
	*) echo "$1" ;;
	esac
}

mkdir -p "$OUT" || die "cannot create '$OUT'"
DATA=$OUT/mapleak.data
PIDFILE=$OUT/seed.pid
rm -f "$PIDFILE"

# The seed stays alive after the leak (like a real service); end it.
cleanup() {
	local pid
	pid=$(cat "$PIDFILE" 2>/dev/null) || return 0
	case $(readlink "/proc/$pid/exe" 2>/dev/null) in
	"$SEED") kill "$pid" 2>/dev/null ;;
	esac
	rm -f "$PIDFILE"
}
trap cleanup EXIT

cat <<EOF
${B}mapleak demo: who holds the memory that was mapped and never unmapped?${R}

$(rel "$SEED") calls ${B}main -> MyTest -> mmap_allocation()${R} (libExample.so),
which maps 256 x 4 MiB, touches every page and never unmaps them: 1 GiB.
The program waits for a line on stdin before it leaks; the demo sends it.

${D}\$ echo | $(rel "$MAPLEAK") record -o $(rel "$DATA") --duration $SECONDS_ -- $(rel "$SEED")${R}
${D}  (stopped with SIGINT, as Ctrl-C would, once the seed says it has leaked)${R}
EOF

# The seed's output passes through mapleak: watch it for the leak.
SEED_OUT=$OUT/seed.out
echo | SEED_PID_FILE=$PIDFILE "$MAPLEAK" record -o "$DATA" \
	--duration "$SECONDS_" -- "$SEED" >"$SEED_OUT" &
rec=$!
tail -n +1 -f --pid="$rec" "$SEED_OUT" &
while kill -0 "$rec" 2>/dev/null; do
	if grep -q '^seed: leaked' "$SEED_OUT" 2>/dev/null; then
		sleep 0.5
		kill -INT "$rec"
		break
	fi
	sleep 0.2
done
wait "$rec"
rc=$?
wait
cleanup
[ "$rc" = 0 ] || die "mapleak record failed (exit $rc)"

cat <<EOF

${D}\$ $(rel "$MAPLEAK") report -i $(rel "$DATA") --top 3${R}
EOF
"$MAPLEAK" report -i "$DATA" --top 3 || die "mapleak report failed"

HTML=$OUT/mapleak.html
cat <<EOF

${D}\$ $(rel "$MAPLEAK") report -i $(rel "$DATA") --format html -o $(rel "$HTML")${R}
EOF
"$MAPLEAK" report -i "$DATA" --format html -o "$HTML" || die "mapleak report --format html failed"

cat <<EOF

${D}More: $(rel "$MAPLEAK") report -i $(rel "$DATA") --format json --regions
      $(rel "$MAPLEAK") report -i $(rel "$DATA") --format pprof -o leak.pb.gz   (go tool pprof, Pyroscope)
      $(rel "$MAPLEAK") report -i $(rel "$DATA") --fail-over 100M   (exit 3 over the limit, for CI)
      $(rel "$MAPLEAK") record -p PID     (attach to a running process, Ctrl-C to stop)${R}

${B}The flame graph: $HTML${R}
(open it in a browser: one file, nothing loaded from the network)
EOF
