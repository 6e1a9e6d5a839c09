"""Out-of-distribution guard: which features of a row lie far outside what the classifier was trained on.

The model only ever saw the 400 rows of the UCI file, so a value far beyond that file's range (a synthetic
tone, white noise, music far brighter than Turkish recordings) makes its prediction an extrapolation. The
rule: feature f with UCI range [low, high] (``schema.FEATURE_RANGES``) is flagged when its value lies outside

    [low − k·(high − low),  high + k·(high − low)]

with the margin k = :data:`DEFAULT_MARGIN` = 0.1 unless told otherwise: 10 % of the range on either side,
enough slack for the ~0.3 % rounding of the UCI file and the few percent by which a 400-row sample
under-estimates the true range, small enough to catch real extrapolation. A NaN feature (undefined: digital
silence, a centroid gated by entropy > 0.95, a clip too short for the HCDF) is always flagged, because the
model cannot use it as it is. Loudness has a floor besides: a window quieter than half the quietest training clip
(RMS < :data:`SILENCE_RMS`, about −46 dBFS) is flagged as near silence even though 10 % of the range below the
quietest clip would reach zero.

:func:`reasons` turns the flags into one short sentence per row for the verdict, naming the kind of input (digital
silence, near silence, a steady tone, a noise-like spectrum) and the most extreme features in plain words
(:func:`mer.schema.plain_name`): "noise-like spectrum: spectral flatness far above any training clip (0.85 > 0.21)".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from mer.schema import FEATURE_NAMES, FEATURE_RANGES, plain_name

DEFAULT_MARGIN = 0.1
SEPARATOR = ";"
SILENCE_RMS = 0.005  # half the quietest UCI clip's RMS (0.01): quieter is near silence
_FLOORS = {"_RMSenergy_Mean": SILENCE_RMS}
_I = {n: i for i, n in enumerate(FEATURE_NAMES)}


@dataclass(frozen=True)
class OODResult:
    """The guard's verdict on one row: flagged or not, and the flagged feature names in UCI order."""

    flagged: bool
    features: tuple[str, ...]

    @property
    def joined(self) -> str:
        """The names joined by ``;`` — the form of the ``ood_features`` column."""
        return SEPARATOR.join(self.features)


@lru_cache(maxsize=8)
def bounds(margin: float = DEFAULT_MARGIN) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper accepted bounds per feature, in ``FEATURE_NAMES`` order (read-only arrays, cached)."""
    if not margin >= 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    low = np.array([FEATURE_RANGES[n][0] for n in FEATURE_NAMES])
    high = np.array([FEATURE_RANGES[n][1] for n in FEATURE_NAMES])
    slack = margin * (high - low)
    lo = low - slack
    for name, floor in _FLOORS.items():
        lo[_I[name]] = max(lo[_I[name]], floor)
    hi = high + slack
    lo.flags.writeable = hi.flags.writeable = False
    return lo, hi


def out_of_range(values: np.ndarray, margin: float = DEFAULT_MARGIN) -> np.ndarray:
    """Boolean mask (n_rows, 50): True where a value is NaN or outside the widened UCI range."""
    values = np.atleast_2d(np.asarray(values, dtype=float))
    if values.shape[1] != len(FEATURE_NAMES):
        raise ValueError(f"expected {len(FEATURE_NAMES)} feature columns, got {values.shape[1]}")
    lo, hi = bounds(margin)
    with np.errstate(invalid="ignore"):
        return np.isnan(values) | (values < lo) | (values > hi)


def check_row(row: Mapping[str, float], margin: float = DEFAULT_MARGIN) -> OODResult:
    """The guard on one feature row (any mapping holding the 50 ``FEATURE_NAMES``)."""
    mask = out_of_range(np.array([row[n] for n in FEATURE_NAMES], dtype=float), margin)[0]
    names = tuple(n for n, bad in zip(FEATURE_NAMES, mask, strict=True) if bad)
    return OODResult(bool(names), names)


def flag_frame(features: pd.DataFrame, margin: float = DEFAULT_MARGIN) -> pd.DataFrame:
    """Columns ``ood`` (bool) and ``ood_features`` (``;``-joined names) for every row of ``features``."""
    mask = out_of_range(features.loc[:, list(FEATURE_NAMES)].to_numpy(dtype=float), margin)
    names = np.array(FEATURE_NAMES)
    return pd.DataFrame(
        {"ood": mask.any(axis=1), "ood_features": [SEPARATOR.join(names[m]) for m in mask]},
        index=features.index,
    )


def _fmt(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 1e6 else f"{value:.1e}"


def _describe(row: np.ndarray, bad: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> str:
    low, high = np.array([FEATURE_RANGES[n] for n in FEATURE_NAMES]).T
    span = high - low
    nan = np.isnan(row)
    rms = row[_I["_RMSenergy_Mean"]]
    if rms == 0 or (np.isnan(rms) and nan.sum() > 25):
        return "digital silence: no signal to judge"
    if rms < SILENCE_RMS:
        db = 20 * np.log10(max(rms, 1e-12))
        return f"near silence: loudness {db:.0f} dBFS, quieter than any training clip ({20 * np.log10(low[0]):.0f})"

    # a kind is named only on strong evidence: a value more than a whole training range beyond it (loud orchestral
    # passages reach a flatness of 0.3-0.4, above every training clip's 0.21 but far from white noise's 0.85)
    def far_above(name: str) -> bool:
        i = _I[name]
        return bool(bad[i] and row[i] > high[i] + span[i])

    def far_below(name: str) -> bool:
        i = _I[name]
        return bool(bad[i] and row[i] < low[i] - span[i])

    if far_above("_Spectralflatness_Mean"):
        kind = "noise-like spectrum"
    elif far_below("_EntropyofSpectrum_Mean") or far_above("_Spectralkurtosis_Mean"):
        kind = "steady tone"
    elif bad[~nan].any():
        kind = "outside the training data's range"
    else:
        kind = "features missing"
    with np.errstate(invalid="ignore"):
        distance = np.where(row > high, (row - high) / span, np.where(row < low, (low - row) / span, 0.0))
    ranked = [i for i in np.argsort(-np.nan_to_num(distance, nan=-1.0), kind="stable") if bad[i] and not nan[i]][:2]
    details = []
    for i in ranked:
        far = "far " if distance[i] > 1 else ""
        side, bound, sign = ("above", high[i], ">") if row[i] > hi[i] else ("below", low[i], "<")
        details.append(f"{plain_name(FEATURE_NAMES[i])} {far}{side} any training clip "
                       f"({_fmt(row[i])} {sign} {_fmt(bound)})")
    if nan.any():
        missing = [plain_name(FEATURE_NAMES[i]) for i in np.flatnonzero(nan)]
        details.append(f"{len(missing)} of {len(FEATURE_NAMES)} features missing ({', '.join(missing[:3])}"
                       f"{', …' if len(missing) > 3 else ''})")
    return f"{kind}: {'; '.join(details)}"


def reasons(values: np.ndarray, margin: float = DEFAULT_MARGIN) -> list[str | None]:
    """Per row: why the model cannot judge it (a short sentence in plain words), or None when the guard passes it."""
    values = np.atleast_2d(np.asarray(values, dtype=float))
    mask = out_of_range(values, margin)
    lo, hi = bounds(margin)
    flagged = mask.any(axis=1)
    return [_describe(row, bad, lo, hi) if f else None for row, bad, f in zip(values, mask, flagged, strict=True)]
