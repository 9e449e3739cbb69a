"""eddy's learners and drift detectors as River estimators.

Each class subclasses River's base class (Classifier, Regressor,
DriftDetector) and keeps one eddy model (``eddy._core.Model``: a schema and a
learner of the C core) that does the learning. Parameters are River's where
eddy has the same one, named as River names them, with eddy's defaults (MOA's
for the trees and ensembles), so that a model here predicts exactly as the
same learner in ``eddy run`` or ``eddy eval`` on the same stream.

Features: the schema is made from the first dict learned, in the order of the
features' names; a str value makes a nominal feature, a number a numeric one
(``nominal_attributes`` forces nominal). Features first seen after that are
ignored, as eddy's decoders ignore fields outside the schema; absent features
and None or NaN values are missing values.
"""
from __future__ import annotations

import math

from river import base

from . import _core

__all__ = [
    "HoeffdingTreeClassifier",
    "HoeffdingAdaptiveTreeClassifier",
    "ExtremelyFastDecisionTreeClassifier",
    "HoeffdingTreeRegressor",
    "GaussianNB",
    "LogisticRegression",
    "LinearRegression",
    "SoftmaxRegression",
    "Perceptron",
    "PAClassifier",
    "PARegressor",
    "OzaBag",
    "OzaBoost",
    "ADWINBagging",
    "LeveragingBaggingClassifier",
    "AdaptiveRandomForestClassifier",
    "ARFClassifier",
    "SRPClassifier",
    "StreamingRandomPatchesClassifier",
    "HalfSpaceTrees",
    "ADWIN",
    "DDM",
    "EDDM",
    "PageHinkley",
    "HDDM_A",
    "HDDM_W",
    "KSWIN",
]

MIB = 1024 * 1024


# --------------------------------------------------------------- conversions

def _b(v):
    return "true" if v else "false"


def _num(v):
    return repr(float(v)) if isinstance(v, float) else str(int(v))


def _depth(v):
    return "0" if v is None else str(int(v))


def _bytes(v):
    return str(int(float(v) * MIB))


def _inv_bool(s):
    return s in ("true", "yes", "on", "1")


def _inv_depth(s):
    return None if int(s) == 0 else int(s)


def _inv_mib(s):
    return float(s) / MIB


def _init(self, params: dict):
    """An __init__'s parameters (its locals()) become attributes, as River's
    get_params and clone expect, then the eddy model is built from them."""
    for name, value in params.items():
        if name != "self":
            setattr(self, name, value)
    self._build()


# (River name, eddy key, to eddy, from eddy)
_TREE = [
    ("grace_period", "grace_period", _num, int),
    ("max_depth", "max_depth", _depth, _inv_depth),
    ("split_criterion", "split_criterion", str, str),
    ("delta", "split_confidence", _num, float),
    ("tau", "tie_threshold", _num, float),
    ("leaf_prediction", "leaf_prediction", str, str),
    ("nb_threshold", "nb_threshold", _num, int),
    ("n_split_points", "split_points", _num, int),
    ("binary_split", "binary_splits", _b, _inv_bool),
    ("min_branch_fraction", "min_branch_frac", _num, float),
    ("max_size", "max_byte_size", _bytes, _inv_mib),
    ("memory_estimate_period", "memory_estimate_period", _num, int),
    ("stop_mem_management", "stop_mem_management", _b, _inv_bool),
    ("merit_preprune", "no_preprune", lambda v: _b(not v), lambda s: not _inv_bool(s)),
]
_HAT = _TREE + [
    ("bootstrap_sampling", "bootstrap", lambda v: "moa" if v else "off", lambda s: s != "off"),
    ("adwin_delta", "adwin_delta", _num, float),
    ("switch_significance", "switch_significance", _num, float),
    ("drift_window_threshold", "drift_window_threshold", _num, int),
]
_TREE_REG = [
    ("grace_period", "grace_period", _num, int),
    ("max_depth", "max_depth", _depth, _inv_depth),
    ("delta", "split_confidence", _num, float),
    ("tau", "tie_threshold", _num, float),
    ("leaf_prediction", "leaf_prediction", str, str),
    ("model_selector_decay", "model_selector_decay", _num, float),
    ("learning_rate", "learning_rate", _num, float),
    ("min_samples_split", "min_samples_split", _num, int),
    ("bins", "bins", _num, int),
    ("binary_split", "binary_splits", _b, _inv_bool),
    ("max_size", "max_byte_size", _bytes, _inv_mib),
    ("memory_estimate_period", "memory_estimate_period", _num, int),
    ("stop_mem_management", "stop_mem_management", _b, _inv_bool),
    ("merit_preprune", "no_preprune", lambda v: _b(not v), lambda s: not _inv_bool(s)),
]
_LINEAR = [
    ("optimizer", "optimizer", str, str),
    ("learning_rate", "learning_rate", _num, float),
    ("l2", "l2", _num, float),
    ("l1", "l1", _num, float),
    ("intercept_lr", "intercept_lr", _num, float),
    ("clip_gradient", "clip_gradient", _num, float),
    ("standardize", "standardize", _b, _inv_bool),
]
_NB = [
    ("variance", "variance", str, str),
    ("var_smoothing", "var_smoothing", _num, float),
    ("laplace", "laplace", _num, float),
    ("moa_underflow", "moa_underflow", _b, _inv_bool),
]


# ---------------------------------------------------------------- the models

