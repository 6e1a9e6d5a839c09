"""The catalog loader on SQLite and PostgreSQL, the CLI with CliRunner, and GET /v1/monitor."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from catalog_helpers import proba_for, track_args
from typer.testing import CliRunner

from mer.catalog import add_feedback, save_track, session_scope
from mer.cli import app
from mer.monitor.catalog import build_report, load_feedback, load_windows
from mer.schema import FEATURE_NAMES

ROOT = Path(__file__).resolve().parents[2]


def fill(url: str) -> list[int]:
    """Three tracks of four windows (angry, sad, relax); feedback on two windows and one track."""
    ids = []
    with session_scope(url) as session:
        for k, label in enumerate(("angry", "sad", "relax")):
            proba = np.stack([proba_for(label, c) for c in (0.9, 0.8, 0.6, 0.95)])
            ids.append(save_track(session, **track_args(f"h{k}", proba, seed=k)))
    with session_scope(url) as session:
        from sqlalchemy import select

        from mer.catalog.models import Window

        first = session.execute(select(Window.id).where(Window.track_id == ids[0]).order_by(Window.index)).scalars()
        w = list(first)
        add_feedback(session, label="happy", source="test", track_id=ids[0], window_id=w[0])
        add_feedback(session, label="angry", source="test", track_id=ids[0], window_id=w[1])
        add_feedback(session, label="sad", source="test", track_id=ids[1])
    return ids


def test_loader_reads_windows_verdicts_features_and_feedback(db_url: str) -> None:
    ids = fill(db_url)
    with session_scope(db_url) as session:
        windows = load_windows(session)
        assert len(windows) == 12 and set(windows["track_id"]) == set(ids)
        assert set(FEATURE_NAMES) <= set(windows.columns)
        assert windows[list(FEATURE_NAMES)].isna().sum().sum() == 3  # one NaN feature per track (the helper's)
        assert windows["ood"].sum() == 6 and set(windows["decision"]) == {"accept", "review"}
        assert set(windows["model_version"]) == {"1"}
        lw, lt = load_feedback(session, windows)
        assert sorted(lw["true"]) == ["angry", "happy"] and set(lw["label"]) == {"angry"}
        assert list(lt["true"]) == ["sad"] and list(lt["label"]) == ["sad"]
        future = datetime.now(UTC) + timedelta(days=1)
        assert len(load_windows(session, since=future)) == 0
        assert len(load_windows(session, until=future.replace(tzinfo=None))) == 12
        assert len(load_windows(session, until=datetime(2000, 1, 1))) == 0


def test_build_report_on_the_catalog(db_url: str, training_rows, tmp_path: Path) -> None:
    fill(db_url)
    ref = tmp_path / "uci_clean.csv"
    training_rows.to_csv(ref, index=False)
    params = {"data": {"train_on": "uci", "dedupe_exact": True}, "monitor": {"min_windows": 5, "min_labelled": 1}}
    report, reference, windows = build_report(db_url, params, reference_path=ref)
    assert report["windows"]["n"] == 12 and report["reference"]["rows"] == len(training_rows) == len(reference)
    assert report["feedback"]["windows"]["n"] == 2 and report["feedback"]["tracks"]["n"] == 1
    assert report["models"] == [{"name": "music-emotion", "version": "1", "windows": 12}]
    # the helper's features are standard normal: nothing like music, so many features drift
    assert len(report["drifted"]) > 10
    json.dumps(report)


@pytest.fixture
def project(tmp_path: Path, training_rows) -> Path:
    (tmp_path / "data" / "interim").mkdir(parents=True)
    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    training_rows.to_csv(tmp_path / "data" / "interim" / "uci_clean.csv", index=False)
    return tmp_path


def test_cli_writes_html_and_json(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mer.catalog import init_db

    url = f"sqlite:///{tmp_path / 'cat.db'}"
    init_db(url)
    fill(url)
    monkeypatch.setenv("MER_HOME", str(project))
    out, js = tmp_path / "r" / "report.html", tmp_path / "r" / "report.json"
    res = CliRunner().invoke(app, ["monitor", "--db", url, "-o", str(out), "--json", str(js),
                                   "--since", "2000-01-01"])
    assert res.exit_code == 0, res.output
    report = json.loads(js.read_text())
    assert set(report["features"]) == set(FEATURE_NAMES)
    assert all(set(v) >= {"psi", "ks_p", "drift"} for v in report["features"].values())
    assert report["alerts"] and all(set(a) == {"kind", "subject", "value", "threshold", "message"}
                                    for a in report["alerts"])
    assert [a["kind"] for a in report["alerts"]] == ["too_few_windows"]  # 12 windows < min_windows 30
    page = out.read_text()
    assert page.startswith("<!doctype html>") and page.count("data:image/png;base64,") >= 3
    assert "http://" not in page and "https://" not in page  # self-contained
    bad = CliRunner().invoke(app, ["monitor", "--db", url, "--since", "yesterday"])
    assert bad.exit_code != 0 and "not a date" in bad.output
    none = CliRunner().invoke(app, ["monitor", "--db", f"sqlite:///{tmp_path / 'none.db'}"])
    assert none.exit_code == 2


def test_get_v1_monitor(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    from mer.api.app import create_app
    from mer.api.config import ServeConfig
    from mer.api.model_service import ModelService
    from mer.catalog import init_db

    url = f"sqlite:///{tmp_path / 'cat.db'}"
    init_db(url)
    fill(url)
    monkeypatch.setenv("MER_HOME", str(project))
    service = ModelService("no-such-model", "champion", 3600.0, False)
    with TestClient(create_app(ServeConfig(database_url=url), service)) as client:
        res = client.get("/v1/monitor", params={"since": "2000-01-01T00:00:00"})
        assert res.status_code == 200, res.text
        body = res.json()
        assert body["windows"]["n"] == 12 and len(body["features"]) == 50
        assert body["latency_p95_ms"] is None and "omitted" in body["latency_note"]
        assert client.get("/v1/monitor", params={"since": "nonsense"}).status_code == 422


def test_a_reference_other_than_the_served_models_rows_is_an_alert(db_url: str, training_rows, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import mer.monitor.catalog as cat

    fill(db_url)
    ref = tmp_path / "uci_clean.csv"
    training_rows.to_csv(ref, index=False)
    params = {"data": {"train_on": "uci"}}
    served = {"name": "music-emotion", "version": "3", "cleaned_sha256": "0" * 64}
    monkeypatch.setattr(cat, "served_training", lambda params: served)
    report, _, _ = build_report(db_url, params, reference_path=ref)
    assert report["reference"]["matches_served"] is False
    assert [a["kind"] for a in report["alerts"]][-1] == "reference"
    from mer.hashing import sha256_file

    served["cleaned_sha256"] = sha256_file(ref)
    report, _, _ = build_report(db_url, params, reference_path=ref)
    assert report["reference"]["matches_served"] is True
    assert "reference" not in [a["kind"] for a in report["alerts"]]


def test_a_rescored_window_counts_once_with_its_latest_verdict_and_time(db_url: str) -> None:
    from sqlalchemy import select

    from mer.catalog.models import Prediction, Window

    fill(db_url)
    later = datetime.now(UTC) + timedelta(hours=1)
    with session_scope(db_url) as session:
        wid = session.execute(select(Window.id).order_by(Window.id)).scalars().first()
        session.add(Prediction(window_id=wid, p_happy=0.9, p_sad=0.04, p_angry=0.03, p_relax=0.03, label="happy",
                               confidence=0.9, decision="accept", model_name="music-emotion", model_version="2",
                               created_at=later))
        session.commit()
        windows = load_windows(session)
        assert len(windows) == 12
        row = windows.set_index("window_id").loc[wid]
        assert (row["label"], row["model_version"]) == ("happy", "2")
        recent = load_windows(session, since=later - timedelta(minutes=1))
        assert list(recent["window_id"]) == [wid]
        before = load_windows(session, until=later - timedelta(minutes=1))
        assert wid not in set(before["window_id"]) and len(before) == 11
