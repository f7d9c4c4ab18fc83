#!/usr/bin/env python3
"""Runs `medee once` on hostile pages served from 127.0.0.1 and reports, per
page, the exit code, wall time, peak RSS (from /usr/bin/time -v) and how many
items were stored.

Usage: cargo build --release && python3 benches/hostile_pages.py [BINARY] [CASE...]

Each run is stopped after MEDEE_HOSTILE_TIMEOUT seconds (default 300): the
outcome then reads "exit 124".

Cases (default: all):
  deep-title     listing whose one title is nested 20,000 levels deep
  deep-summary   listing whose one summary is nested 100,000 levels deep
  deep-article   listing of one item whose article page is nested 100,000 levels deep
  many-items     listing with 200,000 matching items

Each case runs with a second, ordinary source, whose feed must be written
whatever the hostile one does: the script says whether it was.
"""
import http.server
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def nested(depth, inner, tag="div"):
    return f"<{tag}>" * depth + inner + f"</{tag}>" * depth


def deep_title(depth=20_000):
    title = nested(depth, "Deep title", tag="span")
    return f'<html><body><ul><li><a href="/a/1">{title}</a></li></ul></body></html>'


def deep_summary(depth=100_000):
    summary = nested(depth, "Deep <b>summary</b>")
    return ('<html><body><div class="i"><a href="/a/1">Deep summary</a>'
            f'<div class="s">{summary}</div></div></body></html>')


def deep_article(depth=100_000):
    return f'<html><body><div class="body">{nested(depth, "Deep article")}</div></body></html>'


def many_items(count=200_000):
    items = "".join(f'<li><a href="/a/{n}">Мэдээ {n}</a></li>' for n in range(count))
    return f"<html><body><ul>{items}</ul></body></html>"


PAGES = {
    "/deep-title": deep_title,
    "/deep-summary": deep_summary,
    "/deep-list": lambda: '<html><body><ul><li><a href="/deep-article">Deep article</a></li></ul></body></html>',
    "/deep-article": deep_article,
    "/many-items": many_items,
    "/ok": lambda: '<html><body><ul><li><a href="/ok/1">Ordinary item</a></li></ul></body></html>',
}

CASES = {
    "deep-title": '[[source]]\nid = "hostile"\nurl = "{origin}/deep-title"\nitem = "li"\n',
    "deep-summary": ('[[source]]\nid = "hostile"\nurl = "{origin}/deep-summary"\nitem = "div.i"\n'
                     'summary = ".s"\n'),
    "deep-article": ('[[source]]\nid = "hostile"\nurl = "{origin}/deep-list"\nitem = "li"\n'
                     '[source.article]\ncontent = ".body"\n'),
    "many-items": '[[source]]\nid = "hostile"\nurl = "{origin}/many-items"\nitem = "li"\n',
}

ORDINARY = '[[source]]\nid = "ok"\nurl = "{origin}/ok"\nitem = "li"\n'


def serve():
    bodies = {path: make().encode() for path, make in PAGES.items()}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = bodies.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def run_case(binary, name, origin):
    workdir = tempfile.mkdtemp(prefix="medee-hostile-")
    try:
        config = ('[daemon]\noutput_dir = "feeds"\ndatabase = "state/medee.db"\nper_host_delay = "0s"\n'
                  'max_body = "64MiB"\ntimeout = "300s"\n\n'
                  + CASES[name].format(origin=origin) + "\n" + ORDINARY.format(origin=origin))
        with open(os.path.join(workdir, "medee.toml"), "w", encoding="utf-8") as f:
            f.write(config)
        limit = os.environ.get("MEDEE_HOSTILE_TIMEOUT", "300")
        run = subprocess.run(["/usr/bin/time", "-v", "timeout", limit, binary, "--config", "medee.toml", "once"],
                             cwd=workdir, capture_output=True, text=True,
                             env={**os.environ, "RUST_LOG": "warn"})
        wall = re.search(r"Elapsed \(wall clock\) time.*: (\S+)", run.stderr)
        rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr)
        status = re.search(r"Exit status: (\d+)", run.stderr)
        signal = re.search(r"Command terminated by signal (\d+)", run.stderr)
        stored = count_items(os.path.join(workdir, "state", "medee.db"))
        ordinary = os.path.exists(os.path.join(workdir, "feeds", "ok.atom"))
        outcome = f"signal {signal.group(1)}" if signal else f"exit {status.group(1) if status else '?'}"
        print(f"{name:<13} {outcome:<9} wall {wall.group(1) if wall else '?':>8}  "
              f"peak RSS {int(rss.group(1)) // 1024 if rss else 0:>5} MiB  "
              f"stored {stored}  ok.atom written: {ordinary}")
        for line in run.stderr.splitlines():
            if "stack overflow" in line or "cut" in line:
                print(f"    {line.strip()[:200]}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def count_items(db):
    if not os.path.exists(db):
        return "-"
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT source_id, COUNT(*) FROM items GROUP BY source_id").fetchall())


def main():
    args = sys.argv[1:]
    binary = os.path.join(ROOT, "target", "release", "medee")
    if args and os.path.sep in args[0]:
        binary = args.pop(0)
    server, origin = serve()
    try:
        for name in args or CASES:
            run_case(binary, name, origin)
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
