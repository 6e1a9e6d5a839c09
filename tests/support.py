"""Shared test helpers (a uniquely named module: ``from conftest import`` is ambiguous with nested conftests)."""

from __future__ import annotations

import copy
import socket
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
UCI_CSV = RAW / "acoustic_features.csv"
COURSE_CSV = RAW / "turkish_music_emotion_modified.csv"
# gates a small test model passes for sure, so tests exercise registration rather than model quality
LENIENT_GATES = {"min_macro_f1": 0.5, "min_accuracy": 0.5, "min_class_f1": 0.3, "holdout_z": 10.0}


def small_params(candidate: str = "logreg") -> dict:
    """The project's params.yaml shrunk to seconds: one 3-fold CV repeat, a 2-fold inner search."""
    params = copy.deepcopy(yaml.safe_load((ROOT / "params.yaml").read_text()))
    params["cv"] |= {"folds": 3, "repeats": 1, "n_jobs": 1}
    params["model"] |= {"candidate": candidate, "inner_folds": 2}
    return params


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (for servers the tests start)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
