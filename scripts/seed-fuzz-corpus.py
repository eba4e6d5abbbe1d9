#!/usr/bin/env python3
"""Regenerates fuzz/corpus/<target>/ from the real /proc files in core/tests/data/proc.

Seeds are small real files (at most 16 KiB, at most 12 per target), named by content
hash so reruns are stable. Run from the repository root; commit the result.
"""
import hashlib
import os
import re
import sys

ROOT = "core/tests/data/proc"
OUT = "fuzz/corpus"
PID = r"(\d+|self)"
RULES = [
    ("stat", r"/proc/stat$"),
    ("meminfo", r"/proc/meminfo$"),
    ("loadavg", r"/proc/loadavg$"),
    ("uptime", r"/proc/uptime$"),
    ("net_dev", r"/net/dev$"),
    ("diskstats", r"/proc/diskstats$"),
    ("cpuinfo", r"/proc/cpuinfo$"),
    ("pid_stat", rf"/{PID}/stat$"),
    ("pid_status", rf"/{PID}/status$"),
    ("pid_statm", rf"/{PID}/statm$"),
    ("pid_io", rf"/{PID}/io$"),
    ("mountinfo", r"/mountinfo$"),
    ("mounts", r"/mounts$"),
    ("pressure", r"/pressure/\w+$"),
    ("net_snmp", r"/net/snmp$"),
    ("vmstat", r"/proc/vmstat$"),
]


def udp_payloads(path):
    """UDP payloads of a classic little- or big-endian pcap of Ethernet/IPv4/UDP frames."""
    import struct
    data = open(path, "rb").read()
    endian = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
    pos = 24
    while pos + 16 <= len(data):
        caplen = struct.unpack(endian + "I", data[pos + 8:pos + 12])[0]
        frame = data[pos + 16:pos + 16 + caplen]
        pos += 16 + caplen
        ihl = (frame[14] & 0x0F) * 4
        yield frame[14 + ihl + 8:]


def seed_sflow():
    """Raw sFlow datagrams from the captures, for the two sFlow targets."""
    captures = sorted(
        os.path.join(d, f) for d, _, fs in os.walk("core/tests/data/sflow") for f in fs if f.endswith(".pcap")
    )
    for target in ("sflow_datagram", "sflow_roundtrip"):
        out = os.path.join(OUT, target)
        os.makedirs(out, exist_ok=True)
        seen = set()
        for cap in captures:
            for i, payload in enumerate(udp_payloads(cap)):
                if i >= 3 or len(payload) > 4096:
                    break
                digest = hashlib.sha1(payload).hexdigest()
                if digest not in seen:
                    seen.add(digest)
                    with open(os.path.join(out, digest), "wb") as f:
                        f.write(payload)
        print(f"{target}: {len(seen)} seeds")


def main() -> int:
    files = sorted(
        os.path.join(d, f) for d, _, fs in os.walk(ROOT) for f in fs if f != "INDEX.md"
    )
    for target, pattern in RULES:
        out = os.path.join(OUT, target)
        os.makedirs(out, exist_ok=True)
        seen = set()
        for path in files:
            if len(seen) >= 12 or not re.search(pattern, path) or "/pressure/" in path and target != "pressure":
                continue
            data = open(path, "rb").read()
            if len(data) > 16384:
                continue
            digest = hashlib.sha1(data).hexdigest()
            if digest in seen:
                continue
            seen.add(digest)
            with open(os.path.join(out, digest), "wb") as f:
                f.write(data)
        print(f"{target}: {len(seen)} seeds")
    seed_sflow()
    return 0


if __name__ == "__main__":
    sys.exit(main())
