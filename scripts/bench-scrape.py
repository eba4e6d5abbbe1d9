#!/usr/bin/env python3
"""CPU per /metrics scrape, agents side by side in one run: each started on loopback
(ferrostat-agent with its page cache off, `--cache-ms 0`; node_exporter as packaged),
scraped N times back to back per round, its utime + stime read from /proc/PID/stat before
and after. Rounds alternate between the agents so a slow phase of the VM hits all of them.

Usage:
  python3 scripts/bench-scrape.py N ROUNDS AGENT [AGENT...]
  python3 scripts/bench-scrape.py 500 5 /tmp/agent-old target/release/ferrostat-agent \
      /usr/bin/prometheus-node-exporter
"""
import os, socket, subprocess, sys, time, urllib.request

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]

def ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])

def start(argv, port):
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2): return p
        except OSError: time.sleep(0.05)
    p.kill(); sys.exit(f"{argv[0]} did not listen")

def main():
    n = int(sys.argv[1]); rounds = int(sys.argv[2]); agents = sys.argv[3:]
    procs = []
    for a in agents:
        port = free_port()
        if "node_exporter" in a or "node-exporter" in a:
            argv = [a, f"--web.listen-address=127.0.0.1:{port}"]
        else:
            argv = [a, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", f"/tmp/bench-scrape-{os.getpid()}-{port}", "--cache-ms", "0"]
        procs.append((a, start(argv, port), port))
    hz = os.sysconf("SC_CLK_TCK")
    results = {a: [] for a in agents}
    for r in range(rounds):
        for a, p, port in procs:
            url = f"http://127.0.0.1:{port}/metrics"
            urllib.request.urlopen(url).read()
            t0, w0 = ticks(p.pid), time.perf_counter()
            size = 0
            for _ in range(n):
                size = len(urllib.request.urlopen(url).read())
            t1, w1 = ticks(p.pid), time.perf_counter()
            results[a].append(((t1 - t0) * 1000 / hz / n, (w1 - w0) * 1000 / n, size))
    for a, p, _ in procs:
        p.terminate(); p.wait()
    for a in agents:
        cpu = sorted(x[0] for x in results[a]); wall = sorted(x[1] for x in results[a])
        print(f"{a}: CPU ms/scrape min {cpu[0]:.3f} median {cpu[len(cpu)//2]:.3f}; wall ms/scrape median {wall[len(wall)//2]:.3f}; page {results[a][-1][2]} bytes")

main()
