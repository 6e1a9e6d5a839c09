"""POST /v1/predict/audio: a real 30-s clip → one window in the timeline and a catalog entry; bad uploads → 4xx."""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf
from api_support import API_KEY, ORACLE, make_config, wait_ready
from fastapi.testclient import TestClient

from mer.api import create_app

KEY = {"X-API-Key": API_KEY}
CLIP = ORACLE / "wesnoth_sad.flac"


def _upload(client: TestClient, name: str, data: bytes, headers=KEY, **params):
    return client.post("/v1/predict/audio", files={"file": (name, data, "application/octet-stream")},
                       headers=headers, params=params)


def test_a_30_s_clip_gives_a_one_window_timeline_and_is_stored(client) -> None:
    r = _upload(client, CLIP.name, CLIP.read_bytes())
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["duration_s"] == 30.0 and body["sample_rate"] == 44100 and body["channels"] == 2
    assert len(body["windows"]) == 1
    window = body["windows"][0]
    assert (window["start_s"], window["end_s"], window["partial"]) == (0.0, 30.0, False)
    assert abs(sum(window["probabilities"].values()) - 1.0) < 1e-9
    assert body["track"]["probabilities"] == window["probabilities"]  # one window: the aggregate is that window
    assert body["aggregate_method"] == "mean" and body["model"]["version"] == "2"
    assert isinstance(body["ood"], bool) and window["ood_features"] == [f for f in window["ood_features"] if f]

    stored = client.get(f"/v1/tracks/{body['track_id']}").json()
    assert stored["content_hash"] == body["content_hash"] and stored["path"] == CLIP.name
    assert len(stored["windows"]) == 1 and stored["windows"][0]["features"]["_Tempo_Mean"] is not None
    assert stored["windows"][0]["predictions"][0]["label"] == window["label"]


def test_vote_aggregation_can_be_asked_for(client) -> None:
    r = _upload(client, CLIP.name, CLIP.read_bytes(), aggregate="vote")
    assert r.status_code == 200 and r.json()["aggregate_method"] == "vote"
    assert _upload(client, CLIP.name, CLIP.read_bytes(), aggregate="median").status_code == 422


def test_corrupt_and_empty_uploads_are_422_with_the_reason(client) -> None:
    corrupt = _upload(client, "song.flac", b"fLaC" + bytes(range(256)) * 20)
    assert corrupt.status_code == 422
    assert corrupt.json()["detail"].startswith("unusable audio: song.flac: ")
    assert "/tmp" not in corrupt.json()["detail"]
    empty = _upload(client, "empty.wav", b"")
    assert empty.status_code == 422 and "empty file" in empty.json()["detail"]


def test_audio_too_short_or_too_low_a_rate_is_422(client) -> None:
    buf = io.BytesIO()
    sf.write(buf, np.zeros(4000), 8000, format="WAV")
    r = _upload(client, "phone.wav", buf.getvalue())
    assert r.status_code == 422 and "sample rate" in r.json()["detail"]


def test_uploads_need_the_key(client) -> None:
    assert _upload(client, CLIP.name, CLIP.read_bytes(), headers={}).status_code == 401
    assert _upload(client, CLIP.name, CLIP.read_bytes(), headers={"X-API-Key": "wrong"}).status_code == 401


def test_size_and_duration_limits_are_413(trained_project) -> None:
    config = make_config(trained_project, "catalog-limits.db", max_upload_bytes=100_000, max_duration_s=20.0)
    with TestClient(create_app(config)) as c:
        wait_ready(c)
        big = _upload(c, CLIP.name, CLIP.read_bytes())  # ~ 2.5 MB
        assert big.status_code == 413 and "100000 bytes" in big.json()["detail"]
        buf = io.BytesIO()
        sf.write(buf, np.zeros(22050 * 25, dtype=np.int16), 22050, format="FLAC")  # 25 s of silence, small
        long = _upload(c, "long.flac", buf.getvalue())
        assert long.status_code == 413 and "limit is 20 s" in long.json()["detail"]
