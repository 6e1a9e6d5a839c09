"""Explanations (mer.model.explain through the scoring core): SHAP contributions of the 50 features to the predicted
class's probability, additive within 1e-3, sorted by magnitude, named in the schema and in plain words."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from support import small_champion, uci_rows

from mer.schema import FEATURE_NAMES, PLAIN_NAMES
from mer.scoring import Scorer, score_columns, score_matrix
from mer.settings import DecisionSettings


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    X, y = uci_rows()
    return Scorer(small_champion().fit(X, y), "music-emotion", "1", "champion")


@pytest.fixture(scope="module")
def rows() -> np.ndarray:
    X, _ = uci_rows()
    return X.to_numpy(dtype=float)[::50][:8]  # 8 rows spread over the four moods


def test_contributions_add_up_to_the_probability_of_the_predicted_class(scorer, rows) -> None:
    cols = score_columns(scorer, rows, DecisionSettings(), explain=True)
    proba = scorer.predict_proba(rows)
    assert len({e["class"] for e in cols["explanation"]}) > 1  # not one class everywhere
    for i, e in enumerate(cols["explanation"]):
        k = int(proba[i].argmax())
        assert e["class"] == scorer.classes[k] == cols["label"][i]
        assert e["probability"] == pytest.approx(proba[i, k], abs=1e-9)
        total = e["base_value"] + sum(c["contribution"] for c in e["contributions"])
        assert abs(total - proba[i, k]) <= 1e-3
        assert 0.0 <= e["base_value"] <= 1.0


def test_every_feature_once_named_in_plain_words_sorted_by_magnitude(scorer, rows) -> None:
    e = score_columns(scorer, rows[:2], DecisionSettings(), explain=True)["explanation"][1]
    contributions = e["contributions"]
    assert sorted(c["feature"] for c in contributions) == sorted(FEATURE_NAMES)
    assert all(c["plain"] == PLAIN_NAMES[c["feature"]] for c in contributions)
    sizes = [abs(c["contribution"]) for c in contributions]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] > 0
    assert [c["value"] for c in contributions] == [rows[1][FEATURE_NAMES.index(c["feature"])] for c in contributions]


def test_deterministic_for_any_class_asked(scorer, rows) -> None:
    from mer.model.explain import explain_rows

    proba = scorer.predict_proba(rows[:1])[0]
    for k in range(len(scorer.classes)):  # any class, not only the predicted one, adds up
        a = explain_rows(scorer, rows[:1], [k])[0]
        assert a == explain_rows(scorer, rows[:1], [k])[0]
        assert a["class"] == scorer.classes[k]
        assert abs(a["base_value"] + sum(c["contribution"] for c in a["contributions"]) - proba[k]) <= 1e-3


def test_unscorable_rows_get_no_explanation_and_explain_changes_nothing_else(scorer, rows) -> None:
    X = rows[:3].copy()
    X[1, FEATURE_NAMES.index("_Tempo_Mean")] = 1e300
    X[2, 0] = np.nan
    plain = score_matrix(scorer, X, DecisionSettings())
    explained = score_matrix(scorer, X, DecisionSettings(), explain=True)
    assert list(explained.columns) == [*plain.columns, "explanation"]
    pd.testing.assert_frame_equal(explained[plain.columns], plain)
    assert explained["explanation"].iloc[0] is not None
    assert explained["explanation"].iloc[1] is None and explained["explanation"].iloc[2] is None


def test_mer_predict_explain_writes_a_json_explanation_per_row(scorer, tmp_path, monkeypatch) -> None:
    import json

    import yaml
    from support import ROOT, UCI_CSV
    from typer.testing import CliRunner

    from mer.cli import app

    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({k: params[k] for k in ("model", "decision") if k in params}))
    monkeypatch.setenv("MER_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("mer.pipeline.load_scorer", lambda ref: scorer)
    (tmp_path / "in.csv").write_text("".join(UCI_CSV.read_text().splitlines(keepends=True)[:4]))
    result = CliRunner().invoke(app, ["predict", "in.csv", "-o", "out.csv", "--explain"])
    assert result.exit_code == 0, result.output
    out = pd.read_csv(tmp_path / "out.csv")
    assert len(out) == 3
    for _, row in out.iterrows():
        e = json.loads(row["explanation"])
        assert e["class"] == row["label"]
        total = e["base_value"] + sum(c["contribution"] for c in e["contributions"])
        assert abs(total - row[f"p_{row['label']}"]) <= 1e-3
    plain = CliRunner().invoke(app, ["predict", "in.csv", "-o", "plain.csv"])
    assert plain.exit_code == 0 and "explanation" not in pd.read_csv(tmp_path / "plain.csv").columns


def test_global_importance_report_per_feature_and_class(scorer, rows, tmp_path) -> None:
    from mer.model.explain import importance_report

    csv, png = importance_report(scorer, rows[:4], tmp_path)
    table = pd.read_csv(csv)
    assert sorted(table["feature"]) == sorted(FEATURE_NAMES) and png.stat().st_size > 1000
    assert list(table.columns) == ["feature", "plain", *scorer.classes, "mean"]
    assert table["mean"].is_monotonic_decreasing and (table[scorer.classes] >= 0).all().all()
    assert table[scorer.classes].to_numpy().sum() > 0
