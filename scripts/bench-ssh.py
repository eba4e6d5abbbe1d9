#!/usr/bin/env python3
"""What agentless monitoring costs: one ferrostat-agent watches this machine through a
local OpenSSH sshd for --seconds. With one target (the default) the script reports the
CPU time of every sshd/sftp-server process serving it and the bytes on the SSH
connection, per 2-second poll, and the agent's own CPU; with --targets N it watches the
same sshd under N ports and reports the agent's CPU per poll it delivered, and what that
comes to at the nominal rate. On a machine with 2 CPUs or more, the sshd processes run on
one CPU and the agent on another, so the agent's own cost per poll is not inflated by
sharing a CPU with the sessions it polls. Needs root (a test user, sshd), Debian's
openssh-server, Python websockets.

    cargo build --release -p ferrostat-agent
    python3 scripts/bench-ssh.py [--seconds 60] [--targets 50]
"""

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

import websockets

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
USER, PASSWORD = "ferrostat-ssh", "Ferrostat-Test-7"
TICK = os.sysconf("SC_CLK_TCK")


def pin(cpus):
    """A preexec_fn that runs the child on `cpus`."""
    return lambda: os.sched_setaffinity(0, cpus)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def descendants(root):
    parents = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = open(f"/proc/{pid}/stat").read()
        except OSError:
            continue
        parents[int(pid)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, i = [root], 0
    while i < len(found):
        found += [c for c, p in parents.items() if p == found[i]]
        i += 1
    return found[1:]


def cpu_ticks(pids):
    total = 0
    for pid in pids:
        try:
            f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            total += int(f[11]) + int(f[12])
        except OSError:
            pass
    return total


def connection_bytes(port):
    out = subprocess.run(["ss", "-tinH", f"sport = :{port}"], capture_output=True, text=True).stdout
    sent = sum(int(x) for x in re.findall(r"bytes_sent:(\d+)", out))
    received = sum(int(x) for x in re.findall(r"bytes_received:(\d+)", out))
    return sent + received


async def watch_many(url, ports, seconds, agent_pid):
    """Agent CPU seconds over `seconds` with every port watched, after all connected."""
    async with websockets.connect(url, max_size=None) as ws:
        await ws.send(json.dumps({"id": "m", "method": "ssh.startMonitor", "params": [
            {"host": "127.0.0.1", "port": p, "user": USER, "passwd": PASSWORD} for p in ports]}))
        while True:
            msg = json.loads(await asyncio.wait_for(ws.recv(), timeout=120))
            if msg.get("id") == "m":
                ok = sum(1 for r in msg["result"] if r["monitor"])
                break
        # From the first full poll of every target: connection set-up is not a poll.
        seen = set()
        while len(seen) < ok:
            msg = json.loads(await asyncio.wait_for(ws.recv(), timeout=120))
            if msg.get("method") == "ssh.notification" and msg["params"][0]["event"] == "memoryPerformance":
                seen.add(msg["params"][0]["message"]["port"])
        t0, c0, events = time.monotonic(), cpu_ticks([agent_pid]), {}
        end = t0 + seconds
        while time.monotonic() < end:
            try:
                msg = json.loads(await asyncio.wait_for(ws.recv(), timeout=max(end - time.monotonic(), 0.01)))
            except asyncio.TimeoutError:
                break
            if msg.get("method") == "ssh.notification":
                name = msg["params"][0]["event"]
                events[name] = events.get(name, 0) + 1
        return ok, (cpu_ticks([agent_pid]) - c0) / TICK, time.monotonic() - t0, events


async def watch(url, port, seconds, sshd_pid, agent_pid):
    async with websockets.connect(url, max_size=None) as ws:
        await ws.send(json.dumps({"id": "b", "method": "ssh.startMonitor", "params": [
            {"host": "127.0.0.1", "port": port, "user": USER, "passwd": PASSWORD}]}))
        polls, started, t0 = 0, False, None
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            msg = json.loads(await asyncio.wait_for(ws.recv(), timeout=30))
            if msg.get("method") != "ssh.notification":
                continue
            if msg["params"][0]["event"] == "memoryPerformance":
                if not started:
                    # Measure from the first full poll: connection set-up is not a poll.
                    started = True
                    t0 = (cpu_ticks(descendants(sshd_pid)), connection_bytes(port), cpu_ticks([agent_pid]))
                    end = time.monotonic() + seconds
                else:
                    polls += 1
        t1 = (cpu_ticks(descendants(sshd_pid)), connection_bytes(port), cpu_ticks([agent_pid]))
        return polls, t1[0] - t0[0], t1[1] - t0[1], t1[2] - t0[2]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--targets", type=int, default=1)
    args = p.parse_args()
    work = tempfile.mkdtemp(prefix="ferrostat-bench-ssh-")
    if subprocess.run(["id", USER], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", USER], check=True)
    subprocess.run(["chpasswd"], input=f"{USER}:{PASSWORD}\n", text=True, check=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", f"{work}/host_key"], check=True)
    os.makedirs("/run/sshd", exist_ok=True)
    ports = [free_port() for _ in range(args.targets)]
    cpus = sorted(os.sched_getaffinity(0))
    # Sessions (and their children, which inherit it) on the last CPU, the agent on the rest.
    remote_cpus, agent_cpus = ({cpus[-1]}, set(cpus[:-1])) if len(cpus) > 1 else (set(cpus), set(cpus))
    port = ports[0]
    sshds = []
    # sshd listens on at most 16 sockets: one sshd per 16 ports.
    for i in range(0, len(ports), 16):
        chunk = ports[i:i + 16]
        with open(f"{work}/sshd_{i}.config", "w") as f:
            f.write("".join(f"Port {p}\n" for p in chunk))
            f.write(f"ListenAddress 127.0.0.1\nHostKey {work}/host_key\nPidFile {work}/sshd_{i}.pid\n"
                    "PasswordAuthentication yes\nKbdInteractiveAuthentication no\nUsePAM no\n"
                    "MaxStartups 100\n"
                    f"AllowUsers {USER}\nSubsystem sftp /usr/lib/openssh/sftp-server\n")
        sshds.append(subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", f"{work}/sshd_{i}.config"],
                                      stderr=subprocess.DEVNULL, preexec_fn=pin(remote_cpus)))
    sshd = sshds[0]
    for p_ in ports:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", p_), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
    # The newest build of the agent (release if it is current).
    builds = [os.path.join(ROOT, "target", b, "ferrostat-agent") for b in ("release", "debug")]
    binary = max((b for b in builds if os.path.exists(b)), key=os.path.getmtime)
    agent = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", f"{work}/agent"],
                             stdout=subprocess.PIPE, text=True, preexec_fn=pin(agent_cpus))
    try:
        addr = None
        while addr is None:
            m = re.search(r"listening on http://(\S+)", agent.stdout.readline())
            addr = m.group(1) if m else None
        time.sleep(0.5)
        if args.targets > 1:
            ok, cpu, secs, events = asyncio.run(
                watch_many(f"ws://{addr}/monitor", ports, args.seconds, agent.pid))
            fast, lists = events.get("memoryPerformance", 0), events.get("process", 0)
            nominal = ok / 2.0  # fast polls per second at the default 2 s period
            print(f"{ok} of {args.targets} targets watched; {sum(events.values())} notifications in {secs:.0f} s")
            print(f"polls delivered: {fast} fast ({fast / secs:.1f}/s of a nominal {nominal:.1f}/s), "
                  f"{lists} process lists ({lists / max(fast, 1):.2f} per fast poll; nominal 0.40)")
            per_poll = cpu / max(fast, 1)
            print(f"agent CPU: {cpu:.2f} s in {secs:.0f} s = {cpu / secs * 100:.1f} % of one CPU "
                  f"({binary.split('/')[-2]} build, CPUs {sorted(agent_cpus)}; sessions on {sorted(remote_cpus)})")
            print(f"agent CPU per delivered poll: {per_poll * 1000:.2f} ms; at the nominal rate "
                  f"{per_poll * nominal * 100:.1f} % of one CPU for {ok} targets")
            return
        polls, ticks, nbytes, agent_ticks = asyncio.run(
            watch(f"ws://{addr}/monitor", port, args.seconds, sshd.pid, agent.pid))
        print(f"{polls} polls in {args.seconds:.0f} s (every 2 s: 8 fast events; process every 5 s; cpuInfo every 10 s)")
        print(f"remote CPU (sshd session + sftp-server): {ticks / TICK * 1000 / max(polls, 1):.2f} ms per poll, "
              f"{ticks / TICK / args.seconds * 100:.2f} % of one CPU")
        print(f"bytes on the SSH connection: {nbytes / max(polls, 1) / 1024:.1f} KiB per poll")
        print(f"agent CPU: {agent_ticks / TICK * 1000 / max(polls, 1):.2f} ms per poll, "
              f"{agent_ticks / TICK / args.seconds * 100:.2f} % of one CPU ({binary.split('/')[-2]} build)")
    finally:
        agent.terminate()
        for s_ in sshds:
            s_.terminate()
        agent.wait()
        for s_ in sshds:
            s_.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
