"""Project-wide fixtures: a throw-away project root with small, fast training parameters."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import make_project, point_mer_at, small_params


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A throw-away project root with the raw data, the example file and small params; MLflow in it."""
    point_mer_at(monkeypatch, make_project(tmp_path, small_params()))
    return tmp_path
