"""The one decision rule: threshold, top-2, class order, window aggregation."""

from __future__ import annotations

import numpy as np
import pytest

from mer.decision import PROBA_COLUMNS, aggregate, decide, to_schema_order


def test_accept_at_threshold_review_below_with_top_two() -> None:
    proba = np.array([[0.75, 0.1, 0.1, 0.05], [0.2, 0.5, 0.0, 0.3], [0.1, 0.1, 0.74, 0.06]])
    out = decide(proba, threshold=0.75)
    assert out["label"].tolist() == ["happy", "sad", "angry"]
    assert out["decision"].tolist() == ["accept", "review", "review"]
    assert out["top2"].tolist() == ["happy|sad", "sad|relax", "angry|happy"]
    np.testing.assert_allclose(out["confidence"], [0.75, 0.5, 0.74])
    assert decide(proba, threshold=0.5)["decision"].tolist() == ["accept", "accept", "accept"]


def test_model_class_order_is_mapped_to_schema_order() -> None:
    # scikit-learn sorts classes alphabetically: angry, happy, relax, sad
    proba = np.array([[0.1, 0.2, 0.3, 0.4]])
    out = decide(proba, classes=["angry", "happy", "relax", "sad"])
    assert out[list(PROBA_COLUMNS)].to_numpy().tolist() == [[0.2, 0.4, 0.1, 0.3]]
    assert out["label"].iloc[0] == "sad"
    with pytest.raises(ValueError, match="lacks classes"):
        to_schema_order(proba, ["a", "b", "c", "d"])


def test_empty_input_and_bad_threshold() -> None:
    assert len(decide(np.zeros((0, 4)))) == 0
    with pytest.raises(ValueError):
        decide(np.ones((1, 4)) / 4, threshold=1.5)


def test_track_aggregation_mean_and_vote() -> None:
    windows = np.array([[0.6, 0.4, 0, 0], [0.6, 0.4, 0, 0], [0.0, 1.0, 0, 0]])
    np.testing.assert_allclose(aggregate(windows, "mean"), [0.4, 0.6, 0, 0])
    vote = aggregate(windows, "vote")
    assert vote.argmax() == 0 and vote.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError):
        aggregate(windows, "median")
    with pytest.raises(ValueError):
        aggregate(np.zeros((0, 4)))
