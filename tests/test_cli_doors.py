"""The command line's doors: ``-h`` everywhere, ``--version``, ``-o -``, runs outside a project, broken links."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import typer
from support import UCI_CSV
from typer.testing import CliRunner

from mer.cli import app

runner = CliRunner()


def _commands(group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for name, command in group.commands.items():
        out.append((*prefix, name))
        if hasattr(command, "commands"):  # a sub-group (Typer ships its own copy of click's classes)
            out += _commands(command, (*prefix, name))
    return out


COMMANDS = _commands(typer.main.get_command(app))


def test_every_command_is_listed() -> None:
    assert {("clean",), ("features",), ("predict",), ("batch",), ("run",), ("db",), ("db", "upgrade")} <= set(COMMANDS)


@pytest.mark.parametrize("command", [(), *COMMANDS], ids=lambda c: " ".join(c) or "mer")
def test_h_is_help_on_every_command(command: tuple[str, ...]) -> None:
    short = runner.invoke(app, [*command, "-h"])
    long = runner.invoke(app, [*command, "--help"])
    assert short.exit_code == 0, short.output
    assert "Usage:" in short.output and short.output == long.output


def test_version_comes_from_the_installed_package() -> None:
    from importlib.metadata import version

    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and res.output.strip() == f"mer {version('mer')}"
    proc = subprocess.run([sys.executable, "-m", "mer", "--version"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == f"mer {version('mer')}"


# ------------------------------------------------------------------------------------------- outside a project --
@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory that is no project, with nothing pointing mer anywhere else."""
    for key in ("MER_HOME", "MER_PARAMS", "MLFLOW_TRACKING_URI", "MER_DATABASE_URL", "MER_MODEL_NAME"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("args", [
    ["train"], ["register"], ["run", "--no-serve"], ["serve"], ["eda"], ["predict", str(UCI_CSV), "-o", "p.csv"],
    ["batch", str(UCI_CSV), "-o", "b.parquet"], ["playlist", "--mood", "happy", "-o", "l.m3u"], ["db", "upgrade"],
], ids=lambda a: a[0] if a[0] != "db" else "db upgrade")
def test_outside_a_project_a_command_says_where_it_looked(elsewhere: Path, args: list[str]) -> None:
    res = runner.invoke(app, args)
    assert res.exit_code == 2, res.output
    text = " ".join(res.stderr.split())
    assert f"no params.yaml in {elsewhere.resolve()} (the working directory)" in text
    assert "MER_HOME=" in text
    assert sorted(p.name for p in elsewhere.iterdir()) == []  # no mlflow.db, catalog.db, mlartifacts ...


def test_a_wrong_mer_home_is_named(elsewhere: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MER_HOME", str(elsewhere / "nowhere"))
    res = runner.invoke(app, ["train"])
    assert res.exit_code == 2
    assert f"no params.yaml in {elsewhere.resolve() / 'nowhere'} (MER_HOME)" in " ".join(res.stderr.split())


def test_a_real_subprocess_outside_a_project_leaves_nothing_behind(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MER_", "MLFLOW_"))}
    proc = subprocess.run([sys.executable, "-m", "mer", "predict", str(UCI_CSV), "-o", "out.csv"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert "not in a mer project" in proc.stderr and "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_commands_that_need_no_project_work_anywhere(elsewhere: Path) -> None:
    res = runner.invoke(app, ["clean", str(UCI_CSV), "-o", "clean.csv"])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in elsewhere.iterdir()) == ["clean.csv", "clean.report.json"]


# ------------------------------------------------------------------------------------------------------- -o - --
def test_clean_to_stdout_writes_only_the_table(elsewhere: Path) -> None:
    res = runner.invoke(app, ["clean", str(UCI_CSV), "-o", "-"])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(io.StringIO(res.stdout))
    assert len(table) == 400 and table.columns[0] == "Class"
    assert "400 of 400 rows kept" in res.stderr and "Report: not written" in res.stderr
    assert list(elsewhere.iterdir()) == []


def test_batch_refuses_stdout_for_parquet(tmp_path: Path) -> None:
    res = runner.invoke(app, ["batch", str(UCI_CSV), "-o", "-"])
    assert res.exit_code != 0
    assert "standard output" in res.stderr and "Parquet" in res.stderr


def _tone(path: Path, seconds: float = 2.0, freq: float = 440.0) -> Path:
    import numpy as np
    import soundfile as sf

    sr = 22_050
    t = np.arange(int(seconds * sr)) / sr
    x = 0.3 * np.sin(2 * np.pi * freq * t) + 0.02 * np.random.default_rng(0).standard_normal(len(t))
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, x.astype(np.float32), sr)
    return path


def test_features_to_stdout_and_a_broken_link_is_an_error(tmp_path: Path) -> None:
    music = tmp_path / "music"
    _tone(music / "a.wav")
    _tone(music / "sub" / "b.flac", freq=660.0)
    (music / "gone.wav").symlink_to(tmp_path / "deleted.wav")
    res = runner.invoke(app, ["features", str(music), "-o", "-"])
    assert res.exit_code == 0, res.output
    rows = pd.read_csv(io.StringIO(res.stdout))
    assert sorted(Path(f).name for f in rows["file"]) == ["a.wav", "b.flac"]
    err = " ".join(res.stderr.split())
    assert f"{music / 'gone.wav'}: broken symbolic link (to {tmp_path / 'deleted.wav'})" in err
    assert "1 files failed" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["music"]  # no errors file beside a '-'


def test_features_to_a_file_lists_the_broken_link_in_the_errors_file(tmp_path: Path) -> None:
    music = tmp_path / "music"
    _tone(music / "a.wav")
    (music / "gone.flac").symlink_to("missing.flac")
    out = tmp_path / "f.csv"
    res = runner.invoke(app, ["features", str(music), "-o", str(out)])
    assert res.exit_code == 0, res.output
    errors = pd.read_csv(out.with_suffix(".errors.csv"))
    assert list(errors["file"]) == [str(music / "gone.flac")]
    assert errors["error"][0] == "broken symbolic link (to missing.flac)"


def test_features_fails_when_every_file_is_a_broken_link(tmp_path: Path) -> None:
    music = tmp_path / "music"
    music.mkdir()
    (music / "gone.wav").symlink_to("missing.wav")
    res = runner.invoke(app, ["features", str(music), "-o", str(tmp_path / "f.csv")])
    assert res.exit_code == 1
    assert "broken symbolic link" in res.stderr
