"""Scored records (:mod:`mer.scoring` output) → the API's verdict dicts, and the micro-batcher's model call.

Kept apart from the routers so the micro-batcher's thread can build response items without touching FastAPI.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from mer.decision import DECISION_COLUMNS
from mer.features.ood import SEPARATOR
from mer.schema import CLASSES
from mer.settings import DecisionSettings


def _num(value: float | None) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def _verdict_list(cols: dict[str, Any]) -> list[dict[str, Any]]:
    probs = np.column_stack([np.asarray(cols[f"p_{c}"], dtype=float) for c in CLASSES])
    finite = np.isfinite(probs).all(axis=1).tolist()
    return [
        {"probabilities": dict(zip(CLASSES, p, strict=True)) if ok else None,
         "label": lab if ok else None, "confidence": _num(c), "decision": d, "reason": str(r),
         "top2": t.split("|") if ok and t else [], "valence": _num(v), "arousal": _num(a)}
        for p, ok, lab, c, d, r, t, v, a in zip(
            probs.tolist(), finite, *(list(cols[k]) for k in ("label", "confidence", "decision", "reason", "top2")),
            np.asarray(cols["valence"], dtype=float).tolist(), np.asarray(cols["arousal"], dtype=float).tolist(),
            strict=True)
    ]


def verdicts(scored: pd.DataFrame) -> list[dict[str, Any]]:
    """One ``Verdict``-shaped dict per row of a scored frame (probabilities, label … None when not finite)."""
    return _verdict_list({c: scored[c].tolist() for c in DECISION_COLUMNS})


def verdict(row: dict[str, Any]) -> dict[str, Any]:
    """One verdict from a mapping holding the decision columns (a track's aggregate)."""
    return _verdict_list({c: [row[c]] for c in DECISION_COLUMNS})[0]


def row_verdicts(cols: dict[str, Any]) -> list[dict[str, Any]]:
    """Verdicts with the row's OOD flags (``POST /v1/predict``), from :func:`mer.scoring.score_columns`."""
    return [{**v, "ood": bool(o), "ood_features": [f for f in names.split(SEPARATOR) if f]}
            for v, o, names in zip(_verdict_list(cols), cols["ood"].tolist(), cols["ood_features"], strict=True)]


def batch_scorer(service, rule: DecisionSettings):
    """The micro-batcher's model call: rows (n, 50) → (model identity, one verdict per row), on the model thread,
    through the one scoring core (:func:`mer.scoring.score_matrix`: OOD guard, finite check, decision rule)."""
    from mer.scoring import score_columns

    def score(X: np.ndarray) -> tuple[dict[str, str], list[dict[str, Any]]]:
        served = service.current
        if served is None:
            raise RuntimeError("no model loaded")
        return served.info, row_verdicts(score_columns(served, X, rule))

    return score
