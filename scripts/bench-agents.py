#!/usr/bin/env python3
"""ferrostat-agent against socktop_agent, side by side in one run on one machine.

Measures, for each agent, over its socktop protocol on /ws:
  - fresh round trips: `get_metrics` and `get_processes` with the reply caches off
    (SOCKTOP_AGENT_*_TTL_MS=0 for both agents), so every request collects; median and p99;
  - CPU ticks (utime + stime from /proc/PID/stat) over --idle seconds with no client;
  - CPU ticks over --load seconds with one client polling get_metrics every 500 ms and
    get_processes every 2 s (the socktop TUI's pace), default caches;
  - resident memory (VmRSS, and the peak VmHWM) at the end.

Usage:
  cargo build --release -p ferrostat-agent
  cargo install socktop_agent --version 1.60.1 --locked --no-default-features --root /tmp/socktop-root
  python3 scripts/bench-agents.py --socktop /tmp/socktop-root/bin/socktop_agent

Prints a Markdown table (agent-std/BENCHMARKS.md holds the last one). Needs the Python
`websockets` package. The two agents run at the same time in the idle and load phases
(they measure their own CPU time, which the other barely disturbs on two or more cores)
and one after the other in the round-trip phase.
"""

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time

import websockets


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime


def status_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def start(name, argv, port, env_extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOCKTOP_", "FERROSTAT_"))}
    env.update(env_extra)
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit(f"{name} did not start listening on {port}")


def agents(args, ttl_zero):
    env = {}
    if ttl_zero:
        env = {"SOCKTOP_AGENT_METRICS_TTL_MS": "0", "SOCKTOP_AGENT_PROCESSES_TTL_MS": "0"}
    fp, sp = free_port(), free_port()
    data = f"/tmp/ferrostat-bench-{os.getpid()}"
    ours = start("ferrostat-agent", [args.ferrostat, "serve", "--listen", f"127.0.0.1:{fp}",
                                     "--data-dir", data, "--cache-ms", "0" if ttl_zero else "500"],
                 fp, env)
    theirs = start("socktop_agent", [args.socktop, "--port", str(sp)], sp, env)
    return [("ferrostat-agent", ours, fp), ("socktop_agent 1.60.1", theirs, sp)]


async def round_trips(port, request, n):
    times = []
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws", max_size=None) as ws:
        for _ in range(3):  # warm up: first process CPU deltas, buffers grown
            await ws.send(request)
            await ws.recv()
        for _ in range(n):
            t = time.perf_counter()
            await ws.send(request)
            await ws.recv()
            times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.99))]


async def poll(port, seconds):
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws", max_size=None) as ws:
        end = time.monotonic() + seconds
        step = 0
        while time.monotonic() < end:
            await ws.send("get_metrics")
            await ws.recv()
            if step % 4 == 0:
                await ws.send("get_processes")
                await ws.recv()
            step += 1
            await asyncio.sleep(0.5)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ferrostat", default="target/release/ferrostat-agent")
    p.add_argument("--socktop", required=True)
    p.add_argument("--metrics", type=int, default=500, help="get_metrics round trips")
    p.add_argument("--processes", type=int, default=100, help="get_processes round trips")
    p.add_argument("--idle", type=float, default=60)
    p.add_argument("--load", type=float, default=60)
    args = p.parse_args()
    hz = os.sysconf("SC_CLK_TCK")
    rows = {}

    # Round trips, caches off, one agent at a time.
    running = agents(args, ttl_zero=True)
    for name, proc, port in running:
        m = asyncio.run(round_trips(port, "get_metrics", args.metrics))
        pr = asyncio.run(round_trips(port, "get_processes", args.processes))
        rows[name] = {"metrics": m, "processes": pr}
    for _, proc, _ in running:
        proc.kill()
        proc.wait()

    # Idle, then one polling client each, both agents at once, default caches.
    running = agents(args, ttl_zero=False)
    time.sleep(1)
    before = {name: ticks(proc.pid) for name, proc, _ in running}
    time.sleep(args.idle)
    for name, proc, _ in running:
        rows[name]["idle"] = ticks(proc.pid) - before[name]
    before = {name: ticks(proc.pid) for name, proc, _ in running}

    async def both():
        await asyncio.gather(*[poll(port, args.load) for _, _, port in running])

    asyncio.run(both())
    for name, proc, _ in running:
        rows[name]["load"] = ticks(proc.pid) - before[name]
        rows[name]["rss"] = status_kb(proc.pid, "VmRSS")
        rows[name]["hwm"] = status_kb(proc.pid, "VmHWM")
        proc.kill()
        proc.wait()

    cpus = os.cpu_count()
    print(f"{cpus} CPUs, {hz} ticks/s, {args.metrics} get_metrics and {args.processes} "
          f"get_processes round trips, {args.idle:.0f} s idle, {args.load:.0f} s polled\n")
    print("| agent | get_metrics median / p99 (ms) | get_processes median / p99 (ms) "
          f"| CPU ticks idle {args.idle:.0f} s | CPU ticks polled {args.load:.0f} s "
          "| RSS / peak (MiB) |")
    print("|---|---|---|---|---|---|")
    for name, r in rows.items():
        print(f"| {name} | {r['metrics'][0]:.3f} / {r['metrics'][1]:.3f} "
              f"| {r['processes'][0]:.2f} / {r['processes'][1]:.2f} "
              f"| {r['idle']} | {r['load']} | {r['rss'] / 1024:.1f} / {r['hwm'] / 1024:.1f} |")


if __name__ == "__main__":
    main()
