"""Why a verdict: each of the 50 features' contribution to the probability of the predicted class (SHAP).

The explainer is model-agnostic: :class:`shap.PermutationExplainer` over the whole fitted pipeline's
``predict_proba`` (imputation, capping, scaling, the ensemble, temperature calibration — everything the verdict saw),
with an independent masker on a fixed background of 12 training clips (3 per mood, drawn once with seed 0 from the
de-duplicated UCI rows; ``explain_background.csv``). The base value is the mean probability of the class over those
clips; a permutation explanation is exactly additive, so ``base + Σ contributions`` equals the row's probability
(up to float rounding). One antithetic permutation pair (101 masked evaluations × 12 background rows per row) on the
compiled model (:mod:`mer.model.fast_predict`) keeps one explanation within a few hundred milliseconds on 2 cores.
"""

from __future__ import annotations

import threading
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from mer.schema import FEATURE_NAMES, plain_name

SEED = 0
MAX_EVALS = 2 * len(FEATURE_NAMES) + 1  # one forward + reverse permutation
_compiled: dict[int, tuple[object, object]] = {}
_lock = threading.Lock()


@cache
def background() -> np.ndarray:
    """The fixed background: 12 training clips (rows of the 50 features in schema order)."""
    with resources.files("mer.model").joinpath("explain_background.csv").open() as fh:
        frame = pd.read_csv(fh)
    return frame[list(FEATURE_NAMES)].to_numpy(dtype=float)


def _proba_fn(model: Any):
    """The fastest verified ``predict_proba`` on float rows: the served model's compiled path, else the estimator
    compiled here once (checked against ``predict_proba``), else the model's own method."""
    if getattr(model, "compiled", False):
        return model.predict_proba
    estimator = getattr(model, "model", model)
    key = id(estimator)
    with _lock:
        hit = _compiled.get(key)
        if hit is None or hit[0] is not estimator:
            from mer.model.fast_predict import probe_rows, verified

            try:
                fast = verified(estimator, probe_rows()).predict_proba
            except Exception:  # noqa: BLE001 — not compilable: the model's own (slower) method, same numbers
                fast = model.predict_proba
            hit = _compiled[key] = (estimator, fast)
    return hit[1]


def explain_rows(model: Any, X: np.ndarray, predicted: np.ndarray | list[int]) -> list[dict[str, Any]]:
    """One explanation per row of ``X`` (n, 50) for the class index ``predicted[i]`` (the model's class order):
    ``{"class", "probability", "base_value", "contributions": [{"feature", "plain", "value", "contribution"}]}``,
    contributions sorted by magnitude, largest first."""
    import shap

    X = np.asarray(X, dtype=float)
    classes = list(model.classes)
    predict = _proba_fn(model)
    masker = shap.maskers.Independent(background(), max_samples=len(background()))
    explainer = shap.PermutationExplainer(predict, masker, feature_names=list(FEATURE_NAMES), seed=SEED)
    out = []
    for x, k in zip(X, predicted, strict=True):
        exp = explainer(x[None, :], max_evals=MAX_EVALS, silent=True)
        values = np.asarray(exp.values)[0][:, int(k)]
        base = float(np.asarray(exp.base_values)[0][int(k)])
        order = np.argsort(-np.abs(values), kind="stable")
        out.append({
            "class": classes[int(k)],
            "probability": float(predict(x[None, :])[0, int(k)]),
            "base_value": base,
            "contributions": [{"feature": FEATURE_NAMES[j], "plain": plain_name(FEATURE_NAMES[j]),
                               "value": float(x[j]), "contribution": float(values[j])} for j in order],
        })
    return out
