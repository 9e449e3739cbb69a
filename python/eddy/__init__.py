"""eddy from Python: eddy's C learners and drift detectors with River's API
(eddy.river), and eddy checkpoints (eddy.load)."""
from __future__ import annotations

from . import _core, river
from ._core import EddyError

__all__ = ["EddyError", "load", "river"]
__version__ = _core.version


def load(path):
    """The estimator saved in an eddy checkpoint file: one written by an
    estimator's save(path), or a model checkpoint of `eddy run` (a replica's
    schema and learner). Its features and labels are the schema's names."""
    with open(path, "rb") as f:
        data = f.read()
    name, kv, task, seed = _core.checkpoint_learner(data)
    cls = river.PARegressor if (name, task) == ("passive_aggressive", "regression") \
        else river._BY_LEARNER.get(name)
    if cls is None:
        raise EddyError(f"{path}: learner '{name}' has no eddy.river class")
    if issubclass(cls, river.base.AnomalyDetector):
        task = cls._task  # the score is the one output, whatever the schema's task
    params = cls._from_eddy_params(kv)
    if "seed" in cls.__init__.__code__.co_varnames:
        params["seed"] = seed
    est = cls(**params)
    # the classes the schema holds, with the checkpoint's names
    est._model = _core.Model(name, task, kv, seed)
    est._model.load(data)
    return est
