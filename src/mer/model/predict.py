"""Feature rows → decisions with a fitted model: the path shared by ``mer predict``, the API and batch scoring."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mer.decision import ACCEPT_THRESHOLD, decide
from mer.schema import FEATURE_NAMES


def predict_frame(model, features: pd.DataFrame, threshold: float = ACCEPT_THRESHOLD) -> pd.DataFrame:
    """Decisions for rows holding the 50 features (other columns are ignored; NaN is imputed by the model)."""
    missing = [c for c in FEATURE_NAMES if c not in features.columns]
    if missing:
        raise ValueError(f"missing feature columns: {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
    X = features[list(FEATURE_NAMES)].astype(float)
    if len(X) == 0:
        return decide(np.zeros((0, len(model.classes_))), list(model.classes_), threshold)
    return decide(model.predict_proba(X), list(model.classes_), threshold)
