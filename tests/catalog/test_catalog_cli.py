"""``mer playlist`` and ``mer db upgrade`` through the real Typer app."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from catalog_helpers import proba_for, track_args
from typer.testing import CliRunner

from mer.catalog import current_revision, head_revision, save_track, session_scope
from mer.cli import app

runner = CliRunner()


def _fill(url: str) -> dict[str, int]:
    ids = {}
    for h, label, conf in [("calm_sea", "relax", 0.9), ("storm", "angry", 0.8), ("drift", "relax", 0.6)]:
        with session_scope(url) as s:
            ids[h] = save_track(s, **track_args(h, proba_for(label, conf), path=f"/music/{h}.flac"))
    return ids


def test_playlist_writes_a_valid_m3u(db_url: str, tmp_path: Path) -> None:
    _fill(db_url)
    out = tmp_path / "relax.m3u"
    res = runner.invoke(app, ["playlist", "--mood", "relax", "--limit", "2", "-o", str(out), "--db", db_url])
    assert res.exit_code == 0, res.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "#EXTM3U"
    entries = [line for line in lines[1:] if not line.startswith("#PLAYLIST")]
    assert len(entries) == 4
    for info, path in zip(entries[::2], entries[1::2], strict=True):
        assert info.startswith("#EXTINF:30,") and not path.startswith("#")
    assert entries[1::2] == ["/music/calm_sea.flac", "/music/drift.flac"]


def test_playlist_csv_and_mood_synonyms(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    assert runner.invoke(app, ["db", "upgrade", "--db", url]).exit_code == 0
    _fill(url)
    out = tmp_path / "lists" / "calm.csv"
    res = runner.invoke(app, ["playlist", "--mood", "calm", "-o", str(out), "--db", url])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["path"] for r in rows][:2] == ["/music/calm_sea.flac", "/music/drift.flac"]
    assert [r["rank"] for r in rows] == ["1", "2", "3"]


def test_db_upgrade_creates_and_reports_the_revision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'env.db'}"
    monkeypatch.setenv("MER_DATABASE_URL", url)  # the default --db comes from the environment
    for _ in range(2):
        res = runner.invoke(app, ["db", "upgrade"])
        assert res.exit_code == 0, res.output
    assert head_revision() in res.output
    assert current_revision(url) == head_revision()


def test_unknown_mood_fails_with_one_line(tmp_path: Path) -> None:
    res = runner.invoke(app, ["playlist", "--mood", "jazzy", "-o", str(tmp_path / "x.m3u"),
                              "--db", f"sqlite:///{tmp_path / 'c.db'}"])
    assert res.exit_code != 0
    assert "unknown mood 'jazzy'" in res.output and len(res.output.strip().splitlines()) == 1
    assert not (tmp_path / "x.m3u").exists()


def test_playlist_without_a_catalog_fails_and_creates_nothing(tmp_path: Path) -> None:
    res = runner.invoke(app, ["playlist", "--mood", "sad", "-o", str(tmp_path / "x.m3u"),
                              "--db", f"sqlite:///{tmp_path / 'none.db'}"])
    assert res.exit_code != 0 and "mer db upgrade" in res.output
    assert not (tmp_path / "none.db").exists()


@pytest.mark.parametrize("command", [["playlist"], ["db"], ["db", "upgrade"]])
def test_help(command: list[str]) -> None:
    res = runner.invoke(app, [*command, "--help"])
    assert res.exit_code == 0 and "Usage" in res.output
