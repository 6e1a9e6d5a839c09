"""``mirmfcc`` on the whole-file spectrum: Slaney's 40-band mel layout, magnitude, log10, DCT ranks 1-13.

The filter bank is the one of Slaney's *Auditory Toolbox* (Tech. Report #1998-010, ``mfcc.m``): 13 linear
bands from 133.33 Hz in steps of 66.67 Hz, then 27 log-spaced bands with ratio 1.0711703; every triangle has
area 1 (height 2/(upper-lower)). MIRtoolbox applies it to the |FFT| magnitude (not power) — see spec §2.
librosa's mfcc differs on almost every one of these points, hence this hand-written version.
"""

from __future__ import annotations

from functools import cache

import numpy as np

N_FILTERS = 40
N_COEFFS = 13
_LOWEST_HZ = 400.0 / 3.0
_LINEAR_STEP_HZ = 200.0 / 3.0
_N_LINEAR = 13
_LOG_RATIO = 1.0711703
_FLOOR = 1e-16


@cache
def _edges() -> np.ndarray:
    """The 42 'interesting' frequencies: filter k spans edges[k] .. edges[k+2] with its peak at edges[k+1]."""
    linear = _LOWEST_HZ + _LINEAR_STEP_HZ * np.arange(_N_LINEAR)
    log = linear[-1] * _LOG_RATIO ** np.arange(1, N_FILTERS + 2 - _N_LINEAR + 1)
    return np.concatenate([linear, log])


@cache
def _dct_matrix() -> np.ndarray:
    """Rows r = 1..13 of the orthonormal DCT-II, sqrt(2/40)·cos(π r (2n+1) / 80); c0 is dropped."""
    r = np.arange(1, N_COEFFS + 1)[:, None]
    n = np.arange(N_FILTERS)[None, :]
    return np.sqrt(2.0 / N_FILTERS) * np.cos(np.pi * r * (2 * n + 1) / (2 * N_FILTERS))


def mel_band_energies(freqs: np.ndarray, mag: np.ndarray) -> np.ndarray:
    """The 40 triangular-filter outputs on the magnitude spectrum (before the log).

    Each bin lies between two consecutive edges, so it feeds at most two filters: the rising side of the
    filter starting at the lower edge (lower < f ≤ centre) and the falling side of the one peaking there
    (centre < f < upper). Summing by segment avoids a dense 40 × K matrix (K = 1M bins for 30 s). ``freqs``
    must be ascending (as a spectrum's are): each segment is then a contiguous run of bins.
    """
    edges = _edges()
    heights = 2.0 / (edges[2:] - edges[:-2])
    # bins edges[0] < f < edges[-1]; segment s holds edges[s] < f <= edges[s + 1]
    bounds = np.searchsorted(freqs, edges, side="right")
    bounds[-1] = np.searchsorted(freqs, edges[-1], side="left")
    f = freqs[bounds[0] : bounds[-1]]
    m = mag[bounds[0] : bounds[-1]]
    seg = np.repeat(np.arange(len(edges) - 1), np.diff(bounds))
    lo, hi = edges[seg], edges[seg + 1]
    frac_up = (f - lo) / (hi - lo)
    rising = seg < N_FILTERS  # filter ``seg`` rises over this segment
    falling = seg >= 1  # filter ``seg - 1`` falls over this segment
    energies = np.bincount(
        seg[rising], weights=(heights[seg[rising]] * frac_up[rising] * m[rising]), minlength=N_FILTERS
    )[:N_FILTERS]
    energies += np.bincount(
        seg[falling] - 1,
        weights=heights[seg[falling] - 1] * (1.0 - frac_up[falling]) * m[falling],
        minlength=N_FILTERS,
    )[:N_FILTERS]
    return energies


def mfcc(freqs: np.ndarray, mag: np.ndarray) -> np.ndarray:
    """``_MFCC_Mean_1..13``: DCT ranks 1-13 of log10(mel energies + 1e-16).

    Digital silence (an all-zero spectrum) gives NaN coefficients: the log of the floor carries no
    information.
    """
    if len(mag) == 0 or not np.any(mag):
        return np.full(N_COEFFS, np.nan)
    log_e = np.log10(mel_band_energies(freqs, mag) + _FLOOR)
    return _dct_matrix() @ log_e
