#!/usr/bin/env python3
"""run.py (`make compare`): eddy beside River, MOA and scikit-learn, in one
run, on the same files; writes docs/COMPARISON.md, docs/compare-*.png and
docs/comparison.json, and the headline block of README.md.

Run with .cache/venv/bin/python from the repository's root after
`make peers` and `make` (the Makefile's compare target does both). What is
compared is tools/compare/table.py. `run.py --render [FILE]` writes the
report, plots and README block again from a saved docs/comparison.json
without measuring anything. Environment:
  QUICK=1            100,000-row synthetic streams, River's slow learners on
                     their first 10,000 rows, the forests (table.py's
                     quick_rows) on a prefix of every stream for every
                     tool, a 20,000-row anomaly stream (a smoke run,
                     minutes)
  ROWS=N             rows of the synthetic streams (default 1,000,000)
  RIVER_ROWS=N       rows River (and the scikit-learn / GaussianNB reference
                     rows) run on for the learners marked slow_in_river
                     and for the extras, on the synthetic streams (default
                     100,000); eddy is then also measured on those rows
  ONLY=a,b           only these learners (names in table.py); STREAMS=a,b
                     only these streams; NO_DETECTORS=1, NO_WINDOWED=1,
                     NO_SEEDS=1 leave those parts out
  EDDY_REPEAT=N      eddy runs per measurement, interleaved with the
                     peers' runs; its median speed is reported (default 3)
  EDDY_BIN=PATH      the eddy binary (default ./eddy); EDDY_DESCRIBE=TEXT
                     says in the report what it was built from
  EDDY_SPEED=best    report eddy's fastest run instead of the median
  PEER_REPEAT=N      MOA and River runs per measurement (default 1); the
                     fastest is reported (their accuracies must agree)
  ROWS_CAP=N         the forests (table.py's learners with quick_rows) on
                     the first N rows of the synthetic streams, every tool
                     (their 1,000,000 rows take MOA many minutes each)
  MERGE=1            keep the rows of the saved docs/comparison.json that
                     this run does not measure (with ONLY= / STREAMS=:
                     measure some rows again, or new ones, and regenerate
                     the whole report); the report says which rows were
                     measured when

Each tool runs alone (never two at once), one after the other for the same
(learner, stream): eddy, MOA, eddy, River, eddy. Every tool's time runs
from opening the file to the last row learned, file parsing included;
process start (JVM, Python interpreter and imports) is excluded, and each
process's wall-clock time is kept in docs/comparison.json.
"""
import datetime
import json
import os
import platform
import re
import resource
import shlex
import statistics
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
sys.path.insert(0, os.path.join(ROOT, 'tools', 'compare'))
import csv2arff  # noqa: E402
import table  # noqa: E402

os.chdir(ROOT)
QUICK = os.environ.get('QUICK', '') not in ('', '0')
ROWS = int(os.environ.get('ROWS', 100000 if QUICK else 1000000))
RIVER_ROWS = int(os.environ.get('RIVER_ROWS', 10000 if QUICK else 100000))
ONLY = [s for s in os.environ.get('ONLY', '').split(',') if s]
ONLY_STREAMS = [s for s in os.environ.get('STREAMS', '').split(',') if s]
EDDY_REPEAT = max(1, int(os.environ.get('EDDY_REPEAT', 3)))
NO_DETECTORS = os.environ.get('NO_DETECTORS', '') not in ('', '0')
NO_WINDOWED = os.environ.get('NO_WINDOWED', '') not in ('', '0')
NO_SEEDS = os.environ.get('NO_SEEDS', '') not in ('', '0')
EDDY_SPEED = 'best' if os.environ.get('EDDY_SPEED') == 'best' else 'median'
PEER_REPEAT = max(1, int(os.environ.get('PEER_REPEAT', 1)))
MERGE = os.environ.get('MERGE', '') not in ('', '0')
ROWS_CAP = int(os.environ.get('ROWS_CAP', 0))
LAST_CPU = [0.0]  # CPU seconds (user + system) of the last process run()
CACHE = '.cache/compare'
CONFIGS = 'tools/compare/configs'
DOCS = 'docs'
PY = '.cache/venv/bin/python'
EDDY = os.environ.get('EDDY_BIN', './eddy')
MOA_LIBS = '.cache/moa/libs'
MOA_CLASSES = os.environ.get('MOA_CLASSES', '.cache/moa/classes')
WINDOW = 1000
COMMANDS = []  # every command run, for the report
NOTES = []     # what was skipped and why


LOADS = []  # load averages seen while the run logs, for the report


def log(msg):
    LOADS.append(os.getloadavg()[0])
    sys.stderr.write('[%s] %s\n' % (time.strftime('%H:%M:%S'), msg))
    sys.stderr.flush()


def moa_cp():
    jars = sorted(os.path.join(MOA_LIBS, f) for f in os.listdir(MOA_LIBS) if f.endswith('.jar'))
    return ':'.join(jars + [MOA_CLASSES])


def moa_version():
    for f in os.listdir(MOA_LIBS):
        m = re.match(r'moa-(.+)\.jar$', f)
        if m:
            return m.group(1)
    return '?'


def run(cmd, record=True):
    """Runs cmd (a list), returns (stdout lines, wall seconds); fails loudly."""
    if record:
        COMMANDS.append(' '.join(shlex.quote(c) for c in cmd))
    t0 = time.perf_counter()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    LAST_CPU[0] = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    if p.returncode != 0:
        raise RuntimeError('%s failed (%d): %s' % (' '.join(cmd), p.returncode, p.stderr.strip()[-2000:]))
    return p.stdout.splitlines(), wall


def jsonl(lines):
    out = []
    for line in lines:
        line = line.strip()
        if line.startswith('{'):
            out.append(json.loads(line))
    return out


# ---------------------------------------------------------------- eddy

