#!/usr/bin/env python3
"""Waves of new sFlow agents into a release ferrostat-agent: a fleet that changes, as VMs
and hosts come and go. After each wave, what `/metrics` lists, what the registry refused
and forgot, and the agent's resident memory.

    cargo build --release -p ferrostat-agent
    python3 scripts/bench-sflow-churn.py [--waves 6] [--agents 20000] [--pause 7] \
        [--agent-bin PATH] [-- serve flags, e.g. --remote-host-expiry-s 5]

Each wave is `sflow replay` of the live hsflowd capture's first two datagrams (a host
sample each) to `--agents` new agent addresses, 10.<wave>.0.1 on; the next wave starts
`--pause` seconds later. With an expiry shorter than the pause, each wave should find the
last one forgotten and take its places.
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


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--waves", type=int, default=6)
    p.add_argument("--agents", type=int, default=20_000)
    p.add_argument("--pause", type=float, default=7.0)
    p.add_argument("--agent-bin", default=AGENT)
    p.add_argument("serve", nargs=argparse.REMAINDER)
    args = p.parse_args()
    serve = [a for a in args.serve if a != "--"]
    agent, udp, http, data = sflow_agent.start(args.agent_bin, serve)
    print("| wave | hosts listed | of them this wave's | refused (total) | forgotten (total) | datagrams received | agent RSS MB |")
    print("|---|---|---|---|---|---|---|")
    try:
        for wave in range(args.waves):
            subprocess.run(
                [args.agent_bin, "sflow", "replay", CAPTURE, "--to", udp, "--rate", "40000",
                 "--agent", f"10.{wave}.0.1", "--agents", str(args.agents),
                 "--count", str(2 * args.agents), "--renumber"],
                check=True, stdout=subprocess.DEVNULL)
            time.sleep(1.0)
            page = urllib.request.urlopen(http + "/metrics").read().decode()
            agents = set(re.findall(
                r'^ferrostat_sflow_[a-z0-9_]+\{[^}]*?[{,]agent="([^"]+)"', page, re.M))
            this_wave = sum(1 for a in agents if a.startswith(f"10.{wave}."))

            def single(name):
                m = re.search(rf"^{name} (\S+)", page, re.M)
                return m.group(1) if m else "-"

            received = sum(float(v) for v in re.findall(
                r"^ferrostat_sflow_datagrams_total\{[^}]*\} (\S+)", page, re.M))
            print(f"| {wave} | {len(agents)} | {this_wave} | "
                  f"{single('ferrostat_sflow_registry_refused_total')} | "
                  f"{single('ferrostat_sflow_registry_expired_total')} | "
                  f"{received:.0f} | {rss_mb(agent.pid):.0f} |", flush=True)
            if wave + 1 < args.waves:
                time.sleep(args.pause)
    finally:
        sflow_agent.stop(agent, data)


if __name__ == "__main__":
    main()
