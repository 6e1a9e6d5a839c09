"""Fixtures for batch scoring: one small model trained once per session in a throw-away project, short audio."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from batch_support import make_audio_dir, project_env
from support import LENIENT_GATES, ROOT, small_params
from typer.testing import CliRunner


@pytest.fixture(scope="session")
def trained_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with a champion registered by ``mer run`` (small logreg, lenient gates) — trained once."""
    from mer.cli import app

    root = tmp_path_factory.mktemp("batch_project")
    for sub in ("raw", "examples"):
        (root / "data" / sub).mkdir(parents=True)
        for f in (ROOT / "data" / sub).iterdir():
            (root / "data" / sub / f.name).write_bytes(f.read_bytes())
    params = small_params("logreg") | {"gates": LENIENT_GATES}
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    with pytest.MonkeyPatch.context() as mp:
        for key, value in project_env(root).items():
            mp.setenv(key, value)
        mp.delenv("MER_PARAMS", raising=False)
        mp.delenv("MER_MODEL_NAME", raising=False)
        mp.chdir(root)
        result = CliRunner().invoke(app, ["run", "--no-serve"])
    assert result.exit_code == 0 and "as champion" in result.output, result.output
    return root


@pytest.fixture
def in_project(trained_project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Point mer at the trained project for this test; the working directory is the test's own tmp dir."""
    for key, value in project_env(trained_project).items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("MER_PARAMS", raising=False)
    monkeypatch.delenv("MER_MODEL_NAME", raising=False)
    monkeypatch.chdir(tmp_path)
    return trained_project


@pytest.fixture(scope="session")
def audio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Eight short clips shared by the tests that only read them."""
    return make_audio_dir(tmp_path_factory.mktemp("audio"))
