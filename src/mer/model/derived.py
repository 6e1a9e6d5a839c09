"""Row-wise derived features with a physical reading (no fitting, so no leakage): ratios, logs, key-invariant chroma.

Motivated by ``shared/modeling-notes.md``: models on these add diversity to the ensemble.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from mer.schema import FEATURE_NAMES

_IDX = {n: i for i, n in enumerate(FEATURE_NAMES)}
_CHROMA = [_IDX[f"_Chromagram_Mean_{k}"] for k in range(1, 13)]
# Krumhansl–Kessler key profiles (C major / C minor), from Krumhansl (1990).
_KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
EPS = 1e-6

# The derived columns, in output order (the ratios, the log-shapes, then the key-invariant chroma descriptors).
DERIVED_NAMES: tuple[str, ...] = (
    "centroid_over_rolloff",
    "spread_over_centroid",
    "zcr_over_centroid",
    "log_roughness_minus_2log_rms",
    "density_x_attack",
    "density_per_beat",
    "log_kurtosis",
    "log_flatness",
    "key_major_corr",
    "key_minor_corr",
    "key_major_minus_minor",
    "chroma_entropy",
    *(f"chroma_sorted_{k}" for k in range(12)),
    *(f"chroma_rotated_{k}" for k in range(12)),
)


def _centred_rotations(profile: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rot = np.stack([np.roll(profile, k) for k in range(12)])  # (12 keys, 12 bins)
    r = rot - rot.mean(axis=1, keepdims=True)
    return r, np.linalg.norm(r, axis=1)


_ROTATIONS = {"major": _centred_rotations(_KK_MAJOR), "minor": _centred_rotations(_KK_MINOR)}
_SHIFTS = np.arange(12)


def _profile_corr(chroma: np.ndarray, key: str) -> np.ndarray:
    """Best Pearson correlation of each chroma row with the 12 rotations of a key profile."""
    r, r_norm = _ROTATIONS[key]
    c = chroma - chroma.mean(axis=1, keepdims=True)
    den = np.linalg.norm(c, axis=1, keepdims=True) * r_norm[None, :] + EPS
    return ((c @ r.T) / den).max(axis=1)


def derive(X: np.ndarray) -> np.ndarray:
    """The derived columns for raw feature rows in schema order (NaN propagates).

    Vectorised over rows (no per-row ``np.roll``): serving calls this on every request. Chroma is clipped at 0
    and missing chroma counts as 0, so a malformed chroma value cannot make the entropy NaN.
    """
    X = np.asarray(X, dtype=float)

    def col(name: str) -> np.ndarray:
        return X[:, _IDX[name]]

    centroid, rolloff = col("_Spectralcentroid_Mean"), col("_Rolloff_Mean")
    density = col("_Eventdensity_Mean")
    chroma = np.clip(np.nan_to_num(X[:, _CHROMA], nan=0.0), 0.0, None)
    p = chroma / (chroma.sum(axis=1, keepdims=True) + EPS)
    strongest = chroma.argmax(axis=1)
    rotated = chroma[np.arange(len(X))[:, np.newaxis], (_SHIFTS + strongest[:, np.newaxis]) % 12]
    major, minor = _profile_corr(chroma, "major"), _profile_corr(chroma, "minor")
    with np.errstate(divide="ignore", invalid="ignore"):
        cols = [
            centroid / (rolloff + EPS),
            col("_Spectralspread_Mean") / (centroid + EPS),
            col("_Zero-crossingrate_Mean") / (centroid + EPS),
            np.log(np.abs(col("_Roughness_Mean")) + EPS) - 2 * np.log(np.abs(col("_RMSenergy_Mean")) + EPS),
            density * col("_AttackTime_Mean"),
            density * 60.0 / (col("_Tempo_Mean") + EPS),
            np.log(np.abs(col("_Spectralkurtosis_Mean")) + EPS),
            np.log(np.abs(col("_Spectralflatness_Mean")) + EPS),
            major, minor, major - minor,
            -(p * np.log(p + EPS)).sum(axis=1),
        ]
    return np.column_stack([*cols, -np.sort(-chroma, axis=1), rotated])


class DerivedFeatures(TransformerMixin, BaseEstimator):
    """Append :data:`DERIVED_NAMES` to the 50 raw features. Stateless: ``fit`` learns nothing."""

    def fit(self, X, y=None):
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def transform(self, X):
        X = np.asarray(X, dtype=float)
        return np.hstack([X, derive(X)])

    def get_feature_names_out(self, input_features=None):
        names = list(input_features) if input_features is not None else list(FEATURE_NAMES)
        return np.array(names + list(DERIVED_NAMES), dtype=object)
