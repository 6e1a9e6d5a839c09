"""Building blocks shared by the feature functions: framing, whole-file spectrum, ``mirstat`` statistics.

Conventions follow MIRtoolbox 1.7.1 defaults (``shared/mirtoolbox-features.md`` §1).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from functools import lru_cache

import numpy as np
from scipy import fft as sfft

# Frames are FFT'd a block of rows at a time from one reused zero-padded buffer (no (n_frames × n_fft) array).
# Its rows are padded by a few samples: a power-of-two row stride makes pocketfft's multi-row SIMD path
# thrash the cache (measured 2-3× slower at n_fft = 2048-65536).
_ROW_PAD = 16
_BLOCK_BYTES = 2**20
# The whole-file FFT's zero-padded input (16 MB for a 30-s clip at 44.1 kHz), kept per thread: filling a fresh
# buffer costs ~10 ms of page faults per clip, a third of the FFT itself.
_scratch = threading.local()


def frame_starts(n_samples: int, sr: int, frame_s: float, hop_ratio: float) -> tuple[np.ndarray, int]:
    """Start samples and length of ``mirframe`` frames: L = floor(len·fs), no padding.

    The hop r·(len·fs) is fractional and taken from the *unfloored* length (§7 D: 3276.63 samples for HCDF's
    0.743 s at 44.1 kHz, not 3276.6); frame i starts at floor(i·hop).
    """
    length = int(np.floor(frame_s * sr))
    hop = hop_ratio * (frame_s * sr)
    if length <= 0 or n_samples < length:
        return np.zeros(0, dtype=np.int64), length
    count = int(np.floor((n_samples - length) / hop)) + 1
    return np.floor(np.arange(count) * hop).astype(np.int64), length


def frame_signal(x: np.ndarray, sr: int, frame_s: float, hop_ratio: float) -> tuple[np.ndarray, np.ndarray]:
    """Frames of ``x`` as a (n_frames, L) read-only view, and their start samples."""
    starts, length = frame_starts(len(x), sr, frame_s, hop_ratio)
    if len(starts) == 0:
        return np.zeros((0, max(length, 0))), starts
    windows = np.lib.stride_tricks.sliding_window_view(x, length)
    return windows[starts], starts


def framed_rfft(
    x: np.ndarray,
    starts: np.ndarray,
    length: int,
    n_fft: int,
    window: np.ndarray,
    dtype: type = np.float32,
    prepare: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (first row, rfft block) of the frames x[s : s + length] at ``starts``, windowed, zero-padded.

    Each frame is cast to ``dtype`` (after ``prepare``, which maps a float64 block of frames to new values,
    e.g. a per-frame normalisation), multiplied by ``window`` in ``dtype`` and transformed with n_fft points —
    the same arithmetic as ``rfft(frames.astype(dtype) * window.astype(dtype), n=n_fft, axis=1)``, row for
    row, in blocks of a few MB so memory stays flat whatever the clip length.
    """
    dtype = np.dtype(dtype)
    rows = int(max(1, min(len(starts), _BLOCK_BYTES // (dtype.itemsize * n_fft))))
    buf = np.zeros((rows, n_fft + _ROW_PAD), dtype)[:, :n_fft]
    win = np.asarray(window).astype(dtype)
    # without ``prepare`` the signal is cast once, and each block is gathered and windowed in one pass (the same
    # roundings as casting every frame, then multiplying)
    source = x if prepare is not None else np.asarray(x).astype(dtype, copy=False)
    view = np.lib.stride_tricks.sliding_window_view(source, length)
    for lo in range(0, len(starts), rows):
        frames = view[starts[lo : lo + rows]]
        block = buf[: len(frames)]
        if prepare is None:
            np.multiply(frames, win, out=block[:, :length])
        else:
            block[:, :length] = prepare(frames)
            block[:, :length] *= win
        yield lo, sfft.rfft(block, axis=1)


def next_pow2(n: int) -> int:
    """2^ceil(log2 n), MATLAB's ``2^nextpow2(n)``."""
    return 1 << max(0, int(np.ceil(np.log2(max(n, 1)))))


@lru_cache(maxsize=8)
def hamming(length: int) -> np.ndarray:
    """Symmetric Hamming window 0.54 − 0.46·cos(2πn/(L−1)), cached read-only (every 30-s clip reuses one)."""
    w = np.hamming(length)
    w.setflags(write=False)
    return w


def hamming_spectrum(x: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """Complex rfft of x·Hamming zero-padded to 2^nextpow2, with bin frequencies k·fs/N (DC..Nyquist).

    Kept complex so features that need a phase-aware variant of the same spectrum (the chromagram's min-max
    normalised input) can derive it without a second 2^21-point FFT.
    """
    n, n_fft = len(x), next_pow2(len(x))
    padded = getattr(_scratch, "padded", None)
    if padded is None or len(padded) != n_fft:
        padded = _scratch.padded = np.zeros(n_fft)
    np.multiply(x, hamming(n), out=padded[:n])
    padded[n:] = 0.0
    spec = sfft.rfft(padded)
    freqs = np.arange(len(spec)) * (sr / n_fft)
    return freqs, spec


def magnitude_spectrum(x: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """``mirspectrum`` defaults on one frame: symmetric Hamming, zero-pad to 2^nextpow2, |FFT| 0..fs/2."""
    freqs, spec = hamming_spectrum(x, sr)
    return freqs, np.abs(spec)


def slope(values: np.ndarray) -> float:
    """``mirstat`` Slope of 1.7.1: z-scores regressed through the origin on uncentred t in [0, 1]."""
    x = np.asarray(values, dtype=float)
    pos = np.flatnonzero(~np.isnan(x))
    if len(pos) < 2 or len(x) < 2:
        return float("nan")
    v = x[pos]
    sd = v.std(ddof=1)
    if sd == 0:
        return float("nan")
    z = (v - v.mean()) / sd
    t = pos / (len(x) - 1)
    return float(np.sum(z * t) / np.sum(t * t))


def period_stats(values: np.ndarray, frame_period: float) -> tuple[float, float, float]:
    """``mirstat`` PeriodFreq, PeriodAmp, PeriodEntropy from the uncentred, lag-0-normalised autocorr."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n < 3 or not np.any(x):
        return float("nan"), float("nan"), float("nan")
    full = np.correlate(x, x, mode="full")[n - 1 :]
    r = full / full[0]
    p = np.abs(r) / np.sum(np.abs(r))
    entropy = float(-np.sum(p * np.log(p + 1e-12)) / np.log(n))
    rises = np.flatnonzero(np.diff(r) > 0)
    if len(rises) == 0 or not np.isfinite(frame_period) or frame_period <= 0:
        return float("nan"), float("nan"), entropy
    trimmed = r.copy()
    trimmed[: rises[0] + 1] = 0.0
    k = int(np.argmax(trimmed))
    return float(1.0 / (k * frame_period)), float(r[k]), entropy


def mirstat(values: np.ndarray, frame_period: float | None = None) -> dict[str, float]:
    """The six exported ``mirstat`` statistics (Mean, Std, Slope, PeriodFreq, PeriodAmp, PeriodEntropy).

    ``frame_period`` (seconds between frame starts) is None for irregular sequences such as attack times,
    whose PeriodFreq and PeriodAmp MIRtoolbox leaves undefined.
    """
    x = np.asarray(values, dtype=float)
    v = x[~np.isnan(x)]
    freq, amp, ent = period_stats(x, frame_period if frame_period is not None else float("nan"))
    if frame_period is None:
        freq = amp = float("nan")
    return {
        "Mean": float(v.mean()) if len(v) else float("nan"),
        "Std": float(v.std(ddof=1)) if len(v) > 1 else float("nan"),
        "Slope": slope(x),
        "PeriodFreq": freq,
        "PeriodAmp": amp,
        "PeriodEntropy": ent,
    }
