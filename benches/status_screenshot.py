#!/usr/bin/env python3
"""Takes a headless Chromium screenshot of the daemon's /status page.

Usage: python3 benches/status_screenshot.py [BINARY] [OUT.png]
       (default binary target/release/medee, default output status.png)

Serves the shipped sources from tests/fixtures on 127.0.0.1 plus one source
that always answers 404, runs `medee once` to create the store, then seeds
29 earlier days of synthetic history into it (items dated on those days,
runs and some failed runs per day) so the charts have something to show,
starts `medee run` with a listener, waits until /status shows the scheduled
runs, and has Chromium render it to a PNG. Prints the page's own checks
(sources, charts, no script) and where the picture is. Exits 0 with a
message, taking no screenshot, when no Chromium is installed.
"""
import datetime
import os
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from fixture_site import BINARY, start_server, shipped_config

CHROMIUMS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
DAY = 86_400


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed_history(database, source_ids, now):
    """29 days before today: items dated on each, 96 runs a day, a few failed;
    the broken source failing every run of the last three."""
    rng = random.Random(7)
    today = now // DAY
    db = sqlite3.connect(database)
    for source in source_ids:
        broken = source == "broken"
        for back in range(1, 30):
            day = today - back
            failures = 96 if broken and back < 4 else (rng.choice([0] * 8 + [1, 3]))
            db.execute(
                "INSERT INTO run_days (source_id, day, runs, failures) VALUES (?, ?, 96, ?)"
                " ON CONFLICT (source_id, day) DO UPDATE SET runs = 96, failures = excluded.failures",
                (source, day, failures),
            )
            if broken and back < 4:
                continue
            for n in range(rng.randint(0, 14) + (6 if back % 7 not in (5, 6) else 0)):
                at = day * DAY + rng.randint(0, DAY - 1)
                link = f"https://seed.invalid/{source}/{day}/{n}"
                db.execute(
                    "INSERT OR IGNORE INTO items (source_id, link, title, title_key, first_seen,"
                    " last_seen, updated, sort_at, published) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (source, link, f"Seeded item {n}", f"seeded {source} {day} {n}", at, at, at, at, at),
                )
    # The broken site last answered four days ago.
    db.execute("UPDATE sources SET last_success = ? WHERE id = 'broken'", ((today - 4) * DAY + 30_000,))
    db.execute("UPDATE outputs SET changes = changes + 1")
    db.commit()
    db.close()


def wait_for_status(port, deadline):
    url = f"http://127.0.0.1:{port}/status"
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                page = response.read().decode("utf-8")
                if "not scheduled" not in page:
                    return page
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit("the daemon did not serve a scheduled /status in time")


def request_ms(port, path, runs=50):
    """Median wall time of a GET of `path`, body read, new connection each time."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            response.read()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main():
    binary = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else BINARY
    out = os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 else os.path.abspath("status.png")
    chromium = next((c for c in map(shutil.which, CHROMIUMS) if c), None)
    if chromium is None:
        print("skipped: no Chromium found (apt-get install -y chromium)")
        return
    server, origin = start_server()
    port = free_port()
    config = shipped_config(origin) + (
        f'\n[[source]]\nid = "broken"\nname = "A site that moved"\n'
        f'url = "{origin}/gone"\nitem = "li"\n'
    )
    config = config.replace("[daemon]\n", f'[daemon]\nlisten = "127.0.0.1:{port}"\n', 1)
    workdir = tempfile.mkdtemp(prefix="medee-status-")
    daemon = None
    try:
        with open(os.path.join(workdir, "medee.toml"), "w", encoding="utf-8") as f:
            f.write(config)
        env = {**os.environ, "RUST_LOG": "warn"}
        subprocess.run([binary, "--config", "medee.toml", "once"], cwd=workdir, env=env)
        ids = [line.split('"')[1] for line in config.splitlines() if line.startswith("id = ")]
        seed_history(os.path.join(workdir, "state", "medee.db"), ids, int(time.time()))
        daemon = subprocess.Popen([binary, "--config", "medee.toml", "run"], cwd=workdir, env=env)
        page = wait_for_status(port, time.time() + 30)
        print(f"/status: {len(page)} bytes, {page.count('<tr id=')} sources, "
              f"{page.count('<svg')} charts, {page.count('<script')} scripts")
        print(f"/status answered in {request_ms(port, '/status'):.2f} ms, "
              f"/all.atom in {request_ms(port, '/all.atom'):.2f} ms (medians of 50)")
        subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--screenshot={out}", "--window-size=1400,720",
             f"http://127.0.0.1:{port}/status"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120,
        )
        print(f"screenshot: {out} ({os.path.getsize(out)} bytes)")
    finally:
        if daemon is not None:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)
        server.shutdown()


if __name__ == "__main__":
    print(f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC")
    main()
