"""No leakage: every fitted statistic inside a CV fold comes from that fold's training rows alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.impute import SimpleImputer
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.preprocessing import PowerTransformer
from support import COURSE_CSV, small_params

from mer.data.cleaning import DUP_GROUP, clean_table
from mer.model.estimators import build_estimator
from mer.model.evaluation import holdout_split, repeated_grouped_cv
from mer.schema import FEATURE_NAMES, LABEL_COLUMN


def _course() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    table = clean_table(COURSE_CSV).table  # has missing values and injected outliers: the imputer matters
    return table[list(FEATURE_NAMES)], table[LABEL_COLUMN].to_numpy(), table[DUP_GROUP].to_numpy()


def test_capping_bounds_and_scaler_statistics_come_from_the_training_fold() -> None:
    X, y, groups = _course()
    train, test = next(StratifiedGroupKFold(5, shuffle=True, random_state=1).split(X, y, groups))
    est = build_estimator(small_params()["model"], seed=0).fit(X.iloc[train], y[train])
    pipe = est.fitted_pipeline()

    imputed = SimpleImputer(strategy="median").fit_transform(X.iloc[train])
    q1, q3 = np.percentile(imputed, [25, 75], axis=0)
    lower, upper = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
    np.testing.assert_allclose(pipe.named_steps["cap"].lower_, lower)
    np.testing.assert_allclose(pipe.named_steps["cap"].upper_, upper)
    scaler = PowerTransformer().fit(np.clip(imputed, lower, upper))
    np.testing.assert_allclose(pipe.named_steps["scale"].lambdas_, scaler.lambdas_, rtol=1e-6)

    # the same statistics from all rows differ: the test would notice a fit on the whole table
    all_imputed = SimpleImputer(strategy="median").fit_transform(X)
    q1a, q3a = np.percentile(all_imputed, [25, 75], axis=0)
    assert not np.allclose(q1a - 1.5 * (q3a - q1a), lower)


class _Spy(ClassifierMixin, BaseEstimator):
    """Records the row labels it is fitted on and predicts uniform probabilities."""

    seen: list[set] = []

    def fit(self, X, y):
        _Spy.seen.append(set(X.index))
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.full((len(X), len(self.classes_)), 1 / len(self.classes_))


def test_cv_fits_never_see_a_test_row_or_its_duplicate() -> None:
    X, y, groups = _course()
    _Spy.seen = []
    res = repeated_grouped_cv(_Spy(), X, y, groups, n_splits=5, n_repeats=2, seed=3)
    assert len(_Spy.seen) == 10 and res.oof_proba.shape == (2, len(y), 4)
    assert not np.isnan(res.oof_proba).any()  # every row scored once per repeat
    group_of = dict(zip(X.index, groups, strict=True))
    for seen, repeat in zip(_Spy.seen, res.repeat_of_fold, strict=True):
        unseen = set(X.index) - seen
        assert {group_of[i] for i in seen}.isdisjoint({group_of[i] for i in unseen}), f"repeat {repeat}"


def test_holdout_is_stratified_and_keeps_duplicates_together() -> None:
    X, y, groups = _course()
    dev, hold = holdout_split(y, groups, 0.2, seed=42)
    assert set(groups[dev]).isdisjoint(groups[hold])
    assert abs(len(hold) / len(y) - 0.2) < 0.02
    for c in np.unique(y):
        assert abs((y[hold] == c).mean() - (y == c).mean()) < 0.03
