"""A compiled prediction path for a fitted model: the same probabilities as ``predict_proba``, in ~1/50 of the time.

Why: one ``predict_proba`` of the champion (a temperature-calibrated soft vote of eight pipelines, two of them
ExtraTrees of 500 trees) costs ≈ 50 ms whatever the batch size. A profile shows where: ≈ 72 % is scikit-learn's
per-tree overhead (joblib dispatch, ``check_is_fitted``, warnings filters — 1,000 Python calls per prediction), ≈ 18 %
is ``PowerTransformer`` calling ``scipy.stats.yeojohnson`` once per column, the rest is repeated input validation.
None of it is arithmetic. Serving at 300 requests/s needs a few milliseconds per call.

How: :func:`compile_model` walks the fitted estimator once and turns each step into a plain numpy function that
performs the same floating-point operations as scikit-learn:

* forests: all trees flattened into one node table and traversed for every (row, tree) pair at once, comparing the
  float32-cast input to the float64 thresholds exactly as scikit-learn's Cython does;
* Yeo-Johnson: scipy's formulas, vectorised across columns; standardisation, imputation, capping, the derived
  features as in their ``transform``;
* linear models (logistic regression, LDA) as ``softmax(X @ coef.T + b)``; the soft vote as a mean; sigmoid
  (Platt) and temperature calibration as in ``sklearn.calibration``.

Steps it does not know (say an SVC, or a gradient-boosting model) keep calling their own fitted method, so every
model compiles; only known steps get faster. :func:`verified` compares the compiled path with ``predict_proba`` on
given rows and refuses it on any difference above ``1e-9``: never a different model, only a faster call.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from functools import singledispatch

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV, _CalibratedClassifier, _SigmoidCalibration
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier, VotingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import LabelEncoder, PowerTransformer, StandardScaler
from sklearn.svm import SVC
from sklearn.utils.extmath import softmax

from mer.model import derived
from mer.model.capping import IQRCapper
from mer.model.derived import DerivedFeatures
from mer.model.estimators import TunedCalibratedClassifier
from mer.schema import FEATURE_NAMES

Fn = Callable[[np.ndarray], np.ndarray]
TOLERANCE = 1e-9
_UNCOMPILED: ContextVar[list[str]] = ContextVar("uncompiled")


class FastModel:
    """``predict_proba`` of a compiled model: rows of the 50 features in schema order, as a float64 array."""

    def __init__(self, proba: Fn, classes: np.ndarray, source: object, not_compiled: list[str]):
        self._proba = proba
        self.classes_ = np.asarray(classes)
        self.source = source  # the fitted estimator it was compiled from
        self.not_compiled = not_compiled  # steps that run their own (validated, slower) scikit-learn method

    def predict_proba(self, X: np.ndarray | pd.DataFrame) -> np.ndarray:
        if isinstance(X, pd.DataFrame):
            X = X[list(FEATURE_NAMES)].to_numpy(dtype=float)
        X = np.ascontiguousarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != len(FEATURE_NAMES):
            raise ValueError(f"expected rows of {len(FEATURE_NAMES)} features, got shape {X.shape}")
        return self._proba(X)


def compile_model(model) -> FastModel:
    """The compiled prediction path of a fitted classifier whose input is the 50 schema features."""
    names = getattr(model, "feature_names_in_", None)
    if names is not None and tuple(names) != FEATURE_NAMES:
        raise ValueError("the model was fitted on other columns than mer.schema.FEATURE_NAMES (or in another order)")
    token = _UNCOMPILED.set([])
    try:
        proba = _proba(model)
        return FastModel(proba, model.classes_, model, _UNCOMPILED.get())
    finally:
        _UNCOMPILED.reset(token)


def max_difference(fast: FastModel, model, X: pd.DataFrame) -> float:
    """Largest absolute difference between the compiled and the original probabilities on ``X``."""
    frame = X[list(FEATURE_NAMES)].astype(float)
    return float(np.max(np.abs(fast.predict_proba(frame.to_numpy()) - model.predict_proba(frame)), initial=0.0))


def verified(model, X: pd.DataFrame, tolerance: float = TOLERANCE) -> FastModel:
    """:func:`compile_model`, checked on ``X``; raises ``ValueError`` when any probability differs by more."""
    fast = compile_model(model)
    diff = max_difference(fast, model, X)
    if not diff <= tolerance:
        raise ValueError(f"compiled model differs from predict_proba by {diff:.3g} (> {tolerance:g})")
    return fast


def probe_rows(n: int = 200, seed: int = 0) -> pd.DataFrame:
    """Random rows spread over (and a little beyond) each feature's plausible range, for :func:`verified`.

    Features whose plausible range starts at or above zero stay non-negative (a negative chromagram value, for one,
    makes the derived key features undefined).
    """
    from mer.schema import FEATURE_RANGES

    rng = np.random.default_rng(seed)
    lo = np.array([FEATURE_RANGES[f][0] for f in FEATURE_NAMES])
    hi = np.array([FEATURE_RANGES[f][1] for f in FEATURE_NAMES])
    span = hi - lo
    low = np.where(lo >= 0, np.maximum(lo - 0.1 * span, 0.0), lo - 0.1 * span)
    return pd.DataFrame(rng.uniform(low, hi + 0.1 * span, size=(n, len(lo))), columns=list(FEATURE_NAMES))


# --- classifiers: X -> probabilities ---------------------------------------------------------------------------------


@singledispatch
def _proba(est) -> Fn:
    """Fallback: the estimator's own (validated, slower) ``predict_proba``."""
    return _not_compiled(est, "predict_proba")


