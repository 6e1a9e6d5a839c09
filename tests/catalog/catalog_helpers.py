"""Scored tracks made up for the catalog tests: windows frames exactly as batch scoring will hand them over."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mer.decision import aggregate, decide
from mer.schema import CLASSES, FEATURE_NAMES

THRESHOLD = 0.75


def proba_for(label: str, confidence: float) -> np.ndarray:
    """A probability vector whose top class is ``label`` with ``confidence``, the rest shared evenly."""
    p = np.full(len(CLASSES), (1.0 - confidence) / (len(CLASSES) - 1))
    p[CLASSES.index(label)] = confidence
    return p


def windows_frame(proba: np.ndarray, *, window_s: float = 30.0, hop_s: float = 15.0, seed: int = 0) -> pd.DataFrame:
    """One row per row of ``proba``: bounds, flags, 50 random features (one NaN), and the decision columns."""
    proba = np.atleast_2d(proba)
    n = len(proba)
    rng = np.random.default_rng(seed)
    starts = np.arange(n) * hop_s
    frame = pd.DataFrame({
        "start_s": starts, "end_s": starts + window_s, "partial": [False] * (n - 1) + [n > 1],
        "ood": [i % 2 == 1 for i in range(n)], "ood_features": ["_Tempo_Mean;_Rolloff_Mean" if i % 2 else ""
                                                                for i in range(n)],
    })
    features = pd.DataFrame(rng.normal(size=(n, len(FEATURE_NAMES))), columns=list(FEATURE_NAMES))
    features.iloc[0, 3] = np.nan  # a feature the extractor could not compute
    return pd.concat([frame, features, decide(proba, threshold=THRESHOLD)], axis=1)


def track_args(content_hash: str, proba: np.ndarray, *, model_version: str = "1", path: str | None = None,
               **frame_kw: Any) -> dict[str, Any]:
    """Keyword arguments for ``save_track``: the track's aggregate is the mean of its windows."""
    proba = np.atleast_2d(proba)
    verdict = decide(aggregate(proba, "mean")[None, :], threshold=THRESHOLD).iloc[0].to_dict()
    return {
        "path": path or f"/music/{content_hash}.flac", "content_hash": content_hash,
        "duration_s": float(15.0 * (len(proba) - 1) + 30.0), "sample_rate": 22050, "channels": 2,
        "windows": windows_frame(proba, **frame_kw),
        "aggregate": {**verdict, "model_name": "music-emotion", "model_version": model_version, "alias": "champion",
                      "aggregate_method": "mean"},
    }
