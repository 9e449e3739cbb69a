"""python_speed.py: eddy from Python (eddy.river) beside River, same process,
same loop: per-row time of predict_one + learn_one on Elec2 (day nominal,
as a str), and each side's prequential accuracy on the rows run.

  .cache/venv/bin/python tools/compare/python_speed.py [--rows N] [--only NAME] [--json]

eddy must be importable (pip install ./python). Rows default to the whole
file; River's ensembles are slow (about a minute each on 45,312 rows)."""
import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATASETS = Path(os.environ.get("EDDY_DATASETS", ROOT.parent / "shared" / "datasets"))


def rows(limit):
    with open(DATASETS / "elec2.csv", newline="") as f:
        out = []
        for r in csv.DictReader(f):
            y = r.pop("class")
            out.append(({k: (v if k == "day" else float(v)) for k, v in r.items()}, y))
            if limit and len(out) >= limit:
                break
    return out


def pairs():
    from river import ensemble, forest, linear_model, preprocessing, tree

    from eddy import river as er

    def rht():
        return tree.HoeffdingTreeClassifier(grace_period=200)

    return [
        ("hoeffding_tree", er.HoeffdingTreeClassifier, rht, None),  # day nominal
        ("hoeffding_adaptive_tree", lambda: er.HoeffdingAdaptiveTreeClassifier(seed=1),
         lambda: tree.HoeffdingAdaptiveTreeClassifier(grace_period=200, seed=1), None),
        ("oza_bag (10 trees)", lambda: er.OzaBag(n_models=10, seed=1),
         lambda: ensemble.BaggingClassifier(rht(), n_models=10, seed=1), None),
        ("adwin_bagging (10 trees)", lambda: er.ADWINBagging(n_models=10, seed=1),
         lambda: ensemble.ADWINBaggingClassifier(rht(), n_models=10, seed=1), None),
        ("leveraging_bagging (10 trees)", lambda: er.LeveragingBaggingClassifier(n_models=10, seed=1),
         lambda: ensemble.LeveragingBaggingClassifier(rht(), n_models=10, seed=1), None),
        # each side's defaults but the size (MOA's and River's trees differ)
        ("adaptive_random_forest (10 trees)", lambda: er.ARFClassifier(n_models=10, seed=1),
         lambda: forest.ARFClassifier(n_models=10, seed=1), None),
        ("streaming_random_patches (10 trees)", lambda: er.SRPClassifier(n_models=10, seed=1),
         lambda: ensemble.SRPClassifier(n_models=10, seed=1), None),
        ("logistic_regression", lambda: er.LogisticRegression(standardize=True),
         lambda: preprocessing.StandardScaler() | linear_model.LogisticRegression(),
         lambda y: y == "DOWN"),  # every feature numeric (day too), y a bool
    ]


def run(model, data, label):
    if label:  # the linear model's rows, made before the clock starts
        data = [({k: float(v) for k, v in x.items()}, label(y)) for x, y in data]
    correct = 0
    t0 = time.perf_counter()
    for x, y in data:
        correct += model.predict_one(x) == y
        model.learn_one(x, y)
    dt = time.perf_counter() - t0
    return dt / len(data) * 1e6, correct / len(data)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--only", help="learners whose name contains this")
    a = ap.parse_args()
    data = rows(a.rows)
    results = []
    for name, make_eddy, make_river, label in pairs():
        if a.only and a.only not in name:
            continue
        e_us, e_acc = run(make_eddy(), data, label)
        r_us, r_acc = run(make_river(), data, label)
        rec = dict(learner=name, rows=len(data), eddy_us=e_us, river_us=r_us,
                   ratio=r_us / e_us, eddy_accuracy=e_acc, river_accuracy=r_acc)
        results.append(rec)
        if not a.json:
            print("%-26s eddy %8.2f us/row (acc %.4f)  River %9.2f us/row (acc %.4f)  %6.1fx"
                  % (name, e_us, e_acc, r_us, r_acc, rec["ratio"]), flush=True)
    if a.json:
        json.dump(results, sys.stdout, indent=1)
        print()


if __name__ == "__main__":
    main()
