"""Honest evaluation: grouped stratified hold-out, repeated grouped CV, intervals, calibration error.

Every figure says its protocol. Fold-level scores from ``repeats × folds`` outer folds give the mean and a 95%
interval mean ± 1.96·sd/√n (as in ``shared/modeling-notes.md``; folds overlap, so the interval is optimistic —
the per-repeat means are reported beside it to show the split-seed spread).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, recall_score
from sklearn.model_selection import StratifiedGroupKFold

from mer.schema import CLASSES

Z95 = 1.96


def holdout_split(y: np.ndarray, groups: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (development, hold-out): stratified by class, duplicate groups kept on one side."""
    n_splits = max(2, round(1.0 / fraction))
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    dev, hold = next(splitter.split(np.zeros(len(y)), y, groups))
    return dev, hold


def reliability_table(proba: np.ndarray, y_true: np.ndarray, classes, n_bins: int = 10) -> list[dict]:
    """Per equal-width confidence bin: count, mean confidence, accuracy (the reliability diagram's points)."""
    proba = np.asarray(proba, dtype=float)
    conf = proba.max(axis=1)
    correct = np.asarray(classes)[proba.argmax(axis=1)] == np.asarray(y_true)
    bins = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    return [
        {"bin": b, "count": int((bins == b).sum()), "confidence": float(conf[bins == b].mean()),
         "accuracy": float(correct[bins == b].mean())}
        for b in range(n_bins) if (bins == b).any()
    ]


def expected_calibration_error(proba: np.ndarray, y_true: np.ndarray, classes, n_bins: int = 10) -> float:
    """Top-label ECE: Σ_b (n_b/n)·|accuracy_b − confidence_b| over the reliability table's bins."""
    table = reliability_table(proba, y_true, classes, n_bins)
    n = sum(r["count"] for r in table)
    return float(sum(r["count"] / n * abs(r["accuracy"] - r["confidence"]) for r in table))


def score(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """The headline figures of one prediction set, per-class F1 and recall in schema order."""
    labels = list(CLASSES)
    f1 = f1_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    rec = recall_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    out = {
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "weighted_f1": float(f1_score(y_true, y_pred, labels=labels, average="weighted", zero_division=0)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
    }
    out |= {f"f1_{c}": float(v) for c, v in zip(labels, f1, strict=True)}
    out |= {f"recall_{c}": float(v) for c, v in zip(labels, rec, strict=True)}
    out["class_f1_gap"] = float(f1.max() - f1.min())
    return out


@dataclass
class CVResult:
    """Fold scores and pooled out-of-fold predictions of a repeated grouped CV."""

    folds: list[dict[str, float]]
    repeat_of_fold: list[int]
    oof_proba: np.ndarray  # (repeats, n, classes), classes in ``classes`` order
    classes: np.ndarray
    y: np.ndarray
    n_splits: int
    n_repeats: int

    def summary(self) -> dict:
        """Mean, sd and 95% interval of every fold figure; ECE, confusion matrix, per-repeat macro-F1."""
        keys = self.folds[0].keys()
        out: dict = {"protocol": {
            "cv": f"{self.n_repeats} x {self.n_splits}-fold StratifiedGroupKFold (duplicates grouped)",
            "rows": int(len(self.y)), "folds": len(self.folds),
            "interval": "mean +/- 1.96*sd/sqrt(folds)",
        }}
        for k in keys:
            v = np.array([f[k] for f in self.folds])
            half = Z95 * v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else float("nan")
            out[k] = {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if len(v) > 1 else float("nan"),
                      "ci95": [float(v.mean() - half), float(v.mean() + half)]}
        reps = np.array(self.repeat_of_fold)
        out["macro_f1"]["per_repeat"] = [
            float(np.mean([f["macro_f1"] for f, r in zip(self.folds, reps, strict=True) if r == i]))
            for i in range(self.n_repeats)
        ]
        eces = [expected_calibration_error(p, self.y, self.classes) for p in self.oof_proba]
        out["ece"] = {"mean": float(np.mean(eces)), "per_repeat": [float(e) for e in eces]}
        pred = self.classes[self.oof_proba[0].argmax(axis=1)]
        out["confusion_matrix"] = {
            "labels": list(CLASSES),
            "counts_repeat_0": confusion_matrix(self.y, pred, labels=list(CLASSES)).tolist(),
        }
        return out


def _fit_fold(estimator, X, y, train, test, index: int):
    t0 = time.perf_counter()
    model = clone(estimator).fit(X.iloc[train], y[train])
    return index, model.predict_proba(X.iloc[test]), model.classes_, time.perf_counter() - t0


def repeated_grouped_cv(
    estimator, X, y, groups, n_splits: int = 10, n_repeats: int = 3, seed: int = 0, n_jobs: int = 1,
    progress: Callable[[float], None] | None = None,
) -> CVResult:
    """Fit a fresh clone of ``estimator`` (its search and calibration included) on each outer training part.

    Because tuning and every fitted preprocessing step live inside ``estimator``, nothing of a test fold is seen
    before it is scored. ``progress(seconds)`` is called as each fold finishes, with the seconds its fit took (in
    whatever order the workers finish them; the results are put back in fold order, so the figures do not depend on
    it).
    """
    y = np.asarray(y)
    splits = []
    for r in range(n_repeats):
        splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed + r)
        splits += [(r, tr, te) for tr, te in splitter.split(np.zeros(len(y)), y, groups)]
    jobs = (delayed(_fit_fold)(estimator, X, y, tr, te, i) for i, (_, tr, te) in enumerate(splits))
    results: list = [None] * len(splits)
    for index, proba, cls, seconds in Parallel(n_jobs=n_jobs, return_as="generator_unordered")(jobs):
        results[index] = (proba, cls)
        if progress:
            progress(seconds)
    classes = results[0][1]
    oof = np.full((n_repeats, len(y), len(classes)), np.nan)
    folds, reps = [], []
    for (r, _, te), (proba, cls) in zip(splits, results, strict=True):
        assert list(cls) == list(classes)
        oof[r, te] = proba
        folds.append(score(y[te], classes[proba.argmax(axis=1)]))
        reps.append(r)
    return CVResult(folds, reps, oof, np.asarray(classes), y, n_splits, n_repeats)
