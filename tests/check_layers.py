#!/usr/bin/env python3
"""check_layers.py: the folders' dependencies point one way (HACKING.md's map).

Reads every `#include "..."` of the C sources and fails, naming the file and
line, when a folder includes one above it: core <- detectors, generators <-
learners <- connectors <- engine, and inside engine: config <- model <-
record <- stream <- verify <- cli. core/ includes nothing outside core/.
Run by `make test` (`make layers`); prints the folder graph it found.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOP = {"core": 0, "detectors": 1, "generators": 1, "learners": 2, "connectors": 3, "engine": 4}
ENGINE = {"config": 0, "model": 1, "record": 2, "stream": 3, "verify": 4, "cli": 5}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def layer(path):
    """(top rank, engine room rank, name) of a repository path, or None."""
    parts = path.split("/")
    if parts[0] not in TOP:
        return None
    room = ENGINE.get(parts[1], -1) if parts[0] == "engine" and len(parts) > 2 else -1
    name = parts[0] + ("/" + parts[1] if room >= 0 else "")
    return TOP[parts[0]], room, name


def resolve(src, inc):
    """The repository path an include names (-I. first, then the file's folder)."""
    for cand in (inc, os.path.normpath(os.path.join(os.path.dirname(src), inc))):
        if os.path.exists(os.path.join(ROOT, cand)):
            return cand
    return None


def main():
    bad, edges = [], set()
    for top in TOP:
        for d, _, files in os.walk(os.path.join(ROOT, top)):
            for f in sorted(files):
                if not f.endswith((".c", ".h")):
                    continue
                src = os.path.relpath(os.path.join(d, f), ROOT)
                me = layer(src)
                for n, line in enumerate(open(os.path.join(ROOT, src), errors="replace"), 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    dst = resolve(src, m.group(1))
                    if dst is None:
                        bad.append(f"{src}:{n}: includes {m.group(1)!r}, which is not in the repository")
                        continue
                    it = layer(dst)
                    if it is None:
                        bad.append(f"{src}:{n}: includes {dst}, outside the library's folders")
                        continue
                    if it[2] != me[2]:
                        edges.add((me[2], it[2]))
                    up = it[0] > me[0] or (it[0] == me[0] and me[0] == 4 and it[1] > me[1])
                    sideways = it[0] == me[0] and it[0] != 4 and it[2] != me[2]
                    if up or sideways:
                        bad.append(f"{src}:{n}: {me[2]}/ includes {dst}: {it[2]}/ is not below it")
    for a, b in sorted(edges):
        print(f"  {a} -> {b}")
    if bad:
        print("\n".join(bad), file=sys.stderr)
        print(f"layers: {len(bad)} include(s) against the folder order", file=sys.stderr)
        return 1
    print(f"layers: {len(edges)} folder dependencies, all pointing down")
    return 0


if __name__ == "__main__":
    sys.exit(main())
