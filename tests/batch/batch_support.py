"""Helpers for the batch tests (a uniquely named module, importable from the test files)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf
from support import project_env

SR = 22_050


def subprocess_env(root: Path) -> dict[str, str]:
    """This process's environment pointed at ``root``, for a ``mer`` subprocess."""
    env = dict(os.environ) | project_env(root)
    env.pop("MER_PARAMS", None)
    env.pop("MER_MODEL_NAME", None)
    return env


def write_tone(path: Path, seconds: float, freq: float, seed: int, sr: int = SR) -> Path:
    """A few seconds of a tone with its octave and some noise: fast to extract, distinct per file."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    x = 0.3 * np.sin(2 * np.pi * freq * t) + 0.1 * np.sin(4 * np.pi * freq * t) + 0.05 * rng.standard_normal(len(t))
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, x.astype(np.float32), sr)
    return path


def make_audio_dir(folder: Path, n: int = 8) -> Path:
    """``n`` short clips (3–5 s, wav and flac alternately, the last one in a sub-folder)."""
    for i in range(n):
        ext = "flac" if i % 2 else "wav"
        sub = "more/" if i == n - 1 else ""
        write_tone(folder / f"{sub}clip{i:02d}.{ext}", 3.0 + (i % 3), 180.0 * (1 + i * 0.37), seed=i)
    return folder


def read_rows(output: Path) -> pd.DataFrame:
    """An output's windows in a canonical order (file, start), for exact comparisons."""
    return pd.read_parquet(output).sort_values(["file", "start_s"]).reset_index(drop=True)
