"""Resumability for real: ``kill -9`` a running ``mer batch``, rerun it, and get exactly a clean run's rows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pandas as pd
from batch_support import make_audio_dir, read_rows, subprocess_env
from typer.testing import CliRunner

from mer.cli import app

STARTUP_TIMEOUT_S = 600  # loading MLflow and the model in a fresh process is slow on a busy machine


def run(*args: str | Path) -> str:
    result = CliRunner().invoke(app, ["batch", *map(str, args)])
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def committed_parts(out: Path) -> list[Path]:
    parts = out.with_suffix(".parts")
    return sorted(parts.glob("part-*")) if parts.is_dir() else []


def processes_with(token: str) -> list[int]:
    """Pids of the processes whose environment holds ``token`` (the batch process and everything it started)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and token.encode() in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def test_kill_9_then_rerun_gives_exactly_the_rows_of_a_clean_run(in_project: Path, tmp_path: Path) -> None:
    music = make_audio_dir(tmp_path / "music", n=8)
    out = tmp_path / "killed.parquet"
    token = f"MER_BATCH_TEST_RUN={uuid.uuid4().hex}"
    cmd = [sys.executable, "-m", "mer", "batch", str(music), "-o", str(out), "--workers", "2", "--part-size", "1"]
    env = subprocess_env(in_project) | dict([token.split("=")])
    proc = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while len(committed_parts(out)) < 2:
            assert proc.poll() is None, f"mer batch ended before it was killed: {proc.stderr.read().decode()}"
            assert time.monotonic() < deadline, "no part committed in time"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    deadline = time.monotonic() + 30
    while processes_with(token) and time.monotonic() < deadline:  # the pool's workers follow their parent
        time.sleep(0.2)
    assert processes_with(token) == [], "worker processes outlived the killed batch"
    done_before = len(committed_parts(out))
    assert 2 <= done_before < 8, "the run finished before the kill: nothing was tested"
    assert not out.exists()  # the merged output is written only at the end
    # what a kill inside write_part leaves: a half-written part, which must not be trusted
    half = out.with_suffix(".parts") / ".tmp-0badc0de"
    half.mkdir(exist_ok=True)
    (half / "windows.parquet").write_bytes(b"PAR1 cut short")

    resumed = run(music, "-o", out, "--workers", "1", "--part-size", "1")
    assert f"{8 - done_before} files scored, 0 failed, {done_before} already done" in resumed
    assert not half.exists()
    clean = tmp_path / "clean.parquet"
    run(music, "-o", clean, "--workers", "1")

    got, want = read_rows(out), read_rows(clean)
    assert len(got) == 8 and not got.duplicated(["content_hash", "start_s"]).any()
    pd.testing.assert_frame_equal(got, want)
    pd.testing.assert_frame_equal(
        pd.read_parquet(out.with_suffix(".tracks.parquet")), pd.read_parquet(clean.with_suffix(".tracks.parquet"))
    )
