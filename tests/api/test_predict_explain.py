"""?explain=true on POST /v1/predict and POST /v1/predict/audio: each verdict with its SHAP explanation (names in the
schema and in plain words, base value, sorted by magnitude, adding up to the probability); without it, the answer
is exactly what it was."""

from __future__ import annotations

from api_support import API_KEY, ORACLE

from mer.schema import FEATURE_NAMES, PLAIN_NAMES

KEY = {"X-API-Key": API_KEY}


def _check(explanation: dict, verdict: dict) -> None:
    assert explanation["class"] == verdict["label"]
    assert abs(explanation["probability"] - verdict["probabilities"][verdict["label"]]) < 1e-9
    contributions = explanation["contributions"]
    assert sorted(c["feature"] for c in contributions) == sorted(FEATURE_NAMES)
    assert all(c["plain"] == PLAIN_NAMES[c["feature"]] for c in contributions)
    sizes = [abs(c["contribution"]) for c in contributions]
    assert sizes == sorted(sizes, reverse=True)
    total = explanation["base_value"] + sum(c["contribution"] for c in contributions)
    assert abs(total - explanation["probability"]) <= 1e-3


def test_predict_explain_gives_contributions_with_names_and_plain_words(client, example_rows) -> None:
    rows = [dict(r) for r in example_rows[:3]]
    rows[2]["_Tempo_Mean"] = 1e300  # unscorable: no explanation
    r = client.post("/v1/predict", params={"explain": "true"}, json={"rows": rows})
    assert r.status_code == 200, r.text
    predictions = r.json()["predictions"]
    for p in predictions[:2]:
        _check(p["explanation"], p)
    assert predictions[2]["decision"] == "unscorable" and predictions[2]["explanation"] is None


def test_without_explain_the_answer_is_unchanged(client, example_rows) -> None:
    plain = client.post("/v1/predict", json={"rows": example_rows[:3]}).json()
    off = client.post("/v1/predict", params={"explain": "false"}, json={"rows": example_rows[:3]}).json()
    on = client.post("/v1/predict", params={"explain": "true"}, json={"rows": example_rows[:3]}).json()
    assert all("explanation" not in p for p in plain["predictions"]) and off == plain
    assert [{k: v for k, v in p.items() if k != "explanation"} for p in on["predictions"]] == plain["predictions"]


def test_explain_takes_a_bounded_number_of_rows(client, example_rows) -> None:
    from mer.api.routers.predict import MAX_EXPLAINED_ROWS

    rows = (example_rows * 10)[:MAX_EXPLAINED_ROWS + 1]
    r = client.post("/v1/predict", params={"explain": "true"}, json={"rows": rows})
    assert r.status_code == 422 and f"at most {MAX_EXPLAINED_ROWS} rows" in r.json()["detail"]
    assert client.post("/v1/predict", json={"rows": rows}).status_code == 200


def test_audio_explain_explains_every_scorable_window(client) -> None:
    clip = ORACLE / "wesnoth_sad.flac"
    files = {"file": (clip.name, clip.read_bytes(), "application/octet-stream")}
    plain = client.post("/v1/predict/audio", files=files, headers=KEY)
    assert plain.status_code == 200 and all("explanation" not in w for w in plain.json()["windows"])
    r = client.post("/v1/predict/audio", files=files, headers=KEY, params={"explain": "true"})
    assert r.status_code == 200, r.text
    for w in r.json()["windows"]:
        if w["decision"] == "unscorable":
            assert w["explanation"] is None
        else:
            _check(w["explanation"], w)


def test_registered_versions_carry_the_global_importance_report(client) -> None:
    import pandas as pd
    from mlflow import MlflowClient

    registry = MlflowClient()
    version = registry.get_model_version_by_alias("music-emotion", "champion")
    names = {a.path.rsplit("/", 1)[-1] for a in registry.list_artifacts(version.run_id, "explain")}
    assert {"shap_importance.png", "shap_importance.csv"} <= names
    local = registry.download_artifacts(version.run_id, "explain/shap_importance.csv")
    table = pd.read_csv(local)
    assert sorted(table["feature"]) == sorted(FEATURE_NAMES)
    assert {"plain", "happy", "sad", "angry", "relax", "mean"} <= set(table.columns)
    assert (table[["happy", "sad", "angry", "relax"]] >= 0).all().all() and table["mean"].is_monotonic_decreasing
