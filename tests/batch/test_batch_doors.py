"""``mer batch`` doors: every file failing is an error, broken links are reported, logs get progress lines."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
from batch_support import make_audio_dir, subprocess_env
from typer.testing import CliRunner

from mer.cli import app

runner = CliRunner()


def test_every_file_failing_exits_non_zero_and_says_so(in_project: Path, tmp_path: Path) -> None:
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "a.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEgarbage")
    (junk / "b.flac").write_bytes(b"not audio at all")
    out = tmp_path / "out.parquet"
    for _ in range(2):  # the rerun skips the recorded errors and is still a batch of failures
        res = runner.invoke(app, ["batch", str(junk), "-o", str(out), "--workers", "1"])
        assert res.exit_code == 1, res.output
        assert "every file failed" in " ".join(res.stderr.split())
    assert len(pd.read_csv(out.with_suffix(".errors.csv"))) == 2


def test_one_success_is_enough_for_exit_zero(in_project: Path, tmp_path: Path) -> None:
    music = make_audio_dir(tmp_path / "music", n=1)
    (music / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEgarbage")
    res = runner.invoke(app, ["batch", str(music), "-o", str(tmp_path / "o.parquet"), "--workers", "1"])
    assert res.exit_code == 0, res.output
    assert "1 files scored, 1 failed" in " ".join(res.output.split())


def test_a_broken_symlink_in_a_folder_is_a_per_file_error(in_project: Path, tmp_path: Path) -> None:
    music = make_audio_dir(tmp_path / "music", n=2)
    (music / "gone.flac").symlink_to(tmp_path / "deleted.flac")
    (music / "loop.wav").symlink_to(music / "loop.wav")
    out = tmp_path / "o.parquet"
    res = runner.invoke(app, ["batch", str(music), "-o", str(out), "--workers", "1"])
    assert res.exit_code == 0, res.output
    errors = pd.read_csv(out.with_suffix(".errors.csv")).set_index("file")["error"].to_dict()
    assert errors == {str(music / "gone.flac"): f"broken symbolic link (to {tmp_path / 'deleted.flac'})",
                      str(music / "loop.wav"): f"broken symbolic link (to {music / 'loop.wav'})"}
    assert len(pd.read_parquet(out.with_suffix(".tracks.parquet"))) == 2


def test_a_folder_of_broken_links_only_fails(in_project: Path, tmp_path: Path) -> None:
    music = tmp_path / "music"
    music.mkdir()
    (music / "gone.wav").symlink_to("nowhere.wav")
    out = tmp_path / "o.parquet"
    res = runner.invoke(app, ["batch", str(music), "-o", str(out), "--workers", "1"])
    assert res.exit_code == 1, res.output
    assert "every file failed" in " ".join(res.stderr.split())
    assert list(pd.read_csv(out.with_suffix(".errors.csv"))["error"]) == ["broken symbolic link (to nowhere.wav)"]


_LINE = re.compile(r"^batch: (?P<what>hashing|scoring) (?P<done>\d+)/(?P<total>\d+) files \((?P<pct>\d+) %\)")


def test_a_log_gets_plain_progress_lines(in_project: Path, audio_dir: Path, tmp_path: Path) -> None:
    log = tmp_path / "batch.log"
    env = subprocess_env(in_project) | {"MER_PROGRESS_SECONDS": "0"}
    with open(log, "w") as fh:  # stdout and stderr are a file, as under nohup or a scheduler
        proc = subprocess.run([sys.executable, "-m", "mer", "batch", str(audio_dir), "-o", str(tmp_path / "o.parquet"),
                               "--workers", "1"], cwd=tmp_path, env=env, stdout=fh, stderr=subprocess.STDOUT,
                              timeout=600)
    text = log.read_text()
    assert proc.returncode == 0, text
    found = [(m["what"], int(m["done"]), int(m["total"])) for m in map(_LINE.match, text.splitlines()) if m]
    assert [f for f in found if f[0] == "hashing"][-1] == ("hashing", 8, 8)
    assert [f for f in found if f[0] == "scoring"] == [("scoring", i, 8) for i in range(1, 9)]
    # the rate is "N files/s", or "N s per file" on a slow machine
    assert re.search(r"^batch: scoring 4/8 files \(50 %\), [\d.,]+ (files/s|s per file), elapsed [\dhms]+, "
                     r"eta [\dhms]+$", text, re.M)
    assert "\x1b[" not in text and "━" not in text  # no live bar drawn into the log
    assert "8 files scored, 0 failed" in " ".join(text.split())


def test_the_log_lines_are_periodic(in_project: Path, audio_dir: Path, tmp_path: Path) -> None:
    env = subprocess_env(in_project) | {"MER_PROGRESS_SECONDS": "3600"}
    proc = subprocess.run([sys.executable, "-m", "mer", "batch", str(audio_dir), "-o", str(tmp_path / "o.parquet"),
                           "--workers", "1"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("batch: ")]
    # the first and the last state of each stage, nothing in between
    assert [line.split(",")[0] for line in lines] == [
        "batch: hashing 1/8 files (12 %)", "batch: hashing 8/8 files (100 %)",
        "batch: scoring 1/8 files (12 %)", "batch: scoring 8/8 files (100 %)"]
    assert os.path.exists(tmp_path / "o.parquet")


def test_predict_writes_to_stdout(in_project: Path, tmp_path: Path) -> None:
    from support import UCI_CSV

    res = runner.invoke(app, ["predict", str(UCI_CSV), "-o", "-"])
    assert res.exit_code == 0, res.output
    scored = pd.read_csv(io.StringIO(res.stdout))  # nothing but the table on stdout
    assert len(scored) == 400 and {"label", "decision"} <= set(scored.columns)
    assert not (tmp_path / "-").exists()