def _not_compiled(est, method: str) -> Fn:
    """``est.<method>`` as it is, noted in :attr:`FastModel.not_compiled` (for the tests and the logs)."""
    _UNCOMPILED.get().append(f"{type(est).__name__}.{method}")
    return getattr(est, method)


@_proba.register
def _(est: TunedCalibratedClassifier) -> Fn:
    return _proba(est.model_)


@_proba.register
def _(est: Pipeline) -> Fn:
    return _chain(est, _proba(est.steps[-1][1]))


def _chain(pipe: Pipeline, final: Fn) -> Fn:
    """The pipeline's transforms (compiled) followed by ``final`` on the last step."""
    steps = [_transform(step) for _, step in pipe.steps[:-1] if step is not None and step != "passthrough"]

    def run(X: np.ndarray) -> np.ndarray:
        for step in steps:
            X = step(X)
        return final(X)

    return run


@_proba.register
def _(est: VotingClassifier) -> Fn:
    """The soft vote's mean; members that start with :class:`DerivedFeatures` share one computation of it."""
    if est.voting != "soft" or est.weights is not None:
        return _not_compiled(est, "predict_proba")
    plain, on_derived = [], []
    for member in est.estimators_:
        if isinstance(member, Pipeline) and isinstance(member.steps[0][1], DerivedFeatures) and len(member) > 1:
            on_derived.append((len(plain) + len(on_derived), _proba(member[1:])))
        else:
            plain.append((len(plain) + len(on_derived), _proba(member)))

    def vote(X: np.ndarray) -> np.ndarray:
        probas: list[np.ndarray | None] = [None] * (len(plain) + len(on_derived))
        for k, member in plain:
            probas[k] = member(X)
        if on_derived:
            X_derived = with_derived(X)
            for k, member in on_derived:
                probas[k] = member(X_derived)
        return np.mean(np.asarray(probas), axis=0)

    return vote


@_proba.register
def _(est: CalibratedClassifierCV) -> Fn:
    if len(est.calibrated_classifiers_) != 1:  # ensemble=True: a mean over fold models — not compiled
        return _not_compiled(est, "predict_proba")
    return _calibrated(est.calibrated_classifiers_[0])


