"""``dvc repro`` in a fresh copy of the project with no remote and no network, then a no-op second run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support import LENIENT_GATES, ROOT, small_params

COPY = ("dvc.yaml", "src", "data/raw", "data/examples", ".dvc/config", ".dvcignore")


def _run(cmd: list[str], cwd: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


@pytest.mark.slow
def test_dvc_repro_runs_from_scratch_and_then_is_a_noop(tmp_path: Path) -> None:
    for rel in COPY:
        src, dst = ROOT / rel, tmp_path / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(src, dst)
    params = small_params()
    params["gates"] |= LENIENT_GATES
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MER_", "MLFLOW_"))}
    env |= {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}", "DVC_NO_ANALYTICS": "1"}
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    assert _run([*git, "init", "-q"], tmp_path, env).returncode == 0
    assert _run([*git, "add", "-A"], tmp_path, env).returncode == 0
    assert _run([*git, "commit", "-qm", "copy"], tmp_path, env).returncode == 0

    first = _run(["dvc", "repro"], tmp_path, env)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    for out in ("data/interim/uci_clean.csv", "data/processed/development.csv", "artifacts/model/MLmodel",
                "reports/metrics.json", "reports/registration.json", "reports/eda/index.html", "dvc.lock"):
        assert (tmp_path / out).exists(), out
    lock = yaml.safe_load((tmp_path / "dvc.lock").read_text())
    hashed = {d["path"] for stage in lock["stages"].values() for d in stage.get("deps", []) + stage.get("outs", [])}
    assert {"data/raw/acoustic_features.csv", "data/interim/uci_clean.csv", "data/processed"} <= hashed

    second = _run(["dvc", "repro"], tmp_path, env)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "Running stage" not in second.stdout
    status = _run(["dvc", "status"], tmp_path, env)
    assert "up to date" in status.stdout
