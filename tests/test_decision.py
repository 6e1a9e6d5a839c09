"""The one decision rule: threshold, reasons, unscorable, top-2, valence/arousal, class order, the track rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mer.decision import PROBA_COLUMNS, aggregate, decide, to_schema_order, track_decision, valence_arousal
from mer.settings import DecisionSettings, SettingsError, check_params, decision_settings

RULE = DecisionSettings()


def test_accept_at_threshold_review_below_with_top_two_and_a_reason() -> None:
    proba = np.array([[0.75, 0.1, 0.1, 0.05], [0.2, 0.5, 0.0, 0.3], [0.1, 0.1, 0.74, 0.06]])
    out = decide(proba, threshold=0.75)
    assert out["label"].tolist() == ["happy", "sad", "angry"]
    assert out["decision"].tolist() == ["accept", "review", "review"]
    assert out["top2"].tolist() == ["happy|sad", "sad|relax", "angry|happy"]
    np.testing.assert_allclose(out["confidence"], [0.75, 0.5, 0.74])
    assert out["reason"].tolist() == ["confidence 0.75 >= 0.75", "confidence 0.50 < 0.75 (sad 0.50, relax 0.30)",
                                      "confidence 0.74 < 0.75 (angry 0.74, happy 0.10)"]
    assert decide(proba, threshold=0.5)["decision"].tolist() == ["accept", "accept", "accept"]


def test_unscorable_rows_keep_the_callers_reason_and_non_finite_ones_are_caught() -> None:
    proba = np.array([[0.9, 0.05, 0.03, 0.02], [np.nan, 0.2, 0.3, 0.5], [0.9, 0.05, 0.03, 0.02],
                      [np.inf, 0, 0, 0]])
    out = decide(proba, threshold=0.75, unscorable=[None, None, "steady tone: spectral entropy far below", ""])
    assert out["decision"].tolist() == ["accept", "unscorable", "unscorable", "unscorable"]
    assert out["reason"][1] == out["reason"][3] == "the model gave no finite probabilities for this input"
    assert out["reason"][2] == "steady tone: spectral entropy far below"
    assert pd.isna(out["label"][1]) and out["top2"][1] == "" and np.isnan(out["valence"][1])
    assert out["label"][2] == "happy"  # what the model would say stays visible


def test_valence_and_arousal_are_the_russell_quadrants() -> None:
    eye = np.eye(4)  # happy, sad, angry, relax
    np.testing.assert_array_equal(valence_arousal(eye), [[1, 1], [-1, -1], [-1, 1], [1, -1]])
    uniform = valence_arousal(np.full((1, 4), 0.25))
    np.testing.assert_allclose(uniform, [[0.0, 0.0]])
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(4), size=200)
    va = decide(p, threshold=0.75)[["valence", "arousal"]].to_numpy()
    assert np.all(np.abs(va) <= 1 + 1e-12)


def test_model_class_order_is_mapped_to_schema_order() -> None:
    # scikit-learn sorts classes alphabetically: angry, happy, relax, sad
    proba = np.array([[0.1, 0.2, 0.3, 0.4]])
    out = decide(proba, classes=["angry", "happy", "relax", "sad"], threshold=0.75)
    assert out[list(PROBA_COLUMNS)].to_numpy().tolist() == [[0.2, 0.4, 0.1, 0.3]]
    assert out["label"].iloc[0] == "sad"
    with pytest.raises(ValueError, match="lacks classes"):
        to_schema_order(proba, ["a", "b", "c", "d"])


def test_empty_input_and_bad_threshold() -> None:
    assert len(decide(np.zeros((0, 4)), threshold=0.75)) == 0
    with pytest.raises(ValueError):
        decide(np.ones((1, 4)) / 4, threshold=1.5)


def test_track_aggregation_mean_and_vote() -> None:
    windows = np.array([[0.6, 0.4, 0, 0], [0.6, 0.4, 0, 0], [0.0, 1.0, 0, 0]])
    np.testing.assert_allclose(aggregate(windows, "mean"), [0.4, 0.6, 0, 0])
    np.testing.assert_allclose(aggregate(windows, "mean", np.array([1.0, 1.0, 2.0])), [0.3, 0.7, 0, 0])
    vote = aggregate(windows, "vote")
    assert vote.argmax() == 0 and vote.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError):
        aggregate(windows, "median")
    with pytest.raises(ValueError):
        aggregate(np.zeros((0, 4)), "mean")


def _windows(rows: list[tuple[list[float], str | None]]) -> pd.DataFrame:
    proba = np.array([p for p, _ in rows], dtype=float)
    out = decide(proba, threshold=0.75, unscorable=[u for _, u in rows])
    out.insert(0, "start_s", 30.0 * np.arange(len(rows)))
    out.insert(1, "end_s", out["start_s"] + 30.0)
    return out


HAPPY, SAD, ANGRY = [0.9, 0.04, 0.03, 0.03], [0.04, 0.9, 0.03, 0.03], [0.03, 0.04, 0.9, 0.03]
UNSURE_ANGRY, UNSURE_SAD = [0.1, 0.3, 0.5, 0.1], [0.1, 0.5, 0.3, 0.1]


def test_a_long_track_mostly_one_mood_is_accepted_with_its_shares() -> None:
    # confidently angry for 4 of 7 windows, two uncertain angry, one uncertain sad: the mean is not confident
    track = track_decision(_windows([(ANGRY, None)] * 4 + [(UNSURE_ANGRY, None)] * 2 + [(UNSURE_SAD, None)]), RULE)
    assert track["confidence"] < 0.75 and track["decision"] == "accept" and track["label"] == "angry"
    assert track["share_angry"] == pytest.approx(6 / 7) and track["share_sad"] == pytest.approx(1 / 7)
    assert track["reason"].startswith("confidently angry for 57% of the time (>= 50%), no other mood")


def test_a_mixed_track_goes_to_review_naming_the_mix() -> None:
    track = track_decision(_windows([(ANGRY, None)] * 3 + [(SAD, None)] * 2 + [(UNSURE_ANGRY, None)]), RULE)
    assert track["decision"] == "review" and track["reason"].startswith("mixed: angry 67%, sad 33% of the time")
    unsure = track_decision(_windows([(UNSURE_SAD, None)] * 4), RULE)  # one mood, never confident
    assert unsure["decision"] == "review" and unsure["reason"].startswith("not confident: sad 100%")


def test_a_track_mostly_unscorable_is_unscorable_and_unscorable_windows_do_not_count() -> None:
    silent = "near silence: loudness -80 dBFS"
    track = track_decision(_windows([(HAPPY, silent)] * 3 + [(SAD, None)]), RULE)
    assert track["decision"] == "unscorable" and silent in track["reason"]
    assert track["scorable_share"] == pytest.approx(0.25)
    ok = track_decision(_windows([(HAPPY, silent)] + [(SAD, None)] * 3), RULE)
    assert ok["decision"] == "accept" and ok["label"] == "sad" and ok["share_sad"] == 1.0


def test_settings_refuse_unknown_values() -> None:
    with pytest.raises(SettingsError, match="model.search: 'randm' is not allowed; choose grid or random"):
        check_params({"model": {"search": "randm"}})
    with pytest.raises(SettingsError, match="decision.aggregate"):
        decision_settings({"decision": {"aggregate": "median"}})
    with pytest.raises(SettingsError, match="unknown option"):
        decision_settings({"decision": {"threshold": 0.8}})
    with pytest.raises(SettingsError, match="accept_threshold"):
        DecisionSettings(accept_threshold=1.5)
    assert decision_settings({"decision": {"accept_threshold": 0.8}}).accept_threshold == 0.8


def test_an_unknown_option_value_stops_a_command_with_one_line(tmp_path, monkeypatch) -> None:
    from pathlib import Path

    from typer.testing import CliRunner

    from mer.cli import app

    root = Path(__file__).resolve().parents[1]
    bad = tmp_path / "params.yaml"
    bad.write_text((root / "params.yaml").read_text().replace("search: grid", "search: randm"))
    monkeypatch.setenv("MER_HOME", str(tmp_path))
    monkeypatch.setenv("MER_PARAMS", str(bad))
    result = CliRunner().invoke(app, ["train"])
    assert result.exit_code == 2
    assert "params.yaml: model.search: 'randm' is not allowed; choose grid or random" in result.output
    assert "Traceback" not in result.output
