"""``GET /v1/model``: the served version's card, as registered in MLflow, with structured figures."""

from __future__ import annotations

import pytest


def test_model_card_of_the_served_version(client) -> None:
    from mlflow import MlflowClient

    r = client.get("/v1/model")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["name"], body["version"], body["alias"]) == ("music-emotion", "2", "champion")
    registry = MlflowClient()
    version = registry.get_model_version("music-emotion", "2")
    assert body["card"] == version.description and "— model card" in body["card"]
    assert body["run_id"] == version.run_id
    run_metrics = registry.get_run(version.run_id).data.metrics
    macro = body["metrics"]["cv"]["macro_f1"]
    assert macro["mean"] == pytest.approx(run_metrics["cv_macro_f1_mean"])
    assert macro["ci95"] == pytest.approx([run_metrics["cv_macro_f1_ci95_low"], run_metrics["cv_macro_f1_ci95_high"]])
    assert set(body["metrics"]["cv_f1_per_class"]) == {"happy", "sad", "angry", "relax"}
    assert body["gates_passed"] is True and {g["name"] for g in body["gates"]} >= {"cv_macro_f1", "holdout_macro_f1"}
    assert body["data"]["licence"].startswith("CC BY 4.0") and body["data"]["clips"] == 400
    assert any("bench/fidelity.py" in e["command"] for e in body["outside_evidence"])
    assert client.get("/v1/model").json() == body  # cached per version, same answer
    assert "/v1/model" in client.get("/openapi.json").json()["paths"]
