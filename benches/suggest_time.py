#!/usr/bin/env python3
"""Time `medee suggest --file PAGE --toml` (wall clock, whole process).

Usage:  python3 benches/suggest_time.py path/to/medee [PAGE.html ...] [--runs N]

Always times a generated 2.7 MB listing page (benches/compare.py's montsame
card markup with 1,800 items and its ~100 KB of page chrome), then every
PAGE given (for example the corpus's largest real pages). Prints the median
and the slowest of N runs per page. Build with `cargo build --release` first:
a debug build is several times slower.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import page  # noqa: E402


def time_suggest(medee, path, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(
            [medee, "suggest", "--file", path, "--base-url", "https://montsame.example.mn/mn/", "--toml"],
            capture_output=True,
        )
        times.append(time.perf_counter() - start)
        if done.returncode not in (0, 1):
            sys.exit(f"suggest failed on {path}: {done.stderr.decode(errors='replace')}")
    return statistics.median(times), max(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("medee")
    parser.add_argument("pages", nargs="*")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        generated = os.path.join(tmp, "generated-2.7MB.html")
        with open(generated, "wb") as f:
            f.write(page(1800, 7))
        print("| page | size | median | slowest |")
        print("|---|---|---|---|")
        for path in [generated, *args.pages]:
            median, slowest = time_suggest(args.medee, path, args.runs)
            size = os.path.getsize(path) / 1e6
            print(f"| {os.path.basename(path)} | {size:.2f} MB | {median * 1000:.0f} ms | {slowest * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
