#!/bin/sh
# SPDX-License-Identifier: MIT
# Lists the #include "..." edges between directories of src/ (dir -> dir,
# with a count of files), then include cycles between files, if any.
# Usage: scripts/include-graph.sh [SRC_DIR]   (default: src)
set -eu
src=${1:-src}
python3 - "$src" <<'PY'
import os, re, sys
from collections import defaultdict
src = sys.argv[1]
inc = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
edges = defaultdict(set)   # file -> included files (paths under src)
for root, _, files in os.walk(src):
    for f in files:
        if not f.endswith(('.c', '.h')):
            continue
        path = os.path.relpath(os.path.join(root, f), src)
        with open(os.path.join(root, f), errors='replace') as fh:
            for name in inc.findall(fh.read()):
                if os.path.exists(os.path.join(src, name)):
                    edges[path].add(name)
def top(p):
    d = os.path.dirname(p)
    return d if d else '.'
dirs = defaultdict(int)
for a, bs in edges.items():
    for b in bs:
        if top(a) != top(b):
            dirs[(top(a), top(b))] += 1
print('# directory edges (files)')
for (a, b), n in sorted(dirs.items()):
    back = ' CYCLE' if (b, a) in dirs and a != '.' and b != '.' else ''
    print(f'{a} -> {b} ({n}){back}')
# file cycles: Tarjan's strongly connected components
idx, low, on, stack, out, n = {}, {}, set(), [], [], [0]
def sc(v):
    idx[v] = low[v] = n[0]; n[0] += 1; stack.append(v); on.add(v)
    for w in edges.get(v, ()):
        if w not in idx:
            sc(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], idx[w])
    if low[v] == idx[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v:
                break
        if len(comp) > 1:
            out.append(sorted(comp))
sys.setrecursionlimit(10000)
for v in list(edges):
    if v not in idx:
        sc(v)
print('# file include cycles')
for c in out:
    print(' '.join(c))
if not out:
    print('none')
PY
