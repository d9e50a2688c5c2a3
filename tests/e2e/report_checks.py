# SPDX-License-Identifier: MIT
"""Checks on `mapleak report --format json` output, for the e2e tests.

Each check prints "ok - WHAT" or "not ok - WHAT: expected ..., got ...".
JSON is parsed with the json module, never matched as text.
"""
import json
import os
import sys

GIB = 1 << 30

# Mappings the kernel makes without a syscall (or that move by themselves,
# like the main stack): a tracer cannot see them change.
KERNEL_MAPPINGS = {"[stack]", "[vdso]", "[vvar]", "[vvar_vclock]",
                   "[vsyscall]", "[uprobes]"}

failed = 0
prefix = ""	# set_prefix(): a test that runs its checks more than once


def set_prefix(p):
    global prefix
    prefix = p


def ok(what):
    print("ok - " + prefix + what)


def not_ok(what):
    global failed
    failed += 1
    print("not ok - " + prefix + what)


def check(cond, what, expected=None, got=None):
    """ok/not ok; on failure says what was expected and what was got."""
    if cond:
        ok(what)
    elif expected is None and got is None:
        not_ok(what)
    else:
        not_ok("%s: expected %s, got %s" % (what, expected, got))
    return bool(cond)


def load_json(path, what="report"):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        not_ok("%s %s is valid JSON: %s" % (what, os.path.basename(path), e))
        with open(path, errors="replace") as f:
            head = f.read(600)
        print("#   " + head.replace("\n", "\n#   "))
        sys.exit(0)


def base(path):
    return os.path.basename(path) if isinstance(path, str) else path


def symbol(fr):
    s = fr.get("symbol")
    return s if isinstance(s, str) else None


def unnamed(fr):
    s = symbol(fr)
    return (s is None or s == "" or s.startswith("[unknown")
            or s in ("??", "[unknown]") or s.startswith("0x"))


def frame_str(fr):
    s = symbol(fr) or "?"
    parts = []
    if fr.get("module"):
        parts.append(base(fr["module"]))
    if fr.get("file"):
        parts.append("%s:%s" % (base(fr["file"]), fr.get("line")))
    return "%s (%s)" % (s, " ".join(parts)) if parts else s


def stack_str(frames, limit=14):
    """innermost first, as 'a <- b <- c'."""
    s = " <- ".join(frame_str(f) for f in frames[:limit])
    if len(frames) > limit:
        s += " <- ... (%d frames)" % len(frames)
    return s or "(no frames)"


def find_in_order(frames, preds, start=0):
    """Indexes of the first frames matching each predicate in turn, each
    after the previous; None where the sequence breaks."""
    idx = []
    i = start
    for p in preds:
        while i < len(frames) and not p(frames[i]):
            i += 1
        if i == len(frames):
            return None
        idx.append(i)
        i += 1
    return idx


def sym_is(*names):
    return lambda fr: symbol(fr) in names


def sym_has(text):
    return lambda fr: text in (symbol(fr) or "")


def site_str(s):
    return "%s bytes in %s mappings: %s" % (s.get("bytes"), s.get("mappings"),
                                            stack_str(s.get("frames") or []))


def common(r, stopped_by=None, alive=None, pid=None, command=None):
    """Checks every report should pass."""
    for k in ("target", "duration_s", "stopped_by", "events", "baseline",
              "live", "sites", "check"):
        if k not in r:
            not_ok("report has key '%s': keys are %s" % (k, sorted(r)))
    t = r.get("target") or {}
    if pid is not None:
        check(t.get("pid") == pid, "target.pid", pid, t.get("pid"))
    if command is not None:
        check(isinstance(t.get("command"), str) and command in t["command"],
              "target.command names %s" % command, "a command containing "
              + repr(command), repr(t.get("command")))
    if stopped_by is not None:
        check(r.get("stopped_by") == stopped_by, "stopped_by is %s" % stopped_by,
              repr(stopped_by), repr(r.get("stopped_by")))
    ev = r.get("events") or {}
    check(ev.get("lost") == 0, "no event lost", 0, ev.get("lost"))
    check(isinstance(ev.get("total"), int) and ev["total"] > 0,
          "events were received", "total > 0", ev.get("total"))
    sites = r.get("sites")
    check(isinstance(sites, list), "sites is a list", "a list", type(sites).__name__)
    if isinstance(sites, list) and len(sites) > 1:
        keys = [s.get("bytes", 0) - s.get("reserved_bytes", 0) for s in sites]
        check(keys == sorted(keys, reverse=True),
              "sites are sorted by bytes - reserved_bytes, descending",
              "descending", keys[:10])
    if alive is not None and isinstance(sites, list):
        if alive:
            bad = [s for s in sites if not isinstance(s.get("resident_bytes"), int)]
            check(not bad, "resident_bytes known for every site (target alive)",
                  "integers", [b.get("resident_bytes") for b in bad[:3]])
        else:
            bad = [s for s in sites if s.get("resident_bytes") is not None]
            check(not bad, "resident_bytes null for every site (target gone)",
                  "null", [b.get("resident_bytes") for b in bad[:3]])
    return t


def check_agree(r):
    c = r.get("check")
    if not isinstance(c, dict):
        return not_ok("check is an object: got %r" % (c,))
    check(c.get("agree") is True, "check: live set agrees with /proc/PID/maps",
          "agree true", json.dumps(c))


