"""Health, readiness, metrics, the OpenAPI document, and what the API says before any model exists."""

from __future__ import annotations

import re

from api_support import make_config
from fastapi.testclient import TestClient

from mer.api import create_app


def test_health_ready_and_openapi(client) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready").json()
    assert ready["ready"] and ready["model"]["version"] == "2" and ready["compiled"] is True
    spec = client.get("/openapi.json").json()
    assert {"/v1/predict", "/v1/predict/audio", "/v1/tracks", "/v1/tracks/{track_id}", "/v1/review",
            "/v1/playlists/{mood}", "/v1/feedback", "/health", "/ready", "/metrics"} <= set(spec["paths"])
    row = spec["components"]["schemas"]["FeatureRow"]
    assert len(row["properties"]) == 50 and "_Zero-crossingrate_Mean" in row["properties"]
    assert row["additionalProperties"] is False
    assert spec["components"]["securitySchemes"]["APIKeyHeader"]["name"] == "X-API-Key"
    # the docs pages are served from packaged assets (test_doors.py checks they need no network)
    assert client.get("/docs").status_code == 200 and client.get("/redoc").status_code == 200
    assert "/v1/model" in spec["paths"]


def test_metrics_count_routes_classes_reviews_and_the_model_version(client, example_rows) -> None:
    client.post("/v1/predict", json={"rows": example_rows[:4]})
    client.get("/v1/tracks/123456")
    client.get("/no/such/path/42")
    text = client.get("/metrics").text
    assert 'mer_http_requests_total{method="POST",route="/v1/predict",status="200"}' in text
    assert 'mer_http_requests_total{method="GET",route="/v1/tracks/{track_id}",status="404"}' in text
    assert 'route="<unmatched>"' in text and "/no/such/path" not in text and "123456" not in text
    assert 'mer_http_request_duration_seconds_bucket{le="0.01",method="POST",route="/v1/predict"}' in text
    counted = sum(float(v) for v in re.findall(r'mer_predictions_total\{[^}]*source="rows"\} (\S+)', text))
    assert counted >= 4
    assert re.search(r"^mer_review_rate \d", text, re.M)
    assert 'mer_model_info{alias="champion",name="music-emotion",version="2"} 1.0' in text
    assert "mer_predict_batch_rows_count" in text


def test_before_a_model_exists_ready_and_predict_say_503(trained_project, example_rows) -> None:
    config = make_config(trained_project, "catalog-nomodel.db", model_name="no-such-model")
    with TestClient(create_app(config)) as c:
        assert c.get("/health").status_code == 200
        ready = c.get("/ready")
        assert ready.status_code == 503 and ready.json()["ready"] is False
        r = c.post("/v1/predict", json={"rows": example_rows[:1]})
        assert r.status_code == 503 and r.headers["retry-after"] == "5"


def test_metrics_count_any_decision_with_rates_confidence_ood_and_uploads() -> None:
    from mer.api.metrics import Metrics

    m = Metrics()
    m.count_results([{"label": "sad", "decision": "accept", "confidence": 0.9, "ood": False},
                     {"label": "happy", "decision": "review", "confidence": 0.5, "ood": True},
                     {"label": None, "decision": "unscorable", "confidence": None, "ood": True},
                     {"label": "relax", "decision": "accept", "confidence": 0.8}], "audio")
    m.count_results([{"label": "angry", "decision": "accept", "confidence": 0.95}], "rows")
    text = m.exposition().decode()
    assert 'mer_decision_rate{decision="accept"} 0.6' in text
    assert 'mer_decision_rate{decision="unscorable"} 0.2' in text and "mer_unscorable_rate 0.2" in text
    assert "mer_review_rate 0.2" in text and "mer_ood_rate 0.4" in text
    assert 'mer_ood_verdicts_total{source="audio"} 2.0' in text
    assert 'mer_predictions_total{decision="unscorable",label="none",source="audio"} 1.0' in text
    assert 'mer_verdict_confidence_count{source="audio"} 3.0' in text  # the unscorable one has no confidence
    assert 'mer_verdict_confidence_bucket{le="0.5",source="audio"} 1.0' in text
    assert "mer_uploads_total 1.0" in text and "mer_upload_windows_count 1.0" in text
    assert "mer_upload_windows_sum 4.0" in text
    assert "process_resident_memory_bytes" in text and "process_cpu_seconds_total" in text


def test_metrics_endpoint_counts_uploads_per_request_and_per_window(client, example_rows) -> None:
    from api_support import API_KEY, ORACLE

    client.post("/v1/predict", json={"rows": example_rows[:3]})
    clip = ORACLE / "wesnoth_sad.flac"
    r = client.post("/v1/predict/audio", files={"file": (clip.name, clip.read_bytes(), "audio/flac")},
                    headers={"X-API-Key": API_KEY})
    assert r.status_code == 200, r.text
    windows = len(r.json()["windows"])
    text = client.get("/metrics").text
    assert re.search(r"^mer_uploads_total [1-9]", text, re.M)
    assert re.search(r"^mer_upload_windows_count [1-9]", text, re.M)
    audio = sum(float(v) for v in re.findall(r'mer_predictions_total\{[^}]*source="audio"\} (\S+)', text))
    assert audio >= windows
    assert re.search(r'mer_verdict_confidence_count\{source="rows"\} [1-9]', text)
    assert re.search(r'^mer_decision_rate\{decision="\w+"\} ', text, re.M)
    assert re.search(r"^mer_ood_rate ", text, re.M) and re.search(r"^mer_unscorable_rate ", text, re.M)
    assert re.search(r"^process_resident_memory_bytes [1-9]", text, re.M)
