#!/usr/bin/env python3
"""river_prequential.py: River's and scikit-learn's side of `make compare`
and of the parity test (run with .cache/venv/bin/python).

  learn CSV --model EXPR [--tool river|sklearn] [--target class]
            [--nominal a,b] [--numeric-nominals] [--max N]
            [--every N [--window W] [--adwin]]
      Prequential evaluation (predict, then learn, each row) of a River
      model (EXPR evaluated with river's naive_bayes, linear_model, tree,
      ensemble, optim, drift, preprocessing in scope) or of a
      scikit-learn SGDClassifier-like EXPR (partial_fit on each row).
      Rows are read with River's stream.iter_csv (scikit-learn: the csv
      module) and converted in the timed loop: numbers to float, the
      --nominal columns kept as strings (or read as numbers with
      --numeric-nominals). Binary linear models (River's LogisticRegression,
      Perceptron, ...) learn y as a bool: True for the second label seen,
      as MOA's and eddy's class index 1.

  anomaly CSV --model EXPR --target label --positive anomaly [--max N]
      An unsupervised River detector (anomaly.HalfSpaceTrees): each row's
      score_one, then learn_one without the target; the prequential ROC
      AUC of the scores against target == positive (scikit-learn's
      roc_auc_score, computed after the timed loop) as "auc".

  detect FILE --detector EXPR
      A River drift detector over one number a line; prints each warning
      (on entering the zone) and drift with its 0-based index.

Output, as MoaPrequential.java's: one JSON object a line, the last one
  {"tool":...,"learner":...,"instances":N,"accuracy":A,"seconds":S,
   "instances_per_second":R,"cpu_seconds":C}
"seconds" runs from opening the file to the last row learned (parsing
included), "cpu_seconds" is the process's CPU time over the same span;
the interpreter's start and the imports are not in them (run.py reports
each process's wall-clock time beside). --every N adds
{"instances":i,"accuracy":.., "window_accuracy":..} every N rows (accuracy of the last W predictions) and
--adwin River's ADWIN on the 0/1 errors, each drift as
{"alert":{"index":I,"kind":"drift","detector":"adwin"}}.
"""
import argparse
import csv
import json
import sys
import time


def river_scope():
    from river import anomaly, drift, ensemble, forest, linear_model, naive_bayes, optim, preprocessing, tree
    return {'anomaly': anomaly, 'drift': drift, 'ensemble': ensemble, 'forest': forest, 'linear_model': linear_model, 'naive_bayes': naive_bayes,
            'optim': optim, 'preprocessing': preprocessing, 'tree': tree}


def header(path):
    with open(path, newline='') as f:
        return next(csv.reader(f))


class Window:
    """Accuracy of the last `size` predictions, an optional ADWIN on the errors."""

    def __init__(self, every, size, adwin, out):
        self.every, self.size, self.out = every, size, out
        self.ring = [False] * size
        self.correct = 0
        self.adwin = None
        if adwin:
            from river import drift
            self.adwin = drift.ADWIN()

    def add(self, n, ok, total_correct):
        """n: 0-based index of this row."""
        slot = n % self.size
        if n >= self.size and self.ring[slot]:
            self.correct -= 1
        self.ring[slot] = ok
        if ok:
            self.correct += 1
        if self.adwin is not None:
            self.adwin.update(0.0 if ok else 1.0)
            if self.adwin.drift_detected:
                self.out.write(json.dumps({'alert': {'index': n, 'kind': 'drift', 'detector': 'adwin'}}) + '\n')
        if (n + 1) % self.every == 0:
            self.out.write(json.dumps({'instances': n + 1, 'accuracy': total_correct / (n + 1),
                                       'window_accuracy': self.correct / min(n + 1, self.size)}) + '\n')


def learn_river(a, out):
    scope = river_scope()
    model = eval(a.model, scope)
    from river import stream
    cols = header(a.csv)
    nominal = set(a.nominal)
    conv = {c: (float if (c not in nominal or a.numeric_nominals) else str) for c in cols if c != a.target}
    binary = hasattr(model, '_multiclass') and not model._multiclass
    labels = {}  # binary models: label -> bool, in order of appearance
    names = {}
    win = Window(a.every, a.window, a.adwin, out) if a.every else None
    n = correct = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for x, y in stream.iter_csv(a.csv, target=a.target, converters=conv):
        if binary:
            if y not in labels:
                if len(labels) == 2:
                    raise SystemExit('a binary model met a third class: %r' % y)
                labels[y] = len(labels) == 1
                names[labels[y]] = y
            yb = labels[y]
            p = model.predict_one(x)
            ok = p is not None and names.get(p) == y
            model.learn_one(x, yb)
        else:
            p = model.predict_one(x)
            ok = p == y
            model.learn_one(x, y)
        if ok:
            correct += 1
        if win:
            win.add(n, ok, correct)
        n += 1
        if a.max and n >= a.max:
            break
    return n, correct, time.perf_counter() - t0, time.process_time() - c0


