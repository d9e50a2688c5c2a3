#!/bin/bash
# Per-program BPF cost under load: enables kernel.bpf_stats_enabled, runs
# `MAPLEAK record -- mmap-loop PAIRS`, and samples the ml_* programs'
# run_cnt / run_time_ns (bpftool) while the loop runs.
#   bench/progstats.sh [MAPLEAK] [PAIRS]
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ML=${1:-$ROOT/build/mapleak}
PAIRS=${2:-400000}
old=$(sysctl -n kernel.bpf_stats_enabled)
sysctl -qw kernel.bpf_stats_enabled=1
"$ML" record -o /tmp/ml-ps.data -- "$ROOT/build/bench/mmap-loop" "$PAIRS" >/tmp/ml-ps.out 2>&1 &
pid=$!
sleep 1.5
# only this mapleak's programs: others may be loaded at the same time
ids=$(grep -h '^prog_id:' /proc/$pid/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -u | tr '\n' ' ')
bpftool -j prog show | IDS="$ids" python3 -c '
import json, os, sys
me = set(int(x) for x in os.environ["IDS"].split())
tot = {}
for p in json.load(sys.stdin):
    n = p.get("name", "")
    if p["id"] in me and p.get("run_cnt"):
        print("%-14s runs %9d  avg %6.0f ns" % (n, p["run_cnt"], p["run_time_ns"] / p["run_cnt"]))
        tot[n] = p
if "ml_sys_exit" in tot:
    pairs = tot["ml_sys_exit"]["run_cnt"] / 2
    print("all programs: %.0f ns per mmap+munmap pair" % (sum(p["run_time_ns"] for p in tot.values()) / pairs))'
wait $pid
cat /tmp/ml-ps.out
sysctl -qw kernel.bpf_stats_enabled="$old"
