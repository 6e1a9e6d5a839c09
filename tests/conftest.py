"""Project-wide fixtures: a throw-away project root with small, fast training parameters."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from support import ROOT, small_params


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