def _calibrated(cc: _CalibratedClassifier) -> Fn:
    """``_CalibratedClassifier.predict_proba`` for the multiclass sigmoid and temperature cases."""
    n_classes = len(cc.classes)
    if n_classes < 3 or len(cc.estimator.classes_) != n_classes:
        return _not_compiled(cc, "predict_proba")
    if cc.method == "temperature":
        # sklearn's _get_response_values prefers decision_function over predict_proba
        inner = _decision(cc.estimator) if hasattr(cc.estimator, "decision_function") else _proba(cc.estimator)
        beta = cc.calibrators[0].beta_

        def temperature(X: np.ndarray) -> np.ndarray:
            p = inner(X)
            # sklearn's _convert_to_logits: values become log-probabilities only when the whole batch looks like
            # probabilities; otherwise they are taken as logits already.
            looks_like_proba = np.all((p >= 0) & (p <= 1)) and np.all(np.isclose(p.sum(axis=1), 1.0))
            logits = np.log(p + 1e-12) if looks_like_proba else p
            return _clip_one(softmax(beta * logits))

        return temperature
    if cc.method == "sigmoid" and all(isinstance(c, _SigmoidCalibration) for c in cc.calibrators):
        decision = _decision(cc.estimator)
        columns = LabelEncoder().fit(cc.classes).transform(cc.estimator.classes_)
        a = np.array([c.a_ for c in cc.calibrators])
        b = np.array([c.b_ for c in cc.calibrators])

        def sigmoid(X: np.ndarray) -> np.ndarray:
            proba = np.zeros((len(X), n_classes))
            proba[:, columns] = expit(-(a * decision(X) + b))
            denominator = np.sum(proba, axis=1)[:, np.newaxis]
            uniform = np.full_like(proba, 1 / n_classes)
            return _clip_one(np.divide(proba, denominator, out=uniform, where=denominator != 0))

        return sigmoid
    return _not_compiled(cc, "predict_proba")


def _clip_one(proba: np.ndarray) -> np.ndarray:
    proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
    return proba


@_proba.register(LogisticRegression)
@_proba.register(LinearDiscriminantAnalysis)
def _(est) -> Fn:
    if len(est.classes_) <= 2:
        return _not_compiled(est, "predict_proba")
    decision = _decision(est)
    return lambda X: softmax(decision(X), copy=False)


@_proba.register(ExtraTreesClassifier)
@_proba.register(RandomForestClassifier)
def _(est) -> Fn:
    if est.n_outputs_ != 1:
        return _not_compiled(est, "predict_proba")
    return FlatForest(est).predict_proba


def _float32_at_most(threshold: np.ndarray) -> np.ndarray:
    """The largest float32 ≤ each float64 threshold: for a float32 ``x``, ``x <= t64`` exactly when ``x <= t32``."""
    t32 = threshold.astype(np.float32)
    return np.where(t32.astype(np.float64) > threshold, np.nextafter(t32, np.float32(-np.inf)), t32)


