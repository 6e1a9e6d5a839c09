"""Decision frames (:func:`mer.decision.decide` output) → the API's verdict dicts; unscorable rows.

Kept apart from the routers so the micro-batcher's thread can build response items without touching FastAPI.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mer.schema import CLASSES


class UnscorableRows(ValueError):
    """The model gave no finite probabilities for these rows (their features are outside what it can handle)."""

    def __init__(self, rows: list[int], reason: str):
        self.rows = rows
        self.reason = reason
        super().__init__(f"the model cannot score row(s) {', '.join(map(str, rows[:20]))}"
                         f"{' …' if len(rows) > 20 else ''}: {reason}")


def verdicts(decisions: pd.DataFrame) -> list[dict[str, Any]]:
    """One ``Verdict``-shaped dict per row of a decision frame."""
    probs = decisions[[f"p_{c}" for c in CLASSES]].to_numpy(dtype=float)
    labels = decisions["label"].tolist()
    confidence = decisions["confidence"].to_numpy(dtype=float)
    decision = decisions["decision"].tolist()
    top2 = decisions["top2"].tolist()
    return [
        {"probabilities": dict(zip(CLASSES, map(float, p), strict=True)), "label": lab, "confidence": float(c),
         "decision": d, "top2": t.split("|")}
        for p, lab, c, d, t in zip(probs, labels, confidence, decision, top2, strict=True)
    ]


def verdict(row: dict[str, Any]) -> dict[str, Any]:
    """One verdict from a mapping holding the decision columns (a track's aggregate)."""
    return verdicts(pd.DataFrame([row]))[0]


def check_finite(proba: np.ndarray) -> np.ndarray:
    """``proba`` unchanged, or :class:`UnscorableRows` naming the rows that hold NaN or infinity."""
    bad = ~np.isfinite(proba).all(axis=1)
    if bad.any():
        raise UnscorableRows(np.flatnonzero(bad).tolist(), "their probabilities are not finite numbers")
    return proba
