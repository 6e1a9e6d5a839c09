"""The front door: key and size checked from the headers before any body is read, streamed bodies cut at the limit,
a request time limit, /v1/predict behind the key, small error bodies, offline docs, CORS, the documented error shape."""

from __future__ import annotations

import asyncio
import json
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_support import API_KEY, make_config, wait_ready
from fastapi.testclient import TestClient
from support import free_port

from mer.api import create_app
from mer.api.guard import DoorGuard

KEY = {"X-API-Key": API_KEY}
TWO_GB = 2 * 1024**3


def _scope(method: str, path: str, headers: dict[str, str]) -> dict:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
            "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 8000)}


def _call(app, method: str, path: str, headers: dict[str, str]) -> tuple[int, dict, int]:
    """Call the ASGI app with a body that never ends; (status, JSON answer, times the body was asked for)."""
    asked = 0
    sent: list[dict] = []

    async def receive() -> dict:
        nonlocal asked
        asked += 1
        return {"type": "http.request", "body": b"\0" * 65536, "more_body": True}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(app(_scope(method, path, headers), receive, send))
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], json.loads(body), asked


@pytest.mark.parametrize("path", ["/v1/predict/audio", "/v1/predict", "/v1/feedback"])
def test_a_2gb_body_is_refused_from_its_headers_without_reading_a_byte(in_trained_project, path) -> None:
    app = create_app(make_config(in_trained_project, "catalog-doors.db", predict_requires_key=True))
    announced = {"content-type": "multipart/form-data; boundary=x", "content-length": str(TWO_GB)}
    start = time.perf_counter()
    status, body, asked = _call(app, "POST", path, announced)
    assert (status, asked) == (401, 0) and "X-API-Key" in body["detail"]
    status, body, asked = _call(app, "POST", path, announced | KEY)
    assert (status, asked) == (413, 0) and "exceeds the limit" in body["detail"]
    status, _, asked = _call(app, "POST", path, {"content-length": "12abc"} | KEY)
    assert (status, asked) == (400, 0)
    assert time.perf_counter() - start < 1.0


