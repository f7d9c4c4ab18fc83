#!/usr/bin/env python3
"""Times `medee once` on the shipped sources, served from tests/fixtures on 127.0.0.1.

Usage: cargo build --release && python3 benches/once_fixtures.py [RUNS]

Prints the median, min and max wall time of RUNS cold runs (empty store) and
RUNS warm runs (store already holding every item), and checks each run wrote
the expected number of entries to all.atom so no timing is of a wrong result.
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from fixture_site import BINARY, start_server, shipped_config

EXPECTED_ENTRIES = 15


def run_once(workdir):
    start = time.perf_counter()
    subprocess.run([BINARY, "--config", "medee.toml", "once"], cwd=workdir, check=True,
                   env={**os.environ, "RUST_LOG": "warn"})
    elapsed = time.perf_counter() - start
    with open(os.path.join(workdir, "feeds", "all.atom"), encoding="utf-8") as f:
        entries = f.read().count("<entry>")
    if entries != EXPECTED_ENTRIES:
        sys.exit(f"wrong result: all.atom has {entries} entries, expected {EXPECTED_ENTRIES}")
    return elapsed


def summary(label, times):
    ms = [t * 1000 for t in times]
    print(f"{label:<5} median {statistics.median(ms):7.1f} ms   min {min(ms):7.1f}   max {max(ms):7.1f}   ({len(ms)} runs)")


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 11
    server, origin = start_server()
    config = shipped_config(origin)
    workdir = tempfile.mkdtemp(prefix="medee-bench-")
    try:
        with open(os.path.join(workdir, "medee.toml"), "w", encoding="utf-8") as f:
            f.write(config)
        cold = []
        for _ in range(runs):
            shutil.rmtree(os.path.join(workdir, "state"), ignore_errors=True)
            cold.append(run_once(workdir))
        warm = [run_once(workdir) for _ in range(runs)]
        summary("cold", cold)
        summary("warm", warm)
    finally:
        server.shutdown()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
