#!/usr/bin/env python3
"""How often a /proc/stat CPU line has its separators at the same offsets as the line
before it, over every stat file with four or more CPU lines under the given directory.
benches/README.md uses the count to judge a parser that reuses the previous line's
layout."""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "core/tests/data/proc")
lines_seen = same = 0
for path in sorted(root.rglob("stat")):
    rows = [l for l in path.read_bytes().split(b"\n") if re.match(rb"cpu\d+ ", l)]
    if len(rows) < 4:
        continue
    layouts = [[i for i, c in enumerate(r) if c == 0x20] + [len(r)] for r in rows]
    repeats = sum(a == b for a, b in zip(layouts, layouts[1:]))
    print(f"{path}: {len(rows)} CPU lines, {repeats} laid out like the line before")
    lines_seen += len(rows) - 1
    same += repeats
print(f"all: {same} of {lines_seen} CPU lines laid out like the line before")
