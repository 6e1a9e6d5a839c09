"""Spectral-shape features on the whole-file magnitude spectrum (spec §2, MIRtoolbox 1.7.1 defaults).

Every function takes ``(freqs, mag)`` from :func:`mer.features.blocks.magnitude_spectrum` so the 2^21-point
FFT of a 30-s excerpt is computed once. ``mag`` is |FFT| (not power) over bins 0..N/2 including DC and
Nyquist.

Rule for digital silence: a spectrum whose total magnitude is 0 has no shape, so every feature here is NaN
for it (MIRtoolbox divides 0 by 0 too); the extractor then flags the row as out of distribution.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

ROLLOFF_THRESHOLD = 0.85
BRIGHTNESS_CUTOFF_HZ = 1500.0
CENTROID_MAX_ENTROPY = 0.95
_EPS = 1e-12
_NAN = float("nan")


def _silent(mag: np.ndarray) -> bool:
    return len(mag) == 0 or not np.any(mag)


def rolloff(freqs: np.ndarray, mag: np.ndarray) -> float:
    """``_Rolloff_Mean``: lowest bin frequency where the cumulative *magnitude* reaches 85 % of the total."""
    if _silent(mag):
        return _NAN
    cum = np.cumsum(mag)
    return float(freqs[np.searchsorted(cum, ROLLOFF_THRESHOLD * cum[-1], side="left")])


def brightness(freqs: np.ndarray, mag: np.ndarray) -> float:
    """``_Brightness_Mean``: share of the magnitude strictly above 1500 Hz."""
    if _silent(mag):
        return _NAN
    above = np.searchsorted(freqs, BRIGHTNESS_CUTOFF_HZ, side="right")  # bin frequencies are ascending
    return float(mag[above:].sum() / mag.sum())


def entropy(freqs: np.ndarray, mag: np.ndarray) -> float:
    """``_EntropyofSpectrum_Mean``: entropy of mag/Σmag (natural log, 1e-12 guards) divided by ln K."""
    if _silent(mag) or len(mag) < 2:
        return _NAN
    p = mag / (mag.sum() + _EPS)
    log_p = p + _EPS
    np.log(log_p, out=log_p)
    return float(-np.dot(p, log_p) / np.log(len(mag)))


def flatness(freqs: np.ndarray, mag: np.ndarray) -> float:
    """``_Spectralflatness_Mean``: geometric over arithmetic mean of |X| on all K bins (DC, Nyquist too).

    The geometric mean is exp(mean ln|X|); a zero bin makes it 0, as MIRtoolbox's product of |X|^(1/K) does.
    """
    if _silent(mag):
        return _NAN
    with np.errstate(divide="ignore"):
        geo = float(np.exp(np.mean(np.log(mag))))
    return geo / float(mag.mean())


def spectral_shape(freqs: np.ndarray, mag: np.ndarray) -> dict[str, float]:
    """Centroid (ungated), spread, skewness and kurtosis in one pass over the spectrum.

    MIRtoolbox weights by m = |X| + min|X| (the added minimum is negligible but copied for exactness).
    Kurtosis is the plain fourth standardised moment (3 for a Gaussian), not excess kurtosis.
    """
    if _silent(mag):
        return {"centroid": _NAN, "spread": _NAN, "skewness": _NAN, "kurtosis": _NAN}
    p = mag + mag.min()
    p /= p.sum()
    c = float(np.dot(freqs, p))
    d = freqs - c
    d2 = d * d
    var = float(np.dot(d2, p))
    sd = np.sqrt(var)
    if sd == 0:
        return {"centroid": c, "spread": 0.0, "skewness": _NAN, "kurtosis": _NAN}
    skew = float(np.dot(np.multiply(d2, d, out=d), p)) / sd**3  # in place: three 1M-bin arrays, not five
    kurt = float(np.dot(np.multiply(d2, d2, out=d2), p)) / var**2
    return {"centroid": c, "spread": float(sd), "skewness": skew, "kurtosis": kurt}


def centroid(
    freqs: np.ndarray, mag: np.ndarray, *, entropy_value: float | None = None, shape: Mapping[str, float] | None = None
) -> float:
    """``_Spectralcentroid_Mean``: Σ f·m / Σ m, or NaN when the spectral entropy exceeds 0.95 ('MaxEntropy').

    Noise-like spectra (white noise, dither) have no meaningful centre, so MIRtoolbox reports NaN for them.
    ``entropy_value`` (:func:`entropy`) and ``shape`` (:func:`spectral_shape`) may pass what the caller already
    computed on this spectrum.
    """
    h = entropy(freqs, mag) if entropy_value is None else entropy_value
    if not np.isfinite(h) or h > CENTROID_MAX_ENTROPY:
        return _NAN
    return (spectral_shape(freqs, mag) if shape is None else shape)["centroid"]


def spread(freqs: np.ndarray, mag: np.ndarray) -> float:
    """``_Spectralspread_Mean``: standard deviation of frequency around the (ungated) centroid, in Hz."""
    return spectral_shape(freqs, mag)["spread"]


def skewness(freqs: np.ndarray, mag: np.ndarray) -> float:
    """``_Spectralskewness_Mean``: third standardised moment of the spectral distribution."""
    return spectral_shape(freqs, mag)["skewness"]


def kurtosis(freqs: np.ndarray, mag: np.ndarray) -> float:
    """``_Spectralkurtosis_Mean``: fourth standardised moment (not excess: a Gaussian gives 3)."""
    return spectral_shape(freqs, mag)["kurtosis"]
