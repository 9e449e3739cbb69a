"""Drift detectors give `eddy detect`'s warnings and drifts on the same
series; models survive pickling, save and eddy.load bit for bit; bad
checkpoints and parameters are refused with eddy's messages."""
import os
import pickle
import random
import subprocess
from pathlib import Path

import pytest
from river import datasets

import eddy
from eddy import river as er

ROOT = Path(__file__).resolve().parents[2]
EDDY = Path(os.environ.get("EDDY_BIN", ROOT / "eddy"))


def _series(seed=3, n=3000):
    rng = random.Random(seed)
    return [int(rng.random() < (0.2 if i < n // 2 else 0.6)) for i in range(n)]


DETECTORS = [er.ADWIN(), er.ADWIN(delta=0.05, direction="both"), er.DDM(), er.EDDM(),
             er.PageHinkley(threshold=20.0), er.HDDM_A(), er.HDDM_W(), er.KSWIN()]


@pytest.mark.skipif(not EDDY.exists(), reason=f"no eddy binary at {EDDY} (run make)")
@pytest.mark.parametrize("det", DETECTORS, ids=lambda d: repr(d).replace("\n", "").replace(" ", ""))
def test_detector_matches_eddy_detect(tmp_path, det):
    xs = _series()
    path = tmp_path / "series.txt"
    path.write_text("".join(f"{x}\n" for x in xs))
    args = [str(EDDY), "detect", det._name, "--input", str(path)]
    for name, key, conv in det._table:
        args += [f"--{key}", conv(getattr(det, name))]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout.split()
    expected = [(int(i), kind) for i, kind in zip(out[::2], out[1::2])]
    got = []
    for i, x in enumerate(xs):
        det.update(x)
        if det.warning_detected:
            got.append((i, "warning"))
        if det.drift_detected:
            got.append((i, "drift"))
    assert got == expected
    assert any(k == "drift" for _, k in got) or isinstance(det, (er.EDDM, er.KSWIN)), \
        "the series changes its mean: a drift is expected"


def test_detector_pickle_resumes_exactly():
    xs = _series(5)
    a = er.ADWIN()
    for x in xs[:1500]:
        a.update(x)
    b = pickle.loads(pickle.dumps(a))
    for x in xs[1500:]:
        a.update(x)
        b.update(x)
        assert a.drift_detected == b.drift_detected
        assert a.statistic == b.statistic


def _stream(n=1500):
    return list(datasets.Phishing().take(n))


@pytest.mark.parametrize("cls", [er.HoeffdingTreeClassifier, er.HoeffdingAdaptiveTreeClassifier,
                                 er.ExtremelyFastDecisionTreeClassifier,
                                 er.GaussianNB, er.OzaBag, er.OzaBoost, er.ADWINBagging])
def test_pickle_and_save_resume_bit_identical(tmp_path, cls):
    rows = _stream()
    m = cls()
    for x, y in rows[:1000]:
        m.learn_one(x, y)
    clone = pickle.loads(pickle.dumps(m))
    m.save(tmp_path / "model.eddy")
    loaded = eddy.load(tmp_path / "model.eddy")
    assert type(loaded) is cls
    # parameters read back from the checkpoint (seed None is eddy's seed 1,
    # an ensemble's model None its default tree)
    assert loaded._eddy_params() == m._eddy_params()
    assert loaded._eddy_seed() == m._eddy_seed()
    for x, y in rows[1000:]:
        p = m.predict_proba_one(x)
        assert clone.predict_proba_one(x) == p
        # eddy.load names classes as the checkpoint does: their text
        assert loaded.predict_proba_one(x) == {str(k): v for k, v in p.items()}
        m.learn_one(x, y)
        clone.learn_one(x, y)
        loaded.learn_one(x, str(y))
    assert clone.eddy_model.checkpoint() == m.eddy_model.checkpoint()


def test_load_refuses_a_corrupt_checkpoint(tmp_path):
    m = er.HoeffdingTreeClassifier()
    for x, y in _stream(300):
        m.learn_one(x, y)
    path = tmp_path / "model.eddy"
    m.save(path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(eddy.EddyError, match="CRC|corrupt|checksum"):
        eddy.load(path)


def test_save_before_learning_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="nothing"):
        er.HoeffdingTreeClassifier().save(tmp_path / "x")


def test_bad_parameters_fail_at_construction_with_eddys_message():
    with pytest.raises(eddy.EddyError, match="grace_period"):
        er.HoeffdingTreeClassifier(grace_period=0)
    with pytest.raises(eddy.EddyError, match="split_criterion"):
        er.HoeffdingTreeClassifier(split_criterion="hellinger")
    with pytest.raises(eddy.EddyError, match="delta"):
        er.ADWIN(delta=2.0)


def test_features_typed_by_value_and_late_features_ignored():
    m = er.HoeffdingTreeClassifier(grace_period=10)
    m.learn_one({"b": 1.0, "a": "red"}, "x")
    assert m.eddy_model.features == ["a", "b"]  # by name
    m.learn_one({"a": "blue", "b": 2.0, "c": 5.0}, "y")  # c came late: ignored
    assert m.eddy_model.features == ["a", "b"]
    with pytest.raises(TypeError, match="'b': expected a number"):
        m.learn_one({"a": "red", "b": "oops"}, "x")
    assert set(m.predict_proba_one({})) == {"x", "y"}  # every feature missing


def test_export_is_eddys_json():
    m = er.HoeffdingTreeClassifier(grace_period=50)
    assert m.export() is None
    for x, y in _stream(600):
        m.learn_one(x, y)
    e = m.export()
    assert e["type"] == "hoeffding_tree"
    assert e["params"]["grace_period"] == "50"
    assert e["model"]["weight_seen"] == 600
    leaves = [n for n in e["model"]["nodes"] if n["kind"] == "leaf"]
    assert sum(sum(n["class_weights"].values()) for n in leaves) == 600


def test_feature_importances_rank_the_concept_first():
    import random
    r = random.Random(3)
    m, nb = er.HoeffdingTreeClassifier(grace_period=50), er.GaussianNB()
    assert m.feature_importances() is None
    for _ in range(3000):
        x = {"a": r.random(), "b": r.random(), "c": r.random()}
        y = x["a"] > 0.5  # b and c are noise
        m.learn_one(x, y)
        nb.learn_one(x, y)
    imp = m.feature_importances()
    assert list(imp)[0] == "a" and imp["a"] > 0.9, imp
    assert abs(sum(imp.values()) - 1) < 1e-12
    assert "feature importance" in m.describe()
    assert nb.feature_importances() is None