class _EddyModel:
    """What every eddy-backed estimator shares: its Model, made from the
    parameter table, pickled as an eddy checkpoint (see _core.Model)."""

    _learner = ""
    _task = "classification"
    _table: list = []
    _initial_classes: tuple = ()

    def _eddy_params(self) -> dict[str, str]:
        return {key: conv(getattr(self, name)) for name, key, conv, _ in self._table}

    def _eddy_seed(self) -> int:
        seed = getattr(self, "seed", None)
        return 1 if seed is None else int(seed)

    def _build(self):
        self._model = _core.Model(self._learner, self._task, self._eddy_params(), self._eddy_seed(),
                                  classes=list(self._initial_classes) or None)

    def learn_one(self, x, y, w: float = 1.0):
        self._model.learn_one(x, y, w)

    def learn_many(self, X, y):
        """Learns the rows of a pandas DataFrame in order (a learn_one each)."""
        learn = self._model.learn_one
        for x, yi in zip(_rows(X), y):
            learn(x, yi)

    def save(self, path):
        """Writes the model as an eddy checkpoint file (eddy.load reads it)."""
        ck = self._model.checkpoint()
        if ck is None:
            raise ValueError("the model has learned nothing yet: nothing to save")
        with open(path, "wb") as f:
            f.write(ck)

    def describe(self) -> str:
        """The learner's own description (a tree's splits, an ensemble's members)."""
        return self._model.describe()

    def feature_importances(self):
        """Trees and forests: {feature: importance}, the mean decrease in
        impurity normalised to sum 1, most important first (eddy's README,
        "Feature importance"); None for other learners or before any
        learning."""
        e = self.export()
        if e is None or e.get("importance") is None:
            return None
        return {f["name"]: f["importance"] for f in e["importance"]}

    def export(self):
        """The model as eddy's documented JSON export (trees' nodes and splits,
        linear weights by feature, ensembles' members), parsed; None before
        any learning."""
        import json

        text = self._model.export()
        return None if text is None else json.loads(text)

    @property
    def eddy_model(self):
        """The underlying eddy._core.Model."""
        return self._model

    @classmethod
    def _from_eddy_params(cls, kv: dict[str, str]) -> dict:
        params = {}
        for name, key, _, inv in cls._table:
            if key in kv:
                params[name] = inv(kv[key])
        return params


def _rows(X):
    """DataFrame rows as dicts, NaN (pandas' missing value) left out."""
    cols = list(X.columns)
    for values in X.itertuples(index=False, name=None):
        yield {c: v for c, v in zip(cols, values) if not (isinstance(v, float) and math.isnan(v))}


class _Classifier(_EddyModel, base.MiniBatchClassifier):
    @property
    def _multiclass(self):
        return True

    def predict_proba_one(self, x):
        return self._model.predict_proba_one(x)

    def predict_one(self, x):
        return self._model.predict_one(x)

    def predict_proba_many(self, X):
        import pandas as pd

        probas = [self._model.predict_proba_one(x) for x in _rows(X)]
        labels = self._model.classes
        return pd.DataFrame([[p.get(c, 0.0) for c in labels] for p in probas],
                            columns=labels, index=X.index, dtype=float)

    def predict_many(self, X):
        import pandas as pd

        return pd.Series([self._model.predict_one(x) for x in _rows(X)], index=X.index,
                         dtype=object)


class _Regressor(_EddyModel, base.MiniBatchRegressor):
    _task = "regression"

    def predict_one(self, x):
        return self._model.predict_one(x)

    def predict_many(self, X):
        import pandas as pd

        return pd.Series([self._model.predict_one(x) for x in _rows(X)], index=X.index,
                         dtype=float)


class HoeffdingTreeClassifier(_Classifier):
    """Hoeffding tree classifier (VFDT), eddy's `hoeffding_tree` (MOA's HoeffdingTree).

    Parameters
    ----------
    grace_period
        Weight a leaf observes between split attempts.
    max_depth
        Leaves at this depth stop splitting (None: unlimited).
    split_criterion
        'info_gain' or 'gini'.
    delta
        Allowed error of a split decision (the Hoeffding bound's delta).
    tau
        Split anyway once the bound is below this (ties).
    leaf_prediction
        'mc' (majority class), 'nb' (naive Bayes) or 'nba' (naive Bayes adaptive).
    nb_threshold
        Weight a leaf needs before naive Bayes predicts.
    n_split_points
        Candidate split points of a numeric attribute (Gaussian observer).
    binary_split
        Only binary splits on nominal attributes.
    min_branch_fraction
        Info gain: fraction of weight at least two branches need.
    max_size
        Memory limit of the tree in MiB (MOA's 32 MiB by default).
    memory_estimate_period
        Weight between memory checks.
    stop_mem_management
        Stop growing when the limit is hit.
    merit_preprune
        Consider the null split (pre-pruning).
    """

    _learner = "hoeffding_tree"
    _table = _TREE

    def __init__(self, grace_period: int = 200, max_depth: int | None = None,
                 split_criterion: str = "info_gain", delta: float = 1e-7, tau: float = 0.05,
                 leaf_prediction: str = "nba", nb_threshold: int = 0, n_split_points: int = 10,
                 binary_split: bool = False, min_branch_fraction: float = 0.01,
                 max_size: float = 32.0, memory_estimate_period: int = 1000000,
                 stop_mem_management: bool = False, merit_preprune: bool = True):
        _init(self, locals())


