#!/usr/bin/env python3
"""Side-by-side: the parse floor, `medee once` (cold and warm store) and rsspls,
on the same generated pages served from 127.0.0.1. Not run by CI.

Usage:
  cargo build --release
  (cd benches/floor && cargo build --release)            # the floor program
  cargo install rsspls --locked --root /tmp/rsspls        # optional
  python3 benches/compare.py [--runs 5] [--rsspls /tmp/rsspls/bin/rsspls]
                             [--floor benches/floor/target/release/medee-floor]

Workloads: one small page (30 items, ~150 KB), one large page (2,000 items,
~3 MB), 100 small pages as 100 sources. The tools run in interleaved rounds
(floor, medee cold, medee warm, rsspls; then again), so a machine that speeds
up or slows down weighs on all alike. For each tool: wall and CPU time
(median of the rounds), wall over the floor's (median of the per-round
ratios), peak RSS (largest VmHWM), and the number of items it produced,
checked against the generated pages so nobody is timed on a wrong result.
"warm" reruns medee right after a cold run: the store holds every item and
the server answers every conditional request with 304.
"""
import argparse
import http.server
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MEDEE = os.path.join(ROOT, "target", "release", "medee")

WORDS_MN = ("Монгол Улсын Засгийн газар хурал экспорт нүүрс төсөв сонгууль хууль зам барилга "
            "эрүүл мэнд боловсрол Улаанбаатар уул уурхай малчид цаг агаар").split()
WORDS_EN = ("Mongolia government coal exports budget election law road health education "
            "Ulaanbaatar mining herders weather parliament copper railway").split()


def page(n_items, seed):
    """A listing page in montsame's card markup (the same as benches/medee.rs):
    Cyrillic and English headlines, teasers, dates, background images, share
    links, and ~100 KB of page chrome (inline style and script, menus, footer).
    About 150 KB with 30 items, 3 MB with 2,000; deterministic for a seed."""
    rng = random.Random(seed)
    out = ['<!DOCTYPE html><html lang="mn"><head><meta charset="utf-8"><title>Мэдээ</title><style>']
    out += [f".c{k}{{margin:{k}px;padding:0 {k}px;color:#{k:06x}}}" for k in range(400)]
    out.append("</style><script>")
    out += [f"window.cfg{k}={{id:{k},on:true}};" for k in range(2500)]
    out.append("</script></head><body><nav><ul>")
    out += [f'<li class="nav-item"><a class="nav-link" href="/mn/more/{k}">Ангилал {k}</a></li>' for k in range(150)]
    out.append('</ul></nav><div id="left-container"><div class="row no-gutters">')
    for i in range(n_items):
        words = WORDS_MN if i % 2 else WORDS_EN
        title = " ".join(rng.choice(words) for _ in range(rng.randint(6, 12)))
        summary = " ".join(rng.choice(words) for _ in range(rng.randint(30, 60)))
        item = seed * 100_000 + i
        out.append(
            f'<div class="col-md-6 col-sm-12" data-id="{item}"><div class="news-box" itemscope>'
            f'<a href="/mn/read/{item}" class="news-link" title="{title}">'
            f'<div class="news-image-bg lazy" style="background-image: url(\'/files/medium/{item:012x}.jpeg\')"></div>'
            f'<div class="news-content"><div class="title content-mn">{title}</div>'
            f'<div class="body content-mn">{summary}</div>'
            f'<div class="meta"><span class="category"><i class="fa fa-folder"></i> Улс төр</span>'
            f'<span class="views"><i class="fa fa-eye"></i> {rng.randint(0, 9999)}</span>'
            f'<span class="date">2025.{1 + i % 12:02d}.{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}</span></div></div></a>'
            f'<div class="share"><a href="https://www.facebook.com/sharer/sharer.php?u=https://montsame.mn/mn/read/{item}" rel="nofollow">Facebook</a>'
            f'<a href="https://twitter.com/intent/tweet?url=https://montsame.mn/mn/read/{item}" rel="nofollow">Twitter</a></div></div></div>')
    out.append("</div></div><footer>")
    out += [f'<a href="/mn/page/{k}">Хуудас {k}</a> ' for k in range(40)]
    out.append("</footer></body></html>")
    return "".join(out).encode()


class Site(http.server.BaseHTTPRequestHandler):
    """Serves one page at "/" with an ETag, answering If-None-Match with 304."""
    body = b""
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = self.body if self.path.split("?")[0] == "/" else None
        if body is None:
            self.send_error(404)
            return
        etag = f'"{hash(body) & 0xffffffff:x}"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def serve(body):
    """One site: its own server on its own port, as each real source has its own host."""
    handler = type("OneSite", (Site,), {"body": body})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def peak_rss_kib(pid, stop):
    """Polls VmHWM (reset at exec, unlike wait4's ru_maxrss of a forked child)."""
    peak = [0]

    def poll():
        while not stop.is_set():
            try:
                with open(f"/proc/{pid}/status") as f:
                    peak[0] = max(peak[0], int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1)))
            except (OSError, AttributeError):
                pass
            time.sleep(0.001)
    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    return peak, thread