@pytest.fixture
def live_server(in_trained_project: Path, tmp_path: Path, monkeypatch) -> Iterator[tuple[int, Path]]:
    """The app under uvicorn on a free port (in a thread), spooling uploads to a folder of its own."""
    import uvicorn

    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    port = free_port()
    config = make_config(in_trained_project, "catalog-doors-live.db", max_upload_bytes=1_000_000)
    server = uvicorn.Server(uvicorn.Config(create_app(config), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
        time.sleep(0.05)
    yield port, spool
    server.should_exit = True
    thread.join(30)


def _raw_upload(port: int, headers: str, sent_body: bytes) -> tuple[bytes, float]:
    start = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(f"POST /v1/predict/audio HTTP/1.1\r\nHost: t\r\n{headers}"
                  f"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: {TWO_GB}\r\n\r\n".encode()
                  + sent_body)
        answer = s.recv(65536)
    return answer, time.perf_counter() - start


def test_a_raw_2gb_upload_gets_its_401_or_413_at_once_with_nothing_spooled(live_server) -> None:
    port, spool = live_server
    part = b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.wav"\r\n\r\n' + b"\0" * 4096
    answer, seconds = _raw_upload(port, "", part)
    assert answer.startswith(b"HTTP/1.1 401 "), answer[:200]
    assert seconds < 2.0
    answer, seconds = _raw_upload(port, f"X-API-Key: {API_KEY}\r\n", part)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert seconds < 2.0
    assert list(spool.iterdir()) == []


def test_a_chunked_body_is_cut_at_the_limit(in_trained_project) -> None:
    config = make_config(in_trained_project, "catalog-doors-chunked.db", max_upload_bytes=100_000,
                         max_body_bytes=200_000)
    chunks_sent = 0

    def body(total: int) -> Iterator[bytes]:  # a generator: httpx sends it chunked, without Content-Length
        nonlocal chunks_sent
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.wav"\r\n\r\n'
        for _ in range(total // 65536):
            chunks_sent += 1
            yield b"\0" * 65536
        yield b"\r\n--b--\r\n"

    with TestClient(create_app(config)) as c:
        r = c.post("/v1/predict/audio", content=body(5_000_000),
                   headers=KEY | {"content-type": "multipart/form-data; boundary=b"})
        assert r.status_code == 413 and "exceeds the limit" in r.json()["detail"]
        assert "content-length" not in {k.lower() for k in r.request.headers}
        rows = json.dumps({"rows": [{"x": 1.0}] * 20000}).encode()
        r = c.post("/v1/predict", content=iter([rows[i:i + 65536] for i in range(0, len(rows), 65536)]),
                   headers={"content-type": "application/json"})
        assert r.status_code == 413


def test_a_slow_request_is_answered_504_at_the_time_limit(in_trained_project) -> None:
    async def slow_app(scope, receive, send) -> None:
        await asyncio.sleep(5)

    guard = DoorGuard(slow_app, make_config(in_trained_project, "x.db", request_timeout_s=0.1))
    start = time.perf_counter()
    status, body, _ = _call(guard, "GET", "/v1/tracks", {})
    assert status == 504 and "0.1 s" in body["detail"]
    assert time.perf_counter() - start < 2.0


def test_predict_needs_the_key_when_configured_and_can_be_opened(in_trained_project, example_rows) -> None:
    with TestClient(create_app(make_config(in_trained_project, "catalog-doors-key.db",
                                           predict_requires_key=True))) as c:
        wait_ready(c)
        r = c.post("/v1/predict", json={"rows": example_rows[:1]})
        assert r.status_code == 401 and r.headers["www-authenticate"] == "ApiKey"
        assert c.post("/v1/predict", json={"rows": example_rows[:1]}, headers={"X-API-Key": "wrong"}).status_code == 401
        assert c.post("/v1/predict", json={"rows": example_rows[:1]}, headers=KEY).status_code == 200
        assert c.get("/v1/tracks").status_code == 200  # reads stay open
        spec = c.get("/openapi.json").json()
        assert spec["paths"]["/v1/predict"]["post"]["security"] == [{"APIKeyHeader": []}]
        metrics = c.get("/metrics").text
        assert 'mer_http_requests_total{method="POST",route="/v1/predict",status="401"}' in metrics
    with TestClient(create_app(make_config(in_trained_project, "catalog-doors-open.db",
                                           predict_requires_key=False))) as c:
        wait_ready(c)
        assert c.post("/v1/predict", json={"rows": example_rows[:1]}).status_code == 200
        assert c.post("/v1/feedback", json={"track_id": 1, "label": "sad", "source": "t"}).status_code == 401


def test_error_bodies_do_not_echo_megabytes_of_input(client, example_rows) -> None:
    row = dict(example_rows[0])
    row["_RMSenergy_Mean"] = "x" * 1_000_000
    r = client.post("/v1/predict", json={"rows": [row]})
    assert r.status_code == 422 and len(r.content) < 5_000, len(r.content)
    assert "_RMSenergy_Mean" in r.json()["detail"]
    bad = [{k: v for k, v in example_rows[0].items() if k != "_Tempo_Mean"}] * 1000
    r = client.post("/v1/predict", json={"rows": bad})
    body = r.json()
    assert r.status_code == 422 and len(r.content) < 60_000, len(r.content)
    assert len(body["errors"]) == 50 and "(and 990 more)" in body["detail"]
    assert isinstance(body["errors"][0]["input"], str) and body["errors"][0]["input"].endswith("characters)")


def test_openapi_documents_the_problem_shape_actually_sent(client) -> None:
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "Problem" in schemas
    problem = "#/components/schemas/Problem"
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            responses = op["responses"]
            assert responses["500"]["content"]["application/json"]["schema"]["$ref"] == problem, (path, method)
            if "422" in responses:
                assert responses["422"]["content"]["application/json"]["schema"]["$ref"] == problem, (path, method)
            if method == "post":
                for code in ("401", "413", "422"):
                    assert responses[code]["content"]["application/json"]["schema"]["$ref"] == problem
    # and what is sent has that shape
    r = client.post("/v1/feedback", json={"track_id": 0}, headers=KEY)
    assert r.status_code == 422 and set(r.json()) == {"detail", "errors"} and isinstance(r.json()["detail"], str)


def test_docs_are_served_offline_from_packaged_assets(client) -> None:
    html = client.get("/docs").text
    assert "cdn" not in html.lower()
    scripts = [part.split('"')[0] for part in html.split('src="')[1:]] + \
              [part.split('"')[0] for part in html.split('href="')[1:]]
    local = [s for s in scripts if s.startswith("/")]
    assert any(s.endswith("swagger-ui-bundle.js") for s in local)
    for asset in local:
        r = client.get(asset)
        assert r.status_code == 200 and len(r.content) > 100, asset
    assert client.get("/redoc").status_code == 200


def test_cors_origins_are_configurable(in_trained_project) -> None:
    config = make_config(in_trained_project, "catalog-doors-cors.db", cors_origins=("https://ui.example",))
    with TestClient(create_app(config)) as c:
        pre = c.options("/v1/predict/audio", headers={"Origin": "https://ui.example",
                                                       "Access-Control-Request-Method": "POST",
                                                       "Access-Control-Request-Headers": "X-API-Key"})
        assert pre.status_code == 200 and pre.headers["access-control-allow-origin"] == "https://ui.example"
        assert "x-api-key" in pre.headers["access-control-allow-headers"].lower()
        refused = c.post("/v1/feedback", json={}, headers={"Origin": "https://ui.example"})
        assert refused.status_code == 401 and refused.headers["access-control-allow-origin"] == "https://ui.example"
        other = c.get("/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
    with TestClient(create_app(make_config(in_trained_project, "catalog-doors-nocors.db"))) as c:
        assert "access-control-allow-origin" not in c.get("/health", headers={"Origin": "https://ui.example"}).headers


def test_upload_answers_carry_the_window_ids_feedback_takes(client) -> None:
    from api_support import ORACLE

    clip = ORACLE / "wesnoth_sad.flac"
    r = client.post("/v1/predict/audio", files={"file": (clip.name, clip.read_bytes(), "audio/flac")}, headers=KEY)
    assert r.status_code == 200, r.text
    body = r.json()
    ids = [w["window_id"] for w in body["windows"]]
    detail = client.get(f"/v1/tracks/{body['track_id']}").json()
    assert ids == [w["id"] for w in sorted(detail["windows"], key=lambda w: w["index"])]
    fb = client.post("/v1/feedback", json={"track_id": body["track_id"], "window_id": ids[0], "label": "sad",
                                           "source": "test"}, headers=KEY)
    assert fb.status_code == 201 and fb.json()["window_id"] == ids[0]
