"""Deployment gates: pass/fail, margins, and the hold-out range the CV predicts."""

from __future__ import annotations

import math

import pytest

from mer.model.gates import Gate, evaluate_gates, holdout_range
from mer.schema import CLASSES

GATES = {"min_macro_f1": 0.78, "min_accuracy": 0.80, "min_class_f1": 0.65, "holdout_z": 1.96}


def _summary(macro: float, acc: float, sad: float, sd: float = 0.05) -> dict:
    s = {"protocol": {"rows": 310, "folds": 30}, "macro_f1": {"mean": macro, "sd": sd, "per_repeat": [macro] * 3},
         "accuracy": {"mean": acc}}
    return s | {f"f1_{c}": {"mean": sad if c == "sad" else 0.9} for c in CLASSES}


def test_all_gates_pass_for_a_good_model() -> None:
    gates = evaluate_gates(_summary(0.82, 0.83, 0.70), {"macro_f1": 0.81}, 78, GATES)
    assert all(g.passed for g in gates) and len(gates) == 7


def test_failures_name_the_gate_and_the_shortfall() -> None:
    gates = {g.name: g for g in evaluate_gates(_summary(0.77, 0.83, 0.60), {"macro_f1": 0.77}, 78, GATES)}
    assert not gates["cv_macro_f1"].passed and gates["cv_macro_f1"].margin == pytest.approx(-0.01)
    assert not gates["cv_f1_sad"].passed and "FAIL by 0.050" in gates["cv_f1_sad"].describe()
    assert gates["cv_accuracy"].passed


def test_holdout_far_from_cv_fails_both_ways() -> None:
    low, high = holdout_range(_summary(0.82, 0.83, 0.7), n_holdout=78, z=1.96)
    # fold size 310/10 = 31 rows; sd of a 78-row set = 0.05 * sqrt(31/78)
    assert high - 0.82 == pytest.approx(1.96 * 0.05 * math.sqrt(31 / 78))
    for value, ok in ((0.82, True), (low - 0.01, False), (high + 0.01, False)):
        gates = evaluate_gates(_summary(0.82, 0.83, 0.7), {"macro_f1": value}, 78, GATES)
        assert gates[-1].name == "holdout_macro_f1" and gates[-1].passed is ok


def test_gate_bounds() -> None:
    assert Gate("x", 0.5, 0.5).passed and not Gate("x", 0.49, 0.5).passed
    assert Gate("x", 0.5, 0.4, 0.6).margin == pytest.approx(0.1)
