"""The one scoring core: feature rows or audio → scored records (features, OOD flags, probabilities, verdict, reason,
valence/arousal, model name/version/alias). Every door calls it: ``mer predict``, ``mer batch`` (audio and feature
CSVs), ``POST /v1/predict`` and ``POST /v1/predict/audio``.

What it adds to the model, in order, for every door alike:

1. the out-of-distribution guard (:mod:`mer.features.ood`, margin ``decision.ood_margin``): a row with a missing
   feature, a value beyond the training data's range, near silence, a steady tone or a noise-like spectrum is
   ``unscorable`` with a reason in plain words; so is a row the caller already knows is unusable (``problems``, e.g.
   a CSV record with too many fields);
2. the model's probabilities — rows it refuses, or answers with non-finite numbers, are unscorable too;
3. :func:`mer.decision.decide` (accept / review / unscorable, reason, top-2, valence, arousal), and for audio the
   track verdict of :func:`mer.decision.track_decision` with each mood's share of the time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from mer.decision import DECISION_COLUMNS, SHARE_COLUMNS, decide_columns, track_decision
from mer.features.ood import SEPARATOR, out_of_range, reasons
from mer.schema import FEATURE_NAMES
from mer.settings import DecisionSettings

MODEL_COLUMNS: tuple[str, ...] = ("model_name", "model_version", "model_alias")
FLAG_COLUMNS: tuple[str, ...] = ("ood", "ood_features")
SCORED_COLUMNS: tuple[str, ...] = (*FLAG_COLUMNS, *DECISION_COLUMNS, *MODEL_COLUMNS)
TRACK_EXTRA_COLUMNS: tuple[str, ...] = (*SHARE_COLUMNS, "scorable_share", "n_windows")


class ScoringModel(Protocol):
    """What the core needs of a loaded model: its identity, its classes and probabilities for a float array of
    rows in :data:`mer.schema.FEATURE_NAMES` order (the API's compiled :class:`~mer.api.model_service.ServedModel`
    and the batch's :class:`Scorer` both fit)."""

    name: str
    version: str
    alias: str

    @property
    def classes(self) -> list[str]: ...

    def predict_proba(self, X: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class Scorer:
    """A fitted estimator (as registered) with its registry identity; picklable, so batch workers get one copy."""

    model: Any
    name: str
    version: str
    alias: str

    @property
    def classes(self) -> list[str]:
        return list(self.model.classes_)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.model.predict_proba(pd.DataFrame(np.asarray(X, dtype=float), columns=list(FEATURE_NAMES)))


def identity(model: ScoringModel) -> dict[str, str]:
    return {"model_name": str(model.name), "model_version": str(model.version), "model_alias": str(model.alias)}


def _probabilities(model: ScoringModel, X: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Probabilities (schema columns in the model's class order) for ``rows`` of ``X``; NaN where the model refuses
    a row (scikit-learn's validation raises ValueError for the whole call: retry row by row to find which)."""
    out = np.full((len(X), len(model.classes)), np.nan)
    if not rows.any():
        return out
    idx = np.flatnonzero(rows)
    try:
        out[idx] = model.predict_proba(X[idx])
    except ValueError:
        for i in idx:
            with contextlib.suppress(ValueError):
                out[i] = model.predict_proba(X[i:i + 1])[0]
    return out


def score_columns(model: ScoringModel, X: np.ndarray, rule: DecisionSettings,
                  problems: Sequence[str | None] | None = None, explain: bool = False) -> dict[str, Any]:
    """The core on a float array (n, 50) in schema order: one array (or list) per :data:`SCORED_COLUMNS`.

    ``problems`` (optional) holds, per row, a reason known before scoring (the row is unscorable and not sent to
    the model) or None. Rows with a missing value are unscorable too and never reach the model. ``explain`` adds
    an ``explanation`` column (:func:`mer.model.explain.explain_rows`; None for unscorable rows).
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != len(FEATURE_NAMES):
        raise ValueError(f"expected rows of {len(FEATURE_NAMES)} features, got shape {X.shape}")
    mask = out_of_range(X, rule.ood_margin)
    why = reasons(X, rule.ood_margin)
    known = np.zeros(len(X), dtype=bool)
    if problems is not None:
        if len(problems) != len(X):
            raise ValueError(f"{len(problems)} problems for {len(X)} rows")
        why = [p or w for p, w in zip(problems, why, strict=True)]
        known = np.array([bool(p) for p in problems], dtype=bool)
    usable = ~known & np.isfinite(X).all(axis=1)
    proba = _probabilities(model, X, usable)
    names = np.asarray(FEATURE_NAMES)
    flagged = mask.any(axis=1)
    columns = {
        "ood": flagged | known,
        "ood_features": [SEPARATOR.join(names[m]) if f else "" for m, f in zip(mask, flagged.tolist(), strict=True)],
        **decide_columns(proba, model.classes, threshold=rule.accept_threshold, unscorable=why),
        **{key: [value] * len(X) for key, value in identity(model).items()},
    }
    if explain:
        columns["explanation"] = _explanations(model, X, proba, list(columns["decision"]))
    return columns


def _explanations(model: ScoringModel, X: np.ndarray, proba: np.ndarray, decisions: list[str]) -> list[Any]:
    from mer.model.explain import explain_rows

    rows = [i for i, d in enumerate(decisions) if d != "unscorable"]
    found = explain_rows(model, X[rows], proba[rows].argmax(axis=1)) if rows else []
    out: list[Any] = [None] * len(X)
    for i, e in zip(rows, found, strict=True):
        out[i] = e
    return out


def score_matrix(model: ScoringModel, X: np.ndarray, rule: DecisionSettings,
                 problems: Sequence[str | None] | None = None, explain: bool = False) -> pd.DataFrame:
    """:func:`score_columns` as a frame: one row of :data:`SCORED_COLUMNS` (+ ``explanation``) per input row."""
    return pd.DataFrame(score_columns(model, X, rule, problems, explain),
                        columns=[*SCORED_COLUMNS, *(["explanation"] if explain else [])])


def score_frame(model: ScoringModel, features: pd.DataFrame, rule: DecisionSettings,
                problems: Sequence[str | None] | None = None, explain: bool = False) -> pd.DataFrame:
    """``features`` (holding the 50 feature columns; other columns kept) with :data:`SCORED_COLUMNS` set, same index.

    Columns of the same names already in ``features`` (e.g. the extractor's own OOD flags) are replaced."""
    missing = [c for c in FEATURE_NAMES if c not in features.columns]
    if missing:
        raise ValueError(f"missing feature columns: {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
    scored = score_matrix(model, features[list(FEATURE_NAMES)].to_numpy(dtype=float), rule, problems, explain)
    scored.index = features.index
    return pd.concat([features.drop(columns=[c for c in SCORED_COLUMNS if c in features.columns]), scored], axis=1)


@dataclass
class TrackScore:
    """One scored track: its windows (features, OOD flags, verdicts) and the track verdict with mood shares."""

    file: str
    windows: pd.DataFrame
    track: dict[str, Any]  # DECISION_COLUMNS + TRACK_EXTRA_COLUMNS + MODEL_COLUMNS + aggregate_method
    duration_s: float
    sample_rate: int
    channels: int
    content_hash: str | None = None
    model: dict[str, str] = field(default_factory=dict)  # model_name, model_version, model_alias


def score_windows(model: ScoringModel, windows: pd.DataFrame, rule: DecisionSettings,
                  explain: bool = False) -> tuple[pd.DataFrame, dict]:
    """Extracted windows (``start_s``, ``end_s``, the 50 features …) → (scored windows, track verdict)."""
    scored = score_frame(model, windows, rule, explain=explain)
    track = {**track_decision(scored, rule), **identity(model), "aggregate_method": rule.aggregate}
    return scored, track


def score_audio(
    model: ScoringModel,
    source: str | Path | np.ndarray,
    rule: DecisionSettings,
    sr: int | None = None,
    *,
    name: str | None = None,
    extract_options: dict[str, Any] | None = None,
    explain: bool = False,
) -> TrackScore:
    """Extract the windows of one file or array, score each, give the track verdict. Raises ``AudioError`` on
    unusable audio. The OOD margin is the rule's (an ``ood_margin`` in ``extract_options`` is overridden)."""
    from mer.features.audio import audio_info
    from mer.features.extract import extract
    from mer.hashing import sha256_file

    options = {**(extract_options or {}), "ood_margin": rule.ood_margin}
    windows = extract(source, sr, name=name, **options)
    scored, track = score_windows(model, windows, rule, explain)
    if isinstance(source, np.ndarray):
        channels, rate, frames, digest = (1 if source.ndim == 1 else source.shape[1]), int(sr or 0), len(source), None
    else:
        info = audio_info(source)  # the file's own rate and length, whichever decoder reads it (M4A too)
        channels, rate, frames, digest = info.channels, info.sample_rate, info.frames, sha256_file(source)
    return TrackScore(
        file=str(name or windows["file"].iloc[0]), windows=scored, track=track,
        duration_s=frames / rate if rate else float("nan"), sample_rate=rate, channels=channels, content_hash=digest,
        model=identity(model),
    )