class HoeffdingAdaptiveTreeClassifier(_Classifier):
    """Hoeffding adaptive tree, eddy's `hoeffding_adaptive_tree` (MOA's HoeffdingAdaptiveTree).

    Parameters
    ----------
    grace_period, max_depth, split_criterion, delta, tau, leaf_prediction, nb_threshold,
    n_split_points, binary_split, min_branch_fraction, max_size, memory_estimate_period,
    stop_mem_management, merit_preprune
        As HoeffdingTreeClassifier's.
    bootstrap_sampling
        Poisson(1) weights on leaves (MOA's draws).
    adwin_delta
        Delta of each node's ADWIN error estimator.
    switch_significance
        Significance of the test that swaps in or prunes an alternate tree.
    drift_window_threshold
        Instances both error estimators need before the swap test.
    seed
        Seed of the learner's generator (None: 1, as MOA's -r).
    """

    _learner = "hoeffding_adaptive_tree"
    _table = _HAT

    def __init__(self, grace_period: int = 200, max_depth: int | None = None,
                 split_criterion: str = "info_gain", delta: float = 1e-7, tau: float = 0.05,
                 leaf_prediction: str = "nba", nb_threshold: int = 0, n_split_points: int = 10,
                 binary_split: bool = False, min_branch_fraction: float = 0.01,
                 max_size: float = 32.0, memory_estimate_period: int = 1000000,
                 stop_mem_management: bool = False, merit_preprune: bool = True,
                 bootstrap_sampling: bool = True, adwin_delta: float = 0.002,
                 switch_significance: float = 0.05, drift_window_threshold: int = 300,
                 seed: int | None = None):
        _init(self, locals())


class ExtremelyFastDecisionTreeClassifier(_Classifier):
    """Extremely fast decision tree (Manapragada et al. 2018), eddy's `efdt`
    (MOA's trees.EFDT, prediction for prediction): a leaf splits once its best
    attribute beats no split, and split nodes are re-evaluated and replaced.

    Parameters
    ----------
    grace_period, split_criterion, delta, tau, nb_threshold, n_split_points, binary_split,
    min_branch_fraction, merit_preprune
        As HoeffdingTreeClassifier's.
    leaf_prediction
        'nba' (naive Bayes adaptive, MOA's EFDT always), 'mc' or 'nb'.
    reevaluation_period
        Instances of the stream between split re-evaluations (MOA's -R; River's
        min_samples_reevaluate counts per node instead).
    """

    _learner = "efdt"
    _table = [row for row in _TREE if row[1] not in ("max_depth", "max_byte_size", "memory_estimate_period",
                                                     "stop_mem_management")] + [
        ("reevaluation_period", "reevaluation_period", _num, int)]

    def __init__(self, grace_period: int = 200, split_criterion: str = "info_gain", delta: float = 1e-7,
                 tau: float = 0.05, leaf_prediction: str = "nba", nb_threshold: int = 0,
                 n_split_points: int = 10, binary_split: bool = False, min_branch_fraction: float = 0.01,
                 merit_preprune: bool = True, reevaluation_period: int = 2000):
        _init(self, locals())


class HoeffdingTreeRegressor(_Regressor):
    """Hoeffding tree regressor, eddy's `hoeffding_tree_regressor` (River's).

    Parameters
    ----------
    grace_period
        Weight a leaf observes between split attempts.
    max_depth
        Leaves at this depth stop splitting (None: unlimited).
    delta
        Delta of the Hoeffding bound.
    tau
        Split anyway once the bound is below this.
    leaf_prediction
        'mean', 'model' (linear) or 'adaptive'.
    model_selector_decay
        Fading factor of the errors adaptive leaves compare.
    learning_rate
        SGD step of the leaf linear models.
    min_samples_split
        Weight every branch of a candidate split needs.
    bins
        Histogram bins per numeric attribute and leaf.
    binary_split
        Only binary splits on nominal attributes.
    max_size
        Memory limit in MiB.
    memory_estimate_period
        Weight between memory checks.
    stop_mem_management
        Stop growing when the limit is hit.
    merit_preprune
        Consider the null split.
    """

    _learner = "hoeffding_tree_regressor"
    _table = _TREE_REG

    def __init__(self, grace_period: int = 200, max_depth: int | None = None,
                 delta: float = 1e-7, tau: float = 0.05, leaf_prediction: str = "adaptive",
                 model_selector_decay: float = 0.95, learning_rate: float = 0.05,
                 min_samples_split: int = 5, bins: int = 32, binary_split: bool = False,
                 max_size: float = 32.0, memory_estimate_period: int = 1000000,
                 stop_mem_management: bool = False, merit_preprune: bool = True):
        _init(self, locals())


class GaussianNB(_Classifier):
    """Naive Bayes, eddy's `naive_bayes`: Gaussians for numeric features, counts for
    nominal ones (MOA's NaiveBayes; River's GaussianNB on numeric features).

    Parameters
    ----------
    variance
        'sample' (MOA) or 'population' (scikit-learn).
    var_smoothing
        Added to every variance, times the largest variance (scikit-learn's 1e-9).
    laplace
        Pseudo-count of nominal values.
    moa_underflow
        Give classes whose product of densities underflows probability 0, as MOA does.
    """

    _learner = "naive_bayes"
    _table = _NB

    def __init__(self, variance: str = "sample", var_smoothing: float = 0.0,
                 laplace: float = 1.0, moa_underflow: bool = True):
        _init(self, locals())


def _linear_doc(head: str, rate: str = "The optimizer's rate.",
                standardize: str = "Standardize numeric features online.") -> str:
    """The docstring of a linear estimator: its head, then the parameters
    of _LINEAR that every one of them takes."""
    return head + """

    Parameters
    ----------
    optimizer
        'sgd', 'adagrad', 'rmsprop', 'adam', 'ftrl' or 'vw'.
    learning_rate
        %s
    l2
        L2 penalty.
    l1
        L1 penalty.
    intercept_lr
        The intercept's SGD rate.
    clip_gradient
        Clips the loss derivative.
    standardize
        %s
    """ % (rate, standardize)


