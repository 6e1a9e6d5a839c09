"""A track's path in the catalog: an upload of content a batch already catalogued keeps the batch's full path; the
paths reach ``mer playlist -o -`` on stdout."""

from __future__ import annotations

import io

import pandas as pd
from catalog_helpers import proba_for, track_args
from typer.testing import CliRunner

from mer.catalog import get_track, save_track, session_scope
from mer.cli import app


def _save(url: str, path: str, version: str = "1") -> int:
    with session_scope(url) as s:
        return save_track(s, **track_args("same_bytes", proba_for("happy", 0.9), path=path, model_version=version))


def _path(url: str, track_id: int) -> str:
    with session_scope(url) as s:
        return get_track(s, track_id)["path"]


def test_an_upload_keeps_the_path_a_batch_catalogued(db_url: str) -> None:
    batch_id = _save(db_url, "/srv/music/album/song.flac")
    upload_id = _save(db_url, "song.flac", version="2")  # the API knows only the upload's file name
    assert upload_id == batch_id
    assert _path(db_url, batch_id) == "/srv/music/album/song.flac"


def test_a_batch_gives_an_uploaded_track_its_full_path(db_url: str) -> None:
    track_id = _save(db_url, "upload.flac")
    assert _save(db_url, "/srv/music/upload.flac") == track_id
    assert _path(db_url, track_id) == "/srv/music/upload.flac"


def test_a_moved_file_gets_its_new_path_and_a_new_upload_name_replaces_an_old_one(db_url: str) -> None:
    track_id = _save(db_url, "/old/place/a.flac")
    _save(db_url, "/new/place/a.flac")
    assert _path(db_url, track_id) == "/new/place/a.flac"
    other = save_track_bare(db_url, "first.flac")
    save_track_bare(db_url, "second.flac")
    assert _path(db_url, other) == "second.flac"


def save_track_bare(url: str, name: str) -> int:
    with session_scope(url) as s:
        return save_track(s, **track_args("uploaded_only", proba_for("sad", 0.8), path=name))


def test_playlist_to_stdout(db_url: str) -> None:
    for name, label in (("a", "relax"), ("b", "relax"), ("c", "angry")):
        with session_scope(db_url) as s:
            save_track(s, **track_args(name, proba_for(label, 0.9), path=f"/music/{name}.flac"))
    runner = CliRunner()
    res = runner.invoke(app, ["playlist", "--mood", "relax", "--limit", "2", "-o", "-", "--db", db_url])
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines()[0] == "#EXTM3U" and res.stdout.splitlines()[3::2] == ["/music/a.flac",
                                                                                         "/music/b.flac"]
    assert "standard output" in res.stderr
    res = runner.invoke(app, ["playlist", "--mood", "relax", "-o", "-", "--csv", "--db", db_url])
    assert list(pd.read_csv(io.StringIO(res.stdout))["path"])[:2] == ["/music/a.flac", "/music/b.flac"]
