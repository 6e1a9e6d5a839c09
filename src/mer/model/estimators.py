"""The estimator: a leak-free scikit-learn Pipeline, tuned by an inner grouped search, then temperature-calibrated.

Everything fitted (imputer, IQR capper, scaler, optional PCA, classifier, the search and the calibration) learns only
from the rows passed to ``fit``, so wrapping the whole thing in an outer CV gives honest figures.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.ensemble import (
    ExtraTreesClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    VotingClassifier,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, ParameterGrid, RandomizedSearchCV, StratifiedGroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import PowerTransformer, RobustScaler, StandardScaler
from sklearn.svm import SVC
from sklearn.utils.validation import check_is_fitted

from mer.data.cleaning import duplicate_groups
from mer.model.capping import IQRCapper
from mer.model.derived import DerivedFeatures


def _base_classifiers(seed: int) -> dict[str, Any]:
    return {
        "logreg": LogisticRegression(C=0.1, max_iter=5000),
        # Platt-scaled on inner folds: SVC's own probability=True is deprecated since scikit-learn 1.9.
        "svm": CalibratedClassifierCV(SVC(kernel="rbf", C=3.0, gamma="scale"), method="sigmoid", ensemble=False),
        "lda": LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto"),
        "rf": RandomForestClassifier(n_estimators=300, random_state=seed),
        "et": ExtraTreesClassifier(n_estimators=500, random_state=seed),
        "gb": HistGradientBoostingClassifier(
            learning_rate=0.05, max_iter=200, max_depth=3, l2_regularization=1.0, random_state=seed
        ),
    }


CANDIDATES: tuple[str, ...] = ("logreg", "svm", "lda", "rf", "et", "gb", "vote", "ensemble")
VOTE_MEMBERS: tuple[str, ...] = ("logreg", "svm", "lda", "et")
SELF_SCALING = frozenset({"ensemble"})  # candidates whose members scale (and derive) on their own


def _ensemble(seed: int) -> VotingClassifier:
    """Plain mean of diverse members, each on the 50 features and on 50 + derived features (modeling notes:
    diversity then a plain average was what helped). Each member scales its own inputs (Yeo-Johnson), so the
    derived ratios are computed on capped, unscaled values."""
    members = []
    for derived in (False, True):
        bases = _base_classifiers(seed)
        for name in VOTE_MEMBERS:
            steps: list[tuple[str, Any]] = [("derive", DerivedFeatures())] if derived else []
            steps += [("scale", PowerTransformer()), ("clf", bases[name])]
            members.append((f"{name}{'_derived' if derived else ''}", Pipeline(steps)))
    return VotingClassifier(members, voting="soft")


def make_classifier(name: str, seed: int = 0):
    """A fresh classifier by candidate name; ``vote`` is the soft (plain-mean) vote of :data:`VOTE_MEMBERS`,
    ``ensemble`` the plain mean of those members on raw and on derived features."""
    bases = _base_classifiers(seed)
    if name == "vote":
        return VotingClassifier([(m, bases[m]) for m in VOTE_MEMBERS], voting="soft")
    if name == "ensemble":
        return _ensemble(seed)
    if name not in bases:
        raise ValueError(f"unknown candidate {name!r}; choose one of {', '.join(CANDIDATES)}")
    return bases[name]


def make_pipeline(
    classifier: str,
    *,
    capping_factor: float = 1.5,
    scaler: str = "power",
    pca: float | int | None = None,
    derived_features: bool = False,
    seed: int = 0,
) -> Pipeline:
    """derive? → impute → IQR cap → scale → PCA? → classifier, all fitted on training rows only (the input is the
    50 schema columns; a self-scaling candidate scales inside each member)."""
    scalers = {"power": PowerTransformer(), "standard": StandardScaler(), "robust": RobustScaler()}
    steps: list[tuple[str, Any]] = []
    if derived_features:
        steps.append(("derive", DerivedFeatures()))
    steps += [("impute", SimpleImputer(strategy="median")), ("cap", IQRCapper(factor=capping_factor))]
    if classifier not in SELF_SCALING:
        steps.append(("scale", scalers[scaler]))
    if pca:
        steps.append(("pca", PCA(n_components=pca, random_state=seed)))
    steps.append(("clf", make_classifier(classifier, seed)))
    return Pipeline(steps)


def grouped_folds(X, y, n_splits: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds in which exact duplicate rows of ``X`` always fall on the same side."""
    groups = duplicate_groups(X)
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return list(splitter.split(X, y, groups))


