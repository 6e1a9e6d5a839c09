"""Dynamics features on the mono signal: ``mirrms``, ``mirlowenergy``, ``mirzerocross`` (spec §2).

MIRtoolbox 1.7.1 defaults.

All three are closed forms on the samples, so they match MIRtoolbox to rounding. Digital silence is well
defined here (RMS 0, low energy 0, zero-crossing rate 0); the extractor flags it as out of range.
"""

from __future__ import annotations

import numpy as np

from mer.features.blocks import frame_starts

LOWENERGY_FRAME_S = 0.05
LOWENERGY_HOP = 0.5
_BLOCK_BYTES = 2**20


def rms(x: np.ndarray, sr: int) -> float:
    """``_RMSenergy_Mean``: sqrt(mean x²) over the whole, un-normalised file (``mirrms`` does not frame)."""
    x = np.asarray(x, dtype=np.float64)
    if len(x) == 0:
        return float("nan")
    return float(np.sqrt(np.dot(x, x) / len(x)))


def lowenergy(x: np.ndarray, sr: int) -> float:
    """``_Lowenergy_Mean``: share of 50 ms frames (hop 25 ms) whose RMS is strictly below the mean frame RMS.

    MIRtoolbox compares the frame *RMS* (not energy) with 1.0 × its mean. A clip shorter than one frame has no
    frames and gives NaN.
    """
    x = np.asarray(x, dtype=np.float64)
    starts, length = frame_starts(len(x), sr, LOWENERGY_FRAME_S, LOWENERGY_HOP)
    if len(starts) == 0:
        return float("nan")
    view = np.lib.stride_tricks.sliding_window_view(x, length)
    energy = np.empty(len(starts))
    rows = max(1, _BLOCK_BYTES // (8 * length))
    for lo in range(0, len(starts), rows):  # frames gathered a few MB at a time, not all at once
        frames = view[starts[lo : lo + rows]]
        energy[lo : lo + rows] = np.einsum("ij,ij->i", frames, frames)
    frame_rms = np.sqrt(energy / length)
    return float(np.mean(frame_rms < frame_rms.mean()))


def zerocross(x: np.ndarray, sr: int) -> float:
    """``_Zero-crossingrate_Mean``: sign changes per second, direction 'One' (count / N · fs / 2).

    A crossing is x[n]·x[n+1] < 0, so exact zeros never count, as in MIRtoolbox.
    """
    x = np.asarray(x, dtype=np.float64)
    if len(x) == 0:
        return float("nan")
    a, b = x[:-1], x[1:]
    crossings = np.count_nonzero((np.signbit(a) != np.signbit(b)) & (a != 0) & (b != 0))
    return float(crossings / len(x) * sr / 2.0)
