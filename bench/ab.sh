#!/bin/bash
# A/B overhead comparison: untraced vs one or more mapleak binaries,
# interleaved (order rotates each round), median of ROUNDS.
#   bench/ab.sh ROUNDS MAPLEAK_A [MAPLEAK_B ...]
# Environment: BENCH_PROG (default build/bench/mmap-loop), BENCH_PAIRS.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PROG=${BENCH_PROG:-$ROOT/build/bench/mmap-loop}
PAIRS=${BENCH_PAIRS:-100000}
ROUNDS=$1; shift
BINS=("untraced" "$@")
N=${#BINS[@]}
T=$(mktemp -d /tmp/ml-ab.XXXXXX); trap 'rm -rf "$T"' EXIT
for r in $(seq "$ROUNDS"); do
	for k in $(seq 0 $((N - 1))); do
		i=$(((r - 1 + k) % N)); b=${BINS[$i]}
		if [ "$b" = untraced ]; then
			out=$("$PROG" "$PAIRS"); lost=-
		else
			out=$("$b" record -o "$T/d" -- "$PROG" "$PAIRS" 2>"$T/err") || { cat "$T/err"; exit 1; }
			lost=$("$b" report -i "$T/d" --format json 2>/dev/null | python3 -c 'import json,sys
e=json.load(sys.stdin)["events"]; print("%d/%d" % (e["lost"], e["total"]))')
		fi
		ns=$(sed -n 's/.*loop_ns=\([0-9]*\).*/\1/p' <<<"$out")
		echo "$ns" >>"$T/$i.ns"; echo "$lost" >>"$T/$i.lost"
		printf '  round %d %-28s %8.1f ms lost %s\n' "$r" "$b" "$(echo "$ns/1000000" | bc -l)" "$lost" >&2
	done
done
med() { sort -n "$1" | awk '{v[NR]=$1} END {print (NR%2)? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
BASE=$(med "$T/0.ns")
printf '| setup | median ms | us/pair | +us/pair | ratio | lost/events (all runs) |\n|---|---:|---:|---:|---:|---|\n'
for i in $(seq 0 $((N - 1))); do
	m=$(med "$T/$i.ns")
	awk -v n="${BINS[$i]}" -v m="$m" -v b="$BASE" -v p="$PAIRS" -v l="$(sort -u "$T/$i.lost" | tr '\n' ' ')" 'BEGIN {
		printf "| %s | %.1f | %.2f | %+.2f | %.2fx | %s|\n", n, m/1e6, m/1e3/p, (m-b)/1e3/p, m/b, l }'
done