def learn_sklearn(a, out):
    import numpy as np
    from sklearn.exceptions import NotFittedError
    from sklearn.linear_model import SGDClassifier  # noqa: F401 (in scope of the expression)
    model = eval(a.model, {'SGDClassifier': SGDClassifier})
    cols = header(a.csv)
    ti = cols.index(a.target)
    # partial_fit needs every class on its first call: the labels are read
    # beforehand (outside the timed loop), sorted as scikit-learn keeps them.
    with open(a.csv, newline='') as f:
        r = csv.reader(f)
        next(r)
        classes = sorted({row[ti] for row in r if row})
    classes = np.array(classes, dtype=object)
    win = Window(a.every, a.window, a.adwin, out) if a.every else None
    n = correct = 0
    t0, c0 = time.perf_counter(), time.process_time()
    with open(a.csv, newline='') as f:
        r = csv.reader(f)
        next(r)
        for row in r:
            if not row:
                continue
            y = row[ti]
            X = np.array([[float(v) for i, v in enumerate(row) if i != ti]])
            try:
                ok = model.predict(X)[0] == y
            except NotFittedError:
                ok = classes[0] == y
            model.partial_fit(X, np.array([y], dtype=object), classes=classes)
            if ok:
                correct += 1
            if win:
                win.add(n, ok, correct)
            n += 1
            if a.max and n >= a.max:
                break
    return n, correct, time.perf_counter() - t0, time.process_time() - c0


def anomaly_scores(a, out):
    model = eval(a.model, river_scope())
    from river import stream
    cols = header(a.csv)
    conv = {c: float for c in cols if c != a.target}
    scores, truth = [], []
    n = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for x, y in stream.iter_csv(a.csv, target=a.target, converters=conv):
        scores.append(model.score_one(x))
        model.learn_one(x)
        truth.append(y == a.positive)
        n += 1
        if a.max and n >= a.max:
            break
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    from sklearn.metrics import roc_auc_score
    out.write(json.dumps({'tool': 'river', 'learner': a.model, 'instances': n, 'auc': roc_auc_score(truth, scores),
                          'seconds': seconds, 'cpu_seconds': cpu, 'instances_per_second': n / seconds if seconds > 0 else 0.0}) + '\n')


def detect(a, out):
    scope = river_scope()
    d = eval(a.detector, scope)
    first, drifts, warnings, in_warning = None, 0, 0, False
    n = 0
    t0, c0 = time.perf_counter(), time.process_time()
    with open(a.file) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            d.update(float(line))
            if d.drift_detected:
                out.write(json.dumps({'index': n, 'kind': 'drift'}) + '\n')
                drifts += 1
                if first is None:
                    first = n
                in_warning = False
            elif getattr(d, 'warning_detected', False):
                if not in_warning:
                    out.write(json.dumps({'index': n, 'kind': 'warning'}) + '\n')
                    warnings += 1
                in_warning = True
            else:
                in_warning = False
            n += 1
    out.write(json.dumps({'tool': 'river', 'detector': a.detector, 'values': n, 'first_drift': first,
                          'drifts': drifts, 'warnings': warnings,
                          'seconds': time.perf_counter() - t0}) + '\n')


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = p.add_subparsers(dest='cmd', required=True)
    le = sub.add_parser('learn')
    le.add_argument('csv')
    le.add_argument('--model', required=True)
    le.add_argument('--tool', choices=['river', 'sklearn'], default='river')
    le.add_argument('--learner', default=None, help='a name for the output (default: the expression)')
    le.add_argument('--target', default='class')
    le.add_argument('--nominal', default='', type=lambda s: [c for c in s.split(',') if c])
    le.add_argument('--numeric-nominals', action='store_true')
    le.add_argument('--max', type=int, default=0)
    le.add_argument('--every', type=int, default=0)
    le.add_argument('--window', type=int, default=1000)
    le.add_argument('--adwin', action='store_true')
    an = sub.add_parser('anomaly')
    an.add_argument('csv')
    an.add_argument('--model', required=True)
    an.add_argument('--target', default='label')
    an.add_argument('--positive', default='anomaly')
    an.add_argument('--max', type=int, default=0)
    de = sub.add_parser('detect')
    de.add_argument('file')
    de.add_argument('--detector', required=True)
    a = p.parse_args()
    out = sys.stdout
    if a.cmd == 'detect':
        detect(a, out)
        return
    if a.cmd == 'anomaly':
        anomaly_scores(a, out)
        return
    n, correct, seconds, cpu = (learn_sklearn if a.tool == 'sklearn' else learn_river)(a, out)
    out.write(json.dumps({'tool': a.tool, 'learner': a.learner or a.model, 'instances': n,
                          'accuracy': correct / n if n else 0.0, 'seconds': seconds, 'cpu_seconds': cpu,
                          'instances_per_second': n / seconds if seconds > 0 else 0.0}) + '\n')


if __name__ == '__main__':
    main()