class _BinaryLinear(_Classifier):
    """River's binary linear classifiers: bool labels, True the positive class."""

    # eddy's class index 1 is the positive class: False and True are
    # registered first, in that order
    _initial_classes = (False, True)

    @property
    def _multiclass(self):
        return False

    def learn_one(self, x, y, w: float = 1.0):
        self._model.learn_one(x, bool(y), w)

    def learn_many(self, X, y):
        learn = self._model.learn_one
        for x, yi in zip(_rows(X), y):
            learn(x, bool(yi))

    def predict_proba_one(self, x):
        # before any learning, the model's sigmoid(0)
        return self._model.predict_proba_one(x) or {False: 0.5, True: 0.5}

    def predict_one(self, x):
        # the first largest, as eddy: False on a tie and before any learning
        y = self._model.predict_one(x)
        return False if y is None else y


class LogisticRegression(_BinaryLinear):
    _learner = "logistic_regression"
    _table = _LINEAR

    def __init__(self, optimizer: str = "sgd", learning_rate: float = 0.01, l2: float = 0.0,
                 l1: float = 0.0, intercept_lr: float = 0.01, clip_gradient: float = 1e12,
                 standardize: bool = False):
        _init(self, locals())


class Perceptron(_BinaryLinear):
    _learner = "perceptron"
    _table = _LINEAR

    def __init__(self, optimizer: str = "sgd", learning_rate: float = 1.0, l2: float = 0.0,
                 l1: float = 0.0, intercept_lr: float = 1.0, clip_gradient: float = 1e12,
                 standardize: bool = False):
        _init(self, locals())


_PA_MODES = ("pa", "pa1", "pa2")
_PA = [
    ("C", "c", _num, float),
    ("mode", "mode", lambda v: _PA_MODES[int(v)], _PA_MODES.index),
    ("learn_intercept", "intercept", _b, _inv_bool),
    ("standardize", "standardize", _b, _inv_bool),
]


class PAClassifier(_BinaryLinear):
    """Passive-aggressive classifier (Crammer et al. 2006), eddy's `passive_aggressive`
    (River's PAClassifier).

    Parameters
    ----------
    C
        Aggressiveness: the largest step (PA-I), the slack cost (PA-II).
    mode
        0 (PA), 1 (PA-I) or 2 (PA-II).
    learn_intercept
        Learn an intercept.
    standardize
        Standardize numeric features online.
    """

    _learner = "passive_aggressive"
    _table = _PA

    def __init__(self, C: float = 1.0, mode: int = 1, learn_intercept: bool = True,
                 standardize: bool = False):
        _init(self, locals())


class PARegressor(_Regressor):
    """Passive-aggressive regressor, eddy's `passive_aggressive` (River's PARegressor).

    Parameters
    ----------
    C
        Aggressiveness.
    mode
        0 (PA), 1 (PA-I) or 2 (PA-II).
    eps
        The epsilon-insensitive margin.
    learn_intercept
        Learn an intercept.
    standardize
        Standardize numeric features online.
    """

    _learner = "passive_aggressive"
    _table = _PA + [("eps", "eps", _num, float)]

    def __init__(self, C: float = 1.0, mode: int = 1, eps: float = 0.1,
                 learn_intercept: bool = True, standardize: bool = False):
        _init(self, locals())


class SoftmaxRegression(_Classifier):
    _learner = "softmax_regression"
    _table = _LINEAR

    def __init__(self, optimizer: str = "sgd", learning_rate: float = 0.01, l2: float = 0.0,
                 l1: float = 0.0, intercept_lr: float = 0.01, clip_gradient: float = 1e12,
                 standardize: bool = False):
        _init(self, locals())


class LinearRegression(_Regressor):
    _learner = "linear_regression"
    _table = _LINEAR

    def __init__(self, optimizer: str = "sgd", learning_rate: float = 0.01, l2: float = 0.0,
                 l1: float = 0.0, intercept_lr: float = 0.01, clip_gradient: float = 1e12,
                 standardize: bool = False):
        _init(self, locals())


_RIVER_RATE = "The optimizer's rate (0: its River default)."
LogisticRegression.__doc__ = _linear_doc(
    "Binary logistic regression, eddy's `logistic_regression` (River's LogisticRegression).\n\n"
    "    Labels are booleans (True is the positive class), as River's.", rate=_RIVER_RATE,
    standardize="Standardize numeric features online (a River StandardScaler before the model).")
Perceptron.__doc__ = _linear_doc("Binary perceptron, eddy's `perceptron` (River's Perceptron).",
                                 rate="The optimizer's rate (River's and scikit-learn's 1).")
SoftmaxRegression.__doc__ = _linear_doc(
    "Multiclass logistic regression, eddy's `softmax_regression` (River's SoftmaxRegression).")
LinearRegression.__doc__ = _linear_doc(
    "Linear regression, eddy's `linear_regression` (River's LinearRegression).", rate=_RIVER_RATE)


# ---------------------------------------------------------------- ensembles

class _Ensemble(_Classifier):
    _table = []

    def _eddy_params(self):
        member = self.model if self.model is not None else HoeffdingTreeClassifier()
        if not isinstance(member, _EddyModel):
            raise TypeError("model must be an eddy.river estimator")
        kv = {"base_learner": member._learner, "ensemble_size": str(int(self.n_models)),
              "random": self.random}
        for k, v in member._eddy_params().items():
            kv["base." + k] = v
        return kv

    @classmethod
    def _from_eddy_params(cls, kv):
        params = {"n_models": int(kv.get("ensemble_size", 10)), "random": kv.get("random", "moa")}
        member = _BY_LEARNER.get(kv.get("base_learner", "hoeffding_tree"))
        if member is not None:
            sub = {k[5:]: v for k, v in kv.items() if k.startswith("base.")}
            params["model"] = member(**member._from_eddy_params(sub))
        return params

    @classmethod
    def _unit_test_params(cls):
        yield {"model": HoeffdingTreeClassifier(), "n_models": 3}


