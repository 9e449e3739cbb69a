"""eddy from Python predicts as the C engine does on the same stream: the
prequential confusion matrix of `eddy eval` (every prediction counted) equals
the one of a predict_one / learn_one loop over the same rows, with the
learner configured from the estimator's own eddy parameters.

The CSV given to `eddy eval` has its feature columns in the order of their
names, which is the order eddy.river gives attributes (ties between equally
good splits are broken by attribute order)."""
import csv
import json
import struct
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from eddy import river as er

ROOT = Path(__file__).resolve().parents[2]
DATASETS = Path(os.environ.get("EDDY_DATASETS", ROOT.parent / "shared" / "datasets"))
EDDY = Path(os.environ.get("EDDY_BIN", ROOT / "eddy"))

pytestmark = [
    pytest.mark.skipif(not (DATASETS / "elec2.csv").exists(), reason=f"no {DATASETS}/elec2.csv"),
    pytest.mark.skipif(not EDDY.exists(), reason=f"no eddy binary at {EDDY} (run make)"),
]


def _read(name, target, nominal=(), limit=None):
    with open(DATASETS / name, newline="") as f:
        rows = list(csv.DictReader(f))[:limit]
    out = []
    for r in rows:
        y = r.pop(target)
        x = {k: (v if k in nominal else float(v)) for k, v in r.items()}
        out.append((x, y))
    return out


def _sorted_csv(tmp_path, rows, target):
    """The rows with their columns in name order, then the target."""
    cols = sorted(rows[0][0])
    path = tmp_path / "stream.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(cols + [target])
        for x, y in rows:
            w.writerow([repr(x[c]) if isinstance(x[c], float) else x[c] for c in cols] + [y])
    return path


def _sections(ck):
    """{tag: body} of an eddy checkpoint (core/checkpoint.h's framing)."""
    assert ck[:4] == b"EDDY"
    pos, out = 8, {}
    while pos < len(ck) - 4:
        tag, n = struct.unpack_from("<4sQ", ck, pos)
        out.setdefault(tag, ck[pos + 12:pos + 12 + n])
        pos += 12 + n
    return out


def _supports_save_model():
    out = subprocess.run([str(EDDY), "eval", "--help"], capture_output=True, text=True)
    return "--save-model" in out.stdout + out.stderr


