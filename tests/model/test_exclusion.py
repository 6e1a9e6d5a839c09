"""Leaving features out: the declared inputs of the derived columns, the dropped columns, and the champion's
structure with an exclusion (the model ignores those columns; the compiled path still equals predict_proba)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from support import small_champion, uci_rows

from mer.model import fast_predict
from mer.model.derived import DERIVED_INPUTS, DERIVED_NAMES, derive
from mer.model.estimators import TunedCalibratedClassifier, make_pipeline
from mer.model.exclusion import ExcludeFeatures, excluded_columns
from mer.schema import FEATURE_NAMES
from mer.schema import UNREPRODUCED_FEATURES as UNREPRODUCED


@pytest.fixture(scope="module")
def uci() -> tuple[pd.DataFrame, np.ndarray]:
    return uci_rows()


def test_each_derived_column_depends_on_exactly_its_declared_inputs(uci) -> None:
    X = uci[0].to_numpy()
    base = derive(X)
    for j, name in enumerate(FEATURE_NAMES):
        moved = X.copy()
        moved[:, j] = moved[:, j] * 1.7 + 0.3
        changed = {DERIVED_NAMES[k] for k in np.flatnonzero(np.any(~np.isclose(derive(moved), base), axis=0))}
        declared = {d for d, inputs in DERIVED_INPUTS.items() if name in inputs}
        assert changed == declared, name


def test_exclusion_drops_the_named_columns_and_what_is_derived_from_them() -> None:
    assert excluded_columns(UNREPRODUCED) == list(UNREPRODUCED)
    assert excluded_columns(UNREPRODUCED, derived=True) == [*UNREPRODUCED, "density_x_attack", "density_per_beat"]
    X = np.arange(2 * (len(FEATURE_NAMES) + len(DERIVED_NAMES)), dtype=float).reshape(2, -1)
    step = ExcludeFeatures(UNREPRODUCED, derived=True).fit(X)
    out_names = step.get_feature_names_out()
    assert len(out_names) == X.shape[1] - 5 and not set(out_names) & {*UNREPRODUCED, "density_per_beat"}
    kept = [i for i, n in enumerate([*FEATURE_NAMES, *DERIVED_NAMES]) if n in set(out_names)]
    np.testing.assert_array_equal(step.transform(X), X[:, kept])


def test_unknown_names_and_wrong_widths_are_refused() -> None:
    with pytest.raises(ValueError, match="_Tempo"):
        excluded_columns(["_Tempo"])
    with pytest.raises(ValueError, match="expected 50 columns"):
        ExcludeFeatures(UNREPRODUCED).fit(np.zeros((2, 49)))


@pytest.fixture(scope="module")
def without_unreproduced(uci) -> TunedCalibratedClassifier:
    """The champion's structure leaving the unreproduced columns out, small forests so it fits in seconds."""
    return small_champion(UNREPRODUCED).fit(*uci)


def test_the_model_ignores_excluded_columns(without_unreproduced, uci) -> None:
    X = uci[0].iloc[:60]
    scrambled = X.copy()
    scrambled[list(UNREPRODUCED)] = scrambled[list(UNREPRODUCED)].to_numpy()[::-1] * 3.0
    np.testing.assert_array_equal(without_unreproduced.predict_proba(scrambled), without_unreproduced.predict_proba(X))
    other = X.copy()
    other["_Eventdensity_Mean"] = other["_Eventdensity_Mean"].to_numpy()[::-1]
    assert not np.allclose(without_unreproduced.predict_proba(other), without_unreproduced.predict_proba(X))


def test_compiled_path_with_an_exclusion_equals_predict_proba(without_unreproduced, uci) -> None:
    fast = fast_predict.compile_model(without_unreproduced)
    assert fast.not_compiled == []
    for rows in (uci[0], fast_predict.probe_rows(200, seed=2)):
        np.testing.assert_allclose(fast.predict_proba(rows.to_numpy()), without_unreproduced.predict_proba(rows),
                                   rtol=0, atol=1e-9)


@pytest.mark.parametrize("candidate", ["logreg", "et"])
def test_single_candidates_leave_the_columns_out_before_scaling(candidate, uci) -> None:
    X, y = uci
    pipe = make_pipeline(candidate, derived_features=True, exclude_features=UNREPRODUCED).fit(X, y)
    assert list(pipe.named_steps) == ["derive", "impute", "cap", "exclude", "scale", "clf"]
    assert pipe.named_steps["clf"].n_features_in_ == len(FEATURE_NAMES) + len(DERIVED_NAMES) - 5