def run(cmd, cwd):
    """Runs cmd; returns (wall s, cpu s, peak RSS KiB, stdout)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env={**os.environ, "RUST_LOG": "error"})
    stop = threading.Event()
    peak, poller = peak_rss_kib(proc.pid, stop)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    stop.set()
    poller.join()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{cmd[0]} failed with {os.waitstatus_to_exitcode(status)}")
    return wall, usage.ru_utime + usage.ru_stime, peak[0], out.decode()


def medee_config(urls):
    text = '[daemon]\nper_host_delay = "0s"\nconcurrency = 8\nmax_body = "20MiB"\n'
    text += '[[feed]]\nname = "all"\ntitle = "All"\nmax_items = 100\n'
    for n, url in enumerate(urls):
        text += (f'[[source]]\nid = "s{n}"\nurl = "{url}"\nlanguage = "mn"\ntimezone = "Asia/Ulaanbaatar"\n'
                 'item = "div.news-box"\ntitle = ".title"\nlink = "a @href"\nsummary = ".body"\n'
                 'date = ".date"\nimage = ".news-image-bg @style"\n')
    return text


def medee_items(workdir):
    out = subprocess.run([MEDEE, "--config", "medee.toml", "status"], cwd=workdir, capture_output=True, text=True).stdout
    return sum(int(line.split()[5]) for line in out.splitlines()[1:] if line.startswith("s") and "UTC" in line)


def rsspls_config(urls, outdir):
    text = f'[rsspls]\noutput = "{outdir}"\n'
    for n, url in enumerate(urls):
        text += (f'[[feed]]\ntitle = "s{n}"\nfilename = "s{n}.rss"\n[feed.config]\nurl = "{url}"\n'
                 'item = "div.news-box"\nheading = ".title"\nlink = "a"\nsummary = ".body"\n')
    return text


def rsspls_items(outdir):
    return sum(open(os.path.join(outdir, f), encoding="utf-8").read().count("<item>") for f in os.listdir(outdir))


def measure(tools, runs, cwd, expected):
    """Runs every tool once per round, round after round, so that a machine
    slowing down or speeding up weighs on all of them alike. Returns, per
    tool: label, median wall, median CPU, largest peak RSS, items, and the
    median over rounds of its wall time divided by the floor's."""
    samples = {label: [] for label, *_ in tools}
    for _ in range(runs):
        for label, prepare, cmd, count in tools:
            prepare()
            wall, cpu, peak, out = run(cmd, cwd)
            got = count(out)
            if got != expected:
                sys.exit(f"{label}: produced {got} items, expected {expected}")
            samples[label].append((wall, cpu, peak))
    floor = [wall for wall, _, _ in samples[tools[0][0]]]
    rows = []
    for label, *_ in tools:
        walls = [w for w, _, _ in samples[label]]
        rows.append((label, statistics.median(walls), statistics.median(c for _, c, _ in samples[label]),
                     max(p for _, _, p in samples[label]), expected,
                     statistics.median(w / f for w, f in zip(walls, floor))))
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--floor", default=os.path.join(ROOT, "benches", "floor", "target", "release", "medee-floor"))
    parser.add_argument("--rsspls")
    args = parser.parse_args()

    workloads = {
        "small page": [page(30, 1)],
        "large page": [page(2000, 2)],
        "100 sources": [page(30, 100 + n) for n in range(100)],
    }
    for name, pages in workloads.items():
        servers = [serve(body) for body in pages]
        urls = [url for _, url in servers]
        size = sum(len(b) for b in pages)
        expected = sum(len(re.findall(rb'class="news-box"', b)) for b in pages)
        work = tempfile.mkdtemp(prefix="medee-compare-")
        nothing = lambda: None
        with open(os.path.join(work, "medee.toml"), "w", encoding="utf-8") as f:
            f.write(medee_config(urls))

        def cold():
            shutil.rmtree(os.path.join(work, "state"), ignore_errors=True)
            shutil.rmtree(os.path.join(work, "feeds"), ignore_errors=True)
        medee = [MEDEE, "--config", "medee.toml", "once"]
        tools = [
            ("floor", nothing, [args.floor, "div.news-box"] + urls, lambda out: int(out.strip())),
            ("medee cold", cold, medee, lambda out: medee_items(work)),
            # Right after a cold run: the store holds every item, every site answers 304.
            ("medee warm (304)", nothing, medee, lambda out: medee_items(work)),
        ]
        if args.rsspls:
            outdir = os.path.join(work, "rsspls-out")
            with open(os.path.join(work, "feeds.toml"), "w", encoding="utf-8") as f:
                f.write(rsspls_config(urls, outdir))

            # rsspls caches validators under $XDG_CACHE_HOME: keep it in the
            # work dir and empty it, so rsspls is measured cold like medee.
            os.environ["XDG_CACHE_HOME"] = os.path.join(work, "cache")

            def fresh():
                shutil.rmtree(outdir, ignore_errors=True)
                os.makedirs(outdir)
                shutil.rmtree(os.path.join(work, "cache"), ignore_errors=True)
            tools.append(("rsspls", fresh, [args.rsspls, "--config", "feeds.toml"],
                          lambda out: rsspls_items(outdir)))
        rows = measure(tools, args.runs, work, expected)
        for server, _ in servers:
            server.shutdown()
        shutil.rmtree(work, ignore_errors=True)
        print(f"\n{name}: {len(pages)} page(s), {size / 1e6:.2f} MB, {expected} items")
        print(f"  {'':18} {'wall ms':>9} {'x floor':>8} {'cpu ms':>8} {'peak RSS MiB':>13} {'items':>6}")
        for label, wall, cpu, peak, items, ratio in rows:
            print(f"  {label:18} {wall * 1000:9.1f} {ratio:8.2f} {cpu * 1000:8.1f} {peak / 1024:13.1f} {items:6}")


if __name__ == "__main__":
    main()
