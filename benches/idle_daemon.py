#!/usr/bin/env python3
"""Measures the idle daemon: resident memory and CPU over a quiet minute.

Usage: cargo build --release && python3 benches/idle_daemon.py [SECONDS]

Runs `medee run` on the shipped config (sites served from tests/fixtures on
127.0.0.1, HTTP listener on), waits for the first cycle's outputs, then reads
/proc over SECONDS (default 60) with no fetch due: VmRSS/VmHWM, CPU time
(utime+stime), and context switches of all threads (a wake-up count).
"""
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from fixture_site import BINARY, start_server, shipped_config


def status_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(rf"^{field}:\s+(\d+) kB", f.read(), re.M).group(1))


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def context_switches(pid):
    """Per-thread switch counts; threads that exit or start between samples are compared only where both exist."""
    counts = {}
    for path in glob.glob(f"/proc/{pid}/task/*/status"):
        try:
            with open(path) as f:
                text = f.read()
        except FileNotFoundError:
            continue
        counts[path] = sum(int(n) for n in re.findall(r"ctxt_switches:\s+(\d+)", text))
    return counts


def main():
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    server, origin = start_server()
    config = shipped_config(origin)
    config = config.replace("[daemon]\n", "[daemon]\nlisten = \"127.0.0.1:0\"\n", 1)
    workdir = tempfile.mkdtemp(prefix="medee-idle-")
    with open(os.path.join(workdir, "medee.toml"), "w", encoding="utf-8") as f:
        f.write(config)
    proc = subprocess.Popen([BINARY, "--config", "medee.toml", "run"], cwd=workdir,
                            stderr=subprocess.DEVNULL, env={**os.environ, "RUST_LOG": "warn"})
    try:
        deadline = time.time() + 30
        while not os.path.exists(os.path.join(workdir, "feeds", "feeds.opml")):
            if time.time() > deadline:
                sys.exit("the first cycle did not finish")
            time.sleep(0.1)
        time.sleep(2)
        ticks0, switches0 = cpu_ticks(proc.pid), context_switches(proc.pid)
        time.sleep(seconds)
        ticks1, switches1 = cpu_ticks(proc.pid), context_switches(proc.pid)
        hz = os.sysconf("SC_CLK_TCK")
        threads = len(glob.glob(f"/proc/{proc.pid}/task/*"))
        print(f"idle for {seconds} s (no fetch due: the shipped schedule is every 15 minutes)")
        print(f"resident memory: {status_kb(proc.pid, 'VmRSS') / 1024:.1f} MiB now, "
              f"{status_kb(proc.pid, 'VmHWM') / 1024:.1f} MiB peak (first cycle included)")
        print(f"CPU time while idle: {(ticks1 - ticks0) / hz * 1000:.0f} ms "
              f"({(ticks1 - ticks0) / hz / seconds * 100:.3f} % of one core)")
        switches = sum(switches1[k] - switches0[k] for k in switches1.keys() & switches0.keys())
        print(f"context switches while idle: {switches} across {threads} threads")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        server.shutdown()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
