"""River's own estimator checks (river.checks), one test per estimator and
check, for every eddy.river estimator and detector."""
import functools
import random

import pytest
from river import base, checks

from eddy import river as er


def _anomaly_stream(n):
    """River checks anomaly detectors on CreditCard, a download; this local
    stream has its shape (float features, a bool label, 2% anomalies): three
    Gaussian clusters in [0, 1]^3 and uniform outliers."""
    rng = random.Random(42)
    centers = [(0.25, 0.3, 0.7), (0.7, 0.65, 0.3), (0.5, 0.8, 0.5)]
    out = []
    for _ in range(n):
        if rng.random() < 0.02:
            x, y = [rng.random() for _ in range(3)], True
        else:
            c = rng.choice(centers)
            x, y = [min(1.0, max(0.0, rng.gauss(v, 0.06))) for v in c], False
        out.append(({f"x{i}": v for i, v in enumerate(x)}, y))
    return out


def _local(model, check):
    """check with a local dataset where River's would be downloaded."""
    if not isinstance(model, base.AnomalyDetector) or not hasattr(check, "keywords"):
        return check
    n = 10000 if check.__name__ == "check_bounded_memory_growth" else 1000
    local = functools.partial(check.func, dataset=_anomaly_stream(n))
    functools.update_wrapper(local, check.func)
    return local


def _cases():
    for cls in er.ESTIMATORS + er.DETECTORS:
        for params in cls._unit_test_params():
            model = cls(**params)
            for check in checks.yield_checks(model):
                check = _local(model, check)
                if check.__name__ in getattr(model, "_unit_test_skips", set)():
                    continue
                if cls in er.DETECTORS and check.__name__ == "check_tags":
                    continue  # _tags is an Estimator's; River's detectors have none either
                name = check.__name__
                ds = getattr(check, "keywords", {}).get("dataset")
                if ds is not None:
                    name += f"[{type(ds).__name__}]"
                yield pytest.param(model, check, id=f"{cls.__name__}-{name}")


@pytest.mark.parametrize("model,check", list(_cases()))
def test_check(model, check):
    check(model.clone())


@pytest.mark.parametrize("cls", er.ESTIMATORS, ids=lambda c: c.__name__)
def test_check_estimator(cls):
    """The entry point River documents, once per estimator (detectors are not
    River Estimators: their checks are the general ones above; an anomaly
    detector's dataset is a download, so its checks are the local ones above)."""
    if issubclass(cls, base.AnomalyDetector):
        pytest.skip("River checks anomaly detectors on CreditCard, a download: see test_check")
    for params in cls._unit_test_params():
        checks.check_estimator(cls(**params))