class FlatForest:
    """Every tree of a fitted forest in one node table, traversed for all (tree, row) pairs together.

    scikit-learn casts the input to float32 and compares it with float64 thresholds; storing each threshold as the
    largest float32 not above it gives the same comparisons in float32. Pairs that reached a leaf leave the active
    set, so the work follows the mean path length (≈ 9 here) rather than the deepest tree (≈ 22). Each leaf holds the
    tree's normalised class distribution, as ``DecisionTreeClassifier.predict_proba`` returns it.

    Numpy pays per (row, tree) step what Cython pays per tree, so from ``max_rows`` rows on (≈ the break-even point
    measured for 500 trees) the forest's own ``predict_proba`` is the faster way to the same numbers.
    """

    max_rows = 160

    def __init__(self, forest):
        self.forest = forest
        trees = [t.tree_ for t in forest.estimators_]
        n_classes = int(forest.n_classes_)
        offsets = np.cumsum([0] + [t.node_count for t in trees])[:-1]
        children, feature, threshold, leaf, value = [], [], [], [], []
        for off, t in zip(offsets, trees, strict=True):
            is_leaf = t.children_left == -1
            own = np.arange(t.node_count)
            # child of node n is children[2n + went_left]: right first, then left
            children.append(np.stack([np.where(is_leaf, own, t.children_right),
                                      np.where(is_leaf, own, t.children_left)], axis=1) + off)
            feature.append(np.where(is_leaf, 0, t.feature))
            threshold.append(np.where(is_leaf, np.inf, _float32_at_most(t.threshold)))
            leaf.append(is_leaf)
            v = t.value[:, 0, :n_classes].astype(np.float64)
            norm = v.sum(axis=1)[:, np.newaxis]
            norm[norm == 0.0] = 1.0
            value.append(v / norm)
        self.children = np.concatenate(children).astype(np.intp).ravel()
        self.feature = np.concatenate(feature).astype(np.intp)
        self.threshold = np.concatenate(threshold).astype(np.float32)
        self.is_leaf = np.concatenate(leaf)
        self.value = np.concatenate(value)
        self.roots = offsets.astype(np.intp)
        self.n_features = int(forest.n_features_in_)

    def leaves(self, X: np.ndarray) -> np.ndarray:
        """The leaf (global node id) each row reaches in each tree, shape (rows, trees)."""
        x = np.ascontiguousarray(X, dtype=np.float32).ravel()
        n, n_trees = len(X), len(self.roots)
        leaves = np.repeat(self.roots, n)  # pair p = tree * n + row: neighbouring pairs share a tree's nodes
        offset = np.tile(np.arange(n, dtype=np.intp) * self.n_features, n_trees)
        active = np.flatnonzero(~self.is_leaf[leaves])
        node, offset = leaves[active], offset[active]
        while active.size:
            went_left = x[offset + self.feature[node]] <= self.threshold[node]
            node = self.children[2 * node + went_left]
            leaves[active] = node
            inner = ~self.is_leaf[node]
            active, node, offset = active[inner], node[inner], offset[inner]
        return leaves.reshape(n_trees, n).T

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        if X.shape[1] != self.n_features:
            raise ValueError(f"forest expects {self.n_features} features, got {X.shape[1]}")
        if len(X) > self.max_rows:
            return self.forest.predict_proba(X)
        leaves = self.leaves(X)
        # summed over trees in tree order (a reduction over a non-contiguous axis adds one slice after the other,
        # as the forest's accumulator does), then divided by the number of trees
        return self.value[leaves].sum(axis=1) / leaves.shape[1]


@singledispatch
def _decision(est) -> Fn:
    """``decision_function`` of a fitted estimator; fallback: its own method."""
    return _not_compiled(est, "decision_function")


@_decision.register
def _(est: Pipeline) -> Fn:
    return _chain(est, _decision(est.steps[-1][1]))


@_decision.register(LogisticRegression)
@_decision.register(LinearDiscriminantAnalysis)
def _(est) -> Fn:
    if len(est.classes_) <= 2:
        return _not_compiled(est, "decision_function")
    coef_t, intercept = np.ascontiguousarray(est.coef_.T), est.intercept_
    return lambda X: X @ coef_t + intercept


@_decision.register
def _(est: SVC) -> Fn:
    if not (est.kernel == "rbf" and not est._sparse and len(est.classes_) > 2 and est.decision_function_shape == "ovr"):
        return _not_compiled(est, "decision_function")
    return RBFSVCDecision(est)


