#!/usr/bin/env python3
"""parity.py WORKDIR: the parity check of `make test`
(tests/integration/test_parity.sh runs it with .cache/venv/bin/python).

Learners: a 20,000-row seeded Agrawal stream (`eddy gen agrawal --n 20000
--seed 1`: six numeric and three nominal attributes), naive Bayes, the
Hoeffding tree and OzaBoost (10 trees) in eddy, MOA and River
(tools/compare/table.py's parameters); fails when eddy's prequential
accuracy differs from MOA's by more than 0.5 point, or at all for
OzaBoost, whose Poisson draws are MOA's (random = moa): its predictions
equal MOA's row for row, so any difference is a regression. River's
figure is printed, not checked (River's Hoeffding tree is not MOA's;
COMPARISON.md has the differences), and not computed for learners that
River runs slowly (OzaBoost: ~30 s).

EFDT (MOA 2024.07's trees.EFDT) also on two real data sets, exactly (the
same prediction on every row): Elec2 with day's values in elecNormNew.arff's order, and
UCI Adult (adult_train_clean.csv, its nominal values in order of
appearance), from ../shared/datasets or $EDDY_DATASETS (skipped when absent).

Detectors: the series of table.series() (Bernoulli 0.2 then 0.5); fails
when eddy's first drift index differs from MOA's by more than 32, or one
signals a drift and the other none.

A learner or detector that this build of eddy lacks is skipped with a line
saying so (its branch is not merged yet), so the check grows as they land.
Exit status 0 when every check that ran passed.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as R  # noqa: E402  (chdirs to the repository's root)
import table  # noqa: E402

ROWS = 20000
MAX_ACC_DIFF = 0.005
MAX_INDEX_DIFF = 32
LEARNERS = ['naive_bayes', 'hoeffding_tree', 'oza_boost', 'efdt']
EXACT = {'oza_boost', 'efdt'}  # eddy reproduces MOA's draws or its tree: the same correct count
DETECTORS = ['adwin', 'ddm', 'eddm', 'page_hinkley', 'hddm_a', 'hddm_w', 'kswin']


EFDT_REAL = [  # name, file, [features] lines, csv2arff's columns with fixed values, nominal columns, target
    ('elec2', 'elec2.csv', 'nominal = day\nvalues.day = 1, 2, 3, 4, 5, 6, 7\nvalues.class = UP, DOWN\n',
     {'day': '1,2,3,4,5,6,7', 'class': 'UP,DOWN'}, ['day'], 'class'),
    ('adult', 'adult_train_clean.csv', None, {},
     ['type_employer', 'education', 'marital', 'occupation', 'relationship', 'race', 'sex', 'country'], 'income'),
]


def predictions_differ(arff, target, eddy_path, moa_path):
    """Rows whose predicted class differs: eddy's -P lines (the class name;
    none before anything was learned: MOA's index 0) against MoaPrequential's
    --predictions (the index in the ARFF's declared values)."""
    with open(arff) as f:
        decl = next(l for l in f if l.lower().startswith('@attribute %s ' % target.lower()))
    names = [v.strip() for v in decl[decl.index('{') + 1:decl.rindex('}')].split(',')]
    with open(eddy_path) as f:
        ours = [json.loads(l)['prediction'] for l in f]
    with open(moa_path) as f:
        theirs = [names[int(l.split()[0])] for l in f]
    if len(ours) != len(theirs):
        return 'all (%d rows against %d)' % (len(ours), len(theirs))
    return sum(1 for a, b in zip(ours, theirs) if (a if a is not None else names[0]) != b)


def efdt_real(work):
    """EFDT on the real data sets: one bool per data set that ran."""
    out = []
    for name, fname, features, fixed, nominal, target in EFDT_REAL:
        data = os.path.join(os.environ.get('EDDY_DATASETS', '../shared/datasets'), fname)
        if not os.path.exists(data):
            print('SKIP efdt on %s: %s not found' % (name, data))
            continue
        arff = os.path.join(work, name + '.arff')
        R.csv2arff.convert(data, arff, [n for n in nominal if n not in fixed], target,
                           fixed=dict((k, v.split(',')) for k, v in fixed.items()))
        cfg = os.path.join(work, '%s-efdt.ini' % name)
        with open(cfg, 'w') as f:
            f.write('[pipeline]\nname = parity-efdt-%s\ntask = classification\n\n[features]\n%s'
                    'target = %s\n\n[model]\nlearner = efdt\n'
                    % (name, features or 'nominal = %s\n' % ', '.join(nominal), target))
        e_pred, m_pred = os.path.join(work, name + '-eddy.jsonl'), os.path.join(work, name + '-moa.txt')
        lines, _ = R.run([R.EDDY, 'eval', '-c', cfg, '--input', data, '--format', 'jsonl', '-q', '-e', '0',
                          '-P', e_pred])
        e = R.jsonl(lines)[-1]
        lines, _ = R.run(['java', '-cp', R.moa_cp(), 'MoaPrequential', arff, 'trees.EFDT', '--predictions', m_pred])
        m = R.jsonl(lines)[-1]
        n = m['instances']
        differ = predictions_differ(arff, target, e_pred, m_pred)
        ok = e['instances'] == n and round(e['accuracy'] * n) == round(m['accuracy'] * n) and differ == 0
        print('%s %-16s %s %d rows: eddy %.6f  MOA %.6f (trees.EFDT)  rows right: %d vs %d, predictions that '
              'differ: %s (limit none: exact)' % (
                  'ok  ' if ok else 'FAIL', 'efdt', name, n, e['accuracy'], m['accuracy'],
                  round(e['accuracy'] * n), round(m['accuracy'] * n), differ))
        out.append(ok)
    return out


def main():
    work = os.path.abspath(sys.argv[1])
    os.makedirs(work, exist_ok=True)
    learners, detectors, has_detect = R.eddy_names()
    failed, checked = [], 0

    csv = os.path.join(work, 'agrawal.csv')
    R.run([R.EDDY, 'gen', 'agrawal', '--n', str(ROWS), '--seed', '1', '--output', csv])
    stream = dict(table.STREAMS['agrawal'], name='agrawal', csv=csv)
    arff = os.path.join(work, 'agrawal.arff')
    R.csv2arff.convert(csv, arff, stream['nominal'], stream['target'])
    byname = dict((l['name'], l) for l in table.LEARNERS)
    for name in LEARNERS:
        if name not in learners:
            print('SKIP %-16s not in this build of eddy (its branch is not merged yet)' % name)
            continue
        l = byname[name]
        cfg = R.write_config('agrawal', l, stream['nominal'], directory=work)
        e = R.eddy_eval(cfg, csv)
        m = R.moa_eval(arff, l['moa'])
        river = 'not run (slow in River)'
        if not l.get('slow_in_river'):
            river = '%.6f (not checked)' % R.py_eval(csv, l['river'], 'river', stream['nominal'], False)['accuracy']
        d = e['accuracy'] - m['accuracy']
        limit = 0 if name in EXACT else MAX_ACC_DIFF
        if name in EXACT:  # the same number of rows right (eddy prints 6 decimals)
            ok = round(e['accuracy'] * ROWS) == round(m['accuracy'] * ROWS)
        else:
            ok = abs(d) <= limit
        ok = ok and e['instances'] == m['instances'] == ROWS
        checked += 1
        print('%s %-16s agrawal %d rows: eddy %.6f  MOA %.6f (%s)  diff %+.2f points (limit %s)  '
              'River %s' % ('ok  ' if ok else 'FAIL', name, ROWS, e['accuracy'], m['accuracy'], l['moa'],
                            100 * d, '%.1f' % (100 * limit) if limit else 'none: exact', river))
        if not ok:
            failed.append(name)

    if 'efdt' in learners:
        for res in efdt_real(work):
            checked += 1
            if not res:
                failed.append('efdt (real data)')

    path = os.path.join(work, 'errors.txt')
    with open(path, 'w') as f:
        f.write(''.join('%d\n' % v for v in table.series()))
    bydet = dict((d['name'], d) for d in table.DETECTORS)
    for name in DETECTORS:
        d = bydet[name]
        if not has_detect:
            print('SKIP %-16s `eddy detect` is not in this build (branch drift not merged yet)' % name)
            continue
        if name not in detectors:
            print('SKIP %-16s not in this build of eddy (its branch is not merged yet)' % name)
            continue
        if not d['moa']:
            print('SKIP %-16s MOA %s has no such detector' % (name, R.moa_version()))
            continue
        lines, _ = R.run([R.EDDY, 'detect', name, '--input', path, '--json'])
        e = R.first([o['index'] for o in R.jsonl(lines) if o.get('kind') == 'drift'])
        lines, _ = R.run(['java', '-cp', R.moa_cp(), 'MoaDetect', d['moa'], path])
        m = R.first([o['index'] for o in R.jsonl(lines) if o.get('kind') == 'drift'])
        ok = (e is None and m is None) or (e is not None and m is not None and abs(e - m) <= MAX_INDEX_DIFF)
        checked += 1
        print('%s %-16s first drift: eddy %s  MOA %s (%s)  limit %d' % (
            'ok  ' if ok else 'FAIL', name, e, m, d['moa'], MAX_INDEX_DIFF))
        if not ok:
            failed.append(name)
    print('parity: %d checks, %d failed%s' % (checked, len(failed), ': ' + ', '.join(failed) if failed else ''))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
