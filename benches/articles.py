#!/usr/bin/env python3
"""Automatic article extraction (`[source.article] auto = true`) measured on the
article corpora: publication date, main text, author. Not run by CI.

Usage:
  cargo build --release
  python3 benches/articles.py CORPUS/articles target/release/medee [--jobs 2] [--keep DIR]

CORPUS/articles holds dates.json, content.json, their pages and the scorers
score_dates.py and score_content.py (see that folder's README). Every labelled
page is run through `medee preview eval --article URL --article-file PAGE --json`
with a config whose one source has `[source.article] auto = true`; the label's
`url` is the page's address (dates in URLs count, relative links resolve).
The answers go to the corpus's own scorers, per source, for the whole set and
for its two halves (pages split by the parity of the SHA-256 of their file
name), which shows how much the figures move from one sample to another.

Dates: the answer is the day as the page wrote it: the first ten characters of
the found text when it starts with YYYY-MM-DD (an offset is the site's own),
else the day of the recognised date, which `preview --json` gives at the
page's own offset when the text wrote one (zone-less dates read as UTC).
Authors (fundus labels only): an answer counts when it names one of the
labelled authors (case-insensitive substring either way).
Time: wall time of each `medee preview` run, process start and config load
included (an upper bound of the extraction's cost), median and p95.
"""
import argparse
import concurrent.futures
import gzip
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

CONFIG = """[daemon]
output_dir = "out"

[[source]]
id = "eval"
url = "http://fakehost/"
kind = "feed"

[source.article]
auto = true
"""

ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}")


def half(file):
    return "A" if int(hashlib.sha256(file.encode()).hexdigest(), 16) % 2 == 0 else "B"


def run_page(binary, workdir, corpus, entry):
    path = os.path.join(corpus, entry["file"])
    page = path
    if path.endswith(".gz"):
        page = os.path.join(workdir, hashlib.sha1(path.encode()).hexdigest() + ".html")
        with gzip.open(path, "rb") as src, open(page, "wb") as dst:
            shutil.copyfileobj(src, dst)
    url = entry.get("url") or "http://fakehost/test/page.html"
    started = time.perf_counter()
    proc = subprocess.run(
        [binary, "--config", os.path.join(workdir, "medee.toml"), "preview", "eval",
         "--article", url, "--article-file", page, "--json"],
        capture_output=True, text=True, cwd=workdir)
    elapsed = time.perf_counter() - started
    if page != path:
        os.remove(page)
    try:
        out = json.loads(proc.stdout)
    except json.JSONDecodeError:
        out = {}
    return entry["file"], out, elapsed


def day(out):
    text = out.get("date_text") or ""
    if ISO_DAY.match(text):
        return text[:10]
    return (out.get("date") or "")[:10] or None


def author_ok(found, gold):
    if not found:
        return False
    f = found.lower()
    return any(g.lower() in f or f in g.lower() for g in gold if g)


def score(scorer, labels, preds, workdir, name):
    pred_path = os.path.join(workdir, name + ".json")
    with open(pred_path, "w", encoding="utf-8") as f:
        json.dump(preds, f, ensure_ascii=False)
    lab_path = os.path.join(workdir, name + "-labels.json")
    with open(lab_path, "w", encoding="utf-8") as f:
        json.dump(labels, f, ensure_ascii=False)
    proc = subprocess.run([sys.executable, scorer, lab_path, pred_path, "--json"],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


def table(title, columns, rows):
    print(f"\n{title}\n| group | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for name, values in rows:
        print(f"| {name} | " + " | ".join(values) + " |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", help="the corpus's articles/ folder")
    ap.add_argument("binary", help="the medee binary")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--keep", help="write the raw answers (JSON) into this folder")
    ap.add_argument("--only", choices=["dates", "content"], help="run the pages of one labels file only")
    a = ap.parse_args()
    corpus = os.path.abspath(a.corpus)
    binary = os.path.abspath(a.binary)
    with open(os.path.join(corpus, "dates.json"), encoding="utf-8") as f:
        date_labels = json.load(f)
    with open(os.path.join(corpus, "content.json"), encoding="utf-8") as f:
        content_labels = json.load(f)
    if a.only == "dates":
        content_labels = []
    elif a.only == "content":
        date_labels = []
    entries = {e["file"]: e for e in date_labels + content_labels}
    workdir = tempfile.mkdtemp(prefix="medee-articles-")
    try:
        with open(os.path.join(workdir, "medee.toml"), "w", encoding="utf-8") as f:
            f.write(CONFIG)
        answers, times = {}, []
        with concurrent.futures.ThreadPoolExecutor(a.jobs) as pool:
            for file, out, elapsed in pool.map(lambda e: run_page(binary, workdir, corpus, e),
                                               entries.values()):
                answers[file] = out
                times.append(elapsed)
        if a.keep:
            os.makedirs(a.keep, exist_ok=True)
            with open(os.path.join(a.keep, "answers.json"), "w", encoding="utf-8") as f:
                json.dump(answers, f, ensure_ascii=False, indent=0)
        dates = {f: day(o) for f, o in answers.items()}
        texts = {f: o.get("content_text") or "" for f, o in answers.items()}
        for h in ("all", "A", "B"):
            dl = [e for e in date_labels if h == "all" or half(e["file"]) == h]
            cl = [e for e in content_labels if h == "all" or half(e["file"]) == h]
            label = "all pages" if h == "all" else f"half {h}"
            if dl:
                d = score(os.path.join(corpus, "score_dates.py"), dl, dates, workdir, "dates")
                table(f"dates ({label})", ["n", "accuracy", "coverage", "precision"],
                      [(k, [str(v["n"]), f'{v["accuracy"]:.3f}', f'{v["coverage"]:.3f}', f'{v["precision"]:.3f}'])
                      for k, v in sorted(d.items()) if k == "all" or k.startswith("source:")])
            if cl:
                c = score(os.path.join(corpus, "score_content.py"), cl, texts, workdir, "content")
                table(f"content ({label})", ["n", "precision", "recall", "f1", "f1_mean", "coverage"],
                      [(k, [str(v["n"]), f'{v["precision"]:.3f}', f'{v["recall"]:.3f}', f'{v["f1"]:.3f}',
                            f'{v["f1_mean"]:.3f}', f'{v["coverage"]:.3f}'])
                       for k, v in sorted(c.items()) if k == "all" or k.startswith("source:")])
        with_authors = [e for e in date_labels if e.get("authors")]
        found = sum(1 for e in with_authors if answers.get(e["file"], {}).get("author"))
        right = sum(1 for e in with_authors
                    if author_ok(answers.get(e["file"], {}).get("author"), e["authors"]))
        print(f"\nauthors (pages with labelled authors): n={len(with_authors)} "
              f"found={found} right={right} accuracy={right / max(1, len(with_authors)):.3f}")
        times.sort()
        p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
        print(f"time per page (wall, {len(times)} runs, {a.jobs} at a time): "
              f"median {statistics.median(times) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
