#!/usr/bin/env python3
"""Scores a prediction of `benches/stories.rs` on two parts of a labelled half:
the part used to tune medee's story similarity and the part held out from
tuning (every third pair, by a hash of its two headline ids).

usage: python3 benches/stories_split.py CORPUS/stories PRED.json [--half dev]
"""
import hashlib, json, sys


def held_out(pair):
    key = min(pair['a'], pair['b']) + '|' + max(pair['a'], pair['b'])
    return int(hashlib.md5(key.encode()).hexdigest(), 16) % 3 == 0


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    corpus, pred_path = sys.argv[1], sys.argv[2]
    half = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == '--half' else 'dev'
    sys.path.insert(0, corpus)
    import score  # the corpus's own scorer: same parsing of predictions
    pred = score.pred_pairs(json.load(open(pred_path, encoding='utf-8')))
    data = json.load(open('%s/%s.json' % (corpus, half), encoding='utf-8'))
    for name, want in (('tuned', False), ('held-out', True)):
        tp = fp = fn = 0
        for p in data['pairs']:
            if p['label'] == 'unsure' or held_out(p) != want:
                continue
            said = frozenset((p['url_a'], p['url_b'])) in pred
            if p['label'] == 'same':
                tp, fn = tp + said, fn + (not said)
            else:
                fp += said
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        print('%-9s P=%.3f R=%.3f F1=%.3f  TP=%d FN=%d false_merges=%d' % (name, prec, rec, f1, tp, fn, fp))


if __name__ == '__main__':
    main()
