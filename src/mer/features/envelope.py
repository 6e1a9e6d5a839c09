"""Spectrogram-based onset envelopes, as ``mironsets(a, 'Spectro')`` builds them in MIRtoolbox 1.7.1.

The onset-detection curve of Lartillot & Toiviainen (2007, "A Matlab toolbox for musical feature extraction
from audio", DAFx-07, §3.2) in its spectral form: ``mirframe`` frames of the signal, a MATLAB ``hanning``
window, the |FFT| (or |FFT|²) of each frame zero-padded to 2^nextpow2, summed over all bins, optionally
differentiated along time, and finally divided by its maximum. ``shared/mirtoolbox-features.md`` §2 gives the
three uses:

* event density: 100 ms frames, hop 0.1, power, no differentiation;
* pulse clarity: 100 ms frames, hop 0.1, power, differentiated (λ = 1, no half-wave rectification);
* attack time: 30 ms frames, hop 0.02, magnitude (the fine curve), plus the event-density curve.

Call :func:`spectro_envelope`; it never raises on silence or short input (see its docstring).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from mer.features.blocks import frame_starts, framed_rfft, next_pow2

_BLOCK_BYTES = 4 * 2**20  # frames gathered per step of the power path


@lru_cache(maxsize=8)
def hanning(length: int) -> np.ndarray:
    """MATLAB ``hanning(L)``: Hann without its zero end points, 0.5 − 0.5·cos(2πn/(L+1)), n = 1..L."""
    w = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(1, length + 1) / (length + 1))
    w.setflags(write=False)
    return w


@dataclass(frozen=True)
class Envelope:
    """An onset envelope and its time axis.

    ``values`` — one value per frame, divided by max|values| (all zeros stay zeros; NaN-free);
    ``times`` — start time of each frame in seconds (``mirframe`` convention: the frame's first sample;
    for a differentiated envelope, the start of the later of the two frames);
    ``frame_rate`` — frames per second, 1 / (hop_ratio·frame_s) (the hop is fractional, e.g. 26.46 samples);
    ``frame_length`` — L in samples.
    """

    values: np.ndarray
    times: np.ndarray
    frame_rate: float
    frame_length: int

    def __len__(self) -> int:
        return len(self.values)


def _power_sums(x: np.ndarray, starts: np.ndarray, window: np.ndarray, n_fft: int) -> np.ndarray:
    """Σ_{k=0}^{N/2} |X_k|² of each windowed, zero-padded frame, without an FFT (Parseval).

    Over all N bins Σ|X_k|² = N·Σ|xw|²; the one-sided sum counts every bin but DC and Nyquist twice, so it is
    (N·Σ|xw|² + X_0² + X_{N/2}²) / 2 with X_0 = Σ xw[n] and X_{N/2} = Σ (−1)^n xw[n]. Exact, and ~10× faster.
    Frames are gathered a few MB at a time (a 30-s clip's frames would take ~100 MB at once).
    """
    length = len(window)
    alternating = window * np.where(np.arange(length) % 2 == 0, 1.0, -1.0)
    squared = window * window
    view = np.lib.stride_tricks.sliding_window_view(x, length)
    out = np.empty(len(starts))
    rows = max(1, _BLOCK_BYTES // (8 * length))
    for lo in range(0, len(starts), rows):
        frames = view[starts[lo : lo + rows]]
        energy = np.einsum("ij,ij->i", frames, frames * squared)
        out[lo : lo + rows] = 0.5 * (n_fft * energy + (frames @ window) ** 2 + (frames @ alternating) ** 2)
    return out


def _magnitude_sums(x: np.ndarray, starts: np.ndarray, window: np.ndarray, n_fft: int) -> np.ndarray:
    """Σ_{k=0}^{N/2} |X_k| of each windowed frame, in float32 (relative error ~1e-7).

    float32 FFTs and a float32 sum (one BLAS matrix-vector product per block) are ~2× faster than float64 and
    give the same attack times on every reference file; attack time needs all ~50 000 frames of a 30-s clip.
    """
    out = np.empty(len(starts))
    ones = np.ones(n_fft // 2 + 1, np.float32)
    magnitude = None
    for lo, spec in framed_rfft(x, starts, len(window), n_fft, window, np.float32):
        if magnitude is None or len(magnitude) < len(spec):
            magnitude = np.empty(spec.shape, np.float32)
        block = np.abs(spec, out=magnitude[: len(spec)])
        out[lo : lo + len(spec)] = block @ ones
    return out


def spectro_envelope(
    x: np.ndarray,
    sr: int,
    frame_s: float = 0.1,
    hop_ratio: float = 0.1,
    power: bool = True,
    diff: bool = False,
    window: str = "hanning",
) -> Envelope:
    """Onset envelope of ``x``: per-frame sum over frequency of the (power) spectrum, normalised by its max.

    Frames follow ``mirframe`` (``blocks.frame_starts``: L = floor(frame_s·sr), fractional hop hop_ratio·frame_s·sr,
    no padding). Each frame is multiplied by ``window`` ("hanning": MATLAB's, no zero end points; "hamming":
    symmetric Hamming; "none": rectangular) and zero-padded to N = 2^nextpow2(L); bins DC..Nyquist are summed,
    as |X|² when ``power`` else |X|. With ``diff`` the curve is first-differenced along time (λ = 1, no
    half-wave rectification: negative values are kept; one value fewer). The result is divided by max|·|.

    Defaults are ``mironsets(a)``'s (event density). Pulse clarity:
    ``spectro_envelope(x, sr, 0.1, 0.1, power=True, diff=True)``. Attack time's fine curve:
    ``spectro_envelope(x, sr, 0.03, 0.02, power=False)``.

    Rules: input shorter than one frame gives an empty envelope (``len == 0``); digital silence (or a
    constant differentiated curve) gives all zeros, not NaN, since max|·| = 0 is left undivided.
    """
    x = np.asarray(x, dtype=np.float64)
    starts, length = frame_starts(len(x), sr, frame_s, hop_ratio)
    frame_rate = 1.0 / (hop_ratio * frame_s) if length > 0 else float("nan")
    if len(starts) == 0 or (diff and len(starts) < 2):
        return Envelope(np.zeros(0), np.zeros(0), frame_rate, length)
    if window == "hanning":
        win = hanning(length)
    elif window == "hamming":
        win = np.hamming(length)
    elif window == "none":
        win = np.ones(length)
    else:
        raise ValueError(f"unknown window {window!r}")
    n_fft = next_pow2(length)
    values = (_power_sums if power else _magnitude_sums)(x, starts, win, n_fft)
    times = starts / sr
    if diff:
        values = np.diff(values)
        times = times[1:]
    peak = np.max(np.abs(values))
    if peak > 0:
        values = values / peak
    return Envelope(values, times, frame_rate, length)
