"""Audio or feature rows → per-window decisions and a track verdict: the core the API and batch scoring share.

Feature extraction, the model and the decision rule are each used unchanged from their own modules; this module
only strings them together and carries the result with the metadata the catalog stores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mer.decision import ACCEPT_THRESHOLD, DECISION_COLUMNS, PROBA_COLUMNS, aggregate, decide
from mer.model.predict import predict_frame


@dataclass
class TrackScore:
    """One scored track: its windows (features, OOD flags, decisions) and the aggregate verdict."""

    file: str
    windows: pd.DataFrame
    aggregate: dict[str, Any]
    aggregate_method: str
    duration_s: float
    sample_rate: int
    channels: int
    content_hash: str | None = None
    model: dict[str, Any] = field(default_factory=dict)  # name, version, alias


def score_rows(model, features: pd.DataFrame, threshold: float = ACCEPT_THRESHOLD) -> pd.DataFrame:
    """``features`` with the decision columns appended (same index)."""
    decisions = predict_frame(model, features, threshold)
    decisions.index = features.index
    return pd.concat([features, decisions], axis=1)


def track_verdict(windows: pd.DataFrame, method: str = "mean", threshold: float = ACCEPT_THRESHOLD) -> dict:
    """The track's probabilities (windows aggregated by ``method``) put through the same decision rule."""
    proba = aggregate(windows[list(PROBA_COLUMNS)].to_numpy(dtype=float), method)
    return decide(proba[None, :], threshold=threshold).iloc[0].to_dict()


def score_audio(
    model,
    source: str | Path | np.ndarray,
    sr: int | None = None,
    *,
    name: str | None = None,
    threshold: float = ACCEPT_THRESHOLD,
    method: str = "mean",
    extract_options: dict[str, Any] | None = None,
) -> TrackScore:
    """Extract the windows of one file or array, score each, aggregate. Raises ``AudioError`` on unusable audio."""
    import soundfile as sf

    from mer.features.extract import extract
    from mer.hashing import sha256_file

    windows = extract(source, sr, name=name, **(extract_options or {}))
    scored = score_rows(model, windows, threshold)
    if isinstance(source, np.ndarray):
        channels, rate, frames, digest = (1 if source.ndim == 1 else source.shape[1]), int(sr or 0), len(source), None
    else:
        info = sf.info(str(source))
        channels, rate, frames, digest = info.channels, info.samplerate, info.frames, sha256_file(source)
    verdict = {k: v for k, v in track_verdict(scored, method, threshold).items() if k in DECISION_COLUMNS}
    return TrackScore(
        file=str(name or windows["file"].iloc[0]), windows=scored, aggregate=verdict, aggregate_method=method,
        duration_s=frames / rate if rate else float("nan"), sample_rate=rate, channels=channels, content_hash=digest,
    )
