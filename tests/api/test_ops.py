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
    # the CDN-backed pages are off (they render blank offline); the schema is the documentation
    assert client.get("/docs").status_code == 404 and client.get("/redoc").status_code == 404


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
