"""The monitoring figures on generated data: checks that can fail."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mer.monitor.drift import adjust_pvalues, feedback_quality, monitor_report, psi
from mer.schema import CLASSES, FEATURE_NAMES
from mer.settings import MonitorSettings, SettingsError, monitor_settings

SETTINGS = MonitorSettings()


def scored(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows dressed as the catalog's windows: verdict columns the drift figures do not look at."""
    out = rows.copy()
    out["ood"] = False
    out["label"] = out["Class"]
    out["confidence"] = 0.9
    out["decision"] = "accept"
    return out


def test_psi_zero_on_same_sample_and_large_on_a_shift() -> None:
    x = np.random.default_rng(0).normal(size=2000)
    assert psi(x, x) == pytest.approx(0.0, abs=1e-9)
    assert psi(x, x + 1.0) > 0.5


def test_corrections_match_their_definitions() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.2, np.nan])
    bh = adjust_pvalues(p, "bh")
    assert np.allclose(bh[:4], [0.04, 0.16 / 3, 0.16 / 3, 0.2]) and np.isnan(bh[4])
    holm = adjust_pvalues(p, "holm")
    assert np.allclose(holm[:4], [0.04, 0.09, 0.09, 0.2])


@pytest.mark.parametrize("seed", range(5))
def test_rows_resampled_from_training_raise_no_drift(training_rows: pd.DataFrame, seed: int) -> None:
    current = scored(training_rows.sample(400, replace=True, random_state=seed).reset_index(drop=True))
    report = monitor_report(training_rows, current, SETTINGS)
    assert len(report["drifted"]) <= 2, report["drifted"]
    assert [a for a in report["alerts"] if a["kind"] in ("drift", "drift_count", "class_mix")] == []
    assert set(report["features"]) == set(FEATURE_NAMES)
    assert all(set(v) >= {"psi", "ks_p", "drift"} for v in report["features"].values())


@pytest.mark.parametrize("seed", range(3))
def test_a_known_shift_raises_exactly_those_features(training_rows: pd.DataFrame, seed: int) -> None:
    current = training_rows.sample(400, replace=True, random_state=100 + seed).reset_index(drop=True)
    current["_Roughness_Mean"] *= 3
    current["_Tempo_Mean"] += 40
    report = monitor_report(training_rows, scored(current), SETTINGS)
    assert set(report["drifted"]) == {"_Roughness_Mean", "_Tempo_Mean"}
    drift_alerts = {a["subject"] for a in report["alerts"] if a["kind"] == "drift"}
    assert drift_alerts == {"_Roughness_Mean", "_Tempo_Mean"}
    assert all(a["value"] >= a["threshold"] for a in report["alerts"] if a["kind"] == "drift")


def test_too_few_windows_are_not_judged(training_rows: pd.DataFrame) -> None:
    current = scored(training_rows.head(10).copy())
    current["_Tempo_Mean"] += 100
    report = monitor_report(training_rows, current, SETTINGS)
    assert report["drifted"] == []
    assert [a["kind"] for a in report["alerts"]] == ["too_few_windows"]


def labelled(n: int, seed: int, flip: bool = False) -> pd.DataFrame:
    """A calibrated model's verdicts: right with probability equal to its confidence (0.8-1.0)."""
    rng = np.random.default_rng(seed)
    true = rng.choice(CLASSES, n)
    conf = rng.uniform(0.8, 1.0, n)
    right = rng.uniform(size=n) < conf
    other = np.array([CLASSES[(CLASSES.index(t) + 1) % 4] for t in true])
    pred = np.where(right, true, other)
    given = other if flip else true  # flipped: every feedback label is another class than the truth
    return pd.DataFrame({"true": given, "label": pred, "confidence": conf,
                         "decision": np.where(conf >= 0.75, "accept", "review")})


def test_a_calibrated_labelled_set_raises_no_quality_alarm(training_rows: pd.DataFrame) -> None:
    report = monitor_report(training_rows, scored(training_rows), SETTINGS, labelled_windows=labelled(400, 1))
    fb = report["feedback"]["windows"]
    assert fb["accuracy"]["value"] > 0.85 and fb["ece"]["value"] < 0.05
    lo, hi = fb["accuracy"]["ci95"]
    assert lo < fb["accuracy"]["value"] < hi
    assert [a for a in report["alerts"] if a["kind"] in ("accuracy", "ece", "macro_f1", "accepted_precision")] == []


def test_flipped_labels_raise_the_accuracy_and_ece_alarms(training_rows: pd.DataFrame) -> None:
    report = monitor_report(training_rows, scored(training_rows), SETTINGS,
                            labelled_windows=labelled(400, 1, flip=True))
    kinds = {a["kind"] for a in report["alerts"] if a["subject"] == "windows"}
    assert {"accuracy", "ece", "macro_f1", "accepted_precision"} <= kinds
    fb = report["feedback"]["windows"]
    assert fb["accuracy"]["value"] < 0.2 and fb["ece"]["value"] > 0.7
    assert fb["ece"]["ci95"][0] > SETTINGS.max_ece


def test_few_labels_are_reported_not_alarmed(training_rows: pd.DataFrame) -> None:
    report = monitor_report(training_rows, scored(training_rows), SETTINGS,
                            labelled_windows=labelled(10, 2, flip=True))
    assert report["feedback"]["windows"]["n"] == 10
    assert not [a for a in report["alerts"] if a["subject"] == "windows"]


def test_feedback_counts_unscorable_as_wrong() -> None:
    frame = pd.DataFrame({"true": ["happy", "sad"], "label": ["happy", None], "confidence": [0.9, None],
                          "decision": ["accept", "unscorable"]})
    fb = feedback_quality(frame, SETTINGS)
    assert fb["accuracy"]["value"] == 0.5 and fb["ece"]["n"] == 1


def test_shares_and_class_mix_alerts(training_rows: pd.DataFrame) -> None:
    current = scored(training_rows)
    current["label"] = "angry"
    current.loc[: len(current) // 2, "decision"] = "unscorable"
    current.loc[: len(current) // 2, "ood"] = True
    report = monitor_report(training_rows, current, SETTINGS)
    kinds = {(a["kind"], a["subject"]) for a in report["alerts"]}
    assert {("class_mix", "angry"), ("ood_share", "windows"), ("unscorable_share", "windows")} <= kinds
    assert report["shares"]["ood"] == pytest.approx(0.5, abs=0.01)


def test_monitor_settings_are_checked() -> None:
    assert monitor_settings({"monitor": {"psi_threshold": 0.2}}).psi_threshold == 0.2
    with pytest.raises(SettingsError, match="unknown option"):
        monitor_settings({"monitor": {"psi_treshold": 0.2}})
    with pytest.raises(SettingsError, match="correction"):
        monitor_settings({"monitor": {"correction": "bonferroni"}})