class TunedCalibratedClassifier(ClassifierMixin, BaseEstimator):
    """Search ``param_grid`` by inner grouped CV (macro-F1), refit the best pipeline and calibrate its probabilities.

    Calibration uses :class:`~sklearn.calibration.CalibratedClassifierCV` on the same inner folds with
    ``ensemble=False``: the calibrator learns from out-of-fold predictions, the final pipeline from all rows. The
    decision rule trusts the probabilities, so they must be calibrated (the plain ensemble is under-confident).
    """

    def __init__(
        self,
        estimator: Pipeline,
        param_grid: dict[str, list] | None = None,
        inner_folds: int = 3,
        calibration: str | None = "temperature",
        search: str = "grid",
        n_iter: int = 8,
        random_state: int = 0,
    ):
        self.estimator = estimator
        self.param_grid = param_grid
        self.inner_folds = inner_folds
        self.calibration = calibration
        self.search = search
        self.n_iter = n_iter
        self.random_state = random_state

    def fit(self, X, y):
        folds = grouped_folds(X, y, self.inner_folds, self.random_state)
        grid = {f"clf__{k}": v for k, v in (self.param_grid or {}).items()}
        self.best_params_: dict[str, Any] = {}
        if grid and len(ParameterGrid(grid)) > 1:
            if self.search == "random":
                search = RandomizedSearchCV(
                    self.estimator, grid, n_iter=self.n_iter, cv=folds, scoring="f1_macro",
                    refit=False, random_state=self.random_state,
                )
            else:
                search = GridSearchCV(self.estimator, grid, cv=folds, scoring="f1_macro", refit=False)
            search.fit(X, y)
            self.best_params_ = search.best_params_
        elif grid:
            self.best_params_ = {k: v[0] for k, v in grid.items()}
        best = clone(self.estimator).set_params(**self.best_params_)
        if self.calibration:
            self.model_ = CalibratedClassifierCV(best, method=self.calibration, cv=folds, ensemble=False)
        else:
            self.model_ = best
        self.model_.fit(X, y)
        self.classes_ = self.model_.classes_
        if isinstance(X, pd.DataFrame):
            self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def predict_proba(self, X):
        check_is_fitted(self, "model_")
        return self.model_.predict_proba(X)

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def fitted_pipeline(self) -> Pipeline:
        """The refitted pipeline inside the calibration wrapper (for leakage checks and explanations)."""
        check_is_fitted(self, "model_")
        if isinstance(self.model_, CalibratedClassifierCV):
            return self.model_.calibrated_classifiers_[0].estimator
        return self.model_


def build_estimator(model_params: dict, candidate: str | None = None, seed: int = 0) -> TunedCalibratedClassifier:
    """The estimator described by the ``model`` section of ``params.yaml`` (candidate overridable)."""
    name = candidate or model_params["candidate"]
    pipe = make_pipeline(
        name,
        capping_factor=model_params.get("capping_factor", 1.5),
        scaler=model_params.get("scaler", "power"),
        pca=model_params.get("pca"),
        derived_features=model_params.get("derived_features", False),
        seed=seed,
    )
    return TunedCalibratedClassifier(
        pipe,
        param_grid=(model_params.get("grids") or {}).get(name),
        inner_folds=model_params.get("inner_folds", 3),
        calibration=model_params.get("calibration", "temperature"),
        search=model_params.get("search", "grid"),
        n_iter=model_params.get("n_iter", 8),
        random_state=seed,
    )
