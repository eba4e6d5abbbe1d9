"""A release ferrostat-agent with its sFlow collector on loopback, for the sFlow
benchmark scripts."""

import re
import shutil
import subprocess
import sys
import tempfile


def start(agent_bin, extra=()):
    """Starts `serve --sflow` on loopback ports of the kernel's choosing, in a new data
    directory; returns the process, the collector's UDP address and the HTTP base URL,
    as the agent announces them on stdout, and the data directory."""
    data = tempfile.mkdtemp(prefix="ferrostat-bench-sflow-")
    agent = subprocess.Popen(
        [agent_bin, "serve", "--listen", "127.0.0.1:0", "--sflow", "127.0.0.1:0",
         "--data-dir", data, *extra],
        stdout=subprocess.PIPE, text=True)
    udp = http = None
    while http is None:
        line = agent.stdout.readline()
        if not line:
            sys.exit("agent exited")
        m = re.search(r"udp://(\S+)", line)
        udp = m.group(1) if m else udp
        m = re.search(r"listening on (http://\S+)", line)
        http = m.group(1) if m else None
    return agent, udp, http, data


def stop(agent, data):
    """Ends the agent and removes its data directory."""
    agent.terminate()
    agent.wait()
    shutil.rmtree(data, ignore_errors=True)
