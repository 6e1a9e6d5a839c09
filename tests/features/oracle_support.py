"""The MIRtoolbox 1.7.1 reference values and their audio, for the extractor's fidelity tests.

A uniquely named module (``from conftest import`` resolves to whichever conftest was imported first).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from mer.features.audio import load_audio

ORACLE_DIR = Path(__file__).resolve().parents[1] / "oracle"


@cache
def oracle_table() -> pd.DataFrame:
    """``oracle_features.csv`` indexed by file name (e.g. ``wesnoth_sad.flac``)."""
    return pd.read_csv(ORACLE_DIR / "oracle_features.csv").set_index("file")


@cache
def oracle_audio(name: str) -> tuple[np.ndarray, int]:
    """Mono samples and rate of one reference file, decoded once per test session."""
    return load_audio(ORACLE_DIR / name)


ORACLE_FILES: list[str] = sorted(oracle_table().index)
REAL_FILES: list[str] = [f for f in ORACLE_FILES if f.startswith("wesnoth_")]
