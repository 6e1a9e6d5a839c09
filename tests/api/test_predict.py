"""POST /v1/predict: the contract (one verdict per row, model identity) and every malformed-input case → 422."""

from __future__ import annotations

import json
import math

import pytest

from mer.schema import CLASSES, FEATURE_NAMES


def test_rows_get_probabilities_label_decision_and_top2(client, example_rows) -> None:
    r = client.post("/v1/predict", json={"rows": example_rows[:5]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"] == {"name": "music-emotion", "version": "2", "alias": "champion"}
    assert body["threshold"] == 0.75 and len(body["predictions"]) == 5
    for i, p in enumerate(body["predictions"]):
        probs = p["probabilities"]
        assert p["row"] == i and set(probs) == set(CLASSES)
        assert math.isclose(sum(probs.values()), 1.0, abs_tol=1e-9)
        assert p["label"] == max(probs, key=probs.get) == p["top2"][0]
        assert p["confidence"] == probs[p["label"]]
        expected = "unscorable" if p["ood"] else "accept" if p["confidence"] >= 0.75 else "review"
        assert p["decision"] == expected and p["reason"]
        assert len(set(p["top2"])) == 2
        assert p["valence"] == pytest.approx(probs["happy"] + probs["relax"] - probs["sad"] - probs["angry"])
        assert p["arousal"] == pytest.approx(probs["happy"] + probs["angry"] - probs["sad"] - probs["relax"])


def test_predictions_match_the_registered_model(client, example_rows) -> None:
    import pandas as pd

    from mer.model.registry import load_champion

    body = client.post("/v1/predict", json={"rows": example_rows}).json()
    model = load_champion("music-emotion")
    expected = model.predict_proba(pd.DataFrame(example_rows)[list(FEATURE_NAMES)])
    classes = list(model.classes_)
    for p, row in zip(body["predictions"], expected, strict=True):
        for c in CLASSES:
            assert p["probabilities"][c] == pytest.approx(row[classes.index(c)], abs=1e-9)


def _post_raw(client, text: str):
    return client.post("/v1/predict", content=text, headers={"content-type": "application/json"})


@pytest.mark.parametrize(("change", "field", "reason"), [
    (lambda row: row.pop("_Tempo_Mean"), "_Tempo_Mean", "Field required"),
    (lambda row: row.update({"tempo": 120.0}), "tempo", "Extra inputs are not permitted"),
    (lambda row: row.update({"_Tempo_Mean": "fast"}), "_Tempo_Mean", "valid number"),
    (lambda row: row.update({"_Tempo_Mean": "120"}), "_Tempo_Mean", "valid number"),
    (lambda row: row.update({"_Tempo_Mean": True}), "_Tempo_Mean", "valid number"),
    (lambda row: row.update({"_Tempo_Mean": None}), "_Tempo_Mean", "valid number"),
    (lambda row: row.update({"_Chromagram_Mean_3": -0.2}), "_Chromagram_Mean_3", "greater than or equal to 0"),
])
def test_malformed_field_is_named_with_its_row(client, example_rows, change, field, reason) -> None:
    rows = [dict(r) for r in example_rows[:3]]
    change(rows[2])
    r = client.post("/v1/predict", json={"rows": rows})
    assert r.status_code == 422
    body = r.json()
    assert f"row 2, field {field}" in body["detail"] and reason in body["detail"]
    assert body["errors"][0]["loc"] == ["body", "rows", 2, field]


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_refused(client, example_rows, token) -> None:
    rows = [dict(r) for r in example_rows[:2]]
    rows[1]["_Rolloff_Mean"] = "__X__"
    r = _post_raw(client, json.dumps({"rows": rows}).replace('"__X__"', token))
    assert r.status_code == 422, r.text
    assert "row 1, field _Rolloff_Mean: Input should be a finite number" in r.json()["detail"]


def test_row_count_limits(client, example_rows) -> None:
    empty = client.post("/v1/predict", json={"rows": []})
    assert empty.status_code == 422 and "rows" in empty.json()["detail"]
    many = client.post("/v1/predict", json={"rows": [example_rows[0]] * 1001})
    assert many.status_code == 422 and "at most 1000" in many.json()["detail"]
    exactly = client.post("/v1/predict", json={"rows": [example_rows[0]] * 1000})
    assert exactly.status_code == 200 and len(exactly.json()["predictions"]) == 1000


@pytest.mark.parametrize("body", ['{"rows": [1, 2]}', '{"rows": "all"}', "[]", '{"rows": []', "not json",
                                  '{"rows": [{}], "extra": 1}'])
def test_malformed_bodies_are_4xx_with_a_reason(client, body) -> None:
    r = _post_raw(client, body)
    assert r.status_code == 422 and r.json()["detail"]


@pytest.mark.parametrize(("field", "value", "words"), [
    ("_Tempo_Mean", 1e300, "tempo far above any training clip"),
    ("_Tempo_Mean", -5.0, "tempo below any training clip (-5 < 48.3)"),
    ("_Spectralflatness_Mean", 0.85, "noise-like spectrum: spectral flatness far above any training clip"),
    ("_RMSenergy_Mean", 0.0001, "near silence"),
])
def test_out_of_range_rows_are_unscorable_never_accepted(client, field, value, words) -> None:
    from support import uci_rows

    X, _ = uci_rows()
    rows = X.head(3).to_dict("records")
    rows[1][field] = value
    r = client.post("/v1/predict", json={"rows": rows})
    assert r.status_code == 200, r.text
    preds = r.json()["predictions"]
    assert preds[1]["decision"] == "unscorable" and words in preds[1]["reason"], preds[1]["reason"]
    assert preds[1]["ood"] and field in preds[1]["ood_features"]
    assert all(p["decision"] != "unscorable" for p in (preds[0], preds[2]))  # training rows are in range


def test_predict_agrees_with_the_scoring_core(client, example_rows) -> None:
    import numpy as np
    import pandas as pd

    from mer.model.registry import load_champion
    from mer.scoring import Scorer, score_matrix
    from mer.settings import DecisionSettings

    body = client.post("/v1/predict", json={"rows": example_rows}).json()
    core = score_matrix(Scorer(load_champion("music-emotion"), "music-emotion", "2", "champion"),
                        pd.DataFrame(example_rows)[list(FEATURE_NAMES)].to_numpy(float), DecisionSettings())
    assert [p["decision"] for p in body["predictions"]] == core["decision"].tolist()
    assert [p["reason"] for p in body["predictions"]] == core["reason"].tolist()
    np.testing.assert_allclose([p["valence"] for p in body["predictions"]], core["valence"], atol=1e-9)
