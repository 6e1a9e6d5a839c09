"""Out-of-distribution guard: which features of a row lie far outside what the classifier was trained on.

The model only ever saw the 400 rows of the UCI file, so a value far beyond that file's range (a synthetic
tone, white noise, music far brighter than Turkish recordings) makes its prediction an extrapolation. The
rule: feature f with UCI range [low, high] (``schema.FEATURE_RANGES``) is flagged when its value lies outside

    [low − k·(high − low),  high + k·(high − low)]

with the margin k = :data:`DEFAULT_MARGIN` = 0.1 unless told otherwise: 10 % of the range on either side,
enough slack for the ~0.3 % rounding of the UCI file and the few percent by which a 400-row sample
under-estimates the true range, small enough to catch real extrapolation. A NaN feature (undefined: digital
silence, a centroid gated by entropy > 0.95, a clip too short for the HCDF) is always flagged, because the
model cannot use it as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mer.schema import FEATURE_NAMES, FEATURE_RANGES

DEFAULT_MARGIN = 0.1
SEPARATOR = ";"


@dataclass(frozen=True)
class OODResult:
    """The guard's verdict on one row: flagged or not, and the flagged feature names in UCI order."""

    flagged: bool
    features: tuple[str, ...]

    @property
    def joined(self) -> str:
        """The names joined by ``;`` — the form of the ``ood_features`` column."""
        return SEPARATOR.join(self.features)


def bounds(margin: float = DEFAULT_MARGIN) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper accepted bounds per feature, in ``FEATURE_NAMES`` order."""
    if not margin >= 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    low = np.array([FEATURE_RANGES[n][0] for n in FEATURE_NAMES])
    high = np.array([FEATURE_RANGES[n][1] for n in FEATURE_NAMES])
    slack = margin * (high - low)
    return low - slack, high + slack


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
