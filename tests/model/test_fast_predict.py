"""The compiled prediction path gives predict_proba's probabilities (to 1e-9) for the champion's structure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.svm import SVC
from support import small_champion, uci_rows

from mer.model import fast_predict
from mer.model.derived import derive
from mer.model.estimators import TunedCalibratedClassifier, make_pipeline


@pytest.fixture(scope="module")
def uci() -> tuple[pd.DataFrame, np.ndarray]:
    return uci_rows()


@pytest.fixture(scope="module")
def ensemble(uci) -> TunedCalibratedClassifier:
    """The champion's structure (8-member soft vote on raw and derived features, temperature-calibrated), with
    smaller forests so it fits in seconds."""
    return small_champion().fit(*uci)


def _rows_with_gaps(X: pd.DataFrame) -> pd.DataFrame:
    """Rows with missing features (the imputer's job) and values beyond the training range (the capper's)."""
    rng = np.random.default_rng(3)
    rows = X.sample(40, random_state=3).reset_index(drop=True)
    mask = rng.random(rows.shape) < 0.1
    rows = rows.mask(mask)
    rows.iloc[:5, :4] *= 50.0
    return rows


def test_compiled_ensemble_equals_predict_proba(ensemble, uci) -> None:
    X, _ = uci
    fast = fast_predict.compile_model(ensemble)
    assert fast.not_compiled == []  # every step of the champion's structure has a compiled form
    for rows in (X, fast_predict.probe_rows(300, seed=1), _rows_with_gaps(X)):
        np.testing.assert_allclose(fast.predict_proba(rows.to_numpy()), ensemble.predict_proba(rows),
                                   rtol=0, atol=1e-9)
    one = X.iloc[[7]]
    np.testing.assert_allclose(fast.predict_proba(one), ensemble.predict_proba(one), rtol=0, atol=1e-9)


def test_large_batches_take_the_forests_own_path_with_the_same_result(ensemble, uci, monkeypatch) -> None:
    X, _ = uci
    fast = fast_predict.compile_model(ensemble)
    small = fast.predict_proba(X.to_numpy())
    monkeypatch.setattr(fast_predict.FlatForest, "max_rows", 10)
    np.testing.assert_allclose(fast.predict_proba(X.to_numpy()), small, rtol=0, atol=1e-12)


def test_flat_forest_reaches_the_leaves_scikit_learn_reaches(ensemble, uci) -> None:
    X, _ = uci
    pipe = ensemble.fitted_pipeline()
    member = pipe.named_steps["clf"].named_estimators_["et_derived"]
    Xt = member[:-1].transform(pipe[:-1].transform(X))
    forest = member.steps[-1][1]
    flat = fast_predict.FlatForest(forest)
    expected = np.stack([t.apply(Xt.astype(np.float32)) for t in forest.estimators_], axis=1) + flat.roots
    np.testing.assert_array_equal(flat.leaves(Xt), expected)


def test_float32_thresholds_compare_like_float64_ones() -> None:
    rng = np.random.default_rng(0)
    thresholds = rng.normal(size=10_000) * 10.0 ** rng.integers(-5, 5, size=10_000)
    x = np.concatenate([thresholds.astype(np.float32), rng.normal(size=10_000).astype(np.float32)])
    t32 = fast_predict._float32_at_most(np.concatenate([thresholds, thresholds]))
    np.testing.assert_array_equal(x <= t32, x.astype(np.float64) <= np.concatenate([thresholds, thresholds]))


def _derive_row_by_row(X: np.ndarray) -> np.ndarray:
    """The derived chroma descriptors written plainly, one row and one rotation at a time (the reference)."""
    from mer.model.derived import _CHROMA, _KK_MAJOR, _KK_MINOR

    out = []
    for row in X:
        chroma = np.clip(np.nan_to_num(row[_CHROMA], nan=0.0), 0.0, None)
        best = [max(np.corrcoef(chroma, np.roll(prof, k))[0, 1] for k in range(12)) for prof in (_KK_MAJOR, _KK_MINOR)]
        out.append([*best, *np.sort(chroma)[::-1], *np.roll(chroma, -int(chroma.argmax()))])
    return np.asarray(out)


def test_vectorised_derive_matches_a_row_by_row_reference(uci) -> None:
    X, _ = uci
    for rows in (X.to_numpy(), fast_predict.probe_rows(300).to_numpy(), _rows_with_gaps(X).to_numpy()):
        got = derive(rows)
        # derive() guards its denominators with EPS = 1e-6; np.corrcoef does not
        np.testing.assert_allclose(got[:, [8, 9, *range(12, 36)]], _derive_row_by_row(rows), rtol=0, atol=1e-6)


def test_negative_chroma_cannot_make_derived_features_nan(uci) -> None:
    X, _ = uci
    rows = X.to_numpy()[:5].copy()
    rows[:, 30] = -0.5  # a chroma column
    assert np.isfinite(derive(rows)[:, 11]).all()


def test_rbf_svc_decision_function_in_numpy() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 6))
    y = np.repeat(["a", "b", "c", "d"], 50)
    X[y == "b"] += 1.0
    svc = SVC(C=2.0).fit(X, y)
    test = rng.normal(size=(50, 6)) * 2
    np.testing.assert_allclose(fast_predict.RBFSVCDecision(svc)(test), svc.decision_function(test),
                               rtol=0, atol=1e-9)


def test_unknown_steps_fall_back_to_their_own_methods(uci) -> None:
    X, y = uci
    est = make_pipeline("gb").set_params(clf__max_iter=20).fit(X, y)
    fast = fast_predict.compile_model(est)
    assert any(name.startswith("HistGradientBoostingClassifier") for name in fast.not_compiled)
    rows = fast_predict.probe_rows(100)
    np.testing.assert_allclose(fast.predict_proba(rows.to_numpy()), est.predict_proba(rows), rtol=0, atol=1e-9)


def test_verified_refuses_a_compiled_path_that_differs(ensemble, monkeypatch) -> None:
    rows = fast_predict.probe_rows(50)
    assert fast_predict.verified(ensemble, rows).not_compiled == []
    original = fast_predict.yeo_johnson
    monkeypatch.setattr(fast_predict, "yeo_johnson", lambda X, lam: original(X, lam) + 1e-4)
    with pytest.raises(ValueError, match="differs from predict_proba"):
        fast_predict.verified(ensemble, rows)


def test_rows_of_the_wrong_width_are_refused(ensemble) -> None:
    with pytest.raises(ValueError, match="50 features"):
        fast_predict.compile_model(ensemble).predict_proba(np.zeros((2, 49)))
