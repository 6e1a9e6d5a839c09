"""Decoding audio the way ``miraudio`` reads it: native rate, floats in [-1, 1], channels mixed by their mean."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf


class AudioError(ValueError):
    """A file that cannot be decoded into usable audio; the message says why."""


def load_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """Read ``path`` as mono float64 at its native sample rate (no resampling, no normalisation)."""
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: empty file")
    try:
        data, sr = sf.read(str(path), dtype="float64", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise AudioError(f"{path}: cannot decode audio ({exc})") from exc
    if data.shape[0] == 0:
        raise AudioError(f"{path}: zero samples")
    return data.mean(axis=1), int(sr)
