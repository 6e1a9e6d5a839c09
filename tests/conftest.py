"""Shared fixtures: project paths and small, fast training parameters."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
UCI_CSV = RAW / "acoustic_features.csv"
COURSE_CSV = RAW / "turkish_music_emotion_modified.csv"


def small_params(candidate: str = "logreg") -> dict:
    """The project's params.yaml shrunk to seconds: one 3-fold CV repeat, a 2-fold inner search."""
    params = copy.deepcopy(yaml.safe_load((ROOT / "params.yaml").read_text()))
    params["cv"] |= {"folds": 3, "repeats": 1, "n_jobs": 1}
    params["model"] |= {"candidate": candidate, "inner_folds": 2}
    return params


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A throw-away project root with the raw data, the example file and small params; MLflow in it."""
    (tmp_path / "data").mkdir()
    for sub in ("raw", "examples"):
        src = ROOT / "data" / sub
        dst = tmp_path / "data" / sub
        dst.mkdir()
        for f in src.iterdir():
            (dst / f.name).write_bytes(f.read_bytes())
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(small_params()))
    monkeypatch.setenv("MER_HOME", str(tmp_path))
    monkeypatch.delenv("MER_PARAMS", raising=False)
    monkeypatch.delenv("MER_MODEL_NAME", raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.chdir(tmp_path)
    return tmp_path