_ENSEMBLE_DOC = """

    Parameters
    ----------
    model
        The members' learner: an eddy.river estimator (None: HoeffdingTreeClassifier()).
    n_models
        Number of members.
    seed
        Seed of the Poisson weights (None: 1, MOA's default -r 1).
    random
        'moa' (java.util.Random draws in MOA's order: with tree members the predictions
        are MOA's, row for row) or 'eddy' (eddy's own generator).
    """


class OzaBag(_Ensemble):
    _learner = "oza_bag"

    def __init__(self, model: _Classifier | None = None, n_models: int = 10,
                 seed: int | None = None, random: str = "moa"):
        _init(self, locals())


class OzaBoost(_Ensemble):
    _learner = "oza_boost"

    def __init__(self, model: _Classifier | None = None, n_models: int = 10,
                 seed: int | None = None, random: str = "moa"):
        _init(self, locals())


class ADWINBagging(_Ensemble):
    _learner = "adwin_bagging"

    def __init__(self, model: _Classifier | None = None, n_models: int = 10,
                 seed: int | None = None, random: str = "moa"):
        _init(self, locals())


OzaBag.__doc__ = "Online bagging (Oza & Russell), eddy's `oza_bag` (MOA's OzaBag)." + _ENSEMBLE_DOC
OzaBoost.__doc__ = ("Online boosting (Oza & Russell), eddy's `oza_boost` (MOA's OzaBoost, "
                    "River's AdaBoostClassifier)." + _ENSEMBLE_DOC)
ADWINBagging.__doc__ = ("Online bagging with ADWIN per member, eddy's `adwin_bagging` "
                        "(MOA's OzaBagAdwin)." + _ENSEMBLE_DOC)

OzaBaggingClassifier = OzaBag
AdaBoostClassifier = OzaBoost
ADWINBaggingClassifier = ADWINBagging


# ------------------------------------------------------------------ forests

def _features(v):
    """River's max_features / subspace_size as eddy's (mode, m): an int is m
    itself, a float a fraction of the attributes (whole percents), 'sqrt'
    round(sqrt(M)) + 1 and 'rmsqrt' M - round(sqrt(M) + 1) (MOA's and River
    SRP's meanings)."""
    if v == "sqrt":
        return "sqrt_m1", "60"
    if v == "rmsqrt":
        return "m_sqrt_m1", "60"
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError(f"features: an int, a float, 'sqrt' or 'rmsqrt', not {v!r}")
    if isinstance(v, int):
        return "specified_m", str(v)
    pct = round(v * 100)
    if abs(v * 100 - pct) > 1e-9:
        raise ValueError(f"features: {v!r} is not a whole percentage (eddy's m is an int)")
    return "percentage", str(pct)


def _inv_features(mode, m):
    return {"sqrt_m1": "sqrt", "m_sqrt_m1": "rmsqrt", "specified_m": int(m)}.get(
        mode, int(m) / 100)


# the trees of the forests (MOA's ARFHoeffdingTree defaults, see each class)
_FOREST_TREE = [
    ("grace_period", "grace_period", _num, int),
    ("delta", "split_confidence", _num, float),
    ("tau", "tie_threshold", _num, float),
    ("split_criterion", "split_criterion", str, str),
    ("n_split_points", "split_points", _num, int),
    ("binary_split", "binary_splits", _b, _inv_bool),
    ("leaf_prediction", "leaf_prediction", str, str),
    ("nb_threshold", "nb_threshold", _num, int),
    ("min_branch_fraction", "min_branch_frac", _num, float),
    ("max_size", "max_byte_size", _bytes, _inv_mib),
    ("memory_estimate_period", "memory_estimate_period", _num, int),
    ("merit_preprune", "no_preprune", lambda v: _b(not v), lambda s: not _inv_bool(s)),
]
_ARF = [
    ("n_models", "ensemble_size", _num, int),
    ("lambda_value", "lambda", _num, float),
    ("disable_weighted_vote", "weighted_vote", lambda v: _b(not v), lambda s: not _inv_bool(s)),
    ("drift_delta", "drift_delta", _num, float),
    ("warning_delta", "warning_delta", _num, float),
    ("drift_detection", "drift_detection", _b, _inv_bool),
    ("background_learner", "background_learner", _b, _inv_bool),
    ("max_depth", "max_depth", _depth, _inv_depth),
    ("stop_mem_management", "stop_mem_management", _b, _inv_bool),
    ("random", "random", str, str),
] + _FOREST_TREE
_SRP_TRAINING = {"patches": "random_patches", "subspaces": "random_subspaces",
                 "resampling": "resampling"}
_SRP_DISABLE = {"off": ("true", "true"), "drift": ("false", "true"), "warning": ("true", "false")}
_SRP = [
    ("n_models", "ensemble_size", _num, int),
    ("training_method", "training_method", lambda v: _SRP_TRAINING[v],
     lambda s: {e: r for r, e in _SRP_TRAINING.items()}[s]),
    ("lam", "lambda", _num, float),
    ("disable_weighted_vote", "weighted_vote", lambda v: _b(not v), lambda s: not _inv_bool(s)),
    ("drift_delta", "drift_delta", _num, float),
    ("warning_delta", "warning_delta", _num, float),
] + _FOREST_TREE


