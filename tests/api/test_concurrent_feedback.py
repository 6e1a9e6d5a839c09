"""500 feedback posts at once through the real HTTP stack (uvicorn on 127.0.0.1) are all stored."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import uvicorn
from api_support import API_KEY, ORACLE, make_config
from support import free_port

from mer.api import create_app

N = 500


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/ready").status_code == 200
    except httpx.TransportError:  # not listening yet
        return False


async def _post_all(base: str, track_id: int) -> list[int]:
    limits = httpx.Limits(max_connections=N, max_keepalive_connections=N)
    async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": API_KEY}, limits=limits, timeout=120) as c:
        responses = await asyncio.gather(*(
            c.post("/v1/feedback", json={"track_id": track_id, "label": ("happy", "sad", "angry", "relax")[i % 4],
                                         "source": f"load:{i}"})
            for i in range(N)
        ))
    return [r.status_code for r in responses]


def test_500_concurrent_feedback_posts_are_all_stored(trained_project) -> None:
    port = free_port()
    app = create_app(make_config(trained_project, "catalog-concurrent.db"))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not _ready(base):
            assert time.monotonic() < deadline and thread.is_alive(), "server did not become ready"
            time.sleep(0.2)
        clip = ORACLE / "wesnoth_sad.flac"
        track = httpx.post(f"{base}/v1/predict/audio", files={"file": (clip.name, clip.read_bytes())},
                           headers={"X-API-Key": API_KEY}, timeout=120)
        assert track.status_code == 200, track.text
        track_id = track.json()["track_id"]

        statuses = asyncio.run(_post_all(base, track_id))

        assert statuses == [201] * N
        stored = httpx.get(f"{base}/v1/tracks/{track_id}", timeout=60).json()["feedback"]
        assert len(stored) == N and len({f["id"] for f in stored}) == N
        assert {f["source"] for f in stored} == {f"load:{i}" for i in range(N)}
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    assert not thread.is_alive()