# ---- page-exact comparison ----

def parse_maps(text):
    """/proc/PID/maps lines -> [(start, end, prot, path)]."""
    out = []
    for line in text.splitlines():
        f = line.split(None, 5)
        if len(f) < 5 or "-" not in f[0]:
            continue
        a, b = f[0].split("-")
        out.append((int(a, 16), int(b, 16), f[1][:3], f[5].strip() if len(f) > 5 else ""))
    return out


def json_regions(r):
    """Every region of the report, sites' and baseline's:
    [(start, end, prot, where)]."""
    out = []
    # the runtime's own sites are listed apart ("runtime") by default
    sites = (r.get("sites") or []) + ((r.get("runtime") or {}).get("sites") or [])
    for i, s in enumerate(sites):
        top = symbol((s.get("frames") or [{}])[0]) if s.get("frames") else None
        for g in s.get("regions") or []:
            st = int(g["start"], 16)
            out.append((st, st + int(g["size"]), g.get("prot"),
                        "site %d (%s)" % (i, top)))
    for g in r.get("baseline_regions") or []:
        st = int(g["start"], 16)
        out.append((st, st + int(g["size"]), g.get("prot"), "baseline"))
    return out


def compare_pages(maps, regions, page=4096, limit=8):
    """Compares the maps (truth) with the report's regions page by page,
    leaving out the kernel's own mappings. Returns (missing, extra,
    prot_mismatch, overlap) page counts and lines describing the first
    differences."""
    skip = [(a, b) for a, b, _, p in maps if p in KERNEL_MAPPINGS]
    truth = [(a, b, pr, p) for a, b, pr, p in maps if p not in KERNEL_MAPPINGS]

    def skipped(a, b):
        return any(a < sb and sa < b for sa, sb in skip)

    points = set()
    for a, b, *_ in truth + regions:
        points.add(a)
        points.add(b)
    points = sorted(points)
    missing = extra = prot = overlap = 0
    notes = []

    def at(lst, a, b):
        return [x for x in lst if x[0] <= a and b <= x[1]]

    for a, b in zip(points, points[1:]):
        if skipped(a, b):
            continue
        t = at(truth, a, b)
        g = at(regions, a, b)
        n = (b - a) // page
        if t and not g:
            missing += n
            if len(notes) < limit:
                notes.append("missing %#x-%#x %s %s (in maps, not in the report)"
                             % (a, b, t[0][2], t[0][3] or "[anon]"))
        elif g and not t:
            extra += n
            if len(notes) < limit:
                notes.append("extra %#x-%#x %s from %s (in the report, not in maps)"
                             % (a, b, g[0][2], g[0][3]))
        elif t and g:
            if len(g) > 1:
                overlap += n
                if len(notes) < limit:
                    notes.append("overlap %#x-%#x reported %d times: %s"
                                 % (a, b, len(g), ", ".join(x[3] for x in g)))
            if g[0][2] != t[0][2]:
                prot += n
                if len(notes) < limit:
                    notes.append("prot %#x-%#x: maps %s, report %s from %s (%s)"
                                 % (a, b, t[0][2], g[0][2], g[0][3],
                                    t[0][3] or "[anon]"))
    return missing, extra, prot, overlap, notes


# ---- the seed scenario ----

def check_seed_site(r, line, inner=None):
    """The top site is the seed's 1 GiB in 256 mappings, called from
    mmap_allocation (libExample.so, Example.c:LINE); `inner` is the list
    of callers expected right after it, innermost first (C: MyTest, main).
    Returns the top site or None."""
    sites = r.get("sites") or []
    if not check(len(sites) > 0, "the report has sites", ">= 1 site", 0):
        return None
    top = sites[0]
    desc = site_str(top)
    check(top.get("bytes") == GIB, "top site holds 1 GiB",
          "%d bytes" % GIB, desc)
    check(top.get("mappings") == 256, "top site has 256 mappings", 256,
          top.get("mappings"))
    check(top.get("reserved_bytes") == 0, "top site has no reserved bytes", 0,
          top.get("reserved_bytes"))
    frames = top.get("frames") or []
    i = find_in_order(frames, [sym_is("mmap_allocation")])
    if not check(i is not None, "top site's frames contain mmap_allocation",
                 "mmap_allocation", stack_str(frames)):
        return top
    fr = frames[i[0]]
    check(base(fr.get("module")) == "libExample.so",
          "mmap_allocation's module is libExample.so", "libExample.so",
          fr.get("module"))
    check(base(fr.get("file")) == "Example.c" and fr.get("line") == line,
          "mmap_allocation's source is Example.c:%d (the mmap call)" % line,
          "Example.c:%d" % line, "%s:%s" % (fr.get("file"), fr.get("line")))
    if inner:
        want = ["mmap_allocation"] + inner
        got = find_in_order(frames, [sym_is(n) for n in want])
        check(got is not None, "frames contain %s in this order"
              % " <- ".join(want), " <- ".join(want), stack_str(frames))
        if got is not None:
            check(got == list(range(got[0], got[0] + len(want))),
                  "%s are adjacent frames (no caller dropped, none invented)"
                  % " <- ".join(want), " <- ".join(want),
                  stack_str(frames[got[0]:got[-1] + 1]))
    return top