class _Forest(_Classifier):
    """A forest of eddy's own trees: the tree parameters are the forest's."""

    _features_param = ""

    def _eddy_params(self):
        kv = super()._eddy_params()
        mode, m = _features(getattr(self, self._features_param))
        kv[self._features_key[0]], kv[self._features_key[1]] = mode, m
        return kv

    @classmethod
    def _from_eddy_params(cls, kv):
        params = super()._from_eddy_params(kv)
        mk, nk = cls._features_key
        if mk in kv and nk in kv:
            params[cls._features_param] = _inv_features(kv[mk], kv[nk])
        return params

    @classmethod
    def _unit_test_params(cls):
        yield {"n_models": 5}


class AdaptiveRandomForestClassifier(_Forest):
    """Adaptive random forest (Gomes et al. 2017), eddy's `adaptive_random_forest`
    (MOA's AdaptiveRandomForest; River's forest.ARFClassifier names, MOA's defaults).

    Parameters
    ----------
    n_models
        Number of trees.
    max_features
        Attributes each leaf considers for its splits: an int m, a float (a fraction
        of the attributes, whole percents: MOA's 60% by default), 'sqrt'
        (round(sqrt(M)) + 1, MOA's) or 'rmsqrt' (M - round(sqrt(M) + 1)).
    lambda_value
        Lambda of the trees' Poisson weights.
    disable_weighted_vote
        Plain votes instead of votes weighted by each tree's accuracy.
    drift_delta
        Delta of each tree's ADWIN drift detector.
    warning_delta
        Delta of each tree's ADWIN warning detector (starts a background tree).
    drift_detection
        Reset (or replace) a tree when its drift detector fires.
    background_learner
        Warnings start background trees, which replace the trees on drift.
    grace_period, max_depth, split_criterion, delta, tau, leaf_prediction, nb_threshold,
    n_split_points, binary_split, min_branch_fraction, max_size, memory_estimate_period,
    stop_mem_management, merit_preprune
        The trees', as HoeffdingTreeClassifier's (MOA's ARFHoeffdingTree defaults:
        grace period 50, delta 0.01, 2,000,000 bytes per tree).
    seed
        Seed of the forest's generator (None: 1, as MOA's -r).
    random
        'moa' (java.util.Random draws in MOA's order) or 'eddy' (eddy's generator).
    """

    _learner = "adaptive_random_forest"
    _table = _ARF
    _features_param = "max_features"
    _features_key = ("features_mode", "features_per_tree")

    def __init__(self, n_models: int = 100, max_features: int | float | str = 0.6,
                 lambda_value: float = 6, disable_weighted_vote: bool = False,
                 drift_delta: float = 0.001, warning_delta: float = 0.01,
                 drift_detection: bool = True, background_learner: bool = True,
                 grace_period: int = 50, max_depth: int | None = None,
                 split_criterion: str = "info_gain", delta: float = 0.01, tau: float = 0.05,
                 leaf_prediction: str = "nba", nb_threshold: int = 0, n_split_points: int = 10,
                 binary_split: bool = False, min_branch_fraction: float = 0.01,
                 max_size: float = 2000000 / MIB, memory_estimate_period: int = 1000000,
                 stop_mem_management: bool = False, merit_preprune: bool = True,
                 seed: int | None = None, random: str = "moa"):
        _init(self, locals())


class SRPClassifier(_Forest):
    """Streaming random patches (Gomes et al. 2019), eddy's `streaming_random_patches`
    (MOA's StreamingRandomPatches; River's ensemble.SRPClassifier names, MOA's
    defaults). The members are eddy's Hoeffding trees, configured here.

    Parameters
    ----------
    n_models
        Number of trees.
    subspace_size
        Attributes per tree: an int m (negative: M - m), a float (a fraction of the
        attributes, whole percents), 'sqrt' (round(sqrt(M)) + 1) or 'rmsqrt'
        (M - round(sqrt(M) + 1)).
    training_method
        'patches' (subspaces and Poisson weights), 'subspaces' (weight 1) or
        'resampling' (every attribute, Poisson weights).
    lam
        Lambda of the Poisson weights.
    drift_delta
        Delta of each tree's ADWIN drift detector.
    warning_delta
        Delta of each tree's ADWIN warning detector.
    disable_detector
        'off' (both detectors), 'drift' (no drift or warning detection) or 'warning'
        (no background trees).
    disable_weighted_vote
        Plain votes instead of votes weighted by each tree's accuracy.
    grace_period, split_criterion, delta, tau, leaf_prediction, nb_threshold,
    n_split_points, binary_split, min_branch_fraction, max_size, memory_estimate_period,
    merit_preprune
        The trees', as HoeffdingTreeClassifier's (MOA's: grace period 50, delta 0.01).
    seed
        Seed of the ensemble's generator (None: 1, as MOA's -r).
    """

    _learner = "streaming_random_patches"
    _table = _SRP
    _features_param = "subspace_size"
    _features_key = ("subspace_mode", "subspace_size")

    def __init__(self, n_models: int = 100, subspace_size: int | float | str = 0.6,
                 training_method: str = "patches", lam: float = 6,
                 drift_delta: float = 0.00001, warning_delta: float = 0.0001,
                 disable_detector: str = "off", disable_weighted_vote: bool = False,
                 grace_period: int = 50, split_criterion: str = "info_gain", delta: float = 0.01,
                 tau: float = 0.05, leaf_prediction: str = "nba", nb_threshold: int = 0,
                 n_split_points: int = 10, binary_split: bool = False,
                 min_branch_fraction: float = 0.01, max_size: float = 32.0,
                 memory_estimate_period: int = 1000000, merit_preprune: bool = True,
                 seed: int | None = None):
        _init(self, locals())

    def _eddy_params(self):
        kv = super()._eddy_params()
        if self.disable_detector not in _SRP_DISABLE:
            raise ValueError("disable_detector: 'off', 'drift' or 'warning'")
        kv["drift_detection"], kv["background_learner"] = _SRP_DISABLE[self.disable_detector]
        return kv

    @classmethod
    def _from_eddy_params(cls, kv):
        params = super()._from_eddy_params(kv)
        dd = kv.get("drift_detection", "true"), kv.get("background_learner", "true")
        params["disable_detector"] = "drift" if not _inv_bool(dd[0]) else \
            "warning" if not _inv_bool(dd[1]) else "off"
        return params


