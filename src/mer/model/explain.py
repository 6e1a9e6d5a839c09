"""Why a verdict: each of the 50 features' contribution to the probability of the predicted class (SHAP).

The explainer is model-agnostic: :class:`shap.PermutationExplainer` over the whole fitted pipeline's
``predict_proba`` (imputation, capping, scaling, the ensemble, temperature calibration — everything the verdict saw),
with an independent masker on a fixed background of :data:`BACKGROUND_ROWS` (4) training clips, one per mood (the
first rows of ``explain_background.csv``: 12 clips, 3 per mood, drawn once with seed 0 from the de-duplicated UCI
rows, interleaved by mood). The base value is the mean probability of the class over those clips; a permutation
explanation is exactly additive, so ``base + Σ contributions`` equals the row's probability (up to float rounding).

Cost: one antithetic permutation pair = 101 masked rows per background clip, so 404 model rows per explained row;
the champion costs ≈ 0.6 ms per row on the compiled path (two 500-tree forests), hence the small background
(``bench/explain_speed.py --background 4 8 12`` compares). One permutation pair is the least SHAP's permutation
explainer does: the contributions are an estimate of the Shapley values (exactly additive, not exactly symmetric).
"""

from __future__ import annotations

import threading
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mer.schema import FEATURE_NAMES, plain_name

SEED = 0
BACKGROUND_ROWS = 4  # the file's first rows: one clip per mood in turn (happy, sad, angry, relax, happy, ...)
MAX_EVALS = 2 * len(FEATURE_NAMES) + 1  # one forward + reverse permutation
_compiled: dict[int, tuple[object, object]] = {}
_lock = threading.Lock()


@cache
def background() -> np.ndarray:
    """The fixed background: :data:`BACKGROUND_ROWS` training clips (rows of the 50 features in schema order)."""
    with resources.files("mer.model").joinpath("explain_background.csv").open() as fh:
        frame = pd.read_csv(fh)
    return frame[list(FEATURE_NAMES)].to_numpy(dtype=float)[:BACKGROUND_ROWS]


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


def _explainer(predict):
    """SHAP's permutation explainer of ``predict`` against the fixed background (independent masker, fixed seed)."""
    import shap

    bg = background()
    return shap.PermutationExplainer(predict, shap.maskers.Independent(bg, max_samples=len(bg)),
                                     feature_names=list(FEATURE_NAMES), seed=SEED)


def explain_rows(model: Any, X: np.ndarray, predicted: np.ndarray | list[int]) -> list[dict[str, Any]]:
    """One explanation per row of ``X`` (n, 50) for the class index ``predicted[i]`` (the model's class order):
    ``{"class", "probability", "base_value", "contributions": [{"feature", "plain", "value", "contribution"}]}``,
    contributions sorted by magnitude, largest first."""
    X = np.asarray(X, dtype=float)
    classes = list(model.classes)
    predict = _proba_fn(model)
    explainer = _explainer(predict)
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


def global_importance(model: Any, X: np.ndarray) -> pd.DataFrame:
    """Mean |SHAP| of each feature (rows, schema order) for each class (columns, the model's class order) over the
    rows of ``X``: how much each feature moves each class's probability on typical input."""
    explainer = _explainer(_proba_fn(model))
    values = np.stack([np.asarray(explainer(x[None, :], max_evals=MAX_EVALS, silent=True).values)[0]
                       for x in np.asarray(X, dtype=float)])  # (rows, features, classes)
    table = pd.DataFrame(np.abs(values).mean(axis=0), index=list(FEATURE_NAMES), columns=list(model.classes))
    table.insert(0, "plain", [plain_name(f) for f in FEATURE_NAMES])
    table["mean"] = table[list(model.classes)].mean(axis=1)
    return table.sort_values("mean", ascending=False).rename_axis("feature")


def importance_rows(table: pd.DataFrame, labels: np.ndarray, per_class: int = 10, seed: int = SEED) -> np.ndarray:
    """A fixed sample of training rows for :func:`global_importance`: ``per_class`` rows of each class."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    idx = np.concatenate([rng.choice(np.flatnonzero(labels == c), min(per_class, int((labels == c).sum())),
                                     replace=False) for c in sorted(set(labels))])
    return table[list(FEATURE_NAMES)].to_numpy(dtype=float)[np.sort(idx)]


def importance_report(model: Any, X: np.ndarray, out_dir: str | Path, top: int = 20) -> list[Path]:
    """:func:`global_importance` as ``shap_importance.csv`` and ``shap_importance.png`` (the ``top`` features,
    one bar per class) in ``out_dir``; returns both paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    table = global_importance(model, X)
    csv = out_dir / "shap_importance.csv"
    table.to_csv(csv, float_format="%.6g")
    head = table.head(top).iloc[::-1]
    classes = list(model.classes)
    fig, ax = plt.subplots(figsize=(9, 0.32 * top + 1.5))
    left = np.zeros(len(head))
    for c in classes:
        ax.barh(head["plain"], head[c], left=left, label=c)
        left += head[c].to_numpy()
    ax.set_xlabel("mean |SHAP| on the class's probability (stacked over classes)")
    ax.set_title(f"Global feature importance, {len(X)} training rows (permutation SHAP)")
    ax.legend(loc="lower right")
    fig.tight_layout()
    png = out_dir / "shap_importance.png"
    fig.savefig(png, dpi=100)
    plt.close(fig)
    return [csv, png]


def log_importance(mlflow: Any, model: Any, params: dict, per_class: int = 10) -> None:
    """Log :func:`importance_report` to the active MLflow run (``explain/``): on ``per_class`` rows of each class of
    the cleaned training table (``data/interim/<train_on>_clean.csv``), else on the background clips. Never fails
    a registration: a problem is logged as a warning."""
    import logging
    import tempfile

    from mer.schema import LABEL_COLUMN
    from mer.scoring import Scorer

    try:
        from mer.pipeline import cleaned_path

        path = cleaned_path(params.get("data", {}).get("train_on", "uci"))
        if path.exists():
            table = pd.read_csv(path)
            rows = importance_rows(table, table[LABEL_COLUMN].to_numpy(), per_class)
        else:
            rows = background()
        with tempfile.TemporaryDirectory(prefix="mer-shap-") as folder:
            for artifact in importance_report(Scorer(model, "", "", ""), rows, folder):
                mlflow.log_artifact(str(artifact), artifact_path="explain")
    except Exception as exc:  # noqa: BLE001 — the report is an extra; the registration stands without it
        logging.getLogger("mer.model").warning("global SHAP importance not logged: %s: %s", type(exc).__name__, exc)
