"""Train and evaluate: grouped hold-out, repeated grouped CV of the whole estimator, gates, final fit.

Inputs are a cleaned table (``mer clean``); outputs are a saved model, ``reports/metrics.json``, plots and the
*processed* data state (hold-out and development rows after the imputer, capper and scaler fitted on the
development rows only), versioned by DVC.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import effective_n_jobs

from mer.data.cleaning import DUP_GROUP, duplicate_groups
from mer.model import plots
from mer.model.estimators import build_estimator
from mer.model.evaluation import holdout_split, reliability_table, repeated_grouped_cv, score
from mer.model.gates import evaluate_gates
from mer.schema import CLASSES, FEATURE_NAMES, LABEL_COLUMN


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


@dataclass
class TrainingTable:
    X: pd.DataFrame
    y: np.ndarray
    groups: np.ndarray
    collapsed_duplicates: int


def load_training_table(path: str | Path, dedupe: bool = True) -> TrainingTable:
    """A cleaned CSV as features, labels and duplicate groups; with ``dedupe`` one row per exact duplicate group.

    Rows without a label cannot be trained on and were already dropped (and reported) by cleaning.
    """
    table = pd.read_csv(path)
    missing = [c for c in (LABEL_COLUMN, *FEATURE_NAMES) if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: not a cleaned table, missing {missing[:3]}{'...' if len(missing) > 3 else ''}")
    table = table[table[LABEL_COLUMN].isin(CLASSES)].reset_index(drop=True)
    groups = table[DUP_GROUP].to_numpy() if DUP_GROUP in table else duplicate_groups(table[list(FEATURE_NAMES)])
    collapsed = 0
    if dedupe:
        keep = ~pd.Series(groups).duplicated().to_numpy()
        collapsed = int((~keep).sum())
        table, groups = table[keep].reset_index(drop=True), groups[keep]
    return TrainingTable(table[list(FEATURE_NAMES)].astype(float), table[LABEL_COLUMN].to_numpy(), groups, collapsed)


Progress = Callable[[int, int, str, float | None], None]  # (fits done, fits in all, what runs now, seconds left)


class _Clock:
    """Counts the fits of one training run and estimates the time left, for a :data:`Progress` callback.

    The estimate comes from the outer folds' own fit times (measured in the workers), not from the rate of
    completions, which misleads while ``n_jobs`` folds run at once and again when the two last fits run alone: the CV
    takes ``folds × mean fold time / parallel`` of wall time, and the hold-out and final models each take a fold's
    time scaled by their share of rows (a linear cost model; the grid search and calibration scale about so).
    """

    def __init__(self, progress: Progress | None, n_folds: int, parallel: int, fold_rows: float,
                 final_rows: tuple[int, int]):
        self.progress, self.n_folds, self.parallel = progress, n_folds, max(1, min(parallel, n_folds))
        self.scale = [r / max(fold_rows, 1.0) for r in final_rows]  # cost of the hold-out and final fits in folds
        self.total = n_folds + len(final_rows)
        self.fold_s: list[float] = []
        self.finished = 0
        self.stage_started = time.monotonic()
        self.cv_started = self.stage_started

    def _left(self) -> float | None:
        if not self.fold_s:
            return None
        fold = float(np.mean(self.fold_s))
        now = time.monotonic()
        if self.finished < self.n_folds:
            cv_left = max(0.0, self.n_folds * fold / self.parallel - (now - self.cv_started))
            return cv_left + sum(self.scale) * fold
        current = self.finished - self.n_folds  # 0: hold-out model running, 1: final model, 2: saving
        if current >= len(self.scale):
            return 0.0
        return max(0.0, self.scale[current] * fold - (now - self.stage_started)) + sum(self.scale[current + 1:]) * fold

    def now(self, doing: str) -> None:
        if self.progress:
            self.progress(self.finished, self.total, doing, self._left())

    def fold(self, seconds: float) -> None:
        self.fold_s.append(seconds)
        self.finished += 1
        self.stage_started = time.monotonic()
        self.now("cross-validation")

    def done(self, doing_next: str) -> None:
        self.finished += 1
        self.stage_started = time.monotonic()
        self.now(doing_next)


@dataclass
class TrainResult:
    metrics: dict
    model: object
    gates_passed: bool


def _processed_frame(pipeline, X: pd.DataFrame, y: np.ndarray) -> pd.DataFrame:
    """Rows after the fitted preprocessing steps (everything before the classifier)."""
    pre = pipeline[:-1]
    values = pre.transform(X)
    names = pre.get_feature_names_out() if hasattr(pre, "get_feature_names_out") else None
    out = pd.DataFrame(values, columns=names if names is not None and len(names) == values.shape[1] else None)
    out.insert(0, LABEL_COLUMN, y)
    return out


def train(
    clean_csv: str | Path,
    params: dict,
    model_dir: str | Path,
    reports_dir: str | Path,
    processed_dir: str | Path | None = None,
    progress: Progress | None = None,
    candidate: str | None = None,
) -> TrainResult:
    """Evaluate the configured estimator honestly, judge the gates, fit the final model and save everything.

    ``progress(done, total, doing, seconds_left)`` is called as training moves on: ``total`` model fits (the CV's
    outer folds, then the hold-out model and the final model), ``done`` of them finished, ``doing`` what runs now, and
    the estimated time left (None until a fold has finished; see :class:`_Clock`).
    """
    import mlflow.sklearn  # slow import: only when training
    from mlflow.models import infer_signature

    t0 = time.time()
    data = load_training_table(clean_csv, params["data"].get("dedupe_exact", True))
    split, cv = params["split"], params["cv"]
    dev, hold = holdout_split(data.y, data.groups, split["holdout_fraction"], split["seed"])
    refit_all = params["model"].get("refit_on_all_rows", True)
    n_jobs = cv.get("n_jobs", 1)
    steps = _Clock(progress, cv["folds"] * cv["repeats"], effective_n_jobs(n_jobs), len(dev) * (1 - 1 / cv["folds"]),
                   final_rows=(len(dev), len(data.y) if refit_all else len(dev)))
    steps.now("cross-validation")
    estimator = build_estimator(params["model"], candidate=candidate, seed=cv["seed"])
    Xd, yd = data.X.iloc[dev].reset_index(drop=True), data.y[dev]
    result = repeated_grouped_cv(
        estimator, Xd, yd, data.groups[dev], cv["folds"], cv["repeats"], cv["seed"], n_jobs, steps.fold,
    )
    summary = result.summary()
    steps.now("hold-out model")
    dev_model = build_estimator(params["model"], candidate=candidate, seed=cv["seed"]).fit(Xd, yd)
    steps.done("final model")
    Xh, yh = data.X.iloc[hold].reset_index(drop=True), data.y[hold]
    hold_proba = dev_model.predict_proba(Xh)
    holdout = score(yh, dev_model.classes_[hold_proba.argmax(axis=1)])
    gates = evaluate_gates(summary, holdout, len(hold), params["gates"])
    fairness_gap = summary["class_f1_gap"]["mean"]

    final = build_estimator(params["model"], candidate=candidate, seed=cv["seed"]).fit(
        data.X if refit_all else Xd, data.y if refit_all else yd
    )
    steps.done("saving")

    reports = Path(reports_dir)
    reports.mkdir(parents=True, exist_ok=True)
    rel = reliability_table(result.oof_proba[0], result.y, result.classes)
    plots.confusion_png(summary["confusion_matrix"]["counts_repeat_0"], reports / "confusion_matrix.png",
                        "Out-of-fold confusion (CV repeat 1)")
    plots.reliability_png(rel, summary["ece"]["mean"], reports / "reliability.png")
    plots.class_f1_png(summary, reports / "class_f1.png")

    if processed_dir is not None:
        processed = Path(processed_dir)
        processed.mkdir(parents=True, exist_ok=True)
        pipe = dev_model.fitted_pipeline()
        _processed_frame(pipe, Xd, yd).to_csv(processed / "development.csv", index=False)
        _processed_frame(pipe, Xh, yh).to_csv(processed / "holdout.csv", index=False)

    metrics = {
        "candidate": candidate or params["model"]["candidate"],
        "rows": {"used": int(len(data.y)), "collapsed_exact_duplicates": data.collapsed_duplicates,
                 "development": int(len(dev)), "holdout": int(len(hold))},
        "cv": summary,
        "holdout": holdout | {"protocol": f"{len(hold)}-row grouped stratified hold-out, model fit on the "
                                          f"{len(dev)} development rows, untouched by tuning"},
        "gates": [g.to_dict() for g in gates],
        "gates_passed": all(g.passed for g in gates),
        "fairness": {"class_f1_gap": fairness_gap, "goal_max_gap": params.get("fairness", {}).get("max_class_f1_gap"),
                     "meets_goal": fairness_gap <= params.get("fairness", {}).get("max_class_f1_gap", 1.0)},
        "final_model_rows": int(len(data.y) if refit_all else len(dev)),
        "train_seconds": round(time.time() - t0, 1),
    }
    with open(reports / "metrics.json", "w", encoding="utf-8") as fh:
        json.dump(metrics, fh, indent=2)
        fh.write("\n")

    model_dir = Path(model_dir)
    if model_dir.exists():
        import shutil

        shutil.rmtree(model_dir)
    example = data.X.iloc[:3]
    mlflow.sklearn.save_model(
        final, str(model_dir), serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
        signature=infer_signature(example, final.predict_proba(example)), input_example=example,
        pip_requirements=_requirements(), pyfunc_predict_fn="predict_proba",
    )
    return TrainResult(metrics, final, metrics["gates_passed"])


def _requirements() -> list[str]:
    """Pinned runtime requirements of the saved model (inferring them costs MLflow ~8 s)."""
    from importlib.metadata import version

    return [f"{p}=={version(p)}" for p in ("scikit-learn", "numpy", "scipy", "pandas", "cloudpickle")]
