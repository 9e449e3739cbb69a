#!/usr/bin/env python3
"""parity_forests.py WORKDIR: eddy's leveraging_bagging,
adaptive_random_forest and streaming_random_patches against MOA 2024.07.0's
meta.LeveragingBag, meta.AdaptiveRandomForest and meta.StreamingRandomPatches (tests/integration/test_parity_forests.sh runs it).

Both draw every random number as MOA does (random = moa), so their
prequential predictions are MOA's row for row: the check is the number of
rows right, equal (accuracy equal to 6 decimals, hence to 4), on

- Elec2 (../shared/datasets/elec2.csv) with day's values declared in
  MOA's elecNormNew.arff order (configs/elec2-levbag.ini; ARF with
  ensemble_size = 10 for ARF and SRP, as MOA's default 100 trees take minutes
  in MOA);
- 20,000 rows of `eddy gen agrawal --seed 1`, nominal values in order of
  appearance in both tools;
- and adaptive_random_forest_regressor against
  meta.AdaptiveRandomForestRegressor (10 trees) on the red wine data
  (`quality` numeric): with trees that do not split (grace period beyond
  the file) the forest's own logic (Poisson draws, ADWINs on the trees'
  predictions, background trees, the mean) gives MOA's predictions, so MAE
  and RMSE must agree to 6 decimals; with the default trees (eddy's
  regression tree, not MOA's ARFFIMTDD) both figures are printed, not
  compared.

A learner this build lacks is skipped, saying so. Exit status 0 when every
check that ran passed.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as R  # noqa: E402  (chdirs to the repository's root)
import table  # noqa: E402

ROWS = 20000
DAYS = ','.join(str(d) for d in range(1, 8))
CASES = [  # eddy config keys, MOA CLI
    ('leveraging_bagging', {'learner': 'leveraging_bagging'}, 'meta.LeveragingBag'),
    ('adaptive_random_forest', {'learner': 'adaptive_random_forest', 'ensemble_size': '10'},
     'meta.AdaptiveRandomForest -s 10'),
    ('streaming_random_patches', {'learner': 'streaming_random_patches', 'ensemble_size': '10'},
     'meta.StreamingRandomPatches -s 10'),
]


def elec2_config(work, keys):
    path = os.path.join(work, 'elec2-%s.ini' % keys['learner'])
    with open(path, 'w') as f:
        f.write('[pipeline]\nname = parity-%s\ntask = classification\n\n[features]\nnominal = day\n'
                'values.day = 1, 2, 3, 4, 5, 6, 7\nvalues.class = UP, DOWN\ntarget = class\n\n[model]\n'
                % keys['learner'])
        f.write(''.join('%s = %s\n' % kv for kv in keys.items()))
    return path


def regressor(work, learners):
    """The regressor forest on the red wine data: (checks, failed)."""
    name = 'adaptive_random_forest_regressor'
    wine = os.environ.get('EDDY_DATASETS', '../shared/datasets') + '/winequality-red.csv'
    if name not in learners or not os.path.exists(wine):
        print('SKIP %s: %s' % (name, 'not in this build' if name not in learners else wine + ' not found'))
        return 0, []
    arff = os.path.join(work, 'wine.arff')
    R.csv2arff.convert(wine, arff, target='quality', numeric_target=True)
    failed, checked = [], 0
    for label, keys, cli, compare in [
            ('unsplit', {'grace_period': '100000'}, ' -l (ARFFIMTDD -s VarianceReductionSplitCriterion -g 100000 -c 0.01)', True),
            ('defaults', {}, '', False)]:
        cfg = os.path.join(work, 'wine-%s.ini' % label)
        with open(cfg, 'w') as f:
            f.write('[pipeline]\nname = parity-wine-%s\ntask = regression\n\n[features]\ntarget = quality\n\n'
                    '[model]\nlearner = %s\nensemble_size = 10\n' % (label, name))
            f.write(''.join('%s = %s\n' % kv for kv in keys.items()))
        moa = 'meta.AdaptiveRandomForestRegressor -s 10' + cli
        e = R.eddy_eval(cfg, wine)
        m = R.moa_eval(arff, moa, regression=True)
        ok = (e['instances'] == m['instances'] and abs(e['mae'] - m['mae']) < 5e-7
              and abs(e['rmse'] - m['rmse']) < 5e-7)
        if compare:
            checked += 1
            if not ok:
                failed.append('%s/wine-%s' % (name, label))
        print('%s %s wine %-8s %d rows: eddy MAE %.4f RMSE %.4f (%.0f/s)  MOA MAE %.4f RMSE %.4f (%.0f/s, %s)' % (
            ('ok  ' if ok else 'FAIL') if compare else 'info', name, label, m['instances'], e['mae'], e['rmse'],
            e['instances_per_second'], m['mae'], m['rmse'], m['instances_per_second'], moa))
    return checked, failed


def main():
    work = os.path.abspath(sys.argv[1])
    os.makedirs(work, exist_ok=True)
    learners, _, _ = R.eddy_names()
    elec2 = os.environ.get('EDDY_DATASETS', '../shared/datasets') + '/elec2.csv'
    streams = []
    if os.path.exists(elec2):
        arff = os.path.join(work, 'elec2.arff')
        R.run(['python3', 'tools/compare/csv2arff.py', elec2, arff, 'day:' + DAYS, 'class:UP,DOWN'])
        streams.append(('elec2', elec2, arff, None))
    else:
        print('SKIP elec2: %s not found' % elec2)
    csv = os.path.join(work, 'agrawal.csv')
    R.run([R.EDDY, 'gen', 'agrawal', '--n', str(ROWS), '--seed', '1', '--output', csv])
    st = table.STREAMS['agrawal']
    arff = os.path.join(work, 'agrawal.arff')
    R.csv2arff.convert(csv, arff, st['nominal'], st['target'])
    streams.append(('agrawal', csv, arff, st['nominal']))
    failed, checked = [], 0
    for name, keys, moa in CASES:
        if name not in learners:
            print('SKIP %-22s not in this build of eddy' % name)
            continue
        for sname, data, arff, nominal in streams:
            if nominal is None:
                cfg = elec2_config(work, keys)
            else:
                l = {'name': name, 'label': name, 'eddy': keys}
                cfg = R.write_config(sname, l, nominal, directory=work)
            e = R.eddy_eval(cfg, data)
            m = R.moa_eval(arff, moa)
            n = m['instances']
            ok = e['instances'] == n and round(e['accuracy'] * n) == round(m['accuracy'] * n)
            checked += 1
            print('%s %-22s %-8s %d rows: eddy %.4f (%.0f/s)  MOA %.4f (%.0f/s, %s)  rows right: %d vs %d' % (
                'ok  ' if ok else 'FAIL', name, sname, n, e['accuracy'], e['instances_per_second'],
                m['accuracy'], m['instances_per_second'], moa, round(e['accuracy'] * n), round(m['accuracy'] * n)))
            if not ok:
                failed.append('%s/%s' % (name, sname))
    c, f = regressor(work, learners)
    checked += c
    failed += f
    print('parity_forests: %d checks, %d failed%s' % (checked, len(failed), ': ' + ', '.join(failed) if failed else ''))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