class RBFSVCDecision:
    """``SVC.decision_function`` (RBF kernel, one-vs-one pairs turned into one-vs-rest) in plain numpy.

    libsvm's layout: support vectors grouped by class; the pair (i, j) weighs the vectors of class i by
    ``dual_coef_[j - 1]`` and those of class j by ``dual_coef_[i]``; pairs in the order (0,1), (0,2), ... The
    one-vs-rest shape follows ``sklearn.utils.multiclass._ovr_decision_function``: votes plus squashed confidences.
    """

    def __init__(self, svc: SVC):
        k = len(svc.classes_)
        sv = np.asarray(svc.support_vectors_, dtype=np.float64)
        starts = np.concatenate([[0], np.cumsum(svc.n_support_)])
        pairs = [(i, j) for i in range(k) for j in range(i + 1, k)]
        weights = np.zeros((len(sv), len(pairs)))
        to_first = np.zeros((len(pairs), k))  # +1 where the pair's first class gets the vote or confidence
        to_second = np.zeros((len(pairs), k))
        for p, (i, j) in enumerate(pairs):
            weights[starts[i]:starts[i + 1], p] = svc.dual_coef_[j - 1, starts[i]:starts[i + 1]]
            weights[starts[j]:starts[j + 1], p] = svc.dual_coef_[i, starts[j]:starts[j + 1]]
            to_first[p, i] = to_second[p, j] = 1.0
        self.sv, self.sv_sq = sv, np.einsum("ij,ij->i", sv, sv)
        self.gamma = float(svc._gamma)
        self.weights, self.intercept = weights, np.asarray(svc.intercept_, dtype=np.float64)
        self.to_first, self.to_second = to_first, to_second

    def __call__(self, X: np.ndarray) -> np.ndarray:
        sq = np.einsum("ij,ij->i", X, X)[:, np.newaxis] + self.sv_sq - 2.0 * (X @ self.sv.T)
        dec = np.exp(-self.gamma * np.maximum(sq, 0.0)) @ self.weights + self.intercept
        first_wins = (dec >= 0).astype(np.float64)
        votes = first_wins @ self.to_first + (1.0 - first_wins) @ self.to_second
        confidence = dec @ self.to_first - dec @ self.to_second  # sklearn: confidences are -dec
        return votes + confidence / (3 * (np.abs(confidence) + 1))


# --- transformers: X -> X' -------------------------------------------------------------------------------------------


@singledispatch
def _transform(est) -> Fn:
    """Fallback: the step's own ``transform``."""
    return _not_compiled(est, "transform")


@_transform.register
def _(est: SimpleImputer) -> Fn:
    stats = np.asarray(est.statistics_, dtype=float)
    if est.add_indicator or not np.all(np.isfinite(stats)) or not _is_nan(est.missing_values):
        return _not_compiled(est, "transform")
    return lambda X: np.where(np.isnan(X), stats, X)


def _is_nan(value) -> bool:
    return isinstance(value, float) and np.isnan(value)


@_transform.register
def _(est: IQRCapper) -> Fn:
    lower, upper = est.lower_, est.upper_
    return lambda X: np.clip(X, lower, upper)


@_transform.register
def _(est: DerivedFeatures) -> Fn:
    return with_derived


def with_derived(X: np.ndarray) -> np.ndarray:
    """``DerivedFeatures().transform(X)`` without its validation: the 50 columns followed by the derived ones."""
    return np.hstack([X, derived.derive(X)])


@_transform.register
def _(est: StandardScaler) -> Fn:
    mean = est.mean_ if est.with_mean else None
    scale = est.scale_ if est.with_std else None

    def standardise(X: np.ndarray) -> np.ndarray:
        X = X.copy()
        if mean is not None:
            X -= mean
        if scale is not None:
            X /= scale
        return X

    return standardise


@_transform.register
def _(est: PowerTransformer) -> Fn:
    if est.method != "yeo-johnson":
        return _not_compiled(est, "transform")
    lam = np.asarray(est.lambdas_, dtype=float)
    scaler = _transform(est._scaler) if est.standardize else None

    def power(X: np.ndarray) -> np.ndarray:
        out = yeo_johnson(X, lam)
        return scaler(out) if scaler is not None else out

    return power


def yeo_johnson(X: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """``scipy.stats.yeojohnson(X[:, j], lam[j])`` for every column j at once, with scipy's exact formulas."""
    eps = np.finfo(np.float64).eps
    pos = X >= 0
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        zero = np.abs(lam) < eps
        two = np.abs(lam - 2) <= eps
        log_pos = np.log1p(X)
        log_neg = np.log1p(-X)
        safe_lam = np.where(zero, 1.0, lam)
        safe_two = np.where(two, 1.0, 2 - lam)
        when_pos = np.where(zero, log_pos, np.expm1(lam * log_pos) / safe_lam)
        when_neg = np.where(two, -log_neg, -np.expm1((2 - lam) * log_neg) / safe_two)
    return np.where(pos, when_pos, when_neg)
