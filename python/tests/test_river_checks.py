"""River's own estimator checks (river.checks), one test per estimator and
check, for every eddy.river estimator and detector."""
import pytest
from river import checks

from eddy import river as er


def _cases():
    for cls in er.ESTIMATORS + er.DETECTORS:
        for params in cls._unit_test_params():
            model = cls(**params)
            for check in checks.yield_checks(model):
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
    River Estimators: their checks are the general ones above)."""
    for params in cls._unit_test_params():
        checks.check_estimator(cls(**params))
