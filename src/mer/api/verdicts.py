"""Scored records (:mod:`mer.scoring` output) → the API's verdict dicts, and the micro-batcher's model call.

Kept apart from the routers so the micro-batcher's thread can build response items without touching FastAPI.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from mer.features.ood import SEPARATOR
from mer.schema import CLASSES
from mer.settings import DecisionSettings


def _num(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def verdicts(scored: pd.DataFrame) -> list[dict[str, Any]]:
    """One ``Verdict``-shaped dict per row of a scored frame (probabilities, label … None when not finite)."""
    probs = scored[[f"p_{c}" for c in CLASSES]].to_numpy(dtype=float)
    finite = np.isfinite(probs).all(axis=1)
    columns = [scored[c].tolist() for c in ("label", "confidence", "decision", "reason", "top2", "valence",
                                            "arousal")]
    return [
        {"probabilities": dict(zip(CLASSES, map(float, p), strict=True)) if ok else None,
         "label": lab if ok else None, "confidence": _num(c), "decision": d, "reason": str(r),
         "top2": t.split("|") if ok and t else [], "valence": _num(v), "arousal": _num(a)}
        for p, ok, lab, c, d, r, t, v, a in zip(probs, finite, *columns, strict=True)
    ]


def verdict(row: dict[str, Any]) -> dict[str, Any]:
    """One verdict from a mapping holding the decision columns (a track's aggregate)."""
    return verdicts(pd.DataFrame([row]))[0]


def row_verdicts(scored: pd.DataFrame) -> list[dict[str, Any]]:
    """Verdicts with the row's OOD flags (``POST /v1/predict``)."""
    names = [[f for f in str(s or "").split(SEPARATOR) if f] for s in scored["ood_features"]]
    return [{**v, "ood": bool(o), "ood_features": n}
            for v, o, n in zip(verdicts(scored), scored["ood"].tolist(), names, strict=True)]


def batch_scorer(service, rule: DecisionSettings):
    """The micro-batcher's model call: rows (n, 50) → (model identity, one verdict per row), on the model thread,
    through the one scoring core (:func:`mer.scoring.score_matrix`: OOD guard, finite check, decision rule)."""
    from mer.scoring import score_matrix

    def score(X: np.ndarray) -> tuple[dict[str, str], list[dict[str, Any]]]:
        served = service.current
        if served is None:
            raise RuntimeError("no model loaded")
        return served.info, row_verdicts(score_matrix(served, X, rule))

    return score
