#!/usr/bin/env python3
"""Checks every catalogue entry (config/catalog/*.toml) against the real saved
page of its site in the evaluation corpus, and says how many items it gets.

Usage: cargo build && python3 benches/catalog_real.py CORPUS [--medee PATH] [-v]

CORPUS is the corpus root (the folder holding listings/mn-dev/). For each
entry with a saved page, the entry alone (plus a scratch [daemon]) is written
to a config and `medee preview ID --file PAGE --json` reads the page under
its real address; the items are then judged with the page's labels by the
corpus's own scorer (listings/mn-dev/score_suggest.py: an item is good when
its link is an article of the page and its title one of that article's
headlines). Entries read from a feed or a JSON endpoint have nothing saved
to read, and are listed as such. Nothing is fetched: proxies point at a
closed port.
"""
import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CATALOG = os.path.join(ROOT, "config", "catalog")

# Catalogue id -> the saved home page of its site in listings/mn-dev/pages.
PAGES = {
    "24tsag-mn": "24tsag_mn.html",
    "dobu-mn": "dobu_mn.html",
    "elch-mn": "elch_mn.html",
    "ergelt-mn": "ergelt_mn.html",
    "esight-mn": "esight_mn.html",
    "gogo-mn": "gogo_mn.html",
    "imedee-com": "imedee_com.html",
    "isee-mn": "isee_mn.html",
    "itoim-mn": "itoim_mn.html",
    "mass-mn": "mass_mn.html",
    "mnb-mn": "mnb_mn.html",
    "newmm-mn": "newmm_mn.html",
    "sonin-mn": "sonin_mn.html",
}


def load_scorer(mn_dev):
    spec = importlib.util.spec_from_file_location("score_suggest", os.path.join(mn_dev, "score_suggest.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def entries():
    for name in sorted(os.listdir(CATALOG), key=lambda n: n.removesuffix(".toml")):
        if name.endswith(".toml"):
            with open(os.path.join(CATALOG, name), encoding="utf-8") as f:
                text = f.read()
            source = tomllib.loads(text)["source"][0]
            yield source, text


def preview(medee, text, source_id, page, base_url):
    with tempfile.TemporaryDirectory(prefix="medee-catalog-") as scratch:
        config = os.path.join(scratch, "medee.toml")
        with open(config, "w", encoding="utf-8") as f:
            f.write(f'[daemon]\noutput_dir = "{scratch}/feeds"\ndatabase = "{scratch}/medee.db"\n\n')
            # The page is read under the site's real address (its links resolve as on the site).
            f.write(text.replace(tomllib.loads(text)["source"][0]["url"], base_url, 1))
        env = {**os.environ, "RUST_LOG": "error"}
        for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
            env[var] = "http://127.0.0.1:9"
        run = subprocess.run([medee, "--config", config, "preview", source_id, "--file", page, "--json"],
                             capture_output=True, env=env, timeout=60)
        if run.returncode not in (0, 1):
            raise RuntimeError(f"{source_id}: exit {run.returncode}: {run.stderr.decode()}")
        if run.returncode == 1:
            return [], run.stderr.decode().strip()
        return json.loads(run.stdout)["items"], None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus")
    parser.add_argument("--medee", default=os.path.join(ROOT, "target", "debug", "medee"))
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    mn_dev = os.path.join(args.corpus, "listings", "mn-dev")
    scorer = load_scorer(mn_dev)
    with open(os.path.join(mn_dev, "expected.json"), encoding="utf-8") as f:
        labels = {p["page"]: p for p in json.load(f)["pages"]}
    print(f"{'entry':<18} {'kind':<5} {'items':>5} {'good':>5} {'junk':>5} {'main':>5}  notes")
    for source, text in entries():
        sid, kind = source["id"], source.get("kind", "html")
        page = PAGES.get(sid)
        if page is None:
            print(f"{sid:<18} {kind:<5} {'-':>5} {'-':>5} {'-':>5} {'-':>5}  no saved page in mn-dev")
            continue
        rec = labels[page]
        if kind == "feed":
            advertised = [f["href"] for f in rec["feeds_advertised"]]
            note = "advertised by the page" if source["url"] in advertised else "NOT advertised by the page"
            print(f"{sid:<18} {kind:<5} {'-':>5} {'-':>5} {'-':>5} {'-':>5}  feed {source['url']}: {note}; no saved copy")
            continue
        if kind == "json" and not source.get("script"):
            print(f"{sid:<18} {kind:<5} {'-':>5} {'-':>5} {'-':>5} {'-':>5}  JSON endpoint; no saved copy")
            continue
        items, error = preview(args.medee, text, sid, os.path.join(mn_dev, "pages", page), rec["base_url"])
        score = scorer.score_items(rec, items)
        note = error or score["belongs"]
        print(f"{sid:<18} {kind:<5} {score['items']:>5} {score['good']:>5} {score['junk']:>5} "
              f"{score['largest_main']:>5}  {note}")
        if args.verbose:
            for verdict in score["verdicts"]:
                if not verdict["good"]:
                    print(f"    JUNK {verdict['title']!r} {verdict['link']} ({verdict['why']}) {verdict['expected_titles']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
