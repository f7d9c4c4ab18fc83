#!/usr/bin/env python3
"""Score `medee suggest` on the labelled listing pages of listings.json.

Usage:  python3 benches/score_listings.py CORPUS path/to/medee
                                         [--only SUBSTRING] [--results out.json] [-v] [--jobs N]

The pages stay where they are (third-party content, never copied into the
repository). For every labelled page, like the mn-dev scorer
(CORPUS/listings/mn-dev/score_suggest.py):
  1. `medee suggest --file PAGE --base-url BASE --toml` in a scratch directory
     (gzip pages are decompressed there first), proxies pointing at a closed
     local port so nothing can be fetched; stdout must parse as TOML with
     exactly one [[source]];
  2. the block is appended to a [daemon] table and `medee preview ID --file PAGE
     --json` gives the items;
  3. each item is judged against the page's labels:
     - `articles` (feedless, html2rss lists): GOOD when its canonical link is a
       labelled article (scheme, `www.`, percent-encoding, trailing slash,
       fragment and utm_*/fbclid/gclid ignored);
     - `records` (testbed, html2rss lists): GOOD when its title matches a
       record's title or one of its fields (whitespace-collapsed, case-folded;
       equal, or one a >= 20-character prefix of the other, or a trailing
       ellipsis dropped), or its link is the record's url;
     - `must_include`/`must_exclude` (partial label): every included URL must
       be extracted, no excluded one, and at least 10 items.
     Otherwise the item is JUNK.
PASS = junk 0 and distinct good >= min(10, 0.9 x labelled items). The labels
carry no side/main roles, so "not a side list" is judged by recall alone.
Unlabelled pages are run and reported but not counted.
Prints a PASS/FAIL line per page, a table per source and a last summary line.
Standard library only (Python >= 3.11 for tomllib).
"""
import argparse
import collections
import concurrent.futures
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

CLOSED_PROXY = 'http://127.0.0.1:9'
TRACKING = re.compile(r'^(utm_.*|fbclid|gclid)$', re.I)
ZW = re.compile('[\u200b\u200c\u200d\u2060\ufeff\u00ad]')
WS = re.compile(r'\s+')
ELLIPSIS = re.compile(r'\s*(\.{2,}|…)+\s*$')


def norm_text(s):
    return WS.sub(' ', ZW.sub('', s or '')).strip().casefold()


def url_key(url):
    s = urlsplit((url or '').strip())
    q = [(k, v) for k, v in parse_qsl(s.query, keep_blank_values=True) if not TRACKING.match(k)]
    host = s.netloc.lower().split(':')[0]
    if host.startswith('www.'):
        host = host[4:]
    path = unquote(s.path).rstrip('/') or '/'
    return host + path + ('?' + unquote(urlencode(q, doseq=True)) if q else '')


def titles_match(title, label):
    t, l = ELLIPSIS.sub('', norm_text(title)), ELLIPSIS.sub('', norm_text(label))
    if not t or not l:
        return False
    if t == l:
        return True
    shorter, longer = (t, l) if len(t) <= len(l) else (l, t)
    return len(shorter) >= 20 and longer.startswith(shorter)


def run(cmd, cwd, env, timeout):
    try:
        p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, timeout=timeout)
        return p.returncode, p.stdout.decode('utf-8', 'replace'), p.stderr.decode('utf-8', 'replace')
    except subprocess.TimeoutExpired:
        return 'timeout', '', 'timed out after %ss' % timeout


def short(s, n=120):
    s = WS.sub(' ', s or '').strip()
    return s if len(s) <= n else s[:n - 1] + '…'


def is_labelled(rec):
    return bool(rec.get('articles') or rec.get('records') or rec.get('must_include'))


def judge(rec, items):
    """(good item flags, distinct good count, labelled size, reasons)."""
    reasons = []
    flags = []
    good_ids = set()
    if rec.get('must_include'):
        links = set(url_key(it.get('link')) for it in items)
        missing = [m['url'] for m in rec['must_include'] if url_key(m['url']) not in links]
        excluded = set(url_key(u) for u in rec.get('must_exclude', []))
        for it in items:
            ok = url_key(it.get('link')) not in excluded
            flags.append(ok)
        if missing:
            reasons.append('missing %s' % ', '.join(missing))
        good = len(set(url_key(it.get('link')) for it, f in zip(items, flags) if f))
        return flags, good, max(10, len(rec['must_include'])), reasons
    articles = {url_key(u): i for i, u in enumerate(rec.get('articles') or [])}
    records = rec.get('records') or []
    for it in items:
        key = url_key(it.get('link'))
        hit = None
        if key in articles:
            hit = ('a', articles[key])
        else:
            for i, r in enumerate(records):
                if (r.get('url') and url_key(r['url']) == key) or any(
                        titles_match(it.get('title'), f) for f in [r.get('title')] + list(r.get('fields') or []) if f):
                    hit = ('r', i)
                    break
        flags.append(hit is not None)
        if hit:
            good_ids.add(hit)
    size = len(articles) if articles else len(records)
    return flags, len(good_ids), size, reasons


