"""Dynamics features on the mono signal: ``mirrms``, ``mirlowenergy``, ``mirzerocross`` (spec §2).

MIRtoolbox 1.7.1 defaults.

All three are closed forms on the samples, so they match MIRtoolbox to rounding. Digital silence is well
defined here (RMS 0, low energy 0, zero-crossing rate 0); the extractor flags it as out of range.
"""

from __future__ import annotations

import numpy as np

from mer.features.blocks import frame_signal

LOWENERGY_FRAME_S = 0.05
LOWENERGY_HOP = 0.5


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
    frames, _ = frame_signal(np.asarray(x, dtype=np.float64), sr, LOWENERGY_FRAME_S, LOWENERGY_HOP)
    if len(frames) == 0:
        return float("nan")
    frame_rms = np.sqrt(np.einsum("ij,ij->i", frames, frames) / frames.shape[1])
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
