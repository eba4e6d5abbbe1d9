#!/usr/bin/env python3
"""Prints the ferrostat-vs-procfs table from criterion's results in target/criterion.

Run `cargo bench -p ferrostat-benches` first. Columns: median time, input bytes per
second, and how many times faster ferrostat is than procfs on the same input.

With baseline names as arguments (runs saved with criterion's `--save-baseline NAME`),
each median is the lowest of those runs' medians, taken for each side on its own: the
machine is a VM with slow phases, and a run that falls into one is then outvoted.
Without arguments, the latest run (`new`) is read.
"""
import json
import os
import sys

ROOT = os.path.join(os.path.dirname(__file__), "..", "target", "criterion")


def median_ns(group, impl, label, runs):
    medians = []
    for run in runs:
        path = os.path.join(ROOT, group, impl, label, run, "estimates.json")
        if os.path.exists(path):
            with open(path) as f:
                medians.append(json.load(f)["median"]["point_estimate"])
    return min(medians) if medians else None


def throughput_bytes(group, impl, label):
    path = os.path.join(ROOT, group, impl, label, "new", "benchmark.json")
    with open(path) as f:
        return json.load(f)["throughput"]["Bytes"]


def fmt_time(ns):
    return f"{ns / 1000:.2f} µs" if ns >= 1000 else f"{ns:.0f} ns"


def main():
    runs = sys.argv[1:] or ["new"]
    rows = []
    for group in sorted(os.listdir(ROOT)):
        ours_dir = os.path.join(ROOT, group, "ferrostat")
        if not os.path.isdir(ours_dir):
            continue
        for label in sorted(os.listdir(ours_dir)):
            ours = median_ns(group, "ferrostat", label, runs)
            if ours is None:
                continue
            size = throughput_bytes(group, "ferrostat", label)
            theirs = median_ns(group, "procfs", label, runs)
            gbps = size / ours  # bytes per ns == GB/s
            ratio = f"{theirs / ours:.1f}x" if theirs else "procfs fails"
            rows.append((group, label, size, fmt_time(ours), f"{gbps:.2f} GB/s",
                         fmt_time(theirs) if theirs else "—", ratio))
    print("| parser | input | bytes | ferrostat median | ferrostat throughput | procfs median | speed-up |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print("| " + " | ".join(str(x) for x in r) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
