"""Fixtures for batch scoring: one small model trained once per session in a throw-away project, short audio."""

from __future__ import annotations

from pathlib import Path

import pytest
from batch_support import make_audio_dir
from support import LENIENT_GATES, make_project, point_mer_at, small_params
from typer.testing import CliRunner


@pytest.fixture(scope="session")
def trained_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with a champion registered by ``mer run`` (small logreg, lenient gates) — trained once."""
    from mer.cli import app

    root = make_project(tmp_path_factory.mktemp("batch_project"), small_params("logreg") | {"gates": LENIENT_GATES})
    with pytest.MonkeyPatch.context() as mp:
        point_mer_at(mp, root)
        result = CliRunner().invoke(app, ["run", "--no-serve"])
    assert result.exit_code == 0 and "as champion" in result.output, result.output
    return root


@pytest.fixture
def in_project(trained_project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Point mer at the trained project for this test; the working directory is the test's own tmp dir."""
    point_mer_at(monkeypatch, trained_project, cwd=tmp_path)
    return trained_project


@pytest.fixture(scope="session")
def audio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Eight short clips shared by the tests that only read them."""
    return make_audio_dir(tmp_path_factory.mktemp("audio"))
