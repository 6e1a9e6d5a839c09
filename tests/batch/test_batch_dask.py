"""The same job on a local Dask cluster (two worker processes) gives exactly the local rows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from batch_support import read_rows
from typer.testing import CliRunner

from mer.cli import app


def run(*args: str | Path) -> str:
    result = CliRunner().invoke(app, ["batch", *map(str, args)])
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def test_dask_local_cluster_equals_the_local_run(in_project: Path, audio_dir: Path, tmp_path: Path) -> None:
    local, dask = tmp_path / "local.parquet", tmp_path / "dask.parquet"
    run(audio_dir, "-o", local, "--workers", "1")
    assert "8 files scored, 0 failed" in run(audio_dir, "-o", dask, "--dask", "local:2", "--part-size", "3")
    pd.testing.assert_frame_equal(read_rows(dask), read_rows(local))
    pd.testing.assert_frame_equal(pd.read_parquet(dask.with_suffix(".tracks.parquet")),
                                  pd.read_parquet(local.with_suffix(".tracks.parquet")))
    # a finished Dask job resumes like a local one: nothing left to score, no cluster work
    assert "0 files scored, 0 failed, 8 already done" in run(audio_dir, "-o", dask, "--dask", "local:2")
