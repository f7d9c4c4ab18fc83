#!/usr/bin/env python3
"""Breakage detection and proposed fixes, measured on the corpus's listings testbed.

For each of the testbed's 24 sites (three search-result pages of one site, with
the records listed by hand), `medee suggest` writes a source from the first
page; the source then runs (`medee once`) on the site's pages in turn, twice
round (p1 p2 p3 p1 p2 p3), served from a loopback server:

* false alarms: runs flagged broken although the markup did not change (the
  pages differ only in their results; the count and field rules apply from the
  fourth run, after three runs of history);

then the page of the *next* site is served under the same URL, a redesign as
complete as they come:

* detected: the run is flagged broken;
* proposal: what `medee repair` previews for the proposal, against that page's
  labelled records (titles compared case-folded, whitespace collapsed):
  recall = labelled titles found / labelled, precision = found titles that are
  labelled / titles previewed; and whether it passes the adoption checks.

Each page is served with its own site's absolute links rewritten to the
loopback server, as if it were served from its site (suggest and the
adoption checks tell the site's links by host).

    python3 benches/repair_testbed.py /path/to/corpus [--medee target/debug/medee] [-v]
"""

import argparse
import http.server
import json
import re
import subprocess
import sys
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

BODY = {"bytes": b""}


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        body = BODY["bytes"]
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def served(path, base_url, origin):
    """The page's bytes with its own site's absolute links pointing at the
    loopback server, as if it were served from its site."""
    host = re.sub(r"^www\.", "", re.sub(r"^https?://([^/]+).*$", r"\1", base_url))
    pattern = re.compile(rb"https?://(?:www\.)?" + re.escape(host.encode()), re.IGNORECASE)
    return pattern.sub(origin.encode(), path.read_bytes())


def norm(text):
    return " ".join(text.casefold().split())


def run(medee, cwd, *args):
    return subprocess.run(
        [medee, "--config", "medee.toml", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"RUST_LOG": "error", "PATH": "/usr/bin:/bin"},
    )


def status(medee, cwd):
    out = run(medee, cwd, "status", "--json")
    return json.loads(out.stdout)["sources"][0]


def reason(error):
    for key, words in [
        ("no-match", "matched nothing"),
        ("no-usable", "none had both"),
        ("count", "collapsed"),
        ("field", "went missing"),
        ("same-title", "same title"),
    ]:
        if error and words in error:
            return key
    return "other" if error else "-"


def previewed_titles(text):
    return [m.group(1) for m in re.finditer(r"(?m)^\s*\d+\. (.+)$", text)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus")
    parser.add_argument("--medee", default="target/debug/medee")
    parser.add_argument("-v", action="store_true")
    args = parser.parse_args()
    medee = str(Path(args.medee).resolve())
    listings = Path(args.corpus) / "listings"
    labels = json.loads((listings / "listings.json").read_text())
    sites = OrderedDict()
    for entry in sorted(labels, key=lambda e: e["file"]):
        if entry["source"] == "testbed":
            sites.setdefault(entry["site"], []).append(entry)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    url = f"{origin}/list"
    names = list(sites)
    rows = []
    for index, site in enumerate(names):
        pages = sites[site]
        other = sites[names[(index + 1) % len(names)]][0]
        with tempfile.TemporaryDirectory() as tmp:
            first = listings / pages[0]["file"]
            suggested = subprocess.run(
                [medee, "suggest", "--file", str(first), "--base-url", pages[0]["base_url"], "--toml"],
                capture_output=True,
                text=True,
            )
            if suggested.returncode != 0:
                rows.append({"site": site, "skipped": "suggest found nothing"})
                continue
            block = re.sub(r'(?m)^id = ".*"$', 'id = "s"', suggested.stdout)
            block = re.sub(r'(?m)^url = ".*"$', f'url = "{url}"', block)
            Path(tmp, "medee.toml").write_text(
                '[daemon]\nper_host_delay = "0s"\noutput_dir = "feeds"\ndatabase = "medee.db"\n' + block
            )
            alarms = []
            for turn, page in enumerate(pages + pages):
                BODY["bytes"] = served(listings / page["file"], page["base_url"], origin)
                run(medee, tmp, "once")
                state = status(medee, tmp)
                if state["state"] == "broken":
                    alarms.append(f"run {turn + 1}: {reason(state['last_error'])}")
            BODY["bytes"] = served(listings / other["file"], other["base_url"], origin)
            run(medee, tmp, "once")
            state = status(medee, tmp)
            row = {
                "site": site,
                "runs": len(pages) * 2,
                "false_alarms": alarms,
                "redesign_to": other["site"],
                "detected": state["state"] == "broken",
                "why": reason(state["last_error"]),
                "proposal": state["proposal"] is not None,
            }
            if state["proposal"]:
                shown = run(medee, tmp, "repair", "s").stdout
                titles = {norm(t) for t in previewed_titles(shown)}
                wanted = {norm(r["title"]) for r in other["records"] if r.get("title")}
                found = titles & wanted
                row["item"] = state["proposal"]["selectors"]["item"]
                row["recall"] = len(found) / len(wanted) if wanted else 0.0
                row["precision"] = len(found) / len(titles) if titles else 0.0
                row["passes"] = not state["proposal"]["problems"]
                row["problems"] = state["proposal"]["problems"]
            rows.append(row)
            if args.v:
                print(json.dumps(row), file=sys.stderr)
    server.shutdown()
    done = [r for r in rows if "skipped" not in r]
    print(f"{'site':<22} {'alarms':>6}  {'detected':<9} {'why':<10} {'proposal':<8} {'recall':>6} {'prec':>6}  checks")
    for r in rows:
        if "skipped" in r:
            print(f"{r['site']:<22} skipped: {r['skipped']}")
            continue
        rec = f"{r['recall']:.2f}" if "recall" in r else "-"
        pre = f"{r['precision']:.2f}" if "precision" in r else "-"
        checks = ("pass" if r["passes"] else "fail: " + r["problems"][0][:50]) if "passes" in r else "-"
        print(
            f"{r['site']:<22} {len(r['false_alarms']):>6}  {str(r['detected']):<9} {r['why']:<10} "
            f"{str(r['proposal']):<8} {rec:>6} {pre:>6}  {checks}"
        )
    runs = sum(r["runs"] for r in done)
    alarms = [a for r in done for a in r["false_alarms"]]
    detected = sum(r["detected"] for r in done)
    proposed = [r for r in done if "recall" in r]
    print()
    print(f"sites run: {len(done)} of {len(rows)}")
    kinds = sorted({a.split(": ")[1] for a in alarms})
    counted = {k: sum(a.endswith(": " + k) for a in alarms) for k in kinds}
    print(f"runs flagged broken on unchanged markup: {len(alarms)} of {runs} runs {counted}")
    print(f"redesigns detected: {detected} of {len(done)}")
    print(f"proposals: {len(proposed)} of {detected} detected")
    if proposed:
        mean = lambda key: sum(r[key] for r in proposed) / len(proposed)  # noqa: E731
        print(f"proposal recall (mean): {mean('recall'):.2f}, precision (mean): {mean('precision'):.2f}")
        good = sum(r["recall"] >= 0.8 and r["precision"] >= 0.8 for r in proposed)
        print(f"proposals with recall and precision >= 0.8: {good} of {len(proposed)}")
        print(f"proposals passing the adoption checks: {sum(r['passes'] for r in proposed)} of {len(proposed)}")


if __name__ == "__main__":
    main()
