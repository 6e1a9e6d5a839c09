"""Leave named features out of a model: for columns the audio extractor does not reproduce.

Why: a model that leans on a column our extractor computes differently from MIRtoolbox sees another world at
serving time than in training (train/serve skew). ``model.exclude_features`` in ``params.yaml`` names such columns;
every model member then drops them, and the derived columns computed from them, right before scaling. The model's
input stays the 50 schema columns, so serving, the signature and the compiled path do not change.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from mer.model.derived import DERIVED_INPUTS, DERIVED_NAMES
from mer.schema import FEATURE_NAMES


def excluded_columns(exclude: Sequence[str], derived: bool = False) -> list[str]:
    """The raw columns in ``exclude`` and, with ``derived``, every derived column computed from one of them."""
    unknown = sorted(set(exclude) - set(FEATURE_NAMES))
    if unknown:
        raise ValueError(f"exclude_features names unknown features: {', '.join(unknown)}")
    out = [n for n in FEATURE_NAMES if n in exclude]
    if derived:
        out += [n for n, inputs in DERIVED_INPUTS.items() if set(inputs) & set(exclude)]
    return out


class ExcludeFeatures(TransformerMixin, BaseEstimator):
    """Drop ``exclude`` (raw feature names) from rows laid out as the 50 schema columns, followed by the
    derived ones when ``derived`` is true. Stateless: ``fit`` only checks the names and the width."""

    def __init__(self, exclude: Sequence[str] = (), derived: bool = False):
        self.exclude = exclude
        self.derived = derived

    def _input_names(self) -> list[str]:
        return [*FEATURE_NAMES, *(DERIVED_NAMES if self.derived else ())]

    def fit(self, X, y=None):
        names = self._input_names()
        width = np.asarray(X).shape[1]
        if width != len(names):
            raise ValueError(f"expected {len(names)} columns (schema{' + derived' if self.derived else ''}), "
                             f"got {width}")
        dropped = set(excluded_columns(self.exclude, self.derived))
        self.keep_ = np.array([i for i, n in enumerate(names) if n not in dropped], dtype=np.intp)
        self.n_features_in_ = width
        return self

    def transform(self, X):
        check_is_fitted(self, "keep_")
        return np.asarray(X, dtype=float)[:, self.keep_]

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "keep_")
        names = list(input_features) if input_features is not None else self._input_names()
        return np.array(names, dtype=object)[self.keep_]
