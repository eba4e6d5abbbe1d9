#!/usr/bin/env python3
"""Replays sFlow captures into a release ferrostat-agent at increasing rates over
loopback and reports, per rate, what reached the collector and what reached the store.

    cargo build --release -p ferrostat-agent
    python3 scripts/bench-sflow.py [--seconds 5] [--agents 1000] [--rates 25000,50000,...]

Every datagram is renumbered per agent (`sflow replay --renumber`), so the collector's
sequence-gap counter is the number lost between sender and collector (the kernel's
socket buffer); `queue drops` are samples the history writer could not take; a rate has
zero loss when every datagram was received and every sample of it committed.
"""

import argparse
import os
import re
import subprocess
import time
import urllib.request

import sflow_agent

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AGENT = os.path.join(ROOT, "target", "release", "ferrostat-agent")
CAPTURE = os.path.join(ROOT, "core", "tests", "data", "sflow", "hsflowd-live.pcap")


def metrics(base):
    page = urllib.request.urlopen(base + "/metrics").read().decode()
    out = {}
    for line in page.splitlines():
        if line.startswith("#") or not line:
            continue
        name_labels, value = line.rsplit(" ", 1)
        name = re.split(r"[{ ]", name_labels)[0]
        if name.startswith(("ferrostat_sflow_datagrams", "ferrostat_sflow_sequence",
                            "ferrostat_sflow_samples", "ferrostat_sflow_decode",
                            "ferrostat_history_")):
            out[name] = out.get(name, 0.0) + float(value)
    return out


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--agents", type=int, default=1000)
    p.add_argument("--rates", default="25000,50000,100000,150000,200000,0")
    args = p.parse_args()
    agent, udp, http, data = sflow_agent.start(AGENT)
    print(f"| offered rate (datagrams/s) | sent | achieved rate | received | lost before the collector | samples queued | committed | queue drops | agent CPU s |")
    print("|---|---|---|---|---|---|---|---|---|")
    try:
        for rate in [int(r) for r in args.rates.split(",")]:
            count = int((rate or 200_000) * args.seconds)
            before = metrics(http)
            cpu0 = cpu_seconds(agent.pid)
            out = subprocess.run(
                [AGENT, "sflow", "replay", CAPTURE, "--to", udp, "--count", str(count),
                 "--rate", str(rate), "--agent", "10.9.0.1", "--agents", str(args.agents),
                 "--renumber"],
                capture_output=True, text=True, check=True).stdout
            achieved = float(re.search(r"\(([\d.]+) per second\)", out).group(1))
            # Let the writer drain: committed stops moving.
            last = None
            while True:
                time.sleep(0.5)
                now = metrics(http)
                if now == last:
                    break
                last = now
            d = {k: now.get(k, 0) - before.get(k, 0) for k in now}
            cpu = cpu_seconds(agent.pid) - cpu0
            received = d.get("ferrostat_sflow_datagrams_total", 0)
            print(f"| {rate or 'max'} | {count} | {achieved:.0f} | {received:.0f} | "
                  f"{count - received:.0f} | {d.get('ferrostat_history_samples_queued_total', 0):.0f} | "
                  f"{d.get('ferrostat_history_samples_committed_total', 0):.0f} | "
                  f"{d.get('ferrostat_history_queue_drops_total', 0):.0f} | {cpu:.2f} |",
                  flush=True)
        size = os.path.getsize(os.path.join(data, "sflow-history.sqlite3"))
        print(f"\nhistory file: {size / 2**20:.1f} MiB")
    finally:
        sflow_agent.stop(agent, data)


if __name__ == "__main__":
    main()