def eddy_names():
    """Learner and detector registry names this ./eddy knows, and whether it has `eddy detect`."""
    ref, _ = run([EDDY, 'config', '--reference'], record=False)
    learners, detectors, part = set(), set(), None
    for line in ref:
        if line.startswith('## Learners'):
            part = learners
        elif line.startswith('## Detectors'):
            part = detectors
        elif line.startswith('## '):
            part = None
        elif line.startswith('### ') and part is not None:
            part.add(line[4:].strip().strip('`'))
    p = subprocess.run([EDDY, 'detect', '--help'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return learners, detectors, p.returncode == 0


def write_config(stream, learner, nominal, windowed=False, directory=CONFIGS, seed=None):
    name = '%s-%s%s%s' % (stream, learner['name'], '-windowed' if windowed else '',
                          '-seed%d' % seed if seed is not None else '')
    path = os.path.join(directory, name + '.ini')
    lines = ['; %s: %s on %s, for `make compare` (tools/compare/run.py writes this' % (name, learner['label'], stream),
             '; file from tools/compare/table.py; edit the table, not this file).',
             '[pipeline]', 'name = compare-%s' % name, 'task = classification']
    if seed is not None:
        lines.append('seed = %d' % seed)
    lines += ['',
             '[features]']
    if nominal:
        lines.append('nominal = %s' % ', '.join(nominal))
    for col, vals in fixed_values(learner, stream).items():
        lines.append('values.%s = %s' % (col, ', '.join(vals)))
    lines += ['target = %s' % table.STREAMS[stream]['target'], '', '[model]']
    lines += ['%s = %s' % kv for kv in learner['eddy'].items()]
    if windowed:
        lines += ['', '[drift]', '; alerts only (the model is left alone): marks on the plot',
                  'detector = adwin', 'action = alert']
    text = '\n'.join(lines) + '\n'
    os.makedirs(directory, exist_ok=True)
    old = open(path).read() if os.path.exists(path) else None
    if old != text:
        with open(path, 'w') as f:
            f.write(text)
    return path


def eddy_eval(cfg, csv, max_rows=0, every=0):
    cmd = [EDDY, 'eval', '-c', cfg, '--input', csv, '--format', 'jsonl', '-q', '-e', str(every)]
    if every:
        cmd += ['-w', str(WINDOW)]
    if max_rows:
        cmd += ['-n', str(max_rows)]
    lines, wall = run(cmd)
    objs = jsonl(lines)
    final = [o for o in objs if o.get('final')][-1]
    res = {'tool': 'eddy', 'instances': final['instances'], 'accuracy': final.get('accuracy'),
           'seconds': final['seconds'], 'instances_per_second': final['instances'] / final['seconds'],
           'wall': wall, 'cpu': LAST_CPU[0], 'cpu_seconds': LAST_CPU[0]}
    if 'mae' in final:  # a regression pipeline
        res.update(mae=final['mae'], rmse=final['rmse'])
    if every:
        res['window'] = [(o['instances'], o['window']['accuracy']) for o in objs
                         if 'window' in o and not o.get('final')]
        res['alerts'] = [o['alert']['index'] for o in objs if 'alert' in o and o['alert'].get('kind') == 'drift']
    return res


# ---------------------------------------------------------------- peers

def moa_eval(arff, cli, max_rows=0, every=0, adwin=False, seed=None, regression=False):
    cmd = ['java', '-cp', moa_cp(), 'MoaPrequential', arff, cli]
    if regression:  # MAE and RMSE as EvaluatePrequentialRegression
        cmd += ['--regression']
    if seed is not None:
        cmd += ['--seed', str(seed)]
    if max_rows:
        cmd += ['--max', str(max_rows)]
    if every:
        cmd += ['--every', str(every), '--window', str(WINDOW)]
    if adwin:
        cmd += ['--adwin']
    lines, wall = run(cmd)
    objs = jsonl(lines)
    res = dict(objs[-1], wall=wall, cpu=LAST_CPU[0])
    res['marks'] = {o['instances']: o['accuracy'] for o in objs[:-1] if 'instances' in o}
    res['window'] = [(o['instances'], o['window_accuracy']) for o in objs[:-1] if 'window_accuracy' in o]
    res['alerts'] = [o['alert']['index'] for o in objs if 'alert' in o]
    return res


def py_eval(csv, model, tool, nominal, numeric_nominals, max_rows=0, every=0, adwin=False):
    cmd = [PY, 'tools/compare/river_prequential.py', 'learn', csv, '--model', model, '--tool', tool]
    if nominal:
        cmd += ['--nominal', ','.join(nominal)]
    if numeric_nominals:
        cmd += ['--numeric-nominals']
    if max_rows:
        cmd += ['--max', str(max_rows)]
    if every:
        cmd += ['--every', str(every), '--window', str(WINDOW)]
    if adwin:
        cmd += ['--adwin']
    lines, wall = run(cmd)
    objs = jsonl(lines)
    res = dict(objs[-1], wall=wall, cpu=LAST_CPU[0])
    res['window'] = [(o['instances'], o['window_accuracy']) for o in objs[:-1] if 'window_accuracy' in o]
    res['alerts'] = [o['alert']['index'] for o in objs if 'alert' in o]
    return res


# ---------------------------------------------------------------- data

def count_rows(path):
    with open(path, 'rb') as f:
        return sum(1 for line in f if line.strip()) - 1


def prepare_streams():
    streams = {}
    os.makedirs(CACHE, exist_ok=True)
    for name, s in table.STREAMS.items():
        if ONLY_STREAMS and name not in ONLY_STREAMS:
            continue
        info = dict(s, name=name)
        if 'path' in s:
            if not os.path.exists(s['path']):
                NOTES.append('stream %s skipped: %s is absent' % (name, s['path']))
                continue
            info['csv'] = s['path']
            info['synthetic'] = False
            info['cmd'] = None
        else:
            csv = os.path.join(CACHE, '%s-%d.csv' % (name, ROWS))
            cmd = [EDDY, 'gen'] + [a.replace('{mid}', str(ROWS // 2)) for a in s['gen']] + \
                ['--n', str(ROWS), '--output', csv]
            if not os.path.exists(csv):
                log('generating %s (%d rows)' % (csv, ROWS))
                run(cmd[:-1] + [csv + '.tmp'], record=False)
                os.rename(csv + '.tmp', csv)
            info['csv'] = csv
            info['synthetic'] = True
            info['cmd'] = ' '.join(shlex.quote(c) for c in cmd)
        info['rows'] = count_rows(info['csv'])
        streams[name] = info
    return streams


def arff_for(stream, numeric_nominals, fixed=None):
    base = os.path.splitext(os.path.basename(stream['csv']))[0]
    path = os.path.join(CACHE, base + ('-numeric' if numeric_nominals else '') + ('-values' if fixed else '')
                        + '.arff')
    if not os.path.exists(path) or os.path.getmtime(path) < os.path.getmtime(stream['csv']):
        nominal = [] if numeric_nominals else stream['nominal']
        COMMANDS.append('python3 tools/compare/csv2arff.py %s %s%s --target %s%s' % (
            stream['csv'], path, ' --nominal ' + ','.join(nominal) if nominal else '', stream['target'],
            ''.join(' %s:%s' % (c, ','.join(v)) for c, v in (fixed or {}).items())))
        csv2arff.convert(stream['csv'], path + '.tmp', nominal, stream['target'], fixed)
        os.rename(path + '.tmp', path)
    return path


# ---------------------------------------------------------------- runs

def median_eddy(runs):
    ips = (max if EDDY_SPEED == 'best' else statistics.median)(r['instances_per_second'] for r in runs)
    r0 = dict(runs[0])
    accs = {r['accuracy'] for r in runs}
    if len(accs) != 1:
        NOTES.append('eddy gave different accuracies over repeated runs: %s' % sorted(accs))
    r0['instances_per_second'] = ips
    r0['speed_of'] = EDDY_SPEED
    r0['cpu_seconds'] = min(r.get('cpu_seconds', 0.0) for r in runs)
    r0['runs_ips'] = [r['instances_per_second'] for r in runs]
    r0['seconds'] = r0['instances'] / ips
    return r0


def compare_learner(learner, stream, out):
    nominal = [] if learner.get('numeric_nominals') else stream['nominal']
    cfg = write_config(stream['name'], learner, nominal)
    full = stream['rows']
    # QUICK=1: a learner with quick_rows runs on that prefix, every tool.
    cap = full if not (QUICK and learner.get('quick_rows')) else min(full, learner['quick_rows'])
    if ROWS_CAP and learner.get('quick_rows') and stream['synthetic']:
        cap = min(cap, ROWS_CAP)
    limit, full = (cap if cap < full else 0), cap
    river_rows = min(full, RIVER_ROWS) if (stream['synthetic'] and learner.get('slow_in_river')) else full
    if learner.get('river_rows'):  # River too slow for even Elec2's rows
        river_rows = min(river_rows, learner['river_rows'], RIVER_ROWS)
    prefix = river_rows < full
    rec = {'learner': learner['name'], 'stream': stream['name'], 'rows': full, 'config': cfg}
    eddy_full, eddy_prefix = [], []

    def eddy_round():
        eddy_full.append(eddy_eval(cfg, stream['csv'], max_rows=limit))
        if prefix:
            eddy_prefix.append(eddy_eval(cfg, stream['csv'], max_rows=river_rows))

    eddy_round()
    if learner.get('moa'):
        arff = arff_for(stream, bool(learner.get('numeric_nominals')), fixed_values(learner, stream['name']))
        rec['moa'] = best_of([moa_eval(arff, learner['moa'], max_rows=limit, every=river_rows if prefix else 0)
                              for _ in range(PEER_REPEAT)])
        if prefix:
            rec['moa_prefix_accuracy'] = rec['moa']['marks'].get(river_rows)
        rec['moa'].pop('marks', None)
        rec['moa'].pop('window', None)
        rec['moa'].pop('alerts', None)
    if len(eddy_full) < EDDY_REPEAT:
        eddy_round()
    if learner.get('river'):
        rec['river'] = best_of([py_eval(stream['csv'], learner['river'], 'river', stream['nominal'],
                                        bool(learner.get('numeric_nominals')),
                                        max_rows=river_rows if prefix else limit) for _ in range(PEER_REPEAT)])
        rec['river'].pop('window', None)
        rec['river'].pop('alerts', None)
    while len(eddy_full) < EDDY_REPEAT:
        eddy_round()
    rec['eddy'] = median_eddy(eddy_full)
    if prefix:
        rec['eddy_prefix'] = median_eddy(eddy_prefix)
    rec['river_rows'] = river_rows
    out.append(rec)
    log('%-24s %-10s eddy %.4f %9.0f/s | MOA %s | River %s' % (
        learner['name'], stream['name'], rec['eddy']['accuracy'], rec['eddy']['instances_per_second'],
        '%.4f %8.0f/s' % (rec['moa']['accuracy'], rec['moa']['instances_per_second']) if 'moa' in rec else '-',
        '%.4f %8.0f/s (%d rows)' % (rec['river']['accuracy'], rec['river']['instances_per_second'], river_rows)
        if 'river' in rec else '-'))

    # Reference rows (scikit-learn, a second River class): against eddy on
    # the same rows.
    for ex in learner.get('extras', []):
        if stream['name'] not in ex.get('streams', table.STREAMS):
            continue
        rows = min(full, RIVER_ROWS) if stream['synthetic'] else full
        e = eddy_prefix if rows == river_rows and prefix else []
        if rows == full:
            e_rec = rec['eddy']
        elif e:
            e_rec = rec['eddy_prefix']
        else:
            e_rec = median_eddy([eddy_eval(cfg, stream['csv'], max_rows=rows) for _ in range(EDDY_REPEAT)])
        r = py_eval(stream['csv'], ex['model'], ex['tool'], stream['nominal'], bool(ex.get('numeric_nominals')),
                    max_rows=rows if rows < full else 0)
        r.pop('window', None)
        r.pop('alerts', None)
        out.append({'learner': learner['name'], 'stream': stream['name'], 'extra': ex['label'], 'rows': rows,
                    'eddy': e_rec, 'peer': r})
        log('%-24s %-10s %s: %.4f %8.0f/s (%d rows)' % (learner['name'], stream['name'], ex['label'],
                                                        r['accuracy'], r['instances_per_second'], rows))


def windowed(learner, stream, has_adwin):
    """Windowed accuracy over Elec2 for the plots, with ADWIN alerts on each tool's errors."""
    nominal = [] if learner.get('numeric_nominals') else stream['nominal']
    cfg = write_config(stream['name'], learner, nominal, windowed=has_adwin)
    res = {'eddy': eddy_eval(cfg, stream['csv'], every=WINDOW)}
    if learner.get('moa'):
        arff = arff_for(stream, bool(learner.get('numeric_nominals')), fixed_values(learner, stream['name']))
        res['moa'] = moa_eval(arff, learner['moa'], every=WINDOW, adwin=True)
    if learner.get('river'):
        res['river'] = py_eval(stream['csv'], learner['river'], 'river', stream['nominal'],
                               bool(learner.get('numeric_nominals')), every=WINDOW, adwin=True)
    return res


def seed_spread(learner, stream):
    """Prequential accuracy over table.SEEDS for eddy ([pipeline] seed) and MOA (setRandomSeed)."""
    nominal = [] if learner.get('numeric_nominals') else stream['nominal']
    res = {'eddy': [], 'moa': []}
    for seed in table.SEEDS:
        cfg = write_config(stream['name'], learner, nominal, directory=os.path.join(CACHE, 'configs'), seed=seed)
        res['eddy'].append(eddy_eval(cfg, stream['csv'])['accuracy'])
        if learner.get('moa'):
            arff = arff_for(stream, bool(learner.get('numeric_nominals')), fixed_values(learner, stream['name']))
            res['moa'].append(moa_eval(arff, learner['moa'], seed=seed)['accuracy'])
    log('seeds %-24s %-10s eddy %s MOA %s' % (learner['name'], stream['name'], ' '.join('%.4f' % a for a in res['eddy']),
                                         ' '.join('%.4f' % a for a in res['moa'])))
    return res


def detectors(names, has_detect):
    path = os.path.join(CACHE, 'errors.txt')
    s = table.series()
    with open(path, 'w') as f:
        f.write(''.join('%d\n' % v for v in s))
    rows = []
    for d in table.DETECTORS:
        r = {'detector': d['name'], 'label': d['label'], 'river_expr': d['river'], 'moa_cli': d['moa']}
        if has_detect and d['name'] in names:
            lines, _ = run([EDDY, 'detect', d['name'], '--input', path, '--json'])
            idx = [o['index'] for o in jsonl(lines) if o.get('kind') == 'drift']
            r['eddy'] = idx
        else:
            r['eddy_missing'] = ('`eddy detect` is not in this build' if not has_detect
                                 else 'detector %s is not in this build' % d['name'])
        if d['moa']:
            lines, _ = run(['java', '-cp', moa_cp(), 'MoaDetect', d['moa'], path])
            r['moa'] = [o['index'] for o in jsonl(lines) if o.get('kind') == 'drift']
        lines, _ = run([PY, 'tools/compare/river_prequential.py', 'detect', path, '--detector', d['river']])
        r['river'] = [o['index'] for o in jsonl(lines) if o.get('kind') == 'drift']
        rows.append(r)
        log('detector %-12s eddy %s MOA %s River %s' % (d['name'], first(r.get('eddy')), first(r.get('moa')),
                                                         first(r.get('river'))))
    return rows


def first(idx, at_least=0):
    if idx is None:
        return None
    for i in idx:
        if i >= at_least:
            return i
    return None


# ---------------------------------------------------------------- issue 15
# The forests' rows (fixed nominal value orders, best-of repeats), the
# anomaly detectors' rows (ROC AUC against River) and MERGE=1.

def fixed_values(learner, stream):
    """{column: [values]} the learner's rows declare on this stream (eddy's
    values.NAME, the ARFF's order), or {}."""
    if not learner.get('values'):
        return {}
    return dict(table.STREAMS.get(stream, {}).get('values', {}))


def best_of(results):
    """The fastest of a peer's repeated runs; their accuracies must agree."""
    accs = {r.get('accuracy', r.get('auc')) for r in results}
    if len(accs) != 1:
        NOTES.append('a peer gave different figures over repeated runs: %s' % sorted(accs))
    best = dict(max(results, key=lambda r: r['instances_per_second']))
    best['runs_ips'] = [r['instances_per_second'] for r in results]
    best['cpu_seconds'] = min(r.get('cpu_seconds', 0.0) for r in results)
    return best


def prepare_anomaly():
    a = table.ANOMALY_STREAM
    rows = a['quick_rows'] if QUICK else a['rows']
    csv = os.path.join(CACHE, '%s-%d.csv' % (a['name'], rows))
    cmd = [PY, 'tests/integration/hst_river.py', 'gen', csv, str(rows), str(a['seed'])]
    if not os.path.exists(csv):
        log('generating %s (%d rows)' % (csv, rows))
        run(cmd[:3] + [csv + '.tmp'] + cmd[4:], record=False)
        os.rename(csv + '.tmp', csv)
    return {'name': a['name'], 'csv': csv, 'rows': rows, 'about': a['about'], 'synthetic': True,
            'cmd': ' '.join(shlex.quote(c) for c in cmd), 'target': 'label', 'nominal': []}


def anomaly_config(det, stream, seed=None):
    name = '%s-%s%s' % (stream['name'], det['name'], '-seed%d' % seed if seed is not None else '')
    path = os.path.join(CONFIGS if seed is None else os.path.join(CACHE, 'configs'), name + '.ini')
    os.makedirs(os.path.dirname(path), exist_ok=True)
    lines = ['; %s: %s on the anomaly stream, for `make compare` (tools/compare/run.py writes this' % (
             name, det['label']), '; file from tools/compare/table.py; edit the table, not this file).',
             '[pipeline]', 'name = compare-%s' % name, 'seed = %d' % (seed or 1), '', '[features]',
             'numeric = x1, x2, x3, x4', 'target = label', 'values.label = normal, anomaly', '', '[model]']
    lines += ['%s = %s' % kv for kv in det['eddy'].items()]
    text = '\n'.join(lines) + '\n'
    if not os.path.exists(path) or open(path).read() != text:
        with open(path, 'w') as f:
            f.write(text)
    return path


def eddy_anomaly(cfg, csv, predictions=None):
    cmd = [EDDY, 'eval', '-c', cfg, '--input', csv, '--format', 'jsonl', '-q', '-e', '0']
    if predictions:
        cmd += ['--predictions', predictions]
    lines, wall = run(cmd)
    final = [o for o in jsonl(lines) if o.get('final')][-1]
    return {'tool': 'eddy', 'instances': final['instances'], 'auc': final['auc'], 'seconds': final['seconds'],
            'instances_per_second': final['instances'] / final['seconds'], 'wall': wall,
            'cpu_seconds': LAST_CPU[0]}


def exact_auc(predictions):
    """scikit-learn's ROC AUC of eddy's scores (eval's own figure comes from a histogram)."""
    from sklearn.metrics import roc_auc_score
    y, sc = [], []
    with open(predictions) as f:
        for line in f:
            o = json.loads(line)
            y.append(o['label'] == 'anomaly')
            sc.append(o['score'])
    return roc_auc_score(y, sc)


def river_anomaly(det, stream, seed):
    lines, wall = run([PY, 'tools/compare/river_prequential.py', 'anomaly', stream['csv'], '--model',
                       det['river'].format(seed=seed), '--target', 'label', '--positive', 'anomaly'])
    return dict(jsonl(lines)[-1], wall=wall)


def compare_anomaly(det, stream):
    """Speed with seed 1 (eddy's [pipeline] seed, River's seed=); the AUC for
    each of table.SEEDS, their mean the row's figure (one seed's draws move
    it by about a point)."""
    cfg = anomaly_config(det, stream)
    runs, river = [eddy_anomaly(cfg, stream['csv'])], []
    for _ in range(PEER_REPEAT):
        river.append(river_anomaly(det, stream, 1))
        runs.append(eddy_anomaly(cfg, stream['csv']))
    while len(runs) < EDDY_REPEAT:
        runs.append(eddy_anomaly(cfg, stream['csv']))
    e = dict(runs[0])
    ips = [r['instances_per_second'] for r in runs]
    e.update(instances_per_second=(max if EDDY_SPEED == 'best' else statistics.median)(ips), runs_ips=ips,
             speed_of=EDDY_SPEED, cpu_seconds=min(r['cpu_seconds'] for r in runs))
    rec = {'detector': det['name'], 'stream': stream['name'], 'rows': stream['rows'], 'config': cfg, 'eddy': e,
           'river': best_of(river), 'seeds': list(table.SEEDS), 'eddy_auc': [], 'eddy_auc_eval': [],
           'river_auc': []}
    pred = os.path.join(CACHE, 'anomaly-predictions.jsonl')
    for seed in table.SEEDS:  # untimed: each seed's scores for the exact AUC
        c = anomaly_config(det, stream, seed)
        rec['eddy_auc_eval'].append(eddy_anomaly(c, stream['csv'], predictions=pred)['auc'])
        rec['eddy_auc'].append(exact_auc(pred))
        rec['river_auc'].append(rec['river']['auc'] if seed == 1 else river_anomaly(det, stream, seed)['auc'])
    os.unlink(pred)
    log('%-24s %-10s eddy AUC %.4f %9.0f/s | River AUC %.4f %8.0f/s (mean over seeds %s)' % (
        det['name'], stream['name'], statistics.mean(rec['eddy_auc']), e['instances_per_second'],
        statistics.mean(rec['river_auc']), rec['river']['instances_per_second'], table.SEEDS))
    return rec


def merge_saved(data, run_id):
    """MERGE=1: the saved run's rows that this run did not measure, kept
    (run_id: this run's, whose earlier saves it replaces)."""
    path = os.path.join(DOCS, 'comparison.json')
    if not os.path.exists(path):
        NOTES.append('MERGE=1 but no saved docs/comparison.json: nothing merged')
        return data
    with open(path) as f:
        old = json.load(f)
    if bool(old['meta'].get('quick')) != bool(QUICK):
        sys.exit('compare: MERGE=1 into a %s run from a %s run: refused' % (
            'QUICK' if old['meta'].get('quick') else 'full', 'QUICK' if QUICK else 'full'))

    def key(r):
        return (r['learner'], r['stream'], r.get('extra'))
    new = {key(r) for r in data['learners']}
    order = dict((l['name'], i) for i, l in enumerate(table.LEARNERS))
    sorder = dict((n, i) for i, n in enumerate(table.STREAMS))
    recs = [r for r in old['learners'] if key(r) not in new] + data['learners']
    recs.sort(key=lambda r: (order.get(r['learner'], 999), sorder.get(r['stream'], 99), 'extra' in r))
    measured = sorted({(r['learner'], r['stream']) for r in data['learners']}, key=lambda k: (order.get(k[0], 999), sorder.get(k[1], 99)))
    measured += [(a['detector'], a['stream']) for a in data.get('anomaly', [])]
    an = dict((a['detector'], a) for a in old.get('anomaly', []))
    an.update((a['detector'], a) for a in data.get('anomaly', []))
    win = dict(old.get('windowed', {}))
    win.update(data['windowed'])
    win = dict(sorted(win.items(), key=lambda kv: order.get(kv[0], 999)))
    seeds = dict(old.get('seeds', {}))
    seeds.update(data['seeds'])
    streams = dict(old.get('streams', {}))
    streams.update(data['streams'])
    m = data['meta']
    meta = dict(old['meta'])
    meta['merged'] = [g for g in old['meta'].get('merged', []) if g.get('run') != run_id] + [{
        'run': run_id, 'date': m['date'], 'minutes': m['minutes'], 'load_start': m['load_start'], 'load_end': m['load_end'],
        'load_max': m.get('load_max'), 'eddy': m['versions']['eddy'], 'eddy_speed': EDDY_SPEED,
        'eddy_repeat': EDDY_REPEAT, 'peer_repeat': PEER_REPEAT, 'rows': ['%s@%s' % k for k in measured],
        'commands': list(data['commands'])}]
    present = list(dict.fromkeys(old.get('present', []) + data['present']))
    return {'meta': meta, 'learners': recs, 'detectors': data['detectors'] or old.get('detectors', []),
            'notes': list(dict.fromkeys(old.get('notes', []) + [n for n in data['notes'] if n not in old.get('notes', [])])),
            'seeds': seeds, 'present': present,
            'missing': [n for n in data['missing'] if not any(n.endswith('(%s): not in this build of eddy (its branch is '
                                                                          'not merged yet), skipped' % p) for p in present)],
            'streams': streams, 'windowed': win, 'anomaly': list(an.values()),
            'regression': data.get('regression') or old.get('regression', []),
            'commands': old.get('commands', [])}


def river_rows_note(present):
    """The report's words on the learners River runs on fewer rows (table.py's river_rows)."""
    few = [l for l in table.LEARNERS if l.get('river_rows') and l['name'] in present]
    if not few:
        return ''
    return (' River\'s forests (%s) learn a few hundred rows a second here: River runs them on the first '
            'rows of every stream, Elec2 included, also marked ‡, with the number of rows.' % ', '.join(
                l['label'] for l in few))


def write_merged(meta, w):
    """The report's lines on the rows measured after the main run (MERGE=1);
    a row measured again by a later run is listed under that run only."""
    later = set()
    groups = []
    for g in reversed(meta.get('merged', [])):
        rows = [r for r in g['rows'] if r not in later]
        later.update(g['rows'])
        if rows:
            groups.append(dict(g, rows=rows))
    for g in reversed(groups):
        w('- **Merged in** on %s (%.0f minutes, `MERGE=1`, load average %.2f at the start, %.2f at the end%s; %s; '
          'eddy\'s speed the %s of its %d runs, %s): %s.' % (
              g['date'], g['minutes'], g['load_start'], g['load_end'],
              ', %.2f at most' % g['load_max'] if g.get('load_max') is not None else '', g['eddy'],
              'fastest' if g['eddy_speed'] == 'best' else 'median', g['eddy_repeat'],
              'MOA and River once each' if g['peer_repeat'] == 1 else
              'MOA\'s and River\'s the fastest of %d' % g['peer_repeat'],
              ', '.join(r.replace('@', ' on ') for r in g['rows'])))


def write_anomaly(anomaly, streams, w):
    """The anomaly detectors' section of the report."""
    if not anomaly:
        return
    labels = dict((d['name'], d['label']) for d in table.ANOMALY)
    w('## Anomaly detection: ROC AUC and speed')
    w('')
    st = streams.get('anomaly', {})
    w('Each record is scored, then learned (unsupervised: the label is not learned), on %s rows of %s (`%s`). '
      'AUC: the prequential ROC AUC of the scores against the label (scikit-learn\'s roc_auc_score), the mean '
      'over seeds %s (eddy\'s `[pipeline] seed`, River\'s `seed=`), each seed\'s figure below the table. '
      'No MOA column: MOA 2024.07 has no HalfSpaceTrees. Speed with seed 1, as above (eddy reads the CSV, '
      'River with `stream.iter_csv`, parsing included); "CPU": each side\'s CPU time over the same span.'
      % (format(st.get('rows', 0), ','), st.get('about', 'the anomaly stream'), st.get('cmd', ''),
         ', '.join(str(x) for x in table.SEEDS)))
    w('')
    rows = []
    for a in anomaly:
        e, r = a['eddy'], a['river']
        me, mr = statistics.mean(a['eddy_auc']), statistics.mean(a['river_auc'])
        rows.append([labels.get(a['detector'], a['detector']), a['stream'], format(a['rows'], ','),
                     '%.4f' % me, '%.4f' % mr, '%+.4f' % (me - mr), fmt_ips(e['instances_per_second']),
                     fmt_ips(r['instances_per_second']), fmt_ratio(e['instances_per_second'] / r['instances_per_second']),
                     fmt_ratio(r['cpu_seconds'] / e['cpu_seconds']) if e.get('cpu_seconds') and r.get('cpu_seconds')
                     else '—'])
    w(md_table(['detector', 'stream', 'rows', 'eddy AUC', 'River AUC', 'Δ', 'eddy /s', 'River /s', '× River',
                '× River, CPU'], rows))
    w('')
    for a in anomaly:
        w('AUC per seed (%s): eddy %s (`eddy eval`\'s own figure, from a score histogram: %s); River %s.' % (
            ', '.join(str(x) for x in a['seeds']), ' '.join('%.4f' % x for x in a['eddy_auc']),
            ' '.join('%.4f' % x for x in a['eddy_auc_eval']), ' '.join('%.4f' % x for x in a['river_auc'])))
        w('')
    for d in table.ANOMALY:
        if d.get('river_differs') and any(a['detector'] == d['name'] for a in anomaly):
            w('- %s: River is `%s` (S: each seed); %s.' % (d['label'], d['river'].format(seed='S'), d['river_differs']))
    w('')


def write_leaders(main, w):
    """The issue-15 speed targets on the forests' rows, with the CPU-time ratios."""
    names = [l['name'] for l in table._FORESTS]
    rows = [s for s in main if s['learner'] in names]
    if not rows:
        return
    labels = dict((l['name'], l['label']) for l in table.LEARNERS)
    w('### The accuracy leaders: at least 10× MOA')
    w('')
    w('ARF, leveraging bagging and SRP are to run at least 10× MOA\'s instances/s (issue 15). The "CPU" ratios '
      'divide CPU times over the same rows instead of wall-clock times, a figure less moved by the other '
      'sessions on the machine: MOA\'s is the CPU time of the thread that parses, predicts and learns (its JIT '
      'compiler\'s and collector\'s threads left out, in MOA\'s favour), River\'s its process\'s over the '
      'loop, eddy\'s its whole process\'s (config loading included, against eddy). River\'s figures are on '
      'the rows it ran (‡ in the table above).')
    w('')
    tr = []
    for s in rows:
        tr.append([labels[s['learner']], s['stream'], fmt_acc(s['eddy_acc']), fmt_acc(s.get('moa_acc')),
                   'yes' if s.get('d_moa') is not None and abs(s['d_moa']) < 5e-5 else 'no',
                   fmt_ips(s['eddy_ips']), fmt_ips(s.get('moa_ips')), fmt_ratio(s.get('r_moa')),
                   fmt_ratio(s.get('c_moa')), 'yes' if (s.get('r_moa') or 0) >= 10 else 'no',
                   fmt_ips(s.get('river_ips')), fmt_ratio(s.get('r_river')), fmt_ratio(s.get('c_river'))])
    w(md_table(['learner', 'stream', 'eddy', 'MOA', 'equal to 4 decimals', 'eddy /s', 'MOA /s', '× MOA',
                '× MOA, CPU', '≥ 10×', 'River /s', '× River', '× River, CPU'], tr))
    w('')


# ---------------------------------------------------------------- regression
# The regressor forest beside MOA's AdaptiveRandomForestRegressor, MAE and
# RMSE as EvaluatePrequentialRegression measures them (MoaPrequential
# --regression), on the red wine data (`quality` numeric) read WINE_REPEAT
# times in a row so that the speeds are not the JVM's start. A block of its
# own: the classification tables above do not carry error figures.

WINE_REPEAT = 10
REGRESSION = [  # row name, eddy [model], MOA CLI
    ('adaptive_random_forest_regressor (10 trees)',
     {'learner': 'adaptive_random_forest_regressor', 'ensemble_size': '10'},
     'meta.AdaptiveRandomForestRegressor -s 10'),
]
REGRESSION_ROWS = []  # what the run measured, for write_report


def regression(learners_in_eddy):
    wine = os.path.join(os.environ.get('EDDY_DATASETS', '../shared/datasets'), 'winequality-red.csv')
    if ONLY and not any(k['learner'] in ONLY for _, k, _ in REGRESSION):
        return []
    if not os.path.exists(wine):
        NOTES.append('regression rows skipped: %s is absent' % wine)
        return []
    csv = os.path.join(CACHE, 'wine-x%d.csv' % WINE_REPEAT)
    with open(wine) as f:
        head, body = f.readline(), [line for line in f if line.strip()]
    with open(csv, 'w') as f:
        f.write(head + ''.join(body * WINE_REPEAT))
    arff = os.path.join(CACHE, 'wine-x%d.arff' % WINE_REPEAT)
    COMMANDS.append('python3 tools/compare/csv2arff.py %s %s --target quality --numeric-target' % (csv, arff))
    csv2arff.convert(csv, arff, target='quality', numeric_target=True)
    rows = []
    for name, keys, cli in REGRESSION:
        if ONLY and keys['learner'] not in ONLY:
            continue
        if keys['learner'] not in learners_in_eddy:
            NOTES.append('%s: not in this build of eddy, skipped' % name)
            continue
        cfg = os.path.join(CONFIGS, 'wine-%s.ini' % keys['learner'])
        with open(cfg, 'w') as f:
            f.write('; %s on the red wine data, for `make compare` (tools/compare/run.py writes this file).\n'
                    '[pipeline]\nname = compare-wine-%s\ntask = regression\n\n[features]\ntarget = quality\n\n'
                    '[model]\n%s' % (name, keys['learner'], ''.join('%s = %s\n' % kv for kv in keys.items())))
        e = median_eddy([eddy_eval(cfg, csv) for _ in range(EDDY_REPEAT)])
        m = moa_eval(arff, cli, regression=True)
        rows.append({'name': name, 'rows': e['instances'], 'moa_cli': cli, 'eddy': e, 'moa': m})
    return rows


def regression_section(rows):
    if not rows:
        return []
    out = ['## Regression', '',
           'The red wine data (1,599 rows, `quality` numeric) read %d times in a row; prequential MAE and RMSE '
           '(MOA: EvaluatePrequentialRegression\'s evaluator, through MoaPrequential --regression). eddy\'s '
           'members are its own regression tree (hoeffding_tree_regressor), not MOA\'s ARFFIMTDD: with trees '
           'that do not split the two forests predict the same numbers (tests/integration/test_parity_forests.sh), '
           'with growing trees they differ (MOA\'s new leaves predict 0 until they learn).' % WINE_REPEAT, '']
    out.append(md_table(['learner', 'rows', 'eddy MAE', 'eddy RMSE', 'MOA MAE', 'MOA RMSE', 'eddy inst/s',
                         'MOA inst/s', 'eddy/MOA'],
                        [[r['name'], format(r['rows'], ','), '%.4f' % r['eddy']['mae'], '%.4f' % r['eddy']['rmse'],
                          '%.4f' % r['moa']['mae'], '%.4f' % r['moa']['rmse'],
                          format(round(r['eddy']['instances_per_second']), ','),
                          format(round(r['moa']['instances_per_second']), ','),
                          '%.0f×' % (r['eddy']['instances_per_second'] / r['moa']['instances_per_second'])]
                         for r in rows]))
    out.append('')
    return out


# ---------------------------------------------------------------- report

def versions():
    import matplotlib
    import numpy
    import river
    import sklearn
    java = subprocess.run(['java', '-version'], stderr=subprocess.PIPE, text=True).stderr.splitlines()[0]
    cpu = '?'
    try:
        for line in open('/proc/cpuinfo'):
            if line.startswith('model name'):
                cpu = line.split(':', 1)[1].strip()
                break
    except OSError:
        pass
    commit = subprocess.run(['git', 'describe', '--always', '--dirty'], stdout=subprocess.PIPE,
                            text=True).stdout.strip()
    eddy_v = subprocess.run([EDDY, '--version'], stdout=subprocess.PIPE, text=True).stdout.strip()
    built = os.environ.get('EDDY_DESCRIBE') or 'git %s' % commit
    return {'eddy': '%s (%s; -O2)' % (eddy_v, built), 'river': river.__version__,
            'scikit-learn': sklearn.__version__, 'numpy': numpy.__version__, 'matplotlib': matplotlib.__version__,
            'moa': moa_version(), 'java': java, 'python': platform.python_version(), 'cpu': cpu,
            'cores': os.cpu_count()}


def fmt_acc(a):
    return '%.4f' % a if a is not None else '—'


def fmt_diff(d):
    return '%+.2f' % (100 * d) if d is not None else '—'


def fmt_ips(r):
    if r is None:
        return '—'
    if r >= 1e6:
        return '%.2fM' % (r / 1e6)
    if r >= 1e3:
        return '%.0fk' % (r / 1e3)
    return '%.0f' % r


def fmt_ratio(x):
    if x is None:
        return '—'
    return '%.0f×' % x if x >= 10 else '%.1f×' % x


def summarize(rec):
    """The figures of one main row."""
    e = rec['eddy']
    s = {'learner': rec['learner'], 'stream': rec['stream'], 'rows': rec['rows'], 'eddy_acc': e['accuracy'],
         'eddy_ips': e['instances_per_second']}
    if 'moa' in rec:
        m = rec['moa']
        s.update(moa_acc=m['accuracy'], moa_ips=m['instances_per_second'], d_moa=e['accuracy'] - m['accuracy'],
                 r_moa=e['instances_per_second'] / m['instances_per_second'])
        if e.get('cpu_seconds') and m.get('cpu_seconds'):
            s['c_moa'] = m['cpu_seconds'] / e['cpu_seconds']
    if 'river' in rec:
        r = rec['river']
        ep = rec.get('eddy_prefix', e)
        s.update(river_acc=r['accuracy'], river_ips=r['instances_per_second'], river_rows=rec['river_rows'],
                 eddy_acc_river_rows=ep['accuracy'], d_river=ep['accuracy'] - r['accuracy'],
                 r_river=ep['instances_per_second'] / r['instances_per_second'])
        if ep.get('cpu_seconds') and r.get('cpu_seconds'):
            s['c_river'] = r['cpu_seconds'] / ep['cpu_seconds']
    return s


def plot_windowed(win, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    names = [n for n in win]
    fig, axes = plt.subplots(len(names), 1, figsize=(11, 2.6 * len(names)), sharex=True, squeeze=False)
    colors = {'eddy': '#d62728', 'moa': '#1f77b4', 'river': '#2ca02c'}
    styles = {'eddy': dict(lw=1.6, ls='-'), 'moa': dict(lw=1.2, ls='--'), 'river': dict(lw=1.0, ls=':')}
    labels = {'eddy': 'eddy', 'moa': 'MOA', 'river': 'River'}
    for ax, name in zip(axes[:, 0], names):
        res = win[name]
        for k, tool in enumerate(('moa', 'river', 'eddy')):
            if tool not in res:
                continue
            xs = [i for i, _ in res[tool]['window']]
            ys = [a for _, a in res[tool]['window']]
            ax.plot(xs, ys, color=colors[tool], label='%s (%.4f over all rows)' % (
                labels[tool], res[tool].get('accuracy', 0)), alpha=0.9, **styles[tool])
            for a in res[tool].get('alerts', []):
                ax.plot([a, a], [0.02 + 0.05 * k, 0.07 + 0.05 * k], color=colors[tool], lw=0.8)
        ax.set_ylim(0, 1.02)
        ax.set_ylabel('accuracy')
        ax.set_title('%s: accuracy over the last %d rows; ticks at the bottom: ADWIN drift alerts on each '
                     "tool's errors" % (dict((l['name'], l['label']) for l in table.LEARNERS)[name], WINDOW),
                     fontsize=9)
        ax.legend(loc='lower right', bbox_to_anchor=(1.0, 0.2), fontsize=8, ncol=3)
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel('Elec2 row')
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_speed(rows, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    labels = ['%s\n%s' % (s['learner'].replace('_', ' '), s['stream']) for s in rows]
    moa = [s.get('r_moa') or 0 for s in rows]
    riv = [s.get('r_river') or 0 for s in rows]
    fig, ax = plt.subplots(figsize=(max(8, 0.55 * len(rows)), 4.8))
    xs = range(len(rows))
    ax.bar([x - 0.2 for x in xs], moa, 0.4, label="eddy / MOA (instances/s)", color='#1f77b4')
    ax.bar([x + 0.2 for x in xs], riv, 0.4, label="eddy / River (instances/s)", color='#2ca02c')
    ax.axhline(10, color='#1f77b4', ls='--', lw=0.8, label='target 10× MOA')
    ax.axhline(50, color='#2ca02c', ls='--', lw=0.8, label='target 50× River')
    ax.set_yscale('log')
    ax.set_ylim(bottom=1)
    from matplotlib.ticker import FuncFormatter
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: '%g×' % v))
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ''))
    ax.set_xticks(list(xs))
    ax.set_xticklabels(labels, rotation=90, fontsize=7)
    ax.set_ylabel('speed ratio (log)')
    ax.legend(fontsize=8, loc='upper left', bbox_to_anchor=(1.0, 1.0))
    ax.grid(axis='y', alpha=0.3)
    ax.set_title('eddy\'s instances/s over each peer\'s on the same file (file parsing included)', fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def md_table(head, rows):
    out = ['| ' + ' | '.join(head) + ' |', '|' + '|'.join('---' for _ in head) + '|']
    out += ['| ' + ' | '.join(str(c) for c in r) + ' |' for r in rows]
    return '\n'.join(out)


def write_report(meta, streams, recs, win, dets, present, missing, seeds, anomaly=()):
    main = [summarize(r) for r in recs if 'extra' not in r]
    extras = [r for r in recs if 'extra' in r]
    labels = dict((l['name'], l['label']) for l in table.LEARNERS)
    L = []
    w = L.append
    w('# eddy beside MOA, River and scikit-learn')
    w('')
    if meta.get('merged'):
        w('Written by `make compare` (tools/compare/run.py) on %s in %.0f minutes%s, with rows measured again or '
          'added later by `MERGE=1` runs (listed under "How it was measured"). Every figure below was measured '
          'on this machine, each row\'s tools in the same run, reading the same file; rerun `make compare` to '
          'measure everything again.' % (meta['date'], meta['minutes'], ' (QUICK=1: a smoke run)' if QUICK else ''))
    else:
        w('Written by `make compare` (tools/compare/run.py) on %s in %.0f minutes%s. Every figure below was '
          'measured in that one run, on this machine, with every tool reading the same file; rerun '
          '`make compare` to measure again.' % (meta['date'], meta['minutes'], ' (QUICK=1: a smoke run)' if QUICK else ''))
    w('')
    w('## Versions and machine')
    w('')
    v = meta['versions']
    w(md_table(['', ''], [
        ['eddy', v['eddy']], ['MOA', '%s (Maven Central nz.ac.waikato.cms.moa:moa, pinned in tools/moa/pom.xml), %s'
                              % (v['moa'], v['java'])],
        ['River', '%s (PyPI, pinned in tools/requirements.txt)' % v['river']],
        ['scikit-learn', v['scikit-learn']], ['Python', '%s, numpy %s' % (v['python'], v['numpy'])],
        ['machine', '%s, %s cores, shared: load average %.2f at the start, %.2f at the end' % (
            v['cpu'], v['cores'], meta['load_start'], meta['load_end'])]]))
    w('')
    w('MOA 2024.07.0 is pinned: the newest release on Maven Central. The reference figures in '
      '../shared/datasets/README.md were measured with 2016.04; both releases give the same prequential '
      'accuracy on Elec2 for NaiveBayes, HoeffdingTree, HoeffdingAdaptiveTree, OzaBoost, OzaBag and '
      "OzaBagAdwin (checked when the pin was chosen), and eddy's detectors follow 2024.07.0's code. It has "
      'no KSWIN (that detector has no MOA column).')
    w('')
    w('## How it was measured')
    w('')
    w('- **Prequential** (test-then-train) accuracy: every row is predicted, then learned; the accuracy is '
      'the share of rows predicted right, over all rows, as MOA\'s EvaluatePrequential with '
      'BasicClassificationPerformanceEvaluator and River\'s `progressive_val_score` count it.')
    w('- **Speed**: rows per second from opening the file to the last row learned, **file parsing included** '
      'for every tool (eddy reads the CSV; MOA its ARFF copy of the same rows, converted beforehand with '
      'tools/compare/csv2arff.py; River the CSV with `stream.iter_csv`; scikit-learn the CSV with the `csv` '
      'module). Process start is excluded for all: the JVM\'s start and class loading before `main`, the Python '
      'interpreter and its imports, eddy\'s config loading; every process\'s wall-clock time is in '
      'docs/comparison.json.')
    w('- **Same run**: for each (learner, stream) the tools run one after the other, never two at once: '
      'eddy, MOA, eddy, River, eddy. eddy\'s figure is the median of its %d runs; MOA and River run once '
      '(a fresh JVM, as `java moa.DoTask EvaluatePrequential` does). The ratios compare figures measured '
      'minutes apart on the same files.' % EDDY_REPEAT)
    write_merged(meta, w)
    w('- **Parameters**: eddy\'s defaults for trees, naive Bayes and the ensembles are MOA\'s, so MOA runs '
      'with its defaults and River\'s parameters are set to MOA\'s where its defaults differ; eddy\'s linear '
      'models take River\'s defaults and standardize their inputs (standardize = true), so River runs with its '
      'defaults behind a StandardScaler, as River documents its linear models; the MOA rows of logistic '
      'regression run eddy unscaled (standardize = false), as MOA\'s SGD, which is set to River\'s rates. The '
      'exact parameters are in the table under "What ran".')
    w('- **Rows**: MOA and eddy read every row of every stream. River runs every row for the single models; '
      'for the ensembles of 10 trees on the %s-row synthetic streams, and for the reference rows '
      '(scikit-learn, River\'s GaussianNB), River runs on the first %s rows of the same file, and its '
      'accuracy and speed ratio are then against eddy on those same first rows (marked ‡).'
      % (format(ROWS, ','), format(RIVER_ROWS, ',')) + river_rows_note(present))
    short = [s for s in main if s['rows'] < streams.get(s['stream'], {}).get('rows', 0)]
    if short:
        w('- **Shorter rows**: every tool read only the first rows of the stream for %s (`ROWS_CAP`: the '
          'machine\'s load left no time for MOA\'s forests on the whole stream).' % '; '.join(
              '%s on %s: %s of %s rows' % (labels[s['learner']], s['stream'], format(s['rows'], ','),
                                           format(streams[s['stream']]['rows'], ',')) for s in short))
    w('')
    w('## Streams')
    w('')
    srows = []
    for name, s in streams.items():
        srows.append(['`%s`' % name, format(s['rows'], ','), s['about'],
                      '`%s`' % s['cmd'] if s['cmd'] else '`%s`' % s['csv']])
    w(md_table(['stream', 'rows', 'what', 'file'], srows))
    w('')
    w('## Learners: accuracy and speed')
    w('')
    w('Accuracy is prequential over all rows; Δ is eddy minus the peer in points (hundredths); speed in '
      'instances per second; ratio = eddy\'s speed / the peer\'s. ‡: River ran on the first %s rows, its '
      'accuracy, Δ and ratio are against eddy on those rows (eddy\'s own accuracy on them in brackets).'
      % format(RIVER_ROWS, ','))
    w('')
    rows = []
    for s in main:
        mark = s.get('river_rows', s['rows']) < s['rows']
        racc = fmt_acc(s.get('river_acc'))
        if mark:
            racc = '%s‡ (%s%s)' % (racc, fmt_acc(s['eddy_acc_river_rows']), '' if s['river_rows'] == RIVER_ROWS
                                   else '; first %s rows' % format(s['river_rows'], ','))
        rows.append([labels[s['learner']], s['stream'], format(s['rows'], ','), fmt_acc(s['eddy_acc']),
                     fmt_acc(s.get('moa_acc')), fmt_diff(s.get('d_moa')), racc, fmt_diff(s.get('d_river')),
                     fmt_ips(s['eddy_ips']), fmt_ips(s.get('moa_ips')), fmt_ips(s.get('river_ips')),
                     fmt_ratio(s.get('r_moa')), fmt_ratio(s.get('r_river'))])
    w(md_table(['learner', 'stream', 'rows', 'eddy', 'MOA', 'Δ MOA', 'River', 'Δ River', 'eddy /s', 'MOA /s',
                'River /s', '× MOA', '× River'], rows))
    w('')
    if extras:
        w('Reference rows (other peers\' classes for the same model, against eddy on the same rows):')
        w('')
        xr = []
        for r in extras:
            e, p = r['eddy'], r['peer']
            xr.append([labels[r['learner']], r['extra'], r['stream'], format(r['rows'], ','), fmt_acc(e['accuracy']),
                       fmt_acc(p['accuracy']), fmt_diff(e['accuracy'] - p['accuracy']),
                       fmt_ips(e['instances_per_second']), fmt_ips(p['instances_per_second']),
                       fmt_ratio(e['instances_per_second'] / p['instances_per_second'])])
        w(md_table(['learner', 'peer', 'stream', 'rows', 'eddy', 'peer', 'Δ', 'eddy /s', 'peer /s', '× peer'], xr))
        w('')
    # Targets.
    w('## Targets')
    w('')
    tm = [s for s in main if s.get('r_moa') is not None]
    tr = [s for s in main if s.get('r_river') is not None]
    ta = [s for s in main if s.get('d_moa') is not None]
    miss_m = [s for s in tm if s['r_moa'] < 10]
    miss_r = [s for s in tr if s['r_river'] < 50]
    miss_a = [s for s in ta if abs(s['d_moa']) > 0.005]

    def names(ss):
        return ', '.join('%s on %s' % (s['learner'], s['stream']) for s in ss) or 'none'
    w('- at least 10× MOA\'s instances/s: %d of %d rows (median %s, lowest %s); below: %s.' % (
        len(tm) - len(miss_m), len(tm), fmt_ratio(statistics.median([s['r_moa'] for s in tm])) if tm else '—',
        fmt_ratio(min([s['r_moa'] for s in tm])) if tm else '—', names(miss_m)))
    w('- at least 50× River\'s instances/s: %d of %d rows (median %s, lowest %s); below: %s.' % (
        len(tr) - len(miss_r), len(tr), fmt_ratio(statistics.median([s['r_river'] for s in tr])) if tr else '—',
        fmt_ratio(min([s['r_river'] for s in tr])) if tr else '—', names(miss_r)))
    w('- accuracy within 0.5 point of MOA: %d of %d rows; beyond: %s.' % (len(ta) - len(miss_a), len(ta),
                                                                          names(miss_a)))
    for a in anomaly:
        x = a['eddy']['instances_per_second'] / a['river']['instances_per_second']
        c = a['river']['cpu_seconds'] / a['eddy']['cpu_seconds'] if a['eddy'].get('cpu_seconds') else None
        w('- %s: at least 50× River\'s instances/s: %s on wall-clock time (%s), %s on CPU time (%s).' % (
            a['detector'], 'met' if x >= 50 else 'not met', fmt_ratio(x),
            'met' if c and c >= 50 else 'not met', fmt_ratio(c)))
    w('')
    write_leaders(main, w)
    if miss_a:
        w('### Where eddy differs from MOA by more than half a point')
        w('')
        for s in miss_a:
            why = table.EXPLAIN.get((s['learner'], s['stream'])) or table.EXPLAIN.get(s['learner'])
            w('- **%s on %s** (eddy %.4f, MOA %.4f, %s points): %s' % (
                labels[s['learner']], s['stream'], s['eddy_acc'], s['moa_acc'], fmt_diff(s['d_moa']),
                why or 'not explained yet: under investigation (see the lead\'s notes).'))
        w('')
    if seeds:
        w('### How much the random draws alone move the accuracy')
        w('')
        w('Randomized learners with seeds %s, on Elec2 and on each stream where one is more than half a '
          'point from MOA: eddy with `[pipeline] seed = S`, MOA with `Classifier.setRandomSeed(S)` '
          '(MoaPrequential --seed S; the default is 1 in both). The same algorithm with another seed: the '
          'spread is what a difference of random draws alone does on that stream.'
          % ', '.join(str(x) for x in table.SEEDS) + (' %s%s.' % (meta['seeds_note'][0].upper(), meta['seeds_note'][1:]) if meta.get('seeds_note') else ''))
        w('')
        sr = []
        for key, r in seeds.items():
            name, _, sname = key.partition('@')
            def span(v):
                return '%.4f – %.4f (mean %.4f)' % (min(v), max(v), statistics.mean(v)) if v else '—'
            sr.append([labels[name], sname or 'elec2', span(r['eddy']), span(r['moa']),
                       ' '.join('%.4f' % a for a in r['eddy']), ' '.join('%.4f' % a for a in r['moa'])])
        w(md_table(['learner', 'stream', 'eddy over seeds', 'MOA over seeds', 'eddy per seed', 'MOA per seed'], sr))
        w('')
    notes = [(l['label'], l['river_note']) for l in table.LEARNERS if l.get('river_note') and l['name'] in present]
    notes += [(l['label'], l['river_differs']) for l in table.LEARNERS
              if l.get('river_differs') and l['name'] in present]
    if notes:
        w('### River\'s side')
        w('')
        for label, text in notes:
            w('- %s: %s.' % (label, text))
        w('')
    write_anomaly(anomaly, streams, w)
    w('## Windowed accuracy on Elec2')
    w('')
    if win:
        w('![windowed accuracy](compare-elec2-windowed.png)')
        w('')
        w('Accuracy over the last %d rows, every %d rows, for each tool on Elec2; the ticks at the bottom of each '
          'panel are the drift alerts of an ADWIN (delta 0.002) watching that tool\'s 0/1 errors (eddy: '
          '`[drift] detector = adwin, action = alert`, which leaves the model alone; MOA: ADWINChangeDetector; '
          'River: drift.ADWIN).' % (WINDOW, WINDOW))
    else:
        w('(not run)')
    w('')
    w('## Speed ratios')
    w('')
    w('![speed ratios](compare-speed.png)')
    w('')
    # Detectors.
    w('## Detectors')
    w('')
    if dets:
        sw = table.SERIES_BEFORE
        w('One series of %d 0/1 errors: Bernoulli(%.1f) for %d values, then Bernoulli(%.1f) for %d '
          '(Python\'s random.Random(%d), tools/compare/table.py; .cache/compare/errors.txt), given to each '
          'tool\'s detector with its defaults (`eddy detect NAME --input FILE --json`, '
          'tools/compare/MoaDetect.java, tools/compare/river_prequential.py detect). Indices are 0-based; '
          '"first after" is the first drift at or after index %d (the switch), the delay in brackets.'
          % (sw + table.SERIES_AFTER, table.SERIES_P[0], sw, table.SERIES_P[1], table.SERIES_AFTER,
             table.SERIES_SEED, sw))
        w('')
        drows = []
        for d in dets:
            e, m, r = d.get('eddy'), d.get('moa'), d.get('river')
            fe, fm, fr = first(e), first(m), first(r)

            def fa(x):
                f = first(x, sw)
                return '%d (+%d)' % (f, f - sw) if f is not None else 'none'
            drows.append([d['label'],
                          ('%s' % fe if fe is not None else 'none') if e is not None else '— (%s)' % d['eddy_missing'],
                          ('%s' % fm if fm is not None else 'none') if m is not None else '— (no MOA class)',
                          '%s' % fr if fr is not None else 'none',
                          '%+d' % (fe - fm) if fe is not None and fm is not None else '—',
                          '%+d' % (fe - fr) if fe is not None and fr is not None else '—',
                          fa(e) if e is not None else '—', fa(m) if m is not None else '—', fa(r),
                          '%s / %s / %s' % (len(e) if e is not None else '—', len(m) if m is not None else '—',
                                            len(r))])
        w(md_table(['detector', 'eddy first drift', 'MOA', 'River', 'eddy − MOA', 'eddy − River',
                    'eddy first after', 'MOA first after', 'River first after', 'drifts eddy / MOA / River'],
                   drows))
        w('')
        w('Parameters: ' + '; '.join('%s: MOA `%s`, River `%s`' % (d['label'], d['moa_cli'] or '—', d['river_expr'])
                                     for d in dets) + '.')
        w('')
    else:
        w('(not run)')
        w('')
    w('## What ran')
    w('')
    prow = []
    for l in table.LEARNERS:
        status = 'compared' if l['name'] in present else 'skipped: not in this build of eddy (its branch is not merged yet)'
        if l['name'] in present and l['name'] not in {r['learner'] for r in recs}:
            status = 'not measured yet (see the notes below)'
        prow.append([labels[l['name']], '`%s`' % ', '.join('%s = %s' % kv for kv in l['eddy'].items()),
                     '`%s`' % l['moa'] if l.get('moa') else '—', '`%s`' % l['river'] if l.get('river') else '—',
                     ', '.join(l.get('streams', list(table.STREAMS))), status])
    w(md_table(['learner', 'eddy [model]', 'MOA', 'River', 'streams', 'status'], prow))
    w('')
    for n in NOTES + missing:
        w('- %s' % n)
    w('')
    L += regression_section(REGRESSION_ROWS)
    w('Commands (the drivers: tools/compare/MoaPrequential.java and MoaDetect.java, compiled by `make peers` '
      'against the MOA jar into .cache/moa/classes; tools/compare/river_prequential.py for River and '
      'scikit-learn; eddy\'s configs are in tools/compare/configs/):')
    w('')
    w('<details><summary>every command of this run, in order (%d)</summary>' % len(COMMANDS))
    w('')
    w('```sh')
    for c in COMMANDS:
        w(c)
    w('```')
    w('')
    w('</details>')
    w('')
    with open(os.path.join(DOCS, 'COMPARISON.md'), 'w') as f:
        f.write('\n'.join(L))
    return main, miss_a


def headline(main, meta):
    tm = [s['r_moa'] for s in main if s.get('r_moa') is not None]
    tr = [s['r_river'] for s in main if s.get('r_river') is not None]
    ta = [abs(s['d_moa']) for s in main if s.get('d_moa') is not None]
    within = sum(1 for d in ta if d <= 0.005)
    lines = ['<!-- compare:begin (written by make compare; tools/compare/run.py) -->']
    exact = sum(1 for d in ta if d < 5e-7)
    merged = meta.get('merged') and ', rows merged in on %s' % ', '.join(sorted({g['date'][:10] for g in meta['merged']}))
    lines.append('Measured by `make compare` on %s (%s; details, tables and plots in '
                 '[docs/COMPARISON.md](docs/COMPARISON.md)), file parsing included, on Elec2 and %s-row SEA, '
                 'Agrawal and rotating-hyperplane streams: eddy processes a median %s as many rows per second '
                 'as MOA %s (lowest %s; %d learner × stream rows) and %s as many as River %s (lowest %s; %d '
                 'rows). Its prequential accuracy equals MOA\'s on %d of the %d rows with a MOA counterpart '
                 '(every deterministic learner) and is within half a point on %d. The targets, at least 10× '
                 'MOA and 50× River on every row, are met on %d and %d rows: see the report\'s "Targets".'
                 % (meta['date'][:10], ('QUICK=1 smoke run' if QUICK else 'full run') + (merged or ''),
                    format(ROWS, ','),
                    fmt_ratio(statistics.median(tm)) if tm else '—', meta['versions']['moa'],
                    fmt_ratio(min(tm)) if tm else '—', len(tm), fmt_ratio(statistics.median(tr)) if tr else '—',
                    meta['versions']['river'], fmt_ratio(min(tr)) if tr else '—', len(tr), exact, len(ta), within,
                    sum(1 for r in tm if r >= 10), sum(1 for r in tr if r >= 50)))
    el = [s for s in main if s['stream'] == 'elec2' and s.get('moa_acc') is not None]
    if el:
        lines.append('')
        lines.append('| Elec2, prequential accuracy | eddy | MOA | River | eddy rows/s | × MOA | × River |')
        lines.append('|---|---|---|---|---|---|---|')
        labels = dict((l['name'], l['label']) for l in table.LEARNERS)
        for s in el:
            lines.append('| %s | %s | %s | %s | %s | %s | %s |' % (
                labels[s['learner']], fmt_acc(s['eddy_acc']), fmt_acc(s['moa_acc']),
                fmt_acc(s.get('river_acc')) + ('‡ (first %s rows)' % format(s['river_rows'], ',')
                                               if s.get('river_rows', s['rows']) < s['rows'] else ''),
                fmt_ips(s['eddy_ips']), fmt_ratio(s.get('r_moa')), fmt_ratio(s.get('r_river'))))
    lines.append('<!-- compare:end -->')
    block = '\n'.join(lines)
    text = open('README.md').read()
    m = re.search(r'<!-- compare:begin.*?<!-- compare:end -->', text, re.S)
    if m:
        text = text[:m.start()] + block + text[m.end():]
    else:
        text = text.rstrip('\n') + '\n\n## eddy beside MOA and River\n\n' + block + '\n'
    with open('README.md', 'w') as f:
        f.write(text)


def main():
    t_start = time.time()
    load_start = os.getloadavg()[0]
    for need, what in ((EDDY, 'run make'), (PY, 'run make peers'), (MOA_LIBS, 'run make peers'),
                       (os.path.join(MOA_CLASSES, 'MoaPrequential.class'), 'run make peers')):
        if not os.path.exists(need):
            sys.exit('compare: %s is missing: %s' % (need, what))
    learners_in_eddy, detectors_in_eddy, has_detect = eddy_names()
    # A row's eddy learner is the registry name its config sets (a row name
    # may differ: logistic_regression_std is logistic_regression's default).
    present = [l['name'] for l in table.LEARNERS if l['eddy']['learner'] in learners_in_eddy]
    missing = ['%s (%s): not in this build of eddy (its branch is not merged yet), skipped' % (l['label'], l['name'])
               for l in table.LEARNERS if l['eddy']['learner'] not in learners_in_eddy]
    for m in missing:
        log(m)
    streams = prepare_streams()
    recs, win = [], {}
    vers = versions()

    def gather(win, seeds, dets, anomaly, reg=()):
        meta = {'date': datetime.datetime.fromtimestamp(t_start).strftime('%Y-%m-%d %H:%M'),
                'minutes': (time.time() - t_start) / 60, 'versions': vers, 'load_start': load_start,
                'load_end': os.getloadavg()[0], 'quick': QUICK, 'rows': ROWS, 'river_rows': RIVER_ROWS,
                'eddy_repeat': EDDY_REPEAT, 'load_max': max(LOADS or [0.0]), 'eddy_speed': EDDY_SPEED,
                'peer_repeat': PEER_REPEAT}
        data = {'meta': meta, 'learners': list(recs), 'detectors': dets, 'notes': NOTES + missing, 'seeds': seeds,
                'present': present, 'missing': missing, 'streams': streams, 'commands': COMMANDS,
                'windowed': {k: {t: {'window': v[t]['window'], 'alerts': v[t].get('alerts', []),
                                     'accuracy': v[t]['accuracy']} for t in v} for k, v in win.items()},
                'anomaly': anomaly, 'regression': list(reg)}
        if MERGE:  # each row saved as soon as measured: an interrupted run keeps what it measured
            import fcntl
            with open(os.path.join(CACHE, 'comparison.lock'), 'w') as lock:  # two MERGE runs at once
                fcntl.flock(lock, fcntl.LOCK_EX)
                data = merge_saved(data, run_id='%d@%s' % (os.getpid(), meta['date']))
                with open(os.path.join(DOCS, 'comparison.json.tmp'), 'w') as f:
                    json.dump(data, f, indent=1)
                os.rename(os.path.join(DOCS, 'comparison.json.tmp'), os.path.join(DOCS, 'comparison.json'))
        return data

    for l in table.LEARNERS:
        if l['eddy']['learner'] not in learners_in_eddy or (ONLY and l['name'] not in ONLY):
            continue
        for sname, s in streams.items():
            if sname in l.get('streams', list(table.STREAMS)):
                compare_learner(l, s, recs)
                gather(win, {}, [], [])
        if not NO_WINDOWED and 'elec2' in streams and 'elec2' in l.get('streams', list(table.STREAMS)) and \
                l.get('windowed', True) and not (QUICK and l.get('quick_rows')):
            win[l['name']] = windowed(l, streams['elec2'], 'adwin' in detectors_in_eddy)
    seeds = {}
    if not NO_SEEDS:
        # Every randomized learner on Elec2, and each randomized row beyond
        # half a point of MOA on its own stream.
        byname = dict((l['name'], l) for l in table.LEARNERS)
        todo = [(l['name'], 'elec2') for l in table.LEARNERS if l.get('randomized') and 'elec2' in streams
                and l['eddy']['learner'] in learners_in_eddy and (not ONLY or l['name'] in ONLY)
                and l.get('seeds', True) and not (QUICK and l.get('quick_rows'))]
        todo += [(r['learner'], r['stream']) for r in recs if 'extra' not in r and 'moa' in r
                 and byname[r['learner']].get('randomized') and r['stream'] != 'elec2'
                 and abs(r['eddy']['accuracy'] - r['moa']['accuracy']) > 0.005]
        for name, sname in todo:
            seeds['%s@%s' % (name, sname)] = seed_spread(byname[name], streams[sname])
    dets = [] if NO_DETECTORS else detectors(detectors_in_eddy, has_detect)
    anomaly = []
    for d in table.ANOMALY:
        if d['eddy']['learner'] in learners_in_eddy and (not ONLY or d['name'] in ONLY) and \
                (not ONLY_STREAMS or table.ANOMALY_STREAM['name'] in ONLY_STREAMS):
            st = prepare_anomaly()
            streams[st['name']] = st
            anomaly.append(compare_anomaly(d, st))
    reg = regression(learners_in_eddy)
    os.makedirs(DOCS, exist_ok=True)
    data = gather(win, seeds, dets, anomaly, reg)
    if not MERGE:
        with open(os.path.join(DOCS, 'comparison.json'), 'w') as f:
            json.dump(data, f, indent=1)
    render(data)
    log('done in %.1f min: docs/COMPARISON.md, docs/compare-*.png, docs/comparison.json, README.md'
        % ((time.time() - t_start) / 60))


def render(data):
    """docs/COMPARISON.md, the plots and README's block from one run's figures."""
    global QUICK, ROWS, RIVER_ROWS, EDDY_REPEAT
    meta = data['meta']
    QUICK, ROWS, RIVER_ROWS, EDDY_REPEAT = meta['quick'], meta['rows'], meta['river_rows'], meta['eddy_repeat']
    win = data['windowed']
    if win:
        plot_windowed(win, os.path.join(DOCS, 'compare-elec2-windowed.png'))
    main_rows = [summarize(r) for r in data['learners'] if 'extra' not in r]
    plot_speed(main_rows, os.path.join(DOCS, 'compare-speed.png'))
    COMMANDS[:] = data['commands']
    for g in meta.get('merged', []):
        COMMANDS.extend(['# merged in (MERGE=1) on %s:' % g['date']] + g.get('commands', []))
    REGRESSION_ROWS[:] = data.get('regression', [])
    NOTES[:] = [n for n in data['notes'] if n not in data['missing']]
    main_rows, _ = write_report(meta, data['streams'], data['learners'], win, data['detectors'], data['present'],
                                data['missing'], data['seeds'], data.get('anomaly', []))
    headline(main_rows, meta)


def rerender(path):
    """Writes the report again from a saved docs/comparison.json (e.g. after
    editing the explanations in table.py); measures nothing."""
    with open(path) as f:
        data = json.load(f)
    meta = data['meta']
    if 'streams' not in data:  # saved by an older run.py: rebuild what it lacked
        global ROWS
        ROWS = meta['rows']
        data['streams'] = prepare_streams()
        done = {r['learner'] for r in data['learners']}
        data['present'] = [l['name'] for l in table.LEARNERS if l['name'] in done]
        data['missing'] = [n for n in data['notes'] if 'not in this build' in n]
        old = open(os.path.join(DOCS, 'COMPARISON.md')).read()
        m = re.search(r'```sh\n(.*?)```', old, re.S)
        data['commands'] = m.group(1).splitlines() if m else []
        with open(path, 'w') as f:
            json.dump(data, f, indent=1)
    render(data)
    log('written again from %s' % path)


if __name__ == '__main__':
    if sys.argv[1:2] == ['--render']:
        rerender(sys.argv[2] if len(sys.argv) > 2 else os.path.join(DOCS, 'comparison.json'))
    else:
        main()
