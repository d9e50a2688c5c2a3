#!/bin/bash
# What tracing costs a program that maps and unmaps a lot.
#
#   bench/bench.sh [ROUNDS]          (make bench; needs root)
#
# Runs bench/mmap-loop (100,000 mmap+munmap pairs of 64 KiB, one byte
# touched each; it times its own loop with CLOCK_MONOTONIC) untraced,
# under `mapleak record -- PROG` and under `perf record -g -e
# syscalls:sys_enter_mmap -e syscalls:sys_enter_munmap -- PROG`, the three
# interleaved in each round (the order rotates), ROUNDS times (default 5).
# Prints a markdown table of the median loop time, the slowdown against
# the untraced run, and the events each tracer lost.
#
# Environment: MAPLEAK (default build/mapleak), BENCH_PROG (default
# build/bench/mmap-loop), PERF (default perf), BENCH_PAIRS (default 100000).
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MAPLEAK=${MAPLEAK:-$ROOT/build/mapleak}
PROG=${BENCH_PROG:-$ROOT/build/bench/mmap-loop}
PERF=${PERF:-perf}
PAIRS=${BENCH_PAIRS:-100000}
ROUNDS=${1:-${BENCH_ROUNDS:-5}}

die() {
	echo "bench: $*" >&2
	exit 1
}

case $ROUNDS in
'' | *[!0-9]* | 0) die "ROUNDS must be a positive number, got '$ROUNDS'" ;;
esac
[ "$(id -u)" = 0 ] || die "needs root (BPF and perf tracepoints)"
[ -x "$PROG" ] || die "'$PROG' is missing: run 'make bench' or 'make $PROG'"
[ -x "$MAPLEAK" ] || die "'$MAPLEAK' is missing: build it with 'make'"
HAVE_PERF=1
if ! command -v "$PERF" >/dev/null 2>&1; then
	echo "bench: '$PERF' not found, its column is left out" >&2
	HAVE_PERF=0
fi
# perf resolves syscalls:* through tracefs
if [ "$HAVE_PERF" = 1 ] && [ ! -d /sys/kernel/tracing/events/syscalls ]; then
	mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
	[ -d /sys/kernel/tracing/events/syscalls ] || {
		echo "bench: tracefs is not available at /sys/kernel/tracing, perf is left out" >&2
		HAVE_PERF=0
	}
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/mapleak-bench.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT

# loop_ns FILE: the program's own measure, from its output line.
loop_ns() {
	sed -n 's/.*loop_ns=\([0-9]*\).*/\1/p' "$1" | tail -n1
}

# run SETUP: one run; appends the loop time to $T/SETUP.ns and the lost
# count to $T/SETUP.lost.
run() {
	local setup=$1 out=$T/$1.out rc ns lost
	case $setup in
	untraced)
		"$PROG" "$PAIRS" >"$out" 2>&1
		rc=$?
		lost="- of -"
		;;
	mapleak)
		"$MAPLEAK" record -o "$T/ml.data" -- "$PROG" "$PAIRS" >"$out" 2>"$T/ml.err"
		rc=$?
		lost=$("$MAPLEAK" report -i "$T/ml.data" --format json 2>/dev/null |
			python3 -c 'import json, sys
e = json.load(sys.stdin)["events"]
print("%d of %d" % (e["lost"], e["total"]))' 2>/dev/null) || lost="? of ?"
		[ "$rc" = 0 ] || { cat "$T/ml.err" >&2; }
		;;
	perf)
		"$PERF" record -q -g -e syscalls:sys_enter_mmap \
			-e syscalls:sys_enter_munmap -o "$T/perf.data" -- \
			"$PROG" "$PAIRS" >"$out" 2>"$T/perf.err"
		rc=$?
		lost=$("$PERF" report -i "$T/perf.data" --stats 2>/dev/null |
			awk '/LOST events:/ { n += $3 } / SAMPLE events:/ && !t { t = $3 }
			     END { printf "%d of %d\n", n, t + n }')
		[ "$rc" = 0 ] || { cat "$T/perf.err" >&2; }
		;;
	esac
	ns=$(loop_ns "$out")
	[ "$rc" = 0 ] && [ -n "$ns" ] || die "$setup run failed (exit $rc): $(head -c 300 "$out")"
	echo "$ns" >>"$T/$setup.ns"
	echo "$lost" >>"$T/$setup.lost"
	awk -v r="$ROUND" -v s="$setup" -v ns="$ns" -v l="$lost" 'BEGIN {
		printf "  round %d %-9s %9.1f ms   lost %s\n", r, s, ns / 1e6, l }' >&2
}

median() {
	sort -n "$1" | awk '{ v[NR] = $1 } END {
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

SETUPS=(untraced mapleak)
[ "$HAVE_PERF" = 1 ] && SETUPS+=(perf)
N=${#SETUPS[@]}

echo "bench: $ROUNDS rounds of ${SETUPS[*]}, $PAIRS mmap+munmap pairs of 64 KiB each" >&2
for ROUND in $(seq "$ROUNDS"); do
	for k in $(seq 0 $((N - 1))); do
		run "${SETUPS[$(((ROUND - 1 + k) % N))]}"
	done
done

BASE=$(median "$T/untraced.ns")
echo
echo "mmap+munmap of 64 KiB, $PAIRS pairs, median of $ROUNDS interleaved rounds"
echo "($(uname -r), $(nproc) CPUs; loop timed by the program itself)"
echo
echo "| setup | loop time (ms) | per pair (us) | slowdown | lost events (worst run) |"
echo "|---|---:|---:|---:|---:|"
for s in "${SETUPS[@]}"; do
	m=$(median "$T/$s.ns")
	# lost: the most any run lost, of the events of that run
	lost=$(sort -n -k1,1 "$T/$s.lost" | tail -n1)
	case $s in
	untraced) name="untraced"; lost="-" ;;
	mapleak) name="\`mapleak record\`" ;;
	perf) name="\`perf record -g\` (sys_enter_mmap, sys_enter_munmap)" ;;
	esac
	awk -v n="$name" -v m="$m" -v b="$BASE" -v p="$PAIRS" -v l="$lost" 'BEGIN {
		printf "| %s | %.1f | %.2f | %.2fx | %s |\n", n, m / 1e6, m / 1e3 / p, m / b, l }'
done
