"""Tracks, the review queue, playlists and feedback over a catalog filled through the upload endpoint."""

from __future__ import annotations

import pytest
from api_support import API_KEY, ORACLE

KEY = {"X-API-Key": API_KEY}
CLIPS = ("wesnoth_sad.flac", "wesnoth_battle-epic.flac", "wesnoth_elf-land.flac")


@pytest.fixture(scope="module")
def track_ids(client) -> list[int]:
    ids = []
    for name in CLIPS:
        r = client.post("/v1/predict/audio", files={"file": (name, (ORACLE / name).read_bytes())}, headers=KEY)
        assert r.status_code == 200, r.text
        ids.append(r.json()["track_id"])
    return ids


def test_tracks_are_paged(client, track_ids) -> None:
    first = client.get("/v1/tracks", params={"limit": 2}).json()
    assert first["total"] == 3 and [t["id"] for t in first["items"]] == track_ids[:2]
    rest = client.get("/v1/tracks", params={"limit": 2, "offset": 2}).json()
    assert [t["id"] for t in rest["items"]] == track_ids[2:]
    assert client.get("/v1/tracks", params={"limit": 0}).status_code == 422
    assert client.get("/v1/tracks", params={"label": "bored"}).status_code == 422


def test_one_track_or_404(client, track_ids) -> None:
    track = client.get(f"/v1/tracks/{track_ids[0]}").json()
    assert track["path"] == CLIPS[0] and len(track["windows"]) == 1
    assert client.get("/v1/tracks/999999").status_code == 404
    assert client.get("/v1/tracks/0").status_code == 404
    assert client.get("/v1/tracks/abc").status_code == 422
    assert client.get(f"/v1/tracks/{2**70}").status_code == 404


def test_review_queue_lists_everything_not_accepted_least_confident_first_in_pages(client, track_ids) -> None:
    page = client.get("/v1/review").json()
    tracks = [client.get(f"/v1/tracks/{i}").json() for i in track_ids]
    expected = sorted((t for t in tracks if t["decision"] != "accept"), key=lambda t: t["confidence"])
    assert [q["track_id"] for q in page["items"]] == [t["id"] for t in expected]
    assert page["total"] == len(expected) and all(q["reason"] for q in page["items"])
    assert (page["limit"], page["offset"], page["level"]) == (50, 0, "track")
    second = client.get("/v1/review", params={"limit": 1, "offset": 1}).json()
    assert [q["track_id"] for q in second["items"]] == [t["id"] for t in expected[1:2]]
    assert client.get("/v1/review", params={"level": "window"}).status_code == 200
    assert client.get("/v1/review", params={"level": "album"}).status_code == 422
    assert client.get("/v1/review", params={"offset": -1}).status_code == 422


@pytest.mark.parametrize("mood", ["happy", "sad", "angry", "relax"])
def test_playlists_rank_by_the_mood_probability_without_unscorable_tracks(client, track_ids, mood) -> None:
    body = client.get(f"/v1/playlists/{mood}", params={"limit": 2}).json()
    probs = [item["probability"] for item in body["items"]]
    scorable = [t for t in client.get("/v1/tracks").json()["items"] if t["decision"] != "unscorable"]
    assert body["mood"] == mood and probs == sorted(probs, reverse=True)
    assert body["total"] == len(scorable) and len(probs) == min(2, len(scorable))
    assert all(item["decision"] != "unscorable" for item in body["items"])
    top = max(t[f"p_{mood}"] for t in scorable)
    strict = client.get(f"/v1/playlists/{mood}", params={"min_probability": top}).json()
    assert strict["total"] >= 1 and all(item["probability"] >= top for item in strict["items"])
    assert client.get(f"/v1/playlists/{mood}", params={"min_probability": 1.5}).status_code == 422


def test_unknown_mood_is_422(client) -> None:
    r = client.get("/v1/playlists/bored")
    assert r.status_code == 422 and "mood" in r.json()["detail"]


def test_feedback_is_stored_with_source_and_time(client, track_ids) -> None:
    track = client.get(f"/v1/tracks/{track_ids[1]}").json()
    window_id = track["windows"][0]["id"]
    r = client.post("/v1/feedback", json={"track_id": track_ids[1], "window_id": window_id, "label": "Calm",
                                          "source": "test:alice"}, headers=KEY)
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["label"], body["source"], body["window_id"]) == ("relax", "test:alice", window_id)
    assert body["created_at"].endswith("Z") or "+00:00" in body["created_at"]
    stored = client.get(f"/v1/tracks/{track_ids[1]}").json()["feedback"]
    assert [f["id"] for f in stored] == [body["id"]]


@pytest.mark.parametrize(("payload", "code"), [
    ({"track_id": 999999, "label": "sad", "source": "t"}, 404),
    ({"track_id": 1, "window_id": 999999, "label": "sad", "source": "t"}, 404),
    ({"track_id": 1, "label": "bored", "source": "t"}, 422),
    ({"track_id": 1, "label": "sad", "source": ""}, 422),
    ({"track_id": 1, "label": "sad", "source": "   "}, 422),
    ({"track_id": 1, "label": "sad"}, 422),
    ({"track_id": 1, "label": "sad", "source": "t", "note": "x"}, 422),
    ({"track_id": 2**70, "label": "sad", "source": "t"}, 422),
])
def test_bad_feedback(client, track_ids, payload, code) -> None:
    r = client.post("/v1/feedback", json=payload, headers=KEY)
    assert r.status_code == code and r.json()["detail"]


def test_feedback_needs_the_key(client, track_ids) -> None:
    payload = {"track_id": track_ids[0], "label": "sad", "source": "t"}
    r = client.post("/v1/feedback", json=payload)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "ApiKey"