def check_page(medee, corpus, rec, args):
    res = {'file': rec['file'], 'source': rec['source'], 'labelled': is_labelled(rec)}
    tmp = tempfile.mkdtemp(prefix='sl-')
    try:
        page = os.path.join(corpus, rec['file'])
        if page.endswith('.gz'):
            plain = os.path.join(tmp, 'page.html')
            with gzip.open(page, 'rb') as src, open(plain, 'wb') as dst:
                shutil.copyfileobj(src, dst)
            page = plain
        env = {k: v for k, v in os.environ.items() if not k.upper().endswith('_PROXY') and k != 'MEDEE_CONFIG'}
        for k in ('HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy'):
            env[k] = CLOSED_PROXY
        env['NO_PROXY'] = env['no_proxy'] = ''
        rc, out, err = run([medee, 'suggest', '--file', page, '--base-url', rec['base_url'], '--toml'],
                           tmp, env, args.timeout)
        if rc != 0:
            res.update(ok=False, reason='suggest exit %s: %s' % (rc, short(err or out)))
            return res
        try:
            srcs = tomllib.loads(out).get('source')
        except tomllib.TOMLDecodeError as e:
            res.update(ok=False, reason='not TOML: %s' % e)
            return res
        if not isinstance(srcs, list) or len(srcs) != 1 or not srcs[0].get('id'):
            res.update(ok=False, reason='expected exactly one [[source]] with an id')
            return res
        res['item'] = srcs[0].get('item')
        cfg = os.path.join(tmp, 'cfg.toml')
        with open(cfg, 'w', encoding='utf-8') as f:
            f.write('[daemon]\noutput_dir = %s\ndatabase = %s\n\n' % (
                json.dumps(os.path.join(tmp, 'out')), json.dumps(os.path.join(tmp, 'state', 'medee.db'))))
            f.write(out)
        prc, pout, perr = run([medee, 'preview', srcs[0]['id'], '--file', page, '--json'], tmp,
                              dict(env, MEDEE_CONFIG=cfg), args.timeout)
        if prc != 0:
            res.update(ok=False, reason='preview exit %s: %s' % (prc, short(perr or pout)))
            return res
        try:
            items = json.loads(pout)['items']
        except (ValueError, KeyError, TypeError) as e:
            res.update(ok=False, reason='preview output is not the expected JSON: %s' % e)
            return res
        flags, good, size, reasons = judge(rec, items)
        junk = flags.count(False)
        need = min(10.0, 0.9 * size) if size else 10.0
        if junk:
            eg = items[flags.index(False)]
            reasons.append('junk %d/%d (e.g. %r -> %s)' % (junk, len(items), short(eg.get('title'), 50), eg.get('link')))
        if good < need:
            reasons.append('only %d distinct good, need %g of %d labelled' % (good, need, size))
        res.update(items=len(items), junk=junk, good=good, size=size,
                   recall=min(1.0, good / size) if size else None,
                   ok=not reasons, reason='; '.join(reasons),
                   verdicts=[(f, it.get('title'), it.get('link')) for f, it in zip(flags, items)])
        return res
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('corpus', help='the corpus folder (or its listings/ folder, or listings.json itself)')
    ap.add_argument('medee', help='path to the medee binary')
    ap.add_argument('--only', help='only files whose path contains this')
    ap.add_argument('--results', help='write per-page details as JSON here')
    ap.add_argument('--jobs', type=int, default=2)
    ap.add_argument('--timeout', type=float, default=60)
    ap.add_argument('--verbose', '-v', action='store_true')
    args = ap.parse_args()
    medee = os.path.abspath(args.medee)
    if not os.access(medee, os.X_OK):
        sys.exit('not an executable: %s' % medee)
    labels = os.path.abspath(args.corpus)
    for candidate in (os.path.join(labels, 'listings', 'listings.json'), os.path.join(labels, 'listings.json')):
        if os.path.isdir(labels) and os.path.isfile(candidate):
            labels = candidate
            break
    corpus = os.path.dirname(labels)
    recs = json.load(open(labels, encoding='utf-8'))
    if args.only:
        recs = [r for r in recs if args.only in r['file']]
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        results = list(ex.map(lambda r: check_page(medee, corpus, r, args), recs))
    table = collections.defaultdict(lambda: [0, 0, 0, 0, []])  # pages, pass, items, junk, recalls
    for res in results:
        stats = ''
        if 'items' in res:
            stats = ' [items %d, junk %d, good %d/%d]' % (res['items'], res['junk'], res['good'], res['size'])
        counted = '' if res['labelled'] else ' (unlabelled, not counted)'
        print('%s %s%s%s%s' % ('PASS' if res['ok'] else 'FAIL', res['file'], counted, stats,
                               '' if res['ok'] else ': ' + res['reason']))
        if args.verbose:
            for f, t, l in res.get('verdicts', []):
                print('      %s %s | %s' % ('+' if f else '-', short(t, 90), l))
        if not res['labelled']:
            continue
        for key in ('all', 'source:' + res['source']):
            row = table[key]
            row[0] += 1
            row[1] += bool(res['ok'])
            row[2] += res.get('items', 0)
            row[3] += res.get('junk', 0)
            row[4].append(res.get('recall') or 0.0)
    print('\n| set | pages | pass | items | junk | precision | mean recall |')
    print('|---|---|---|---|---|---|---|')
    for key in sorted(table, key=lambda k: (k != 'all', k)):
        n, p, items, junk, recalls = table[key]
        prec = '%.3f' % ((items - junk) / items) if items else 'n/a'
        print('| %s | %d | %d | %d | %d | %s | %.3f |' % (key, n, p, items, junk, prec, sum(recalls) / len(recalls)))
    if args.results:
        with open(args.results, 'w', encoding='utf-8') as f:
            json.dump(results, f, ensure_ascii=False, indent=1)
    n, p = table['all'][0], table['all'][1]
    print('listings-suggest: %d/%d pages pass' % (p, n))
    sys.exit(0 if p == n else 1)


if __name__ == '__main__':
    main()