_LEVBAG_METHODS = {"bag": "leveraging_bag", "me": "leveraging_bag_me",
                   "half": "leveraging_bag_half", "wt": "leveraging_bag_wt",
                   "subag": "leveraging_subag"}
_LEVBAG = [
    ("w", "weight_shrink", _num, float),
    ("adwin_delta", "adwin_delta", _num, float),
    ("bagging_method", "algorithm", lambda v: _LEVBAG_METHODS[v],
     lambda s: {e: r for r, e in _LEVBAG_METHODS.items()}[s]),
]


class LeveragingBaggingClassifier(_Ensemble):
    """Leveraging bagging (Bifet et al. 2010), eddy's `leveraging_bagging` (MOA's
    LeveragingBag; River's ensemble.LeveragingBaggingClassifier names).

    Parameters
    ----------
    model
        The members' learner: an eddy.river estimator (None: HoeffdingTreeClassifier()).
    n_models
        Number of members.
    w
        Lambda of the members' Poisson weights.
    adwin_delta
        Delta of each member's ADWIN on its errors.
    bagging_method
        'bag' (Poisson(w)), 'me' (weight 1 on errors, else 1 with probability e / (1 - e)),
        'half' (1 or 0, half each), 'wt' (1 + Poisson(1)) or 'subag' (1 when Poisson(1) > 0).
    seed
        Seed of the Poisson weights (None: 1, MOA's default -r 1).
    random
        'moa' (java.util.Random draws in MOA's order) or 'eddy' (eddy's own generator).
    """

    _learner = "leveraging_bagging"

    def __init__(self, model: _Classifier | None = None, n_models: int = 10, w: float = 6,
                 adwin_delta: float = 0.002, bagging_method: str = "bag",
                 seed: int | None = None, random: str = "moa"):
        _init(self, locals())

    def _eddy_params(self):
        kv = super()._eddy_params()
        if self.bagging_method not in _LEVBAG_METHODS:
            raise ValueError(f"bagging_method: one of {sorted(_LEVBAG_METHODS)}")
        kv.update({key: conv(getattr(self, name)) for name, key, conv, _ in _LEVBAG})
        return kv

    @classmethod
    def _from_eddy_params(cls, kv):
        params = super()._from_eddy_params(kv)
        params.update({name: inv(kv[key]) for name, key, _, inv in _LEVBAG if key in kv})
        return params


ARFClassifier = AdaptiveRandomForestClassifier
StreamingRandomPatchesClassifier = SRPClassifier


# ------------------------------------------------------------------ anomaly

class HalfSpaceTrees(_EddyModel, base.AnomalyDetector):
    """Half-space trees (Tan, Ting & Liu 2011), eddy's `half_space_trees` (River's
    anomaly.HalfSpaceTrees): learns every record, scores in [0, 1] (higher: more
    anomalous; 0 until the first window is full).

    Parameters
    ----------
    n_trees
        Number of trees.
    height
        Height of each tree.
    window_size
        Records per window: scores use the masses of the last full window.
    limits
        {feature: (lo, hi)}: a numeric feature's range (default [0, 1], as River's).
        Nominal features are not used.
    seed
        Seed of the trees' random splits (None: 1).
    """

    _learner = "half_space_trees"
    _task = "regression"  # the score is the learner's one output value
    _table = [("n_trees", "n_trees", _num, int), ("height", "height", _num, int),
              ("window_size", "window_size", _num, int)]

    def __init__(self, n_trees: int = 10, height: int = 8, window_size: int = 250,
                 limits: dict | None = None, seed: int | None = None):
        _init(self, locals())

    def _eddy_params(self):
        kv = super()._eddy_params()
        for name, (lo, hi) in (self.limits or {}).items():
            kv[f"limits.{name}"] = f"{_num(lo)}, {_num(hi)}"
        return kv

    @classmethod
    def _from_eddy_params(cls, kv):
        params = super()._from_eddy_params(kv)
        limits = {k[7:]: tuple(float(v) for v in s.split(",")) for k, s in kv.items()
                  if k.startswith("limits.")}
        if limits:
            params["limits"] = limits
        return params

    def learn_one(self, x):
        self._model.learn_one(x, 0.0)  # unsupervised: the learner ignores the value

    def score_one(self, x):
        return self._model.predict_one(x)


# ---------------------------------------------------------------- detectors

class _Detector(base.DriftAndWarningDetector):
    _name = ""
    _table: list = []

    def _build(self):
        params = {key: conv(getattr(self, name)) for name, key, conv in self._table}
        self._detector = _core.Detector(self._name, params)
        self._drift_detected = False
        self._warning_detected = False

    def update(self, x):
        s = self._detector.update(x)
        self._warning_detected = s == 1
        self._drift_detected = s == 2

    def _reset(self):
        super()._reset()
        self._detector.reset()

    @property
    def statistic(self):
        """(statistic, threshold) at the last update."""
        return self._detector.stat()