def _eval(tmp_path, model, csv_path, target, task, nominal=(), extra=()):
    lines = ["[pipeline]", "name = parity", f"task = {task}", "", "[features]",
             f"target = {target}"]
    if nominal:
        lines.append("nominal = " + ", ".join(nominal))
    lines += ["", "[model]", f"learner = {model._learner}"]
    lines += [f"{k} = {v}" for k, v in model._eddy_params().items()]
    ini = tmp_path / "parity.ini"
    ini.write_text("\n".join(lines) + "\n")
    out = subprocess.run([str(EDDY), "eval", "-c", str(ini), "-i", str(csv_path), "-e", "0",
                          "-f", "jsonl", "-q", *extra], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


CLASSIFIERS = [
    er.HoeffdingTreeClassifier(),
    er.HoeffdingTreeClassifier(grace_period=50, split_criterion="gini", leaf_prediction="mc"),
    er.HoeffdingAdaptiveTreeClassifier(),
    er.ExtremelyFastDecisionTreeClassifier(),
    er.ExtremelyFastDecisionTreeClassifier(grace_period=50, reevaluation_period=500, split_criterion="gini"),
    er.GaussianNB(),
    er.SoftmaxRegression(standardize=True),
    er.OzaBag(n_models=5),
    er.OzaBoost(n_models=5),
    er.ADWINBagging(n_models=5),
    er.LeveragingBaggingClassifier(n_models=5),
    er.AdaptiveRandomForestClassifier(n_models=5),
    er.SRPClassifier(n_models=5),
]


@pytest.mark.parametrize("model", CLASSIFIERS, ids=lambda m: repr(m).split("(")[0].strip()
                         + ("-" + m.split_criterion if hasattr(m, "split_criterion") and
                            m.split_criterion != "info_gain" else ""))
def test_classifier_matches_engine(tmp_path, model):
    rows = _read("elec2.csv", "class", nominal=("day",))
    engine = _eval(tmp_path, model, _sorted_csv(tmp_path, rows, "class"), "class",
                   "classification", nominal=("day",))
    labels = engine["classes"]
    k = len(labels)
    confusion = [[0] * k for _ in range(k)]
    for x, y in rows:
        p = model.predict_one(x)
        if p is not None:  # eddy eval counts the first row's prediction as class 0
            confusion[labels.index(y)][labels.index(p)] += 1
        else:
            confusion[labels.index(y)][0] += 1
        model.learn_one(x, y)
    assert confusion == engine["confusion"]
    assert engine["instances"] == len(rows)


@pytest.mark.parametrize("model", [er.LogisticRegression(standardize=True),
                                   er.Perceptron(standardize=True),
                                   er.PAClassifier(standardize=True)],
                         ids=["LogisticRegression", "Perceptron", "PAClassifier"])
def test_binary_linear_matches_engine(tmp_path, model):
    # River's binary linear models learn booleans; eddy's class index 1
    # (the second label of the stream, DOWN here) is their positive class.
    rows = _read("elec2.csv", "class")
    engine = _eval(tmp_path, model, _sorted_csv(tmp_path, rows, "class"), "class",
                   "classification")
    labels = engine["classes"]
    confusion = [[0, 0], [0, 0]]
    for x, y in rows:
        t = y == labels[1]
        confusion[int(t)][int(model.predict_one(x))] += 1
        model.learn_one(x, t)
    assert confusion == engine["confusion"]


@pytest.mark.parametrize("model", [er.LinearRegression(standardize=True),
                                   er.PARegressor(standardize=True),
                                   er.HoeffdingTreeRegressor()],
                         ids=["LinearRegression", "PARegressor", "HoeffdingTreeRegressor"])
def test_regressor_matches_engine(tmp_path, model):
    if not (DATASETS / "winequality-red.csv").exists():
        pytest.skip("no winequality-red.csv")
    rows = _read("winequality-red.csv", "quality")
    engine = _eval(tmp_path, model, _sorted_csv(tmp_path, rows, "quality"), "quality",
                   "regression")
    abs_err = sq_err = 0.0
    for x, y in rows:
        e = model.predict_one(x) - float(y)
        abs_err += abs(e)
        sq_err += e * e
        model.learn_one(x, float(y))
    n = len(rows)
    # eddy eval prints 6 decimals
    assert math.isclose(abs_err / n, engine["mae"], abs_tol=1e-6)
    assert math.isclose(math.sqrt(sq_err / n), engine["rmse"], abs_tol=1e-6)


@pytest.mark.parametrize("model", [er.HoeffdingTreeClassifier(), er.HoeffdingAdaptiveTreeClassifier(),
                                   er.ADWINBagging(n_models=3)],
                         ids=["HoeffdingTreeClassifier", "HoeffdingAdaptiveTreeClassifier",
                              "ADWINBagging"])
def test_saved_model_is_the_engines_byte_for_byte(tmp_path, model):
    """`eddy eval --save-model` over the stream, and the same estimator after
    learn_one on every row: the learner sections are the same bytes, and
    eddy.load of the engine's file predicts as the estimator does."""
    if not _supports_save_model():
        pytest.skip("this eddy has no eval --save-model")
    import eddy

    rows = _read("elec2.csv", "class", nominal=("day",), limit=8000)
    saved = tmp_path / "engine.eddy"
    _eval(tmp_path, model, _sorted_csv(tmp_path, rows, "class"), "class", "classification",
          nominal=("day",), extra=("--save-model", str(saved)))
    for x, y in rows:
        model.predict_one(x)
        model.learn_one(x, y)
    engine = saved.read_bytes()
    assert _sections(engine)[b"LRNR"] == _sections(model.eddy_model.checkpoint())[b"LRNR"]
    loaded = eddy.load(saved)
    for x, _ in rows[:500]:
        assert loaded.predict_proba_one(x) == model.predict_proba_one(x)


def test_half_space_trees_scores_are_the_engines(tmp_path):
    """score_one then learn_one over a labelled anomaly stream (the label
    left out) gives the score of each prediction record of `eddy eval`."""
    gen = ROOT / "tests" / "integration" / "hst_river.py"
    data = tmp_path / "anomaly.csv"
    subprocess.run([sys.executable, str(gen), "gen", str(data), "3000", "7"], check=True)
    model = er.HalfSpaceTrees(n_trees=5, height=6, window_size=100, limits={"x4": (0, 100)},
                              seed=3)
    preds = tmp_path / "p.jsonl"
    ini = tmp_path / "hst.ini"
    ini.write_text("\n".join(["[pipeline]", "name = hst", "seed = 3", "", "[features]",
                              "numeric = x1, x2, x3, x4", "target = label",
                              "values.label = normal, anomaly", "", "[model]",
                              "learner = half_space_trees"]
                             + [f"{k} = {v}" for k, v in model._eddy_params().items()]) + "\n")
    subprocess.run([str(EDDY), "eval", "-c", str(ini), "-i", str(data), "-e", "0", "-q",
                    "--predictions", str(preds)], check=True, capture_output=True)
    engine = [json.loads(line)["score"] for line in open(preds)]
    with open(data, newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(engine) == len(rows) == 3000
    ours = []
    for r in rows:
        x = {k: float(r[k]) for k in ("x1", "x2", "x3", "x4")}
        ours.append(model.score_one(x))
        model.learn_one(x)
    assert ours[:100] == [0.0] * 100  # no full window yet
    assert len(set(ours)) > 100  # scores that move
    assert all(math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12) for a, b in zip(ours, engine))


def test_half_space_trees_loads_the_engines_checkpoint(tmp_path):
    """`eddy eval --save-model` of a labelled pipeline (a classification
    schema): eddy.load gives a HalfSpaceTrees scoring as one that learned
    the same records."""
    if not _supports_save_model():
        pytest.skip("this eddy has no eval --save-model")
    import eddy

    gen = ROOT / "tests" / "integration" / "hst_river.py"
    data = tmp_path / "anomaly.csv"
    subprocess.run([sys.executable, str(gen), "gen", str(data), "1000", "5"], check=True)
    saved = tmp_path / "hst.eddy"
    subprocess.run([str(EDDY), "eval", "-c", str(ROOT / "configs" / "anomaly-hst.ini"), "-i",
                    str(data), "-q", "--save-model", str(saved)], check=True, capture_output=True)
    with open(data, newline="") as f:
        xs = [{k: float(r[k]) for k in ("x1", "x2", "x3", "x4")} for r in csv.DictReader(f)]
    ref = er.HalfSpaceTrees(limits={"x4": (0, 100)}, seed=1)
    for x in xs:
        ref.learn_one(x)
    loaded = eddy.load(saved)
    assert type(loaded) is er.HalfSpaceTrees and loaded.limits == {"x4": (0.0, 100.0)}
    scores = [loaded.score_one(x) for x in xs[:300]]
    assert all(isinstance(s, float) and 0 <= s <= 1 for s in scores)
    assert scores == [ref.score_one(x) for x in xs[:300]]
