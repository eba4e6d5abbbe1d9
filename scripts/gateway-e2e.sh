#!/usr/bin/env bash
# End to end, gateway to agent, on this machine: in a network namespace of its own, a
# TAP device (the gateway's Ethernet), the host gateway (embassy-net over the TAP, the
# firmware's own tasks) and a real ferrostat-agent. hsflowd's real datagrams are sent to
# the gateway's sFlow port; the agent's sflow-monitor API must show every host sample
# with sflowtool's values. Needs root (namespaces, /dev/net/tun).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
ns="ferrostat-gw-$$"
work=$(mktemp -d)
cleanup() {
    ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

cargo build -p ferrostat-agent
(cd agent-embassy && cargo build --example host_gateway)
agent_bin=$root/target/debug/ferrostat-agent
gateway_bin=$root/agent-embassy/target/debug/examples/host_gateway

ip netns add "$ns"
in_ns() { ip netns exec "$ns" "$@"; }
in_ns ip link set lo up
in_ns ip tuntap add dev fstap0 mode tap
in_ns ip addr add 10.77.0.1/24 dev fstap0
in_ns ip link set fstap0 up

in_ns "$agent_bin" serve --listen 127.0.0.1:3000 --token s3cret \
    --gateway-listen 10.77.0.1:7343 --data-dir "$work/agent" >"$work/agent.out" 2>&1 &
in_ns "$gateway_bin" fstap0 10.77.0.2/24 10.77.0.1:7343 s3cret >"$work/gateway.out" 2>&1 &

metric() {  # name and label filter -> summed value
    in_ns python3 - "$1" "$2" <<'PY'
import sys, urllib.request
name, labels = sys.argv[1], sys.argv[2]
try:
    page = urllib.request.urlopen("http://127.0.0.1:3000/metrics?token=s3cret", timeout=5).read().decode()
except OSError:
    print(-1); sys.exit()
total = 0.0
for line in page.splitlines():
    if line.startswith(name) and line[len(name):len(name)+1] in "{ " and labels in line:
        total += float(line.rsplit(" ", 1)[1])
print(total)
PY
}
wait_for() {  # name labels want
    for _ in $(seq 1 300); do
        [ "$(metric "$1" "$2")" = "$3" ] && return 0
        sleep 0.1
    done
    echo "timed out waiting for $1{$2} = $3 (now $(metric "$1" "$2"))"
    cat "$work/agent.out" "$work/gateway.out"
    exit 1
}
# The gateway connects once its stack is up and says hello.
wait_for ferrostat_gateway_connected 'gateway="host-gw"' 1.0
# hsflowd's 22 datagrams, from inside the namespace, to the gateway's sFlow port.
in_ns "$agent_bin" sflow replay core/tests/data/sflow/hsflowd-live.pcap --to 10.77.0.2:6343 --rate 200
wait_for ferrostat_gateway_samples_total 'gateway="host-gw"' 15.0
wait_for ferrostat_history_samples_committed_total '' 15.0

# The README's client asks the agent what it stored; sflowtool's decoding is the oracle.
in_ns python3 - <<'PY'
import json, jsonrpclib
api = jsonrpclib.ServerProxy("http://127.0.0.1:3000/api?token=s3cret")
rows = api.host.cpu(ip="192.0.2.2")
mem = api.host.memory(ip="192.0.2.2")
want = []
for line in open("core/tests/data/sflow/hsflowd-live.sflowtool.jsonl"):
    for s in json.loads(line)["samples"]:
        for e in s.get("elements", []):
            if e.get("counterBlock_tag") == "0:2003":
                want.append((int(e["cpu_user"]), int(e["cpu_contexts"])))
got = [(r["cpu_user"], r["cpu_contexts"]) for r in rows]
assert got == want, (got, want)
assert len(mem) == 15 and all(r["mem_total"] > 0 for r in mem), mem
print(f"gateway e2e: {len(rows)} host samples from the gateway match sflowtool")
PY
echo "heartbeat: uptime $(metric ferrostat_gateway_uptime_seconds 'gateway="host-gw"') s, link up $(metric ferrostat_gateway_link_up 'gateway="host-gw"')"