class ADWIN(_Detector):
    """ADWIN (Bifet & Gavalda 2007), eddy's `adwin` (MOA's ADWIN).

    Parameters
    ----------
    delta
        Confidence of a cut.
    clock
        Check for a cut every this many updates.
    direction
        Report a cut when the mean went 'up' (MOA), 'down' or 'both'.
    """

    _name = "adwin"
    _table = [("delta", "delta", _num), ("clock", "clock", _num), ("direction", "direction", str)]

    def __init__(self, delta: float = 0.002, clock: int = 32, direction: str = "up"):
        _init(self, locals())


class DDM(_Detector):
    """DDM (Gama et al. 2004), eddy's `ddm` (MOA's DDM).

    Parameters
    ----------
    warm_start
        Values seen before a warning or a drift can be reported.
    warning_threshold
        Warning when p + s > p_min + this * s_min.
    drift_threshold
        Drift when p + s > p_min + this * s_min.
    """

    _name = "ddm"
    _table = [("warm_start", "min_instances", _num), ("warning_threshold", "warning_level", _num),
              ("drift_threshold", "drift_level", _num)]

    def __init__(self, warm_start: int = 30, warning_threshold: float = 2.0,
                 drift_threshold: float = 3.0):
        _init(self, locals())


class EDDM(_Detector):
    """EDDM (Baena-Garcia et al. 2006), eddy's `eddm` (MOA's EDDM).

    Parameters
    ----------
    warm_start
        Values seen before the maximum is recorded.
    min_errors
        Errors seen before a warning or a drift can be reported.
    alpha
        Warning level.
    beta
        Drift level.
    """

    _name = "eddm"
    _table = [("warm_start", "min_instances", _num), ("min_errors", "min_errors", _num),
              ("alpha", "warning_level", _num), ("beta", "drift_level", _num)]

    def __init__(self, warm_start: int = 30, min_errors: int = 30, alpha: float = 0.95,
                 beta: float = 0.9):
        _init(self, locals())


class PageHinkley(_Detector):
    """Page-Hinkley test, eddy's `page_hinkley` (MOA's PageHinkleyDM).

    Parameters
    ----------
    min_instances
        Values seen before a drift can be reported.
    delta
        Magnitude of change tolerated per value.
    threshold
        Drift when the cumulative sum exceeds this.
    """

    _name = "page_hinkley"
    _table = [("min_instances", "min_instances", _num), ("delta", "delta", _num),
              ("threshold", "threshold", _num)]

    def __init__(self, min_instances: int = 30, delta: float = 0.005, threshold: float = 50.0):
        _init(self, locals())


class HDDM_A(_Detector):
    """HDDM_A (Frias-Blanco et al. 2015), eddy's `hddm_a` (MOA's).

    Parameters
    ----------
    drift_confidence
        Confidence of a drift.
    warning_confidence
        Confidence of a warning.
    two_sided
        A significant fall of the mean restarts the statistics.
    """

    _name = "hddm_a"
    _table = [("drift_confidence", "drift_confidence", _num),
              ("warning_confidence", "warning_confidence", _num), ("two_sided", "two_sided", _b)]

    def __init__(self, drift_confidence: float = 0.001, warning_confidence: float = 0.005,
                 two_sided: bool = True):
        _init(self, locals())


class HDDM_W(_Detector):
    """HDDM_W (Frias-Blanco et al. 2015), eddy's `hddm_w` (MOA's).

    Parameters
    ----------
    drift_confidence
        Confidence of a drift.
    warning_confidence
        Confidence of a warning.
    lambda_val
        Weight of the newest value in the EWMAs.
    two_sided
        A significant fall of the EWMA restarts the statistics.
    """

    _name = "hddm_w"
    _table = [("drift_confidence", "drift_confidence", _num),
              ("warning_confidence", "warning_confidence", _num), ("lambda_val", "lambda", _num),
              ("two_sided", "two_sided", _b)]

    def __init__(self, drift_confidence: float = 0.001, warning_confidence: float = 0.005,
                 lambda_val: float = 0.05, two_sided: bool = False):
        _init(self, locals())


class KSWIN(_Detector):
    """KSWIN (Raab et al. 2020), eddy's `kswin` (River's KSWIN).

    Parameters
    ----------
    alpha
        Drift when the KS p-value is at most this.
    window_size
        Values in the sliding window.
    stat_size
        Values in each of the two samples tested.
    """

    _name = "kswin"
    _table = [("alpha", "alpha", _num), ("window_size", "window_size", _num),
              ("stat_size", "stat_size", _num)]

    def __init__(self, alpha: float = 0.005, window_size: int = 100, stat_size: int = 30):
        _init(self, locals())


ESTIMATORS = [HoeffdingTreeClassifier, HoeffdingAdaptiveTreeClassifier, ExtremelyFastDecisionTreeClassifier,
              HoeffdingTreeRegressor,
              GaussianNB, LogisticRegression, LinearRegression, SoftmaxRegression, Perceptron,
              PAClassifier, PARegressor, OzaBag, OzaBoost, ADWINBagging,
              LeveragingBaggingClassifier, AdaptiveRandomForestClassifier, SRPClassifier,
              HalfSpaceTrees]
DETECTORS = [ADWIN, DDM, EDDM, PageHinkley, HDDM_A, HDDM_W, KSWIN]
# eddy.load's class for a learner (passive_aggressive: by the checkpoint's task)
_BY_LEARNER = {cls._learner: cls for cls in ESTIMATORS if cls is not PARegressor}
