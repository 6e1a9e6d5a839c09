"""Probabilities → label, confidence, accept/review, top-2; windows → one track verdict.

The one place the decision rule lives: the CLI, the API and batch scoring all call these functions, configured by
the ``decision`` section of ``params.yaml``. A clip is accepted when its top probability reaches the threshold;
otherwise its top two classes go to a human review queue.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from mer.schema import CLASSES

ACCEPT_THRESHOLD = 0.75
PROBA_COLUMNS: tuple[str, ...] = tuple(f"p_{c}" for c in CLASSES)
DECISION_COLUMNS: tuple[str, ...] = (*PROBA_COLUMNS, "label", "confidence", "decision", "top2")


def to_schema_order(proba: np.ndarray, classes: Sequence[str]) -> np.ndarray:
    """Reorder probability columns from a model's ``classes_`` order to :data:`mer.schema.CLASSES` order."""
    proba = np.asarray(proba, dtype=float)
    if proba.ndim != 2 or proba.shape[1] != len(classes):
        raise ValueError(f"probabilities of shape {proba.shape} do not match {len(classes)} classes")
    missing = set(CLASSES) - set(classes)
    if missing:
        raise ValueError(f"model lacks classes {sorted(missing)}")
    order = [list(classes).index(c) for c in CLASSES]
    return proba[:, order]


def decide(
    proba: np.ndarray, classes: Sequence[str] = CLASSES, threshold: float = ACCEPT_THRESHOLD
) -> pd.DataFrame:
    """One row per clip: ``p_<class>`` in schema order, label, confidence, ``accept``/``review`` and ``top2``.

    ``top2`` is ``"first|second"`` (most probable first) for every row, so the review queue can show both.
    """
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"accept threshold {threshold} is not in [0, 1]")
    p = to_schema_order(proba, classes)
    ranked = np.argsort(-p, axis=1, kind="stable")
    names = np.asarray(CLASSES, dtype=object)
    confidence = p[np.arange(len(p)), ranked[:, 0]] if len(p) else np.zeros(0)
    out = pd.DataFrame(p, columns=list(PROBA_COLUMNS))
    out["label"] = names[ranked[:, 0]] if len(p) else []
    out["confidence"] = confidence
    out["decision"] = np.where(confidence >= threshold, "accept", "review")
    out["top2"] = [f"{names[a]}|{names[b]}" for a, b in ranked[:, :2]] if len(p) else []
    return out


def aggregate(window_proba: np.ndarray, method: str = "mean") -> np.ndarray:
    """One probability vector for a track from its windows' (schema-ordered) probabilities.

    ``mean`` averages the probabilities (the default: it keeps calibration meaningful); ``vote`` gives each class
    the share of windows whose label it is, ties broken by the mean probability.
    """
    p = np.asarray(window_proba, dtype=float)
    if p.ndim != 2 or len(p) == 0:
        raise ValueError("aggregation needs at least one window of probabilities")
    if method == "mean":
        return p.mean(axis=0)
    if method == "vote":
        votes = np.bincount(p.argmax(axis=1), minlength=p.shape[1]) + 1e-6 * p.mean(axis=0)
        return votes / votes.sum()
    raise ValueError(f"unknown aggregation {method!r}; choose 'mean' or 'vote'")
